"""Text as a page shows it: the code points a browser cannot show (NUL, which HTML
parsers turn into U+FFFD, and lone surrogates, which UTF-8 cannot carry) are written as
a visible ``⟦U+0000⟧`` marker, so an auditor sees exactly what a user sent. Used as
jinja2's ``finalize`` by the admin pages and the reports."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

__all__ = ["shown"]

_UNSHOWABLE = re.compile("[\x00\ud800-\udfff]")


def _marker(match: re.Match[str]) -> str:
    return f"⟦U+{ord(match[0]):04X}⟧"


def shown(value: Any) -> Any:
    """``value`` with unshowable code points made visible (other values unchanged;
    markup is ours, already safe, and kept as it is)."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str) and _UNSHOWABLE.search(value) is not None:
        return _UNSHOWABLE.sub(_marker, value)
    return value
