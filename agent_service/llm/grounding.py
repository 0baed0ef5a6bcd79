"""Turn the tool results in a system prompt into a short, grounded plain-text answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agent_service.agents.orchestrator import TOOL_RESULTS_PREFIX

__all__ = ["answer_from_messages", "tool_results"]

MAX_ITEMS = 5


def _money(value: Any, currency: Any) -> str:
    return f"{float(value):,.2f} {currency}"


def tool_results(messages: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    """The tool calls listed in the system message(s); [] when there are none."""
    calls: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") != "system":
            continue
        for line in message.get("content", "").splitlines():
            if line.startswith(TOOL_RESULTS_PREFIX):
                try:
                    parsed = json.loads(line[len(TOOL_RESULTS_PREFIX) :])
                except ValueError:
                    continue
                if isinstance(parsed, list):
                    calls.extend(c for c in parsed if isinstance(c, dict))
    return calls


def _invoices(result: dict[str, Any]) -> list[str]:
    invoices = result["invoices"]
    if not invoices:
        return ["No invoices match that request."]
    return [
        f"Invoice {i['id']} from {i['customer']} is {_money(i['amount'], i['currency'])}, "
        f"due {i['due']} ({i['status']})."
        for i in invoices[:MAX_ITEMS]
    ]


def _inventory(result: dict[str, Any]) -> list[str]:
    items = result["items"]
    if not items:
        return ["No inventory items match that request."]
    return [
        f"{i['name'].capitalize()} ({i['sku']}): {i['quantity']} in stock in {i['warehouse']}"
        + (
            f", below the reorder level of {i['reorder_level']}."
            if i["below_reorder_level"]
            else "."
        )
        for i in items[:MAX_ITEMS]
    ]


def _leads(result: dict[str, Any]) -> list[str]:
    leads = result["leads"]
    if not leads:
        return ["No leads match that request."]
    return [
        f"Lead {lead['name']} at {lead['company']} is {lead['status']} (score {lead['score']})."
        for lead in leads[:MAX_ITEMS]
    ]


def _pipeline(result: dict[str, Any]) -> list[str]:
    stages = result["stages"]
    currency = result["currency"]
    count = sum(int(s["count"]) for s in stages.values())
    parts = [
        f"The pipeline has {count} deals; open value {_money(result['open_value'], currency)}."
    ]
    parts.extend(
        f"{stage.capitalize()}: {s['count']} deal(s) worth {_money(s['value'], currency)}."
        for stage, s in stages.items()
    )
    return parts


def _server(result: dict[str, Any]) -> list[str]:
    if "servers" in result:
        listed = ", ".join(f"{s['name']} is {s['status']}" for s in result["servers"])
        return [f"Server overview: {listed}."]
    return [
        f"Server {result['name']} ({result['role']}) is {result['status']} "
        f"at {result['cpu_pct']}% CPU."
    ]


def _incidents(result: dict[str, Any]) -> list[str]:
    incidents = result["incidents"]
    if not incidents:
        return ["There are no matching incidents."]
    return [
        f"Incident {i['id']} ({i['severity']}, {i['state']}) on {i['server']}: {i['title']}."
        for i in incidents[:MAX_ITEMS]
    ]


def _calendar(result: dict[str, Any]) -> list[str]:
    events = result["events"]
    if not events:
        return ["There are no matching calendar events."]
    return [
        f"{e['title']} on {e['date']} {e['start']}-{e['end']} with {', '.join(e['attendees'])}."
        for e in events[:MAX_ITEMS]
    ]


def _leave(result: dict[str, Any]) -> list[str]:
    parts = [
        f"{b['employee'].capitalize()} has {b['remaining_days']} of {b['annual_days']} "
        "leave days left."
        for b in result["balances"][:MAX_ITEMS]
    ]
    parts.extend(
        f"Leave request {r['id']} by {r['employee']} from {r['start']} to {r['end']} "
        f"({r['days']} days) is {r['state']}."
        for r in result["requests"][:MAX_ITEMS]
    )
    return parts or ["No leave records match that request."]


def _knowledge(result: dict[str, Any]) -> list[str]:
    documents = [d for d in result["documents"] if float(d["score"]) >= 0.15]
    if not documents:
        return ["The knowledge base has nothing relevant to that question."]
    best = documents[0]
    return [f"According to the knowledge base ({best['title']}): {best['text']}"]


FORMATTERS: Mapping[str, Callable[[dict[str, Any]], list[str]]] = {
    "search_invoices": _invoices,
    "check_inventory": _inventory,
    "find_leads": _leads,
    "pipeline_summary": _pipeline,
    "server_status": _server,
    "list_incidents": _incidents,
    "calendar_lookup": _calendar,
    "leave_balance": _leave,
    "search_knowledge_base": _knowledge,
}


def _describe(call: Mapping[str, Any]) -> list[str]:
    name = str(call.get("name", "tool"))
    if call.get("error"):
        return [f"The {name} tool failed ({call['error']}), so I cannot answer that part."]
    result = call.get("result")
    formatter = FORMATTERS.get(name)
    if formatter is not None and isinstance(result, dict):
        try:
            return formatter(result)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    text = json.dumps(result, separators=(",", ":"), default=str)
    return [f"The {name} tool returned {text[:200]}."]


def answer_from_messages(messages: Sequence[Mapping[str, str]]) -> str:
    calls = tool_results(messages)
    if not calls:
        return "I am the BestBox assistant. I have no data for that request."
    return " ".join(sentence for call in calls for sentence in _describe(call))
