"""The names of a file the stack did not write: whose metric each selector reads, and
what type it has.

With a stack, a selector reads a catalog metric only when the catalog owns it there: its
``job`` matchers select a job that exposes the metric, or, without a job matcher, the
file is about the stack (at least half of the metric names it reads are catalog names or
are read from a job of the stack).
Anything else, such as Thanos' or GitLab's own ``http_requests_total``, or ``up`` of a
Kubernetes job, is another system's series of the same name: it is typed by its name
(``stackgen.check.inference``), never judged by the catalog's labels, values or jobs.
Without a stack every name is typed that way and unknown names are not findings.
Structural checks (types, windows, aggregation) run either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import promql_parser as pp

from stackgen.check.catalog import CatalogIndex, SeriesRef
from stackgen.check.inference import SeriesKind, infer_kind
from stackgen.check.promql import GRAFANA_VARIABLE
from stackgen.conventions import COUNTER_RANGE_FUNCTIONS
from stackgen.promql_trees import parsed
from stackgen.spec import Metric, duration_seconds

__all__ = ["DEFAULT_SCRAPE_INTERVAL_S", "ForeignIndex", "NamesRead", "names_read"]

# Without a stack the scrape interval is unknown: Prometheus' example configuration
# scrapes every 15s, the most common setting (``--scrape-interval`` overrides it).
DEFAULT_SCRAPE_INTERVAL_S = 15.0


@dataclass(frozen=True)
class NamesRead:
    """The metric names a set of expressions reads, those it feeds to
    ``rate``/``increase`` (counters by use, whatever their name), and the jobs that
    equality ``job`` matchers name, by metric name."""

    names: frozenset[str]
    counters_by_use: frozenset[str]
    jobs: Mapping[str, frozenset[str]] = field(default_factory=dict)


def names_read(expressions: Iterable[str]) -> NamesRead:
    names: set[str] = set()
    counters: set[str] = set()
    jobs: dict[str, set[str]] = {}

    def visit(node: Any) -> bool:
        kind = type(node).__name__
        if kind == "VectorSelector" and node.name:
            names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "job" and matcher.op == pp.MatchOp.Equal:
                    jobs.setdefault(node.name, set()).add(str(matcher.value))
        elif kind == "Call" and node.func.name in COUNTER_RANGE_FUNCTIONS:
            for arg in node.args:
                if type(arg).__name__ == "MatrixSelector" and arg.vector_selector.name:
                    counters.add(arg.vector_selector.name)
        return True

    for expr in expressions:
        try:
            pp.walk(parsed(expr), visit)
        except ValueError:
            continue  # reported as promql-syntax by the checker
    return NamesRead(
        frozenset(names), frozenset(counters), {k: frozenset(v) for k, v in jobs.items()}
    )


def _stack_name(catalog: CatalogIndex, name: str, read: NamesRead) -> bool:
    """A name of the stack's: the catalog has it (or a misspelling of one of its
    metrics), or the file reads it from a job of the stack; a name the catalog lacks is
    then a finding."""
    if catalog.resolve(name) is not None or catalog.misnamed(name) is not None:
        return True
    return bool(read.jobs.get(name, frozenset()) & set(catalog.jobs))


def _job_matchers(matchers: Sequence[Any]) -> list[Any]:
    return [m for m in matchers if m.name == "job"]


def _selects(matcher: Any, job: str) -> bool:
    """Whether a label matcher on ``job`` keeps the value ``job``."""
    op, value = matcher.op, str(matcher.value)
    positive: bool = op in (pp.MatchOp.Equal, pp.MatchOp.Re)
    if op in (pp.MatchOp.Equal, pp.MatchOp.NotEqual):
        return (job == value) is positive
    try:
        matched = re.fullmatch(f"(?:{value})", job) is not None
    except re.error:
        return True  # RE2 syntax Python lacks: assume it may select the job
    return matched is positive


@dataclass
class ForeignIndex:
    """A ``SeriesIndex`` over one external file (see the module's docstring)."""

    catalog: CatalogIndex | None
    about_the_stack: bool = False
    scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S
    counters_by_use: frozenset[str] = frozenset()
    rules: dict[str, SeriesRef] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        catalog: CatalogIndex | None,
        expressions: Iterable[str],
        records: Iterable[str] = (),
        scrape_interval_s: float | None = None,
    ) -> ForeignIndex:
        """The index of a file whose expressions are ``expressions`` and which records
        ``records`` itself."""
        read = names_read(expressions)
        own = set(records)
        foreign_names = read.names - own
        about = False
        if catalog is not None and foreign_names:
            known = sum(1 for name in foreign_names if _stack_name(catalog, name, read))
            about = known * 2 >= len(foreign_names)
        if scrape_interval_s is None:
            scrape_interval_s = (
                duration_seconds(catalog.stack.prometheus.scrape_interval)
                if catalog is not None
                else DEFAULT_SCRAPE_INTERVAL_S
            )
        return cls(catalog, about, scrape_interval_s, read.counters_by_use)

    # -- SeriesIndex -------------------------------------------------------------------

    @property
    def jobs(self) -> Mapping[str, object]:
        return self.catalog.jobs if self.catalog is not None else {}

    @property
    def unbounded(self) -> frozenset[str]:
        return self.catalog.unbounded if self.catalog is not None else frozenset()

    def add_rule(self, record: str, labels: frozenset[str] | None) -> None:
        self.rules[record] = SeriesRef(record, None, "", labels)

    def resolve(self, name: str, matchers: Sequence[Any] = ()) -> SeriesRef | None:
        if name in self.rules:
            return self.rules[name]
        owned = self._owned(name, matchers)
        if owned is not None:
            return owned
        kind = infer_kind(name, fed_to_rate=name in self.counters_by_use)
        unknown = self.catalog is not None and self.about_the_stack
        if kind is SeriesKind.RECORDING_RULE:
            # Another file's recording rule: labels and type unknown.
            return SeriesRef(name, None, "", None, unknown=unknown)
        return SeriesRef(name, None, "", None, inferred=kind, unknown=unknown)

    def misnamed(self, name: str) -> Metric | None:
        if self.catalog is None or not self.about_the_stack:
            return None
        return self.catalog.misnamed(name)

    def sample_interval(self, ref: SeriesRef, jobs: Iterable[str]) -> float:
        if self.catalog is not None and ref.metric is not None:
            return self.catalog.sample_interval(ref, jobs)
        if self.catalog is not None and ref.is_rule and ref.name not in self.rules:
            return self.catalog.sample_interval(ref, jobs)
        return self.scrape_interval_s

    # -- ownership ---------------------------------------------------------------------

    def _owned(self, name: str, matchers: Sequence[Any]) -> SeriesRef | None:
        """The catalog's series of that name if the catalog owns this selector."""
        if self.catalog is None:
            return None
        ref = self.catalog.resolve(name)
        if ref is None:
            return None
        job_matchers = _job_matchers(matchers)
        if not job_matchers or _templated(job_matchers):
            return ref if self.about_the_stack else None
        if ref.metric is None:
            return ref if self.about_the_stack else None
        jobs = self.catalog.owning_jobs(ref.metric)
        if any(all(_selects(m, job) for m in job_matchers) for job in jobs):
            return ref
        # In a file about the stack a job matcher naming no job is a mistake to report
        # (unknown-job), not another system's metric.
        unknown_job = all(
            not any(_selects(m, job) for job in self.catalog.jobs) for m in job_matchers
        )
        return ref if self.about_the_stack and unknown_job else None


def _templated(matchers: Sequence[Any]) -> bool:
    """A Grafana variable stands for the job: the viewer picks it."""
    return any(GRAFANA_VARIABLE in str(m.value) for m in matchers)
