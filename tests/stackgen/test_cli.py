"""The command line: generate, --check drift detection, check with external files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import stackgen.check.context
import stackgen.cli
from stackgen import render
from stackgen.cli import main
from stackgen.conventions import GENERATED_NOTICE_PREFIX
from stackgen.spec import Stack
from tests.conftest import REPO_ROOT

WITH_FINDINGS = str(REPO_ROOT / "tests/data/specs/with_findings.py") + ":stack"
DASHBOARD_FINDINGS = REPO_ROOT / "tests/data/specs/with_dashboard_findings.py"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    assert main(["generate", "--out", str(tmp_path)]) == 0
    return tmp_path


def test_generate_writes_every_file_then_changes_nothing(
    out: Path, rendered: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    for path, text in rendered.items():
        assert (out / path).read_text() == text
    assert main(["generate", "--out", str(out)]) == 0
    assert "0 changed" in capsys.readouterr().err


def test_check_mode_is_clean_on_a_fresh_tree(out: Path) -> None:
    assert main(["generate", "--check", "--out", str(out)]) == 0


def test_check_mode_reports_a_hand_edit_and_writes_nothing(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = out / "prometheus/rules/alerts/bestbox_sla.yml"
    edited.write_text(edited.read_text().replace("for: 1m", "for: 5m"))
    before = edited.read_text()
    capsys.readouterr()
    assert main(["generate", "--check", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"changed: {edited}" in captured.out
    assert edited.read_text() == before


def test_check_mode_reports_missing_and_stale_files(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (out / "prometheus/prometheus.yml").unlink()
    stale = out / "prometheus/rules/old.yml"
    stale.write_text(f"# {GENERATED_NOTICE_PREFIX}; run `make generate`\ngroups: []\n")
    foreign = out / "prometheus/rules/handwritten.yml"
    foreign.write_text("groups: []\n")
    capsys.readouterr()
    assert main(["generate", "--check", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "missing:" in printed and "prometheus.yml" in printed
    assert "stale:" in printed and "old.yml" in printed
    assert "handwritten.yml" not in printed
    # generate restores the missing file, removes the stale one, keeps the foreign one.
    assert main(["generate", "--out", str(out)]) == 0
    assert (out / "prometheus/prometheus.yml").is_file()
    assert not stale.exists()
    assert foreign.read_text() == "groups: []\n"


def test_a_file_stamped_with_another_regenerate_command_is_still_generated(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The writer knows its files by the notice's prefix: a stack whose regenerate
    # command changed still finds the files it wrote before.
    stale = out / "prometheus/rules/old.yml"
    stale.write_text(f"# {GENERATED_NOTICE_PREFIX}; run `tox -e generate`\ngroups: []\n")
    capsys.readouterr()
    assert main(["generate", "--out", str(out)]) == 0
    assert not stale.exists()


def test_generate_refuses_a_spec_with_error_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--spec", WITH_FINDINGS, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "error[unbounded-label] metric seed_agent_requests" in err
    assert list(tmp_path.iterdir()) == []


def test_check_on_the_bestbox_spec_has_zero_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "0 finding(s), 0 error(s)" in capsys.readouterr().err


def test_a_finding_line_starts_with_the_spec_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`path:line: level[code] where: message`, then the query as the spec writes it."""
    assert main(["check", "--spec", f"{DASHBOARD_FINDINGS}:stack"]) == 1
    first, expr, hint, summary = capsys.readouterr().err.splitlines()
    location, _, rest = first.partition(": ")
    file, _, line = location.rpartition(":")
    assert Path(file).resolve() == DASHBOARD_FINDINGS
    lines = DASHBOARD_FINDINGS.read_text().splitlines()
    assert "PromQuery(expr=TTFT_P95" in lines[int(line) - 1]
    assert rest.startswith(
        "error[quantile-le-dropped] dashboard seed-ttft: panel 'TTFT p95', target B: "
    )
    assert expr == (
        "    expr: histogram_quantile(0.95, sum(rate(agent_ttft_seconds_bucket[$__rate_interval])))"
    )
    assert hint.startswith("    hint: ")
    assert summary == "1 finding(s), 1 error(s)"


def test_check_lints_an_external_rule_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "alerts.yml"
    rules.write_text(
        "groups:\n- name: seed\n  rules:\n  - alert: HighLatencyP95\n"
        "    expr: histogram_quantile(0.95, rate(agent_latency_seconds_bucket[5m])) > 2.0\n"
        "  - alert: LowUserSatisfaction\n"
        '    expr: sum(user_feedback_total{rating="positive"}) / sum(user_feedback_total) < 0.7\n'
    )
    assert main(["check", "--rules", str(rules), "--json"]) == 1
    captured = capsys.readouterr()
    findings = json.loads(captured.out)
    codes = {(f["code"], f["where"].rsplit(" ", 1)[-1]) for f in findings}
    assert ("quantile-unaggregated", "HighLatencyP95") in codes
    assert ("raw-counter", "LowUserSatisfaction") in codes
    assert "hint:" in captured.err


def test_check_lints_an_external_dashboard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dashboard = tmp_path / "dash.json"
    panels = [
        {
            "title": "ok",
            "targets": [
                {"refId": "A", "expr": "sum(rate(agent_requests_total[$__rate_interval]))"}
            ],
        },
        {
            "title": "seed",
            "targets": [{"refId": "A", "expr": 'rate(agent_requests_total{user_id="$user"}[5m])'}],
        },
    ]
    dashboard.write_text(json.dumps({"panels": panels}))
    assert main(["check", "--dashboard", str(dashboard)]) == 1
    err = capsys.readouterr().err
    assert "error[unbounded-label]" in err and "panel 'seed'" in err
    assert "panel 'ok'" not in err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "generate" in printed and "check" in printed


def test_installed_entry_point_checks_the_committed_tree() -> None:
    # What CI and the acceptance criteria run: the console script on this checkout.
    script = Path(sys.executable).parent / "stackgen"
    result = subprocess.run(
        [str(script), "generate", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_spec_path_works_from_any_directory_without_a_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "demo.py").write_text(
        "from stackgen.spec import Label, Metric, Service, Stack\n"
        'api = Service(name="api", description="The API.", host="api", port=8000)\n'
        'kind = Label(name="kind", description="Kind.", values=("a", "b"))\n'
        'requests = Metric(name="demo_requests", type="counter", help="Requests.",'
        ' labels=(kind,), service="api")\n'
        'stack = Stack(name="demo", metrics=(requests,), services=(api,),'
        ' prometheus={"alertmanager": None}, runbook_url="http://localhost:8000/runbooks")\n'
    )
    monkeypatch.chdir(tmp_path / "specs")  # no pyproject here or above
    # The path is relative to the current directory; the spec loads and is checked.
    assert main(["check", "--spec", "demo.py:stack"]) == 1
    assert "demo.py:4: error[unscraped-metric] metric demo_requests:" in capsys.readouterr().err
    assert main(["check"]) == 2  # without --spec there is no project to find
    assert "no pyproject.toml with a [tool.stackgen] section" in capsys.readouterr().err


def test_generate_renders_the_stack_once(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks reuse the files generate writes instead of rendering them again.
    calls: list[Stack] = []

    def counting(stack: Stack) -> dict[str, str]:
        calls.append(stack)
        return render.render_all(stack)

    monkeypatch.setattr(stackgen.cli, "render_all", counting)
    monkeypatch.setattr(stackgen.check.context, "render_all", counting)
    assert main(["generate", "--check", "--out", str(out)]) == 0
    assert len(calls) == 1
