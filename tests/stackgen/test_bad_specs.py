"""Deliberately broken specs (tests/data/bad_specs): `stackgen generate` exits 2, names
every broken object and field at its file:line, prints no traceback and writes nothing.

In the spec files, a ``# broken: MARKER`` comment sits on the line a report must name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackgen.cli import main
from stackgen.load import LoadError, load_stack
from stackgen.spec import Stack
from tests.conftest import REPO_ROOT

BAD_SPECS = REPO_ROOT / "tests/data/bad_specs"
INVALID_FOOTER = "stackgen: the spec is invalid; nothing was written"


@dataclass(frozen=True)
class Report:
    """One ``error:`` line: at the line marked ``# broken: {marker}`` (None: no line),
    containing every fragment."""

    marker: str | None
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class BadSpec:
    file: str
    reports: tuple[Report, ...]
    # The reports are the only error lines (no duplicates, no follow-on noise).
    exact: bool = True


CASES: list[BadSpec | pytest.ParameterSet] = [
    BadSpec(
        "objects_left_out_of_the_stack.py",
        (
            Report(
                "Metric[agent_errors]",
                ("Metric[agent_errors]: defined but not in the stack: add it to Stack.metrics",),
            ),
            Report(
                "Alert[ApiDown]",
                ("Alert[ApiDown]: defined but not in the stack: add it to Stack.alerts",),
            ),
        ),
    ),
    BadSpec(
        "unknown_metric_type.py",
        (
            Report(
                "Metric[agent_latency_seconds].type",
                (
                    "Metric[agent_latency_seconds].type: "
                    "Input should be 'counter', 'gauge' or 'histogram'",
                ),
            ),
        ),
    ),
    BadSpec(
        "unbounded_label_without_bound.py",
        (
            Report(
                "Label[tool_name]",
                (
                    "Label[tool_name]: label 'tool_name' needs exactly one of `values`",
                    "`max_cardinality` (a declared bound)",
                ),
            ),
        ),
    ),
    BadSpec(
        "several_broken_objects.py",
        (
            Report(
                "Metric[agent_requests_total]",
                (
                    "Metric[agent_requests_total]: counter family name 'agent_requests_total' "
                    "must not end in '_total'",
                ),
            ),
            Report(
                "Service[agent-api]",
                ("Service[agent-api]: a critical service must be scraped",),
            ),
            Report(
                "Alert[ApiDown].for_",
                ("Alert[ApiDown].for_: 'five minutes' is not a Prometheus duration",),
            ),
        ),
    ),
    BadSpec(
        "broken_rules.py",
        (
            Report("expr", ("Alert[HighErrorRate].expr: PromQL does not parse",)),
            Report("template", ("Alert[ApiDown]: unsupported template {{ .Labels.job }}",)),
            Report(
                "fires-within",
                ("Alert[ApiFlapping]: test.fires_within (5m) is shorter than `for_` (10m)",),
            ),
        ),
    ),
    BadSpec(
        "broken_stack_level.py",
        # Each at the line of the object it is about (the second definition of a name).
        (
            Report(
                "metrics",
                ("Stack[broken-stack-level]: metrics: 'agent_requests' is defined 2 times",),
            ),
            Report(
                "alerts[ApiDown]",
                (
                    "Stack[broken-stack-level]: alerts[ApiDown].test.fires_within: 5m exceeds "
                    "the critical detection budget 2m",
                ),
            ),
            Report(
                "slos[availability]",
                (
                    "Stack[broken-stack-level]: slos[availability].sli.metric: 'agent_errors' "
                    "is not a metric of the catalog",
                ),
            ),
            Report(
                "prometheus",
                ("Stack[broken-stack-level]: prometheus.alertmanager: 'mailer' is not a service",),
            ),
        ),
    ),
    BadSpec(
        "not_a_stack.py",
        (Report(None, ("not_a_stack.py:stack is tuple, not a stackgen.spec.Stack",)),),
    ),
    BadSpec(
        "raises_exception.py",
        (
            Report(
                "KeyError",
                ("raises_exception.py failed: KeyError: 'latency_seconds'",),
            ),
        ),
    ),
    pytest.param(
        BadSpec(
            "scenario_helper_raises.py",
            (
                Report(
                    "ValueError",
                    (
                        "scenario_helper_raises.py failed: "
                        "ValueError: need 0 < fault_step (0) < steps (40)",
                    ),
                ),
            ),
        ),
        id="scenario_helper_raises.py",
    ),
    pytest.param(
        BadSpec(
            "broken_label_used_by_metric.py",
            (
                Report("label", ("Label[tool_name]: label 'tool_name' needs exactly one of",)),
                Report("service", ("Service[agent-api].port: Input should be greater than",)),
            ),
            exact=False,
        ),
        id="broken_label_used_by_metric.py",
    ),
    pytest.param(
        BadSpec(
            "broken_child_hides_parent_error.py",
            (
                Report(
                    "alert-test",
                    ("AlertTest[2m45s].fires_within: 'soon' is not a Prometheus duration",),
                ),
                Report("alert", ("Alert[ApiDown]: unsupported template {{ $value }}",)),
            ),
            exact=False,
        ),
        id="broken_child_hides_parent_error.py",
    ),
]


def _case_id(case: BadSpec | pytest.ParameterSet) -> str:
    return case.file if isinstance(case, BadSpec) else str(case.id)


def _line_of(path: Path, marker: str) -> int:
    lines = [
        number
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if text.rstrip().endswith(f"# broken: {marker}")
    ]
    assert len(lines) == 1, f"marker {marker!r} must occur once in {path}"
    return lines[0]


def test_every_bad_spec_file_has_a_case() -> None:
    files = {_case_id(case) for case in CASES}
    assert files == {p.name for p in BAD_SPECS.glob("*.py")}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_generate_reports_a_bad_spec(
    case: BadSpec, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = BAD_SPECS / case.file
    out = tmp_path / "generated"
    capsys.readouterr()
    code = main(["generate", "--spec", f"{path}:stack", "--out", str(out)])
    captured = capsys.readouterr()

    assert code == 2, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert captured.out == ""
    assert captured.err.splitlines()[-1] == INVALID_FOOTER
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    # Locations are relative to the working directory, as the loader prints them.
    location = os.path.relpath(path)
    for report in case.reports:
        if report.marker is None:
            prefix = "error: "
        else:
            prefix = f"error: {location}:{_line_of(path, report.marker)}: "
        matching = [
            line
            for line in errors
            if line.startswith(prefix) and all(f in line for f in report.fragments)
        ]
        assert matching, f"no line starts with {prefix!r} and has {report.fragments}:\n" + (
            captured.err
        )
    if case.exact:
        assert len(errors) == len(case.reports), captured.err


def test_load_stack_lists_one_problem_per_broken_object() -> None:
    with pytest.raises(LoadError) as raised:
        load_stack(str(BAD_SPECS / "several_broken_objects.py") + ":stack", REPO_ROOT)
    problems = raised.value.problems
    assert len(problems) == 3
    assert [p.split(": ", 2)[1] for p in problems] == [
        "Metric[agent_requests_total]",
        "Service[agent-api]",
        "Alert[ApiDown].for_",
    ]


def test_a_missing_attribute_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    path = REPO_ROOT / "tests/data/specs/with_findings.py"
    assert main(["check", "--spec", f"{path}:no_such_stack"]) == 2
    err = capsys.readouterr().err
    assert "with_findings.py:no_such_stack is " in err
    assert "not a stackgen.spec.Stack" in err
    assert "Traceback" not in err


def test_a_missing_spec_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    missing = BAD_SPECS / "no_such_spec.py"
    assert main(["generate", "--spec", f"{missing}:stack", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"spec file {missing} does not exist" in err
    assert not out.exists()


@pytest.fixture
def forget_imported_specs() -> Iterator[None]:
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("tests.data"):
            del sys.modules[name]


def test_a_module_reference_reports_like_a_path(
    forget_imported_specs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--spec", "tests.data.bad_specs.several_broken_objects:stack"]) == 2
    err = capsys.readouterr().err
    location = os.path.relpath(BAD_SPECS / "several_broken_objects.py")
    line = _line_of(BAD_SPECS / "several_broken_objects.py", "Alert[ApiDown].for_")
    assert f"error: {location}:{line}: Alert[ApiDown].for_: " in err
    assert err.count("error: ") == 3


def test_loading_a_broken_module_twice_fails_twice(forget_imported_specs: None) -> None:
    reference = "tests.data.bad_specs.broken_stack_level:stack"
    with pytest.raises(LoadError):
        load_stack(reference, REPO_ROOT)
    with pytest.raises(LoadError):
        loaded: Stack = load_stack(reference, REPO_ROOT)
        pytest.fail(f"returned the invalid stack {loaded.name} with {len(loaded.metrics)} metrics")
