"""``GET /``: the chat page (public; its script talks to the API)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from agent_service.dependencies import WebDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
async def chat_page(web: WebDep) -> Response:
    return web.pages.render("chat.html", private=False, title="BestBox assistant")
