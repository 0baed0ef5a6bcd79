"""Property-based tests of the spec models (hypothesis): whatever a spec author writes,
stackgen answers with a validation error naming the object and field, or a finding,
never a traceback.

- every spec model, given arbitrary field values (wrong types, garbage strings, NaN,
  nested junk, unknown and missing fields), is built or raises SpecError with issues;
- the real BestBox stack with one alert's expression replaced by random PromQL-ish
  text is rejected with a SpecError or checked into findings, never crashing a check;
- a spec file written with arbitrary metric fields, run through the ``stackgen check``
  command, exits 0, 1 or 2 with messages and no traceback.

Examples are bounded and derandomised (the same inputs every run), so failures
reproduce and the module stays fast.
"""

from __future__ import annotations

import inspect
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stackgen.spec as spec_package
from specs.bestbox import stack as bestbox
from stackgen.check import check_stack
from stackgen.cli import main
from stackgen.findings import Finding
from stackgen.spec import Alert, SpecError, SpecModel, Stack

BOUNDED = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

MODELS = sorted(
    (
        obj
        for obj in vars(spec_package).values()
        if inspect.isclass(obj) and issubclass(obj, SpecModel) and obj is not SpecModel
    ),
    key=lambda cls: cls.__name__,
)

# Values a spec author might plausibly (or implausibly) write in any field.
PLAUSIBLE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "agent_requests",
        "agent_requests_total",
        "5m",
        "-1s",
        "0s",
        "1h30m",
        "1.5m",
        "counter",
        "gauge",
        "histogram",
        "critical",
        "warning",
        "rate(agent_requests_total[5m]) > 1",
        "sum by (le) (",
        "{{ $value | humanize }}",
        "{{ $labels.",
        "http://",
        "le",
        "__name__",
        "job",
        "ünïcode ✓",
        "a" * 300,
    ]
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -0.0, 1e308]),
    PLAUSIBLE_TEXT,
    st.text(max_size=20),
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(PLAUSIBLE_TEXT, st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@BOUNDED
@given(data=st.data())
def test_any_field_values_give_a_model_or_a_spec_error(model: type[SpecModel], data: Any) -> None:
    names = sorted(model.model_fields)
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    values = {name: data.draw(VALUE, label=name) for name in chosen}
    values.update(
        data.draw(st.dictionaries(st.sampled_from(["colour", "typo"]), VALUE, max_size=1))
    )
    try:
        model(**values)
    except SpecError as error:
        assert error.issues, "a SpecError without issues"
        for issue in error.issues:
            # The object is this model, or a child built from a nested dict.
            assert issue.obj.endswith("]") and "[" in issue.obj and issue.message
        assert str(error)


PROMQL_TOKENS = st.sampled_from(
    [
        "agent_requests_total",
        "agent_latency_seconds_bucket",
        "agent_ttft_seconds",
        "active_sessions",
        "audit_spool_bytes",
        "no_such_metric",
        "up",
        "rate(",
        "increase(",
        "histogram_quantile(0.95,",
        "sum by (le) (",
        "sum without (agent_type) (",
        "delta(",
        ")",
        "[5m]",
        "[1s]",
        "[",
        '{agent_type="erp"}',
        '{user_id="u1"}',
        '{job="nope"}',
        "{",
        " > 0.5",
        " and on (job) ",
        " / ",
        " offset 5m",
        "1",
        "-",
        " or ",
        "@ 0",
    ]
)


@BOUNDED
@given(
    tokens=st.lists(PROMQL_TOKENS, min_size=1, max_size=8),
    which=st.integers(min_value=0, max_value=len(bestbox.alerts) - 1),
)
def test_a_random_alert_expression_is_a_spec_error_or_findings(
    tokens: list[str], which: int
) -> None:
    original = bestbox.alerts[which]
    fields = {name: getattr(original, name) for name in type(original).model_fields}
    fields["expr"] = "".join(tokens)
    try:
        alert = Alert(**fields)
        alerts = tuple(alert if i == which else a for i, a in enumerate(bestbox.alerts))
        stack_fields = {name: getattr(bestbox, name) for name in Stack.model_fields}
        stack = Stack(**{**stack_fields, "alerts": alerts})
    except SpecError as error:
        assert error.issues and all(issue.message for issue in error.issues)
        return
    findings = check_stack(stack)
    assert all(isinstance(f, Finding) for f in findings)


SPEC_FILE = """
from stackgen.spec import Label, Metric, Stack
from specs.bestbox import stack as bestbox

odd = Metric(name={name!r}, type={type!r}, help={help!r}, labels=({labels}), buckets={buckets!r})
stack = Stack(**{{**{{k: getattr(bestbox, k) for k in Stack.model_fields}},
                  "metrics": (*bestbox.metrics, odd)}})
"""


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.one_of(PLAUSIBLE_TEXT, st.text(max_size=12)),
    kind=st.one_of(PLAUSIBLE_TEXT, st.sampled_from(["counter", "gauge", "histogram"])),
    help_text=st.one_of(PLAUSIBLE_TEXT, st.text(max_size=12)),
    label=st.sampled_from(
        [
            "",
            "Label(name='agent_type', values=('a',)),",
            "Label(name='user_id', max_cardinality=10),",
            "Label(name='le', values=('1',)),",
            "Label(name='x'),",
            "Label(name='x', values=(), max_cardinality=3),",
        ]
    ),
    buckets=st.one_of(
        st.none(), st.lists(st.floats(-10, 10, allow_nan=False), max_size=4).map(tuple)
    ),
)
def test_the_check_command_reports_any_metric_without_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    kind: str,
    help_text: str,
    label: str,
    buckets: tuple[float, ...] | None,
) -> None:
    module = tmp_path / f"spec_{uuid.uuid4().hex}.py"
    module.write_text(
        SPEC_FILE.format(name=name, type=kind, help=help_text, labels=label, buckets=buckets)
    )
    code = main(["check", "--spec", f"{module}:stack"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        assert "error:" in err and "stackgen: the spec is invalid" in err
