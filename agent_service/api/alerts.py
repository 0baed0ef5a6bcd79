"""``POST /alerts/{channel}``: Alertmanager's webhook. Every alert of a notification is
recorded in the audit database (the /admin Alerts tab) and the notification counted.

Authenticated by a bearer token (ALERT_WEBHOOK_TOKEN, which `stackgen secrets` also
writes as Alertmanager's secret file), compared in constant time; without a configured
token every call is refused (503), so the endpoint is never open. The write goes to the
database directly, not through the chat audit spool: when it fails the answer is a 503,
and Alertmanager retries the notification (it retries 5xx, not 4xx)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from agent_service.api.alertmanager import AlertmanagerNotification
from agent_service.dependencies import MetricsDep, SettingsDep, StoreDep
from agent_service.store.base import StoreUnavailable
from stackgen.spec import Severity

__all__ = ["MAX_BODY_BYTES", "router"]

log = logging.getLogger(__name__)

# A notification of MAX_ALERTS alerts with their labels fits well within this.
MAX_BODY_BYTES = 1024 * 1024


def _digest(value: str) -> bytes:
    # Comparing digests keeps the comparison's time independent of the token's length.
    return hashlib.sha256(value.encode()).digest()


def _refused(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


router = APIRouter()


async def authorized(
    settings: SettingsDep, authorization: str | None = Header(default=None)
) -> None:
    token = settings.alert_webhook_token
    if not token:
        raise HTTPException(503, "the alert webhook is disabled: ALERT_WEBHOOK_TOKEN is not set")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        _digest(given.strip()), _digest(token)
    ):
        raise HTTPException(
            401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


# The body is read by hand (bounded before parsing); the schema documents it.
BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": AlertmanagerNotification.model_json_schema(by_alias=True)
            }
        },
    }
}


# The service's body limit, lowered for this route: 413 before a larger body is read.
@router.post(
    "/alerts/{channel}",
    dependencies=[Depends(authorized)],
    openapi_extra=BODY_SCHEMA,
    max_body_size=MAX_BODY_BYTES,
)
async def alert_notification(
    channel: Severity, request: Request, store: StoreDep, metrics: MetricsDep
) -> JSONResponse:
    """``channel``: the severity the route sends (critical, warning), as the
    receiver's URL says; the receiver itself comes from the payload."""
    body = await request.body()
    try:
        notification = AlertmanagerNotification.model_validate_json(body)
    except ValidationError as error:
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors()[:10]
        )
        return _refused(422, "invalid_notification", summary)
    records = notification.records(datetime.now(UTC))
    try:
        await store.record_alerts(records)
    except StoreUnavailable as error:
        log.error("alert notification from %s not recorded: %s", notification.receiver, error)
        return _refused(503, "audit_store_unavailable", str(error))
    metrics.alert_notification(notification.receiver, notification.status)
    return JSONResponse({"status": "recorded", "alerts": len(records)})
