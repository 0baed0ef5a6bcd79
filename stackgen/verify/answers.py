"""The values an instant query answers, and whether several sources agree on them (pure).

Two Prometheus replicas scrape the same targets at different moments, and the store
answers from whichever replica its de-duplication picked, so the same expression gives
slightly different numbers on each: a rate over a window holds one sample more or less.
Answers agree when they hold the same series (labels compared without the ones only a
replica or the store adds) and every value is within the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Answer",
    "Comparison",
    "Labels",
    "Movement",
    "Tolerance",
    "compare_answers",
    "movement",
    "parse_answer",
    "relative_difference",
]

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Answer:
    """An instant query's result: series (sorted labels) -> value; a scalar is the one
    series without labels. ``error`` set: the query failed."""

    values: Mapping[Labels, float]
    error: str | None = None


def _value(sample: Any) -> float:
    return float(sample[1])  # [timestamp, "value"]; "NaN" and "+Inf" parse as floats


def parse_answer(data: Mapping[str, Any], drop: Iterable[str] = ()) -> Answer:
    """The ``data`` of a query API reply, without the labels in ``drop``. Two series
    that become one by the drop are a disagreement the caller must see: the later
    one is kept under the labels and marked by an error."""
    dropped = set(drop)
    kind = data["resultType"]
    if kind in ("scalar", "string"):
        return Answer({(): _value(data["result"])})
    values: dict[Labels, float] = {}
    for series in data["result"]:
        labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k not in dropped))
        if labels in values:
            return Answer(values, f"two series are {dict(labels)} once {sorted(dropped)} dropped")
        values[labels] = _value(series["value"])
    return Answer(values)


@dataclass(frozen=True)
class Tolerance:
    """Values a and b agree when |a - b| <= max(absolute, relative * max(|a|, |b|))."""

    relative: float = 0.2
    absolute: float = 1e-9

    def close(self, a: float, b: float, slack: float = 0.0) -> bool:
        """``slack``: how far the value itself moves between two samplings (added)."""
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        allowed = max(self.absolute, self.relative * max(abs(a), abs(b))) + slack
        return abs(a - b) <= allowed

    def describe(self) -> str:
        return f"{self.relative:.0%} relative (or {self.absolute:g} absolute)"


def relative_difference(a: float, b: float) -> float:
    """|a - b| relative to the larger magnitude; 0 for equal values (NaN, Inf alike)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b))


@dataclass(frozen=True)
class Comparison:
    # Series per source, in the order given.
    series: tuple[int, ...]
    # The largest relative difference of one series' values across the sources.
    max_difference: float
    problems: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return not self.problems


def _labels_text(labels: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


@dataclass(frozen=True)
class Movement:
    """How the answers changed over one sampling interval, series by series."""

    # The largest change of each series' value on any one source; a series that one
    # source did not have a moment earlier moved from nothing to its value.
    moved: Mapping[Labels, float]
    # Series some source did not have a moment earlier: a source sampled just before
    # they appeared may not have them yet.
    appearing: frozenset[Labels]


def movement(now: Mapping[str, Answer], before: Mapping[str, Answer]) -> Movement:
    """Compare each source's answer now with its answer one sampling interval earlier:
    how far sampling a moment earlier or later can move each series. Non-finite values
    move by nothing here (they must be equal)."""
    moved: dict[Labels, float] = {}
    appearing: set[Labels] = set()
    for name, answer in now.items():
        earlier = before.get(name)
        if earlier is None:
            continue
        for labels, value in answer.values.items():
            previous = earlier.values.get(labels)
            if previous is None:
                appearing.add(labels)
                previous = 0.0
            if not (math.isfinite(value) and math.isfinite(previous)):
                continue
            moved[labels] = max(moved.get(labels, 0.0), abs(value - previous))
    return Movement(moved, frozenset(appearing))


def compare_answers(
    answers: Mapping[str, Answer],
    tolerance: Tolerance,
    sampling: Movement | None = None,
) -> Comparison:
    """Whether every source (name -> answer) holds the same series with close values.
    ``sampling`` (see ``movement``): how far each series moves within one sampling
    interval is allowed on top of the tolerance, and a series just appearing may be
    missing on a source."""
    slack = sampling.moved if sampling else {}
    appearing = sampling.appearing if sampling else frozenset()
    problems: list[str] = []
    for name, answer in answers.items():
        if answer.error is not None:
            problems.append(f"{name}: {answer.error}")
    counts = tuple(len(a.values) for a in answers.values())
    if problems:
        return Comparison(counts, math.inf, tuple(problems))
    names = list(answers)
    every = set().union(*(a.values.keys() for a in answers.values())) if names else set()
    worst = 0.0
    for labels in sorted(every):
        missing = [n for n in names if labels not in answers[n].values]
        if missing and labels not in appearing:
            problems.append(f"{_labels_text(labels)} missing on {', '.join(missing)}")
            continue
        values = [answers[n].values[labels] for n in names if n not in missing]
        spread = max(relative_difference(a, b) for a in values for b in values)
        worst = max(worst, spread)
        allowed = slack.get(labels, 0.0)
        if not all(tolerance.close(a, b, allowed) for a in values for b in values):
            shown = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, values, strict=True))
            problems.append(f"{_labels_text(labels)} differs: {shown}")
    return Comparison(counts, worst, tuple(problems))
