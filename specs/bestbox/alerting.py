"""Where BestBox alerts go: critical pages, warnings become tickets; a firing critical
silences the matching warning (same component, or same SLO).

Email and Slack are off by default. To enable Slack, add
``slack=SlackSettings(channel="#bestbox-alerts")`` to a receiver and put the webhook
URL in the secret file ``slack_webhook_url``; for email, ``email=EmailSettings(...)``
and the SMTP password in ``smtp_password``. Secrets never go in this file.
"""

from __future__ import annotations

from stackgen.spec import Severity
from stackgen.spec.alerting import AlertRouting, Inhibition, Receiver

# The operator's alert relay (a webhook receiver on the Docker network).
RELAY = "http://alert-relay:5001"

ALERTING = AlertRouting(
    receivers=(
        Receiver(name="pager", webhook_url=f"{RELAY}/alerts/critical"),
        Receiver(name="tickets", webhook_url=f"{RELAY}/alerts/warning"),
    ),
    default_receiver="tickets",
    by_severity={Severity.CRITICAL: "pager", Severity.WARNING: "tickets"},
    group_by=("alertname", "severity", "component", "slo"),
    inhibitions=(
        Inhibition(equal=("component",)),
        Inhibition(equal=("slo",)),
    ),
)
