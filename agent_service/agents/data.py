"""A seeded, deterministic demo dataset for the five agents (plain Python data).

Documented failure: server ``legacy-01`` has ``status_endpoint_ok=False``; its status
check raises ``TimeoutError("status endpoint of legacy-01 timed out")`` (see tools.py), so
"what is the status of legacy-01" yields a tool call recorded with ``error`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "DEMO_DATA",
    "FAILING_SERVER",
    "CalendarEvent",
    "Deal",
    "DemoData",
    "Document",
    "Incident",
    "InventoryItem",
    "Invoice",
    "Lead",
    "LeaveBalance",
    "LeaveRequest",
    "Server",
]

FAILING_SERVER = "legacy-01"


@dataclass(frozen=True)
class Invoice:
    id: str
    customer: str
    amount: float
    currency: str
    due: str  # ISO date
    status: str  # paid | open | overdue


@dataclass(frozen=True)
class InventoryItem:
    sku: str
    name: str
    quantity: int
    warehouse: str
    reorder_level: int


@dataclass(frozen=True)
class Lead:
    id: str
    name: str
    company: str
    status: str  # new | contacted | qualified
    score: int


@dataclass(frozen=True)
class Deal:
    id: str
    company: str
    stage: str  # prospecting | proposal | negotiation | won | lost
    value: float
    currency: str


@dataclass(frozen=True)
class Server:
    name: str
    role: str
    status: str  # up | degraded | down
    cpu_pct: int
    status_endpoint_ok: bool = True


@dataclass(frozen=True)
class Incident:
    id: str
    server: str
    severity: str  # sev1 | sev2 | sev3
    title: str
    state: str  # open | resolved


@dataclass(frozen=True)
class CalendarEvent:
    id: str
    title: str
    date: str  # ISO date
    start: str
    end: str
    attendees: tuple[str, ...]


@dataclass(frozen=True)
class LeaveRequest:
    id: str
    employee: str
    start: str
    end: str
    days: int
    state: str  # pending | approved | rejected


@dataclass(frozen=True)
class LeaveBalance:
    employee: str
    annual_days: int
    used_days: int


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class DemoData:
    invoices: tuple[Invoice, ...]
    inventory: tuple[InventoryItem, ...]
    leads: tuple[Lead, ...]
    deals: tuple[Deal, ...]
    servers: tuple[Server, ...]
    incidents: tuple[Incident, ...]
    events: tuple[CalendarEvent, ...]
    leave_requests: tuple[LeaveRequest, ...]
    leave_balances: tuple[LeaveBalance, ...]
    documents: tuple[Document, ...] = field(default=())


DEMO_DATA = DemoData(
    invoices=(
        Invoice("INV-1001", "Acme", 1200.00, "EUR", "2026-12-01", "open"),
        Invoice("INV-1002", "Globex", 5430.50, "EUR", "2026-10-15", "overdue"),
        Invoice("INV-1003", "Initech", 980.00, "USD", "2026-09-30", "paid"),
        Invoice("INV-1004", "Acme", 310.25, "EUR", "2026-11-20", "open"),
        Invoice("INV-1005", "Umbrella", 15000.00, "USD", "2026-08-31", "overdue"),
    ),
    inventory=(
        InventoryItem("SKU-100", "laptop", 42, "Berlin", 10),
        InventoryItem("SKU-101", "monitor", 7, "Berlin", 15),
        InventoryItem("SKU-102", "keyboard", 120, "Hamburg", 30),
        InventoryItem("SKU-103", "docking station", 0, "Hamburg", 5),
        InventoryItem("SKU-104", "headset", 33, "Munich", 20),
    ),
    leads=(
        Lead("LEAD-1", "Dana Scully", "Globex", "qualified", 87),
        Lead("LEAD-2", "Fox Mulder", "Initech", "contacted", 54),
        Lead("LEAD-3", "Walter Skinner", "Umbrella", "new", 31),
        Lead("LEAD-4", "Monica Reyes", "Acme", "qualified", 76),
    ),
    deals=(
        Deal("DEAL-1", "Globex", "negotiation", 48000.0, "EUR"),
        Deal("DEAL-2", "Acme", "proposal", 12500.0, "EUR"),
        Deal("DEAL-3", "Initech", "won", 30000.0, "EUR"),
        Deal("DEAL-4", "Umbrella", "prospecting", 9000.0, "EUR"),
        Deal("DEAL-5", "Hooli", "lost", 22000.0, "EUR"),
    ),
    servers=(
        Server("web-01", "web frontend", "up", 37),
        Server("web-02", "web frontend", "degraded", 91),
        Server("db-01", "postgres primary", "up", 58),
        Server("gpu-01", "llm inference", "up", 76),
        Server(FAILING_SERVER, "old billing system", "unknown", 0, status_endpoint_ok=False),
    ),
    incidents=(
        Incident("INC-201", "web-02", "sev2", "High CPU on web-02", "open"),
        Incident("INC-202", "db-01", "sev3", "Slow queries on reporting replica", "resolved"),
        Incident("INC-203", "gpu-01", "sev1", "GPU memory exhausted during peak", "open"),
        Incident("INC-204", FAILING_SERVER, "sev3", "Status endpoint flaky", "open"),
    ),
    events=(
        CalendarEvent(
            "EV-1", "Weekly team sync", "2026-11-30", "09:00", "09:30", ("alice", "bob", "carol")
        ),
        CalendarEvent(
            "EV-2", "Quarterly review", "2026-12-02", "14:00", "16:00", ("alice", "dave")
        ),
        CalendarEvent("EV-3", "Customer call with Acme", "2026-12-01", "11:00", "11:45", ("bob",)),
        CalendarEvent("EV-4", "Onboarding session", "2026-12-03", "10:00", "12:00", ("carol",)),
    ),
    leave_requests=(
        LeaveRequest("LV-11", "alice", "2026-12-22", "2026-12-31", 6, "approved"),
        LeaveRequest("LV-12", "bob", "2026-12-08", "2026-12-10", 3, "pending"),
        LeaveRequest("LV-13", "carol", "2026-11-17", "2026-11-18", 2, "rejected"),
    ),
    leave_balances=(
        LeaveBalance("alice", 30, 18),
        LeaveBalance("bob", 28, 9),
        LeaveBalance("carol", 30, 25),
        LeaveBalance("dave", 26, 4),
    ),
    documents=(
        Document(
            "KB-1",
            "Expense policy",
            "Expenses above 50 EUR need a receipt. Submit expense reports within 30 days "
            "through the ERP portal; travel and hotel costs need manager approval first.",
        ),
        Document(
            "KB-2",
            "VPN how-to",
            "To connect to the VPN install the WireGuard client, import the profile from the "
            "IT portal and sign in with your company account. Reset the VPN profile if it fails.",
        ),
        Document(
            "KB-3",
            "Onboarding checklist",
            "New employees get a laptop on day one, meet their buddy, join the onboarding "
            "session and complete security training within the first week.",
        ),
        Document(
            "KB-4",
            "Password reset",
            "Reset your password in the self-service portal. After five failed sign-in attempts "
            "the account is locked for 15 minutes; IT Ops can unlock it sooner.",
        ),
        Document(
            "KB-5",
            "Leave policy",
            "Employees have 26 to 30 annual leave days. Request leave in the OA system at least "
            "two weeks ahead; your manager approves the leave request.",
        ),
        Document(
            "KB-6",
            "Incident response",
            "For a sev1 incident page the on-call engineer, open an incident channel and post "
            "status updates every 30 minutes until the server is restored.",
        ),
        Document(
            "KB-7",
            "Sales pipeline guide",
            "Deals move from prospecting to proposal, negotiation and won or lost. Qualify a lead "
            "before creating a deal and update the CRM after every customer call.",
        ),
    ),
)
