"""What a query may name: the catalog's series and the recording rules, with their labels
and the interval their samples arrive at."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from stackgen.check.inference import SeriesKind
from stackgen.conventions import (
    BUCKET_LABEL,
    COUNTER_SUFFIXES,
    HISTOGRAM_SUFFIXES,
    SCRAPE_LABELS,
)
from stackgen.spec import Metric, MetricSource, MetricType, Stack, duration_seconds

__all__ = ["CatalogIndex", "SeriesIndex", "SeriesRef"]

ALL_SUFFIXES = (*COUNTER_SUFFIXES, *HISTOGRAM_SUFFIXES)
_CUMULATIVE_KINDS = frozenset({SeriesKind.COUNTER, SeriesKind.USED_AS_COUNTER, SeriesKind.BUCKET})


@dataclass(frozen=True)
class SeriesRef:
    """A series name resolved against the catalog (``metric``), a recording rule, or,
    when the catalog does not own it, typed by its name alone (``inferred``).
    ``unknown`` marks a name the catalog should know but does not (a finding)."""

    name: str
    metric: Metric | None
    suffix: str
    rule_labels: frozenset[str] | None = None  # set for recording rules (None: unknown)
    inferred: SeriesKind | None = None
    unknown: bool = False

    @property
    def is_rule(self) -> bool:
        return self.metric is None and self.inferred is None

    @property
    def cumulative(self) -> bool:
        """Values only grow (counter samples, histogram buckets, sums and counts); for a
        name without a catalog entry, only when its name or use proves it."""
        if self.inferred is not None:
            return self.inferred in _CUMULATIVE_KINDS
        return self.metric is not None and self.metric.type is not MetricType.GAUGE

    @property
    def raw_value_misleads(self) -> bool:
        """Comparing its raw value is a mistake: a counter the catalog declares, or one
        the file itself feeds to ``rate`` (a ``_total`` name alone does not prove it)."""
        if self.inferred is not None:
            return self.inferred in (SeriesKind.USED_AS_COUNTER, SeriesKind.BUCKET)
        return self.cumulative

    @property
    def gauge_like(self) -> bool:
        """A gauge: declared so, or named so (see ``stackgen.check.inference``)."""
        if self.inferred is not None:
            return self.inferred is SeriesKind.GAUGE
        return self.metric is not None and self.metric.type is MetricType.GAUGE

    @property
    def typed(self) -> bool:
        """The catalog or the name says what type the series is."""
        return self.metric is not None or self.inferred not in (None, SeriesKind.UNKNOWN)

    @property
    def kind_name(self) -> str:
        if self.metric is not None:
            return str(self.metric.type)
        return str(self.inferred or SeriesKind.RECORDING_RULE)

    @property
    def is_bucket(self) -> bool:
        if self.inferred is not None:
            return self.inferred is SeriesKind.BUCKET
        return self.metric is not None and self.suffix == "_bucket"

    @property
    def may_be_native_histogram(self) -> bool:
        """A name its suffix does not type: it may be a native histogram, which
        ``histogram_quantile`` reads (after ``rate``) without ``_bucket``."""
        return self.inferred in (SeriesKind.UNKNOWN, SeriesKind.USED_AS_COUNTER) and (
            not self.name.endswith(COUNTER_SUFFIXES)
        )

    @property
    def labels(self) -> frozenset[str] | None:
        if self.inferred is not None:
            return None
        if self.metric is None:
            return self.rule_labels
        names = set(self.metric.label_names()) | set(SCRAPE_LABELS)
        if self.is_bucket:
            names.add(BUCKET_LABEL)
        return frozenset(names)

    def spec(self) -> str:
        if self.inferred is not None:
            return ""
        return self.metric.spec_name() if self.metric else f"RecordingRule[{self.name}]"


class SeriesIndex(Protocol):
    """What the PromQL checker asks of the names a query reads: the catalog's index, or
    an index for files the stack did not write (``stackgen.check.foreign_index``).
    ``matchers`` are the selector's label matchers (promql-parser ``Matcher`` objects):
    which job a selector reads decides whose metric it is."""

    @property
    def jobs(self) -> Mapping[str, object]: ...

    @property
    def unbounded(self) -> frozenset[str]: ...

    def resolve(self, name: str, matchers: Sequence[Any] = ()) -> SeriesRef | None: ...

    def misnamed(self, name: str) -> Metric | None: ...

    def sample_interval(self, ref: SeriesRef, jobs: Iterable[str]) -> float: ...

    def add_rule(self, record: str, labels: frozenset[str] | None) -> None: ...


class CatalogIndex:
    """Name lookups over a stack; recording rules' labels are added by the checker once
    it has inferred them (``add_rule``)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.metrics = {m.name: m for m in stack.metrics}
        self.series: dict[str, SeriesRef] = {}
        for metric in stack.metrics:
            for name in metric.series_names():
                self.series[name] = SeriesRef(name, metric, name.removeprefix(metric.name))
        self.jobs = {s.name: s for s in stack.scraped_services()}
        self.unbounded = frozenset(stack.unbounded_labels)

    def add_rule(self, record: str, labels: frozenset[str] | None) -> None:
        self.series[record] = SeriesRef(record, None, "", labels)

    def resolve(self, name: str, matchers: Sequence[Any] = ()) -> SeriesRef | None:
        """The catalog series or recording rule of that name; the stack's own files
        read only its metrics, whatever job they select."""
        return self.series.get(name)

    def owning_jobs(self, metric: Metric) -> frozenset[str]:
        """The scrape jobs whose targets expose ``metric`` (every job for the series
        Prometheus synthesises per target)."""
        if metric.service is None or metric.source is MetricSource.SCRAPE:
            return frozenset(self.jobs)
        return frozenset({metric.service}) & frozenset(self.jobs) or frozenset({metric.service})

    def misnamed(self, name: str) -> Metric | None:
        """The catalog metric a name with a wrong (or missing) suffix refers to."""
        if name in self.metrics:
            return self.metrics[name]
        for suffix in ALL_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in self.metrics:
                return self.metrics[name.removesuffix(suffix)]
        return None

    def sample_interval(self, ref: SeriesRef, jobs: Iterable[str]) -> float:
        """Seconds between samples of a series: its job's scrape interval, the rule
        evaluation interval for recording rules; the slowest job when unknown."""
        stack = self.stack
        if ref.metric is None:
            return duration_seconds(stack.prometheus.evaluation_interval)
        if ref.metric.source is MetricSource.SCRAPE:
            candidates = [self.jobs[j] for j in jobs if j in self.jobs] or list(self.jobs.values())
        else:
            service = stack.service(ref.metric.service or "")
            candidates = [service] if service else []
        intervals = [duration_seconds(stack.scrape_interval_of(s)) for s in candidates]
        return max(intervals, default=duration_seconds(stack.prometheus.scrape_interval))
