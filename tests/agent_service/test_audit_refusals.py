"""The attack, end to end, against the real service and a real PostgreSQL on 127.0.0.1:
one unauthenticated chat message must never stop the audit log.

- A message holding NUL (which PostgreSQL ``text`` cannot hold) is answered, stored
  and shown exactly as sent; the turn after it is in the log within seconds.
- A row the database genuinely refuses (a CHECK constraint added to the live table,
  SQLSTATE 23514) is set aside in the dead-letter table, counted in
  ``audit_dead_letter_rows_total`` and listed on /admin's audit tab; the turns after it
  are written.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    chat,
    csrf_of,
    rows,
    served,
    sign_in,
    wait_for_rows,
)

NUL_MESSAGE = "show open orders\x00; DROP TABLE conversation_log; --\u2400"


def dead_letter_metric(base_url: str, kind: str, destination: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    pattern = (
        rf'^audit_dead_letter_rows_total\{{(?=[^}}]*kind="{kind}")'
        rf'(?=[^}}]*destination="{destination}")[^}}]*\}} (\S+)$'
    )
    match = re.search(pattern, text, re.MULTILINE)
    assert match, "audit_dead_letter_rows_total is not on /metrics"
    return float(match[1])


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_nul_message_is_stored_shown_and_holds_nothing_up(backend: str, tmp_path: Path) -> None:
    with (
        served(backend, tmp_path, audit_spool_dir=tmp_path / "spool") as app,
        app.client() as client,
    ):
        attack = chat(client, NUL_MESSAGE, user="mallory")
        normal = chat(client, "reset my VPN password", user="bob")
        logged = wait_for_rows(
            app.db, "SELECT message_id, user_message FROM conversation_log ORDER BY id", 2, 5
        )
        assert [r["message_id"] for r in logged] == [attack["message_id"], normal["message_id"]]
        assert app.app.state.services.writer.dead_lettered == 0

        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        view = client.get(f"/admin/sessions/{attack['session_id']}")
        assert view.status_code == 200
        assert "show open orders⟦U+0000⟧; DROP TABLE conversation_log; --\u2400" in view.text
        page = client.get("/admin", params={"tab": "conversations", "user": "mallory"})
        export = client.post("/admin/export", data={"csrf": csrf_of(page.text), "format": "json"})
        exported = {row["message_id"]: row for row in export.json()}
        assert exported[attack["message_id"]]["user_message"] == NUL_MESSAGE
        # A search finds it by the text beside the NUL (a filter holding a NUL itself is
        # refused as bad input: 400).
        found = client.get("/admin", params={"tab": "conversations", "text": "; DROP TABLE"})
        assert "1 matching turn" in found.text
        refused = client.get("/admin", params={"tab": "conversations", "text": "orders\x00"})
        assert refused.status_code == 400


def test_a_refused_row_is_dead_lettered_counted_and_shown(tmp_path: Path) -> None:
    with (
        served("postgres", tmp_path, audit_spool_dir=tmp_path / "spool") as app,
        app.client() as client,
    ):
        first = chat(client, "show open orders")
        wait_for_rows(app.db, "SELECT message_id FROM conversation_log", 1, 5)
        assert dead_letter_metric(app.url, "turn", "table") == 0
        # The database now refuses any turn mentioning "forbidden" (a genuine refusal:
        # the service's own COPY hits the constraint).
        assert app.db.database_url is not None
        execute(
            app.db.database_url,
            "ALTER TABLE conversation_log ADD CONSTRAINT no_forbidden "
            "CHECK (user_message NOT LIKE '%forbidden%') NOT VALID",
        )
        refused = chat(client, "a forbidden question")
        after = chat(client, "reset my VPN password")
        logged = wait_for_rows(app.db, "SELECT message_id FROM conversation_log ORDER BY id", 2, 5)
        assert [r["message_id"] for r in logged] == [first["message_id"], after["message_id"]]
        letters = wait_for_rows(
            app.db, "SELECT message_id, sqlstate, error_class, record FROM audit_dead_letters", 1
        )
        assert [(r["message_id"], r["sqlstate"]) for r in letters] == [
            (refused["message_id"], "23514")
        ]
        record = letters[0]["record"]
        record = json.loads(record) if isinstance(record, str) else record
        assert record["user_message"] == "a forbidden question"
        assert dead_letter_metric(app.url, "turn", "table") == 1

        # Admins see the count and the entry; viewers do not see the audit tab.
        assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
        audit = client.get("/admin/audit")
        assert audit.status_code == 200
        assert '<span id="dead-letter-count">1</span>' in audit.text
        assert refused["message_id"] in audit.text and "CheckViolationError" in audit.text
        with httpx.Client(base_url=app.url, timeout=30) as viewer:
            assert sign_in(viewer, "viewer", VIEWER_PASSWORD).status_code == 303
            denied = viewer.get("/admin/audit")
            assert denied.status_code == 403 and refused["message_id"] not in denied.text
        # The refused turn's session upsert was rolled back with it: nothing counted.
        assert rows(app.db, "SELECT count(*) AS n FROM user_sessions")[0]["n"] == 2


def execute(dsn: str, statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())
