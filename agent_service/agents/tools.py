"""The domain agents' tools over the demo dataset, and ``run_tool`` that times one call and
turns it into a :class:`ToolCall` (an exception becomes ``error``; the turn goes on).

Documented failure: ``server_status`` for a server whose ``status_endpoint_ok`` is False
(``legacy-01`` in the demo data) raises ``TimeoutError("status endpoint of <name> timed
out")``."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from typing import Any

from agent_service.agents.data import DemoData
from agent_service.domain import ToolCall

__all__ = ["TOOLS", "Tool", "run_tool"]

Tool = Callable[[DemoData, Mapping[str, Any]], Any | Awaitable[Any]]


def _str(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    return str(value).lower() if value is not None else None


# ERP ---------------------------------------------------------------------------------------


def search_invoices(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filters: invoice_id, customer, status (paid | open | overdue)."""
    invoice_id, customer, status = (_str(args, k) for k in ("invoice_id", "customer", "status"))
    found = [
        asdict(inv)
        for inv in data.invoices
        if (invoice_id is None or inv.id.lower() == invoice_id)
        and (customer is None or inv.customer.lower() == customer)
        and (status is None or inv.status == status)
    ]
    return {"invoices": found, "count": len(found)}


def check_inventory(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filter: item (sku or name); each item says whether it is below its reorder level."""
    item = _str(args, "item")
    found = [
        {**asdict(it), "below_reorder_level": it.quantity < it.reorder_level}
        for it in data.inventory
        if item is None or item in (it.sku.lower(), it.name.lower())
    ]
    return {"items": found, "count": len(found)}


# CRM ---------------------------------------------------------------------------------------


def find_leads(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filters: company, status, min_score."""
    company, status = _str(args, "company"), _str(args, "status")
    min_score = int(args.get("min_score", 0))
    found = [
        asdict(lead)
        for lead in data.leads
        if (company is None or lead.company.lower() == company)
        and (status is None or lead.status == status)
        and lead.score >= min_score
    ]
    found.sort(key=lambda lead: -int(lead["score"]))
    return {"leads": found, "count": len(found)}


def pipeline_summary(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Deal count and value per stage; filters: company, stage."""
    company, stage = _str(args, "company"), _str(args, "stage")
    stages: dict[str, dict[str, Any]] = {}
    deals = [
        d
        for d in data.deals
        if (company is None or d.company.lower() == company) and (stage is None or d.stage == stage)
    ]
    for deal in deals:
        entry = stages.setdefault(deal.stage, {"count": 0, "value": 0.0})
        entry["count"] += 1
        entry["value"] = round(entry["value"] + deal.value, 2)
    open_value = sum(d.value for d in deals if d.stage not in ("won", "lost"))
    return {
        "stages": stages,
        "deals": [asdict(d) for d in deals],
        "open_value": round(open_value, 2),
        "currency": "EUR",
    }


# IT Ops ------------------------------------------------------------------------------------


def server_status(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """One server's live status (``server``), or the fleet overview without it. A server
    whose status endpoint is broken raises TimeoutError (the documented failure)."""
    name = _str(args, "server")
    if name is None:
        return {
            "servers": [{"name": s.name, "status": s.status, "role": s.role} for s in data.servers],
            "count": len(data.servers),
        }
    for server in data.servers:
        if server.name == name:
            if not server.status_endpoint_ok:
                raise TimeoutError(f"status endpoint of {server.name} timed out")
            return asdict(server) | {"server": server.name}
    raise LookupError(f"unknown server {name}")


def list_incidents(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filters: server, state (open | resolved), severity."""
    server, state, severity = (_str(args, k) for k in ("server", "state", "severity"))
    found = [
        asdict(inc)
        for inc in data.incidents
        if (server is None or inc.server == server)
        and (state is None or inc.state == state)
        and (severity is None or inc.severity == severity)
    ]
    return {"incidents": found, "count": len(found)}


# OA ----------------------------------------------------------------------------------------


def calendar_lookup(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Filters: date (ISO), attendee."""
    date, attendee = _str(args, "date"), _str(args, "attendee")
    found = [
        asdict(ev) | {"attendees": list(ev.attendees)}
        for ev in data.events
        if (date is None or ev.date == date) and (attendee is None or attendee in ev.attendees)
    ]
    found.sort(key=lambda ev: (str(ev["date"]), str(ev["start"])))
    return {"events": found, "count": len(found)}


async def leave_balance(data: DemoData, args: Mapping[str, Any]) -> dict[str, Any]:
    """Remaining leave days and leave requests; filter: employee. (Async, like a real
    HR-system call; it does no IO here.)"""
    employee = _str(args, "employee")
    balances = [
        {**asdict(b), "remaining_days": b.annual_days - b.used_days}
        for b in data.leave_balances
        if employee is None or b.employee == employee
    ]
    requests = [
        asdict(r) for r in data.leave_requests if employee is None or r.employee == employee
    ]
    return {"balances": balances, "requests": requests}


# Registry ----------------------------------------------------------------------------------

TOOLS: Mapping[str, Tool] = {
    "search_invoices": search_invoices,
    "check_inventory": check_inventory,
    "find_leads": find_leads,
    "pipeline_summary": pipeline_summary,
    "server_status": server_status,
    "list_incidents": list_incidents,
    "calendar_lookup": calendar_lookup,
    "leave_balance": leave_balance,
}


async def run_tool(name: str, tool: Tool, data: DemoData, arguments: Mapping[str, Any]) -> ToolCall:
    """Run one tool (sync or async), timed; an exception is recorded as ``error``."""
    args = dict(arguments)
    started = time.perf_counter()
    try:
        result = tool(data, args)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        return ToolCall(name, args, None, f"{type(exc).__name__}: {exc}", latency_ms)
    latency_ms = (time.perf_counter() - started) * 1000
    return ToolCall(name, args, result, None, latency_ms)
