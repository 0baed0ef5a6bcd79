"""Where the stack's own programs are: prometheus, promtool, alertmanager, amtool, otelcol,
jaeger and llama-server (with the tiny model it serves in the tests), as the tools step
builds them (``scripts/build-tools.sh``) at the versions the generated files pin.

The tools directory comes first: an older copy elsewhere on PATH (a distribution's
promtool 2.x, say) must not silently check the files instead of the pinned version.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["TOOLS_BIN_ENV", "ToolMissing", "find_tool", "tiny_model", "tools_bin"]

# Overrides the tools directory (an installed stackgen has no repository beside it).
TOOLS_BIN_ENV = "STACKGEN_TOOLS_BIN"
_REPOSITORY_TOOLS_BIN = Path(__file__).resolve().parent.parent / ".tools" / "bin"


class ToolMissing(RuntimeError):
    """A program the step needs is not built."""


def tools_bin() -> Path:
    configured = os.environ.get(TOOLS_BIN_ENV)
    return Path(configured) if configured else _REPOSITORY_TOOLS_BIN


def find_tool(name: str) -> str:
    """The program's path: the tools directory's, else PATH's; ToolMissing otherwise."""
    candidate = tools_bin() / name
    if os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"{name} is not built: run `bash scripts/build-tools.sh` (or `make test`), "
            f"which builds it into {tools_bin()}"
        )
    return found


def tiny_model() -> Path:
    """The tiny GGUF model the tools step writes for llama-server (random weights, a
    byte-level vocabulary); ToolMissing when it is not there."""
    path = tools_bin().parent / "share" / "tiny-llama.gguf"
    if not path.is_file():
        raise ToolMissing(
            f"{path} is not written: run `bash scripts/build-tools.sh` (or `make test`)"
        )
    return path
