"""The metric catalog at run time: prometheus_client objects built from the spec, on an
explicit registry. The service never declares a metric by hand."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.metrics import MetricWrapperBase

from stackgen.spec import Metric, MetricSource, MetricType, Stack

__all__ = ["CatalogMetrics", "build_metric"]

_Wrapper = TypeVar("_Wrapper", bound=MetricWrapperBase)


def build_metric(metric: Metric, registry: CollectorRegistry) -> MetricWrapperBase:
    """One catalog entry as a prometheus_client metric registered on ``registry``."""
    common: dict[str, Any] = {
        "name": metric.name,
        "documentation": metric.help,
        "labelnames": metric.label_names(),
        "unit": metric.unit,
        "registry": registry,
    }
    if metric.type is MetricType.COUNTER:
        return Counter(**common)
    if metric.type is MetricType.GAUGE:
        return Gauge(**common)
    return Histogram(**common, buckets=metric.buckets or Histogram.DEFAULT_BUCKETS)


class CatalogMetrics:
    """Every application metric of a stack's catalog (plus the process collector), by
    family name. Label combinations whose values are all enumerated are created up
    front, so their series exist at 0 from the first scrape and rate() sees the first
    increment."""

    def __init__(
        self, stack: Stack, registry: CollectorRegistry, *, service: str | None = None
    ) -> None:
        # The service whose metrics this process emits; default: the stack's verify.service.
        service = service or stack.app_service()
        if service is None:
            raise ValueError(f"the {stack.name} stack has no verify.service: pass `service`")
        self.registry = registry
        # The text format would expose each counter's and histogram's `_created`
        # timestamp as a separate gauge family the catalog does not declare (and
        # Prometheus would store as junk series). The switch is process-wide.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        app_metrics = [
            m for m in stack.metrics if m.source is MetricSource.APP and m.service == service
        ]
        self._metrics = {m.name: build_metric(m, registry) for m in app_metrics}
        for metric in app_metrics:
            self._initialise_children(metric)
        if any(m.source is MetricSource.PROCESS for m in stack.metrics):
            ProcessCollector(registry=registry)

    def __getitem__(self, name: str) -> MetricWrapperBase:
        try:
            return self._metrics[name]
        except KeyError:
            raise KeyError(f"{name!r} is not an application metric of the catalog") from None

    def counter(self, name: str) -> Counter:
        return self._typed(name, Counter)

    def gauge(self, name: str) -> Gauge:
        return self._typed(name, Gauge)

    def histogram(self, name: str) -> Histogram:
        return self._typed(name, Histogram)

    def _typed(self, name: str, kind: type[_Wrapper]) -> _Wrapper:
        metric = self[name]
        if not isinstance(metric, kind):
            raise TypeError(f"{name} is a {type(metric).__name__}, not a {kind.__name__}")
        return metric

    def names(self) -> Iterable[str]:
        return self._metrics.keys()

    def _initialise_children(self, metric: Metric) -> None:
        if not metric.labels or any(label.values is None for label in metric.labels):
            return
        wrapper = self._metrics[metric.name]
        value_sets = [label.values or () for label in metric.labels]
        for combination in itertools.product(*value_sets):
            wrapper.labels(*combination)
