"""The findings of ``stackgen check`` over a corpus of real monitoring files, by code with
an example each: docs/corpus-findings.md, generated so it cannot drift from the checker.

The corpus (``../shared/corpus`` beside the repository) holds rule files (``rules/``,
Sloth's generated rules in ``sloth/generated/``), dashboards (``dashboards/``) and SLO
specs (``sloth/specs/``, for ``stackgen import``). Every file is checked twice: on its own
(``--no-catalog``) and against the catalog of the project's stack (``[tool.stackgen]``).

``python -m stackgen.check.corpus_report CORPUS [PATH]`` writes the document.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stackgen.check.codes import FindingCode
from stackgen.check.external import check_dashboard_file, check_rule_file
from stackgen.conventions import GENERATED_NOTICE_PREFIX
from stackgen.findings import Finding
from stackgen.load import find_settings, load_stack
from stackgen.spec import Stack

__all__ = [
    "CORPUS_DOCUMENT",
    "CorpusRun",
    "corpus_files",
    "corpus_markdown",
    "main",
    "run_corpus",
]

CORPUS_DOCUMENT = Path("docs/corpus-findings.md")
_RULE_FOLDERS = ("rules", "sloth/generated")
_DASHBOARD_FOLDERS = ("dashboards",)
_SUFFIXES = (".yml", ".yaml", ".json")


def corpus_files(corpus: Path) -> tuple[list[Path], list[Path]]:
    """The corpus' rule files and dashboard files, in path order."""

    def under(folders: Sequence[str]) -> list[Path]:
        found = [
            path
            for folder in folders
            for path in (corpus / folder).rglob("*")
            if path.is_file() and path.suffix in _SUFFIXES
        ]
        return sorted(found)

    return under(_RULE_FOLDERS), under(_DASHBOARD_FOLDERS)


@dataclass(frozen=True)
class CorpusRun:
    """The findings over a corpus in one mode; paths relative to the corpus."""

    files: int
    findings: tuple[Finding, ...]


def _relative(finding: Finding, corpus: Path) -> Finding:
    prefix = f"{corpus}/"
    return Finding(
        finding.code,
        finding.level,
        finding.where.replace(prefix, ""),
        finding.message.replace(prefix, ""),
        finding.hint.replace(prefix, ""),
        finding.spec.replace(prefix, ""),
        finding.location.replace(prefix, ""),
        finding.expr,
    )


def run_corpus(corpus: Path, stack: Stack | None) -> CorpusRun:
    """Every rule file and dashboard of the corpus checked (``stack=None``: on its own)."""
    rules, dashboards = corpus_files(corpus)
    findings: list[Finding] = []
    for path in rules:
        findings += check_rule_file(stack, path)
    for path in dashboards:
        findings += check_dashboard_file(stack, path)
    relative = tuple(sorted(_relative(f, corpus) for f in findings))
    return CorpusRun(len(rules) + len(dashboards), relative)


def _one_line(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    flat = flat.replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _table(run: CorpusRun) -> list[str]:
    counts = Counter(f.code for f in run.findings)
    examples: dict[FindingCode, Finding] = {}
    for found in run.findings:
        examples.setdefault(found.code, found)
    rows = ["| code | level | findings | example (file:line: rule: message; expr) |"]
    rows.append("|---|---|---|---|")
    for code in FindingCode:
        if code not in counts:
            continue
        example = examples[code]
        where = example.where.split(": ", 1)[-1] if example.location else ""
        place = example.location or example.where.split(": ", 1)[0]
        text = f"`{place}`: {where + ': ' if where else ''}{example.message}"
        if example.expr:
            text += f"; `{_one_line(example.expr, 110)}`"
        rows.append(f"| `{code}` | {code.level} | {counts[code]} | {_one_line(text, 400)} |")
    rows.append(f"| all | | {len(run.findings)} | over {run.files} files |")
    return rows


def corpus_markdown(without_catalog: CorpusRun, with_catalog: CorpusRun, stack_name: str) -> str:
    lines = [
        f"<!-- {GENERATED_NOTICE_PREFIX}; run `make generate` "
        "(python -m stackgen.check.corpus_report) -->",
        "# Findings over the corpus of real rule files and dashboards",
        "",
        "`stackgen check --rules/--dashboard` over every rule file and dashboard of",
        "`../shared/corpus/` (awesome-prometheus-alerts, kube-prometheus, Thanos, Sloth's",
        "generated rules; see its README for sources and commits). `make test` runs the",
        "same files (tests/stackgen/test_corpus.py) and fails when this table is stale.",
        "How each finding was judged (true or false positive) is in",
        "[foreign-files.md](foreign-files.md).",
        "",
        "## On their own (`--no-catalog`, or outside a project)",
        "",
        *_table(without_catalog),
        "",
        f"## Against the `{stack_name}` stack's catalog",
        "",
        "The catalog judges only the selectors it owns; other systems' series of the same",
        "name (`up`, `http_requests_total`, `process_*`) are typed by name, as above.",
        "",
        *_table(with_catalog),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m stackgen.check.corpus_report CORPUS [PATH]", file=sys.stderr)
        return 2
    settings = find_settings(Path.cwd())
    stack = load_stack(settings.spec, settings.root)
    corpus = Path(args[0])
    target = Path(args[1]) if len(args) > 1 else CORPUS_DOCUMENT
    text = corpus_markdown(run_corpus(corpus, None), run_corpus(corpus, stack), stack.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    changed = not target.is_file() or target.read_text() != text
    target.write_text(text)
    print(f"{'updated' if changed else 'unchanged'} {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
