"""A turn's trace as Jaeger returns it, checked against the turn's audit row.

Pure: parses the JSON of Jaeger's query API (``GET /api/traces/<trace id>``) and returns
problems, never raises on a bad trace. What a turn's trace must be:

- the tree: ``chat_turn`` (the request, no parent) holds ``route`` and ``invoke_agent
  <agent>``; the agent span holds one ``execute_tool <tool>`` per tool call of the audit
  row and one ``chat <model>`` LLM call; nothing else; every child within its parent's
  time;
- the OpenTelemetry GenAI attributes: ``gen_ai.operation.name`` (``invoke_agent``,
  ``execute_tool``, ``chat``), ``gen_ai.agent.name``, ``gen_ai.provider.name``,
  ``gen_ai.request.model``, ``gen_ai.tool.name``, ``gen_ai.usage.input_tokens`` and
  ``output_tokens`` equal to the audit row's token counts;
- privacy: no attribute, event or process tag holds the user's message, the answer or
  the user id, and no span carries a message-content attribute at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTENT_KEYS",
    "AuditTurn",
    "TraceCheck",
    "TraceSpan",
    "check_trace",
    "parse_trace",
]

# Attributes that hold message content by definition (the GenAI conventions' opt-in
# content attributes and their deprecated forms); the service's own switch,
# ``<prefix>.user_message``, is added per stack.
CONTENT_KEYS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.prompt",
        "gen_ai.completion",
    }
)
# Jaeger stores times in microseconds: a child's end computed from its start and
# duration may round one microsecond past its parent's.
_TOLERANCE_US = 2
# Shorter texts (a one-word answer) or ids would match by chance.
_MIN_NEEDLE = 8
_MIN_ID = 4


@dataclass(frozen=True)
class AuditTurn:
    """What the audit log says about a turn (a conversation_log row)."""

    message_id: str
    trace_id: str
    user_id: str
    user_message: str
    agent_response: str
    agent_type: str
    tools: tuple[str, ...]  # tool names, in call order
    failed_tools: tuple[str, ...]
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class TraceSpan:
    span_id: str
    parent_id: str | None
    name: str
    start_us: int
    duration_us: int
    tags: Mapping[str, Any]
    # Every other value a span carries: event (log) fields and process tags.
    other_values: tuple[str, ...] = ()

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


@dataclass
class TraceCheck:
    """The verdict on one turn's trace."""

    turn: AuditTurn
    found: bool = False
    problems: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.found and not self.problems and not self.leaks


def _tags(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    return {str(t.get("key")): t.get("value") for t in entries or ()}


def parse_trace(document: Mapping[str, Any]) -> list[TraceSpan]:
    """The spans of the first trace of a ``/api/traces/<id>`` answer ([] if none)."""
    traces = document.get("data") or []
    if not traces:
        return []
    trace = traces[0]
    processes = trace.get("processes") or {}
    spans = []
    for raw in trace.get("spans") or []:
        parents = [
            r.get("spanID")
            for r in raw.get("references") or []
            if r.get("refType") == "CHILD_OF" and r.get("spanID")
        ]
        process = processes.get(raw.get("processID"), {})
        others = [
            str(v) for log in raw.get("logs") or [] for v in _tags(log.get("fields")).values()
        ]
        others += [f"{k}={v}" for k, v in _tags(process.get("tags")).items()]
        spans.append(
            TraceSpan(
                span_id=str(raw.get("spanID")),
                parent_id=str(parents[0]) if parents else None,
                name=str(raw.get("operationName")),
                start_us=int(raw.get("startTime", 0)),
                duration_us=int(raw.get("duration", 0)),
                tags=_tags(raw.get("tags")),
                other_values=tuple(others),
            )
        )
    return spans


def _expect(problems: list[str], span: TraceSpan, key: str, expected: object | None = None) -> None:
    """``key`` present on ``span`` (and equal to ``expected`` when given)."""
    if key not in span.tags:
        problems.append(f"{span.name}: no {key}")
    elif expected is not None and span.tags[key] != expected:
        problems.append(f"{span.name}: {key}={span.tags[key]!r}, expected {expected!r}")


def _nested(problems: list[str], child: TraceSpan, parent: TraceSpan) -> None:
    if child.start_us < parent.start_us or child.end_us > parent.end_us + _TOLERANCE_US:
        problems.append(
            f"{child.name} [{child.start_us}, {child.end_us}] is not within "
            f"{parent.name} [{parent.start_us}, {parent.end_us}]"
        )


def _children(spans: Sequence[TraceSpan], parent: TraceSpan | None) -> list[TraceSpan]:
    return [s for s in spans if parent is not None and s.parent_id == parent.span_id]


def _tree_problems(turn: AuditTurn, spans: Sequence[TraceSpan], prefix: str) -> list[str]:
    problems: list[str] = []
    ids = {s.span_id for s in spans}
    orphans = [s.name for s in spans if s.parent_id is not None and s.parent_id not in ids]
    if orphans:
        problems.append(f"spans whose parent is not in the trace: {sorted(orphans)}")
    roots = [s for s in spans if s.parent_id is None]
    if [r.name for r in roots] != ["chat_turn"]:
        return [*problems, f"roots {[r.name for r in roots]}, expected ['chat_turn']"]
    root = roots[0]
    _expect(problems, root, f"{prefix}.message_id", turn.message_id)
    _expect(problems, root, "gen_ai.agent.name", turn.agent_type)
    under_root = _children(spans, root)
    agent_name = f"invoke_agent {turn.agent_type}"
    names = sorted(s.name for s in under_root)
    if names != sorted(["route", agent_name]):
        problems.append(f"chat_turn holds {names}, expected ['route', {agent_name!r}]")
    for child in under_root:
        _nested(problems, child, root)
        if child.name == "route":
            _expect(problems, child, f"{prefix}.route.agent", turn.agent_type)
    agent = next((s for s in under_root if s.name == agent_name), None)
    if agent is None:
        return problems
    _expect(problems, agent, "gen_ai.operation.name", "invoke_agent")
    _expect(problems, agent, "gen_ai.agent.name", turn.agent_type)
    _expect(problems, agent, "gen_ai.provider.name")
    _expect(problems, agent, "gen_ai.request.model")
    under_agent = _children(spans, agent)
    tools = [s for s in under_agent if s.name.startswith("execute_tool ")]
    chats = [s for s in under_agent if s.name.startswith("chat ")]
    others = [s.name for s in under_agent if s not in tools and s not in chats]
    if others:
        problems.append(f"{agent_name} holds unexpected spans {sorted(others)}")
    called = Counter(s.tags.get("gen_ai.tool.name") for s in tools)
    if called != Counter(turn.tools):
        problems.append(
            f"tool spans {sorted(map(str, called.elements()))}, audit log {sorted(turn.tools)}"
        )
    failed = Counter(
        s.tags.get("gen_ai.tool.name") for s in tools if s.tags.get("otel.status_code") == "ERROR"
    )
    if failed != Counter(turn.failed_tools):
        problems.append(
            f"failed tool spans {sorted(map(str, failed.elements()))}, audit log "
            f"{sorted(turn.failed_tools)}"
        )
    for tool in tools:
        _nested(problems, tool, agent)
        _expect(problems, tool, "gen_ai.operation.name", "execute_tool")
        if tool.name != f"execute_tool {tool.tags.get('gen_ai.tool.name')}":
            problems.append(f"{tool.name}: gen_ai.tool.name={tool.tags.get('gen_ai.tool.name')!r}")
    if len(chats) != 1:
        return [*problems, f"{len(chats)} LLM call spans under {agent_name}, expected 1"]
    chat = chats[0]
    _nested(problems, chat, agent)
    _expect(problems, chat, "gen_ai.operation.name", "chat")
    _expect(problems, chat, "gen_ai.provider.name")
    _expect(problems, chat, "gen_ai.request.model", chat.name.removeprefix("chat "))
    _expect(problems, chat, "gen_ai.usage.input_tokens", turn.prompt_tokens)
    _expect(problems, chat, "gen_ai.usage.output_tokens", turn.completion_tokens)
    below = _children(spans, chat) + [c for t in tools for c in _children(spans, t)]
    if below:
        problems.append(f"unexpected spans below the leaves: {sorted(s.name for s in below)}")
    return problems


def _leaks(turn: AuditTurn, spans: Sequence[TraceSpan], content_keys: frozenset[str]) -> list[str]:
    needles = {
        "the user's message": turn.user_message,
        "the answer": turn.agent_response,
        "the user id": turn.user_id,
    }
    needles = {what: text.strip() for what, text in needles.items() if text.strip()}
    leaks = []
    for span in spans:
        content = sorted(content_keys & set(span.tags))
        if content:
            leaks.append(f"{span.name}: message content attributes {content}")
        values = [f"{k}={v}" for k, v in span.tags.items()] + [span.name, *span.other_values]
        for what, needle in needles.items():
            # An id is short and still identifies; a short text would match by chance.
            if len(needle) < (_MIN_ID if what == "the user id" else _MIN_NEEDLE):
                continue
            if any(needle.lower() in value.lower() for value in values):
                leaks.append(f"{span.name}: holds {what}")
    return leaks


def check_trace(turn: AuditTurn, document: Mapping[str, Any] | None, *, prefix: str) -> TraceCheck:
    """The verdict on ``document`` (Jaeger's answer for the turn's trace id; None: not
    found) for ``turn``; ``prefix`` is the service's own span attribute prefix."""
    result = TraceCheck(turn)
    spans = parse_trace(document or {})
    if not spans:
        return result
    result.found = True
    result.problems = _tree_problems(turn, spans, prefix)
    result.leaks = _leaks(turn, spans, CONTENT_KEYS | {f"{prefix}.user_message"})
    return result
