"""``GET /metrics``: the catalog's metrics for Prometheus, in OpenMetrics when asked for
(only OpenMetrics carries the exemplars: trace ids on latency buckets)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.openmetrics.exposition import (
    CONTENT_TYPE_LATEST as OPENMETRICS_CONTENT_TYPE,
)
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from agent_service.dependencies import RegistryDep

__all__ = ["router"]

router = APIRouter()


@router.get("/metrics")
async def metrics_endpoint(request: Request, registry: RegistryDep) -> Response:
    if "application/openmetrics-text" in request.headers.get("accept", ""):
        body = generate_openmetrics(registry)  # type: ignore[no-untyped-call]
        return Response(body, media_type=OPENMETRICS_CONTENT_TYPE)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
