"""Reading generated artifacts back: panels in rows (flat and collapsed), targets with
their effective datasource, API exports, rule files; every rendered file parsed once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackgen import artifacts
from stackgen.artifacts import read_artifacts, read_dashboard, read_rule_groups

PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
POSTGRES = {"type": "postgres", "uid": "audit"}
DOCUMENT: dict[str, Any] = {
    "uid": "board",
    "title": "Board",
    "panels": [
        {"id": 1, "title": "Top", "type": "stat", "targets": [{"refId": "A", "expr": "up"}]},
        {"id": 2, "title": "Flat row", "type": "row", "panels": []},
        {
            "id": 3,
            "title": "",
            "type": "table",
            "datasource": POSTGRES,
            "targets": [
                {"refId": "A", "rawSql": "SELECT 1"},
                {"refId": "B", "expr": "up", "datasource": PROMETHEUS},
            ],
        },
        {
            "id": 4,
            "title": "Collapsed",
            "type": "row",
            "panels": [{"id": 5, "title": "Inside", "type": "stat", "targets": ["junk"]}],
        },
    ],
    "templating": {"list": [{"name": "agent"}, "junk"]},
}


def test_panels_know_their_row_and_targets_their_datasource() -> None:
    board = read_dashboard({"dashboard": DOCUMENT}, "x.json")  # an API export
    assert (board.uid, board.title, board.path) == ("board", "Board", "x.json")
    assert [(p.id, p.label, p.row) for p in board.panels] == [
        (1, "Top", ""),
        (2, "Flat row", ""),
        (3, "panel 3", "Flat row"),
        (4, "Collapsed", ""),
        (5, "Inside", "Collapsed"),
    ]
    sql, promql = board.panels[2].targets
    assert (sql.raw_sql, sql.datasource, sql.is_promql) == ("SELECT 1", POSTGRES, False)
    assert (promql.expr, promql.is_promql) == ("up", True)
    assert board.panels[0].targets[0].is_promql  # Grafana's default datasource
    assert board.panels[4].targets == ()
    assert board.variables == ({"name": "agent"},)


def test_rule_groups_read_alerts_and_recording_rules() -> None:
    document = {
        "groups": [
            {
                "name": "g",
                "rules": [
                    {"alert": "Down", "expr": "up == 0", "annotations": {"dashboard": "/d/x"}},
                    {"record": "r", "expr": 1, "labels": {"slo": "s"}},
                    {"alert": "NoExpr"},
                ],
            },
            "junk",
        ]
    }
    rules = read_rule_groups(document, "rules.yml")
    assert [(r.kind, r.name, r.expr, r.group) for r in rules] == [
        ("alert", "Down", "up == 0", "g"),
        ("record", "r", "1", "g"),
    ]
    assert rules[0].annotations == {"dashboard": "/d/x"} and rules[1].labels == {"slo": "s"}


def test_each_rendered_file_is_parsed_once(
    rendered: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    loads = json.loads

    def counting(text: str) -> Any:
        parsed.append(text)
        return loads(text)

    monkeypatch.setattr(artifacts.json, "loads", counting)
    found = read_artifacts(rendered)
    dashboards = [p for p in rendered if artifacts.is_dashboard_path(p)]
    assert [d.path for d in found.dashboards] == sorted(dashboards)
    assert len(parsed) == len(dashboards)
    assert {r.path for r in found.rules} == {p for p in rendered if artifacts.is_rule_path(p)}
