"""stackgen.templating against Prometheus' template functions (template/template.go).

The expected strings come from Prometheus' own template tests (template_test.go) and
from Go's ``%.4g``; the promtool tests at the end check the same tables against the
real Prometheus template engine, so a wrong expectation here cannot go unnoticed.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackgen.templating import (
    expand,
    humanize,
    humanize_duration,
    humanize_percentage,
    template_problems,
)
from tests.conftest import run_tool

NAN = math.nan
INF = math.inf

HUMANIZE: dict[str, tuple[float, str]] = {
    "zero": (0.0, "0"),
    "negative-zero": (-0.0, "-0"),
    "one": (1.0, "1"),
    "mega": (1234567.0, "1.235M"),
    "milli-from-0.12": (0.12, "120m"),
    "milli": (0.00123, "1.23m"),
    "four-significant-digits": (12.3456, "12.35"),
    "negative-kilo": (-1234.5, "-1.234k"),
    "exactly-kilo": (1000.0, "1k"),
    "rounds-up-to-1000k": (999999.0, "1000k"),
    "exactly-milli": (0.001, "1m"),
    "nano": (1e-7, "100n"),
    "micro": (0.000999, "999u"),
    "negative-half": (-0.5, "-500m"),
    "below-yocto-uses-exponent": (1e-30, "1e-06y"),
    "above-yotta-uses-exponent": (1e30, "1e+06Y"),
    "plus-inf": (INF, "+Inf"),
    "minus-inf": (-INF, "-Inf"),
    "nan": (NAN, "NaN"),
}

HUMANIZE_PERCENTAGE: dict[str, tuple[float, str]] = {
    "zero": (0.0, "0%"),
    "fraction": (0.1234567, "12.35%"),
    "negative": (-0.22222, "-22.22%"),
    "above-one": (1.23456, "123.5%"),
    "one": (1.0, "100%"),
    "small": (0.00123, "0.123%"),
    "large-uses-exponent": (1234567.0, "1.235e+08%"),
    "plus-inf": (INF, "+Inf%"),
    "minus-inf": (-INF, "-Inf%"),
    "nan": (NAN, "NaN%"),
}

HUMANIZE_DURATION: dict[str, tuple[float, str]] = {
    "zero": (0.0, "0s"),
    "hundred-millis": (0.1, "100ms"),
    "hundred-micros": (0.0001, "100us"),
    "fractional-millis": (0.12345, "123.5ms"),
    "just-under-a-second": (0.9999999, "1000ms"),
    "negative-subsecond": (-0.5, "-500ms"),
    "one-second": (1.0, "1s"),
    "fractional-seconds": (1.2345, "1.234s"),
    "four-digits-of-seconds": (12.345, "12.35s"),
    "ttft-value": (2.95, "2.95s"),
    "seconds-with-two-decimals": (9.75, "9.75s"),
    "negative-seconds": (-1.5, "-1.5s"),
    "seconds-round-to-60s": (59.99999, "60s"),
    "one-minute": (60.0, "1m 0s"),
    "minute-drops-fraction": (60.1, "1m 0s"),
    "minute-truncates-not-rounds": (60.5, "1m 0s"),
    "minutes": (899.99, "14m 59s"),
    "one-hour": (3600.0, "1h 0m 0s"),
    "one-day": (86400.0, "1d 0h 0m 0s"),
    "day-and-hour": (90000.0, "1d 1h 0m 0s"),
    "every-unit": (90061.0, "1d 1h 1m 1s"),
    "negative-days": (-(86400 * 2 + 3600 * 3 + 60 * 4 + 5), "-2d 3h 4m 5s"),
    "plus-inf": (INF, "+Inf"),
    "minus-inf": (-INF, "-Inf"),
    "nan": (NAN, "NaN"),
}


@pytest.mark.parametrize(("value", "expected"), HUMANIZE.values(), ids=HUMANIZE.keys())
def test_humanize(value: float, expected: str) -> None:
    assert humanize(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), HUMANIZE_PERCENTAGE.values(), ids=HUMANIZE_PERCENTAGE.keys()
)
def test_humanize_percentage(value: float, expected: str) -> None:
    assert humanize_percentage(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), HUMANIZE_DURATION.values(), ids=HUMANIZE_DURATION.keys()
)
def test_humanize_duration(value: float, expected: str) -> None:
    assert humanize_duration(value) == expected


EXPAND: dict[str, tuple[str, dict[str, str], float, str]] = {
    "label": ("{{ $labels.job }} is down", {"job": "agent-api"}, 0.0, "agent-api is down"),
    "label-without-spaces": ("{{$labels.job}}!", {"job": "agent-api"}, 0.0, "agent-api!"),
    "two-labels": (
        "{{ $labels.job }} at {{ $labels.instance }}",
        {"job": "agent-api", "instance": "agent-api:8000"},
        0.0,
        "agent-api at agent-api:8000",
    ),
    "humanize": ("{{ $value | humanize }} tokens/s", {}, 1234567.0, "1.235M tokens/s"),
    "humanize-without-spaces": ("{{$value|humanize}}", {}, 0.00123, "1.23m"),
    "percentage": (
        "{{ $value | humanizePercentage }} of chat turns failed",
        {},
        0.0732,
        "7.32% of chat turns failed",
    ),
    "duration": ("P95 is {{ $value | humanizeDuration }}", {}, 2.95, "P95 is 2.95s"),
    "label-and-value": (
        "Tool {{ $labels.tool_name }} fails {{ $value | humanizePercentage }} of its calls",
        {"tool_name": "erp_lookup"},
        0.25,
        "Tool erp_lookup fails 25% of its calls",
    ),
    "same-placeholder-twice": (
        "{{ $value | humanize }} / {{ $value | humanize }}",
        {},
        0.5,
        "500m / 500m",
    ),
    "no-placeholder": (
        "Nothing to expand { here }.",
        {"job": "x"},
        1.0,
        "Nothing to expand { here }.",
    ),
    "label-value-is-not-re-expanded": (
        "{{ $labels.msg }}",
        {"msg": "{{ $value | humanize }}"},
        1.0,
        "{{ $value | humanize }}",
    ),
}


@pytest.mark.parametrize(
    ("text", "labels", "value", "expected"), EXPAND.values(), ids=EXPAND.keys()
)
def test_expand(text: str, labels: dict[str, str], value: float, expected: str) -> None:
    assert expand(text, labels, value) == expected


def test_expand_missing_label_renders_like_prometheus() -> None:
    assert expand("{{ $labels.instance }} is down", {"job": "agent-api"}, 0.0) == " is down"


def test_expand_refuses_an_unsupported_placeholder() -> None:
    with pytest.raises(ValueError, match=r"unsupported template '\{\{ \$value \}\}'"):
        expand("value {{ $value }}", {}, 1.0)


SUPPORTED = [
    "no placeholder at all",
    "{{ $labels.job }}",
    "{{$labels.job}}",
    "{{ $labels.__name__ }}",
    "{{ $value | humanize }}",
    "{{ $value | humanizePercentage }}",
    "{{ $value | humanizeDuration }}",
    "{{ $labels.tool_name }} fails {{ $value | humanizePercentage }} of its calls",
]


@pytest.mark.parametrize("text", SUPPORTED)
def test_template_problems_accepts_the_supported_subset(text: str) -> None:
    assert template_problems(text) == []


UNSUPPORTED: dict[str, tuple[str, list[str]]] = {
    "raw-value": ("{{ $value }}", ["{{ $value }}"]),
    "go-field": ("{{ .Foo }}", ["{{ .Foo }}"]),
    "dot-labels": ("{{ .Labels.job }}", ["{{ .Labels.job }}"]),
    "other-function": ("{{ $labels.job | toUpper }}", ["{{ $labels.job | toUpper }}"]),
    "humanize1024": ("{{ $value | humanize1024 }}", ["{{ $value | humanize1024 }}"]),
    "call-form": ("{{ humanize $value }}", ["{{ humanize $value }}"]),
    "printf": ('{{ printf "%.2f" $value }}', ['{{ printf "%.2f" $value }}']),
    "trim-markers": ("{{- $value | humanize -}}", ["{{- $value | humanize -}}"]),
    "label-name-with-dash": ("{{ $labels.tool-name }}", ["{{ $labels.tool-name }}"]),
    "externalLabels": ("{{ $externalLabels.cluster }}", ["{{ $externalLabels.cluster }}"]),
    "two-bad-one-good": (
        "{{ $value }} on {{ $labels.job }} ({{ .Foo }})",
        ["{{ $value }}", "{{ .Foo }}"],
    ),
}


@pytest.mark.parametrize(("text", "placeholders"), UNSUPPORTED.values(), ids=UNSUPPORTED.keys())
def test_template_problems_rejects_unsupported_placeholders(
    text: str, placeholders: list[str]
) -> None:
    problems = template_problems(text)
    assert len(problems) == len(placeholders)
    for problem, placeholder in zip(problems, placeholders, strict=True):
        assert problem.startswith(f"unsupported template {placeholder}: use ")
        assert "{{ $labels.NAME }}" in problem and "{{ $value | humanize }}" in problem


def test_template_problems_rejects_an_unclosed_action() -> None:
    assert template_problems("Down: {{ $labels.job") != []


# --- parity with the real Prometheus template engine (promtool) ----------------------

_FUNCTIONS = {
    "humanize": HUMANIZE,
    "humanizePercentage": HUMANIZE_PERCENTAGE,
    "humanizeDuration": HUMANIZE_DURATION,
}


def _promql_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _run_promtool(
    promtool: str, tmp_path: Path, alerts: list[dict[str, Any]], cases: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    rules = {"groups": [{"name": "templating", "rules": alerts}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": "anchor", "values": "1x5"}],
                "alert_rule_test": cases,
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    return run_tool(promtool, "test", "rules", "tests.yml", cwd=tmp_path)


@pytest.mark.parametrize("function", _FUNCTIONS)
def test_functions_match_promtool(promtool: str, tmp_path: Path, function: str) -> None:
    alerts: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    for index, (value, expected) in enumerate(_FUNCTIONS[function].values()):
        name = f"Case{index}"
        text = f"{{{{ $value | {function} }}}}"
        assert expand(text, {}, value) == expected
        alerts.append(
            {
                "alert": name,
                "expr": f"vector({_promql_number(value)})",
                "annotations": {"text": text},
            }
        )
        cases.append(
            {
                "eval_time": "1m",
                "alertname": name,
                "exp_alerts": [{"exp_labels": {}, "exp_annotations": {"text": expected}}],
            }
        )
    result = _run_promtool(promtool, tmp_path, alerts, cases)
    assert result.returncode == 0, result.stdout + result.stderr


def test_expand_with_labels_matches_promtool(promtool: str, tmp_path: Path) -> None:
    labels = {"job": "agent-api", "instance": "agent-api:8000"}
    text = "{{ $labels.job }} at {{ $labels.instance }}: {{ $value | humanizePercentage }}"
    expr = (
        'label_replace(label_replace(vector(0.0732), "job", "agent-api", "", ""),'
        ' "instance", "agent-api:8000", "", "")'
    )
    expected = expand(text, labels, 0.0732)
    assert expected == "agent-api at agent-api:8000: 7.32%"
    alerts = [{"alert": "Labelled", "expr": expr, "annotations": {"text": text}}]
    cases = [
        {
            "eval_time": "1m",
            "alertname": "Labelled",
            "exp_alerts": [{"exp_labels": labels, "exp_annotations": {"text": expected}}],
        }
    ]
    result = _run_promtool(promtool, tmp_path, alerts, cases)
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_label_matches_promtool(promtool: str, tmp_path: Path) -> None:
    text = "{{ $labels.instance }} is down"
    expected = expand(text, {"job": "agent-api"}, 1.0)
    alerts = [
        {
            "alert": "Missing",
            "expr": 'label_replace(vector(1), "job", "agent-api", "", "")',
            "annotations": {"text": text},
        }
    ]
    cases = [
        {
            "eval_time": "1m",
            "alertname": "Missing",
            "exp_alerts": [
                {"exp_labels": {"job": "agent-api"}, "exp_annotations": {"text": expected}}
            ],
        }
    ]
    result = _run_promtool(promtool, tmp_path, alerts, cases)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_the_unclosed_action_stackgen_accepts(
    promtool: str, tmp_path: Path
) -> None:
    # The ground truth behind the unclosed-action check above.
    text = "Down: {{ $labels.job"
    rules = {
        "groups": [
            {
                "name": "templating",
                "rules": [{"alert": "Unclosed", "expr": "vector(1)", "annotations": {"t": text}}],
            }
        ]
    }
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    result = run_tool(promtool, "check", "rules", "rules.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "unclosed action" in result.stdout + result.stderr
