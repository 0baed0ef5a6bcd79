"""The pure parts of ``stackgen verify-scale``: each replica's configuration, the
answers' comparison and its tolerance, the de-duplication labels, the sums over
/metrics, the delivery counts and the storage continuity check."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import pytest
import yaml

from specs.bestbox import stack as STACK
from stackgen.conventions import ALERTMANAGER_CONFIG_PATH, PROMETHEUS_CONFIG_PATH
from stackgen.render import render_all
from stackgen.render.local_profile import LocalProfile, render_local
from stackgen.verify import scale
from stackgen.verify.answers import (
    Answer,
    Labels,
    Tolerance,
    compare_answers,
    movement,
    parse_answer,
)
from stackgen.verify.continuity import check_continuity, max_gap, parse_matrix
from stackgen.verify.deliveries import (
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
from stackgen.verify.expressions import Expression, rule_index
from stackgen.verify.live import VerifyEnvironmentError
from stackgen.verify.sampling import reads_windows
from stackgen.verify.scale import (
    AggregateCheck,
    AlertDelivery,
    ExpressionCheck,
    ScaleReport,
    StorageRestart,
    scale_scenarios,
)
from stackgen.verify.scale_config import (
    NODE_LABEL,
    STORE_LABELS,
    ReceivePorts,
    alertmanager_cluster_flags,
    replica_config,
    thanos_hashring,
    thanos_ingestor_argv,
    thanos_query_argv,
    thanos_router_argv,
)
from stackgen.verify.scale_report import format_scale_report
from stackgen.verify.webhook import Notification
from tests.conftest import REPO_ROOT, run_tool, tool_path

AGENTS = ["127.0.0.1:21001", "127.0.0.1:21002", "127.0.0.1:21003"]
MANAGERS = ["127.0.0.1:21093", "127.0.0.1:21094"]
WRITE_URL = "http://127.0.0.1:21291/api/v1/receive"


def _local_prometheus_yml() -> str:
    profile = LocalProfile(ports={"agent-api": 21001, "prometheus": 21090, "alertmanager": 21093})
    return render_local(STACK, profile)[PROMETHEUS_CONFIG_PATH]


def _replica(replica: str) -> dict[str, Any]:
    text = replica_config(
        _local_prometheus_yml(),
        replica_label="replica",
        replica=replica,
        job_targets={"agent-api": AGENTS, "alertmanager": MANAGERS},
        alertmanagers=MANAGERS,
        remote_write_url=WRITE_URL,
    )
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


# -- replica configuration ------------------------------------------------------------------
def test_replicas_differ_only_by_their_replica_label() -> None:
    a, b = _replica("a"), _replica("b")
    assert a["global"]["external_labels"]["replica"] == "a"
    assert b["global"]["external_labels"]["replica"] == "b"
    b["global"]["external_labels"]["replica"] = "a"
    assert a == b


def test_replica_keeps_the_profiles_rules_and_external_labels() -> None:
    base = yaml.safe_load(_local_prometheus_yml())
    config = _replica("a")
    assert config["rule_files"] == base["rule_files"]
    labels = config["global"]["external_labels"]
    assert labels == {**base["global"]["external_labels"], "replica": "a"}
    assert config["global"]["scrape_interval"] == base["global"]["scrape_interval"]


def test_every_instance_of_a_replicated_job_is_scraped() -> None:
    jobs = {j["job_name"]: j for j in _replica("a")["scrape_configs"]}
    assert jobs["agent-api"]["static_configs"] == [{"targets": AGENTS}]
    base = {j["job_name"]: j for j in yaml.safe_load(_local_prometheus_yml())["scrape_configs"]}
    # The rest of the job is kept.
    assert jobs["agent-api"]["scrape_interval"] == base["agent-api"]["scrape_interval"]
    assert jobs["alertmanager"]["static_configs"] == [{"targets": MANAGERS}]
    # A job not listed keeps its profile target.
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:21090"]}]


def test_alerts_lose_the_replica_label_and_go_to_every_alertmanager() -> None:
    alerting = _replica("a")["alerting"]
    assert alerting["alert_relabel_configs"] == [{"action": "labeldrop", "regex": "replica"}]
    assert alerting["alertmanagers"] == [{"static_configs": [{"targets": MANAGERS}]}]


def test_replicas_remote_write_to_the_store() -> None:
    assert _replica("b")["remote_write"] == [{"url": WRITE_URL, "name": "store"}]


def test_alertmanager_gossip_peers_every_other_member_on_loopback() -> None:
    assert alertmanager_cluster_flags(30001, [30001, 30002, 30003]) == [
        "--cluster.listen-address=127.0.0.1:30001",
        "--cluster.peer=127.0.0.1:30002",
        "--cluster.peer=127.0.0.1:30003",
    ]


def test_store_processes_listen_on_loopback_only() -> None:
    ports = [ReceivePorts(20001, 20002, 20003, 20004), ReceivePorts(20011, 20012, 20013, 20014)]
    router = ReceivePorts(20021, 20022, 20023, 20024)
    argvs = [
        thanos_ingestor_argv("thanos", ports[0], "/d1", "store-node-1"),
        thanos_router_argv("thanos", router, "/d0", "/ring.json"),
        thanos_query_argv("thanos", 20031, 20032, ports, "replica"),
    ]
    for argv in argvs:
        addresses = [a.split("=", 1)[1] for a in argv if a.split("=")[0].endswith("-address")]
        assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), argv
    # Every listener Thanos receive opens is given, or it binds 0.0.0.0.
    for flag in ("--http-address", "--grpc-address", "--remote-write.address",
                 "--receive.capnproto-address"):  # fmt: skip
        assert any(a.startswith(flag + "=") for a in argvs[0]), flag


def test_query_deduplicates_by_the_replica_and_node_labels() -> None:
    argv = thanos_query_argv("thanos", 1, 2, [ReceivePorts(3, 4, 5, 6)], "replica")
    assert "--query.replica-label=replica" in argv
    assert f"--query.replica-label={NODE_LABEL}" in argv
    assert "--endpoint=127.0.0.1:4" in argv


def test_hashring_spreads_series_over_every_node() -> None:
    ring = yaml.safe_load(thanos_hashring([ReceivePorts(1, 2, 3, 4), ReceivePorts(5, 6, 7, 8)]))
    assert ring == [{"hashring": "default", "endpoints": ["127.0.0.1:2", "127.0.0.1:6"]}]
    assert "--receive.replication-factor=1" in thanos_router_argv(
        "thanos", ReceivePorts(1, 2, 3, 4), "/d", "/ring.json"
    )


# -- answers and tolerance ------------------------------------------------------------------
def _vector(*series: tuple[dict[str, str], float]) -> dict[str, object]:
    return {
        "resultType": "vector",
        "result": [{"metric": m, "value": [1.0, str(v)]} for m, v in series],
    }


DROP = ("replica", *STORE_LABELS)


def test_store_labels_and_replica_label_are_not_part_of_a_series() -> None:
    store = parse_answer(
        _vector(({"job": "x", "replica": "a", "tenant_id": "t", NODE_LABEL: "n1"}, 2.0)), DROP
    )
    assert store.values == {(("job", "x"),): 2.0}


def test_series_that_collapse_into_one_are_an_error() -> None:
    both = _vector(({"job": "x", "replica": "a"}, 1), ({"job": "x", "replica": "b"}, 1))
    answer = parse_answer(both, DROP)
    assert answer.error is not None and "two series" in answer.error


def test_scalar_answers_are_one_series_without_labels() -> None:
    assert parse_answer({"resultType": "scalar", "result": [1.0, "3"]}).values == {(): 3.0}


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        pytest.param(1.0, 1.15, True, id="within-20-percent"),
        pytest.param(1.0, 1.3, False, id="beyond-20-percent"),
        pytest.param(0.0, 1e-7, True, id="within-absolute"),
        pytest.param(0.0, 0.01, False, id="zero-against-a-rate"),
        pytest.param(math.nan, math.nan, True, id="nan-equals-nan"),
        pytest.param(math.nan, 1.0, False, id="nan-against-a-number"),
        pytest.param(math.inf, math.inf, True, id="inf-equals-inf"),
        pytest.param(math.inf, 1e300, False, id="inf-against-large"),
    ],
)
def test_tolerance(a: float, b: float, close: bool) -> None:
    assert Tolerance(relative=0.2, absolute=1e-6).close(a, b) is close
    assert Tolerance(relative=0.2, absolute=1e-6).close(b, a) is close


def test_answers_agree_within_tolerance_and_report_the_largest_difference() -> None:
    labels = (("job", "x"),)
    answers = {
        "A": Answer({labels: 1.0}),
        "B": Answer({labels: 1.1}),
        "store": Answer({labels: 1.05}),
    }
    comparison = compare_answers(answers, Tolerance(relative=0.2))
    assert comparison.agrees
    assert comparison.series == (1, 1, 1)
    assert comparison.max_difference == pytest.approx(0.1 / 1.1)


def test_a_series_missing_on_one_source_is_a_disagreement() -> None:
    x, y = (("job", "x"),), (("job", "y"),)
    answers = {"A": Answer({x: 1.0, y: 2.0}), "store": Answer({x: 1.0})}
    comparison = compare_answers(answers, Tolerance())
    assert not comparison.agrees
    assert comparison.problems == ('{job="y"} missing on store',)


def test_a_value_beyond_tolerance_is_a_disagreement() -> None:
    x = (("job", "x"),)
    comparison = compare_answers({"A": Answer({x: 1.0}), "B": Answer({x: 2.0})}, Tolerance())
    assert comparison.problems == ('{job="x"} differs: A=1, B=2',)


def test_a_failed_query_is_a_disagreement() -> None:
    comparison = compare_answers({"A": Answer({}), "B": Answer({}, "bad_data: parse")}, Tolerance())
    assert comparison.problems == ("B: bad_data: parse",)


def test_movement_is_the_largest_change_of_a_series_on_one_source() -> None:
    x, y, z = (("job", "x"),), (("job", "y"),), (("job", "z"),)
    now = {"A": Answer({x: 2.0, y: 1.0}), "B": Answer({x: 1.0, z: 0.5})}
    before = {"A": Answer({x: 1.0, y: 1.0}), "B": Answer({x: 1.5})}
    sampling = movement(now, before)
    # z appeared within the interval: it moved from nothing to its value.
    assert sampling.moved == {x: 1.0, y: 0.0, z: 0.5}
    assert sampling.appearing == {z}


def test_a_gauge_sampled_at_different_moments_agrees_within_its_movement() -> None:
    # One in-flight session more on one replica's sample: beyond 20%, but the gauge
    # itself moves by one session within a scrape interval.
    x: Labels = ()
    answers = {"A": Answer({x: 1.0}), "B": Answer({x: 1.0}), "store": Answer({x: 2.0})}
    assert not compare_answers(answers, Tolerance(relative=0.2)).agrees
    sampling = movement(answers, {"A": Answer({x: 0.0}), "B": Answer({x: 1.0})})
    assert compare_answers(answers, Tolerance(relative=0.2), sampling).agrees


def test_a_doubled_value_is_caught_when_the_series_holds_still() -> None:
    x = (("job", "x"),)
    answers = {"A": Answer({x: 10.0}), "store": Answer({x: 20.0})}
    sampling = movement(answers, {"A": Answer({x: 9.5}), "store": Answer({x: 20.0})})
    assert not compare_answers(answers, Tolerance(relative=0.2), sampling).agrees


def test_a_series_just_appearing_may_be_missing_on_a_source() -> None:
    x, y = (("job", "x"),), (("job", "y"),)
    answers = {"A": Answer({x: 1.0, y: 0.1}), "store": Answer({x: 1.0})}
    appearing = movement(answers, {"A": Answer({x: 1.0}), "store": Answer({x: 1.0})})
    assert compare_answers(answers, Tolerance(), appearing).agrees
    # Present a moment earlier too: its absence on the store is a loss.
    steady = movement(answers, {"A": Answer({x: 1.0, y: 0.1}), "store": Answer({x: 1.0})})
    assert not compare_answers(answers, Tolerance(), steady).agrees


def test_empty_answers_everywhere_agree() -> None:
    assert compare_answers({"A": Answer({}), "B": Answer({})}, Tolerance()).agrees


# -- sums over /metrics ---------------------------------------------------------------------
EXPOSITION = """# TYPE agent_requests counter
agent_requests_total{{agent="erp",status="ok"}} {erp}
agent_requests_total{{agent="crm",status="ok"}} 1
agent_requests_created{{agent="erp",status="ok"}} 1.7e9
"""


def test_exposition_sums_add_the_replicas_by_the_labels() -> None:
    texts = [EXPOSITION.format(erp=2), EXPOSITION.format(erp=3), EXPOSITION.format(erp=5)]
    sums = exposition_sums(texts, "agent_requests_total", ["agent"])
    assert sums == {(("agent", "crm"),): 3.0, (("agent", "erp"),): 10.0}
    assert exposition_sums(texts, "agent_requests_total", []) == {(): 13.0}


def test_aggregate_names_and_labels_follow_the_catalog() -> None:
    metric = next(m for m in STACK.metrics if m.type == "histogram" and m.labels)
    names = exposed_series_names(metric)
    assert names == [f"{metric.name}_bucket", f"{metric.name}_sum", f"{metric.name}_count"]
    own = sorted(label.name for label in metric.labels)
    assert label_names(metric, names[0]) == [*own, "le"]
    assert label_names(metric, names[2]) == own
    assert aggregate_query("x_total", ["a", "b"], "agent-api") == (
        'sum by (a, b) (x_total{job="agent-api"})'
    )


# -- deliveries -----------------------------------------------------------------------------
def _notification(at: float, *alerts: tuple[str, str]) -> Notification:
    payload = {"alerts": [{"status": s, "labels": {"alertname": n}} for n, s in alerts]}
    return Notification(at, "/alerts/critical", payload)


def test_deliveries_count_firing_and_resolved_notifications_once_each() -> None:
    notifications = [
        _notification(5.0, ("ServiceDown", "firing")),  # before the fault: not counted
        _notification(10.0, ("ServiceDown", "firing")),
        _notification(20.0, ("Other", "firing")),
        _notification(30.0, ("ServiceDown", "resolved")),
    ]
    deliveries = count_deliveries(notifications, "ServiceDown", since=8.0)
    assert deliveries.firing == ("/alerts/critical",)
    assert deliveries.resolved == ("/alerts/critical",)
    assert deliveries.exactly_once
    assert other_alerts(notifications, {"ServiceDown"}) == ["Other"]


def test_a_duplicate_firing_notification_is_not_exactly_once() -> None:
    notifications = [
        _notification(10.0, ("ServiceDown", "firing")),
        _notification(11.0, ("ServiceDown", "firing")),
        _notification(30.0, ("ServiceDown", "resolved")),
    ]
    assert not count_deliveries(notifications, "ServiceDown", since=0.0).exactly_once


def test_a_missing_resolved_notification_is_not_exactly_once() -> None:
    notifications = [_notification(10.0, ("ServiceDown", "firing"))]
    assert not count_deliveries(notifications, "ServiceDown", since=0.0).exactly_once


def test_flush_cycle_is_the_longest_group_wait_plus_the_longest_group_interval() -> None:
    text = yaml.safe_dump(
        {
            "route": {
                "group_wait": "30s",
                "group_interval": "5m",
                "routes": [{"group_wait": "10s"}, {"group_interval": "10m", "routes": [{}]}],
            }
        }
    )
    assert flush_cycle_s(text) == 30 + 600
    assert flush_cycle_s("route: {}\n") == 30 + 300  # Alertmanager's defaults


def test_the_generated_routes_flush_cycle() -> None:
    assert flush_cycle_s(render_all(STACK)[ALERTMANAGER_CONFIG_PATH]) == 30 + 300


# -- storage continuity ---------------------------------------------------------------------
def _matrix(*series: tuple[dict[str, str], list[tuple[float, float]]]) -> dict[str, object]:
    return {
        "resultType": "matrix",
        "result": [{"metric": m, "values": [[t, str(v)] for t, v in p]} for m, p in series],
    }


SCRAPES = [(float(t), 1.0) for t in range(0, 100, 10)]


def test_the_store_keeps_only_the_compared_replicas_series() -> None:
    stored = parse_matrix(
        _matrix(
            ({"__name__": "up", "replica": "a", NODE_LABEL: "n1"}, SCRAPES[:2]),
            ({"__name__": "up", "replica": "b", NODE_LABEL: "n2"}, SCRAPES),
        ),
        DROP,
        only={"replica": "b"},
    )
    assert stored == {(("__name__", "up"),): SCRAPES}


def test_continuity_holds_when_every_sample_is_stored() -> None:
    reference = parse_matrix(_matrix(({"__name__": "up"}, SCRAPES)))
    continuity = check_continuity(reference, dict(reference))
    assert (continuity.series, continuity.samples, continuity.lost) == (1, 10, 0)
    assert continuity.max_gap_s == 10.0
    assert continuity.passed(gap_bound_s=15.0)


def test_samples_lost_during_the_outage_are_counted_and_leave_a_gap() -> None:
    reference = parse_matrix(_matrix(({"__name__": "up"}, SCRAPES)))
    outage = [p for p in SCRAPES if not 30.0 <= p[0] <= 50.0]
    stored = parse_matrix(_matrix(({"__name__": "up"}, outage)))
    continuity = check_continuity(reference, stored)
    assert continuity.lost == 3
    assert continuity.max_gap_s == 40.0
    assert not continuity.passed(gap_bound_s=15.0)
    assert continuity.examples == ("up{'__name__': 'up'}: 3 of 10 samples",)


def test_a_stored_sample_with_another_value_is_lost() -> None:
    reference = parse_matrix(_matrix(({"__name__": "up"}, SCRAPES)))
    changed = [(t, 0.0 if t == 40.0 else v) for t, v in SCRAPES]
    assert (
        check_continuity(reference, parse_matrix(_matrix(({"__name__": "up"}, changed)))).lost == 1
    )


def test_nothing_compared_is_no_proof() -> None:
    assert not check_continuity({}, {}).passed(gap_bound_s=15.0)


def test_max_gap_of_fewer_than_two_samples_is_zero() -> None:
    assert max_gap([]) == 0.0
    assert max_gap([(1.0, 1.0)]) == 0.0


# -- scenarios ------------------------------------------------------------------------------
def test_the_at_scale_scenarios_run_in_the_specs_order() -> None:
    # Every critical alert's fault and a traffic mix: each made on all three replicas.
    assert [s.name for s in scale_scenarios(STACK)] == [
        "agent-down",
        "error-ratio",
        "slow-ttft",
        "tool-errors",
    ]


def test_last_status_is_that_of_the_latest_notification_carrying_the_alert() -> None:
    assert last_status([], "HighToolErrorRate") is None
    earlier = [
        _notification(10.0, ("HighToolErrorRate", "firing")),
        _notification(20.0, ("Other", "firing")),
    ]
    assert last_status(earlier, "HighToolErrorRate") == "firing"
    resolved = [*earlier, _notification(30.0, ("HighToolErrorRate", "resolved"))]
    assert last_status(resolved, "HighToolErrorRate") == "resolved"
    # One label set resolved, another still firing: the alert is not clear.
    mixed = _notification(40.0, ("HighToolErrorRate", "resolved"), ("HighToolErrorRate", "firing"))
    assert last_status([*resolved, mixed], "HighToolErrorRate") == "firing"
    # Arrival order counts, not list order.
    assert last_status(list(reversed(resolved)), "HighToolErrorRate") == "resolved"


# -- the printed tables ---------------------------------------------------------------------
def _report(*, lost: int, firing: int) -> ScaleReport:
    scenario = next(s for s in scale_scenarios(STACK) if s.name == "agent-down")
    x = (("job", "agent-api"),)
    same = {name: Answer({x: 1.0}) for name in ("A", "B", "store")}
    agree = compare_answers(same, Tolerance())
    points = [(float(t), 1.0) for t in range(0, 60, 10)]
    stored = {x: [p for p in points if p[0] != 30.0]} if lost else {x: points}
    alerts = [_notification(1.0, ("ServiceDown", "firing")) for _ in range(firing)]
    alerts.append(_notification(2.0, ("ServiceDown", "resolved")))
    return ScaleReport(
        topology="3 agent-api replicas",
        expressions=[ExpressionCheck(Expression("d / p / A", "panel", "up"), agree)],
        aggregates=[AggregateCheck("agent_requests_total", ("agent",), agree)],
        alerts=[
            AlertDelivery(
                scenario,
                count_deliveries(alerts, "ServiceDown", since=0.0),
                detected_s=80.0,
                killed=("prometheus-a", "alertmanager-1"),
            )
        ],
        storage=StorageRestart(
            "store-node-2", 20.0, 15.0, check_continuity({x: points}, stored), retried_samples=9
        ),
        pids=[1, 2],
    )


def test_a_run_that_proved_everything_passes_and_prints_every_table() -> None:
    report = _report(lost=0, firing=1)
    assert report.passed
    text = format_scale_report(report)
    headings = ("Expressions on A/B/store", "Aggregates on A/B/store", "Alerts through the kills")
    for heading in (*headings, "Storage node killed and restarted"):
        assert heading in text
    assert "exactly once" in text and "no loss" in text
    assert text.endswith("stackgen verify-scale: passed in 0s\n")


@pytest.mark.parametrize(
    ("lost", "firing"),
    [pytest.param(1, 1, id="a-sample-lost"), pytest.param(0, 2, id="notified-twice")],
)
def test_a_loss_or_a_duplicate_fails_the_run(lost: int, firing: int) -> None:
    report = _report(lost=lost, firing=firing)
    assert not report.passed
    assert "stackgen verify-scale: FAILED" in format_scale_report(report)


def test_a_process_left_running_fails_the_run() -> None:
    report = _report(lost=0, firing=1)
    report.left_running = [2]
    assert not report.passed
    assert "STILL RUNNING: [2]" in format_scale_report(report)


# -- the store's build ----------------------------------------------------------------------
def test_built_thanos_is_the_pinned_version() -> None:
    pinned = dict(
        line.split("=", 1)
        for line in (REPO_ROOT / "tools" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    result = run_tool(tool_path("thanos"), "--version")
    assert result.returncode == 0, result.stderr
    assert f"thanos, version {pinned['THANOS_VERSION']} " in result.stdout + result.stderr


# -- start-up retried when a port is taken --------------------------------------------------
class _FakeStack:
    # The start-up errors the next stacks raise, in order (then they start).
    failures: ClassVar[list[str]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.closed = False

    def __enter__(self) -> _FakeStack:
        if _FakeStack.failures:
            raise VerifyEnvironmentError(_FakeStack.failures.pop(0))
        return self


def _start_with(monkeypatch: pytest.MonkeyPatch, failures: list[str]) -> list[object]:
    monkeypatch.setattr(scale, "ScaleStack", _FakeStack)
    _FakeStack.failures = list(failures)
    stacks: list[object] = []
    scale._start(STACK, STACK.scale_out, scale.ScaleOptions(), lambda _: None, stacks)  # type: ignore[arg-type]
    return stacks


def test_a_port_taken_before_its_bind_starts_the_stack_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = "prometheus-a exited: listen tcp 127.0.0.1:20933: bind: address already in use"
    assert len(_start_with(monkeypatch, [taken])) == 2


def test_start_up_is_tried_a_bounded_number_of_times(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = "bind: address already in use"
    with pytest.raises(VerifyEnvironmentError):
        _start_with(monkeypatch, [taken] * scale.START_ATTEMPTS)


def test_other_start_up_failures_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(VerifyEnvironmentError, match="thanos is not built"):
        _start_with(monkeypatch, ["thanos is not built"])


# -- when an expression is compared ---------------------------------------------------------
def _expression(expr: str, kind: str = "panel", name: str = "") -> Expression:
    return Expression("test", kind, expr, name)


@pytest.mark.parametrize(
    ("expr", "windowed"),
    [
        pytest.param("sum(rate(x_total[5m]))", True, id="range-selector"),
        pytest.param("max_over_time(sum(g)[5m:1m])", True, id="subquery"),
        pytest.param("sum(active_sessions)", False, id="in-flight-gauge"),
        pytest.param("vector(0.95)", False, id="constant"),
        pytest.param("job:x:rate5m > 1", True, id="windowed-recording-rule"),
        pytest.param("job:objective", False, id="instant-recording-rule"),
    ],
)
def test_reads_windows(expr: str, windowed: bool) -> None:
    rules = rule_index(
        [
            _expression("sum(rate(x_total[5m]))", "record", "job:x:rate5m"),
            _expression("vector(0.95)", "record", "job:objective"),
        ]
    )
    assert reads_windows(_expression(expr), rules) is windowed
