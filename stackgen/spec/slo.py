"""Service level objectives: an SLI, an objective over a period, and the multi-window
multi-burn-rate alerts of the Google SRE workbook built from them.

The SLI is either a ratio of counter events (bad or good events over all events) or a
latency threshold over a catalog histogram (the share of observations above a bucket
boundary). Every rule expression is built here from the model; renderers only lay the
rules out, and the checker reads the same expressions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from stackgen.conventions import (
    BUCKET_LABEL,
    SLO_BUDGET_REMAINING_RECORD,
    SLO_BURN_TIERS,
    SLO_ERROR_BUDGET_RECORD,
    SLO_ERROR_RATIO_RECORD,
    SLO_LABEL,
    SLO_OBJECTIVE_RECORD,
    SLO_REFERENCE_PERIOD_DAYS,
    SLO_RULE_GROUP_PREFIX,
    SLO_WINDOWS,
)
from stackgen.spec.base import SpecModel, duration_seconds
from stackgen.spec.metrics import LABEL_NAME, METRIC_NAME

__all__ = [
    "SLO",
    "WINDOW_PLACEHOLDER",
    "BurnTier",
    "LatencySLI",
    "QuerySLI",
    "RatioSLI",
    "SLORule",
    "le_regex",
]

SLO_NAME = r"^[a-z][a-z0-9-]*$"


def _selector(series: str, matchers: dict[str, str], extra: str = "") -> str:
    parts = [f'{key}="{value}"' for key, value in sorted(matchers.items())]
    if extra:
        parts.append(extra)
    return f"{series}{{{','.join(parts)}}}" if parts else series


def _number(value: float) -> str:
    """A float as PromQL text, without binary noise (0.05 * 14.4 -> 0.72)."""
    return f"{round(value, 12):.12g}"


def le_spellings(bound: float) -> tuple[str, ...]:
    """How exporters write a bucket bound: prometheus_client ``2.0``, client_golang ``2``."""
    spellings = {repr(float(bound)), f"{bound:g}"}
    if float(bound).is_integer():
        spellings.add(str(int(bound)))
    return tuple(sorted(spellings, key=lambda s: (len(s), s)))


def le_regex(bound: float) -> str:
    """A regex matching every spelling of a bound; ``[.]`` avoids escaping backslashes
    through PromQL strings and YAML."""
    return "|".join(s.replace(".", "[.]") for s in le_spellings(bound))


class _Matchers(SpecModel):
    @staticmethod
    def _check_labels(matchers: dict[str, str], field: str) -> list[str]:
        return [
            f"{field}: {key!r} is not a valid label name"
            for key in matchers
            if not re.match(LABEL_NAME, key) or key.startswith("__")
        ]


class RatioSLI(_Matchers):
    """Events counted by one catalog counter: ``bad`` (or ``good``) matchers select the
    bad (good) events, ``matchers`` restrict both them and the total."""

    spec_key = "metric"

    kind: Literal["ratio"] = "ratio"
    # The counter family name (``agent_requests``: the series is agent_requests_total).
    metric: str = Field(pattern=METRIC_NAME)
    bad: dict[str, str] | None = None
    good: dict[str, str] | None = None
    matchers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = self._check_labels(self.matchers, "matchers")
        if (self.bad is None) == (self.good is None):
            problems.append("exactly one of `bad` (error events) or `good` is needed")
        events = self.bad if self.bad is not None else self.good
        if events is not None:
            if not events:
                problems.append("the event matchers may not be empty")
            problems += self._check_labels(events, "bad" if self.bad is not None else "good")
            overlap = set(events) & set(self.matchers)
            if overlap:
                problems.append(f"labels {sorted(overlap)} are in both the events and `matchers`")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def series(self) -> str:
        return f"{self.metric}_total"

    @property
    def events(self) -> dict[str, str]:
        return dict(self.bad if self.bad is not None else self.good or {})

    def error_ratio_expr(self, window: str) -> str:
        events = _selector(self.series, {**self.matchers, **self.events})
        total = f"sum(rate({_selector(self.series, self.matchers)}[{window}]))"
        events_rate = f"sum(rate({events}[{window}]))"
        if self.bad is not None:
            return f"{events_rate} / {total}"
        return f"({total} - {events_rate}) / {total}"


class LatencySLI(_Matchers):
    """Observations of a catalog histogram above ``threshold`` (seconds, or the
    histogram's unit) are bad; the threshold must be one of its bucket boundaries."""

    spec_key = "metric"

    kind: Literal["latency"] = "latency"
    # The histogram family name (agent_ttft_seconds).
    metric: str = Field(pattern=METRIC_NAME)
    threshold: float = Field(gt=0)
    matchers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = self._check_labels(self.matchers, "matchers")
        if BUCKET_LABEL in self.matchers:
            problems.append(f"matchers: {BUCKET_LABEL!r} is set from `threshold`")
        if not math.isfinite(self.threshold):
            problems.append("threshold must be finite")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def error_ratio_expr(self, window: str) -> str:
        count = f"sum(rate({_selector(self.metric + '_count', self.matchers)}[{window}]))"
        le = f'{BUCKET_LABEL}=~"{le_regex(self.threshold)}"'
        good = f"sum(rate({_selector(self.metric + '_bucket', self.matchers, le)}[{window}]))"
        return f"({count} - {good}) / {count}"


# Where a QuerySLI's queries take the window (Sloth's and OpenSLO-in-Sloth's spelling).
WINDOW_PLACEHOLDER = "{{.window}}"


class QuerySLI(SpecModel):
    """An SLI written as PromQL over a ``{{.window}}`` placeholder, as Sloth and OpenSLO
    specs write it: bad events over all events (``error_query``, ``total_query``), good
    events over all (``good_query``, ``total_query``), or the error ratio itself
    (``error_ratio_query``). The queries are checked like every rule expression (against
    the catalog when the stack has one); prefer RatioSLI and LatencySLI for catalog
    metrics."""

    spec_key = "total_query"

    kind: Literal["query"] = "query"
    error_query: str | None = None
    good_query: str | None = None
    total_query: str | None = None
    error_ratio_query: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        events = [q for q in (self.error_query, self.good_query) if q is not None]
        ratio = self.error_ratio_query is not None
        if ratio == bool(events or self.total_query):
            raise ValueError(
                "either `error_ratio_query` alone, or `total_query` with exactly one of "
                "`error_query` and `good_query`"
            )
        if not ratio and (len(events) != 1 or self.total_query is None):
            raise ValueError("`total_query` needs exactly one of `error_query`, `good_query`")
        problems = []
        for field in ("error_query", "good_query", "total_query", "error_ratio_query"):
            query = getattr(self, field)
            if query is None:
                continue
            if WINDOW_PLACEHOLDER not in query:
                problems.append(f"{field}: no {WINDOW_PLACEHOLDER} placeholder")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _at(self, query: str | None, window: str) -> str:
        return (query or "").strip().replace(WINDOW_PLACEHOLDER, window)

    def error_ratio_expr(self, window: str) -> str:
        if self.error_ratio_query is not None:
            return self._at(self.error_ratio_query, window)
        total = self._at(self.total_query, window)
        if self.error_query is not None:
            return f"({self._at(self.error_query, window)})\n/\n({total})"
        return f"1 - (({self._at(self.good_query, window)})\n/\n({total}))"


@dataclass(frozen=True)
class BurnTier:
    """One multi-window burn-rate alert of an SLO, its factor scaled to the period."""

    tier: str  # page or ticket
    long_window: str
    short_window: str
    factor: float
    severity: str

    @property
    def window(self) -> str:
        return f"{self.long_window}/{self.short_window}"

    @property
    def alert_name(self) -> str:
        return f"SLOBurnRate{self.tier.capitalize()}{self.long_window}"


@dataclass(frozen=True)
class SLORule:
    """A recording rule of an SLO (no spec test: the SLO tests cover them)."""

    record: str
    expr: str


class SLO(SpecModel):
    stack_field = "slos"
    name: str = Field(pattern=SLO_NAME)
    description: str = Field(min_length=1)
    # Percent of good events, e.g. 99.0; strictly between 0 and 100.
    objective: float
    period: Literal["28d", "30d"] = "30d"
    sli: RatioSLI | LatencySLI | QuerySLI = Field(discriminator="kind")
    # Which burn-rate tiers alert: pages (1h/5m, 6h/30m) and tickets (1d/2h, 3d/6h).
    page: bool = True
    ticket: bool = True
    # Anchor of the SLO's section in the runbooks.
    runbook: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")

    @field_validator("objective")
    @classmethod
    def _percentage(cls, value: float) -> float:
        if not (math.isfinite(value) and 0 < value < 100):
            raise ValueError(
                f"{value:g} is not a percentage strictly between 0 and 100 (e.g. 99.0): "
                "100 leaves no error budget"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        for tier in self.burn_tiers(enabled_only=True):
            needed = tier.factor * self.error_budget
            if needed >= 1:
                problems.append(
                    f"{tier.tier}: the {tier.window} tier of SLO {self.name!r} needs an error "
                    f"ratio of {_number(tier.factor)} x {_number(self.error_budget)} = "
                    f"{_number(needed)} >= 1, so it could never fire: set "
                    f"{tier.tier}=False or raise the objective"
                )
        if not (self.page or self.ticket):
            problems.append("page and ticket are both off: the SLO would never alert")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def runbook_anchor(self) -> str:
        """The runbook section its burn-rate alerts link."""
        return self.runbook or f"slo-{self.name}"

    @property
    def error_budget(self) -> float:
        """The allowed error ratio, e.g. 0.01 for 99 %."""
        return round(1 - self.objective / 100, 12)

    @property
    def group(self) -> str:
        return SLO_RULE_GROUP_PREFIX + self.name.replace("-", "_")

    @property
    def labels(self) -> dict[str, str]:
        return {SLO_LABEL: self.name}

    def burn_tiers(self, *, enabled_only: bool = True) -> tuple[BurnTier, ...]:
        scale = duration_seconds(self.period) / (SLO_REFERENCE_PERIOD_DAYS * 86400)
        tiers = []
        for tier, long_window, short_window, factor, severity in SLO_BURN_TIERS:
            enabled = self.page if tier == "page" else self.ticket
            if enabled or not enabled_only:
                tiers.append(
                    BurnTier(tier, long_window, short_window, round(factor * scale, 6), severity)
                )
        return tuple(tiers)

    def error_ratio_record(self, window: str) -> str:
        return SLO_ERROR_RATIO_RECORD.format(window=window)

    def _own(self, record: str) -> str:
        return _selector(record, self.labels)

    def recording_rules(self) -> tuple[SLORule, ...]:
        """Error ratios per window and over the period, then the metadata rules."""
        rules = [
            SLORule(self.error_ratio_record(w), self.sli.error_ratio_expr(w))
            for w in (*SLO_WINDOWS, self.period)
        ]
        period_ratio = self._own(self.error_ratio_record(self.period))
        rules += [
            SLORule(SLO_OBJECTIVE_RECORD, f"vector({_number(self.objective / 100)})"),
            SLORule(SLO_ERROR_BUDGET_RECORD, f"vector({_number(self.error_budget)})"),
            SLORule(
                SLO_BUDGET_REMAINING_RECORD,
                f"1 - {period_ratio} / {_number(self.error_budget)}",
            ),
        ]
        return tuple(rules)

    def threshold(self, tier: BurnTier) -> float:
        return float(_number(tier.factor * self.error_budget))

    def alert_expr(self, tier: BurnTier) -> str:
        threshold = _number(self.threshold(tier))
        long_ratio = self._own(self.error_ratio_record(tier.long_window))
        short_ratio = self._own(self.error_ratio_record(tier.short_window))
        return f"({long_ratio} > {threshold}) and ({short_ratio} > {threshold})"

    def exhaustion(self, tier: BurnTier) -> str:
        """How long the whole budget lasts at this tier's burn rate, for annotations."""
        hours = duration_seconds(self.period) / 3600 / tier.factor
        return f"{hours / 24:.3g} days" if hours >= 48 else f"{hours:.3g} hours"
