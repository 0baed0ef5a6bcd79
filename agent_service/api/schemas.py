"""Request bodies of the API: validated, so bad input is a 4xx, never a 500."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from agent_service.domain import Rating

__all__ = ["ChatMessage", "ChatRequest", "CompletionRequest", "FeedbackRequest"]

MAX_MESSAGE_CHARS = 32_000
# The largest answer a client may ask for (OpenAI's field; the models we run stop far
# sooner). Validated so a typo or a probe is a 422, not a silent default.
MAX_COMPLETION_TOKENS = 131_072
# Message and session ids: what the service itself issues.
ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


def _encodable(value: str) -> str:
    """JSON can carry an unpaired surrogate (``"\\ud800"``) that no UTF-8 answer, spool
    line or database row can hold: refused here rather than failing later."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must not contain unpaired surrogates") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: Text = Field(max_length=MAX_MESSAGE_CHARS)


class CompletionRequest(BaseModel):
    """OpenAI's chat completion request; the last message is the user's turn."""

    model_config = ConfigDict(extra="ignore")

    model: Text | None = None
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    # Strict: "yes" or 1 is a client's mistake to report, not a true.
    stream: StrictBool = False
    max_tokens: StrictInt | None = Field(default=None, ge=1, le=MAX_COMPLETION_TOKENS)

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
    """The simple form: POST /chat {"message": ..., "session_id": ...}."""

    model_config = ConfigDict(extra="forbid")

    message: Text = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, pattern=ID_PATTERN)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(pattern=ID_PATTERN)
    rating: Rating
    comment: Text | None = Field(default=None, max_length=2000)
