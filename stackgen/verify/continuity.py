"""Whether the store holds every sample a Prometheus replica wrote, and how far apart
its samples are (pure): the proof that a storage node restarted without loss.

Both sides are raw samples of a range selector (``{job="x"}[90s]``): the replica's own
and the store's for that replica's series (no de-duplication), compared series by
series on timestamp and value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stackgen.verify.answers import Labels

__all__ = ["Continuity", "Samples", "check_continuity", "max_gap", "parse_matrix"]

Samples = dict[Labels, list[tuple[float, float]]]


def parse_matrix(
    data: Mapping[str, Any], drop: Iterable[str] = (), only: Mapping[str, str] | None = None
) -> Samples:
    """A range query's ``data`` (resultType matrix): series -> (timestamp, value) in
    order, keeping series whose labels include every pair of ``only``, then without the
    labels in ``drop``."""
    dropped, wanted = set(drop), dict(only or {})
    samples: Samples = {}
    for series in data["result"]:
        metric: dict[str, str] = series["metric"]
        if any(metric.get(k) != v for k, v in wanted.items()):
            continue
        labels = tuple(sorted((k, v) for k, v in metric.items() if k not in dropped))
        points = [(float(t), float(v)) for t, v in series["values"]]
        samples.setdefault(labels, []).extend(points)
    for points in samples.values():
        points.sort()
    return samples


def max_gap(points: list[tuple[float, float]]) -> float:
    """The longest time between two consecutive samples (0 for fewer than two)."""
    times = [t for t, _ in points]
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@dataclass(frozen=True)
class Continuity:
    series: int  # series of the replica compared
    samples: int  # samples of the replica in the window
    lost: int  # of those, missing from the store or with another value there
    max_gap_s: float  # longest interval between the store's samples of one series
    reference_gap_s: float  # the same on the replica itself (its own scrape spacing)
    examples: tuple[str, ...] = ()

    def passed(self, gap_bound_s: float) -> bool:
        return self.series > 0 and self.lost == 0 and self.max_gap_s <= gap_bound_s


def check_continuity(reference: Samples, stored: Samples, examples: int = 3) -> Continuity:
    """Every sample of ``reference`` must be in ``stored`` with the same value."""
    lost = 0
    shown: list[str] = []
    worst_gap = reference_gap = 0.0
    for labels, points in sorted(reference.items()):
        reference_gap = max(reference_gap, max_gap(points))
        kept = dict(stored.get(labels, []))
        worst_gap = max(worst_gap, max_gap(stored.get(labels, [])))
        missing = [t for t, v in points if t not in kept or not _same(kept[t], v)]
        lost += len(missing)
        if missing and len(shown) < examples:
            name = dict(labels).get("__name__", "")
            shown.append(f"{name}{dict(labels)}: {len(missing)} of {len(points)} samples")
    return Continuity(
        series=len(reference),
        samples=sum(len(p) for p in reference.values()),
        lost=lost,
        max_gap_s=worst_gap,
        reference_gap_s=reference_gap,
        examples=tuple(shown),
    )
