"""Helpers that write promtool input series (expanding notation) for alert tests.

A scenario is ``steps`` samples ``interval`` apart: healthy before ``fault_step`` and
faulty from it (``fault_at = fault_step * interval``). Counters take increments per
sample, gauges a level, histograms observations per sample by bucket.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["counter", "gauge", "histogram", "le_value"]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check(fault_step: int, steps: int) -> None:
    if not 0 < fault_step < steps:
        raise ValueError(f"need 0 < fault_step ({fault_step}) < steps ({steps})")


def counter(before: float, after: float, fault_step: int, steps: int) -> str:
    """A counter growing by ``before`` per sample, then by ``after`` from ``fault_step``."""
    _check(fault_step, steps)
    first_faulty = before * (fault_step - 1) + after
    return (
        f"0+{_num(before)}x{fault_step - 1} "
        f"{_num(first_faulty)}+{_num(after)}x{steps - fault_step - 1}"
    )


def gauge(before: float, after: float, fault_step: int, steps: int) -> str:
    """A gauge at ``before``, then at ``after`` from ``fault_step``."""
    _check(fault_step, steps)
    return f"{_num(before)}x{fault_step - 1} {_num(after)}x{steps - fault_step - 1}"


def le_value(bound: float) -> str:
    """The ``le`` label value prometheus_client writes for a bucket bound."""
    if math.isinf(bound):
        return "+Inf"
    # prometheus_client's floatToGoString: Go switches to exponents sooner than Python.
    text = repr(float(bound))
    dot = text.find(".")
    if bound > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def histogram(
    name: str,
    buckets: tuple[float, ...],
    labels: Mapping[str, str],
    before: Mapping[float, float],
    after: Mapping[float, float],
    fault_step: int,
    steps: int,
) -> dict[str, str]:
    """Cumulative ``_bucket`` series of a histogram.

    ``before``/``after`` map a bucket bound to the observations per sample that fall in
    that bucket (above the previous bound, at or below this one); ``math.inf`` is the
    overflow bucket.
    """
    bounds = (*buckets, math.inf)
    for observed in (*before, *after):
        if observed not in bounds:
            raise ValueError(f"{observed} is not a bucket bound of {name}: {list(buckets)}")
    label_text = "".join(f'{key}="{value}",' for key, value in sorted(labels.items()))
    series = {}
    for bound in bounds:
        per_step_before = sum(n for b, n in before.items() if b <= bound)
        per_step_after = sum(n for b, n in after.items() if b <= bound)
        selector = f'{name}_bucket{{{label_text}le="{le_value(bound)}"}}'
        series[selector] = counter(per_step_before, per_step_after, fault_step, steps)
    return series
