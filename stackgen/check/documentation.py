"""docs/finding-codes.md, generated from ``FindingCode`` and the check registry, so the
codes' documentation cannot drift from the codes.

``python -m stackgen.check.documentation [PATH]`` writes it (``make generate`` does);
a test fails when the committed file differs from ``finding_codes_markdown()``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from stackgen.check.codes import FindingCode
from stackgen.check.registry import CHECKS
from stackgen.conventions import GENERATED_NOTICE_PREFIX

__all__ = ["DOCUMENT", "finding_codes_markdown", "main"]

DOCUMENT = Path("docs/finding-codes.md")


def _table(codes: Iterable[FindingCode]) -> list[str]:
    rows = ["| code | level | meaning |", "|---|---|---|"]
    rows += [f"| `{code}` | {code.level} | {code.meaning} |" for code in codes]
    return rows


def finding_codes_markdown() -> str:
    """The Markdown document: every code with its level and meaning, in enum order."""
    lines = [
        # stackgen's own documentation: the repository's Makefile regenerates it.
        f"<!-- {GENERATED_NOTICE_PREFIX}; run `make generate` "
        "(python -m stackgen.check.documentation) -->",
        "# Finding codes",
        "",
        "`stackgen check` prints one line per finding, at the spec line of the object it",
        "comes from, then the expression as the spec writes it and a hint:",
        "",
        "    payments_stack/alerts.py:29: error[unknown-metric] alert HighErrorRate: ...",
        "        expr: ...",
        "        hint: ...",
        "",
        "Errors make `stackgen check` (and `stackgen generate`) exit 1; warnings do not.",
        "PromQL is parsed with promql-parser (never with regular expressions); the checker",
        "infers the labels of every sub-expression the way Prometheus evaluates it (`by`,",
        "`without`, `on`, `ignoring`, `group_left`, `label_replace`...).",
        "",
        "## Checks of the stack",
        "",
        "Reported by the registered checks (`stackgen/check/registry.py`): "
        + ", ".join(f"`{check_id}`" for check_id, _ in CHECKS)
        + ".",
        "",
        *_table(code for code in FindingCode if not code.external_only),
        "",
        "## External files and the live service",
        "",
        "Reported only for files given with `--rules` / `--dashboard` and for `--live`.",
        "",
        *_table(code for code in FindingCode if code.external_only),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    path = Path(arguments[0]) if arguments else DOCUMENT
    text = finding_codes_markdown()
    if path.is_file() and path.read_text() == text:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"updated {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
