"""A stack without some scrape jobs, kept consistent: what only watched those jobs goes
with them (job lists shrink; the jobs' catalog metrics, the alerts and runbook queries
reading them or tested on them, and runbooks nothing links any more go), so a check on
the variant reports only the problem a test is about."""

from __future__ import annotations

import re

from stackgen.spec import Runbook, Stack

__all__ = ["without_jobs"]

_JOB_ALTERNATION = re.compile(r'job=~"([a-z0-9|-]+)"')


def _rewrite(expr: str, gone: set[str], metrics: set[str]) -> str | None:
    """The expression without the removed jobs; None when nothing of it is left."""
    if any(re.search(rf"\b{name}(_total|_bucket|_sum|_count)?\b", expr) for name in metrics):
        return None
    emptied = False

    def keep(match: re.Match[str]) -> str:
        nonlocal emptied
        jobs = [job for job in match[1].split("|") if job not in gone]
        emptied = emptied or not jobs
        return f'job=~"{"|".join(jobs)}"'

    rewritten = _JOB_ALTERNATION.sub(keep, expr)
    return None if emptied else rewritten


def without_jobs(stack: Stack, *names: str) -> Stack:
    gone = set(names)
    dropped = {m.name for m in stack.metrics if m.service in gone}
    alerts = []
    for alert in stack.alerts:
        expr = _rewrite(alert.expr, gone, dropped)
        series = [*alert.test.series, *alert.test.near_miss]
        tested_on_gone = any(f'job="{job}"' in selector for job in gone for selector in series)
        if expr is not None and not tested_on_gone:
            alerts.append(alert.model_copy(update={"expr": expr}))
    linked = {a.runbook for a in alerts} | {s.runbook_anchor for s in stack.slos}
    dropped_alert_runbooks = {a.runbook for a in stack.alerts} - linked
    runbooks: list[Runbook] = []
    for runbook in stack.runbooks:
        if runbook.anchor in dropped_alert_runbooks:
            continue
        queries = []
        for query in runbook.queries:
            promql = _rewrite(query.promql, gone, dropped)
            if promql is not None:
                queries.append(query.model_copy(update={"promql": promql}))
        runbooks.append(runbook.model_copy(update={"queries": tuple(queries)}))
    return stack.model_copy(
        update={
            "services": tuple(s for s in stack.services if s.name not in gone),
            "metrics": tuple(m for m in stack.metrics if m.name not in dropped),
            "alerts": tuple(alerts),
            "runbooks": tuple(runbooks),
        }
    )
