"""Recording the catalog's metrics. Every metric object comes from stackgen.runtime (the
spec catalog); this module only names the events that move them."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry

from stackgen.runtime import CatalogMetrics
from stackgen.spec import Stack

__all__ = ["ServiceMetrics"]

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
        self.active_sessions = catalog.gauge("active_sessions")
        self._rag_latency = catalog.histogram("rag_retrieval_seconds")
        self._rag_relevance = catalog.histogram("rag_relevance_score")
        self._router_latency = catalog.histogram("router_latency_seconds")
        self._router_confidence = catalog.histogram("router_confidence_score")
        self._embedding = catalog.histogram("embedding_latency_seconds")
        self._http = catalog.counter("http_requests")

    @staticmethod
    def _exemplar(trace_id: str | None) -> dict[str, str] | None:
        return {"trace_id": trace_id} if trace_id else None

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
