"""The data the parts of the agent service hand each other. No behaviour, no IO."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "SESSION_ID",
    "AgentType",
    "AlertRecord",
    "AlertStatus",
    "Chunk",
    "FeedbackRecord",
    "Rating",
    "Retrieval",
    "RouteDecision",
    "ToolCall",
    "TurnContext",
    "TurnRecord",
    "Usage",
]

# The agents the service implements (the keys of its routing and planning tables). The
# values of the agent_type label are the stack catalog's (agent_service.catalog.agent_types);
# a test holds the two equal.
AgentType = Literal["erp", "crm", "it_ops", "oa", "general"]
Rating = Literal["positive", "negative"]
AlertStatus = Literal["firing", "resolved"]
# What a session id (and a message id) may be: short, printable, safe in a URL and a log.
SESSION_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # use fullmatch


@dataclass(frozen=True)
class RouteDecision:
    agent: AgentType
    confidence: float  # 0..1


@dataclass(frozen=True)
class ToolCall:
    """One tool execution, as recorded in the audit log and counted in metrics."""

    name: str
    arguments: dict[str, Any]
    result: Any | None
    error: str | None
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arguments": self.arguments,
            "result": self.result,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 3),
        }


@dataclass(frozen=True)
class Retrieval:
    """One knowledge-base search: how long retrieval and embedding took, and the
    relevance score (0..1) of each document returned."""

    latency_s: float
    embedding_s: float
    scores: tuple[float, ...]


@dataclass(frozen=True)
class TurnContext:
    """What routing and the agent's tools produced, before the LLM answers."""

    decision: RouteDecision
    router_s: float
    tool_calls: tuple[ToolCall, ...]
    retrievals: tuple[Retrieval, ...]
    # OpenAI-style chat messages for the LLM: system prompt with the tool results, user.
    messages: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Chunk:
    """A streamed piece of the answer (``text``), or the final usage report."""

    text: str = ""
    usage: Usage | None = None


@dataclass(frozen=True)
class TurnRecord:
    """One row of conversation_log (and its session's upsert)."""

    message_id: str
    session_id: str
    user_id: str
    timestamp: datetime  # timezone-aware UTC
    user_message: str
    agent_response: str
    agent_type: str
    tool_calls: tuple[ToolCall, ...]
    latency_ms: int
    ttft_ms: int | None
    prompt_tokens: int
    completion_tokens: int
    confidence: float | None
    error: str | None
    trace_id: str | None


@dataclass(frozen=True)
class FeedbackRecord:
    message_id: str
    rating: Rating
    comment: str | None
    at: datetime  # timezone-aware UTC
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertRecord:
    """One alert of an Alertmanager notification, as the audit log keeps it."""

    received_at: datetime
    receiver: str
    status: AlertStatus
    alertname: str
    severity: str | None
    labels: dict[str, str]
    summary: str | None
    starts_at: datetime
    ends_at: datetime | None  # None while firing
    fingerprint: str
