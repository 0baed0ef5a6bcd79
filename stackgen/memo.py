"""Work done once per stack: a function of a stack remembers its result for the last
stack it was given, so every renderer and check that needs the rules model (or a
rendered dashboard) of the same stack shares one.

Stacks are frozen (SpecModel), so a stack's result never goes stale; the cache is by
identity (hashing a whole spec would cost more than most of what is cached) and holds
only the last stack, so nothing accumulates. Rendered text carries the generated-file
notice, which names the regenerate command in effect: a result is reused only under the
same notice. Callers treat cached results as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from stackgen.output import generated_notice
from stackgen.spec import Stack

__all__ = ["per_stack"]

T = TypeVar("T")


def per_stack(function: Callable[[Stack], T]) -> Callable[[Stack], T]:
    """``function``, computed once for the stack it was last called with."""
    lock = threading.Lock()
    last: list[tuple[Stack, str, T]] = []

    @wraps(function)
    def cached(stack: Stack) -> T:
        notice = generated_notice()
        with lock:
            if last and last[0][0] is stack and last[0][1] == notice:
                return last[0][2]
        result = function(stack)
        with lock:
            last[:] = [(stack, notice, result)]
        return result

    return cached
