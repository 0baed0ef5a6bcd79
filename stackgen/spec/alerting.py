"""Alertmanager: receivers, routing by severity, grouping and inhibition.

Secrets never appear in the spec or the generated file: Alertmanager reads the Slack
webhook URL, the SMTP password and webhook bearer tokens from files (``*_file`` fields)
mounted from the environment's secrets directory.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel
from stackgen.spec.rules import Severity

__all__ = [
    "SECRETS_DIR",
    "AlertRouting",
    "EmailSettings",
    "Inhibition",
    "Receiver",
    "SlackSettings",
    "Webhook",
    "token_variable",
]

RECEIVER_NAME = r"^[a-z][a-z0-9-]*$"
# Where compose mounts the secret files Alertmanager reads.
SECRETS_DIR = "/etc/alertmanager/secrets"
# URLs whose path is itself a credential.
_SECRET_URL = re.compile(r"hooks\.slack\.com/services/|[?&](token|key|secret)=|//[^/@]+:[^/@]+@")
SECRET_FILE = r"^[a-z0-9_]+$"


def token_variable(secret_file: str) -> str:
    """The env-file variable holding the same token as the secret file: `stackgen
    secrets` writes one random value to both, the receiving service reads the variable
    (``alert_webhook_token`` -> ``ALERT_WEBHOOK_TOKEN``)."""
    return secret_file.upper()


def _no_credential(url: str) -> None:
    if _SECRET_URL.search(url):
        raise ValueError(
            "webhook_url carries a credential: keep secrets out of the spec "
            "(bearer_token_secret, or slack= with a secret file)"
        )


class SlackSettings(SpecModel):
    spec_key = "channel"

    channel: str = Field(pattern=r"^#[a-z0-9_-]+$")
    # The file holding the webhook URL, relative to AlertRouting.secrets_dir.
    webhook_url_secret: str = Field(default="slack_webhook_url", pattern=SECRET_FILE)


class EmailSettings(SpecModel):
    spec_key = "to"

    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:\d+$")
    username: str = Field(min_length=1)
    password_secret: str = Field(default="smtp_password", pattern=SECRET_FILE)


class Webhook(SpecModel):
    """One more webhook a receiver notifies (the local profile adds the verify run's
    timing webhook beside the production one)."""

    spec_key = "url"

    url: str = Field(pattern=r"^https?://")
    bearer_token_secret: str | None = Field(default=None, pattern=SECRET_FILE)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _no_credential(self.url)
        return self


class Receiver(SpecModel):
    name: str = Field(pattern=RECEIVER_NAME)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    # The file (relative to AlertRouting.secrets_dir) holding the bearer token the
    # webhook is called with (`Authorization: Bearer`); `stackgen secrets` writes it and
    # the env-file variable token_variable(file) with the same random value.
    bearer_token_secret: str | None = Field(default=None, pattern=SECRET_FILE)
    extra_webhooks: tuple[Webhook, ...] = ()
    slack: SlackSettings | None = None
    email: EmailSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not (self.webhook_url or self.slack or self.email):
            raise ValueError("a receiver needs a webhook_url, slack or email")
        if self.webhook_url:
            _no_credential(self.webhook_url)
        elif self.bearer_token_secret or self.extra_webhooks:
            raise ValueError("bearer_token_secret and extra_webhooks need a webhook_url")
        return self

    def webhooks(self) -> tuple[Webhook, ...]:
        """Every webhook notified, the main one first."""
        if self.webhook_url is None:
            return ()
        main = Webhook(url=self.webhook_url, bearer_token_secret=self.bearer_token_secret)
        return (main, *self.extra_webhooks)


class Inhibition(SpecModel):
    """While an alert of ``source`` severity fires, silence ``target`` alerts that share
    the ``equal`` labels."""

    spec_key = "source"

    source: Severity = Severity.CRITICAL
    target: Severity = Severity.WARNING
    equal: tuple[str, ...] = Field(min_length=1)


class AlertRouting(SpecModel):
    spec_key = "default_receiver"

    receivers: tuple[Receiver, ...] = Field(min_length=1)
    default_receiver: str
    # Receiver per severity; severities not listed go to the default receiver.
    by_severity: dict[Severity, str] = Field(default_factory=dict)
    group_by: tuple[str, ...] = ("alertname", "severity")
    # Critical alerts are sent after a short wait: it is part of every page's detection
    # time (Stack.critical_detection_budget).
    critical_group_wait: Duration = "10s"
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    critical_repeat_interval: Duration = "1h"
    repeat_interval: Duration = "4h"
    inhibitions: tuple[Inhibition, ...] = ()
    # Where Alertmanager reads the secret files (the local profile points it at the run's
    # own directory).
    secrets_dir: str = Field(default=SECRETS_DIR, pattern=r"^/")

    @model_validator(mode="after")
    def _receivers_exist(self) -> Self:
        names = [r.name for r in self.receivers]
        problems = []
        if len(set(names)) != len(names):
            problems.append(f"receivers: duplicate names in {names}")
        for field, name in [("default_receiver", self.default_receiver)] + [
            (f"by_severity[{severity}]", name) for severity, name in self.by_severity.items()
        ]:
            if name not in names:
                problems.append(f"{field}: no receiver named {name!r} (receivers: {names})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def token_secrets(self) -> tuple[str, ...]:
        """The bearer-token files of every receiver's webhooks, sorted."""
        return tuple(
            sorted(
                {
                    hook.bearer_token_secret
                    for receiver in self.receivers
                    for hook in receiver.webhooks()
                    if hook.bearer_token_secret
                }
            )
        )
