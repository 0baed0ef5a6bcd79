"""Imported SLOs written out as a Python module of stackgen specs, for the user to keep,
edit and put in a stack (``slos=(*imported.slos, ...)``)."""

from __future__ import annotations

from stackgen.importers.imported import ImportResult
from stackgen.spec import SLO, QuerySLI

__all__ = ["python_module"]

_SLI_FIELDS = ("error_query", "good_query", "total_query", "error_ratio_query")


def _sli(sli: QuerySLI) -> list[str]:
    lines = ["        sli=QuerySLI("]
    for name in _SLI_FIELDS:
        value = getattr(sli, name)
        if value is not None:
            lines.append(f"            {name}={value!r},")
    lines.append("        ),")
    return lines


def _slo(slo: SLO) -> list[str]:
    assert isinstance(slo.sli, QuerySLI)
    lines = [
        "    SLO(",
        f"        name={slo.name!r},",
        f"        description={slo.description!r},",
        f"        objective={slo.objective!r},",
        f"        period={slo.period!r},",
        *_sli(slo.sli),
    ]
    if not slo.page:
        lines.append("        page=False,")
    if not slo.ticket:
        lines.append("        ticket=False,")
    lines.append("    ),")
    return lines


def _comment(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return ["", f"{title}:", *(f"- {item}" for item in items)]


def python_module(result: ImportResult) -> str:
    """The module text: a docstring naming the source and everything not imported, then
    ``slos``, a tuple of SLO specs."""
    docstring = [
        f"SLOs imported from {result.source} by `stackgen import {result.kind}`.",
        *_comment("Not carried over (no stackgen equivalent)", result.unsupported),
        *_comment("Not imported", result.skipped),
    ]
    body = [line for slo in result.slos for line in _slo(slo)]
    lines = [
        '"""' + "\n".join(docstring).replace('"""', "'''").replace("\\", "\\\\") + '\n"""',
        "",
        "from stackgen.spec import SLO, QuerySLI",
        "",
        "slos = (",
        *body,
        ")",
        "",
    ]
    return "\n".join(lines)
