"""promtool tests of the spec's alerts and recording rules, from their synthetic data.

For every alert: silent just before its fault, firing ``fires_within`` after it with
the exact labels and expanded annotations of its rule, and silent on the near miss. For
every recording rule: its expected samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from stackgen.rules_model.model import (
    AlertingRule,
    AlertRuleTest,
    ExpectedAlert,
    ExpectedSample,
    InputSeries,
    PromqlExprTest,
    RecordingRuleEntry,
    RuleTest,
)
from stackgen.spec import Alert, RecordingRule
from stackgen.spec.base import duration_seconds, duration_text
from stackgen.templating import expand

__all__ = ["ROUNDING_STEP", "alert_tests", "input_series", "labels_text", "recording_test"]

# promtool 2.42 compares sample values exactly, and rate() arithmetic leaves the last
# bit uncertain (0.1 comes out as 0.09999999999999999). Tests therefore compare the
# rule rounded to this step, and the expected value is rounded the way PromQL's
# round() does it (math.Floor(v*inverse+0.5) / inverse), which is exact in both.
ROUNDING_STEP = 1e-6


def input_series(series: Mapping[str, str]) -> tuple[InputSeries, ...]:
    return tuple(InputSeries(selector, values) for selector, values in series.items())


def labels_text(labels: Mapping[str, str]) -> str:
    """A label set as promtool's exp_samples write it, keys sorted."""
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{{{inner}}}"


def alert_tests(alert: Alert, rule: AlertingRule) -> tuple[RuleTest, RuleTest]:
    """The fault test and the near-miss test of ``alert``, whose rule is ``rule``."""
    test = alert.test
    fault = duration_seconds(test.fault_at)
    firing_at = duration_text(fault + duration_seconds(test.fires_within))
    before_fault = duration_text(fault - duration_seconds(test.interval))
    expected = ExpectedAlert(
        exp_labels={**rule.labels, **dict(sorted(test.labels.items()))},
        exp_annotations={
            key: expand(text, test.labels, test.value) for key, text in rule.annotations.items()
        },
    )
    return (
        RuleTest(
            name=f"{alert.name}: silent before the fault, firing {test.fires_within} after it",
            interval=test.interval,
            input_series=input_series(test.series),
            alert_rule_tests=(
                AlertRuleTest(before_fault, alert.name),
                AlertRuleTest(firing_at, alert.name, (expected,)),
            ),
        ),
        RuleTest(
            name=f"{alert.name}: silent on a near miss",
            interval=test.interval,
            input_series=input_series(test.near_miss),
            alert_rule_tests=(AlertRuleTest(firing_at, alert.name),),
        ),
    )


def _promql_round(value: float) -> float:
    inverse = 1.0 / ROUNDING_STEP
    return math.floor(value * inverse + 0.5) / inverse


def recording_test(spec: RecordingRule, rule: RecordingRuleEntry) -> RuleTest:
    """The expected samples of ``spec``'s test, read through ``rule``."""
    test = spec.test
    return RuleTest(
        name=f"{rule.record}: expected samples",
        interval=test.interval,
        input_series=input_series(test.series),
        promql_expr_tests=(
            PromqlExprTest(
                expr=f"round({rule.record}, {ROUNDING_STEP:g})",
                eval_time=test.at,
                exp_samples=tuple(
                    # round() drops the metric name.
                    ExpectedSample(labels_text({**s.labels, **rule.labels}), _promql_round(s.value))
                    for s in test.expect
                ),
            ),
        ),
    )
