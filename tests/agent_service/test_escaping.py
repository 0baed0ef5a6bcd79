"""Stored text: NUL, lone surrogates and the escape character itself survive the audit
store exactly, on both backends (a real PostgreSQL on 127.0.0.1 and a SQLite file),
and what the pages read is what the user sent."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent_service.domain import FeedbackRecord, ToolCall
from agent_service.store import AuditStore
from agent_service.store.base import stored_turn, turn_row, utc
from agent_service.store.codec import decode, encode, encode_with_row
from agent_service.store.escaping import (
    ESCAPE,
    JSON_COLUMNS,
    dumps_stored,
    escape,
    unescape,
    unescape_json,
    unescape_row,
)
from agent_service.visible import shown
from agent_service.web.database import database_for
from tests.agent_service.test_store import T0, new_session, pg_dsn, rows, store, turn

__all__ = ["pg_dsn", "store"]  # the fixtures, shared with test_store

# Any code point, surrogates included (a JSON body can carry "\ud800"), with the
# characters that matter drawn often: the escape itself, what looks like an escape,
# NUL, surrogates.
TRICKY = st.sampled_from(
    ["\x00", ESCAPE, "\ud800", "\udfff", "\udbff\udc00", "0000", "2400", "D800", "\\", "\\u0000"]
)
TEXT = st.lists(st.one_of(st.characters(codec=None, categories=None), TRICKY), max_size=40).map(
    "".join
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def storable(text: str) -> bool:
    """What both databases accept in a text column: UTF-8 without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@given(TEXT)
@settings(max_examples=500)
def test_escaped_text_is_storable_and_reads_back_exactly(text: str) -> None:
    stored = escape(text)
    assert storable(stored)
    assert unescape(stored) == text


@given(TEXT)
def test_text_without_the_special_code_points_is_stored_as_it_is(text: str) -> None:
    plain = "".join(
        c for c in text if c != "\x00" and c != ESCAPE and not "\ud800" <= c <= "\udfff"
    )
    assert escape(plain) == plain


@given(JSON_VALUE)
@settings(max_examples=300)
def test_json_values_are_storable_and_read_back_exactly(value: Any) -> None:
    stored = dumps_stored(value)
    assert storable(stored) and "\\u0000" not in stored.replace("\\\\", "")
    assert json.loads(unescape_json(stored)) == json.loads(json.dumps(value))


def test_the_escape_is_the_documented_one() -> None:
    assert escape("a\x00b\ud800c\u2400d") == "a\u24000000b\u2400D800c\u24002400d"
    # Rows written before the escape existed: a lone U+2400 not followed by an escape.
    assert unescape("\u2400 and \u24001234") == "\u2400 and \u24001234"


def test_rows_are_decoded_column_by_column() -> None:
    assert "tool_calls" in JSON_COLUMNS
    row = {"user_message": escape("a\x00"), "tool_calls": dumps_stored([{"q": "\x00"}]), "n": 1}
    decoded = unescape_row(row)
    assert decoded["user_message"] == "a\x00"
    assert json.loads(decoded["tool_calls"]) == [{"q": "\x00"}]
    assert decoded["n"] == 1


@given(TEXT)
def test_a_spool_line_keeps_any_text(text: str) -> None:
    call = ToolCall("kb.search", {"q": text, text: [text]}, {"hit": text}, None, 1.0)
    record = turn("s", 0, tool_calls=(call,))
    record = type(record)(**{**record.__dict__, "user_message": text, "agent_response": text})
    assert decode(encode(record)) == record
    # The row encoded with the line is the one the store would have built itself.
    assert encode_with_row(record)[1] == turn_row(stored_turn(record), utc)
    feedback = FeedbackRecord("m", "negative", text, T0)
    assert decode(encode(feedback)) == feedback


def test_pages_show_what_a_browser_cannot_as_a_visible_marker() -> None:
    assert shown("a\x00b\ud800") == "a⟦U+0000⟧b⟦U+D800⟧"
    assert shown("plain ␀") == "plain ␀"
    assert shown(3) == 3


NASTY = ["nul \x00 inside", "lone \ud800 high", "lone \udc01 low", f"escape {ESCAPE}0000 typed"]


async def test_nasty_text_is_stored_and_read_back_exactly(store: AuditStore) -> None:
    sid = new_session()
    written = []
    for n, text in enumerate(NASTY):
        call = ToolCall("kb.search", {"q": text}, {"echo": [text]}, text, 1.0)
        record = turn(sid, n, tool_calls=(call,), error=text)
        record = type(record)(**{**record.__dict__, "user_message": text, "agent_response": text})
        written.append(record)
    await store.write(written)
    await store.write([FeedbackRecord(written[0].message_id, "negative", NASTY[1], T0)])

    # What the pages and exports read (the web database decodes).
    db = database_for(store)
    found = await db.fetch(
        "SELECT message_id, user_message, agent_response, tool_calls, error, "
        "feedback_comment FROM conversation_log WHERE session_id = ? ORDER BY id",
        (sid,),
    )
    assert [r["message_id"] for r in found] == [t.message_id for t in written]
    for row, text in zip(found, NASTY, strict=True):
        assert (row["user_message"], row["agent_response"], row["error"]) == (text, text, text)
        assert json.loads(row["tool_calls"]) == [
            {
                "name": "kb.search",
                "arguments": {"q": text},
                "result": {"echo": [text]},
                "error": text,
                "latency_ms": 1.0,
            }
        ]
    assert found[0]["feedback_comment"] == NASTY[1]
    # A search for the text finds it (parameters are escaped like the rows).
    hits = await db.fetch(
        "SELECT message_id FROM conversation_log WHERE user_message = ?", (NASTY[0],)
    )
    assert [h["message_id"] for h in hits] == [written[0].message_id]
    # Raw, the database holds only the escaped form.
    raw = await rows(
        store, "SELECT user_message FROM conversation_log WHERE session_id = $1 ORDER BY id", sid
    )
    assert [r["user_message"] for r in raw] == [escape(text) for text in NASTY]
