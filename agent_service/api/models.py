"""``GET /v1/models``: the one model the service answers with (OpenAI's model list), owned by
the stack."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from agent_service.dependencies import ModelDep, StackDep

__all__ = ["router"]

router = APIRouter()


@router.get("/v1/models")
async def models(model: ModelDep, stack: StackDep) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": model.name, "object": "model", "owned_by": stack.name}],
    }
