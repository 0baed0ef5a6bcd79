"""A streaming client for OpenAI-compatible chat servers (llama-server, vLLM, Ollama).

Every failure becomes an LLMError with a clear message: server unreachable (naming the
URL), HTTP error status (with a short body excerpt), timeout, malformed stream, and a
stream that ends without ``data: [DONE]`` (a mid-stream failure)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from agent_service.domain import Chunk, Usage
from agent_service.llm.base import LLMError, count_tokens

__all__ = ["OpenAIChatModel", "chat_completions_url"]

BODY_EXCERPT_CHARS = 300


def chat_completions_url(base_url: str) -> str:
    """``http://h:8080``, ``http://h:8080/`` and ``http://h:8080/v1`` all give
    ``http://h:8080/v1/chat/completions``."""
    root = base_url.strip().rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return f"{root}/v1/chat/completions"


class OpenAIChatModel:
    """``timeout_s`` bounds each wait for data (connect aside, which ``connect_timeout_s``
    bounds): a server silent for longer fails the turn with LLMError."""

    def __init__(
        self,
        base_url: str,
        model: str,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        api_key: str | None = None,
        provider: str = "llama.cpp",
    ) -> None:
        self.name = model
        # The server behind the OpenAI-compatible API (BestBox runs llama-server), not
        # "openai": the GenAI conventions name the actual provider.
        self.provider = provider
        self.model = model
        self.url = chat_completions_url(base_url)
        self.timeout_s = timeout_s
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s), headers=headers
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(self, messages: Sequence[Mapping[str, str]]) -> AsyncIterator[Chunk]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        pieces: list[str] = []
        usage: Usage | None = None
        done = False
        try:
            async with self._client.stream("POST", self.url, json=payload) as response:
                if response.status_code >= 400:
                    raise LLMError(await self._status_message(response))
                async for line in response.aiter_lines():
                    data = _sse_data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        done = True
                        break
                    text, reported = self._parse_event(data)
                    if reported is not None:
                        usage = reported
                    if text:
                        pieces.append(text)
                        yield Chunk(text=text)
        except httpx.ConnectTimeout:
            raise LLMError(f"LLM server unreachable at {self.url}: connect timed out") from None
        except httpx.ConnectError as exc:
            raise LLMError(
                f"LLM server unreachable at {self.url}: {exc or 'connect failed'}"
            ) from None
        except httpx.TimeoutException:
            raise LLMError(
                f"LLM server at {self.url} timed out (no data for {self.timeout_s:g}s)"
            ) from None
        except httpx.HTTPError as exc:
            raise LLMError(
                f"LLM stream from {self.url} broke off: {type(exc).__name__}: {exc}"
            ) from None
        if not done:
            raise LLMError(
                f"LLM stream from {self.url} ended before [DONE] after {len(pieces)} chunks "
                "(the server failed mid-stream)"
            )
        if usage is None:
            usage = Usage(
                prompt_tokens=sum(count_tokens(m.get("content", "")) for m in messages),
                completion_tokens=count_tokens("".join(pieces)),
            )
        yield Chunk(usage=usage)

    async def _status_message(self, response: httpx.Response) -> str:
        try:
            body = (await response.aread()).decode("utf-8", errors="replace")
        except httpx.HTTPError:
            body = ""
        excerpt = " ".join(body.split())[:BODY_EXCERPT_CHARS]
        message = f"LLM server at {self.url} returned HTTP {response.status_code}"
        return f"{message}: {excerpt}" if excerpt else message

    def _parse_event(self, data: str) -> tuple[str, Usage | None]:
        try:
            event = json.loads(data)
        except ValueError:
            raise LLMError(
                f"malformed stream from LLM server at {self.url}: not JSON: {data[:80]!r}"
            ) from None
        if not isinstance(event, dict):
            raise LLMError(f"malformed stream from LLM server at {self.url}: {data[:80]!r}")
        if "error" in event:
            error = event["error"]
            detail = error.get("message", error) if isinstance(error, dict) else error
            raise LLMError(f"LLM server at {self.url} reported an error: {str(detail)[:200]}")
        text = ""
        choices = event.get("choices") or []
        if not isinstance(choices, list):
            raise LLMError(f"malformed stream from LLM server at {self.url}: {data[:80]!r}")
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str):
                text += content
        return text, _usage(event.get("usage"))


def _sse_data(line: str) -> str | None:
    """The payload of a ``data:`` line; None for blank lines, comments and other fields."""
    if not line.startswith("data:"):
        return None
    return line[len("data:") :].strip()


def _usage(raw: object) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(prompt_tokens=prompt, completion_tokens=completion)
    return None
