"""The runbooks page: the stack's runbooks Markdown (the same text as
generated/docs/runbooks.md, rendered from the spec) as HTML, anchors kept."""

from __future__ import annotations

from markdown_it import MarkdownIt

from stackgen.conventions import RUNBOOKS_FILE
from stackgen.render import runbooks as runbooks_renderer
from stackgen.spec import Stack

__all__ = ["runbooks_html"]


def runbooks_html(stack: Stack) -> str:
    """HTML of the runbooks; the Markdown is ours (rendered from the spec), so its raw
    ``<a id="...">`` anchors are kept as HTML."""
    markdown = runbooks_renderer.render(stack).get(RUNBOOKS_FILE, "")
    html: str = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    return html
