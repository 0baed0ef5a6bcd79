"""`stackgen import sloth|openslo`: Sloth and OpenSLO specs as stackgen SLOs, with every
field left behind listed, written out as Python that loads back to the same SLOs."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackgen.check.static import check_stack
from stackgen.cli import main
from stackgen.importers import SpecImportError, import_file, load_slos, python_module
from stackgen.spec import SLO, QuerySLI, Stack
from stackgen.spec.base import SpecError

SLOTH = """version: "prometheus/v1"
service: "myservice"
labels: {owner: myteam}
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Availability."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      ticket_alert: {disable: true}
  - name: "raw"
    objective: 99
    sli:
      raw:
        error_ratio_query: sum(rate(e_total[{{.window}}])) / sum(rate(r_total[{{.window}}]))
  - name: "plugged"
    objective: 99
    sli:
      plugin: {id: "sloth-common/availability"}
  - name: "silent"
    objective: 99
    sli:
      raw: {error_ratio_query: "rate(e_total[{{.window}}])"}
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""

KUBERNETES_SLOTH = """apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: a}
spec:
  service: svc
  slos:
    - name: avail
      objective: 99.5
      sli:
        events:
          errorQuery: sum(rate(e_total[{{.window}}]))
          totalQuery: sum(rate(r_total[{{.window}}]))
"""

OPENSLO_V1 = """apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: api
  description: Fast enough.
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  indicator:
    metadata: {name: fast}
    spec:
      ratioMetric:
        bad:
          metricSource: {type: Prometheus, spec: {query: "sum(rate(slow_total[{{.window}}]))"}}
        total:
          metricSource: {type: Prometheus, spec: {query: "sum(rate(all_total[{{.window}}]))"}}
  objectives:
    - displayName: p99
      target: 0.99
---
apiVersion: openslo/v1
kind: Service
metadata: {name: api}
"""


def write(tmp_path: Path, text: str, name: str = "spec.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sloth_events_and_raw_slis_are_imported(tmp_path: Path) -> None:
    result = import_file("sloth", write(tmp_path, SLOTH))
    assert [slo.name for slo in result.slos] == ["myservice-requests-availability", "myservice-raw"]
    availability, raw = result.slos
    assert availability.objective == 99.9 and availability.period == "30d"
    assert availability.page and not availability.ticket
    assert isinstance(availability.sli, QuerySLI) and availability.sli.error_query is not None
    assert availability.sli.error_ratio_expr("1h") == (
        '(sum(rate(http_requests_total{job="myservice",code=~"5.."}[1h])))\n/\n'
        '(sum(rate(http_requests_total{job="myservice"}[1h])))'
    )
    assert isinstance(raw.sli, QuerySLI) and raw.sli.error_ratio_query is not None
    assert raw.description  # a stackgen SLO needs one: made up from the name


def test_what_sloth_has_and_stackgen_lacks_is_listed(tmp_path: Path) -> None:
    result = import_file("sloth", write(tmp_path, SLOTH))
    unsupported = "\n".join(result.unsupported)
    assert "labels: stackgen SLO rules carry the slo label only (dropped: owner)" in unsupported
    assert "slos[requests-availability].alerting.name" in unsupported
    skipped = "\n".join(result.skipped)
    assert "slos[plugged].sli.plugin 'sloth-common/availability'" in skipped
    assert "slos[silent]: both alert tiers are disabled" in skipped


def test_a_kubernetes_sloth_object_is_imported(tmp_path: Path) -> None:
    (slo,) = import_file("sloth", write(tmp_path, KUBERNETES_SLOTH)).slos
    assert slo.name == "svc-avail" and slo.objective == 99.5


def test_openslo_v1_with_an_inline_indicator(tmp_path: Path) -> None:
    result = import_file("openslo", write(tmp_path, OPENSLO_V1))
    (slo,) = result.slos
    assert (slo.name, slo.objective, slo.period) == ("api-latency-0", 99.0, "28d")
    assert isinstance(slo.sli, QuerySLI)
    assert slo.sli.error_query == "sum(rate(slow_total[{{.window}}]))"
    assert result.unsupported == [f"{tmp_path / 'spec.yml'}#2: kind 'Service' (only SLO is read)"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(("Occurrences", "Timeslices"), "only Occurrences", id="timeslices"),
        pytest.param(
            ("duration: 28d", "duration: 7d"), "stackgen periods are 28d and 30d", id="7d"
        ),
        pytest.param(("isRolling: true", "isRolling: false"), "calendar windows", id="calendar"),
        pytest.param(("type: Prometheus", "type: Datadog"), "a Prometheus total", id="datadog"),
    ],
)
def test_openslo_features_stackgen_lacks_are_skipped_with_why(
    change: tuple[str, str], reason: str, tmp_path: Path
) -> None:
    result = import_file("openslo", write(tmp_path, OPENSLO_V1.replace(*change)))
    assert result.slos == [] and reason in "\n".join(result.skipped)


def test_a_ratio_that_could_never_page_is_imported_without_its_page_alerts(
    tmp_path: Path,
) -> None:
    """90 %: the page tier needs an error ratio of 14.4 x 0.1 > 1 (Sloth's alert could
    never fire either)."""
    text = KUBERNETES_SLOTH.replace("objective: 99.5", "objective: 90")
    result = import_file("sloth", write(tmp_path, text))
    (slo,) = result.slos
    assert not slo.page and slo.ticket
    assert any("could never fire: imported without them" in u for u in result.unsupported)


def test_a_query_that_is_not_promql_is_not_imported(tmp_path: Path) -> None:
    text = KUBERNETES_SLOTH.replace("sum(rate(e_total", "histogram_share(0.2, rate(e_total")
    result = import_file("sloth", write(tmp_path, text))
    assert result.slos == [] and "errorQuery" not in result.skipped[0]
    assert (
        "error_query is not PromQL: unknown function with name 'histogram_share'"
        in (result.skipped[0])
    )


def test_the_python_module_loads_back_to_the_same_slos(tmp_path: Path) -> None:
    result = import_file("sloth", write(tmp_path, SLOTH))
    namespace: dict[str, object] = {}
    exec(compile(python_module(result), "imported.py", "exec"), namespace)
    assert namespace["slos"] == tuple(result.slos)
    assert "Not imported:" in python_module(result)  # the plugin and the silent SLO


def test_load_slos_refuses_to_drop_fields_silently(tmp_path: Path) -> None:
    path = write(tmp_path, SLOTH)
    with pytest.raises(SpecImportError, match=r"not imported: .*alerting\.name"):
        load_slos("sloth", path)
    assert len(load_slos("sloth", path, allow_unsupported=True)) == 2
    assert len(load_slos("sloth", write(tmp_path, KUBERNETES_SLOTH, "k.yml"))) == 1


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        pytest.param("sloth", "version: v2\n", id="sloth-version"),
        pytest.param("openslo", KUBERNETES_SLOTH, id="openslo-given-sloth"),
        pytest.param("sloth", "a: [\n", id="bad-yaml"),
    ],
)
def test_a_file_of_another_kind_is_refused(kind: str, text: str, tmp_path: Path) -> None:
    with pytest.raises(SpecImportError):
        import_file(kind, write(tmp_path, text))


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, KUBERNETES_SLOTH, "k.yml")
    assert main(["import", "sloth", str(good)]) == 0
    out, err = capsys.readouterr()
    assert "name='svc-avail'" in out and "1 SLO(s)" in err
    target = tmp_path / "imported.py"
    assert main(["import", "sloth", str(write(tmp_path, SLOTH)), "--out", str(target)]) == 1
    assert "skipped: " in capsys.readouterr().err and target.is_file()
    assert main(["import", "openslo", str(good)]) == 2


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"error_query": "a[{{.window}}]", "good_query": "b[{{.window}}]"}, id="two"),
        pytest.param({"error_query": "rate(a[5m])", "total_query": "b[{{.window}}]"}, id="window"),
        pytest.param({"error_ratio_query": "a[{{.window}}]", "total_query": "b"}, id="ratio+total"),
        pytest.param({"total_query": "b[{{.window}}]"}, id="total-alone"),
    ],
)
def test_query_sli_validation(fields: dict[str, str]) -> None:
    with pytest.raises((ValueError, SpecError)):
        QuerySLI(**fields)


def test_a_query_slo_in_a_stack_is_checked_against_the_catalog(stack: Stack) -> None:
    """Imported queries over the catalog's metrics pass; a name it lacks is a finding."""

    def with_slo(error_query: str) -> list[str]:
        slo = SLO(
            name="imported",
            description="Imported.",
            objective=99.0,
            runbook=stack.runbooks[0].anchor,
            sli=QuerySLI(
                error_query=error_query,
                total_query="sum(rate(agent_requests_total[{{.window}}]))",
            ),
        )
        variant = stack.model_copy(update={"slos": (*stack.slos, slo)})
        return [str(f.code) for f in check_stack(variant)]

    assert with_slo('sum(rate(agent_requests_total{status="error"}[{{.window}}]))') == []
    assert "unknown-metric" in with_slo("sum(rate(agent_failures_total[{{.window}}]))")
