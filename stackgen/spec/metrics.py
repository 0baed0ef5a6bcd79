"""The metric catalog: what the service emits, and the only metrics queries may use."""

from __future__ import annotations

import itertools
import math
import re
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from stackgen.conventions import (
    COUNTER_SUFFIXES,
    CREATED_SUFFIX,
    HISTOGRAM_SUFFIXES,
    RESERVED_LABELS,
)
from stackgen.spec.base import SpecModel

__all__ = ["Label", "Metric", "MetricSource", "MetricType"]

# Colons are legal in Prometheus names but left to recording rules; only another
# server's own metrics may carry them (llama-server exposes `llamacpp:*`).
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


class MetricType(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


class MetricSource(StrEnum):
    """Who produces the series."""

    # Declared by the application through stackgen.runtime.
    APP = "app"
    # prometheus_client's process collector (process_*), registered by the service.
    PROCESS = "process"
    # Synthesised by Prometheus for every scrape target (up, scrape_duration_seconds).
    SCRAPE = "scrape"
    # Exposed by another server's own /metrics (llama-server, the collector).
    EXTERNAL = "external"


class Label(SpecModel):
    """A metric label with either its allowed values or a declared cardinality bound."""

    name: str = Field(pattern=LABEL_NAME)
    description: str = Field(min_length=1)
    values: tuple[str, ...] | None = None
    max_cardinality: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.name.startswith("__") or self.name in RESERVED_LABELS:
            raise ValueError(f"label name {self.name!r} is reserved by Prometheus")
        if (self.values is None) == (self.max_cardinality is None):
            raise ValueError(
                f"label {self.name!r} needs exactly one of `values` (the allowed values) "
                "or `max_cardinality` (a declared bound)"
            )
        if self.values is not None:
            if not self.values:
                raise ValueError(f"label {self.name!r}: `values` may not be empty")
            if len(set(self.values)) != len(self.values):
                raise ValueError(f"label {self.name!r}: `values` has duplicates")
        return self

    @property
    def cardinality(self) -> int:
        return len(self.values) if self.values is not None else int(self.max_cardinality or 0)


class Metric(SpecModel):
    """One metric family. ``name`` is the family name: a counter ``agent_requests`` is
    exposed as ``agent_requests_total``, a histogram as ``_bucket``/``_sum``/``_count``."""

    stack_field = "metrics"

    name: str = Field(pattern=METRIC_NAME)
    type: MetricType
    help: str = Field(min_length=1)
    unit: str = Field(default="", pattern=r"^([a-z]+)?$")
    labels: tuple[Label, ...] = ()
    buckets: tuple[float, ...] | None = None
    source: MetricSource = MetricSource.APP
    # The scrape job that exposes it (a Service name); None exactly for the series
    # Prometheus writes per target (the stack derives those from its scrape jobs).
    service: str | None = None
    # The series exists only after its first event: OpenTelemetry SDK counters (the
    # collector's own metrics) export no point before their first increment, so a run
    # without failures has no failure counter at all. Rules read such a counter with
    # `or` on a series that always exists, and a live run does not require it.
    first_event_only: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        if self.type is MetricType.COUNTER and self.name.endswith(COUNTER_SUFFIXES):
            problems.append(
                f"counter family name {self.name!r} must not end in '_total' "
                "(the exposition adds it): name it "
                f"{self.name.removesuffix('_total')!r}"
            )
        if self.name.endswith((*HISTOGRAM_SUFFIXES, CREATED_SUFFIX)):
            problems.append(f"{self.name!r} ends in a suffix the exposition reserves")
        if self.unit and not re.search(rf"_{self.unit}$", self.name):
            problems.append(f"name {self.name!r} must end in its unit '_{self.unit}'")
        if ":" in self.name and self.source is not MetricSource.EXTERNAL:
            problems.append(
                f"{self.name!r}: colons are for recording rules; only an external "
                "server's own metric may carry one"
            )
        names = [label.name for label in self.labels]
        if len(set(names)) != len(names):
            problems.append(f"duplicate label names in {names}")
        if self.type is MetricType.HISTOGRAM:
            problems.extend(_bucket_problems(self.buckets))
        elif self.buckets is not None:
            problems.append(f"buckets only apply to histograms, not to a {self.type}")
        if self.source is MetricSource.SCRAPE and self.service is not None:
            problems.append("a scrape-synthetic series belongs to every job: no `service`")
        elif self.source is not MetricSource.SCRAPE and self.service is None:
            problems.append(
                "`service` is required: the scrape job (a Service name) that exposes it"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def series_names(self) -> tuple[str, ...]:
        """The sample names this family produces in the exposition."""
        if self.type is MetricType.COUNTER:
            return tuple(self.name + suffix for suffix in COUNTER_SUFFIXES)
        if self.type is MetricType.HISTOGRAM:
            return tuple(self.name + suffix for suffix in HISTOGRAM_SUFFIXES)
        return (self.name,)

    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def label(self, name: str) -> Label | None:
        return next((label for label in self.labels if label.name == name), None)

    def series_cardinality(self) -> int:
        """Upper bound of series per target (histograms: one per bucket plus +Inf,
        sum and count)."""
        product = math.prod(label.cardinality for label in self.labels)
        if self.type is MetricType.HISTOGRAM:
            return product * (len(self.buckets or ()) + 3)
        return product


def _bucket_problems(buckets: tuple[float, ...] | None) -> list[str]:
    if not buckets:
        return ["a histogram needs `buckets` (upper bounds; +Inf is implicit)"]
    problems = []
    if any(not math.isfinite(b) for b in buckets):
        problems.append("buckets must be finite (+Inf is added by the client)")
    if any(b <= a for a, b in itertools.pairwise(buckets)):
        problems.append(f"buckets must be strictly increasing, got {list(buckets)}")
    return problems
