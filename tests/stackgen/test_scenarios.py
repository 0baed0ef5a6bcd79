"""stackgen.spec.scenarios writes promtool expanding notation; these tests expand it
back, sample by sample, and check what the scenario promises."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest
import yaml

from stackgen.spec import Metric, MetricType, Stack
from stackgen.spec.scenarios import counter, gauge, histogram, le_value
from tests.conftest import run_tool

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_SEGMENT = re.compile(rf"^(?P<start>{_NUMBER})(?:(?P<op>[-+])(?P<step>{_NUMBER}))?x(?P<count>\d+)$")


def expand_series(text: str) -> list[float]:
    """promtool's expanding notation: 'a+bxn' is a, a+b, ..., a+n*b (n+1 samples),
    'a-bxn' decrements, 'axn' is a repeated n+1 times, a bare number is one sample."""
    values: list[float] = []
    for segment in text.split():
        match = _SEGMENT.match(segment)
        if match is None:
            if re.fullmatch(_NUMBER, segment) is None:
                raise ValueError(f"not expanding notation: {segment!r}")
            values.append(float(segment))
            continue
        start = float(match["start"])
        step = float(match["step"] or 0) * (-1 if match["op"] == "-" else 1)
        values.extend(start + step * k for k in range(int(match["count"]) + 1))
    return values


def increments(values: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(values)]


PARSER: dict[str, tuple[str, list[float]]] = {
    "increasing": ("0+2x3", [0, 2, 4, 6]),
    "decreasing": ("10-3x2", [10, 7, 4]),
    "constant": ("5x2", [5, 5, 5]),
    "zero-count": ("7+1x0", [7]),
    "bare-number": ("3", [3]),
    "fractions": ("0.5+0.25x2", [0.5, 0.75, 1.0]),
    "exponent": ("1e-07x1", [1e-07, 1e-07]),
    "several-segments": ("0+1x2 10x1 4", [0, 1, 2, 10, 10, 4]),
}


@pytest.mark.parametrize(("text", "values"), PARSER.values(), ids=PARSER.keys())
def test_the_test_parser_itself(text: str, values: list[float]) -> None:
    assert expand_series(text) == values


def test_the_test_parser_refuses_garbage() -> None:
    with pytest.raises(ValueError):
        expand_series("0+1y3")


def test_the_test_parser_agrees_with_promtool(promtool: str, tmp_path: Path) -> None:
    notations = [
        *(text for text, _ in PARSER.values()),
        counter(2, 10, 4, 10),
        counter(0.5, 1.5, 3, 6),
        gauge(-1.5, 2, 3, 6),
    ]
    checks = []
    for index, text in enumerate(notations):
        for minute, value in enumerate(expand_series(text)):
            checks.append(
                {
                    "expr": f"s{index}",
                    "eval_time": f"{minute}m",
                    "exp_samples": [{"labels": f"s{index}", "value": value}],
                }
            )
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f"s{index}", "values": text} for index, text in enumerate(notations)
                ],
                "promql_expr_test": checks,
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    result = run_tool(promtool, "test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- counter --------------------------------------------------------------------------

COUNTER_NOTATION: dict[str, tuple[float, float, int, int, str]] = {
    "integers": (2, 10, 4, 10, "0+2x3 16+10x5"),
    "fractions": (0.5, 1.5, 3, 6, "0+0.5x2 2.5+1.5x2"),
    "flat-then-growing": (0, 3, 5, 8, "0+0x4 3+3x2"),
    "fault-at-first-step": (1, 4, 1, 4, "0+1x0 4+4x2"),
    "fault-at-last-step": (1, 4, 3, 4, "0+1x2 6+4x0"),
    "integral-floats-print-as-integers": (3.0, 6.0, 2, 4, "0+3x1 9+6x1"),
}


@pytest.mark.parametrize(
    ("before", "after", "fault_step", "steps", "notation"),
    COUNTER_NOTATION.values(),
    ids=COUNTER_NOTATION.keys(),
)
def test_counter_notation(
    before: float, after: float, fault_step: int, steps: int, notation: str
) -> None:
    assert counter(before, after, fault_step, steps) == notation


@pytest.mark.parametrize(
    ("before", "after", "fault_step", "steps"),
    [(2, 10, 4, 10), (0.5, 1.5, 3, 6), (0, 3, 5, 8), (1, 4, 1, 4), (1, 4, 3, 4), (7, 0, 40, 70)],
)
def test_counter_increments_healthy_before_the_fault_and_faulty_from_it(
    before: float, after: float, fault_step: int, steps: int
) -> None:
    values = expand_series(counter(before, after, fault_step, steps))
    assert len(values) == steps
    assert values[0] == 0
    # Sample i is at i * interval; the increment into sample i is healthy while
    # i < fault_step and faulty from fault_step on.
    expected = [before if i < fault_step else after for i in range(1, steps)]
    assert increments(values) == pytest.approx(expected)


# --- gauge ----------------------------------------------------------------------------

GAUGE_NOTATION: dict[str, tuple[float, float, int, int, str]] = {
    "integers": (1, 0, 4, 10, "1x3 0x5"),
    "fractions": (0.25, 0.95, 2, 5, "0.25x1 0.95x2"),
    "negative": (-1.5, 2, 3, 6, "-1.5x2 2x2"),
    "fault-at-first-step": (5, 9, 1, 3, "5x0 9x1"),
}


@pytest.mark.parametrize(
    ("before", "after", "fault_step", "steps", "notation"),
    GAUGE_NOTATION.values(),
    ids=GAUGE_NOTATION.keys(),
)
def test_gauge_notation_and_levels(
    before: float, after: float, fault_step: int, steps: int, notation: str
) -> None:
    text = gauge(before, after, fault_step, steps)
    assert text == notation
    values = expand_series(text)
    assert values == [before] * fault_step + [after] * (steps - fault_step)


# --- histogram ------------------------------------------------------------------------

BUCKETS = (0.5, 1.0, 2.0)
LABELS = {"job": "agent-api", "agent_type": "erp"}


def _selector(le: str) -> str:
    return f'agent_ttft_seconds_bucket{{agent_type="erp",job="agent-api",le="{le}"}}'


def test_histogram_series_are_cumulative_with_an_inf_bucket() -> None:
    series = histogram(
        "agent_ttft_seconds",
        BUCKETS,
        LABELS,
        before={0.5: 3, 1.0: 1},
        after={2.0: 2, math.inf: 1},
        fault_step=2,
        steps=5,
    )
    # Labels sorted by name, then le formatted like prometheus_client.
    assert list(series) == [_selector("0.5"), _selector("1.0"), _selector("2.0"), _selector("+Inf")]
    per_sample = {selector: increments(expand_series(text)) for selector, text in series.items()}
    # Healthy: 3 observations <= 0.5 and 1 in (0.5, 1] per sample; faulty: 2 in (1, 2]
    # and 1 above 2 per sample.
    assert per_sample == {
        _selector("0.5"): [3, 0, 0, 0],
        _selector("1.0"): [4, 0, 0, 0],
        _selector("2.0"): [4, 2, 2, 2],
        _selector("+Inf"): [4, 3, 3, 3],
    }
    # At every sample a bucket holds at least what the smaller buckets hold.
    columns = [expand_series(text) for text in series.values()]
    assert all(len(column) == 5 for column in columns)
    for sample in zip(*columns, strict=True):
        assert list(sample) == sorted(sample)


def test_histogram_matches_counter_per_bucket() -> None:
    series = histogram(
        "agent_ttft_seconds", BUCKETS, LABELS, {1.0: 10}, {2.0: 10}, fault_step=40, steps=70
    )
    assert series == {
        _selector("0.5"): counter(0, 0, 40, 70),
        _selector("1.0"): counter(10, 0, 40, 70),
        _selector("2.0"): counter(10, 10, 40, 70),
        _selector("+Inf"): counter(10, 10, 40, 70),
    }


def test_histogram_without_labels() -> None:
    series = histogram("router_latency_seconds", (0.1,), {}, {0.1: 1}, {math.inf: 1}, 2, 4)
    assert series == {
        'router_latency_seconds_bucket{le="0.1"}': "0+1x1 1+0x1",
        'router_latency_seconds_bucket{le="+Inf"}': "0+1x1 2+1x1",
    }
    assert [expand_series(text) for text in series.values()] == [[0, 1, 1, 1], [0, 1, 2, 3]]


@pytest.mark.parametrize(
    ("before", "after"),
    [({0.7: 1}, {}), ({}, {3.0: 1}), ({0.5: 1}, {-math.inf: 1})],
    ids=["before-between-bounds", "after-above-bounds", "minus-inf"],
)
def test_histogram_rejects_a_bound_that_is_not_a_bucket(
    before: dict[float, float], after: dict[float, float]
) -> None:
    with pytest.raises(ValueError, match=r"is not a bucket bound of agent_ttft_seconds: \[0.5"):
        histogram("agent_ttft_seconds", BUCKETS, LABELS, before, after, fault_step=2, steps=5)


# --- fault_step outside (0, steps) ----------------------------------------------------


@pytest.mark.parametrize(("fault_step", "steps"), [(0, 10), (10, 10), (-1, 10), (12, 10)])
@pytest.mark.parametrize("helper", ["counter", "gauge", "histogram"])
def test_fault_step_must_lie_inside_the_scenario(helper: str, fault_step: int, steps: int) -> None:
    message = rf"need 0 < fault_step \({fault_step}\) < steps \({steps}\)"
    with pytest.raises(ValueError, match=message):
        if helper == "counter":
            counter(1, 2, fault_step, steps)
        elif helper == "gauge":
            gauge(1, 2, fault_step, steps)
        else:
            histogram("agent_ttft_seconds", BUCKETS, LABELS, {0.5: 1}, {2.0: 1}, fault_step, steps)


# --- le formatting --------------------------------------------------------------------

LE_VALUES: dict[str, tuple[float, str]] = {
    "one": (1.0, "1.0"),
    "half": (0.5, "0.5"),
    "int-bound": (10, "10.0"),
    "small": (0.005, "0.005"),
    "two-and-a-half": (2.5, "2.5"),
    "tiny-uses-exponent": (1e-05, "1e-05"),
    "six-digit-integer-part": (123456.0, "123456.0"),
    "plus-inf": (math.inf, "+Inf"),
}

# prometheus_client's floatToGoString switches to Go's exponent form once the integer
# part has 7 digits or more.
LE_VALUES_LARGE: dict[str, tuple[float, str]] = {
    "one-million": (1e6, "1e+06"),
    "two-and-a-half-million": (2.5e6, "2.5e+06"),
    "ten-million": (1e7, "1e+07"),
}


@pytest.mark.parametrize(
    ("bound", "expected"),
    [*LE_VALUES.values(), *LE_VALUES_LARGE.values()],
    ids=[*LE_VALUES, *LE_VALUES_LARGE],
)
def test_le_value_like_prometheus_client(bound: float, expected: str) -> None:
    assert le_value(bound) == expected


# --- the BestBox scenarios use these helpers consistently -----------------------------

_BUCKET_SELECTOR = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\{.*le="(?P<le>[^"]+)"')


def test_bestbox_bucket_series_name_real_buckets(stack: Stack) -> None:
    metrics: dict[str, Metric] = {m.name: m for m in stack.metrics}
    tests = [a.test for a in stack.alerts] + [r.test for r in stack.recording_rules]
    seen: dict[str, set[str]] = {}
    for test in tests:
        inputs = [test.series]
        near_miss = getattr(test, "near_miss", None)
        if near_miss is not None:
            inputs.append(near_miss)
        for series in inputs:
            for selector, values in series.items():
                match = _BUCKET_SELECTOR.match(selector)
                if match is None:
                    continue
                metric = metrics[match["name"]]
                assert metric.type is MetricType.HISTOGRAM
                allowed = {le_value(b) for b in (*(metric.buckets or ()), math.inf)}
                assert match["le"] in allowed, selector
                seen.setdefault(match["name"], set()).add(match["le"])
                assert expand_series(values)  # parses as expanding notation
    assert seen, "the BestBox scenarios use no histogram"
    for name, les in seen.items():
        assert "+Inf" in les, name
