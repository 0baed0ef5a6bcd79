"""Alertmanager webhook notifications (version "4") as Alertmanager 0.25+ sends them."""

from __future__ import annotations

from typing import Any

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's endsAt while firing


def alert(
    alertname: str = "HighErrorRate",
    *,
    status: str = "firing",
    severity: str = "critical",
    fingerprint: str = "3f1c2e6a9b0d4c71",
    summary: str = "Error rate above 5% for 1m",
    starts_at: str = "2026-03-01T10:00:00.123Z",
    ends_at: str = ZERO_TIME,
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": alertname, "severity": severity, **labels},
        "annotations": {"summary": summary, "runbook_url": "http://localhost:8000/x"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


def notification(
    *alerts: dict[str, Any], receiver: str = "pager", status: str | None = None
) -> dict[str, Any]:
    alerts = alerts or (alert(),)
    common = alerts[0]["labels"]
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity="critical"}}:{{alertname="{common["alertname"]}"}}',
        "truncatedAlerts": 0,
        "status": status or alerts[0]["status"],
        "receiver": receiver,
        "groupLabels": {"alertname": common["alertname"]},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }
