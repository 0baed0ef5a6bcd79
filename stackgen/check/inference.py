"""What a series is when no catalog says so: inferred from its name (the exposition
format's suffixes and the naming conventions of Prometheus' best practices) and from how
the file uses it.

Only what a name proves is inferred. ``_bucket`` is a histogram bucket; ``_total`` is a
counter for ``delta()`` and friends, but many exporters name gauges ``_total`` too (Ceph's
``ceph_pg_total``, cAdvisor's ``container_fs_inodes_total``, MinIO's
``minio_cluster_drive_offline_total``: a capacity or a current count), so a raw ``_total``
in a comparison is called a mistake only when the same file also feeds that name to
``rate``/``increase`` (``USED_AS_COUNTER``). ``_count``/``_sum`` only grow, but gauges of
some exporters end in ``_count`` too, so they are never called raw counters. A name is
gauge-like only for suffixes no counter carries (``_ratio``, ``_percent``, ``_celsius``,
``_info``, Unix timestamps) or ``up``; ``_time_seconds`` is not one of them
(Elasticsearch's ``..._query_time_seconds`` counts seconds spent). Any other name could be
a counter of an exporter that does not append ``_total``, or a native histogram: nothing
is claimed about it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SeriesKind", "infer_kind"]


class SeriesKind(StrEnum):
    """The type a series' name (or use) proves."""

    COUNTER = "counter"
    USED_AS_COUNTER = "counter (fed to rate/increase in this file)"
    BUCKET = "histogram bucket"
    CUMULATIVE = "histogram or summary count/sum"
    GAUGE = "gauge"
    RECORDING_RULE = "recording rule"
    UNKNOWN = "series of unknown type"


# Suffixes that only gauges carry: ratios, percentages, temperatures, info metrics and
# Unix timestamps never count events.
_GAUGE_SUFFIXES = (
    "_ratio",
    "_percent",
    "_percentage",
    "_celsius",
    "_info",
    "_timestamp",
    "_timestamp_seconds",
    "_start_time_seconds",
    "_boot_time_seconds",
)
_GAUGE_NAMES = frozenset(
    {"up", "scrape_samples_scraped", "scrape_series_added", "node_time_seconds"}
)


def infer_kind(name: str, *, fed_to_rate: bool = False) -> SeriesKind:
    """The kind a series name proves (``UNKNOWN`` when it proves nothing);
    ``fed_to_rate``: the file applies ``rate``/``increase`` to it somewhere."""
    if ":" in name:
        # level:metric:operations is the naming rule of recording rules.
        return SeriesKind.RECORDING_RULE
    if name.endswith("_bucket"):
        return SeriesKind.BUCKET
    if name.endswith(("_count", "_sum")):
        return SeriesKind.CUMULATIVE
    if name in _GAUGE_NAMES or name.endswith(_GAUGE_SUFFIXES):
        return SeriesKind.GAUGE
    if fed_to_rate:
        return SeriesKind.USED_AS_COUNTER
    if name.endswith("_total"):
        return SeriesKind.COUNTER
    return SeriesKind.UNKNOWN
