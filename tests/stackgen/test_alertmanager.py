"""The generated Alertmanager configuration, checked and routed by the real amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from stackgen.conventions import SLO_BURN_TIERS
from stackgen.output import write_tree
from stackgen.render import alertmanager
from stackgen.spec import Severity, SpecError, Stack
from stackgen.spec.alerting import AlertRouting, EmailSettings, Receiver, SlackSettings, Webhook
from tests.conftest import GENERATED, run_tool

CONFIG_PATH = "alertmanager/alertmanager.yml"
CONFIG = GENERATED / CONFIG_PATH


def _amtool(amtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_tool(amtool, *args)


def test_amtool_accepts_the_generated_config(amtool: str) -> None:
    result = _amtool(amtool, "check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "component=llm", "alertname=CriticalLatency"], "pager"),
        (["severity=warning", "component=ux", "alertname=LowUserSatisfaction"], "tickets"),
        (["severity=critical", "slo=ttft-under-2s", "alertname=SLOBurnRatePage1h"], "pager"),
        (["severity=warning", "slo=tool-success", "alertname=SLOBurnRateTicket1d"], "tickets"),
        (["severity=info", "alertname=Whatever"], "tickets"),
    ],
)
def test_alerts_route_by_severity(amtool: str, labels: list[str], receiver: str) -> None:
    result = _amtool(amtool, "config", "routes", "test", f"--config.file={CONFIG}", *labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver


def test_email_and_slack_read_their_secrets_from_files(
    amtool: str, stack: Stack, tmp_path: Path
) -> None:
    assert stack.alerting is not None
    loud = Receiver(
        name="pager",
        webhook_url="http://alert-relay:5001/alerts/critical",
        slack=SlackSettings(channel="#bestbox-alerts"),
        email=EmailSettings(
            to="ops@example.org",
            sender="bestbox@example.org",
            smarthost="smtp.example.org:587",
            username="bestbox",
        ),
    )
    receivers = (loud, *stack.alerting.receivers[1:])
    routing = stack.alerting.model_copy(update={"receivers": receivers})
    files = alertmanager.render(stack.model_copy(update={"alerting": routing}))
    write_tree(tmp_path, files)
    config = tmp_path / "alertmanager/alertmanager.yml"
    result = _amtool(amtool, "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text()
    assert "api_url_file: /etc/alertmanager/secrets/slack_webhook_url" in text
    assert "smtp_auth_password_file: /etc/alertmanager/secrets/smtp_password" in text
    assert "hooks.slack.com" not in text and "password:" not in text


def test_every_receiver_posts_to_the_agent_with_a_token_file(stack: Stack) -> None:
    """The agent service's webhook, authenticated by a bearer token Alertmanager reads
    from its secrets directory; the token itself is nowhere in the file."""
    config = yaml.safe_load(CONFIG.read_text())
    hooks = {r["name"]: r["webhook_configs"] for r in config["receivers"]}
    auth = {"type": "Bearer", "credentials_file": "/etc/alertmanager/secrets/alert_webhook_token"}
    assert hooks == {
        "pager": [
            {
                "url": "http://agent-api:8000/alerts/critical",
                "send_resolved": True,
                "http_config": {"authorization": auth},
            }
        ],
        "tickets": [
            {
                "url": "http://agent-api:8000/alerts/warning",
                "send_resolved": True,
                "http_config": {"authorization": auth},
            }
        ],
    }


def test_extra_webhooks_follow_the_main_one_each_with_its_own_token(stack: Stack) -> None:
    receiver = Receiver(
        name="pager",
        webhook_url="http://agent-api:8000/alerts/critical",
        bearer_token_secret="alert_webhook_token",
        extra_webhooks=(Webhook(url="http://127.0.0.1:15001/alerts/critical"),),
    )
    routing = AlertRouting(receivers=(receiver,), default_receiver="pager", secrets_dir="/run/x")
    files = alertmanager.render(stack.model_copy(update={"alerting": routing}))
    (entry,) = yaml.safe_load(files[CONFIG_PATH])["receivers"]
    main, extra = entry["webhook_configs"]
    assert main["http_config"]["authorization"]["credentials_file"] == "/run/x/alert_webhook_token"
    assert extra == {"url": "http://127.0.0.1:15001/alerts/critical", "send_resolved": True}


def test_a_critical_inhibits_the_matching_warning() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    rules = {tuple(rule["equal"]): rule for rule in config["inhibit_rules"]}
    assert set(rules) == {("component",), ("slo",)}
    for (label,), rule in rules.items():
        # The equal label must be present on both sides: two missing labels are equal.
        assert rule["source_matchers"] == ['severity="critical"', f'{label}=~".+"']
        assert rule["target_matchers"] == ['severity="warning"', f'{label}=~".+"']


def test_every_alert_severity_has_a_route(stack: Stack, rendered: dict[str, str]) -> None:
    assert stack.alerting is not None
    severities = {alert.severity for alert in stack.alerts}
    if stack.slos:  # the burn-rate alerts carry the tiers' severities
        severities |= {Severity(tier[4]) for tier in SLO_BURN_TIERS}
    assert severities <= set(stack.alerting.by_severity)
    routes = yaml.safe_load(rendered["alertmanager/alertmanager.yml"])["route"]["routes"]
    critical = next(r for r in routes if r["matchers"] == ['severity="critical"'])
    assert critical["group_wait"] == stack.alerting.critical_group_wait == "5s"


def test_no_secret_in_the_generated_config() -> None:
    text = CONFIG.read_text()
    for marker in ("hooks.slack.com", "api_url:", "smtp_auth_password:", "credentials:"):
        assert marker not in text


_EMAIL = EmailSettings(
    to="ops@example.org",
    sender="bestbox@example.org",
    smarthost="smtp.example.org:587",
    username="bestbox",
)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: AlertRouting(
                receivers=(Receiver(name="pager", webhook_url="http://relay/x"),),
                default_receiver="nobody",
            ),
            "default_receiver: no receiver named 'nobody'",
        ),
        (
            lambda: Receiver(
                name="slack", webhook_url="https://hooks.slack.com/services/T000/B000/XXXX"
            ),
            "webhook_url carries a credential",
        ),
        (lambda: Receiver(name="empty"), "needs a webhook_url, slack or email"),
        (lambda: SlackSettings(channel="alerts"), "SlackSettings[alerts].channel"),
        (
            lambda: AlertRouting(
                receivers=(Receiver(name="pager", webhook_url="http://relay/x"),),
                default_receiver="pager",
                by_severity={Severity.CRITICAL: "pagr"},
            ),
            "by_severity[critical]: no receiver named 'pagr'",
        ),
        (
            lambda: AlertRouting(
                receivers=(
                    Receiver(name="pager", webhook_url="http://relay/x"),
                    Receiver(name="pager", webhook_url="http://relay/y"),
                ),
                default_receiver="pager",
            ),
            "receivers: duplicate names",
        ),
        (
            lambda: AlertRouting(
                receivers=(Receiver(name="pager", webhook_url="http://relay/x"),),
                default_receiver="pager",
                critical_group_wait="10 seconds",
            ),
            "critical_group_wait: '10 seconds' is not a Prometheus duration",
        ),
        (
            lambda: Receiver(name="relay", webhook_url="http://relay/x?token=abc"),
            "webhook_url carries a credential",
        ),
        (
            lambda: Receiver(name="relay", webhook_url="http://user:pass@relay/x"),
            "webhook_url carries a credential",
        ),
        (
            lambda: Receiver(name="mail", email=_EMAIL, bearer_token_secret="alert_webhook_token"),
            "bearer_token_secret and extra_webhooks need a webhook_url",
        ),
        (
            lambda: Receiver(
                name="relay", webhook_url="http://relay/x", bearer_token_secret="../token"
            ),
            "bearer_token_secret: String should match pattern",
        ),
        (
            lambda: EmailSettings(
                to="ops@example.org",
                sender="bestbox@example.org",
                smarthost="smtp.example.org:587",
                username="bestbox",
                password="hunter2",
            ),
            "password: Extra inputs are not permitted",
        ),
    ],
    ids=[
        "unknown-receiver",
        "inline-slack-url",
        "receiver-without-target",
        "bad-channel",
        "unknown-severity-receiver",
        "duplicate-receiver",
        "bad-duration",
        "token-in-url",
        "userinfo-in-url",
        "token-without-webhook",
        "token-file-outside-the-secrets-dir",
        "inline-smtp-password",
    ],
)
def test_invalid_routing_is_rejected(build: object, message: str) -> None:
    with pytest.raises(SpecError) as error:
        build()  # type: ignore[operator]
    assert message in str(error.value)
