"""How generate, check and the generated promtool tests grow with the spec: scaled copies
of the BestBox spec (x1, x5, x20: every alert and every SLO copied, each SLO copy on an
SLI of its own metric), each timed in one run.

Printed per scale: promtool test time (one ``promtool test rules`` over every generated
test file) and its ratio to x1, then load (validating the scaled Stack), render and
check, and render + check per alert-or-SLO. Linear growth keeps the x20 promtool ratio
near 20 and the per-alert-or-SLO cost flat.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from specs.bestbox import stack as bestbox_stack
from stackgen.check.static import check_stack
from stackgen.conventions import RULE_TESTS_DIR
from stackgen.output import write_tree
from stackgen.render import render_all
from stackgen.spec import QuerySLI, Stack
from stackgen.tools import find_tool

__all__ = ["ScaleFigures", "measure", "scaled_stack"]

SCALES = (1, 5, 20)


def _copy_suffix(copy: int) -> str:
    return f"copy{copy}"


def scaled_stack(stack: Stack, copies: int) -> Stack:
    """``stack`` with every alert and SLO ``copies`` times: alert copies in groups of
    their own (``<group>_copyN``), SLO copies on a copy of their SLI's metric
    (``copyN_<metric>``), so no two SLOs share an SLI. Validated like any spec."""
    if copies == 1:
        return stack
    metrics = {m.name: m for m in stack.metrics}
    sli_metrics = [
        metrics[slo.sli.metric] for slo in stack.slos if not isinstance(slo.sli, QuerySLI)
    ]
    new_metrics = list(stack.metrics)
    alerts = list(stack.alerts)
    slos = list(stack.slos)
    for copy in range(2, copies + 1):
        suffix = _copy_suffix(copy)
        copied = {m.name: m.model_copy(update={"name": f"{suffix}_{m.name}"}) for m in sli_metrics}
        new_metrics += copied.values()
        alerts += [
            a.model_copy(update={"name": a.name + suffix.title(), "group": f"{a.group}_{suffix}"})
            for a in stack.alerts
        ]
        for slo in stack.slos:
            sli = slo.sli
            if not isinstance(sli, QuerySLI):
                sli = sli.model_copy(update={"metric": copied[sli.metric].name})
            slos.append(slo.model_copy(update={"name": f"{slo.name}-{suffix}", "sli": sli}))
    fields = {name: getattr(stack, name) for name in type(stack).model_fields}
    return Stack.model_validate(
        {**fields, "metrics": tuple(new_metrics), "alerts": tuple(alerts), "slos": tuple(slos)}
    )


@dataclass(frozen=True)
class ScaleFigures:
    copies: int
    alerts_and_slos: int
    test_files: int
    load_s: float
    render_s: float
    check_s: float
    promtool_s: float
    findings: int

    @property
    def render_check_ms_each(self) -> float:
        return (self.render_s + self.check_s) * 1000 / self.alerts_and_slos


def _promtool_seconds(files: dict[str, str]) -> tuple[float, int]:
    promtool = str(find_tool("promtool"))
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as scratch:
        root = Path(scratch)
        write_tree(root, files)
        tests = sorted(str(root / p) for p in files if p.startswith(f"{RULE_TESTS_DIR}/"))
        started = time.perf_counter()
        result = subprocess.run(
            [promtool, "test", "rules", *tests], capture_output=True, text=True, timeout=3600
        )
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"promtool test rules failed:\n{result.stdout[-4000:]}")
    return elapsed, len(tests)


def measure_scale(copies: int) -> ScaleFigures:
    started = time.perf_counter()
    stack = scaled_stack(bestbox_stack, copies)
    loaded = time.perf_counter()
    files = render_all(stack)
    rendered = time.perf_counter()
    findings = check_stack(stack, files)
    checked = time.perf_counter()
    promtool_s, test_files = _promtool_seconds(files)
    return ScaleFigures(
        copies=copies,
        alerts_and_slos=len(stack.alerts) + len(stack.slos),
        test_files=test_files,
        load_s=loaded - started,
        render_s=rendered - loaded,
        check_s=checked - rendered,
        promtool_s=promtool_s,
        findings=len(findings),
    )


def measure(scales: Sequence[int] = SCALES) -> list[ScaleFigures]:
    print("\n## spec scaling: BestBox with every alert and SLO copied (distinct SLIs)")
    print(
        "   scale | alerts+SLOs | test files | promtool | vs x1 | load  | render | check  "
        "| render+check per alert-or-SLO | findings"
    )
    figures: list[ScaleFigures] = []
    for copies in scales:
        f = measure_scale(copies)
        figures.append(f)
        ratio = f.promtool_s / figures[0].promtool_s
        print(
            f"   x{f.copies:<4} | {f.alerts_and_slos:>11} | {f.test_files:>10} "
            f"| {f.promtool_s:>6.1f} s | {ratio:>4.1f}x | {f.load_s:.2f} s | {f.render_s:.2f} s "
            f"| {f.check_s:.2f} s | {f.render_check_ms_each:>26.2f} ms | {f.findings}"
        )
    return figures
