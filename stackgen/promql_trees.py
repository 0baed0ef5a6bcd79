"""PromQL expressions parsed once per process: the spec's validators, the rules model
and every check read the same tree of the same text.

The trees are promql-parser's (read-only to every caller: nobody edits a node), so one
tree can be shared by whoever asks for the same text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import promql_parser as pp

__all__ = ["metric_names", "parsed"]

# Large enough for a spec with thousands of alerts, SLOs and panels; bounded so a
# long-lived process (the agent's admin, a test session) does not grow without end.
_CACHED_EXPRESSIONS = 65_536


@lru_cache(maxsize=_CACHED_EXPRESSIONS)
def parsed(expr: str) -> Any:
    """The tree of ``expr`` (raises promql-parser's ValueError when it does not parse;
    a failure is not cached, so every caller sees it)."""
    return pp.parse(expr)


@lru_cache(maxsize=_CACHED_EXPRESSIONS)
def metric_names(expr: str) -> frozenset[str]:
    """The metric names ``expr`` selects (by name or by an equality ``__name__``
    matcher); a selector without one (``{job="x"}``) names none, and so does an
    expression that does not parse (in a stack built without validation: the checks
    report it)."""
    found: set[str] = set()
    try:
        tree = parsed(expr)
    except ValueError:
        return frozenset()

    def visit(node: Any) -> bool:
        if isinstance(node, pp.VectorSelector):
            if node.name:
                found.add(str(node.name))
            found.update(
                str(m.value)
                for m in node.matchers.matchers
                if m.name == "__name__" and m.op == pp.MatchOp.Equal
            )
        return True

    pp.walk(tree, visit)
    return frozenset(found)
