"""The chat models: the built-in scripted model, and the REAL OpenAIChatModel over real HTTP.

The HTTP server below is a test double for the GPU LLM server (llama-server / vLLM /
Ollama), which cannot run here: an ``asyncio.start_server`` on 127.0.0.1 (ephemeral port)
that speaks HTTP/1.1 with chunked Server-Sent Events in the OpenAI streaming format."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from agent_service.agents.orchestrator import Orchestrator
from agent_service.domain import Chunk, Usage
from agent_service.llm.base import ChatModel, LLMError
from agent_service.llm.factory import model_from_env
from agent_service.llm.openai import OpenAIChatModel, chat_completions_url
from agent_service.llm.scripted import ScriptedModel

MESSAGES = (
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "hi there"},
)

Writer = asyncio.StreamWriter
Handler = Callable[[Writer], Awaitable[None]]


async def collect(model: ChatModel, messages: Any = MESSAGES) -> tuple[list[str], Usage]:
    texts: list[str] = []
    usage: Usage | None = None
    async with asyncio.timeout(10):
        async for chunk in model.stream(messages):
            assert usage is None, "the usage chunk must come last"
            if chunk.usage is not None:
                usage = chunk.usage
            else:
                texts.append(chunk.text)
    assert usage is not None, "exactly one final usage chunk"
    return texts, usage


# --- the scripted model --------------------------------------------------------------------


async def test_scripted_answer_is_grounded_in_tool_results() -> None:
    context = await Orchestrator().prepare("Show me invoice INV-1001")
    model = ScriptedModel(first_token_delay_s=0, token_delay_s=0)
    texts, usage = await collect(model, context.messages)
    text = "".join(texts)
    assert text.startswith("Invoice INV-1001 from Acme is 1,200.00 EUR, due 2026-12-01")
    assert usage.completion_tokens == len(texts) == len(text.split())
    expected_prompt = sum(len(m["content"].split()) for m in context.messages)
    assert usage.prompt_tokens == expected_prompt
    assert model.name == "bestbox-scripted"
    await model.aclose()


async def test_scripted_model_reports_a_failed_tool() -> None:
    context = await Orchestrator().prepare("what is the status of legacy-01")
    texts, _ = await collect(ScriptedModel(0, 0), context.messages)
    text = "".join(texts)
    assert "server_status tool failed" in text
    assert "status endpoint of legacy-01 timed out" in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("how many laptops are in stock", "Laptop (SKU-100): 42 in stock in Berlin"),
        ("qualified leads at Globex", "Lead Dana Scully at Globex is qualified (score 87)"),
        ("deal pipeline summary", "The pipeline has 5 deals"),
        ("status of web-01", "Server web-01 (web frontend) is up at 37% CPU"),
        ("open sev1 incidents", "Incident INC-203 (sev1, open) on gpu-01"),
        ("meetings on 2026-12-02", "Quarterly review on 2026-12-02 14:00-16:00"),
        ("leave balance for bob", "Bob has 19 of 28 leave days left"),
        ("how do I connect to the VPN", "According to the knowledge base (VPN how-to)"),
    ],
)
async def test_scripted_answers_for_each_agent(message: str, expected: str) -> None:
    context = await Orchestrator().prepare(message)
    texts, _ = await collect(ScriptedModel(0, 0), context.messages)
    assert expected in "".join(texts)


async def test_scripted_without_tool_results() -> None:
    texts, usage = await collect(ScriptedModel(0, 0))
    assert "".join(texts) == "I am the BestBox assistant. I have no data for that request."
    assert usage.prompt_tokens == 5


async def test_scripted_first_token_delay_is_measurable() -> None:
    model = ScriptedModel(first_token_delay_s=0.2, token_delay_s=0.001)
    context = await Orchestrator().prepare("Show me invoice INV-1001")
    started = time.perf_counter()
    first: float | None = None
    async with asyncio.timeout(5):
        async for chunk in model.stream(context.messages):
            if chunk.text and first is None:
                first = time.perf_counter() - started
    total = time.perf_counter() - started
    assert first is not None and 0.19 <= first < 1.0
    assert total - first < 1.0


async def test_scripted_model_cycles_its_delays_and_fails_every_nth_answer() -> None:
    """Healthy-but-noisy pacing: a burst of slow answers in a cycle, a sporadic failure."""
    model = ScriptedModel(first_token_delay_s=(0.0, 0.0, 0.15), token_delay_s=0, fail_every=4)
    context = await Orchestrator().prepare("Show me invoice INV-1001")
    outcomes = []
    for _ in range(6):
        started = time.perf_counter()
        try:
            await collect(model, context.messages)
            outcomes.append("slow" if time.perf_counter() - started >= 0.14 else "fast")
        except LLMError:
            outcomes.append("failed")
    assert outcomes == ["fast", "fast", "slow", "failed", "fast", "slow"]


def test_scripted_model_is_deterministic() -> None:
    messages = [{"role": "system", "content": 'Tool results (JSON): [{"name":"x","result":1}]'}]
    model = ScriptedModel()
    assert model.answer(messages) == model.answer(messages) == "The x tool returned 1."


# --- the factory ---------------------------------------------------------------------------


async def test_factory_defaults_to_scripted_model() -> None:
    model = model_from_env({})
    assert isinstance(model, ScriptedModel)
    assert (model.first_token_delay_s, model.token_delay_s) == (0.05, 0.01)
    paced = model_from_env({"SCRIPTED_FIRST_TOKEN_DELAY_S": "0.2", "SCRIPTED_TOKEN_DELAY_S": "0"})
    assert isinstance(paced, ScriptedModel)
    assert (paced.first_token_delay_s, paced.token_delay_s) == (0.2, 0.0)
    with pytest.raises(ValueError, match="SCRIPTED_TOKEN_DELAY_S"):
        model_from_env({"SCRIPTED_TOKEN_DELAY_S": "fast"})
    noisy = model_from_env(
        {"SCRIPTED_FIRST_TOKEN_DELAY_S": "0.05,0.05,4.5", "SCRIPTED_FAIL_EVERY": "40"}
    )
    assert isinstance(noisy, ScriptedModel)
    assert (noisy.first_token_delays_s, noisy.fail_every) == ((0.05, 0.05, 4.5), 40)
    with pytest.raises(ValueError, match="SCRIPTED_FAIL_EVERY"):
        model_from_env({"SCRIPTED_FAIL_EVERY": "often"})


async def test_factory_builds_openai_client() -> None:
    model = model_from_env({"LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    assert isinstance(model, OpenAIChatModel)
    assert model.name == "default"
    assert model.url == "http://127.0.0.1:9/v1/chat/completions"
    await model.aclose()
    named = model_from_env({"LLM_BASE_URL": "http://127.0.0.1:9", "LLM_MODEL": "qwen2.5-14b"})
    assert named.name == "qwen2.5-14b"
    await named.aclose()


def test_chat_completions_url_accepts_v1_or_not() -> None:
    for base in ("http://h:8080", "http://h:8080/", "http://h:8080/v1", "http://h:8080/v1/"):
        assert chat_completions_url(base) == "http://h:8080/v1/chat/completions"


# --- the OpenAI-compatible client against a real HTTP server -------------------------------


def sse(event: dict[str, Any] | str) -> bytes:
    data = event if isinstance(event, str) else json.dumps(event)
    return f"data: {data}\n\n".encode()


def delta(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


USAGE_EVENT = {"choices": [], "usage": {"prompt_tokens": 17, "completion_tokens": 3}}


async def send_chunk(writer: Writer, payload: bytes) -> None:
    writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
    await writer.drain()


async def start_sse(writer: Writer) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()


async def end_chunked(writer: Writer) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()


class FakeLLMServer:
    """Test double for the GPU LLM server: one scripted handler per test, 127.0.0.1 only."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeLLMServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length)
                self.requests.append((lines[0], json.loads(body)))
                await self.handler(writer)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


async def normal_stream(writer: Writer) -> None:
    await start_sse(writer)
    await send_chunk(writer, b": keep-alive comment\n\n")
    for text in ("Hello", " from", " the GPU"):
        await send_chunk(writer, sse(delta(text)))
    await send_chunk(writer, sse(USAGE_EVENT))
    await send_chunk(writer, sse("[DONE]"))
    await end_chunked(writer)


async def test_normal_stream_with_server_usage() -> None:
    async with FakeLLMServer(normal_stream) as server:
        model = OpenAIChatModel(server.base_url + "/v1/", "qwen", api_key="secret")
        try:
            texts, usage = await collect(model)
        finally:
            await model.aclose()
    assert texts == ["Hello", " from", " the GPU"]
    assert usage == Usage(prompt_tokens=17, completion_tokens=3)
    request_line, body = server.requests[0]
    assert request_line == "POST /v1/chat/completions HTTP/1.1"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["model"] == "qwen"
    assert body["messages"] == [dict(m) for m in MESSAGES]


async def no_usage_stream(writer: Writer) -> None:
    await start_sse(writer)
    await send_chunk(writer, sse(delta("one two")) + sse(delta(" three")) + sse("[DONE]"))
    await end_chunked(writer)


async def test_usage_is_estimated_when_the_server_reports_none() -> None:
    async with FakeLLMServer(no_usage_stream) as server:
        model = OpenAIChatModel(server.base_url, "m")
        try:
            texts, usage = await collect(model)
        finally:
            await model.aclose()
    assert "".join(texts) == "one two three"
    assert usage == Usage(prompt_tokens=5, completion_tokens=3)


async def slow_first_token(writer: Writer) -> None:
    await start_sse(writer)
    await asyncio.sleep(0.3)
    for index in range(5):
        await send_chunk(writer, sse(delta(f"t{index} ")))
    await send_chunk(writer, sse(USAGE_EVENT) + sse("[DONE]"))
    await end_chunked(writer)


async def test_slow_first_token_then_fast_tokens() -> None:
    async with FakeLLMServer(slow_first_token) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=5)
        arrivals: list[float] = []
        started = time.perf_counter()
        try:
            async with asyncio.timeout(10):
                async for chunk in model.stream(MESSAGES):
                    if chunk.text:
                        arrivals.append(time.perf_counter() - started)
        finally:
            await model.aclose()
    assert len(arrivals) == 5
    assert 0.28 <= arrivals[0] < 2.0, arrivals
    assert arrivals[-1] - arrivals[0] < 0.2, arrivals


async def broken_mid_stream(writer: Writer) -> None:
    await start_sse(writer)
    await send_chunk(writer, sse(delta("partial")))
    # the connection closes before [DONE] and before the terminating chunk


async def test_mid_stream_failure_raises_after_partial_text() -> None:
    async with FakeLLMServer(broken_mid_stream) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=5)
        texts: list[str] = []
        try:
            with pytest.raises(LLMError, match=r"127\.0\.0\.1") as caught:
                async with asyncio.timeout(10):
                    async for chunk in model.stream(MESSAGES):
                        texts.append(chunk.text)
        finally:
            await model.aclose()
    assert texts == ["partial"]
    assert "broke off" in str(caught.value) or "before [DONE]" in str(caught.value)


async def ends_without_done(writer: Writer) -> None:
    await start_sse(writer)
    await send_chunk(writer, sse(delta("partial")))
    await end_chunked(writer)  # a clean HTTP end, but the stream never said [DONE]


async def test_stream_ending_without_done_is_an_error() -> None:
    async with FakeLLMServer(ends_without_done) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=5)
        try:
            with pytest.raises(LLMError, match=r"ended before \[DONE\] after 1 chunks"):
                await collect(model)
        finally:
            await model.aclose()


async def malformed_stream(writer: Writer) -> None:
    await start_sse(writer)
    await send_chunk(writer, b"data: {not json\n\n")
    await end_chunked(writer)


async def test_malformed_stream_is_an_error() -> None:
    async with FakeLLMServer(malformed_stream) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=5)
        try:
            with pytest.raises(LLMError, match="malformed stream"):
                await collect(model)
        finally:
            await model.aclose()


async def internal_error(writer: Writer) -> None:
    body = b'{"error": {"message": "CUDA out of memory", "type": "server_error"}}'
    writer.write(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def test_http_500_is_an_error_with_a_body_excerpt() -> None:
    async with FakeLLMServer(internal_error) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=5)
        try:
            with pytest.raises(LLMError, match="HTTP 500") as caught:
                await collect(model)
        finally:
            await model.aclose()
    assert "CUDA out of memory" in str(caught.value)


async def test_connection_refused_names_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the port is closed now: nothing listens there
    model = OpenAIChatModel(f"http://127.0.0.1:{port}", "m", connect_timeout_s=2)
    try:
        with pytest.raises(LLMError, match="unreachable") as caught:
            await collect(model)
    finally:
        await model.aclose()
    assert f"http://127.0.0.1:{port}/v1/chat/completions" in str(caught.value)


async def silent_after_headers(writer: Writer) -> None:
    await start_sse(writer)
    await asyncio.sleep(5)  # bounded; the client gives up long before


async def test_read_timeout_is_an_error() -> None:
    async with FakeLLMServer(silent_after_headers) as server:
        model = OpenAIChatModel(server.base_url, "m", timeout_s=0.3)
        started = time.perf_counter()
        try:
            with pytest.raises(LLMError, match=r"timed out \(no data for 0\.3s\)"):
                await collect(model)
        finally:
            await model.aclose()
    assert time.perf_counter() - started < 3


async def test_protocol_is_satisfied() -> None:
    models: list[ChatModel] = [ScriptedModel(), OpenAIChatModel("http://127.0.0.1:9", "m")]
    for model in models:
        assert isinstance(model.name, str)
        stream = model.stream(MESSAGES)
        assert isinstance(stream, AsyncIterator)
        await stream.aclose()  # type: ignore[attr-defined]
        await model.aclose()
    assert Chunk().text == ""
