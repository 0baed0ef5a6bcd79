"""Recording the catalog's metrics. Every metric object comes from stackgen.runtime (the
spec catalog); this module only names the events that move them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry

from stackgen.runtime import CatalogMetrics
from stackgen.spec import Stack

__all__ = ["DisabledMetrics", "ServiceMetrics"]

# Turns with more tool calls than this are "complex" (SLA 60 s instead of 10 s).
SIMPLE_TURN_MAX_TOOLS = 1


class ServiceMetrics:
    def __init__(self, stack: Stack, registry: CollectorRegistry) -> None:
        self.registry = registry
        catalog = CatalogMetrics(stack, registry)
        self._requests = catalog.counter("agent_requests")
        self._latency = catalog.histogram("agent_latency_seconds")
        self._ttft = catalog.histogram("agent_ttft_seconds")
        self._tokens = catalog.counter("llm_tokens")
        self._llm_requests = catalog.counter("llm_requests")
        self._tools = catalog.counter("tool_executions")
        self._feedback = catalog.counter("user_feedback")
        self._active_sessions = catalog.gauge("active_sessions")
        self._rag_latency = catalog.histogram("rag_retrieval_seconds")
        self._rag_relevance = catalog.histogram("rag_relevance_score")
        self._router_latency = catalog.histogram("router_latency_seconds")
        self._router_confidence = catalog.histogram("router_confidence_score")
        self._embedding = catalog.histogram("embedding_latency_seconds")
        self._http = catalog.counter("http_requests")
        self._audit_queue_depth = catalog.gauge("audit_queue_depth")
        self._audit_spool_rows = catalog.gauge("audit_spool_rows")
        self._audit_spool_bytes = catalog.gauge("audit_spool_bytes")
        self._audit_spool_limit = catalog.gauge("audit_spool_limit_bytes")
        self._audit_dropped = catalog.counter("audit_dropped_rows")
        self._audit_written = catalog.counter("audit_rows_written")
        self._audit_errors = catalog.counter("audit_write_errors")
        self._audit_write_seconds = catalog.histogram("audit_write_seconds")
        self._alert_notifications = catalog.counter("agent_alert_notifications")
        # The receiver names the catalog declares; any other counts as "other".
        spec = next(m for m in stack.metrics if m.name == "agent_alert_notifications")
        receiver = next(label for label in spec.labels if label.name == "receiver")
        self._alert_receivers = frozenset(receiver.values or ())

    @staticmethod
    def _exemplar(trace_id: str | None) -> dict[str, str] | None:
        return {"trace_id": trace_id} if trace_id else None

    def turn_started(self) -> None:
        self._active_sessions.inc()

    def turn_finished(self) -> None:
        self._active_sessions.dec()

    def turn(
        self,
        agent: str,
        ok: bool,
        latency_s: float,
        tool_calls: int,
        trace_id: str | None,
    ) -> None:
        self._requests.labels(agent, "success" if ok else "error").inc()
        complexity = "simple" if tool_calls <= SIMPLE_TURN_MAX_TOOLS else "complex"
        self._latency.labels(agent, complexity).observe(
            latency_s, exemplar=self._exemplar(trace_id)
        )

    def first_token(self, agent: str, ttft_s: float, trace_id: str | None) -> None:
        self._ttft.labels(agent).observe(ttft_s, exemplar=self._exemplar(trace_id))

    def llm_call(self, model: str, ok: bool, prompt: int, completion: int) -> None:
        self._llm_requests.labels(model, "success" if ok else "error").inc()
        if prompt:
            self._tokens.labels(model, "prompt").inc(prompt)
        if completion:
            self._tokens.labels(model, "completion").inc(completion)

    def tool(self, name: str, ok: bool) -> None:
        self._tools.labels(name, "success" if ok else "error").inc()

    def feedback(self, rating: str) -> None:
        self._feedback.labels(rating).inc()

    def routed(self, agent: str, latency_s: float, confidence: float) -> None:
        self._router_latency.observe(latency_s)
        self._router_confidence.labels(agent).observe(confidence)

    def retrieval(self, latency_s: float, embedding_s: float, scores: Iterable[float]) -> None:
        self._rag_latency.observe(latency_s)
        self._embedding.observe(embedding_s)
        for score in scores:
            self._rag_relevance.observe(score)

    def http(self, method: str, route: str, status: int) -> None:
        self._http.labels(method, route, f"{status // 100}xx").inc()

    # -- the audit writer (WriterEvents, and gauges read at scrape time) ----------------

    def watch_audit(
        self,
        depth: Callable[[], float],
        spooled: Callable[[], float],
        spool_bytes: Callable[[], float],
        spool_limit_bytes: Callable[[], float],
    ) -> None:
        self._audit_queue_depth.set_function(depth)
        self._audit_spool_rows.set_function(spooled)
        self._audit_spool_bytes.set_function(spool_bytes)
        self._audit_spool_limit.set_function(spool_limit_bytes)

    def batch_written(self, rows: int, seconds: float) -> None:
        self._audit_written.inc(rows)
        self._audit_write_seconds.observe(seconds)

    def write_failed(self) -> None:
        self._audit_errors.inc()

    def dropped(self, reason: str, rows: int) -> None:
        self._audit_dropped.labels(reason).inc(rows)

    # -- the Alertmanager webhook ---------------------------------------------------------

    def alert_notification(self, receiver: str, status: str) -> None:
        known = receiver if receiver in self._alert_receivers else "other"
        self._alert_notifications.labels(known, status).inc()


class DisabledMetrics(ServiceMetrics):
    """Records nothing: only for measuring what instrumentation costs (bench/). The
    catalog's metrics still exist, at zero."""

    def turn_started(self) -> None:
        pass

    def turn_finished(self) -> None:
        pass

    def turn(
        self, agent: str, ok: bool, latency_s: float, tool_calls: int, trace_id: str | None
    ) -> None:
        pass

    def first_token(self, agent: str, ttft_s: float, trace_id: str | None) -> None:
        pass

    def llm_call(self, model: str, ok: bool, prompt: int, completion: int) -> None:
        pass

    def tool(self, name: str, ok: bool) -> None:
        pass

    def feedback(self, rating: str) -> None:
        pass

    def routed(self, agent: str, latency_s: float, confidence: float) -> None:
        pass

    def retrieval(self, latency_s: float, embedding_s: float, scores: Iterable[float]) -> None:
        pass

    def http(self, method: str, route: str, status: int) -> None:
        pass

    def alert_notification(self, receiver: str, status: str) -> None:
        pass
