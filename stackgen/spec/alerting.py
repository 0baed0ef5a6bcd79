"""Alertmanager: receivers, routing by severity, grouping and inhibition.

Secrets never appear in the spec or the generated file: Alertmanager reads the Slack
webhook URL and the SMTP password from files (``*_file`` fields) mounted from the
environment's secrets directory.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, model_validator

from stackgen.spec.base import Duration, SpecModel
from stackgen.spec.rules import Severity

__all__ = ["AlertRouting", "EmailSettings", "Inhibition", "Receiver", "SlackSettings"]

RECEIVER_NAME = r"^[a-z][a-z0-9-]*$"
# Where compose mounts the secret files Alertmanager reads.
SECRETS_DIR = "/etc/alertmanager/secrets"
# URLs whose path is itself a credential.
_SECRET_URL = re.compile(r"hooks\.slack\.com/services/|[?&](token|key|secret)=|//[^/@]+:[^/@]+@")


class SlackSettings(SpecModel):
    spec_key = "channel"

    channel: str = Field(pattern=r"^#[a-z0-9_-]+$")
    # The file holding the webhook URL, relative to SECRETS_DIR.
    webhook_url_secret: str = Field(default="slack_webhook_url", pattern=r"^[a-z0-9_]+$")


class EmailSettings(SpecModel):
    spec_key = "to"

    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:\d+$")
    username: str = Field(min_length=1)
    password_secret: str = Field(default="smtp_password", pattern=r"^[a-z0-9_]+$")


class Receiver(SpecModel):
    name: str = Field(pattern=RECEIVER_NAME)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://")
    slack: SlackSettings | None = None
    email: EmailSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not (self.webhook_url or self.slack or self.email):
            raise ValueError("a receiver needs a webhook_url, slack or email")
        if self.webhook_url and _SECRET_URL.search(self.webhook_url):
            raise ValueError(
                "webhook_url carries a credential: keep secrets out of the spec "
                "(use slack= with a secret file)"
            )
        return self


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
    # Critical alerts are sent after a short wait: detection must stay under 2 minutes.
    critical_group_wait: Duration = "10s"
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    critical_repeat_interval: Duration = "1h"
    repeat_interval: Duration = "4h"
    inhibitions: tuple[Inhibition, ...] = ()

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
