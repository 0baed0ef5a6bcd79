"""promtool tests of every SLO burn tier.

Each tier gets a synthetic constant burn just above its threshold (it must fire at the
end of its long window) and one just under it (it must stay silent).

Series are sampled five times per short window (every minute for 1h/5m), and rules are
evaluated only every 6 hours: the burn alerts have no ``for``, so each evaluation stands
alone and a coarse evaluation interval changes nothing but promtool's run time (each
step evaluates every rule of the stack; at 15 s the 3-day tier alone took minutes).
Each tier is asserted at the first evaluation at or after its long window has filled
with the constant burn.
"""

from __future__ import annotations

import math

from stackgen.conventions import BUCKET_LABEL
from stackgen.rules_model.model import AlertingRule, AlertRuleTest, ExpectedAlert, RuleTest
from stackgen.rules_model.spec_tests import input_series
from stackgen.spec import SLO, BurnTier, LatencySLI, Metric, QuerySLI, Stack
from stackgen.spec.base import duration_seconds, duration_text
from stackgen.spec.scenarios import le_value

__all__ = ["EVALUATION_INTERVAL", "burn_ratios", "tier_tests"]

# Samples per short window: rate() over the short window sees this many points.
SAMPLES_PER_SHORT_WINDOW = 5
EVALUATION_INTERVAL = "6h"
# The near miss burns at this share of the threshold.
NEAR_MISS = 0.9


def burn_ratios(threshold: float) -> tuple[float, float]:
    """Error ratios that fire (10 % over the threshold, never above 1) and that do not."""
    firing = threshold + min(0.1 * threshold, (1 - threshold) / 2)
    return firing, threshold * NEAR_MISS


def _events_per_sample(threshold: float) -> int:
    """Events per sample so that the error counts have at least 3 significant digits."""
    return max(1000, int(10 ** math.ceil(math.log10(100 / threshold))))


def _selector(series: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{series}{{{inner}}}"


def _other_value(metric: Metric, label: str, value: str) -> str:
    declared = metric.label(label)
    values = declared.values if declared is not None and declared.values else ("other",)
    return next((v for v in values if v != value), f"not-{value}")


def _base_labels(stack: Stack, metric: Metric, matchers: dict[str, str]) -> dict[str, str]:
    labels = dict(matchers)
    service = stack.service(metric.service or "")
    if service is not None:
        labels.update(job=service.name, instance=service.address)
    return labels


def _series(
    slo: SLO, stack: Stack, metric: Metric, errors: int, total: int, steps: int
) -> dict[str, str]:
    """Counter series with ``errors`` bad events among ``total`` per sample."""
    sli = slo.sli
    # A query SLI has no catalog metric to synthesise: its SLO gets no tier tests.
    assert not isinstance(sli, QuerySLI)
    base = _base_labels(stack, metric, sli.matchers)
    if isinstance(sli, LatencySLI):
        bucket = {**base, BUCKET_LABEL: le_value(sli.threshold)}
        return {
            _selector(f"{sli.metric}_count", base): f"0+{total}x{steps}",
            _selector(f"{sli.metric}_bucket", bucket): f"0+{total - errors}x{steps}",
        }
    events = sli.events
    others = {key: _other_value(metric, key, value) for key, value in events.items()}
    counted, rest = (errors, total - errors) if sli.bad is not None else (total - errors, errors)
    return {
        _selector(sli.series, {**base, **events}): f"0+{counted}x{steps}",
        _selector(sli.series, {**base, **others}): f"0+{rest}x{steps}",
    }


def tier_tests(
    stack: Stack, slo: SLO, metric: Metric, tier: BurnTier, rule: AlertingRule
) -> tuple[RuleTest, RuleTest]:
    """The firing and the silent test of one burn tier, whose alerting rule is ``rule``
    (``metric`` is the SLI's catalog metric)."""
    threshold = slo.threshold(tier)
    firing, near_miss = burn_ratios(threshold)
    total = _events_per_sample(threshold)
    step = duration_seconds(EVALUATION_INTERVAL)
    eval_seconds = math.ceil(duration_seconds(tier.long_window) / step) * step
    interval = duration_seconds(tier.short_window) / SAMPLES_PER_SHORT_WINDOW
    steps = int(eval_seconds // interval)
    expected = ExpectedAlert(exp_labels=rule.labels, exp_annotations=rule.annotations)
    tests = []
    for ratio, alerts, what in ((firing, (expected,), "fires"), (near_miss, (), "stays silent")):
        errors = round(ratio * total)
        burn = errors / total / slo.error_budget
        tests.append(
            RuleTest(
                name=(
                    f"{slo.name}: {rule.alert} ({tier.window}, {tier.factor:g}x) {what} "
                    f"on a {burn:.4g}x burn"
                ),
                interval=duration_text(interval),
                input_series=input_series(_series(slo, stack, metric, errors, total, steps)),
                alert_rule_tests=(AlertRuleTest(duration_text(eval_seconds), rule.alert, alerts),),
            )
        )
    return tests[0], tests[1]
