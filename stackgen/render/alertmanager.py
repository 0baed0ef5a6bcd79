"""generated/alertmanager/alertmanager.yml: routing by severity, grouping, inhibition."""

from __future__ import annotations

from typing import Any

from stackgen.conventions import ALERTMANAGER_CONFIG_PATH
from stackgen.output import dump_yaml
from stackgen.spec import Severity, Stack
from stackgen.spec.alerting import AlertRouting, Inhibition, Receiver, Webhook

__all__ = ["render"]


def _webhook(hook: Webhook, secrets_dir: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": hook.url, "send_resolved": True}
    if hook.bearer_token_secret:
        # A file, never the token: Alertmanager reads it at each notification.
        entry["http_config"] = {
            "authorization": {
                "type": "Bearer",
                "credentials_file": f"{secrets_dir}/{hook.bearer_token_secret}",
            }
        }
    return entry


def _receiver(receiver: Receiver, secrets_dir: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": receiver.name}
    if receiver.webhook_url:
        entry["webhook_configs"] = [_webhook(hook, secrets_dir) for hook in receiver.webhooks()]
    if receiver.slack:
        entry["slack_configs"] = [
            {
                "api_url_file": f"{secrets_dir}/{receiver.slack.webhook_url_secret}",
                "channel": receiver.slack.channel,
                "send_resolved": True,
                "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
            }
        ]
    if receiver.email:
        entry["email_configs"] = [{"to": receiver.email.to, "send_resolved": True}]
    return entry


def _global(routing: AlertRouting) -> dict[str, Any]:
    email = next((r.email for r in routing.receivers if r.email), None)
    settings: dict[str, Any] = {"resolve_timeout": "5m"}
    if email:
        settings.update(
            {
                "smtp_from": email.sender,
                "smtp_smarthost": email.smarthost,
                "smtp_auth_username": email.username,
                "smtp_auth_password_file": f"{routing.secrets_dir}/{email.password_secret}",
                "smtp_require_tls": True,
            }
        )
    return settings


def _routes(routing: AlertRouting) -> list[dict[str, Any]]:
    routes = []
    for severity in Severity:
        receiver = routing.by_severity.get(severity)
        if receiver is None:
            continue
        route: dict[str, Any] = {
            "receiver": receiver,
            "matchers": [f'severity="{severity}"'],
        }
        if severity is Severity.CRITICAL:
            route["group_wait"] = routing.critical_group_wait
            route["repeat_interval"] = routing.critical_repeat_interval
        routes.append(route)
    return routes


def _inhibit(rule: Inhibition) -> dict[str, Any]:
    # The equal labels must be present: Alertmanager treats two missing labels as equal,
    # so without this an SLO page (no component) would silence every component-less
    # warning.
    present = [f'{label}=~".+"' for label in rule.equal]
    return {
        "source_matchers": [f'severity="{rule.source}"', *present],
        "target_matchers": [f'severity="{rule.target}"', *present],
        "equal": list(rule.equal),
    }


def render(stack: Stack) -> dict[str, str]:
    routing = stack.alerting
    if routing is None:
        return {}
    config = {
        "global": _global(routing),
        "route": {
            "receiver": routing.default_receiver,
            "group_by": list(routing.group_by),
            "group_wait": routing.group_wait,
            "group_interval": routing.group_interval,
            "repeat_interval": routing.repeat_interval,
            "routes": _routes(routing),
        },
        "inhibit_rules": [_inhibit(rule) for rule in routing.inhibitions],
        "receivers": [_receiver(r, routing.secrets_dir) for r in routing.receivers],
    }
    comment = (
        f"Alertmanager configuration of the {stack.name} stack.\n"
        f"Secrets are read from files in {routing.secrets_dir} (never inline)."
    )
    return {ALERTMANAGER_CONFIG_PATH: dump_yaml(config, comment=comment)}
