"""Which tools each agent calls for a message, with arguments extracted by simple rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from agent_service.agents.data import DemoData
from agent_service.agents.text import content_tokens
from agent_service.domain import AgentType

__all__ = ["AGENT_NAMES", "AGENT_TOOLS", "KB_TRIGGERS", "PlannedCall", "plan", "wants_kb"]

PlannedCall = tuple[str, dict[str, Any]]

AGENT_NAMES: Mapping[AgentType, str] = {
    "erp": "ERP agent (invoices, inventory)",
    "crm": "CRM agent (leads, deals, pipeline)",
    "it_ops": "IT Ops agent (servers, incidents)",
    "oa": "OA agent (calendar, leave)",
    "general": "General agent (company knowledge base)",
}

# The tools each agent owns; every agent may also call search_knowledge_base.
AGENT_TOOLS: Mapping[AgentType, tuple[str, ...]] = {
    "erp": ("search_invoices", "check_inventory"),
    "crm": ("find_leads", "pipeline_summary"),
    "it_ops": ("server_status", "list_incidents"),
    "oa": ("calendar_lookup", "leave_balance"),
    "general": ("search_knowledge_base",),
}

# Words that make a domain agent also consult the knowledge base.
KB_TRIGGERS = frozenset(
    "policy how-to guide procedure handbook rule process vpn onboarding password "
    "expense training checklist".split()
)

_INVOICE = re.compile(r"\binv-\d+\b", re.IGNORECASE)
_SKU = re.compile(r"\bsku-\d+\b", re.IGNORECASE)
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _words(message: str) -> set[str]:
    return set(content_tokens(message))


def _mentioned(message: str, names: set[str]) -> str | None:
    """The first of ``names`` (lower-case) the message mentions as a word (plural allowed),
    in text order."""
    lowered = message.lower()
    best: tuple[int, str] | None = None
    for name in names:
        match = re.search(rf"(?<![\w-]){re.escape(name)}s?(?![\w-])", lowered)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), name)
    return best[1] if best else None


def _erp(message: str, data: DemoData) -> list[PlannedCall]:
    words = _words(message)
    calls: list[PlannedCall] = []
    invoice_ids = sorted({m.upper() for m in _INVOICE.findall(message)})
    calls.extend(("search_invoices", {"invoice_id": i}) for i in invoice_ids)
    if not invoice_ids and words & {"invoice", "billing", "payment", "paid", "unpaid", "overdue"}:
        args: dict[str, Any] = {}
        customer = _mentioned(message, {i.customer.lower() for i in data.invoices})
        if customer:
            args["customer"] = customer
        status = "overdue" if words & {"overdue", "unpaid"} else None
        status = status or ("paid" if "paid" in words else "open" if "open" in words else None)
        if status:
            args["status"] = status
        calls.append(("search_invoices", args))
    item_names = {i.name.lower() for i in data.inventory}
    sku = _SKU.search(message)
    item = sku.group(0).upper() if sku else _mentioned(message, item_names)
    if item or words & {"inventory", "stock", "sku", "warehouse"}:
        calls.append(("check_inventory", {"item": item} if item else {}))
    return calls or [("search_invoices", {})]


def _crm(message: str, data: DemoData) -> list[PlannedCall]:
    words = _words(message)
    company = _mentioned(message, {lead.company.lower() for lead in data.leads})
    company = company or _mentioned(message, {d.company.lower() for d in data.deals})
    calls: list[PlannedCall] = []
    if words & {"lead", "prospect", "qualified", "contact"}:
        args: dict[str, Any] = {"company": company} if company else {}
        for status in ("qualified", "contacted", "new"):
            if status in words:
                args["status"] = status
                break
        calls.append(("find_leads", args))
    if words & {"deal", "pipeline", "sale", "opportunity", "forecast", "won", "lost"}:
        calls.append(("pipeline_summary", {"company": company} if company else {}))
    return calls or [("pipeline_summary", {"company": company} if company else {})]


def _it_ops(message: str, data: DemoData) -> list[PlannedCall]:
    words = _words(message)
    server_names = {s.name for s in data.servers}
    lowered = message.lower()
    mentioned = [
        name
        for name in sorted(server_names)
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", lowered)
    ]
    calls: list[PlannedCall] = []
    wants_incidents = bool(words & {"incident", "outage", "alert", "sev1", "sev2", "sev3"})
    if mentioned:
        calls.extend(("server_status", {"server": name}) for name in mentioned)
    elif not wants_incidents or words & {"server", "status", "fleet", "health"}:
        calls.append(("server_status", {}))
    if wants_incidents:
        args: dict[str, Any] = {}
        if len(mentioned) == 1:
            args["server"] = mentioned[0]
        if "open" in words:
            args["state"] = "open"
        for severity in ("sev1", "sev2", "sev3"):
            if severity in words:
                args["severity"] = severity
        calls.append(("list_incidents", args))
    return calls


def _oa(message: str, data: DemoData) -> list[PlannedCall]:
    words = _words(message)
    employees = {b.employee for b in data.leave_balances}
    person = _mentioned(message, employees)
    calls: list[PlannedCall] = []
    if words & {"calendar", "meeting", "schedule", "event", "appointment", "sync", "review"}:
        args: dict[str, Any] = {}
        date = _DATE.search(message)
        if date:
            args["date"] = date.group(0)
        if person:
            args["attendee"] = person
        calls.append(("calendar_lookup", args))
    if words & {"leave", "vacation", "holiday", "pto", "balance", "day"}:
        calls.append(("leave_balance", {"employee": person} if person else {}))
    return calls or [("calendar_lookup", {"attendee": person} if person else {})]


def _general(message: str, data: DemoData) -> list[PlannedCall]:
    return []  # the orchestrator always searches the knowledge base for the general agent


_PLANNERS: Mapping[AgentType, Callable[[str, DemoData], list[PlannedCall]]] = {
    "erp": _erp,
    "crm": _crm,
    "it_ops": _it_ops,
    "oa": _oa,
    "general": _general,
}


def plan(agent: AgentType, message: str, data: DemoData) -> list[PlannedCall]:
    """The agent's own tool calls for the message, in order (deterministic)."""
    return _PLANNERS[agent](message, data)


def wants_kb(agent: AgentType, message: str) -> bool:
    """The general agent always searches the knowledge base; others when asked how/policy."""
    return agent == "general" or bool(_words(message) & KB_TRIGGERS)
