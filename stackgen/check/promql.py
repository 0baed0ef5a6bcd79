"""PromQL checked against the catalog: parse with promql-parser, walk the tree, infer the
labels each sub-expression carries, and report what cannot work.

Label inference follows Prometheus' evaluation rules (engine.go ``resultMetric``):
aggregations keep their ``by`` labels, one-to-one matching ``on(L)`` keeps L,
``group_left(G)`` adds G, and so on. ``None`` means "unknown" and silences the label
checks below it rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import promql_parser as pp

from stackgen.check.catalog import SeriesIndex, SeriesRef
from stackgen.check.codes import FindingCode, finding
from stackgen.conventions import (
    BUCKET_LABEL,
    COUNTER_RANGE_FUNCTIONS,
    GAUGE_RANGE_FUNCTIONS,
    MIN_SCRAPES_PER_RANGE,
)
from stackgen.findings import Finding
from stackgen.promql_trees import parsed
from stackgen.spec.base import SpecModel

__all__ = [
    "GRAFANA_VARIABLE",
    "Subject",
    "check_expression",
    "infer_labels",
    "is_scalar",
    "node_labels",
]

Labels = frozenset[str] | None

# Placeholder for a Grafana template variable in a matcher value: never value-checked.
GRAFANA_VARIABLE = "__grafana_variable__"

# Aggregations and functions whose result does not depend on sample values, so a raw
# counter beneath them is fine (`count(agent_requests_total)` counts series).
_VALUE_BLIND = frozenset({"count", "group", "absent", "present_over_time", "timestamp"})
_COMPARISONS = frozenset({"==", "!=", ">", "<", ">=", "<="})
_SIMPLE_ALTERNATION = re.compile(r"^[A-Za-z0-9_.:-]+(\|[A-Za-z0-9_.:-]+)*$")


@dataclass(frozen=True)
class Subject:
    """What is being checked: shown as ``where``; ``spec`` names the spec object behind
    it and ``location`` is its file:line; ``expr`` is the expression as written there
    (when the checked text differs: Grafana's variables substituted)."""

    where: str
    spec: str = ""
    location: str = ""
    expr: str = ""

    @classmethod
    def of(cls, where: str, origin: SpecModel, expr: str = "") -> Subject:
        return cls(where, origin.spec_name(), origin.spec_location(), expr)


@dataclass
class _Walk:
    index: SeriesIndex
    subject: Subject
    findings: list[Finding] = field(default_factory=list)
    # Under count()/group()/absent()...: arithmetic there (a label join such as
    # `x * on(pod) group_left(node) info`) does not use the values.
    value_blind: bool = False

    def report(self, code: FindingCode, message: str, hint: str = "", spec: str = "") -> None:
        # The line is the subject's (the alert, rule or panel to edit) even when the
        # finding names a metric as its spec object.
        subject = self.subject
        self.findings.append(
            finding(
                code,
                subject.where,
                message,
                hint,
                spec=spec or subject.spec,
                location=subject.location,
                expr=subject.expr,
            )
        )

    # -- selectors -------------------------------------------------------------------

    def selector(self, node: Any, *, in_value_use: bool, range_function: str | None) -> Labels:
        name = node.name or _name_matcher(node)
        if name is None:
            return None
        ref = self.index.resolve(name, node.matchers.matchers)
        if ref is None or ref.unknown:
            # An unknown name is still typed by its suffix: the structural checks run.
            self._unknown(name)
        if ref is None:
            return None
        labels = ref.labels
        for matcher in node.matchers.matchers:
            self._matcher(ref, labels, matcher)
        if range_function is None and in_value_use and ref.raw_value_misleads:
            self.report(
                FindingCode.RAW_COUNTER,
                f"{name} is a {ref.kind_name} series used raw in arithmetic or a "
                "comparison: its value only grows and resets on restart",
                f"wrap it: rate({name}[5m]) or increase({name}[1h])",
                ref.spec(),
            )
        if range_function is not None and not ref.is_rule:
            self._function_fits(ref, range_function)
        return labels

    def _unknown(self, name: str) -> None:
        metric = self.index.misnamed(name)
        if metric is None:
            self.report(
                FindingCode.UNKNOWN_METRIC,
                f"{name} is not in the metric catalog nor a recording rule",
                "add it to the catalog (and emit it) or fix the name",
            )
            return
        expected = " or ".join(metric.series_names())
        self.report(
            FindingCode.METRIC_SUFFIX,
            f"{name} does not exist: {metric.name} is a {metric.type}, exposed as {expected}",
            f"query {expected}",
            metric.spec_name(),
        )

    def _matcher(self, ref: SeriesRef, labels: Labels, matcher: Any) -> None:
        label = matcher.name
        if label == "__name__" or labels is None:
            return
        if label not in labels:
            self._missing_label(label, ref.name, ref.spec(), "matcher")
            return
        value = matcher.value
        if GRAFANA_VARIABLE in value:
            return
        if label == "job":
            self._job_matcher(matcher)
            return
        if ref.metric is None or matcher.op not in (pp.MatchOp.Equal, pp.MatchOp.Re):
            return
        declared = ref.metric.label(label)
        if declared is None or declared.values is None:
            return
        if matcher.op == pp.MatchOp.Equal and value not in declared.values:
            shown = f'{label}="{value}"'
        elif matcher.op == pp.MatchOp.Re and not _regex_matches_any(value, declared.values):
            shown = f'{label}=~"{value}"'
        else:
            return
        self.report(
            FindingCode.UNKNOWN_LABEL_VALUE,
            f"{ref.name}{{{shown}}} never matches: {label} is one of {list(declared.values)}",
            f"use one of {list(declared.values)}",
            ref.spec(),
        )

    def _job_matcher(self, matcher: Any) -> None:
        if matcher.op == pp.MatchOp.Equal:
            names = [matcher.value]
        elif matcher.op == pp.MatchOp.Re and _SIMPLE_ALTERNATION.match(matcher.value):
            names = matcher.value.split("|")
        else:
            return
        for job in names:
            if job not in self.index.jobs:
                self.report(
                    FindingCode.UNKNOWN_JOB,
                    f'job "{job}" is not a scrape job of the stack',
                    f"scrape jobs: {sorted(self.index.jobs)}",
                )

    def _missing_label(self, label: str, series: str, spec: str, role: str) -> None:
        if label in self.index.unbounded:
            self.report(
                FindingCode.UNBOUNDED_LABEL,
                f"{label} ({role}) is an unbounded identity label: no metric may carry it",
                "per-user and per-session data lives in the PostgreSQL audit log",
                spec,
            )
            return
        self.report(
            FindingCode.UNDECLARED_LABEL,
            f"{series} has no label {label!r} ({role})",
            "declare the label on the metric or drop it from the query",
            spec,
        )

    def _function_fits(self, ref: SeriesRef, function: str) -> None:
        if function in COUNTER_RANGE_FUNCTIONS and ref.gauge_like:
            self.report(
                FindingCode.RATE_ON_GAUGE,
                f"{function}() over {ref.name}, a gauge: it is only meaningful for counters",
                f"use avg_over_time/max_over_time or deriv() on {ref.name}",
                ref.spec(),
            )
        elif function in GAUGE_RANGE_FUNCTIONS and ref.cumulative:
            self.report(
                FindingCode.DELTA_ON_COUNTER,
                f"{function}() over {ref.name}, a {ref.kind_name} series: counter resets "
                "make it wrong",
                f"use rate() or increase() on {ref.name}",
                ref.spec(),
            )

    def _reads(self, node: Any) -> str:
        """A sub-expression named by the series it reads (the printed tree would show
        Grafana's variables substituted, not the expression as written)."""
        refs, _ = _underlying(node, self.index)
        return _names(refs) if refs else "the expression"

    # -- tree walk -------------------------------------------------------------------

    def visit(self, node: Any, in_value_use: bool = False) -> Labels:
        kind = type(node).__name__
        handler = getattr(self, f"_visit_{kind}", None)
        if handler is None:
            return frozenset()
        result: Labels = handler(node, in_value_use)
        return result

    def _visit_VectorSelector(self, node: Any, in_value_use: bool) -> Labels:
        return self.selector(node, in_value_use=in_value_use, range_function=None)

    def _visit_MatrixSelector(self, node: Any, in_value_use: bool) -> Labels:
        # A range outside a function call (only in a subquery-less instant query).
        return self.matrix(node, None)

    def matrix(self, node: Any, function: str | None) -> Labels:
        selector = node.vector_selector
        labels = self.selector(selector, in_value_use=False, range_function=function or "")
        name = selector.name or _name_matcher(selector)
        ref = self.index.resolve(name, selector.matchers.matchers) if name else None
        if ref is not None:
            jobs = _matched_jobs(selector)
            interval = self.index.sample_interval(ref, jobs)
            window = node.range.total_seconds()
            if window < MIN_SCRAPES_PER_RANGE * interval:
                minimum = pp.display_duration(timedelta(seconds=MIN_SCRAPES_PER_RANGE * interval))
                self.report(
                    FindingCode.SHORT_RANGE,
                    f"[{pp.display_duration(node.range)}] over {ref.name} spans fewer than "
                    f"{MIN_SCRAPES_PER_RANGE} samples ({interval:g}s apart): it returns "
                    "nothing or jumps after one missed scrape",
                    f"use a window of at least {minimum}",
                    ref.spec(),
                )
        return labels

    def subquery(self, node: Any, function: str) -> Labels:
        """``rate(x[5m:1m])``: the inner selector is sampled and fed to ``function``."""
        inner = node.expr
        while type(inner).__name__ == "ParenExpr":
            inner = inner.expr
        if type(inner).__name__ == "VectorSelector":
            return self.selector(inner, in_value_use=False, range_function=function)
        return self.visit(inner, False)

    def _visit_ParenExpr(self, node: Any, in_value_use: bool) -> Labels:
        return self.visit(node.expr, in_value_use)

    def _visit_UnaryExpr(self, node: Any, in_value_use: bool) -> Labels:
        return self.visit(node.expr, True)

    def _visit_SubqueryExpr(self, node: Any, in_value_use: bool) -> Labels:
        return self.visit(node.expr, in_value_use)

    def _visit_NumberLiteral(self, node: Any, in_value_use: bool) -> Labels:
        return frozenset()

    def _visit_StringLiteral(self, node: Any, in_value_use: bool) -> Labels:
        return frozenset()

    def _visit_Call(self, node: Any, in_value_use: bool) -> Labels:
        function = node.func.name
        if function == "histogram_quantile":
            return self._histogram_quantile(node)
        value_use = in_value_use and function not in _VALUE_BLIND
        blind, self.value_blind = self.value_blind, self.value_blind or function in _VALUE_BLIND
        results: list[Labels] = []
        for arg in node.args:
            if type(arg).__name__ == "MatrixSelector":
                results.append(self.matrix(arg, function))
            elif type(arg).__name__ == "SubqueryExpr":
                results.append(self.subquery(arg, function))
            else:
                results.append(self.visit(arg, value_use))
        self.value_blind = blind
        vectors = [
            labels
            for arg, labels in zip(node.args, results, strict=True)
            if type(arg).__name__ not in ("NumberLiteral", "StringLiteral")
        ]
        base: Labels = vectors[0] if vectors else frozenset()
        if function in ("label_replace", "label_join"):
            return self._relabel(node, base)
        if function == "vector":
            return frozenset()
        if function == "absent":
            return _equality_labels(node.args[0])
        return base

    def _relabel(self, node: Any, base: Labels) -> Labels:
        # label_replace(v, dst, replacement, src, regex); label_join(v, dst, sep, src...)
        strings = [arg.val for arg in node.args if type(arg).__name__ == "StringLiteral"]
        if len(strings) < 3:
            return base
        destination = strings[0]
        sources = strings[2:3] if node.func.name == "label_replace" else strings[2:]
        if base is not None:
            for source in sources:
                if source and source not in base:
                    self._missing_label(source, "the argument", "", f"{node.func.name} source")
            return base | {destination}
        return None

    def _histogram_quantile(self, node: Any) -> Labels:
        argument = node.args[1]
        self.visit(node.args[0])
        labels = self.visit(argument)
        refs, aggregated = _underlying(argument, self.index)
        # Named by the series it reads: the expression itself is shown as written.
        where = f"histogram_quantile over {_names(refs)}" if refs else "histogram_quantile"
        if not refs:
            return None if labels is None else labels - {BUCKET_LABEL}
        for ref in refs:
            is_histogram_rule = ref.is_rule and (ref.labels is None or BUCKET_LABEL in ref.labels)
            if not (ref.is_bucket or is_histogram_rule or ref.may_be_native_histogram):
                self.report(
                    FindingCode.QUANTILE_NOT_BUCKET,
                    f"{where} reads {ref.name}, not the _bucket series of a histogram",
                    "histogram_quantile(0.95, sum by (le) (rate(NAME_bucket[5m])))",
                    ref.spec(),
                )
                return None
        native = any(ref.may_be_native_histogram for ref in refs)
        if labels is not None and BUCKET_LABEL not in labels and not native:
            self.report(
                FindingCode.QUANTILE_LE_DROPPED,
                f"{where}: the aggregation drops the le label, so no buckets are left",
                "keep le: sum by (le, ...) (rate(NAME_bucket[5m]))",
            )
        elif not aggregated and all(ref.is_bucket for ref in refs):
            self.report(
                FindingCode.QUANTILE_UNAGGREGATED,
                f"{where} computes one quantile per series (per instance and label set)",
                "aggregate first: sum by (le) (rate(NAME_bucket[5m]))",
            )
        return None if labels is None else labels - {BUCKET_LABEL}

    def _visit_AggregateExpr(self, node: Any, in_value_use: bool) -> Labels:
        op = str(node.op)
        value_use = in_value_use and op not in _VALUE_BLIND
        blind, self.value_blind = self.value_blind, self.value_blind or op in _VALUE_BLIND
        inner = self.visit(node.expr, value_use)
        self.value_blind = blind
        if node.param is not None:
            self.visit(node.param)
        modifier = node.modifier
        grouping: list[str] = list(modifier.labels) if modifier is not None else []
        if inner is not None:
            for label in grouping:
                if label not in inner:
                    self._missing_label(label, self._reads(node.expr), "", f"{op} grouping")
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            return inner
        if modifier is None:
            result: Labels = frozenset()
        elif modifier.type == pp.AggModifierType.Without:
            result = None if inner is None else inner - set(grouping)
        else:
            result = frozenset(grouping)
        if op == "count_values" and result is not None and node.param is not None:
            result = result | {getattr(node.param, "val", "")}
        return result

    def _visit_BinaryExpr(self, node: Any, in_value_use: bool) -> Labels:
        op = str(node.op)
        set_operator = op in ("and", "or", "unless")
        value_use = in_value_use if set_operator else True
        if self.value_blind and op not in _COMPARISONS:
            value_use = False
        lhs = self.visit(node.lhs, value_use)
        rhs = self.visit(node.rhs, value_use)
        lhs_scalar, rhs_scalar = _is_scalar(node.lhs), _is_scalar(node.rhs)
        if lhs_scalar or rhs_scalar:
            return rhs if lhs_scalar else lhs
        modifier = node.modifier
        matching = modifier.matching if modifier is not None else None
        on = matching is not None and matching.type == pp.LabelModifierType.Include
        matching_labels: list[str] = list((matching and matching.labels) or [])
        group_labels: list[str] = list((modifier and modifier.group_labels) or [])
        card = modifier.card if modifier is not None else pp.VectorMatchCardinality.OneToOne
        many_to_one = card == pp.VectorMatchCardinality.ManyToOne
        one_to_many = card == pp.VectorMatchCardinality.OneToMany
        for label in matching_labels:
            sides = (("left", lhs), ("right", rhs))
            missing = [side for side, labels in sides if labels is not None and label not in labels]
            # on(L) matches on L, so both sides need it; ignoring(L) drops a label that
            # only one side may have.
            if missing and (on or len(missing) == 2):
                where = " and ".join(f"the {side} side" for side in missing)
                self._missing_label(label, f"{where} of {op}", "", "on/ignoring")
        include_side = rhs if many_to_one else lhs
        for label in group_labels:
            if include_side is not None and label not in include_side:
                self._missing_label(label, "the 'one' side", "", "group_left/group_right")
        if op == "or":
            return None if lhs is None or rhs is None else lhs | rhs
        if set_operator:
            return lhs
        base = rhs if one_to_many else lhs
        if base is None:
            return None
        if many_to_one or one_to_many:
            return base | set(group_labels)
        if on:
            return frozenset(matching_labels)
        return base - set(matching_labels)


def _name_matcher(selector: Any) -> str | None:
    for matcher in selector.matchers.matchers:
        if matcher.name == "__name__" and matcher.op == pp.MatchOp.Equal:
            return str(matcher.value)
    return None


def _regex_matches_any(pattern: str, values: tuple[str, ...]) -> bool:
    """Whether a fully anchored matcher regex matches one of ``values`` (a pattern
    Python's re cannot compile, RE2 syntax it lacks, is assumed to match)."""
    try:
        compiled = re.compile(f"(?:{pattern})")
    except re.error:
        return True
    return any(compiled.fullmatch(value) for value in values)


def _matched_jobs(selector: Any) -> list[str]:
    """Jobs a selector is limited to by ``job="x"`` or ``job=~"x|y"``; [] when unlimited."""
    jobs: list[str] = []
    for matcher in selector.matchers.matchers:
        if matcher.name != "job":
            continue
        if matcher.op == pp.MatchOp.Equal:
            jobs.append(matcher.value)
        elif matcher.op == pp.MatchOp.Re and _SIMPLE_ALTERNATION.match(matcher.value):
            jobs.extend(matcher.value.split("|"))
    return jobs


def _equality_labels(node: Any) -> frozenset[str]:
    if type(node).__name__ != "VectorSelector":
        return frozenset()
    return frozenset(
        m.name for m in node.matchers.matchers if m.name != "__name__" and m.op == pp.MatchOp.Equal
    )


def _is_scalar(node: Any) -> bool:
    kind = type(node).__name__
    if kind == "NumberLiteral":
        return True
    if kind in ("ParenExpr", "UnaryExpr"):
        return _is_scalar(node.expr)
    if kind == "Call":
        return bool(node.func.return_type == pp.ValueType.Scalar)
    if kind == "BinaryExpr":
        return _is_scalar(node.lhs) and _is_scalar(node.rhs)
    return False


def _underlying(node: Any, index: SeriesIndex) -> tuple[list[SeriesRef], bool]:
    """The series under an expression and whether an aggregation sits above them."""
    refs: list[SeriesRef] = []
    aggregated = False

    def visit(child: Any) -> bool:
        nonlocal aggregated
        kind = type(child).__name__
        if kind == "AggregateExpr":
            aggregated = True
        if kind == "VectorSelector":
            name = child.name or _name_matcher(child)
            ref = index.resolve(name, child.matchers.matchers) if name else None
            if ref is not None:
                refs.append(ref)
        return True

    pp.walk(node, visit)
    return refs, aggregated


def _names(refs: list[SeriesRef]) -> str:
    return ", ".join(sorted({ref.name for ref in refs}))


def check_expression(expr: str, index: SeriesIndex, subject: Subject) -> list[Finding]:
    """Every problem of one PromQL expression against the catalog; findings show the
    subject's expression as written, else ``expr`` itself."""
    walk = _Walk(index, subject if subject.expr else replace(subject, expr=expr))
    try:
        tree = parsed(expr)
    except ValueError as error:
        walk.report(FindingCode.PROMQL_SYNTAX, f"does not parse: {error}", "fix the PromQL syntax")
        return walk.findings
    walk.visit(tree)
    return walk.findings


def infer_labels(expr: str, index: SeriesIndex) -> frozenset[str] | None:
    """Labels an expression's result carries (None when unknown or unparseable)."""
    try:
        tree = parsed(expr)
    except ValueError:
        return None
    return _Walk(index, Subject("")).visit(tree)


def node_labels(node: Any, index: SeriesIndex) -> frozenset[str] | None:
    """Labels the result of a parsed (sub-)expression carries (None when unknown)."""
    return _Walk(index, Subject("")).visit(node)


def is_scalar(node: Any) -> bool:
    """A parsed (sub-)expression whose value is a scalar, not a vector."""
    return _is_scalar(node)
