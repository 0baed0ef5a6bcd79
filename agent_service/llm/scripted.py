"""The built-in deterministic model, used when no LLM server is configured: it streams a
grounded answer built from the tool results in the system message, word by word.

Its pacing can follow a cycle of first-token delays (answer after answer), and it can
fail every Nth answer: a live run makes healthy-but-noisy traffic with it (bursts of
slow answers and sporadic failures, under every alert threshold) that must page nobody.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence

from agent_service.domain import Chunk, Usage
from agent_service.llm.base import LLMError, count_tokens
from agent_service.llm.grounding import answer_from_messages

__all__ = ["ScriptedModel"]


class ScriptedModel:
    """``first_token_delay_s``: one delay, or a cycle of them (the first answer waits the
    first, the next the second...); ``fail_every``: every Nth answer fails (0: never)."""

    def __init__(
        self,
        first_token_delay_s: float | Sequence[float] = 0.05,
        token_delay_s: float = 0.01,
        name: str = "bestbox-scripted",
        *,
        fail_every: int = 0,
    ) -> None:
        delays = (
            (first_token_delay_s,)
            if isinstance(first_token_delay_s, int | float)
            else tuple(first_token_delay_s)
        )
        if not delays or min(delays) < 0 or token_delay_s < 0:
            raise ValueError("scripted model delays must be >= 0")
        if fail_every < 0:
            raise ValueError("fail_every must be >= 0")
        self.first_token_delays_s = delays
        self.token_delay_s = token_delay_s
        self.fail_every = fail_every
        self.name = name
        self.provider = "bestbox.scripted"
        self._answers = itertools.count()

    @property
    def first_token_delay_s(self) -> float:
        """The first delay of the cycle (the only one, unless a cycle was given)."""
        return self.first_token_delays_s[0]

    def answer(self, messages: Sequence[Mapping[str, str]]) -> str:
        return answer_from_messages(messages)

    async def stream(self, messages: Sequence[Mapping[str, str]]) -> AsyncIterator[Chunk]:
        answer = next(self._answers)
        first_token_delay_s = self.first_token_delays_s[answer % len(self.first_token_delays_s)]
        if self.fail_every and (answer + 1) % self.fail_every == 0:
            await asyncio.sleep(first_token_delay_s)
            raise LLMError(f"the scripted model fails every {self.fail_every}th answer")
        prompt_tokens = sum(count_tokens(m.get("content", "")) for m in messages)
        words = self.answer(messages).split()
        for index, word in enumerate(words):
            await asyncio.sleep(first_token_delay_s if index == 0 else self.token_delay_s)
            yield Chunk(text=word if index == 0 else f" {word}")
        yield Chunk(usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(words)))

    async def aclose(self) -> None:
        return None
