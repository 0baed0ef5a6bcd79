"""Prepare one turn for the LLM: route, run the agent's tools (and the knowledge-base
search when relevant), and build the chat messages. Returns timings; records nothing."""

from __future__ import annotations

import json
import time
from typing import Any

from agent_service.agents.data import DEMO_DATA, DemoData
from agent_service.agents.kb import KnowledgeBase
from agent_service.agents.planner import AGENT_NAMES, plan, wants_kb
from agent_service.agents.router import Router
from agent_service.agents.tools import TOOLS, run_tool
from agent_service.domain import AgentType, Retrieval, ToolCall, TurnContext

__all__ = ["KB_TOOL", "TOOL_RESULTS_PREFIX", "Orchestrator", "system_prompt"]

KB_TOOL = "search_knowledge_base"
# The system prompt carries the tool results on one line starting with this prefix
# (compact JSON list of ToolCall.to_json() without latency_ms); the scripted model reads it back.
TOOL_RESULTS_PREFIX = "Tool results (JSON): "


def system_prompt(agent: AgentType, calls: tuple[ToolCall, ...]) -> str:
    # Timings stay out of the prompt: the same message gives the same messages.
    results = json.dumps(
        [{k: v for k, v in call.to_json().items() if k != "latency_ms"} for call in calls],
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )
    return (
        f"You are the BestBox {AGENT_NAMES[agent]}. Answer the user's question using only "
        "the tool results below; if a tool failed, say so plainly and do not guess.\n"
        f"{TOOL_RESULTS_PREFIX}{results}"
    )


class Orchestrator:
    def __init__(self, data: DemoData = DEMO_DATA, router: Router | None = None) -> None:
        self.data = data
        self.router = router or Router()
        self.kb = KnowledgeBase(data.documents)

    def search_knowledge_base(self, query: str) -> tuple[ToolCall, Retrieval | None]:
        """The knowledge-base tool every agent may call, as a ToolCall plus its Retrieval."""
        started = time.perf_counter()
        arguments: dict[str, Any] = {"query": query}
        try:
            hits, retrieval = self.kb.search(query)
        except Exception as exc:  # pragma: no cover - the demo KB does not fail
            latency_ms = (time.perf_counter() - started) * 1000
            return ToolCall(
                KB_TOOL, arguments, None, f"{type(exc).__name__}: {exc}", latency_ms
            ), None
        result = {
            "documents": [
                {
                    "id": h.document.id,
                    "title": h.document.title,
                    "text": h.document.text,
                    "score": h.score,
                }
                for h in hits
            ]
        }
        latency_ms = (time.perf_counter() - started) * 1000
        return ToolCall(KB_TOOL, arguments, result, None, latency_ms), retrieval

    async def prepare(self, message: str) -> TurnContext:
        started = time.perf_counter()
        decision = self.router.route(message)
        router_s = time.perf_counter() - started
        agent = decision.agent
        calls: list[ToolCall] = []
        for name, arguments in plan(agent, message, self.data):
            calls.append(await run_tool(name, TOOLS[name], self.data, arguments))
        retrievals: list[Retrieval] = []
        if wants_kb(agent, message):
            call, retrieval = self.search_knowledge_base(message)
            calls.append(call)
            if retrieval is not None:
                retrievals.append(retrieval)
        tool_calls = tuple(calls)
        messages = (
            {"role": "system", "content": system_prompt(agent, tool_calls)},
            {"role": "user", "content": message},
        )
        return TurnContext(decision, router_s, tool_calls, tuple(retrievals), messages)
