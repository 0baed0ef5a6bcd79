"""Tokenising shared by the router, the tool planners and the knowledge base."""

from __future__ import annotations

import re

__all__ = ["STOPWORDS", "content_tokens", "tokens"]

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

STOPWORDS = frozenset(
    "a an and are as at be by can do does for from get give how i in is it me my of on or "
    "our please show tell that the this to us was what when where which who why will with "
    "you your".split()
)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; hyphenated ids (inv-1001, web-01) stay one token."""
    return _TOKEN.findall(text.lower())


def content_tokens(text: str) -> list[str]:
    """Tokens without stopwords, with a trailing plural ``s`` dropped (invoices -> invoice)."""
    out: list[str] = []
    for token in tokens(text):
        if token in STOPWORDS:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        out.append(token)
    return out
