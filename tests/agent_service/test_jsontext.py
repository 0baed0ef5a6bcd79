"""The audit JSON encoder: the same JSON values as the standard library's
``json.dumps(default=str)``, through orjson or the fallback."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from agent_service.store.jsontext import dumps_bytes, dumps_text


@dataclass
class Point:
    x: int


CASES: list[Any] = [
    [{"name": "erp.lookup", "arguments": {"po": "PO-1"}, "result": {"total": 1234.5}}],
    {"text": "Grüße, 你好, emoji \U0001f600", "none": None, "flag": True, "n": -3},
    {"when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)},  # str(), like default=str
    {"amount": Decimal("1.10"), "point": Point(1)},  # str() of unknown objects
    {"big": 2**70},  # beyond 64 bits: the standard library's way
    {1: "non-string key"},  # the standard library's way
    [1.0, 0.1, 1e16, -0.0],
]


@pytest.mark.parametrize("value", CASES)
def test_same_json_value_as_the_standard_library(value: Any) -> None:
    expected = json.loads(json.dumps(value, default=str))
    assert json.loads(dumps_bytes(value)) == expected
    assert json.loads(dumps_text(value)) == expected
    assert b"\n" not in dumps_bytes(value)  # one spool line a record


def test_nan_becomes_null_instead_of_invalid_json() -> None:
    assert json.loads(dumps_text({"x": math.nan})) == {"x": None}
