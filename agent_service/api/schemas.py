"""Request bodies of the API: validated, so bad input is a 4xx, never a 500."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_service.domain import Rating

__all__ = ["ChatMessage", "ChatRequest", "CompletionRequest", "FeedbackRequest"]

MAX_MESSAGE_CHARS = 32_000


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class CompletionRequest(BaseModel):
    """OpenAI's chat completion request; the last message is the user's turn."""

    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False

    @model_validator(mode="after")
    def _ends_with_user(self) -> CompletionRequest:
        last = self.messages[-1]
        if last.role != "user" or not last.content.strip():
            raise ValueError("the last message must be a non-empty user message")
        return self

    @property
    def question(self) -> str:
        return self.messages[-1].content


class ChatRequest(BaseModel):
    """The seed's simple form: POST /chat {"message": ..., "session_id": ...}."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(min_length=1, max_length=64)
    rating: Rating
    comment: str | None = Field(default=None, max_length=2000)
