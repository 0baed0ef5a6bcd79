"""Files the stack did not write: read as promtool and Grafana read them (every malformed
part a finding at its line, promtool refusing the same files), and judged with or without
a catalog (structural checks on inferred types; the catalog only for what it owns)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from stackgen.check.codes import FindingCode
from stackgen.check.external import check_dashboard_file, check_rule_file
from stackgen.cli import main
from stackgen.findings import Finding
from stackgen.spec import Stack
from tests.conftest import REPO_ROOT

GROUP = "groups:\n- name: g\n  rules:\n"

# (text, the message part of the one finding, its line). Each is refused by promtool.
MALFORMED_RULES = [
    pytest.param(GROUP + "  - alert: A\n    for: 5m\n", "no `expr`", 4, id="no-expr"),
    pytest.param(GROUP + "  - alert: A\n    expr: [1, 2]\n", "`expr` is a list", 4, id="expr-list"),
    pytest.param(GROUP + "  - alert: A\n    expr: ''\n", "no `expr`", 4, id="expr-empty"),
    pytest.param(GROUP + "  - 42\n", "rule 1 is a number (42)", 4, id="rule-is-a-number"),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n  - 42\n", "rule 2 is a number", 6, id="second"
    ),
    pytest.param(
        "groups:\n- rules:\n  - alert: A\n    expr: up == 0\n",
        "group 1 has no name",
        2,
        id="no-name",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    for: abc\n",
        "`for` is 'abc', not a duration",
        4,
        id="for-abc",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    for: 300\n", "`for` is 300", 4, id="for-int"
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    expr: up == 1\n",
        "repeats the key 'expr'",
        4,
        id="duplicate-key",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    severity: page\n",
        "unknown field(s) 'severity'",
        4,
        id="unknown-field",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    record: a:b\n    expr: up\n",
        "both `alert` and `record`",
        4,
        id="both",
    ),
    pytest.param(GROUP + "  - expr: up\n", "neither `alert` nor `record`", 4, id="neither"),
    pytest.param(
        GROUP + "  - record: a:b\n    expr: up\n    for: 5m\n",
        "`for` is not allowed in a recording rule",
        4,
        id="record-for",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    labels: [a]\n",
        "`labels` is a list",
        4,
        id="labels-list",
    ),
    pytest.param(
        GROUP + "  - alert: A\n    expr: up == 0\n    annotations: {summary: {a: b}}\n",
        "`annotations.summary` is a mapping",
        4,
        id="annotation-mapping",
    ),
    pytest.param("groups: {a: 1}\n", "`groups` is a mapping, not a list", 1, id="groups-map"),
    pytest.param(
        "groups:\n- name: g\n  rules: {a: 1}\n", "`rules` is a mapping, not a list", 2, id="rules"
    ),
    pytest.param(
        "groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n",
        "group name 'g' is repeated",
        4,
        id="repeated-group",
    ),
    pytest.param(
        "groups:\n- name: g\n  interval: often\n  rules: []\n",
        "`interval` is 'often'",
        2,
        id="interval",
    ),
    pytest.param("groups: []\nextra: 1\n", "unknown field(s) 'extra'", 1, id="top-level-field"),
]


def write(tmp_path: Path, text: str | bytes, name: str = "rules.yml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def codes(findings: list[Finding]) -> list[str]:
    return sorted(str(f.code) for f in findings)


@pytest.mark.parametrize(("text", "message", "line"), MALFORMED_RULES)
def test_malformed_rule_file_is_one_finding_at_its_line(
    text: str, message: str, line: int, tmp_path: Path, promtool: str
) -> None:
    path = write(tmp_path, text)
    findings = check_rule_file(None, path)
    assert [f.code for f in findings] == [FindingCode.MALFORMED_RULE], findings
    (found,) = findings
    assert message in found.message
    assert found.location == f"{path}:{line}"
    assert str(path) in found.where and found.hint
    # What stackgen refuses, promtool refuses.
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0, result.stdout + result.stderr


def test_what_promtool_accepts_is_no_finding(tmp_path: Path, promtool: str) -> None:
    """Scalars Go's YAML reads as text: a number as expr, `for: 0`, labels true and 1."""
    text = GROUP + "  - alert: A\n    expr: 42\n    for: 0\n    labels: {a: true, b: 1}\n"
    path = write(tmp_path, text)
    assert check_rule_file(None, path) == []
    subprocess.run([promtool, "check", "rules", str(path)], check=True, capture_output=True)


def test_malformed_rules_are_reported_beside_the_good_ones(tmp_path: Path) -> None:
    text = GROUP + (
        "  - alert: NoExpr\n"
        "  - alert: Slow\n"
        "    expr: histogram_quantile(0.9, rate(x_seconds_bucket[5m])) > 1\n"
    )
    findings = check_rule_file(None, write(tmp_path, text))
    assert codes(findings) == ["malformed-rule", "quantile-unaggregated"]


def test_bytes_that_are_not_utf8_are_a_finding_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GROUP.encode() + b"  - alert: A\n    expr: up == 0 # caf\xe9\n")
    (found,) = check_rule_file(None, path)
    assert found.code is FindingCode.NOT_UTF8
    assert found.location == f"{path}:5" and "0xe9" in found.message
    dashboard = write(tmp_path, b'{"title": "caf\xe9"}', "dash.json")
    assert codes(check_dashboard_file(None, dashboard)) == ["not-utf8"]


# Documents that are not rule files, or YAML that is not YAML: one finding, no traceback.
ODD_FILES = [
    pytest.param("", "unreadable-file", id="empty"),
    pytest.param("42\n", "unreadable-file", id="scalar"),
    pytest.param("- a\n- b\n", "unreadable-file", id="list"),
    pytest.param("? [a, b]\n: 1\n", "unreadable-file", id="unhashable-key"),
    pytest.param("groups:\n\t- name: g\n", "unreadable-file", id="tab"),
    pytest.param("a: &x [*x]\n", "unreadable-file", id="alias-loop"),
    pytest.param("rule_files: [a.yml]\ntests: []\n", "unreadable-file", id="promtool-test-file"),
    pytest.param("apiVersion: sloth/v1\nservice: x\nslos: []\n", "unreadable-file", id="sloth"),
    pytest.param("kind: PrometheusRule\nmetadata: {name: x}\n", "malformed-rule", id="no-spec"),
]


@pytest.mark.parametrize(("text", "code"), ODD_FILES)
def test_odd_files_are_one_finding(text: str, code: str, tmp_path: Path) -> None:
    findings = check_rule_file(None, write(tmp_path, text))
    assert codes(findings) == [code], findings


def test_sloth_spec_points_at_the_importer(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: sloth/v1\nservice: x\nslos: []\n")
    (found,) = check_rule_file(None, path)
    assert f"stackgen import sloth {path}" in found.hint


UNAGGREGATED = "histogram_quantile(0.9, rate(x_seconds_bucket[5m]))"
PROMETHEUS_RULE = f"""apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: a}}
spec:
  groups:
  - name: k8s
    rules:
    - record: q
      expr: {UNAGGREGATED}
"""
RULE_FILE = f"groups:\n- name: plain\n  rules:\n  - record: q\n    expr: {UNAGGREGATED}\n"
LIST = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [yaml.safe_load(PROMETHEUS_RULE)],
}
CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "rules"},
    "data": {"a.yaml": RULE_FILE},
}


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        pytest.param(PROMETHEUS_RULE, ["k8s"], id="prometheus-rule"),
        pytest.param(RULE_FILE + "---\n" + PROMETHEUS_RULE, ["plain", "k8s"], id="multi-doc"),
        pytest.param(yaml.safe_dump(LIST), ["k8s"], id="list"),
        pytest.param(yaml.safe_dump(CONFIG_MAP), ["plain"], id="config-map"),
    ],
)
def test_every_kind_of_rule_document_is_read(text: str, groups: list[str], tmp_path: Path) -> None:
    findings = check_rule_file(None, write(tmp_path, text))
    assert codes(findings) == ["quantile-unaggregated"] * len(groups)
    assert [f.where.split("group ")[1].split(",")[0] for f in findings] == sorted(groups)


def test_prometheus_rule_findings_are_at_the_rule_line(tmp_path: Path) -> None:
    path = write(tmp_path, PROMETHEUS_RULE)
    (found,) = check_rule_file(None, path)
    assert found.location == f"{path}:8"


# -- dashboards -----------------------------------------------------------------------

PANEL = {
    "id": 1,
    "title": "p99",
    "type": "timeseries",
    "targets": [
        {"refId": "A", "expr": "histogram_quantile(0.99, rate(x_bucket[$__rate_interval]))"}
    ],
}
DASHBOARD = {"title": "d", "uid": "d", "panels": [PANEL]}


def config_map(name: str, dashboards: dict[str, object]) -> dict[str, object]:
    data = {key: json.dumps(value, indent=2) for key, value in dashboards.items()}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_dashboard_config_maps_and_lists_are_read(tmp_path: Path) -> None:
    listed = {
        "apiVersion": "v1",
        "kind": "ConfigMapList",
        "items": [config_map("a", {"a.json": DASHBOARD})],
    }
    text = yaml.safe_dump(listed) + "---\n" + yaml.safe_dump(config_map("b", {"b.json": DASHBOARD}))
    findings = check_dashboard_file(None, write(tmp_path, text, "dashboards.yaml"))
    assert codes(findings) == ["quantile-unaggregated", "quantile-unaggregated"]
    assert {f.where.split(": panel")[0].split(": ")[1] for f in findings} == {
        "ConfigMap a, a.json",
        "ConfigMap b, b.json",
    }


def test_a_provisioning_directory_is_read_whole(tmp_path: Path) -> None:
    nested = tmp_path / "dashboards" / "team"
    nested.mkdir(parents=True)
    (nested / "one.json").write_text(json.dumps(DASHBOARD))
    (tmp_path / "dashboards" / "two.json").write_text(json.dumps({"dashboard": DASHBOARD}))
    providers = {"apiVersion": 1, "providers": [{"name": "x", "options": {"path": "/d"}}]}
    (tmp_path / "dashboards" / "providers.yaml").write_text(yaml.safe_dump(providers))
    findings = check_dashboard_file(None, tmp_path / "dashboards")
    assert codes(findings) == ["quantile-unaggregated", "quantile-unaggregated"]


MALFORMED_DASHBOARDS = [
    pytest.param({"panels": {"id": 1}}, "`panels` is not a list", id="panels-object"),
    pytest.param({"panels": [3]}, "panel 1 is not an object", id="panel-number"),
    pytest.param({"panels": [{"title": "t", "targets": {}}]}, "`targets` is not a list", id="t"),
    pytest.param({"panels": [{"targets": ["up"]}]}, "target 1 is not an object", id="target"),
    pytest.param(
        {"panels": [{"targets": [{"refId": "A", "expr": 5}]}]}, "`expr` is not a string", id="expr"
    ),
    pytest.param({"rows": [{"panels": [7]}]}, "row 1 > panel 1 is not an object", id="row"),
    pytest.param({"templating": {"list": 5}}, "`templating.list`", id="variables"),
]


@pytest.mark.parametrize(("document", "message"), MALFORMED_DASHBOARDS)
def test_malformed_dashboard_is_a_finding(
    document: dict[str, object], message: str, tmp_path: Path
) -> None:
    (found,) = check_dashboard_file(None, write(tmp_path, json.dumps(document), "d.json"))
    assert found.code is FindingCode.MALFORMED_DASHBOARD and message in found.message


def test_bad_json_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "panels": [\n    {,}\n  ]\n}\n', "d.json")
    (found,) = check_dashboard_file(None, path)
    assert found.code is FindingCode.UNREADABLE_FILE and found.location == f"{path}:3"


# -- without a catalog: types from names and use ----------------------------------------


def alert_findings(
    expr: str, tmp_path: Path, stack: Stack | None = None, *, neighbours: bool = False
) -> list[str]:
    """The codes of a file with one alert; ``neighbours`` adds an alert on other
    systems' metrics (kube-state-metrics, node exporter), as in the files where names
    clash with the catalog."""
    rules: list[dict[str, str]] = [{"alert": "A", "expr": expr, "for": "5m"}]
    if neighbours:
        rules.append({"alert": "B", "expr": NEIGHBOURS, "for": "5m"})
    text = yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]})
    return codes(check_rule_file(stack, write(tmp_path, text)))


NEIGHBOURS = "rate(kube_pod_restarts_total[5m]) > 0 and kube_node_ready == 0 and node_load1 > 1"


STRUCTURAL = [
    pytest.param("rate(node_load_ratio[5m]) > 1", ["rate-on-gauge"], id="rate-on-ratio"),
    pytest.param("rate(process_start_time_seconds[5m]) > 0", ["rate-on-gauge"], id="timestamp"),
    pytest.param("delta(errors_total[10m]) > 1", ["delta-on-counter"], id="delta-on-total"),
    pytest.param(
        "histogram_quantile(0.9, rate(etcd_x_seconds_bucket[5m])) > 1",
        ["quantile-unaggregated"],
        id="unaggregated-quantile",
    ),
    pytest.param(
        "histogram_quantile(0.9, sum by (job) (rate(x_bucket[5m]))) > 1",
        ["quantile-le-dropped"],
        id="le-dropped",
    ),
    pytest.param(
        "histogram_quantile(0.9, sum(rate(x_count[5m])) by (le)) > 1",
        ["quantile-not-bucket"],
        id="quantile-over-count",
    ),
    pytest.param("rate(x_total[30s]) > 1", ["short-range"], id="short-range"),
    pytest.param("sum(rate(x[1m) > 1", ["promql-syntax"], id="syntax"),
    # A raw _total compared, when the file rates the same name elsewhere.
    pytest.param(
        "x_errors_total > 0 and rate(x_errors_total[5m]) > 0", ["raw-counter"], id="raw-by-use"
    ),
    # What names do not prove is not claimed.
    pytest.param("ceph_pg_total - ceph_pg_active > 0", [], id="total-named-gauge"),
    pytest.param("rate(es_query_time_seconds[5m]) > 1", [], id="time-seconds-counter"),
    pytest.param("rate(mysql_global_status_questions[5m]) > 1", [], id="counter-without-total"),
    pytest.param(
        "histogram_quantile(0.9, sum(rate(http_duration_seconds[5m]))) > 1", [], id="native"
    ),
    pytest.param(
        "count(cpu_seconds_total * on (pod) group_left (node) kube_pod_info) > 0"
        " and rate(cpu_seconds_total[5m]) > 0",
        [],
        id="label-join-under-count",
    ),
    pytest.param("up{namespace='x', job='kubelet'} == 0", [], id="foreign-labels-and-jobs"),
    pytest.param("rate(x_total[1m]) > 1", [], id="four-scrapes"),
]


@pytest.mark.parametrize(("expr", "expected"), STRUCTURAL)
def test_structural_checks_run_without_a_catalog(
    expr: str, expected: list[str], tmp_path: Path
) -> None:
    assert alert_findings(expr, tmp_path) == expected


def test_the_scrape_interval_can_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, GROUP + "  - alert: A\n    expr: rate(x_total[1m]) > 1\n    for: 5m\n")
    assert codes(check_rule_file(None, path, scrape_interval_s=30)) == ["short-range"]


SHAPE = [
    pytest.param('absent(up{job=~"api|worker"})', "5m", ["absent-regex"], id="absent-alternation"),
    pytest.param('absent(up{job=~".*thanos-query.*"} == 1)', "5m", [], id="absent-pattern"),
    pytest.param('absent(up{job="api"})', "5m", [], id="absent-equality"),
    pytest.param(
        "sum(rate(e_total[5m])) / sum(rate(r_total[5m])) > 0.1",
        None,
        ["ratio-without-for"],
        id="ratio",
    ),
    pytest.param(
        "sum(rate(e_total[5m])) / sum(rate(r_total[5m])) > 0.1",
        "0m",
        ["ratio-without-for"],
        id="for-0",
    ),
    pytest.param(
        "sum(rate(e_total[5m])) / sum(rate(r_total[5m])) > 0.1", "5m", [], id="ratio-with-for"
    ),
    pytest.param(
        "sum(rate(e_total[1h])) / sum(rate(r_total[1h])) > 0.1", None, [], id="long-window"
    ),
]


@pytest.mark.parametrize(("expr", "for_", "expected"), SHAPE)
def test_rule_shape_checks(
    expr: str, for_: str | None, expected: list[str], tmp_path: Path
) -> None:
    rule: dict[str, object] = {"alert": "A", "expr": expr}
    if for_ is not None:
        rule["for"] = for_
    path = write(tmp_path, yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    assert codes(check_rule_file(None, path)) == expected


# -- with the BestBox catalog: only what it owns ---------------------------------------

NAME_CLASHES = [
    # Thanos' own http_requests_total, selected by a job the stack does not have.
    pytest.param(
        'sum by (job) (rate(http_requests_total{code=~"5..", job=~".*thanos-query.*", '
        'handler="query"}[5m])) > 0',
        id="thanos-http-requests",
    ),
    # GitLab's, in a file about GitLab (no job matcher).
    pytest.param(
        'sum(rate(http_requests_total{status=~"5.."}[5m])) > 0 and '
        "gitlab_a_total > 0 and gitlab_b > 0",
        id="gitlab-http-requests",
    ),
    pytest.param('up{job="kubelet", namespace="kube-system"} == 0', id="kubelet-up"),
    pytest.param('sum by (namespace) (up{job="kube-state-metrics"}) == 0', id="namespace"),
]


@pytest.mark.parametrize("expr", NAME_CLASHES)
def test_a_name_clash_with_the_catalog_is_no_finding(
    expr: str, stack: Stack, tmp_path: Path
) -> None:
    assert alert_findings(expr, tmp_path, stack, neighbours=True) == []


def test_the_catalog_judges_what_it_owns_in_a_foreign_file(stack: Stack, tmp_path: Path) -> None:
    """A selector of an owning job is the catalog's, whatever else the file reads."""
    expr = (
        'rate(agent_requests_total{job="agent-api", code="500"}[5m]) > 0 and rate(a_total[5m]) > 0'
    )
    assert alert_findings(expr, tmp_path, stack, neighbours=True) == ["undeclared-label"]


def test_in_a_file_about_the_stack_a_job_it_lacks_is_a_finding(
    stack: Stack, tmp_path: Path
) -> None:
    """Most names are the catalog's: a job matcher naming no job of it is a mistake."""
    expr = 'up{job="agent-api-v2"} == 0 and rate(agent_requests_total[5m]) > 0'
    # The `and` is empty too: its sides keep different labels and nothing pairs up.
    assert alert_findings(expr, tmp_path, stack) == ["unknown-job", "unmatched-operands"]


def test_structural_checks_run_on_names_the_catalog_lacks(stack: Stack, tmp_path: Path) -> None:
    expr = 'histogram_quantile(0.9, rate(gpu_seconds_bucket{job="llm-server"}[5m])) > 1'
    assert alert_findings(expr, tmp_path, stack) == ["quantile-unaggregated", "unknown-metric"]


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        pytest.param('status=~"5.."', ["unknown-label-value"], id="never-matches"),
        pytest.param('status=~"err.*"', [], id="matches-error"),
        pytest.param('status=~"error|success"', [], id="alternatives"),
    ],
)
def test_regex_matchers_are_checked_against_declared_values(
    matcher: str, expected: list[str], stack: Stack, tmp_path: Path
) -> None:
    expr = f"sum(rate(agent_requests_total{{{matcher}}}[5m])) > 0"
    assert alert_findings(expr, tmp_path, stack) == expected


# -- the command line -------------------------------------------------------------------


def test_no_catalog_runs_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        GROUP + "  - alert: A\n    expr: histogram_quantile(0.9, rate(x_bucket[5m])) > 1\n",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-catalog", "--rules", str(path)]) == 0  # a warning only
    assert "warning[quantile-unaggregated]" in capsys.readouterr().err
    assert main(["check", "--rules", str(path)]) == 0  # no project here: no catalog
    assert "checking the files on their own" in capsys.readouterr().err
    bad = write(tmp_path, GROUP + "  - alert: A\n", "bad.yml")
    assert main(["check", "--no-catalog", "--rules", str(bad)]) == 1
    assert main(["check", "--no-catalog"]) == 2
    capsys.readouterr()
    # A directory: every rule file under it.
    nested = tmp_path / "rules" / "team"
    nested.mkdir(parents=True)
    (nested / "a.yaml").write_text(bad.read_text())
    (tmp_path / "rules" / "b.yml").write_text(path.read_text())
    assert main(["check", "--no-catalog", "--rules", str(tmp_path / "rules")]) == 1
    err = capsys.readouterr().err
    assert "team/a.yaml:4: error[malformed-rule]" in err and "b.yml" in err
    (tmp_path / "empty").mkdir()
    assert main(["check", "--no-catalog", "--rules", str(tmp_path / "empty")]) == 1
    assert "holds no rule file" in capsys.readouterr().err
    assert main(["check", "--no-catalog", "--scrape-interval", "often", "--rules", str(path)]) == 2


# -- no traceback, whatever the file holds ----------------------------------------------

WEIRD_VALUES: list[object] = [None, 5, "x", [], {}, [1], {"a": 1}, True]


def _paths(value: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def test_any_value_anywhere_in_a_dashboard_is_no_traceback(tmp_path: Path) -> None:
    """Every field of a real-shaped dashboard replaced by every JSON type in turn."""
    base = json.loads((REPO_ROOT / "tests/data/external/dashboard.json").read_text())
    path = tmp_path / "d.json"
    for where in _paths(base):
        for value in WEIRD_VALUES:
            document = json.loads(json.dumps(base))
            parent = document
            for key in where[:-1]:
                parent = parent[key]
            parent[where[-1]] = value
            path.write_text(json.dumps(document))
            check_dashboard_file(None, path)


def test_a_rule_file_cut_anywhere_is_no_traceback(tmp_path: Path) -> None:
    """A real-shaped rule file (a PrometheusRule with several documents) truncated at
    every 7th byte: findings, never an exception."""
    text = (PROMETHEUS_RULE + "---\n" + RULE_FILE).encode()
    path = tmp_path / "cut.yml"
    for end in range(0, len(text), 7):
        path.write_bytes(text[:end])
        check_rule_file(None, path)


# -- several instances ----------------------------------------------------------------------
def test_a_foreign_ratio_of_differently_aggregated_sides_is_reported(tmp_path: Path) -> None:
    text = (
        GROUP + "  - alert: A\n"
        "    expr: sum by (route) (rate(errors_total[5m])) / sum by (code) "
        "(rate(requests_total[5m])) > 0.05\n    for: 5m\n"
    )
    (found,) = check_rule_file(None, write(tmp_path, text))
    assert found.code == FindingCode.UNMATCHED_OPERANDS
    assert "only the left side keeps {route}" in found.message


def test_a_foreign_quantile_of_max_merged_buckets_is_reported(tmp_path: Path) -> None:
    expr = "histogram_quantile(0.9, max by (le) (rate(latency_seconds_bucket[5m])))"
    panel = {**PANEL, "targets": [{"refId": "A", "expr": expr}]}
    document = {**DASHBOARD, "panels": [panel]}
    (found,) = check_dashboard_file(None, write(tmp_path, json.dumps(document), "d.json"))
    assert found.code == FindingCode.QUANTILE_MIXES_INSTANCES


def test_a_foreign_per_instance_page_is_left_to_its_author(tmp_path: Path) -> None:
    # Distinct servers (SNMP devices, database nodes) are paged one by one on purpose:
    # only the stack knows which of its jobs are interchangeable replicas.
    text = (
        GROUP
        + "  - alert: A\n    expr: up == 0\n    for: 1m\n    labels:\n      severity: critical\n"
    )
    assert check_rule_file(None, write(tmp_path, text)) == []
