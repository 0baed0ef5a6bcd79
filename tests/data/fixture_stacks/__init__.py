"""Small stacks built with the public spec API, one per shape a renderer must handle.

Each guards the renderers through its snapshots (tests/stackgen/test_renderers.py); the
production stack is guarded by the drift check instead. Every field whose default could
be a particular deployment's choice (a service name, a namespace, a database) is set
explicitly, so a fixture means the same whatever the defaults become.
"""

from __future__ import annotations

from stackgen.spec import Stack
from tests.data.fixture_stacks import checkout, minimal, traced

__all__ = ["FIXTURE_STACKS"]

# Name -> stack; the name is the fixture's part of every test id.
FIXTURE_STACKS: dict[str, Stack] = {
    "minimal": minimal.stack,
    "checkout": checkout.stack,
    "traced": traced.stack,
}
