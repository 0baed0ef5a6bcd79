"""The scaling benchmark's spec: BestBox with every alert and SLO copied, each SLO copy
on an SLI of its own, still a valid stack that checks clean."""

from __future__ import annotations

from bench.scaling import scaled_stack
from stackgen.check.static import check_stack
from stackgen.rules_model import build_rules
from stackgen.spec import QuerySLI, Stack


def test_a_scaled_copy_has_every_alert_and_slo_n_times_on_distinct_slis(stack: Stack) -> None:
    scaled = scaled_stack(stack, 3)
    assert (len(scaled.alerts), len(scaled.slos)) == (3 * len(stack.alerts), 3 * len(stack.slos))

    def sli_metrics(of: Stack) -> set[str]:
        return {s.sli.metric for s in of.slos if not isinstance(s.sli, QuerySLI)}

    # No copy reads another's SLI metric (BestBox's own SLOs may share one).
    assert len(sli_metrics(scaled)) == 3 * len(sli_metrics(stack))
    assert scaled_stack(stack, 1) is stack


def test_a_scaled_copy_checks_clean_and_its_tests_grow_with_it(stack: Stack) -> None:
    scaled = scaled_stack(stack, 2)
    assert [f for f in check_stack(scaled) if f.level == "error"] == []
    # A test file per copied alert group and SLO; the recording rules are not copied.
    recording_groups = len({r.group for r in stack.recording_rules})
    tests = len(build_rules(stack).test_files)
    assert len(build_rules(scaled).test_files) == 2 * tests - recording_groups
