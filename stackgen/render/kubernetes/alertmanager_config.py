"""The AlertmanagerConfig resource: the same routes, receivers and inhibitions as
generated/alertmanager/alertmanager.yml, in the CRD's camelCase and its shapes.

Where the two differ, by the CRD's design:
- matchers are objects (``{name, value, matchType}``), not strings;
- secrets are keys of a Secret (``{name, key}``), not files: the Secret
  ``<stack>-alertmanager`` holds one key per secret file of the spec, named like the file;
- the ``global`` section (resolve timeout) belongs to the Alertmanager resource
  (``alertmanagerConfiguration.global``), and SMTP settings are given on each email
  receiver (the CRD's receivers carry them; its global ``smtp`` spells ``smartHost``);
- child routes are free-form to the API server (``x-kubernetes-preserve-unknown-fields``):
  nothing validates them on apply, so the tests validate them against the route schema.
"""

from __future__ import annotations

from typing import Any

from stackgen.render.kubernetes.objects import KubeObject, kube_object, metadata
from stackgen.spec import Severity, Stack
from stackgen.spec.alerting import AlertRouting, Inhibition, Receiver, Webhook
from stackgen.spec.scale_out import KubernetesTarget

__all__ = ["alertmanager_config", "alertmanager_secret_name", "global_settings"]

# Alertmanager's own default, written out as alertmanager.yml does.
RESOLVE_TIMEOUT = "5m"


def alertmanager_secret_name(stack: Stack) -> str:
    return f"{stack.name}-alertmanager"


def _matcher(name: str, value: str, match_type: str = "=") -> dict[str, str]:
    return {"name": name, "value": value, "matchType": match_type}


def _secret(stack: Stack, key: str) -> dict[str, str]:
    return {"name": alertmanager_secret_name(stack), "key": key}


def _webhook(stack: Stack, hook: Webhook) -> dict[str, Any]:
    entry: dict[str, Any] = {"url": hook.url, "sendResolved": True}
    if hook.bearer_token_secret:
        entry["httpConfig"] = {
            "authorization": {
                "type": "Bearer",
                "credentials": _secret(stack, hook.bearer_token_secret),
            }
        }
    return entry


def _receiver(stack: Stack, receiver: Receiver) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": receiver.name}
    if receiver.webhook_url:
        entry["webhookConfigs"] = [_webhook(stack, hook) for hook in receiver.webhooks()]
    if receiver.slack:
        entry["slackConfigs"] = [
            {
                "apiURL": _secret(stack, receiver.slack.webhook_url_secret),
                "channel": receiver.slack.channel,
                "sendResolved": True,
                "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}",
            }
        ]
    if receiver.email:
        email = receiver.email
        entry["emailConfigs"] = [
            {
                "to": email.to,
                "from": email.sender,
                "smarthost": email.smarthost,
                "authUsername": email.username,
                "authPassword": _secret(stack, email.password_secret),
                "requireTLS": True,
                "sendResolved": True,
            }
        ]
    return entry


def _routes(routing: AlertRouting) -> list[dict[str, Any]]:
    routes = []
    for severity in Severity:
        receiver = routing.by_severity.get(severity)
        if receiver is None:
            continue
        route: dict[str, Any] = {
            "receiver": receiver,
            "matchers": [_matcher("severity", str(severity))],
        }
        if severity is Severity.CRITICAL:
            route["groupWait"] = routing.critical_group_wait
            route["repeatInterval"] = routing.critical_repeat_interval
        routes.append(route)
    return routes


def _inhibit(rule: Inhibition) -> dict[str, Any]:
    # As in alertmanager.yml: the equal labels must be present, or two alerts both
    # lacking them would count as equal.
    present = [_matcher(label, ".+", "=~") for label in rule.equal]
    return {
        "sourceMatch": [_matcher("severity", str(rule.source)), *present],
        "targetMatch": [_matcher("severity", str(rule.target)), *present],
        "equal": list(rule.equal),
    }


def global_settings() -> dict[str, Any]:
    """What alertmanager.yml's ``global`` says that the Alertmanager resource takes."""
    return {"resolveTimeout": RESOLVE_TIMEOUT}


def alertmanager_config(stack: Stack, target: KubernetesTarget) -> KubeObject | None:
    routing = stack.alerting
    if routing is None:
        return None
    spec = {
        "route": {
            "receiver": routing.default_receiver,
            "groupBy": list(routing.group_by),
            "groupWait": routing.group_wait,
            "groupInterval": routing.group_interval,
            "repeatInterval": routing.repeat_interval,
            "routes": _routes(routing),
        },
        "inhibitRules": [_inhibit(rule) for rule in routing.inhibitions],
        "receivers": [_receiver(stack, r) for r in routing.receivers],
    }
    return kube_object(
        "monitoring.coreos.com/v1alpha1",
        "AlertmanagerConfig",
        metadata(target, stack.name),
        spec=spec,
    )
