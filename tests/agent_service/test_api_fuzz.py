"""schemathesis against the service's own OpenAPI schema, over a real uvicorn on
127.0.0.1: valid and invalid bodies, headers and methods for every operation. No input
may produce a 5xx, and every error is the service's JSON error.

Examples are bounded per operation (the whole module runs in well under a minute)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from agent_service.app import create_app
from agent_service.llm.scripted import ScriptedModel
from agent_service.settings import Settings
from agent_service.store import SqliteStore
from tests.agent_service.servers import serving

EXAMPLES_PER_OPERATION = 30


# The schema comes from the app object (nothing is started for it); the requests go to
# a separately served instance over real HTTP.
# The alert webhook refuses every call without a configured token (503): the fuzzed
# service has one and sends it, so payloads reach validation and the database.
ALERT_TOKEN = "fuzz-token-" + "x" * 32
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(Settings(alert_webhook_token=ALERT_TOKEN), store=SqliteStore(":memory:")),
)
STATUS_CLASSES: set[int] = set()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(
            sqlite_path=folder / "audit.sqlite3",
            audit_spool_dir=folder / "spool",
            alert_webhook_token=ALERT_TOKEN,
        ),
        model=ScriptedModel(0.0, 0.0),
    )
    with serving(app) as base:
        yield base


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples on every run: a failure reproduces
)
def test_no_input_makes_a_server_error(case: Any, base_url: str) -> None:
    response = case.call(
        base_url=base_url, timeout=30, headers={"authorization": f"Bearer {ALERT_TOKEN}"}
    )
    STATUS_CLASSES.add(response.status_code // 100)
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and body["error"]["message"], response.text


def test_the_fuzzing_sent_valid_and_invalid_requests() -> None:
    """Runs after the fuzzing (file order): it reached the handlers (2xx) and sent
    input the service rejected (4xx), so the test above was not vacuous."""
    assert {2, 4} <= STATUS_CLASSES, STATUS_CLASSES
