"""What a chat model is to the rest of the service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Protocol

from agent_service.domain import Chunk

__all__ = ["ChatModel", "LLMError", "count_tokens"]


class LLMError(Exception):
    """The model could not answer; ``str(error)`` is a clear message fit to show a user."""


class ChatModel(Protocol):
    name: str
    # Who serves the model (the GenAI conventions' gen_ai.provider.name).
    provider: str

    def stream(self, messages: Sequence[Mapping[str, str]]) -> AsyncIterator[Chunk]:
        """Text chunks as they are generated, then exactly one final ``Chunk(usage=...)``.
        Raises LLMError when the model fails (possibly after some text)."""
        ...

    async def aclose(self) -> None: ...


def count_tokens(text: str) -> int:
    """The whitespace-token estimate used when a server reports no usage."""
    return len(text.split())
