"""One chat turn: route, run the agent's tools, stream the LLM's answer; record metrics,
spans and the audit row.

Spans (OpenTelemetry GenAI conventions; never message text unless explicitly enabled,
never the user id): ``chat_turn`` (the request) holds ``route`` and ``invoke_agent
<agent>``; the agent span holds one ``execute_tool <tool>`` per tool call and the
``chat <model>`` LLM call. The request path never awaits the database: the audit row goes
to the writer, and the turn's last event (so the response's final chunk) waits only
until the row is in the local spool (an fsync shared with concurrent turns)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry.trace import (
    Span,
    Status,
    StatusCode,
    Tracer,
    format_trace_id,
    set_span_in_context,
)

from agent_service.agents.orchestrator import KB_TOOL, Orchestrator
from agent_service.domain import Rating, TurnContext, TurnRecord, Usage
from agent_service.llm.base import ChatModel, LLMError
from agent_service.store.writer import AuditWriter
from agent_service.telemetry.metrics import ServiceMetrics

__all__ = ["ChatEngine", "Delta", "TurnEnd", "TurnStart"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnStart:
    message_id: str
    session_id: str
    agent: str
    confidence: float
    trace_id: str
    model: str


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class TurnEnd:
    text: str
    usage: Usage
    error: str | None
    tool_calls: int
    latency_s: float
    ttft_s: float | None


class RecentMessages:
    """Message ids of recent turns and their rating, bounded (oldest forgotten first):
    /feedback answers from memory before it asks the database."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ratings: OrderedDict[str, Rating | None] = OrderedDict()

    def add(self, message_id: str) -> None:
        self._ratings[message_id] = None
        if len(self._ratings) > self.capacity:
            self._ratings.popitem(last=False)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ratings

    def rating(self, message_id: str) -> Rating | None:
        return self._ratings.get(message_id)

    def rate(self, message_id: str, rating: Rating) -> None:
        self._ratings[message_id] = rating
        self._ratings.move_to_end(message_id)
        if len(self._ratings) > self.capacity:
            self._ratings.popitem(last=False)


class ChatEngine:
    def __init__(
        self,
        orchestrator: Orchestrator,
        model: ChatModel,
        metrics: ServiceMetrics,
        tracer: Tracer,
        writer: AuditWriter,
        recent: RecentMessages,
        *,
        capture_content: bool = False,
        audit: bool = True,
        ack_timeout_s: float = 5.0,
    ) -> None:
        self.orchestrator = orchestrator
        self.model = model
        self.metrics = metrics
        self.tracer = tracer
        self.writer = writer
        self.recent = recent
        self.capture_content = capture_content
        self.audit = audit
        self.ack_timeout_s = ack_timeout_s

    async def run(
        self, message: str, user_id: str, session_id: str
    ) -> AsyncIterator[TurnStart | Delta | TurnEnd]:
        """The turn as events: one TurnStart, Deltas as tokens stream, one TurnEnd."""
        started = time.perf_counter()
        message_id = f"msg-{uuid.uuid4().hex}"
        self.metrics.turn_started()
        with self.tracer.start_as_current_span("chat_turn") as span:
            trace_id = format_trace_id(span.get_span_context().trace_id)
            span.set_attribute("bestbox.message_id", message_id)
            if self.capture_content:
                span.set_attribute("bestbox.user_message", message)
            pieces: list[str] = []
            usage = Usage(0, 0)
            error: str | None = None
            ttft_s: float | None = None
            context: TurnContext | None = None
            agent_span: Span | None = None
            durable: asyncio.Future[bool] | None = None
            finished = False
            try:
                context, agent_span = await self._prepare(message)
                agent = context.decision.agent
                span.set_attribute("gen_ai.agent.name", agent)
                yield TurnStart(
                    message_id,
                    session_id,
                    agent,
                    context.decision.confidence,
                    trace_id,
                    self.model.name,
                )
                with self.tracer.start_as_current_span(
                    f"chat {self.model.name}", context=set_span_in_context(agent_span)
                ) as llm_span:
                    self._model_attributes(llm_span, "chat")
                    llm_span.set_attribute("gen_ai.response.model", self.model.name)
                    try:
                        async for chunk in self.model.stream(context.messages):
                            if chunk.usage is not None:
                                usage = chunk.usage
                            if not chunk.text:
                                continue
                            if ttft_s is None:
                                # Measured when the first token is streamed, not at the end.
                                ttft_s = time.perf_counter() - started
                                self._safely(self.metrics.first_token, agent, ttft_s, trace_id)
                            pieces.append(chunk.text)
                            yield Delta(chunk.text)
                    except LLMError as llm_error:
                        error = str(llm_error)
                        llm_span.set_attribute("error.type", type(llm_error).__name__)
                        llm_span.set_status(Status(StatusCode.ERROR, error))
                    llm_span.set_attribute("gen_ai.usage.input_tokens", usage.prompt_tokens)
                    llm_span.set_attribute("gen_ai.usage.output_tokens", usage.completion_tokens)
                    self._safely(
                        self.metrics.llm_call,
                        self.model.name,
                        error is None,
                        usage.prompt_tokens,
                        usage.completion_tokens,
                    )
                finished = True
            except Exception as unexpected:
                error = f"internal error: {type(unexpected).__name__}: {unexpected}"
                raise
            finally:
                # Also when the client goes away mid-stream (the generator is closed):
                # the turn is still counted and audited, marked as cut short.
                self.metrics.turn_finished()
                if not finished and error is None:
                    error = "the client disconnected before the answer was complete"
                latency_s = time.perf_counter() - started
                if agent_span is not None:
                    if error:
                        agent_span.set_status(Status(StatusCode.ERROR, error))
                    agent_span.end()
                if error:
                    span.set_status(Status(StatusCode.ERROR, error))
                agent = context.decision.agent if context else "general"
                tool_count = len(context.tool_calls) if context else 0
                self._safely(
                    self.metrics.turn, agent, error is None, latency_s, tool_count, trace_id
                )
                text = "".join(pieces)
                if context is not None:
                    # Handed over without awaiting: this also runs when the request is
                    # being cancelled, where an await would be cancelled too.
                    durable = self._audit(
                        message_id,
                        session_id,
                        user_id,
                        message,
                        text,
                        context,
                        latency_s,
                        ttft_s,
                        usage,
                        error,
                        trace_id,
                    )
            if durable is not None:
                # The durability point: TurnEnd (and so the final chunk, the JSON
                # answer) comes only after the audit row is in the spool.
                await self._durable(durable, message_id)
            yield TurnEnd(text, usage, error, tool_count, latency_s, ttft_s)

    async def _durable(self, durable: asyncio.Future[bool], message_id: str) -> None:
        try:
            async with asyncio.timeout(self.ack_timeout_s):
                await asyncio.shield(durable)
        except TimeoutError:
            log.warning(
                "audit row of %s not in the spool after %.1fs: answering anyway",
                message_id,
                self.ack_timeout_s,
            )

    async def _prepare(self, message: str) -> tuple[TurnContext, Span]:
        """Route and run the tools; returns the agent span, still open: the LLM call
        that follows is part of the agent's work (the caller ends it)."""
        start_ns = time.time_ns()
        context = await self.orchestrator.prepare(message)
        decision = context.decision
        agent_span = self._spans_for_work_done(context, start_ns)
        self._safely(self.metrics.routed, decision.agent, context.router_s, decision.confidence)
        for call in context.tool_calls:
            self._safely(self.metrics.tool, call.name, call.error is None)
        for retrieval in context.retrievals:
            self._safely(
                self.metrics.retrieval,
                retrieval.latency_s,
                retrieval.embedding_s,
                retrieval.scores,
            )
        return context, agent_span

    def _model_attributes(self, span: Span, operation: str) -> None:
        span.set_attribute("gen_ai.operation.name", operation)
        span.set_attribute("gen_ai.provider.name", self.model.provider)
        span.set_attribute("gen_ai.request.model", self.model.name)

    def _spans_for_work_done(self, context: TurnContext, start_ns: int) -> Span:
        """Router, agent and tool spans, laid out from the timings the orchestrator
        measured (it stays free of telemetry): the router first, then the agent span,
        inside it the tools one after another. The agent span is returned open."""
        cursor = start_ns
        decision = context.decision
        router = self.tracer.start_span("route", start_time=cursor)
        router.set_attribute("bestbox.route.agent", decision.agent)
        router.set_attribute("bestbox.route.confidence", decision.confidence)
        cursor += int(context.router_s * 1e9)
        router.end(end_time=cursor)
        agent_span = self.tracer.start_span(f"invoke_agent {decision.agent}", start_time=cursor)
        self._model_attributes(agent_span, "invoke_agent")
        agent_span.set_attribute("gen_ai.agent.name", decision.agent)
        inside = set_span_in_context(agent_span)
        for call in context.tool_calls:
            tool: Span = self.tracer.start_span(
                f"execute_tool {call.name}", context=inside, start_time=cursor
            )
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", call.name)
            # The knowledge-base search reads a store; the others are functions.
            tool.set_attribute(
                "gen_ai.tool.type", "datastore" if call.name == KB_TOOL else "function"
            )
            if call.error:
                tool.set_attribute("error.type", call.error.split(":", 1)[0])
                tool.set_status(Status(StatusCode.ERROR, call.error))
            cursor += int(call.latency_ms * 1e6)
            tool.end(end_time=cursor)
        return agent_span

    def _audit(
        self,
        message_id: str,
        session_id: str,
        user_id: str,
        message: str,
        text: str,
        context: TurnContext | None,
        latency_s: float,
        ttft_s: float | None,
        usage: Usage,
        error: str | None,
        trace_id: str,
    ) -> asyncio.Future[bool] | None:
        if not self.audit:
            return None
        record = TurnRecord(
            message_id=message_id,
            session_id=session_id,
            user_id=user_id,
            timestamp=datetime.now(UTC),
            user_message=message,
            agent_response=text if not error else f"{text}\n[error: {error}]".strip(),
            agent_type=context.decision.agent if context else "general",
            tool_calls=context.tool_calls if context else (),
            latency_ms=round(latency_s * 1000),
            ttft_ms=round(ttft_s * 1000) if ttft_s is not None else None,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            confidence=context.decision.confidence if context else None,
            error=error,
            trace_id=trace_id,
        )
        self.recent.add(message_id)
        durable = self.writer.enqueue(record)
        if durable.done() and not durable.result() and self.writer.spool is not None:
            log.error("audit writer full: turn %s not logged", message_id)
        return durable

    @staticmethod
    def _safely(record: object, *args: object) -> None:
        """Telemetry never fails a request."""
        try:
            record(*args)  # type: ignore[operator]
        except Exception:  # pragma: no cover - defensive
            log.exception("recording a metric failed")
