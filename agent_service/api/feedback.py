"""``POST /feedback``: a thumbs up or down on an answer, counted once per change and
recorded in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agent_service.api.errors import error_response
from agent_service.api.schemas import FeedbackRequest
from agent_service.dependencies import MetricsDep, RecentDep, SettingsDep, StoreDep, WriterDep
from agent_service.domain import FeedbackRecord
from agent_service.store.base import StoreUnavailable

__all__ = ["router"]

router = APIRouter()


@router.post("/feedback")
async def feedback(
    body: FeedbackRequest,
    settings: SettingsDep,
    metrics: MetricsDep,
    recent: RecentDep,
    store: StoreDep,
    writer: WriterDep,
) -> JSONResponse:
    known = body.message_id in recent
    if not known:
        try:
            known = await store.message_exists(body.message_id)
        except StoreUnavailable as error:
            return error_response(503, "audit_store_unavailable", str(error))
    if not known:
        return error_response(404, "unknown_message", f"no message with id {body.message_id!r}")
    changed = recent.rating(body.message_id) != body.rating
    if changed:
        # Re-rating with the same value is idempotent: counted once.
        metrics.feedback(body.rating)
    recent.rate(body.message_id, body.rating)
    if settings.telemetry:
        # "recorded" means in the spool (or held in memory without one).
        await writer.record(
            FeedbackRecord(body.message_id, body.rating, body.comment, datetime.now(UTC)),
            timeout_s=settings.audit_ack_timeout_s,
        )
    return JSONResponse(
        {"status": "recorded", "message_id": body.message_id, "rating": body.rating}
    )
