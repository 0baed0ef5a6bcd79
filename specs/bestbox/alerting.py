"""Where BestBox alerts go: critical pages, warnings become tickets; a firing critical
silences the matching warning (same component, or same SLO).

Every alert goes to the agent service's webhook (agent_service/api/alerts.py), which
records it in the audit database (the /admin Alerts tab); Alertmanager authenticates
with a bearer token read from the secret file ``alert_webhook_token``, which `stackgen
secrets` writes together with the agent's ``ALERT_WEBHOOK_TOKEN``.

Email and Slack are off by default. To enable Slack, add
``slack=SlackSettings(channel="#bestbox-alerts")`` to a receiver and put the webhook
URL in the secret file ``slack_webhook_url``; for email, ``email=EmailSettings(...)``
and the SMTP password in ``smtp_password``. Secrets never go in this file.
"""

from __future__ import annotations

from specs.bestbox.services import agent_api
from stackgen.spec import Severity
from stackgen.spec.alerting import AlertRouting, Inhibition, Receiver

# The agent service on the compose network; the path names the severity channel.
AGENT_WEBHOOK = f"http://{agent_api.address}/alerts"
# Under /etc/alertmanager/secrets; the agent reads the same token as ALERT_WEBHOOK_TOKEN.
WEBHOOK_TOKEN_SECRET = "alert_webhook_token"

ALERTING = AlertRouting(
    receivers=(
        Receiver(
            name="pager",
            webhook_url=f"{AGENT_WEBHOOK}/critical",
            bearer_token_secret=WEBHOOK_TOKEN_SECRET,
        ),
        Receiver(
            name="tickets",
            webhook_url=f"{AGENT_WEBHOOK}/warning",
            bearer_token_secret=WEBHOOK_TOKEN_SECRET,
        ),
    ),
    default_receiver="tickets",
    by_severity={Severity.CRITICAL: "pager", Severity.WARNING: "tickets"},
    group_by=("alertname", "severity", "component", "slo"),
    # A page waits 5 s for others of its group (default 10 s): inside the one-minute
    # detection budget; anything later in the group follows at group_interval.
    critical_group_wait="5s",
    inhibitions=(
        Inhibition(equal=("component",)),
        Inhibition(equal=("slo",)),
    ),
)
