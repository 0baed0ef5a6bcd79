"""``GET /health`` (the process answers) and ``GET /health/db`` (the audit database
answers; the writer's backlog with it)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from agent_service.dependencies import StoreDep, WriterDep
from agent_service.store.base import StoreUnavailable

__all__ = ["router"]

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/db")
async def health_db(store: StoreDep, writer: WriterDep) -> JSONResponse:
    try:
        await store.ping()
    except StoreUnavailable as error:
        return JSONResponse({"status": "unavailable", "reason": str(error)}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "audit_queue_depth": writer.depth,
            "audit_spool_rows": writer.spooled,
        }
    )
