"""What a query may name: the catalog's series and the recording rules, with their labels
and the interval their samples arrive at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stackgen.conventions import (
    BUCKET_LABEL,
    COUNTER_SUFFIXES,
    HISTOGRAM_SUFFIXES,
    SCRAPE_LABELS,
)
from stackgen.spec import Metric, MetricSource, MetricType, Stack, duration_seconds

__all__ = ["CatalogIndex", "SeriesRef"]

ALL_SUFFIXES = (*COUNTER_SUFFIXES, *HISTOGRAM_SUFFIXES)


@dataclass(frozen=True)
class SeriesRef:
    """A series name resolved against the catalog (``metric``) or a recording rule."""

    name: str
    metric: Metric | None
    suffix: str
    rule_labels: frozenset[str] | None = None  # set for recording rules (None: unknown)

    @property
    def is_rule(self) -> bool:
        return self.metric is None

    @property
    def cumulative(self) -> bool:
        """Values only grow (counter samples, histogram buckets, sums and counts)."""
        return self.metric is not None and self.metric.type is not MetricType.GAUGE

    @property
    def is_bucket(self) -> bool:
        return self.metric is not None and self.suffix == "_bucket"

    @property
    def labels(self) -> frozenset[str] | None:
        if self.metric is None:
            return self.rule_labels
        names = set(self.metric.label_names()) | set(SCRAPE_LABELS)
        if self.is_bucket:
            names.add(BUCKET_LABEL)
        return frozenset(names)

    def spec(self) -> str:
        return self.metric.spec_name() if self.metric else f"RecordingRule[{self.name}]"


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

    def resolve(self, name: str) -> SeriesRef | None:
        return self.series.get(name)

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
