"""`stackgen check` over every file of the corpus of real monitoring files
(../shared/corpus beside the repository): no traceback, the committed findings table
current, every unaggregated quantile flagged, no finding from a name that merely clashes
with the catalog. Missing corpus: a skip here, a failure under CI (CI=true)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import promql_parser as pp
import pytest

from stackgen.check.codes import FindingCode
from stackgen.check.corpus_report import (
    CORPUS_DOCUMENT,
    CorpusRun,
    corpus_files,
    corpus_markdown,
    run_corpus,
)
from stackgen.check.rule_files import read_rule_file
from stackgen.cli import main
from stackgen.importers import import_file
from stackgen.spec import Stack
from tests.conftest import REPO_ROOT

CORPUS = REPO_ROOT.parent / "shared" / "corpus"

# What only a catalog can say about a series: from a file of another system, a clash.
CATALOG_CODES = {
    FindingCode.UNDECLARED_LABEL,
    FindingCode.UNKNOWN_JOB,
    FindingCode.UNKNOWN_LABEL_VALUE,
    FindingCode.UNBOUNDED_LABEL,
    FindingCode.METRIC_SUFFIX,
}


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not (CORPUS / "README.md").is_file():
        message = f"{CORPUS} is not available (../shared/corpus beside the repository)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CORPUS


@pytest.fixture(scope="module")
def without_catalog(corpus: Path) -> CorpusRun:
    return run_corpus(corpus, None)


@pytest.fixture(scope="module")
def with_catalog(corpus: Path, stack: Stack) -> CorpusRun:
    return run_corpus(corpus, stack)


def test_the_corpus_has_every_kind_of_file(corpus: Path) -> None:
    rules, dashboards = corpus_files(corpus)
    assert len(rules) >= 120 and dashboards
    assert any("kube-prometheus" in str(p) for p in rules)  # PrometheusRule objects
    assert any("sloth/generated" in str(p) for p in rules)  # multi-document files


def test_the_committed_findings_table_is_current(
    without_catalog: CorpusRun, with_catalog: CorpusRun, stack: Stack
) -> None:
    expected = corpus_markdown(without_catalog, with_catalog, stack.name)
    assert (REPO_ROOT / CORPUS_DOCUMENT).read_text() == expected, (
        f"{CORPUS_DOCUMENT} is stale: run `make generate`"
    )


def test_no_finding_comes_from_a_name_clash(with_catalog: CorpusRun) -> None:
    clashes = [f for f in with_catalog.findings if f.code in CATALOG_CODES]
    assert clashes == []


def test_the_catalog_adds_only_what_it_knows(
    without_catalog: CorpusRun, with_catalog: CorpusRun
) -> None:
    """Against the catalog, the same structural findings plus unknown names of files
    about the stack; nothing the catalog-less run found is lost."""
    extra = set(with_catalog.findings) - set(without_catalog.findings)
    assert set(without_catalog.findings) <= set(with_catalog.findings)
    assert {f.code for f in extra} <= {FindingCode.UNKNOWN_METRIC}


def _unaggregated_quantiles(expr: str) -> int:
    """histogram_quantile calls whose argument has no aggregation, found independently
    of the checker (a plain walk of the tree)."""
    count = 0

    def visit(node: Any) -> bool:
        nonlocal count
        if type(node).__name__ == "Call" and node.func.name == "histogram_quantile":
            aggregated = False

            def inner(child: Any) -> bool:
                nonlocal aggregated
                aggregated = aggregated or type(child).__name__ == "AggregateExpr"
                return True

            pp.walk(node.args[1], inner)
            count += not aggregated
        return True

    try:
        pp.walk(pp.parse(expr), visit)
    except ValueError:
        return 0
    return count


def test_every_unaggregated_quantile_is_flagged(
    corpus: Path, without_catalog: CorpusRun, with_catalog: CorpusRun
) -> None:
    rules, _ = corpus_files(corpus)
    expected = set()
    for path in rules:
        for rule in read_rule_file(path).rules:
            if _unaggregated_quantiles(rule.expr):
                expected.add(rule.where.replace(f"{corpus}/", ""))
    assert expected, "the corpus has unaggregated quantiles (etcd's)"
    for run in (without_catalog, with_catalog):
        flagged = {f.where for f in run.findings if f.code is FindingCode.QUANTILE_UNAGGREGATED}
        assert expected <= flagged


@pytest.mark.parametrize("mode", [["--no-catalog"], []], ids=["no-catalog", "bestbox"])
def test_the_command_line_checks_every_corpus_file(
    mode: list[str], corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One run over every file, the way CI would point stackgen at them: no traceback,
    exit 0 or 1, every file named in the findings or silent."""
    rules, dashboards = corpus_files(corpus)
    argv = ["check", *mode]
    for path in rules:
        argv += ["--rules", str(path)]
    for path in dashboards:
        argv += ["--dashboard", str(path)]
    assert main(argv) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


# Sloth's examples stackgen cannot import, and why (the importer says so for each).
NOT_IMPORTED = {
    "contrib-denominator-corrected.yaml": "denominator_corrected_rules/v1 may rewrite",
    "no-alerts.yml": "both alert tiers are disabled",
    "plugin-getting-started.yml": "an SLI plugin is Go code",
    "plugin-k8s-getting-started.yml": "an SLI plugin is Go code",
    "victoria-metrics.yml": "is not PromQL",
}


def spec_format(path: Path) -> str:
    return "openslo" if "apiVersion: openslo/" in path.read_text() else "sloth"


def test_every_corpus_slo_spec_is_imported_or_says_why(corpus: Path) -> None:
    specs = sorted((corpus / "sloth" / "specs").iterdir())
    assert len(specs) >= 15
    for path in specs:
        result = import_file(spec_format(path), path)
        if path.name in NOT_IMPORTED:
            assert result.slos == [], path
            assert NOT_IMPORTED[path.name] in "\n".join(result.skipped), path
        else:
            assert result.slos and not result.skipped, (path, result.skipped)
