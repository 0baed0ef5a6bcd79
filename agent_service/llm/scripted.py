"""The built-in deterministic model, used when no LLM server is configured: it streams a
grounded answer built from the tool results in the system message, word by word."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence

from agent_service.domain import Chunk, Usage
from agent_service.llm.base import count_tokens
from agent_service.llm.grounding import answer_from_messages

__all__ = ["ScriptedModel"]


class ScriptedModel:
    def __init__(
        self,
        first_token_delay_s: float = 0.05,
        token_delay_s: float = 0.01,
        name: str = "bestbox-scripted",
    ) -> None:
        if first_token_delay_s < 0 or token_delay_s < 0:
            raise ValueError("scripted model delays must be >= 0")
        self.first_token_delay_s = first_token_delay_s
        self.token_delay_s = token_delay_s
        self.name = name
        self.provider = "bestbox.scripted"

    def answer(self, messages: Sequence[Mapping[str, str]]) -> str:
        return answer_from_messages(messages)

    async def stream(self, messages: Sequence[Mapping[str, str]]) -> AsyncIterator[Chunk]:
        prompt_tokens = sum(count_tokens(m.get("content", "")) for m in messages)
        words = self.answer(messages).split()
        for index, word in enumerate(words):
            await asyncio.sleep(self.first_token_delay_s if index == 0 else self.token_delay_s)
            yield Chunk(text=word if index == 0 else f" {word}")
        yield Chunk(usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(words)))

    async def aclose(self) -> None:
        return None
