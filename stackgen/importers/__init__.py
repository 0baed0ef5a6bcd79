"""SLO specs of other tools brought into stackgen: Sloth (``prometheus/v1`` and Kubernetes
``PrometheusServiceLevel``) and OpenSLO (``openslo/v1alpha``, ``openslo/v1``).

``import_file(kind, path)`` reads a file (``ImportResult``: SLOs, unsupported fields,
skipped SLOs); ``python_module(result)`` writes them as Python specs to keep and edit;
``load_slos(kind, path)`` loads them directly as SLOs of a stack, raising when a field
would be left behind unless ``allow_unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from stackgen.importers.imported import ImportResult, SpecImportError
from stackgen.importers.openslo import import_openslo
from stackgen.importers.python_spec import python_module
from stackgen.importers.sloth import import_sloth
from stackgen.spec import SLO

__all__ = [
    "IMPORTERS",
    "ImportResult",
    "SpecImportError",
    "import_file",
    "load_slos",
    "python_module",
]

IMPORTERS: Final[dict[str, Callable[[str, str], ImportResult]]] = {
    "sloth": import_sloth,
    "openslo": import_openslo,
}


def import_file(kind: str, path: Path) -> ImportResult:
    """The SLOs of a spec file of ``kind`` (a key of ``IMPORTERS``)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecImportError(f"{path}: cannot read it: {error}") from None
    return IMPORTERS[kind](text, str(path))


def load_slos(kind: str, path: Path, *, allow_unsupported: bool = False) -> tuple[SLO, ...]:
    """The file's SLOs for a stack's ``slos``; what cannot be imported is an error
    (never a silent drop) unless ``allow_unsupported``."""
    result = import_file(kind, path)
    left = result.unsupported + result.skipped
    if left and not allow_unsupported:
        raise SpecImportError(f"{path}: not imported: " + "; ".join(left))
    return tuple(result.slos)
