"""The local profile renders the same rules, with every address on 127.0.0.1, and the
real promtool and amtool accept it; the expression collection and signal extraction
used by `stackgen verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from stackgen.cli import main
from stackgen.conventions import (
    ALERTMANAGER_CONFIG_PATH,
    JAEGER_CONFIG_PATH,
    OTEL_COLLECTOR_CONFIG_PATH,
    PROMETHEUS_CONFIG_PATH,
)
from stackgen.output import write_tree
from stackgen.render.local_profile import (
    LocalProfile,
    ProfileError,
    TracePorts,
    localize,
    render_local,
)
from stackgen.spec import Stack
from stackgen.spec.alerting import SlackSettings
from stackgen.verify.expressions import collect_expressions, signal_of
from tests.conftest import run_tool, tool_path

PORTS = {"agent-api": 28000, "prometheus": 29090, "alertmanager": 29093}
PROFILE = LocalProfile(ports=PORTS, webhook_url="http://127.0.0.1:25001")
COLLECTOR_PORTS = {"otel-collector": 28888, "otel-collector-exporter": 28889}
TRACES = TracePorts(
    otlp_grpc=24317,
    otlp_http=24318,
    collector_health=24133,
    jaeger_otlp_grpc=24417,
    jaeger_query_http=26686,
    jaeger_query_grpc=26685,
    jaeger_health=24134,
)
WITH_TRACES = LocalProfile(
    ports={**PORTS, **COLLECTOR_PORTS}, webhook_url="http://127.0.0.1:25001", traces=TRACES
)


def _targets(prometheus_yml: str) -> dict[str, list[str]]:
    config = yaml.safe_load(prometheus_yml)
    return {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }


def test_rules_are_exactly_the_production_rules(stack: Stack, rendered: dict[str, str]) -> None:
    local = render_local(stack, PROFILE)
    rules = sorted(p for p in local if p.startswith("prometheus/rules/"))
    assert rules == sorted(p for p in rendered if p.startswith("prometheus/rules/"))
    assert all(local[p] == rendered[p] for p in rules)
    assert set(local) == {*rules, PROMETHEUS_CONFIG_PATH, ALERTMANAGER_CONFIG_PATH}


def test_every_address_is_local(stack: Stack, rendered: dict[str, str]) -> None:
    local = render_local(stack, PROFILE)
    assert _targets(local[PROMETHEUS_CONFIG_PATH]) == {
        "agent-api": ["127.0.0.1:28000"],
        "prometheus": ["127.0.0.1:29090"],
        "alertmanager": ["127.0.0.1:29093"],
    }
    config = yaml.safe_load(local[PROMETHEUS_CONFIG_PATH])
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:29093"
    ]
    # The scrape intervals are the production ones (the rules' windows depend on them).
    production = yaml.safe_load(rendered[PROMETHEUS_CONFIG_PATH])
    assert config["global"] == production["global"]
    receivers = yaml.safe_load(local[ALERTMANAGER_CONFIG_PATH])["receivers"]
    assert {r["name"]: r["webhook_configs"][0]["url"] for r in receivers} == {
        "pager": "http://127.0.0.1:25001/alerts/critical",
        "tickets": "http://127.0.0.1:25001/alerts/warning",
    }


def test_receivers_also_deliver_to_the_local_agent_with_the_token_file(stack: Stack) -> None:
    """The verify timing webhook and the agent service's real endpoint, on its local
    port, authenticated with the token file of the run's own secrets directory."""
    profile = LocalProfile(ports=PORTS, webhook_url=PROFILE.webhook_url, secrets_dir="/tmp/run")
    receivers = yaml.safe_load(render_local(stack, profile)[ALERTMANAGER_CONFIG_PATH])["receivers"]
    auth = {"type": "Bearer", "credentials_file": "/tmp/run/alert_webhook_token"}
    assert {r["name"]: r["webhook_configs"] for r in receivers} == {
        name: [
            {"url": f"http://127.0.0.1:25001/alerts/{path}", "send_resolved": True},
            {
                "url": f"http://127.0.0.1:28000/alerts/{path}",
                "send_resolved": True,
                "http_config": {"authorization": auth},
            },
        ]
        for name, path in (("pager", "critical"), ("tickets", "warning"))
    }
    # Without a port for the agent, only the timing webhook is left.
    ports = {"prometheus": 29090, "alertmanager": 29093}
    alone = render_local(stack, LocalProfile(ports=ports, webhook_url=PROFILE.webhook_url))
    hooks = [
        r["webhook_configs"] for r in yaml.safe_load(alone[ALERTMANAGER_CONFIG_PATH])["receivers"]
    ]
    assert [len(h) for h in hooks] == [1, 1] and "http_config" not in str(hooks)


def test_services_that_do_not_run_here_are_omitted_with_a_reason(stack: Stack) -> None:
    omitted = localize(stack, PROFILE).omitted
    assert set(omitted) == {
        "llm-server",
        "embeddings",
        "llm-host",
        "llm-gpu",
        "otel-collector",
        "otel-collector-exporter",
    }
    assert "external" in omitted["llm-server"]
    assert "no local port given" in omitted["llm-host"]
    assert "not on this machine" in omitted["llm-server"]


def _endpoints(node: object) -> list[str]:
    """Every listen address of a collector-format config (``endpoint``, host:port)."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k == "endpoint"]
        if "host" in node and "port" in node:
            found.append(f"{node['host']}:{node['port']}")
        return found + [e for v in node.values() for e in _endpoints(v)]
    if isinstance(node, list):
        return [e for item in node for e in _endpoints(item)]
    return []


def test_the_collector_and_jaeger_run_locally_on_loopback(stack: Stack) -> None:
    local = render_local(stack, WITH_TRACES)
    assert {OTEL_COLLECTOR_CONFIG_PATH, JAEGER_CONFIG_PATH} <= set(local)
    assert "otel-collector" not in localize(stack, WITH_TRACES).omitted
    collector = yaml.safe_load(local[OTEL_COLLECTOR_CONFIG_PATH])
    jaeger = yaml.safe_load(local[JAEGER_CONFIG_PATH])
    # Listeners, and where the collector sends traces: all on 127.0.0.1.
    assert sorted(_endpoints(collector)) == sorted(
        [
            "127.0.0.1:24133",  # health_check
            "127.0.0.1:24317",  # OTLP gRPC
            "127.0.0.1:24318",  # OTLP HTTP
            "127.0.0.1:24417",  # traces to the local Jaeger
            "127.0.0.1:28889",  # prometheus exporter
            "127.0.0.1:28888",  # own telemetry
        ]
    )
    assert sorted(_endpoints(jaeger)) == [
        "127.0.0.1:24134",
        "127.0.0.1:24417",
        "127.0.0.1:26685",
        "127.0.0.1:26686",
    ]
    assert _targets(local[PROMETHEUS_CONFIG_PATH])["otel-collector-exporter"] == ["127.0.0.1:28889"]


def test_the_real_collector_and_jaeger_accept_the_local_profile(
    stack: Stack, tmp_path: Path
) -> None:
    write_tree(tmp_path, render_local(stack, WITH_TRACES))
    for tool, path in (("otelcol", OTEL_COLLECTOR_CONFIG_PATH), ("jaeger", JAEGER_CONFIG_PATH)):
        result = run_tool(tool_path(tool), "validate", f"--config={tmp_path / path}")
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_collectors_ports_come_together(stack: Stack) -> None:
    half = LocalProfile(ports={**PORTS, "otel-collector": 28888})
    with pytest.raises(ProfileError, match=r"no port for \['otel-collector-exporter'\]"):
        localize(stack, half)
    clash = LocalProfile(ports={**PORTS, **COLLECTOR_PORTS}, traces=TracePorts(otlp_grpc=28000))
    with pytest.raises(ProfileError, match=r"profile.traces.otlp_grpc and .*agent-api"):
        localize(stack, clash)


def test_slack_and_email_are_dropped(stack: Stack) -> None:
    assert stack.alerting is not None
    receivers = tuple(
        r.model_copy(update={"slack": SlackSettings(channel="#alerts")})
        for r in stack.alerting.receivers
    )
    with_slack = stack.model_copy(
        update={"alerting": stack.alerting.model_copy(update={"receivers": receivers})}
    )
    assert "slack_configs" in _render_alertmanager(with_slack, local=False)
    assert "slack_configs" not in _render_alertmanager(with_slack, local=True)


def _render_alertmanager(stack: Stack, *, local: bool) -> str:
    from stackgen.render import render_all

    files = render_local(stack, PROFILE) if local else render_all(stack)
    return files[ALERTMANAGER_CONFIG_PATH]


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (LocalProfile(ports={**PORTS, "nginx": 1}), "profile.ports: ['nginx'] are not services"),
        (LocalProfile(ports={**PORTS, "agent-api": 70000}), "profile.ports[agent-api]: 70000"),
        (
            LocalProfile(ports={"agent-api": 1, "prometheus": 2}),
            "no port for 'alertmanager'",
        ),
        (LocalProfile(ports=PORTS, webhook_url="ftp://x"), "profile.webhook_url"),
        (LocalProfile(ports=PORTS, secrets_dir="run/secrets"), "profile.secrets_dir"),
    ],
    ids=["unknown-service", "bad-port", "no-alertmanager", "bad-webhook", "relative-secrets"],
)
def test_bad_profiles_name_the_problem(stack: Stack, profile: LocalProfile, message: str) -> None:
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        localize(stack, profile)


def test_promtool_and_amtool_accept_the_local_profile(
    stack: Stack, promtool: str, amtool: str, tmp_path: Path
) -> None:
    write_tree(tmp_path, render_local(stack, PROFILE))
    result = run_tool(promtool, "check", "config", str(tmp_path / PROMETHEUS_CONFIG_PATH))
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_tool(amtool, "check-config", str(tmp_path / ALERTMANAGER_CONFIG_PATH))
    assert result.returncode == 0, result.stdout + result.stderr


def test_generate_profile_local_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "local"
    code = main(
        ["generate", "--profile", "local", "--out", str(out), "--port", "agent-api=18123",
         "--webhook-url", "http://127.0.0.1:15999", "--secrets-dir", str(tmp_path / "s")]
    )  # fmt: skip
    assert code == 0
    assert "127.0.0.1:18123" in (out / PROMETHEUS_CONFIG_PATH).read_text()
    alertmanager = (out / ALERTMANAGER_CONFIG_PATH).read_text()
    assert "http://127.0.0.1:15999/alerts/critical" in alertmanager
    assert "http://127.0.0.1:18123/alerts/critical" in alertmanager
    assert f"credentials_file: {tmp_path / 's'}/alert_webhook_token" in alertmanager
    assert "not scraped in the local profile: llm-server" in capsys.readouterr().err
    # Never over generated/ by accident, never a drift check, ports must be numbers.
    assert main(["generate", "--profile", "local"]) == 2
    assert main(["generate", "--profile", "local", "--out", str(out), "--check"]) == 2
    assert main(["generate", "--profile", "local", "--out", str(out), "--port", "x=y"]) == 2
    assert main(["generate", "--profile", "local", "--out", str(out), "--port", "nginx=80"]) == 2


def test_verify_rejects_unknown_scenarios() -> None:
    assert main(["verify", "--scenarios", "meteor-strike"]) == 2


@pytest.mark.parametrize(
    ("expr", "signal"),
    [
        ("up == 0", "up"),
        ("sum(rate(a_total[1m])) / sum(rate(b_total[1m])) > 0.05",
         "sum(rate(a_total[1m])) / sum(rate(b_total[1m]))"),
        ("(x > 0.72) and (y > 0.72)", "x"),
        ("a / b < 0.7 and sum(c) >= 10", "a / b"),
        ("up == bool 0", "up == bool 0"),  # a 0/1 value, never empty
        ("sum(active_sessions)", "sum(active_sessions)"),
    ],
)  # fmt: skip
def test_signal_of_an_alert_drops_only_threshold_filters(expr: str, signal: str) -> None:
    assert signal_of(expr) == signal


BY_AGENT = 'sum by (agent_type) (rate(agent_requests_total{agent_type=~"$agent"}[5m]))'


def test_new_dashboards_are_collected_without_code_changes(
    stack: Stack, rendered: dict[str, str]
) -> None:
    dashboard = {
        "title": "new",
        "panels": [
            {"type": "row", "panels": [
                {"title": "Turns", "targets": [
                    {"refId": "A", "expr": "sum(rate(agent_requests_total[$__rate_interval]))"},
                    {"refId": "B", "expr": BY_AGENT},
                ]},
                {"title": "Audit", "datasource": {"type": "postgres", "uid": "audit-postgres"},
                 "targets": [{"refId": "A", "rawSql": "SELECT 1"}]},
                {"title": "Traces", "datasource": {"type": "jaeger"},
                 "targets": [{"refId": "A", "expr": "not promql"}]},
            ]},
        ],
    }  # fmt: skip
    files = {**rendered, "grafana/dashboards/new.json": json.dumps(dashboard)}
    new = [e for e in collect_expressions(stack, files) if e.source.startswith("new.json")]
    assert [(e.source, e.expr) for e in new] == [
        ("new.json / Turns / A", "sum(rate(agent_requests_total[60s]))"),
        (
            "new.json / Turns / B",
            'sum by (agent_type) (rate(agent_requests_total{agent_type=~".*"}[5m]))',
        ),
    ]


def test_every_rule_and_panel_is_collected(stack: Stack, rendered: dict[str, str]) -> None:
    expressions = collect_expressions(stack, rendered)
    rules = [
        rule
        for path, text in rendered.items()
        if path.startswith("prometheus/rules/")
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
    ]
    assert len([e for e in expressions if e.kind != "panel"]) == len(rules)
    # Sources name one expression each (panel titles repeat per SLO row; ids do not).
    assert len({e.source for e in expressions}) == len(expressions)
    # Every rendered dashboard with a Prometheus panel is read (the conversation audit
    # is SQL only: PostgreSQL, not Prometheus, answers it).
    dashboards = {
        p.removeprefix("grafana/dashboards/")
        for p, text in rendered.items()
        if p.endswith(".json") and '"type": "prometheus"' in text
    }
    assert "system-health.json" in dashboards and "conversation-audit.json" not in dashboards
    assert {e.source.split(" / ")[0] for e in expressions if e.kind == "panel"} == dashboards
