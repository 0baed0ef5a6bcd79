"""``stackgen verify-scale``: the stack past one machine, live on 127.0.0.1.

The agent service's replicas under traffic, Prometheus replicas with the same generated
config and distinct replica labels, Alertmanagers clustered over gossip, and both
Prometheus writing to a clustered store (Thanos receive over two storage nodes, read by a
de-duplicating querier). It proves, in order:

1. every dashboard and rule expression answers the same, within the sampling
   tolerance, on each Prometheus replica and on the store;
2. every aggregate of the service's catalog metrics (``sum by (labels)``) equals what
   the replicas' own /metrics add up to, once traffic has stopped and scrapes caught up;
3. each fault alert reaches the webhook exactly once firing and once resolved, while
   one Prometheus and one Alertmanager are killed after the firing notification and
   started again: the stack's ``at_scale`` scenarios, each made on every replica
   (verify.scale_faults), one after another;
4. one storage node killed and started again: the store holds every sample a
   Prometheus replica scraped meanwhile, with no gap beyond the bound.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from stackgen.render import render_all
from stackgen.spec import FaultScenario, MetricType, Stack, duration_seconds
from stackgen.spec.scale_out import ScaleOut
from stackgen.verify.answers import Answer, Comparison, Tolerance, compare_answers, movement
from stackgen.verify.continuity import Continuity, check_continuity, parse_matrix
from stackgen.verify.deliveries import (
    Deliveries,
    count_deliveries,
    flush_cycle_s,
    last_status,
    other_alerts,
)
from stackgen.verify.exposition_sums import (
    aggregate_query,
    exposed_series_names,
    exposition_sums,
    label_names,
)
from stackgen.verify.expressions import Expression, collect_expressions, rule_index, signal_of
from stackgen.verify.live import DEFAULT_ADMIN_DSN, VerifyCancelled, VerifyEnvironmentError
from stackgen.verify.prometheus_api import PrometheusAPI
from stackgen.verify.query_client import QueryClient, QueryFailed
from stackgen.verify.sampling import reads_windows
from stackgen.verify.scale_config import STORE_LABELS
from stackgen.verify.scale_faults import ScaleFault
from stackgen.verify.scale_stack import ScaleStack
from stackgen.verify.scenarios import criterion_of
from stackgen.verify.traffic import FULL_MIX, HEALTHY_MIX, Action, Traffic

__all__ = [
    "AggregateCheck",
    "AlertDelivery",
    "ExpressionCheck",
    "ScaleOptions",
    "ScaleReport",
    "StorageRestart",
    "run_verify_scale",
    "scale_scenarios",
]

TRAFFIC_S = 45.0
# The store answers a few seconds behind the replicas (remote_write batches every 5 s):
# the expressions are evaluated this far in the past, on every source alike.
STORE_LAG_S = 20.0
# Sampling tolerance of the expression comparison: two replicas' scrapes of one target
# are up to a scrape interval apart, so a rate over a window may hold one sample more
# or less on one of them. The absolute part covers gauges that hold a value for less
# than a scrape interval (a few bytes in the audit spool of the spool limit, caught by
# one replica's scrape only): below every panel's precision.
TOLERANCE = Tolerance(relative=0.2, absolute=1e-4)
# The aggregates are compared after traffic stopped: the values no longer move, so the
# sums must be equal (floating-point summation order aside).
EXACT = Tolerance(relative=1e-9, absolute=1e-9)
# Kill the Prometheus and Alertmanager this long after the firing notification, keep
# them down this long.
KILL_AFTER_FIRING_S = 5.0
DOWN_S = 15.0
# The resolved notification comes at a flush of the alert's group (every group_interval,
# 5m in the generated routes) after the fault ends.
RESOLVED_WITHIN_S = 7 * 60.0
# A member that is not first in the cluster waits its position times the peer timeout
# (Alertmanager's --cluster.peer-timeout, 15s) before it sends what no one else sent.
DUPLICATE_WATCH_S = 30.0
OVERSHOOT_S = 45.0
# A storage node stays down this long; the window compared spans the outage with this
# margin on each side.
STORAGE_DOWN_S = 20.0
STORAGE_MARGIN_S = 30.0
# After the node is back, remote_write's retries (backoff up to 5 s) catch up.
CATCH_UP_S = 20.0
# An alert still firing from the previous fault (or from the mixed traffic of the
# comparison) resolves within its window, its notification at a flush of its group.
CLEAR_WITHIN_S = 7 * 60.0
# Start-up attempts when a program finds its port taken (see _start), and how it says so.
START_ATTEMPTS = 3
PORT_TAKEN = "address already in use"
STORE = "store"
EXPOSITIONS = "replicas' /metrics"


@dataclass(frozen=True)
class ScaleOptions:
    scenarios: Sequence[FaultScenario] = ()
    admin_dsn: str = DEFAULT_ADMIN_DSN
    agent_argv: Sequence[str] | None = None
    traffic_s: float = TRAFFIC_S
    tolerance: Tolerance = TOLERANCE
    keep_dir: bool = False
    cancel: threading.Event | None = None


@dataclass(frozen=True)
class ExpressionCheck:
    expression: Expression
    comparison: Comparison
    # For an alert: its signal (the value compared with the threshold), compared too.
    signal: Comparison | None = None
    # When it was compared: under traffic (it reads windows), or once traffic stopped
    # and every scrape landed (it reads instant values only).
    moment: str = "traffic"

    @property
    def agrees(self) -> bool:
        return self.comparison.agrees and (self.signal is None or self.signal.agrees)


@dataclass(frozen=True)
class AggregateCheck:
    sample: str  # the exposed sample name
    by: tuple[str, ...]
    comparison: Comparison  # the sources and the replicas' /metrics (EXPOSITIONS)
    # Series left out: they moved with no traffic (the scrapes themselves, process
    # figures), so no two readings are of one moment.
    moving: int = 0


@dataclass
class AlertDelivery:
    scenario: FaultScenario
    deliveries: Deliveries | None = None
    detected_s: float | None = None
    killed: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.deliveries is not None and self.deliveries.exactly_once


@dataclass
class StorageRestart:
    node: str
    down_s: float
    gap_bound_s: float
    continuity: Continuity | None = None
    retried_samples: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and self.continuity is not None
            and self.continuity.passed(self.gap_bound_s)
        )


@dataclass
class ScaleReport:
    topology: str = ""
    tolerance: Tolerance = TOLERANCE
    expressions: list[ExpressionCheck] = field(default_factory=list)
    aggregates: list[AggregateCheck] = field(default_factory=list)
    alerts: list[AlertDelivery] = field(default_factory=list)
    storage: StorageRestart | None = None
    traffic: dict[str, int] = field(default_factory=dict)
    environment_error: str | None = None
    elapsed_s: float = 0.0
    pids: list[int] = field(default_factory=list)
    # Processes still running after the stack was closed (must be none).
    left_running: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.environment_error is None
            and not self.left_running
            and bool(self.expressions)
            and all(e.agrees for e in self.expressions)
            and bool(self.aggregates)
            and all(a.comparison.agrees for a in self.aggregates)
            and bool(self.alerts)
            and all(a.passed for a in self.alerts)
            and self.storage is not None
            and self.storage.passed
        )


def scale_scenarios(stack: Stack) -> tuple[FaultScenario, ...]:
    """The stack's fault scenarios this run makes on every replica (``at_scale``), in
    the spec's order."""
    scenarios = stack.verify.scenarios if stack.verify is not None else ()
    return tuple(s for s in scenarios if s.at_scale)


class _Run:
    def __init__(
        self,
        live: ScaleStack,
        options: ScaleOptions,
        report: ScaleReport,
        say: Callable[[str], None],
    ) -> None:
        self.live, self.options, self.report, self.say = live, options, report, say
        # Labels a replica adds to what it sends (its external labels) and the store's
        # own: the replicas' query APIs answer without them, the store with them.
        external = live.stack.prometheus.external_labels
        self.drop = (live.scale_out.replica_label, *STORE_LABELS, *external)
        self.sources = {
            f"prometheus-{r}": QueryClient(live.prometheus_url(r)) for r in live.prometheus_names
        }
        self.sources[STORE] = QueryClient(
            live.store_url, {"dedup": "true", "partial_response": "false"}
        )
        self.apis = {r: PrometheusAPI(live.prometheus_url(r)) for r in live.prometheus_names}
        self.traffic = [Traffic(url, FULL_MIX, workers=1) for url in live.agent_urls]
        self.flush_cycle_s = flush_cycle_s(live.alertmanager_config)

    def close(self) -> None:
        for client in self.sources.values():
            client.close()
        for api in self.apis.values():
            api.close()

    # -- traffic -------------------------------------------------------------------------
    def start_traffic(self) -> None:
        for traffic in self.traffic:
            traffic.start()

    def stop_traffic(self) -> None:
        for traffic in self.traffic:
            traffic.stop()
            for outcome, count in traffic.outcomes.items():
                self.report.traffic[outcome] = self.report.traffic.get(outcome, 0) + count
            traffic.outcomes.clear()

    def set_mix(self, mix: Sequence[Action]) -> None:
        for traffic in self.traffic:
            traffic.set_mix(mix)

    # -- readiness -----------------------------------------------------------------------
    def wait_discovered(self, timeout_s: float = 90.0) -> None:
        """Every Prometheus sees every target up and every Alertmanager."""
        deadline = time.monotonic() + timeout_s
        state = ""
        while time.monotonic() < deadline:
            try:
                if all(self._discovered(r) for r in self.live.prometheus_names):
                    return
            except (httpx.HTTPError, KeyError, ValueError) as error:
                state = str(error)
            self.live.sleep(1.0)
        raise VerifyEnvironmentError(f"targets not all up within {timeout_s:g}s {state}")

    def _discovered(self, replica: str) -> bool:
        base = self.live.prometheus_url(replica)
        targets = httpx.get(f"{base}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        managers = httpx.get(f"{base}/api/v1/alertmanagers", timeout=5).json()["data"]
        wanted = len(self.live.alertmanager_names)
        return (
            bool(targets)
            and all(t["health"] == "up" for t in targets)
            and len(managers["activeAlertmanagers"]) == wanted
        )

    # -- 1. expressions --------------------------------------------------------------------
    def answers(self, expr: str, at: float) -> dict[str, Answer]:
        return {name: client.answer(expr, at, self.drop) for name, client in self.sources.items()}

    def compare(self, expr: str, at: float, interval_s: float) -> Comparison:
        """The sources' answers at ``at``, allowed to differ by the tolerance plus how
        far each series moves within one sampling interval (queried a moment earlier)."""
        now = self.answers(expr, at)
        sampling = movement(now, self.answers(expr, at - interval_s))
        return compare_answers(now, self.options.tolerance, sampling)

    def compare_expressions(self, stack: Stack, *, windowed: bool, lag_s: float) -> None:
        """The expressions that read over a window (``windowed``) or only instant
        values, at ``lag_s`` before now on every source."""
        expressions = collect_expressions(stack, render_all(stack))
        rules = rule_index(expressions)
        chosen = [e for e in expressions if reads_windows(e, rules) is windowed]
        at = time.time() - lag_s
        interval = _sampling_interval_s(stack)
        kind = "windowed" if windowed else "instant"
        self.say(f"[scale] comparing {len(chosen)} {kind} expressions on {', '.join(self.sources)}")
        for expression in chosen:
            comparison = self.compare(expression.expr, at, interval)
            signal = None
            if expression.kind == "alert":
                expr = signal_of(expression.expr)
                if expr != expression.expr:
                    signal = self.compare(expr, at, interval)
            check = ExpressionCheck(
                expression, comparison, signal, "traffic" if windowed else "still"
            )
            self.report.expressions.append(check)

    # -- 2. aggregates ---------------------------------------------------------------------
    def compare_aggregates(self, stack: Stack, settle_s: float) -> None:
        """After traffic stopped: the replicas' /metrics read twice a scrape interval
        apart; a series that moved meanwhile moves by itself (the scrapes of /metrics
        count as requests, process figures change) and is not compared exactly."""
        interval = _scrape_interval_s(stack, self.live.service)
        self.say(f"[scale] traffic stopped; {settle_s:g}s for the last scrapes to land")
        self.live.sleep(max(0.0, settle_s - interval - 1))
        first = self._expositions()
        self.live.sleep(interval + 1)
        texts = self._expositions()
        at = time.time()
        service = self.live.service
        for metric in stack.metrics:
            if metric.service != service:
                continue
            for name in exposed_series_names(metric):
                by = label_names(metric, name)
                expected = exposition_sums(texts, name, by)
                before = exposition_sums(first, name, by)
                moving = {k for k, v in expected.items() if before.get(k) != v}
                answers = self.answers(aggregate_query(name, by, service), at)
                answers[EXPOSITIONS] = Answer(expected)
                steady = {
                    source: Answer({k: v for k, v in a.values.items() if k not in moving}, a.error)
                    for source, a in answers.items()
                }
                # Counters and histograms hold still once traffic stopped; a gauge is
                # a reading of its moment (open files count the scrape's connection).
                exact = metric.type is not MetricType.GAUGE
                comparison = compare_answers(steady, EXACT if exact else self.options.tolerance)
                self.report.aggregates.append(
                    AggregateCheck(name, tuple(by), comparison, moving=len(moving))
                )

    def _expositions(self) -> list[str]:
        return [httpx.get(f"{url}/metrics", timeout=10).text for url in self.live.agent_urls]

    # -- 3. alerts through the kills -------------------------------------------------------
    def notifying_alertmanager(self) -> str:
        """The Alertmanager that sent the most webhook notifications (the one whose loss
        the cluster must cover)."""
        counts = {}
        for name in self.live.alertmanager_names:
            text = httpx.get(f"{self.live.alertmanager_url(name)}/metrics", timeout=5).text
            total = 0.0
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name == "alertmanager_notifications_total":
                        total += sample.value
            counts[name] = total
        return max(counts, key=lambda n: counts[n])

    def fault_scenario(
        self, scenario: FaultScenario, number: int, storage: Callable[[], None]
    ) -> AlertDelivery:
        """The scenario's fault on every replica; once its alert is notified firing, one
        Prometheus (each scenario the next one) and the notifying Alertmanager killed and
        started again; the fault undone; then the notifications counted."""
        result = AlertDelivery(scenario)
        live = self.live
        alert = scenario.alert
        if alert is None:  # at_scale scenarios always name an alert
            result.error = "the scenario names no alert"
            return result
        self.set_mix(HEALTHY_MIX)
        still = self.wait_clear(alert, CLEAR_WITHIN_S)
        if still is not None:
            result.error = still
            return result
        _criterion, budget_s = criterion_of(live.stack, scenario)
        wait_s = scenario.max_wait_s or budget_s + OVERSHOOT_S
        fault = ScaleFault(scenario, live, self.traffic)
        self.say(f"[{scenario.name}] fault on every replica: {scenario.title}")
        since = time.time()
        fault.begin()
        # Onset: the fault is in effect (restarting the replicas to apply a setting is
        # not part of it); notifications are counted from before it began.
        onset = time.time()
        arrived = self._wait_notified(alert, since, "firing", wait_s)
        if arrived is None:
            fault.end()
            result.error = f"{alert} did not fire within {wait_s:.0f}s"
            return result
        result.detected_s = arrived - onset
        self.say(f"[{scenario.name}] {alert} notified firing after {result.detected_s:.0f}s")
        live.sleep(KILL_AFTER_FIRING_S)
        names = live.prometheus_names
        prometheus = f"prometheus-{names[number % len(names)]}"
        alertmanager = self.notifying_alertmanager()
        result.killed = (prometheus, alertmanager)
        live.kill(prometheus)
        live.kill(alertmanager)
        live.sleep(DOWN_S)
        live.restart(alertmanager)
        restarted = time.time()
        live.restart(prometheus)
        self.say(f"[{scenario.name}] {prometheus} and {alertmanager} back; ending the fault")
        fault.end()
        storage()
        resolved = self._wait_notified(alert, since, "resolved", RESOLVED_WITHIN_S)
        if resolved is None:
            result.error = f"{alert} not notified resolved within {RESOLVED_WITHIN_S:.0f}s"
        else:
            # A member that missed the others' notifications would send its own at a
            # flush of its group: watch until the restarted one has flushed twice.
            quiet_until = max(resolved, restarted + self.flush_cycle_s) + DUPLICATE_WATCH_S
            wait = max(0.0, quiet_until - time.time())
            self.say(f"[{scenario.name}] resolved notified; watching {wait:.0f}s for duplicates")
            live.sleep(wait)
        notifications = [n for n in live.webhook.notifications() if n.received_at >= since]
        result.deliveries = count_deliveries(notifications, alert, since)
        result.others = tuple(other_alerts(notifications, {alert}))
        return result

    def wait_clear(self, alert: str, wait_s: float) -> str | None:
        """Wait until ``alert`` is neither pending nor firing on any Prometheus and its
        last notification (if any) was the resolved one: the scenario's notifications
        are then its own. None when clear; what still holds it otherwise."""
        deadline = time.time() + wait_s
        said = False
        while True:
            active = [r for r in self.live.prometheus_names if self._active(r, alert)]
            notified = last_status(self.live.webhook.notifications(), alert)
            if not active and notified != "firing":
                return None
            if time.time() >= deadline:
                where = f"active on prometheus-{', '.join(active)}" if active else "not resolved"
                return f"{alert} still {where} {wait_s:.0f}s after the previous fault"
            if not said:
                self.say(f"[scale] waiting for {alert} to resolve before its own scenario")
                said = True
            self.live.sleep(2.0)

    def _active(self, replica: str, alert: str) -> bool:
        alerts = self.apis[replica].alerts()
        return any(a.get("labels", {}).get("alertname") == alert for a in alerts)

    def _wait_notified(self, alert: str, since: float, status: str, wait_s: float) -> float | None:
        deadline = time.time() + wait_s
        while time.time() < deadline:
            for notification in self.live.webhook.notifications():
                if notification.received_at < since:
                    continue
                for sent in notification.payload.get("alerts", []):
                    named = sent.get("labels", {}).get("alertname") == alert
                    if named and sent.get("status") == status:
                        return notification.received_at
            self.live.sleep(1.0)
        return None

    # -- 4. a storage node restarted -------------------------------------------------------
    def storage_restart(self) -> StorageRestart:
        live = self.live
        node = live.ingestor_names[-1]
        interval = _scrape_interval_s(live.stack, live.service)
        result = StorageRestart(node, STORAGE_DOWN_S, gap_bound_s=1.5 * interval)
        replica = live.prometheus_names[-1]  # the replica never killed
        retried_before = self._remote_write_retries(replica)
        live.sleep(STORAGE_MARGIN_S)
        start = time.time() - STORAGE_MARGIN_S
        live.kill(node)
        live.sleep(STORAGE_DOWN_S)
        live.restart(node)
        end = time.time() + STORAGE_MARGIN_S
        self.say(f"[storage] {node} back; {STORAGE_MARGIN_S + CATCH_UP_S:g}s to catch up")
        live.sleep(STORAGE_MARGIN_S + CATCH_UP_S)
        result.retried_samples = self._remote_write_retries(replica) - retried_before
        selector = f'{{job="{live.service}"}}[{end - start:.0f}s]'
        try:
            own = self.sources[f"prometheus-{replica}"].data(selector, end)
            stored = self.sources[STORE].data(selector, end, dedup="false")
        except QueryFailed as failed:
            result.error = str(failed)
            return result
        label = live.scale_out.replica_label
        reference = parse_matrix(own, self.drop)
        kept = parse_matrix(stored, self.drop, only={label: replica})
        result.continuity = check_continuity(reference, kept)
        return result

    def _remote_write_retries(self, replica: str) -> float:
        text = httpx.get(f"{self.live.prometheus_url(replica)}/metrics", timeout=5).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in (
                    "prometheus_remote_storage_samples_retried_total",
                    "prometheus_remote_storage_samples_failed_total",
                ):
                    total += sample.value
        return total


def _sampling_interval_s(stack: Stack) -> float:
    """The longest interval between two samplings of a series: the slowest scrape job
    or the rule evaluation interval."""
    intervals = [stack.prometheus.scrape_interval, stack.prometheus.evaluation_interval]
    intervals += [
        s.scrape.interval for s in stack.scraped_services() if s.scrape and s.scrape.interval
    ]
    return max(duration_seconds(i) for i in intervals)


def _scrape_interval_s(stack: Stack, service: str) -> float:
    found = stack.service(service)
    interval = found.scrape.interval if found is not None and found.scrape else None
    return duration_seconds(interval or stack.prometheus.scrape_interval)


def _topology(live: ScaleStack) -> str:
    return (
        f"{live.agent_count} {live.service} replicas, {len(live.prometheus_names)} Prometheus "
        f"({live.scale_out.replica_label}={'/'.join(live.prometheus_names)}), "
        f"{len(live.alertmanager_names)} Alertmanagers in a gossip cluster, Thanos receive "
        f"(router + {len(live.ingestor_names)} storage nodes) + query "
        f"(--query.replica-label={live.scale_out.replica_label})"
    )


def _scenario_run(
    stack: Stack,
    live: ScaleStack,
    options: ScaleOptions,
    report: ScaleReport,
    say: Callable[[str], None],
) -> None:
    run = _Run(live, options, report, say)
    try:
        run.start_traffic()
        run.wait_discovered()
        say(f"[scale] every target up on every replica; {options.traffic_s:g}s of traffic")
        live.sleep(options.traffic_s)
        run.compare_expressions(stack, windowed=True, lag_s=STORE_LAG_S)
        run.stop_traffic()
        run.compare_aggregates(stack, settle_s=2 * _scrape_interval_s(stack, live.service) + 15)
        run.compare_expressions(stack, windowed=False, lag_s=0.0)
        run.start_traffic()

        def storage() -> None:
            if report.storage is None:
                report.storage = run.storage_restart()

        for number, scenario in enumerate(options.scenarios):
            report.alerts.append(run.fault_scenario(scenario, number, storage))
        storage()
    finally:
        run.stop_traffic()
        run.close()


def run_verify_scale(
    stack: Stack,
    scale_out: ScaleOut,
    options: ScaleOptions,
    log: Callable[[str], None] | None = None,
) -> ScaleReport:
    """Run the proof; every process is stopped before this returns, also when it raises
    (KeyboardInterrupt, or SystemExit from the CLI's SIGTERM handler)."""
    lock = threading.Lock()

    def say(message: str) -> None:
        with lock:
            (log or _stderr)(f"{time.strftime('%H:%M:%S')} {message}")

    started = time.monotonic()
    report = ScaleReport(tolerance=options.tolerance)
    stacks: list[ScaleStack] = []
    finished = threading.Event()
    if options.cancel is not None:
        threading.Thread(
            target=_close_when_cancelled, args=(options.cancel, finished, stacks), daemon=True
        ).start()
    try:
        live = _start(stack, scale_out, options, say, stacks)
        try:
            report.topology = _topology(live)
            _scenario_run(stack, live, options, report, say)
        finally:
            live.close()
    except VerifyEnvironmentError as error:
        report.environment_error = str(error)
    except VerifyCancelled as cancelled:
        report.environment_error = str(cancelled)
    finally:
        finished.set()
        children = [c for live in stacks for c in live.processes.children]
        report.pids = [c.pid for c in children]
        report.left_running = [c.pid for c in children if c.running()]
        report.elapsed_s = time.monotonic() - started
    return report


def _start(
    stack: Stack,
    scale_out: ScaleOut,
    options: ScaleOptions,
    say: Callable[[str], None],
    stacks: list[ScaleStack],
) -> ScaleStack:
    """The stack, started. A port probed free can be taken by another program before
    ours binds it (other test runs share the machine): start-up is tried again with new
    ports, a bounded number of times."""
    for attempt in range(1, START_ATTEMPTS + 1):
        live = ScaleStack(
            stack,
            scale_out,
            admin_dsn=options.admin_dsn,
            agent_argv=options.agent_argv,
            log=say,
            keep_dir=options.keep_dir,
        )
        stacks.append(live)
        try:
            return live.__enter__()  # closes what it started when it fails
        except VerifyEnvironmentError as error:
            if PORT_TAKEN not in str(error) or attempt == START_ATTEMPTS:
                raise
            say(f"[scale] a port was taken meanwhile; starting again ({attempt}/{START_ATTEMPTS})")
    raise AssertionError("unreachable: the last attempt raises")


def _close_when_cancelled(
    cancel: threading.Event, finished: threading.Event, stacks: list[ScaleStack]
) -> None:
    while not finished.is_set():
        if cancel.wait(0.2):
            for live in list(stacks):
                live.close()
            return


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
