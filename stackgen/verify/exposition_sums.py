"""What several instances' own /metrics add up to (pure): the figure an aggregate over
the job (``sum by (labels) (x)``) must equal once the scrapes have caught up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client.parser import text_string_to_metric_families

from stackgen.conventions import COUNTER_SUFFIXES, HISTOGRAM_SUFFIXES
from stackgen.spec import Metric, MetricType
from stackgen.verify.answers import Labels

__all__ = ["aggregate_query", "exposed_series_names", "exposition_sums", "label_names"]


def exposed_series_names(metric: Metric) -> list[str]:
    """The sample names a catalog metric is exposed under (``_total`` of a counter,
    ``_bucket``/``_sum``/``_count`` of a histogram)."""
    suffixes = {MetricType.COUNTER: COUNTER_SUFFIXES, MetricType.HISTOGRAM: HISTOGRAM_SUFFIXES}
    return [metric.name + suffix for suffix in suffixes.get(metric.type, ("",))]


def aggregate_query(name: str, labels: Sequence[str], job: str) -> str:
    """``sum by (labels) (name{job="..."})``: the job-wide figure of one sample name
    (other jobs expose some of the same names: process_*)."""
    return f'sum by ({", ".join(labels)}) ({name}{{job="{job}"}})'


def exposition_sums(
    texts: Iterable[str], name: str, labels: Sequence[str]
) -> Mapping[Labels, float]:
    """The samples named ``name`` in every exposition text, summed by ``labels``."""
    wanted = list(labels)
    sums: dict[Labels, float] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name != name:
                    continue
                key = tuple(sorted((k, sample.labels[k]) for k in wanted if k in sample.labels))
                sums[key] = sums.get(key, 0.0) + float(sample.value)
    return sums


def label_names(metric: Metric, name: str) -> list[str]:
    """The labels to sum a sample name by: the metric's own, and ``le`` for buckets."""
    labels = sorted(label.name for label in metric.labels)
    return [*labels, "le"] if name.endswith("_bucket") else labels
