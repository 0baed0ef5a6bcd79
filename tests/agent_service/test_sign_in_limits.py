"""The sign-in limit and the hashing pool, over real HTTP: concurrent guesses are
reserved before they are hashed, a guesser behind the admin's proxy costs the admin
seconds (not a lock-out), and a saturated hashing pool refuses sign-ins (429) while
chat answers and their audit records go on."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from agent_service.web.hashing import PasswordHasher
from tests.agent_service.web_helpers import (
    ADMIN_PASSWORD,
    Served,
    csrf_of,
    rows,
    served,
    sign_in,
    wait_for_rows,
)


def _ready_client(app: Served, forwarded: str | None = None) -> tuple[httpx.Client, str]:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    client = httpx.Client(base_url=app.url, timeout=60, headers=headers)
    return client, csrf_of(client.get("/admin").text)


def _post(client: httpx.Client, csrf: str, password: str) -> int:
    form = {"csrf": csrf, "username": "admin", "password": password}
    return client.post("/admin/login", data=form).status_code


def test_forty_concurrent_guesses_from_one_address_are_not_all_tried(tmp_path: Path) -> None:
    with served("sqlite", tmp_path) as app:
        ready = [_ready_client(app) for _ in range(40)]
        start = threading.Barrier(40)

        def guess(index: int) -> int:
            client, csrf = ready[index]
            start.wait(timeout=30)
            return _post(client, csrf, f"wrong guess {index}")

        try:
            with ThreadPoolExecutor(40) as pool:
                answers = list(pool.map(guess, range(40)))
        finally:
            for client, _ in ready:
                client.close()
        assert answers.count(401) == 5, answers
        assert answers.count(429) == 35, answers
        failed = rows(app.db, "SELECT action FROM admin_audit WHERE action = 'login_failed'")
        assert len(failed) == 5


def test_guesses_behind_the_admins_proxy_cost_the_admin_seconds(tmp_path: Path) -> None:
    """Everyone comes from one address (a proxy the service does not trust): five bad
    guesses by someone else, then the real admin. The admin waits the first back-off
    step (about a second), not five minutes."""
    with served("sqlite", tmp_path) as app:
        guesser, guesser_csrf = _ready_client(app)
        admin, admin_csrf = _ready_client(app)
        try:
            for n in range(5):
                assert _post(guesser, guesser_csrf, f"guess {n}") == 401
            limited = admin.post(
                "/admin/login",
                data={"csrf": admin_csrf, "username": "admin", "password": ADMIN_PASSWORD},
            )
            assert limited.status_code == 429
            wait = int(limited.headers["retry-after"])
            assert 1 <= wait <= 2, wait  # the first step of the back-off
            time.sleep(wait)
            assert _post(admin, admin_csrf, ADMIN_PASSWORD) == 303
            # The admin's success does not give the guesser on that address fresh tries.
            blocked = guesser.post(
                "/admin/login",
                data={"csrf": guesser_csrf, "username": "admin", "password": "more"},
            )
            assert blocked.status_code == 429
        finally:
            guesser.close()
            admin.close()


def test_a_saturated_hashing_pool_refuses_sign_ins_not_chat_or_its_audit(
    tmp_path: Path,
) -> None:
    with served(
        "postgres",
        tmp_path,
        audit_spool_dir=tmp_path / "spool",
        password_hash_workers=1,
        password_hash_max_pending=2,
    ) as app:
        hasher: PasswordHasher = app.app.state.web.auth.hasher
        gate = threading.Event()
        # The only hashing thread is held: every check waits behind it.
        held = hasher.executor.submit(gate.wait, 60)
        ready = [_ready_client(app) for _ in range(3)]
        try:
            with ThreadPoolExecutor(2) as pool:
                waiting = [pool.submit(_post, *ready[i], f"wrong {i}") for i in range(2)]
                deadline = time.monotonic() + 15
                while hasher.pending < 2 and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert hasher.pending == 2
                # Beyond the cap: refused at once, with a time to come back.
                busy = ready[2][0].post(
                    "/admin/login",
                    data={"csrf": ready[2][1], "username": "admin", "password": "x" * 12},
                )
                assert busy.status_code == 429 and int(busy.headers["retry-after"]) >= 1
                # Meanwhile chat answers, and its record reaches the spool and the database
                # (the spool's fsync runs in the default pool, which hashing never uses).
                with app.client() as client:
                    for n in range(5):
                        answer = client.post("/chat", json={"message": f"show open orders {n}"})
                        assert answer.status_code == 200
                wait_for_rows(app.db, "SELECT message_id FROM conversation_log", 5)
                assert not any(w.done() for w in waiting)
                gate.set()
                assert [w.result(timeout=30) for w in waiting] == [401, 401]
        finally:
            gate.set()
            held.result(timeout=30)
            for client, _ in ready:
                client.close()
        # And sign-in works again once the pool is free.
        with app.client() as client:
            assert sign_in(client, "admin", ADMIN_PASSWORD).status_code == 303
