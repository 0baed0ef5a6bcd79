"""Inline SVG charts (no script, no external reference). Every label is escaped: agent
and tool names come from the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "column_chart", "row_chart"]

FONT = 'font-family="system-ui, sans-serif" font-size="11"'
INK = "#1f2937"
BAR = "#2563eb"
ALERT = "#dc2626"
GRID = "#d1d5db"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown
    warn: bool = False  # drawn in the alert colour


def _frame(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def column_chart(bars: Sequence[Bar], title: str, *, width: int = 720, height: int = 220) -> Markup:
    """Vertical bars, one per label (days), scaled to the largest value."""
    top, bottom, left = 16, 34, 8
    plot = height - top - bottom
    top_value = max((b.value for b in bars), default=0) or 1
    step = (width - 2 * left) / max(len(bars), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}" '
        f'stroke="{GRID}"/>'
    ]
    for i, bar in enumerate(bars):
        h = plot * bar.value / top_value
        x = left + i * step + step * 0.15
        colour = ALERT if bar.warn else BAR
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{colour}"><title>{escape(bar.label)}: '
            f"{escape(bar.text)}</title></rect>"
        )
        middle = x + step * 0.35
        body.append(
            f'<text x="{middle:.1f}" y="{top + plot - h - 3:.1f}" text-anchor="middle" '
            f'{FONT} fill="{INK}">{escape(bar.text)}</text>'
        )
        body.append(
            f'<text x="{middle:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'{FONT} fill="{INK}">{escape(bar.label)}</text>'
        )
    return _frame(width, height, title, body)


def row_chart(
    bars: Sequence[Bar],
    title: str,
    *,
    maximum: float | None = None,
    marker: float | None = None,
    width: int = 720,
) -> Markup:
    """Horizontal bars, one row per label; ``marker`` draws a target line (e.g. an SLO
    objective) on the same scale."""
    row, label_width, right = 24, 190, 70
    height = row * max(len(bars), 1) + 12
    scale_max = maximum or max((b.value for b in bars), default=0) or 1
    plot = width - label_width - right
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = 6 + i * row
        w = plot * min(bar.value / scale_max, 1)
        colour = ALERT if bar.warn else BAR
        body.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" {FONT} '
            f'fill="{INK}">{escape(bar.label)}</text>'
        )
        body.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
        )
        body.append(
            f'<text x="{label_width + w + 4:.1f}" y="{y + 15}" {FONT} fill="{INK}">'
            f"{escape(bar.text)}</text>"
        )
    if marker is not None:
        x = label_width + plot * min(marker / scale_max, 1)
        body.append(
            f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 2}" stroke="{INK}" '
            'stroke-dasharray="4 3"/>'
        )
    return _frame(width, height, title, body)
