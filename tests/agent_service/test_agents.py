"""Routing, the demo dataset's tools, knowledge-base retrieval and the orchestrator."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

from agent_service.agents.data import DEMO_DATA, FAILING_SERVER
from agent_service.agents.kb import KnowledgeBase, embed
from agent_service.agents.orchestrator import TOOL_RESULTS_PREFIX, Orchestrator
from agent_service.agents.planner import AGENT_NAMES, AGENT_TOOLS
from agent_service.agents.router import DEFAULT_CONFIDENCE, KEYWORDS, PATTERNS, Router
from agent_service.agents.tools import TOOLS, run_tool
from agent_service.catalog import agent_types
from agent_service.domain import AgentType, ToolCall, TurnContext
from specs.bestbox import stack as bestbox_stack


@pytest.mark.parametrize(
    ("message", "agent"),
    [
        ("Show me invoice INV-1001", "erp"),
        ("which invoices are overdue?", "erp"),
        ("how many monitors are in stock in the warehouse", "erp"),
        ("list qualified leads", "crm"),
        ("give me the sales pipeline summary", "crm"),
        ("what deals do we have with Acme", "crm"),
        ("what is the status of legacy-01", "it_ops"),
        ("is web-02 down? any open incidents?", "it_ops"),
        ("show the CPU of every server", "it_ops"),
        ("what meetings are on my calendar on 2026-12-01", "oa"),
        ("how many vacation days does alice have left", "oa"),
        ("how do I set up the VPN", "general"),
        ("what is the expense policy", "general"),
        ("hello there", "general"),
    ],
)
def test_routing_table(message: str, agent: str) -> None:
    decision = Router().route(message)
    assert decision.agent == agent
    assert 0.0 <= decision.confidence <= 1.0


def test_unmatched_message_goes_to_general_with_low_confidence() -> None:
    unmatched = Router().route("good morning")
    matched = Router().route("invoice INV-1002 is overdue")
    assert unmatched.agent == "general"
    assert unmatched.confidence == DEFAULT_CONFIDENCE
    assert matched.confidence > 0.9 > unmatched.confidence


def test_the_service_implements_exactly_the_catalogs_agents() -> None:
    """The catalog's agent_type values (what dashboards and alerts select on) and the
    agents the service routes to and plans for are the same, in the same order."""
    catalog = agent_types(bestbox_stack)
    assert get_args(AgentType) == catalog
    for table in (KEYWORDS, PATTERNS, AGENT_TOOLS, AGENT_NAMES):
        assert tuple(table) == catalog


def test_every_agent_has_two_tools_or_is_general() -> None:
    for agent in get_args(AgentType):
        own = AGENT_TOOLS[agent]
        assert len(own) >= (1 if agent == "general" else 2)
        assert all(name in TOOLS or name == "search_knowledge_base" for name in own)


async def prepare(message: str) -> TurnContext:
    return await Orchestrator().prepare(message)


def result_of(call: ToolCall) -> Any:
    assert call.result is not None, call.error
    return call.result


def by_name(context: TurnContext, name: str) -> ToolCall:
    matches = [call for call in context.tool_calls if call.name == name]
    assert matches, f"{name} not called: {[c.name for c in context.tool_calls]}"
    return matches[0]


@pytest.mark.parametrize(
    ("message", "agent", "tool", "arguments", "check"),
    [
        (
            "Show me invoice INV-1001",
            "erp",
            "search_invoices",
            {"invoice_id": "INV-1001"},
            lambda r: r["invoices"][0]["amount"] == 1200.0,
        ),
        (
            "overdue invoices",
            "erp",
            "search_invoices",
            {"status": "overdue"},
            lambda r: {i["id"] for i in r["invoices"]} == {"INV-1002", "INV-1005"},
        ),
        (
            "is the docking station in stock?",
            "erp",
            "check_inventory",
            {"item": "docking station"},
            lambda r: r["items"][0]["below_reorder_level"] is True,
        ),
        (
            "qualified leads at Globex",
            "crm",
            "find_leads",
            {"company": "globex", "status": "qualified"},
            lambda r: r["leads"][0]["name"] == "Dana Scully",
        ),
        (
            "deal pipeline summary",
            "crm",
            "pipeline_summary",
            {},
            lambda r: r["open_value"] == 69500.0 and r["stages"]["won"]["count"] == 1,
        ),
        (
            "status of web-01",
            "it_ops",
            "server_status",
            {"server": "web-01"},
            lambda r: r["status"] == "up" and r["cpu_pct"] == 37,
        ),
        (
            "open sev1 incidents",
            "it_ops",
            "list_incidents",
            {"state": "open", "severity": "sev1"},
            lambda r: [i["id"] for i in r["incidents"]] == ["INC-203"],
        ),
        (
            "meetings on 2026-12-02",
            "oa",
            "calendar_lookup",
            {"date": "2026-12-02"},
            lambda r: [e["id"] for e in r["events"]] == ["EV-2"],
        ),
        (
            "leave balance for bob",
            "oa",
            "leave_balance",
            {"employee": "bob"},
            lambda r: r["balances"][0]["remaining_days"] == 19 and len(r["requests"]) == 1,
        ),
        (
            "how do I reset my password",
            "general",
            "search_knowledge_base",
            {"query": "how do I reset my password"},
            lambda r: r["documents"][0]["id"] == "KB-4",
        ),
    ],
)
async def test_every_tool(
    message: str, agent: str, tool: str, arguments: dict[str, Any], check: Any
) -> None:
    context = await prepare(message)
    assert context.decision.agent == agent
    call = by_name(context, tool)
    assert call.error is None
    assert call.arguments == arguments
    assert check(call.result)
    assert 0 <= call.latency_ms < 100
    json.dumps(call.to_json())  # results are JSON-serialisable for the audit log


async def test_the_documented_failure_is_recorded_and_the_turn_continues() -> None:
    context = await prepare(f"what is the status of {FAILING_SERVER}")
    assert context.decision.agent == "it_ops"
    call = by_name(context, "server_status")
    assert call.result is None
    assert call.error == "TimeoutError: status endpoint of legacy-01 timed out"
    assert call.latency_ms >= 0
    assert "status endpoint of legacy-01 timed out" in context.messages[0]["content"]


async def test_several_tools_in_one_turn_including_the_failure() -> None:
    context = await prepare("status of web-01 and legacy-01, and open incidents")
    names = [(c.name, c.arguments.get("server"), c.error is None) for c in context.tool_calls]
    assert names == [
        ("server_status", "legacy-01", False),
        ("server_status", "web-01", True),
        ("list_incidents", None, True),
    ]


async def test_run_tool_records_unknown_server_as_error() -> None:
    call = await run_tool("server_status", TOOLS["server_status"], DEMO_DATA, {"server": "x-9"})
    assert call.error == "LookupError: unknown server x-9"
    assert call.result is None


async def test_async_tool_runs() -> None:
    call = await run_tool("leave_balance", TOOLS["leave_balance"], DEMO_DATA, {})
    assert call.error is None
    assert len(result_of(call)["balances"]) == 4


async def test_domain_agent_consults_the_knowledge_base_for_policy_questions() -> None:
    context = await prepare("what is the leave policy for vacation requests")
    assert context.decision.agent == "oa"
    names = [c.name for c in context.tool_calls]
    assert names[-1] == "search_knowledge_base"
    assert len(context.retrievals) == 1
    assert result_of(by_name(context, "search_knowledge_base"))["documents"][0]["id"] == "KB-5"


async def test_no_retrieval_when_the_knowledge_base_is_not_needed() -> None:
    context = await prepare("Show me invoice INV-1001")
    assert context.retrievals == ()
    assert [c.name for c in context.tool_calls] == ["search_invoices"]


async def test_kb_retrieval_scores_and_timings() -> None:
    context = await prepare("how do I connect to the VPN")
    (retrieval,) = context.retrievals
    assert len(retrieval.scores) == 3
    assert all(0.0 <= s <= 1.0 for s in retrieval.scores)
    assert list(retrieval.scores) == sorted(retrieval.scores, reverse=True)
    assert retrieval.scores[0] > 0.3
    assert 0 <= retrieval.embedding_s <= retrieval.latency_s < 0.1
    documents = result_of(by_name(context, "search_knowledge_base"))["documents"]
    assert documents[0]["title"] == "VPN how-to"


def test_kb_scores_stay_in_range_for_odd_queries() -> None:
    kb = KnowledgeBase(DEMO_DATA.documents)
    for query in ("", "the the the", "vpn vpn vpn vpn", "VPN how-to " * 50):
        hits, retrieval = kb.search(query)
        assert all(0.0 <= s <= 1.0 for s in retrieval.scores)
        assert len(hits) == len(retrieval.scores)
    assert embed("vpn setup") == embed("vpn setup")
    assert embed("") == (0.0,) * 64


async def test_messages_carry_the_agent_and_tool_results() -> None:
    context = await prepare("Show me invoice INV-1001")
    system, user = context.messages
    assert system["role"] == "system" and user == {
        "role": "user",
        "content": "Show me invoice INV-1001",
    }
    assert "ERP agent" in system["content"]
    (line,) = [x for x in system["content"].splitlines() if x.startswith(TOOL_RESULTS_PREFIX)]
    results = json.loads(line[len(TOOL_RESULTS_PREFIX) :])
    assert results[0]["name"] == "search_invoices"
    assert results[0]["result"]["invoices"][0]["customer"] == "Acme"
    assert "latency_ms" not in results[0]
    assert 0 <= context.router_s < 0.1


async def test_preparation_is_deterministic() -> None:
    messages = ["Show me invoice INV-1001", "status of legacy-01", "how do I set up the VPN"]
    for message in messages:
        first, second = await prepare(message), await Orchestrator().prepare(message)
        assert first.decision == second.decision
        assert first.messages == second.messages
        assert [(c.name, c.arguments, c.result, c.error) for c in first.tool_calls] == [
            (c.name, c.arguments, c.result, c.error) for c in second.tool_calls
        ]
        assert [r.scores for r in first.retrievals] == [r.scores for r in second.retrievals]
