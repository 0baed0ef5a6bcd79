"""generated/prometheus/tests/<group>.yml: promtool unit tests from the rule specs.

For every alert: silent just before its fault, firing ``fires_within`` after it with
the exact labels and expanded annotations, and silent on the near miss. For every
recording rule: its expected samples.
"""

from __future__ import annotations

import math
import posixpath
from datetime import timedelta
from typing import Any

import promql_parser

from stackgen.conventions import RULE_TESTS_DIR
from stackgen.output import dump_yaml
from stackgen.render.rules import alert_annotations, alert_labels
from stackgen.render.rules import render as render_rules
from stackgen.spec import Alert, RecordingRule, Stack, duration_seconds
from stackgen.templating import expand

__all__ = ["render"]


def _duration(seconds: float) -> str:
    text: str = promql_parser.display_duration(timedelta(seconds=seconds))
    return text


def _input_series(series: dict[str, str]) -> list[dict[str, str]]:
    return [{"series": selector, "values": values} for selector, values in series.items()]


def _alert_tests(stack: Stack, alert: Alert) -> list[dict[str, Any]]:
    test = alert.test
    fault = duration_seconds(test.fault_at)
    firing_at = _duration(fault + duration_seconds(test.fires_within))
    before_fault = _duration(fault - duration_seconds(test.interval))
    annotations = {
        key: expand(text, test.labels, test.value)
        for key, text in alert_annotations(stack, alert).items()
    }
    expected = {
        "exp_labels": {**alert_labels(alert), **dict(sorted(test.labels.items()))},
        "exp_annotations": annotations,
    }
    return [
        {
            "name": f"{alert.name}: silent before the fault, firing {test.fires_within} after it",
            "interval": test.interval,
            "input_series": _input_series(test.series),
            "alert_rule_test": [
                {"eval_time": before_fault, "alertname": alert.name, "exp_alerts": []},
                {"eval_time": firing_at, "alertname": alert.name, "exp_alerts": [expected]},
            ],
        },
        {
            "name": f"{alert.name}: silent on a near miss",
            "interval": test.interval,
            "input_series": _input_series(test.near_miss),
            "alert_rule_test": [
                {"eval_time": firing_at, "alertname": alert.name, "exp_alerts": []},
            ],
        },
    ]


# promtool 2.42 compares sample values exactly, and rate() arithmetic leaves the last
# bit uncertain (0.1 comes out as 0.09999999999999999). Tests therefore compare the
# rule rounded to this step, and the expected value is rounded the way PromQL's
# round() does it (math.Floor(v*inverse+0.5) / inverse), which is exact in both.
ROUNDING_STEP = 1e-6


def _promql_round(value: float) -> float:
    inverse = 1.0 / ROUNDING_STEP
    return math.floor(value * inverse + 0.5) / inverse


def _recording_test(rule: RecordingRule) -> dict[str, Any]:
    test = rule.test
    return {
        "name": f"{rule.record}: expected samples",
        "interval": test.interval,
        "input_series": _input_series(test.series),
        "promql_expr_test": [
            {
                "expr": f"round({rule.record}, {ROUNDING_STEP:g})",
                "eval_time": test.at,
                "exp_samples": [
                    {
                        # round() drops the metric name.
                        "labels": _labels_text({**s.labels, **rule.labels}),
                        "value": _promql_round(s.value),
                    }
                    for s in test.expect
                ],
            }
        ],
    }


def _labels_text(labels: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{{{inner}}}"


def render(stack: Stack) -> dict[str, str]:
    # Every test file loads every rule file, so alerts may use recording rules.
    rule_files = [posixpath.relpath(path, RULE_TESTS_DIR) for path in sorted(render_rules(stack))]
    tests_by_group: dict[str, list[dict[str, Any]]] = {}
    for alert in stack.alerts:
        tests_by_group.setdefault(alert.group, []).extend(_alert_tests(stack, alert))
    for rule in stack.recording_rules:
        tests_by_group.setdefault(rule.group, []).append(_recording_test(rule))
    files = {}
    for group, tests in tests_by_group.items():
        document = {
            "rule_files": rule_files,
            "evaluation_interval": stack.prometheus.evaluation_interval,
            "tests": tests,
        }
        comment = f"promtool unit tests of rule group {group}: promtool test rules <this file>"
        files[f"{RULE_TESTS_DIR}/{group}.yml"] = dump_yaml(document, comment=comment)
    return files
