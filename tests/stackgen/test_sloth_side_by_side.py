"""stackgen's rules for every Sloth example it imports, beside Sloth's own output for the
same spec (../shared/corpus/sloth/generated/): the same SLI ratio per window, the same
burn-rate tiers and budget, and in promtool, on identical error-ratio series, the same
alerts firing at the same evaluation times. Missing corpus: a skip (CI: a failure)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from stackgen.conventions import SLO_WINDOWS
from stackgen.importers import import_file
from stackgen.importers.side_by_side import (
    EVALUATION_STEP_MINUTES,
    HISTORY_MINUTES,
    SlothSLO,
    _incidents,
    _window_means,
    canonical,
    imported_stack,
    promtool_test,
    read_sloth_rules,
    sloth_tiers,
    stackgen_alerts,
    stackgen_ratios,
    stackgen_tiers,
)
from stackgen.spec import SLO
from tests.conftest import REPO_ROOT

SLOTH = REPO_ROOT.parent / "shared" / "corpus" / "sloth"
# Sloth examples whose features stackgen supports (the others say why they are not
# imported: tests/stackgen/test_corpus.py).
PAIRS = sorted(
    path.name
    for path in (SLOTH / "specs").glob("*")
    if path.name
    not in {
        "contrib-denominator-corrected.yaml",
        "no-alerts.yml",
        "plugin-getting-started.yml",
        "plugin-k8s-getting-started.yml",
        "victoria-metrics.yml",
    }
) or ["(corpus missing)"]
# Sloth writes no alerts for OpenSLO specs (OpenSLO's alert policies are not read):
# their burn tiers and firing are compared only where Sloth alerts.
ALERTING_PAIRS = [
    name
    for name in PAIRS
    if not (SLOTH / "generated" / name).is_file()
    or "alert:" in (SLOTH / "generated" / name).read_text()
]


def pair(name: str) -> tuple[list[SLO], dict[str, SlothSLO], list[str]]:
    spec = SLOTH / "specs" / name
    if not spec.is_file():
        message = f"{SLOTH} is not available (../shared/corpus beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    kind = "openslo" if "apiVersion: openslo/" in spec.read_text() else "sloth"
    result = import_file(kind, spec)
    generated = SLOTH / "generated" / name
    sloth = read_sloth_rules(generated.read_text(), str(generated))
    return result.slos, sloth, result.identities


@pytest.mark.parametrize("name", PAIRS)
def test_the_same_sli_ratio_per_window(name: str) -> None:
    slos, sloth, identities = pair(name)
    stack = imported_stack(slos)
    for slo, identity in zip(slos, identities, strict=True):
        theirs = sloth[identity].ratios
        ours = stackgen_ratios(stack, slo)
        assert set(ours) == set(SLO_WINDOWS) <= set(theirs)
        for window in SLO_WINDOWS:
            assert canonical(ours[window]) == canonical(theirs[window].expr), (identity, window)


@pytest.mark.parametrize("name", ALERTING_PAIRS)
def test_the_same_burn_rate_tiers_and_budget(name: str) -> None:
    slos, sloth, identities = pair(name)
    for slo, identity in zip(slos, identities, strict=True):
        tiers, budgets = sloth_tiers(sloth[identity])
        assert tiers == stackgen_tiers(slo), identity
        assert all(abs(b - slo.error_budget) < 1e-12 for b in budgets), (budgets, slo.objective)


def _without_annotations(rules: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in rule.items() if k != "annotations"} for rule in rules]


@pytest.mark.parametrize("name", ALERTING_PAIRS)
def test_the_same_alerts_fire_at_the_same_times(name: str, tmp_path: Path, promtool: str) -> None:
    slos, sloth, identities = pair(name)
    stack = imported_stack(slos)
    for number, (slo, identity) in enumerate(zip(slos, identities, strict=True)):
        theirs = sloth[identity]
        ours = stackgen_alerts(stack, slo)
        sloth_file = tmp_path / f"sloth-{number}.yml"
        stackgen_file = tmp_path / f"stackgen-{number}.yml"
        sloth_rules = [
            {"alert": a.name, "expr": a.expr, "labels": dict(a.labels)} for a in theirs.alerts
        ]
        sloth_file.write_text(yaml.safe_dump({"groups": [{"name": "sloth", "rules": sloth_rules}]}))
        stackgen_rules = _without_annotations([rule.document() for rule in ours])
        stackgen_file.write_text(
            yaml.safe_dump({"groups": [{"name": "stackgen", "rules": stackgen_rules}]})
        )
        test = promtool_test(theirs, slo, ours, [sloth_file.name, stackgen_file.name])
        fired = {t["alertname"] for t in test["tests"][0]["alert_rule_test"] if t["exp_alerts"]}
        # The incident history makes every tier fire at some evaluation (and not at others).
        assert {rule.alert for rule in ours} | {a.name for a in theirs.alerts} == fired
        test_file = tmp_path / f"test-{number}.yml"
        test_file.write_text(yaml.safe_dump(test, sort_keys=False))
        result = subprocess.run(
            [promtool, "test", "rules", test_file.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (identity, result.stdout[-3000:], result.stderr[-3000:])


def test_sloth_writes_no_alerts_for_openslo_specs() -> None:
    """The one reason a supported pair is left out of the alert comparisons."""
    left_out = sorted(set(PAIRS) - set(ALERTING_PAIRS))
    assert all(name.startswith("openslo-") for name in left_out), left_out


def test_no_ratio_sits_on_a_threshold() -> None:
    """Sloth's budget is 100 - objective in floating point (0.0009999999999999432 for
    99.9): the synthetic ratios keep clear of every threshold, so that difference never
    decides a comparison."""
    for objective in (95.0, 99.0, 99.5, 99.9, 99.99):
        budget = round(1 - objective / 100, 12)
        ratio = _incidents(budget)
        assert len(ratio) == HISTORY_MINUTES
        for window in SLO_WINDOWS:
            for mean in _window_means(ratio, window)[::EVALUATION_STEP_MINUTES]:
                for factor in (14.4, 6.0, 3.0, 1.0):
                    threshold = factor * budget
                    assert abs(mean - threshold) > 1e-9 * threshold
