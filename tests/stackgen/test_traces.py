"""The trace checker of `stackgen verify` on hand-made Jaeger answers (the shape of
`GET /api/traces/<id>` as Jaeger v2 returns it). The live run checks real traces from the
real Jaeger; this only proves the checker finds each kind of fault."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from stackgen.verify.trace_check import TraceReport, spread
from stackgen.verify.traces import AuditTurn, TraceCheck, check_trace, parse_trace

# The agent service's own span attribute prefix (specs/bestbox/verify.py).
PREFIX = "bestbox"

TRACE_ID = "0f8ef3476d56badfd64c06ccd998ab0d"
TURN = AuditTurn(
    message_id="msg-5797df7c",
    trace_id=TRACE_ID,
    user_id="verify-user-1",
    user_message="Show invoice INV-1001 and check the inventory level of item SKU-100",
    agent_response="Invoice INV-1001 is open; SKU-100 has 12 units, above its reorder level.",
    agent_type="erp",
    tools=("search_invoices", "check_inventory"),
    failed_tools=(),
    prompt_tokens=44,
    completion_tokens=17,
)


def _tags(**values: Any) -> list[dict[str, Any]]:
    kinds = {str: "string", int: "int64", float: "float64", bool: "bool"}
    return [
        {"key": key.replace("__", "."), "type": kinds[type(v)], "value": v}
        for key, v in values.items()
    ]


def _span(
    span_id: str, name: str, parent: str | None, start: int, duration: int, **tags: Any
) -> dict[str, Any]:
    references = [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": parent}] if parent else []
    return {
        "traceID": TRACE_ID,
        "spanID": span_id,
        "operationName": name,
        "references": references,
        "startTime": start,
        "duration": duration,
        "tags": _tags(**tags, span__kind="internal"),
        "logs": [],
        "processID": "p1",
    }


def good_trace() -> dict[str, Any]:
    t0 = 1_796_115_731_816_471
    spans = [
        _span("a1", "chat_turn", None, t0, 215_518,
              bestbox__message_id="msg-5797df7c", gen_ai__agent__name="erp"),
        _span("a2", "route", "a1", t0 + 24, 49, bestbox__route__agent="erp"),
        _span("a3", "invoke_agent erp", "a1", t0 + 74, 214_737,
              gen_ai__operation__name="invoke_agent", gen_ai__agent__name="erp",
              gen_ai__provider__name="bestbox.scripted", gen_ai__request__model="bestbox-scripted"),
        _span("a4", "execute_tool search_invoices", "a3", t0 + 74, 61,
              gen_ai__operation__name="execute_tool", gen_ai__tool__name="search_invoices"),
        _span("a5", "execute_tool check_inventory", "a3", t0 + 135, 12,
              gen_ai__operation__name="execute_tool", gen_ai__tool__name="check_inventory"),
        _span("a6", "chat bestbox-scripted", "a3", t0 + 390, 214_396,
              gen_ai__operation__name="chat", gen_ai__provider__name="bestbox.scripted",
              gen_ai__request__model="bestbox-scripted", gen_ai__usage__input_tokens=44,
              gen_ai__usage__output_tokens=17),
    ]  # fmt: skip
    process = {"serviceName": "bestbox-agent-api", "tags": _tags(service__namespace="bestbox")}
    return {"data": [{"traceID": TRACE_ID, "spans": spans, "processes": {"p1": process}}]}


def _named(document: dict[str, Any], name: str) -> dict[str, Any]:
    span: dict[str, Any] = next(
        s for s in document["data"][0]["spans"] if s["operationName"] == name
    )
    return span


def _set_tag(document: dict[str, Any], name: str, key: str, value: Any) -> None:
    span = _named(document, name)
    span["tags"] = [t for t in span["tags"] if t["key"] != key]
    if value is not None:
        span["tags"] += _tags(**{key.replace(".", "__"): value})


def test_a_complete_trace_passes() -> None:
    result = check_trace(TURN, good_trace(), prefix=PREFIX)
    assert (result.found, result.problems, result.leaks) == (True, [], [])
    assert result.ok


def test_parse_reads_parents_times_and_tags() -> None:
    spans = {s.name: s for s in parse_trace(good_trace())}
    chat = spans["chat bestbox-scripted"]
    assert chat.parent_id == "a3"
    assert chat.end_us == 1_796_115_731_816_471 + 390 + 214_396
    assert chat.tags["gen_ai.usage.input_tokens"] == 44
    assert spans["chat_turn"].parent_id is None
    assert "service.namespace=bestbox" in chat.other_values


def test_a_trace_jaeger_does_not_have_is_not_found() -> None:
    missing = {"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}
    for document in (None, missing, {"data": []}):
        result = check_trace(TURN, document, prefix=PREFIX)
        assert not result.found and not result.ok


Break = Callable[[dict[str, Any]], None]


def _reparent(name: str, parent: str) -> Break:
    def change(document: dict[str, Any]) -> None:
        _named(document, name)["references"][0]["spanID"] = parent

    return change


def _drop(name: str) -> Break:
    def change(document: dict[str, Any]) -> None:
        trace = document["data"][0]
        trace["spans"] = [s for s in trace["spans"] if s["operationName"] != name]

    return change


def _shift(name: str, by_us: int) -> Break:
    def change(document: dict[str, Any]) -> None:
        _named(document, name)["startTime"] += by_us

    return change


def _tag(name: str, key: str, value: Any) -> Break:
    return lambda document: _set_tag(document, name, key, value)


def _fail_tool(document: dict[str, Any]) -> None:
    _set_tag(document, "execute_tool check_inventory", "otel.status_code", "ERROR")


def _orphan(document: dict[str, Any]) -> None:
    _named(document, "route")["references"][0]["spanID"] = "ff"


def _second_root(document: dict[str, Any]) -> None:
    _named(document, "route")["references"] = []


TREE_FAULTS = [
    ("llm-call-under-the-request", _reparent("chat bestbox-scripted", "a1"),
     "chat_turn holds"),
    ("tool-under-the-request", _reparent("execute_tool search_invoices", "a1"),
     "chat_turn holds"),
    ("no-router-span", _drop("route"), "chat_turn holds"),
    ("a-tool-call-missing", _drop("execute_tool check_inventory"), "tool spans"),
    ("no-llm-call", _drop("chat bestbox-scripted"), "0 LLM call spans"),
    ("child-ends-after-its-parent", _shift("chat bestbox-scripted", 1_000), "is not within"),
    ("child-starts-before-its-parent", _shift("route", -100), "is not within"),
    ("no-provider", _tag("chat bestbox-scripted", "gen_ai.provider.name", None),
     "no gen_ai.provider.name"),
    ("no-model", _tag("invoke_agent erp", "gen_ai.request.model", None),
     "no gen_ai.request.model"),
    ("wrong-operation", _tag("execute_tool search_invoices", "gen_ai.operation.name", "chat"),
     "gen_ai.operation.name='chat'"),
    ("tokens-differ-from-the-audit-log",
     _tag("chat bestbox-scripted", "gen_ai.usage.output_tokens", 18), "output_tokens=18"),
    ("other-agent", _tag("invoke_agent erp", "gen_ai.agent.name", "crm"), "gen_ai.agent.name"),
    ("other-turn", _tag("chat_turn", "bestbox.message_id", "msg-other"), "bestbox.message_id"),
    ("a-failure-the-audit-log-does-not-have", _fail_tool, "failed tool spans"),
    ("orphan-span", _orphan, "parent is not in the trace"),
    ("two-roots", _second_root, "roots"),
]  # fmt: skip


@pytest.mark.parametrize(("break_it", "problem"), [f[1:] for f in TREE_FAULTS],
                         ids=[f[0] for f in TREE_FAULTS])  # fmt: skip
def test_each_tree_fault_is_found(break_it: Break, problem: str) -> None:
    document = good_trace()
    break_it(document)
    result = check_trace(TURN, document, prefix=PREFIX)
    assert result.found and not result.ok
    assert any(problem in p for p in result.problems), result.problems


def test_a_failed_tool_call_must_be_marked() -> None:
    failing = AuditTurn(**{**TURN.__dict__, "failed_tools": ("check_inventory",)})
    assert any(
        "failed tool spans" in p for p in check_trace(failing, good_trace(), prefix=PREFIX).problems
    )
    document = good_trace()
    _fail_tool(document)
    assert check_trace(failing, document, prefix=PREFIX).ok


def _log(name: str, **fields: Any) -> Break:
    def change(document: dict[str, Any]) -> None:
        _named(document, name)["logs"].append({"timestamp": 1, "fields": _tags(**fields)})

    return change


def _process_tag(document: dict[str, Any]) -> None:
    document["data"][0]["processes"]["p1"]["tags"] += _tags(enduser__id="verify-user-1")


LEAKS = [
    ("message-in-an-attribute",
     _tag("chat_turn", "bestbox.user_message", TURN.user_message), "the user's message"),
    ("message-in-other-case", _tag("route", "note", TURN.user_message.upper()),
     "the user's message"),
    ("answer-in-an-event", _log("chat bestbox-scripted", text=TURN.agent_response),
     "the answer"),
    ("user-id-in-an-attribute", _tag("chat_turn", "enduser.id", "verify-user-1"), "the user id"),
    ("user-id-in-a-process-tag", _process_tag, "the user id"),
    ("content-attribute", _tag("chat bestbox-scripted", "gen_ai.input.messages", "[]"),
     "message content attributes"),
]  # fmt: skip


@pytest.mark.parametrize(("leak", "what"), [c[1:] for c in LEAKS], ids=[c[0] for c in LEAKS])
def test_message_text_and_user_ids_are_leaks(leak: Break, what: str) -> None:
    document = good_trace()
    leak(document)
    result = check_trace(TURN, document, prefix=PREFIX)
    assert not result.ok and any(what in item for item in result.leaks), result.leaks


def test_fragments_of_the_message_are_no_leak() -> None:
    # Tool arguments and error messages name what the user asked about (an invoice id),
    # not what they wrote.
    document = good_trace()
    _set_tag(document, "execute_tool search_invoices", "otel.status_description", "INV-1001")
    assert check_trace(TURN, document, prefix=PREFIX).ok


def test_the_report_counts_and_fails_on_any_bad_turn() -> None:
    ok = check_trace(TURN, good_trace(), prefix=PREFIX)
    leaking = check_trace(TURN, copy.deepcopy(good_trace()), prefix=PREFIX)
    leaking.leaks = ["chat_turn: holds the user id"]
    report = TraceReport([ok, TraceCheck(TURN), leaking])
    assert report.summary() == (
        "traces: 3 turns checked, 2 found in Jaeger, 2 with the expected span tree, "
        "1 with message text"
    )
    assert not report.passed
    assert TraceReport([ok]).passed
    assert not TraceReport([]).passed  # nothing checked proves nothing


def test_spread_takes_turns_from_the_whole_run() -> None:
    turns = [AuditTurn(**{**TURN.__dict__, "message_id": f"m{i}"}) for i in range(100)]
    chosen = spread(turns, 40)
    assert len(chosen) == 40 and len({t.message_id for t in chosen}) == 40
    assert chosen[0].message_id == "m0" and chosen[-1].message_id in {"m97", "m98", "m99"}
    assert spread(turns[:5], 40) == turns[:5]
