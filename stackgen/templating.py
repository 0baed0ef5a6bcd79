"""The subset of Prometheus alert templating stackgen supports, and its expansion.

Annotations may use ``{{ $labels.NAME }}`` and ``{{ $value | humanize }}`` (or
``humanizePercentage``, ``humanizeDuration``). Restricting to these lets the generated
promtool tests state the exact annotation text an alert must carry: the expansion here
follows Prometheus' template functions (template/template.go) digit for digit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

__all__ = ["expand", "placeholders_named", "template_problems"]

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_LABEL = re.compile(r"^\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*$")
_VALUE = re.compile(r"^\s*\$value\s*\|\s*(humanize|humanizePercentage|humanizeDuration)\s*$")

_BIG_PREFIXES = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_SMALL_PREFIXES = ("m", "u", "n", "p", "f", "a", "z", "y")


def _go_g4(value: float) -> str:
    """Go's ``fmt.Sprintf("%.4g", v)`` (same as C's for finite values)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def _scaled(value: float) -> tuple[float, str]:
    prefix = ""
    if abs(value) >= 1:
        for candidate in _BIG_PREFIXES:
            if abs(value) < 1000:
                break
            prefix, value = candidate, value / 1000
    else:
        for candidate in _SMALL_PREFIXES:
            if abs(value) >= 1:
                break
            prefix, value = candidate, value * 1000
    return value, prefix


def humanize(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return _go_g4(value)
    scaled, prefix = _scaled(value)
    return f"{_go_g4(scaled)}{prefix}"


def humanize_percentage(value: float) -> str:
    return f"{_go_g4(value * 100)}%"


def humanize_duration(value: float) -> str:
    if not math.isfinite(value):
        return _go_g4(value)
    if value == 0:
        return f"{_go_g4(value)}s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        value = abs(value)
        whole = int(value)
        seconds, minutes = whole % 60, (whole // 60) % 60
        hours, days = (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_go_g4(value)}s"
    scaled, prefix = _scaled(value)
    return f"{_go_g4(scaled)}{prefix}s"


_FUNCTIONS: Mapping[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}


def template_problems(text: str) -> list[str]:
    """Placeholders outside the supported subset, and unbalanced braces."""
    unbalanced = _PLACEHOLDER.sub("", text)
    problems = []
    if "{{" in unbalanced or "}}" in unbalanced:
        problems.append(f"unclosed template action in {text!r}")
    return problems + [
        f"unsupported template {{{{{body}}}}}: use {{{{ $labels.NAME }}}} or "
        "{{ $value | humanize }} / humanizePercentage / humanizeDuration"
        for body in _PLACEHOLDER.findall(text)
        if not (_LABEL.match(body) or _VALUE.match(body))
    ]


def expand(text: str, labels: Mapping[str, str], value: float) -> str:
    """Expand ``text`` as Prometheus would for a sample with these labels and value."""

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if label := _LABEL.match(body):
            # Prometheus templates run with missingkey=zero: a missing label is "".
            return labels.get(label.group(1), "")
        if function := _VALUE.match(body):
            return _FUNCTIONS[function.group(1)](value)
        raise ValueError(f"unsupported template {match.group(0)!r}")

    return _PLACEHOLDER.sub(replace, text)


def placeholders_named(text: str, form: str = "<{}>") -> str:
    """The text for a reader, each placeholder shown by what it stands for:
    ``{{ $labels.job }}`` becomes ``<job>``, ``{{ $value | humanize }}`` ``<value>``
    (``form`` shapes the name, e.g. a Markdown code span)."""

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if label := _LABEL.match(body):
            return form.format(label.group(1))
        return form.format("value")

    return _PLACEHOLDER.sub(replace, text)
