"""What every check reads: the stack, its catalog index, the files it renders (rendered
once) and the artifacts read back from them (each file parsed once)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from stackgen.artifacts import Artifacts, read_artifacts
from stackgen.check.catalog import CatalogIndex
from stackgen.check.promql import infer_labels
from stackgen.findings import Finding
from stackgen.render import render_all
from stackgen.spec import Stack

__all__ = ["Check", "CheckContext", "build_index"]


def build_index(stack: Stack) -> CatalogIndex:
    """The catalog plus every recording rule (the spec's, then each SLO's), with the
    labels each rule's result has. Rules may read earlier rules, so labels are inferred
    in order. SLO rules record the same names for every SLO (told apart by ``slo``)."""
    index = CatalogIndex(stack)
    rules = [(r.record, r.expr, set(r.labels)) for r in stack.recording_rules]
    for slo in stack.slos:
        rules += [(r.record, r.expr, set(slo.labels)) for r in slo.recording_rules()]
    for record, expr, rule_labels in rules:
        labels = infer_labels(expr, index)
        if labels is not None:
            previous = index.resolve(record)
            labels = labels | rule_labels
            if previous is not None and previous.is_rule and previous.labels is not None:
                labels = labels | previous.labels
        index.add_rule(record, labels)
    return index


@dataclass(frozen=True)
class CheckContext:
    """One stack, resolved once for all checks. ``files`` is ``render_all(stack)``."""

    stack: Stack
    index: CatalogIndex
    files: Mapping[str, str]
    artifacts: Artifacts

    @classmethod
    def of(cls, stack: Stack, files: Mapping[str, str] | None = None) -> CheckContext:
        """The context of a stack; ``files`` stands in for its rendered files (a test
        checking a hand-edited rendering)."""
        files = render_all(stack) if files is None else files
        return cls(stack, build_index(stack), files, read_artifacts(files))


# The one signature of a check: independent of the others, it returns its findings.
Check = Callable[[CheckContext], Iterable[Finding]]
