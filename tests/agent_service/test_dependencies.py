"""The routes take their parts through agent_service.dependencies: replacing one with
``app.dependency_overrides`` changes what the route answers, with nothing else touched."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from agent_service.app import create_app
from agent_service.catalog import agent_types
from agent_service.dependencies import get_admin_session, get_stack, get_store
from agent_service.llm.scripted import ScriptedModel
from agent_service.settings import Settings
from agent_service.store.base import StoreUnavailable
from agent_service.web.auth import Role, Session
from specs.bestbox import stack as bestbox_stack
from stackgen.spec import Stack
from tests.agent_service.servers import serving


class UnreachableStore:
    """An audit store whose database never answers (all /health/db asks of it)."""

    async def ping(self) -> None:
        raise StoreUnavailable("connection refused (overridden for the test)")


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return create_app(Settings(sqlite_path=tmp_path / "audit.sqlite3"), model=ScriptedModel(0, 0))


@contextmanager
def client_of(app: FastAPI) -> Iterator[httpx.Client]:
    """The app served on 127.0.0.1 (lifespan included); overrides set while it runs
    apply from the next request on."""
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def test_health_db_asks_the_injected_store(app: FastAPI) -> None:
    with client_of(app) as client:
        assert client.get("/health/db").json()["status"] == "ok"
        app.dependency_overrides[get_store] = UnreachableStore
        answer = client.get("/health/db")
        assert answer.status_code == 503
        assert answer.json() == {
            "status": "unavailable",
            "reason": "connection refused (overridden for the test)",
        }
        app.dependency_overrides.clear()
        assert client.get("/health/db").status_code == 200


async def signed_in_admin() -> Session:
    return Session(username="admin", role=Role.ADMIN, nonce="n" * 16, expires=time.time() + 60)


def test_admin_pages_take_the_injected_session(app: FastAPI) -> None:
    """No account is configured, so without a session the admin audit is the "sign-in
    disabled" page; with an admin session put in its place it is the audit page."""
    with client_of(app) as client:
        refused = client.get("/admin/audit")
        app.dependency_overrides[get_admin_session] = signed_in_admin
        page = client.get("/admin/audit")
    assert refused.status_code == 503 and 'id="admin-audit"' not in refused.text
    assert page.status_code == 200
    assert 'id="admin-audit"' in page.text and "<title>Admin audit</title>" in page.text


def test_routes_answer_for_the_injected_stack(app: FastAPI) -> None:
    other = bestbox_stack.model_copy(update={"name": "otherbox"})

    async def other_stack() -> object:
        return other

    with client_of(app) as client:
        assert client.get("/v1/models").json()["data"][0]["owned_by"] == "bestbox"
        app.dependency_overrides[get_stack] = other_stack
        assert client.get("/v1/models").json()["data"][0]["owned_by"] == "otherbox"


def with_agents(stack: Stack, agents: tuple[str, ...]) -> Stack:
    """The stack with other agent_type values in its catalog's agent_requests."""
    metrics = []
    for metric in stack.metrics:
        if metric.name == "agent_requests":
            labels = tuple(
                label.model_copy(update={"values": agents}) if label.name == "agent_type" else label
                for label in metric.labels
            )
            metric = metric.model_copy(update={"labels": labels})
        metrics.append(metric)
    return stack.model_copy(update={"metrics": tuple(metrics)})


def test_the_admin_agent_filter_takes_the_injected_stacks_agents(app: FastAPI) -> None:
    variant = with_agents(bestbox_stack, ("erp", "hr"))
    assert agent_types(variant) == ("erp", "hr")

    async def variant_stack() -> Stack:
        return variant

    app.dependency_overrides[get_admin_session] = signed_in_admin
    search = {"tab": "conversations", "agent": "hr"}
    with client_of(app) as client:
        refused = client.get("/admin", params=search)
        app.dependency_overrides[get_stack] = variant_stack
        accepted = client.get("/admin", params=search)
        crm = client.get("/admin", params={**search, "agent": "crm"})
    assert refused.status_code == 400 and "agent must be one of erp, crm," in refused.text
    assert accepted.status_code == 200, accepted.text
    assert crm.status_code == 400 and "agent must be one of erp, hr" in crm.text
    assert '<option value="hr"' in accepted.text


def test_agent_types_need_a_bounded_agent_type_label() -> None:
    without = bestbox_stack.model_copy(
        update={"metrics": tuple(m for m in bestbox_stack.metrics if m.name != "agent_requests")}
    )
    with pytest.raises(ValueError, match=r"no values for agent_requests\{agent_type\}"):
        agent_types(without)


def test_admin_tabs_must_embed_dashboards_of_the_stack(tmp_path: Path) -> None:
    """The tabs come with the stack: a stack without the tabs' dashboards is refused at
    start, naming the tabs, rather than serving /admin with dead embeds."""
    kept = tuple(d for d in bestbox_stack.dashboards if d.uid != "bestbox-conversation-audit")
    variant = bestbox_stack.model_copy(update={"dashboards": kept})
    settings = Settings(sqlite_path=tmp_path / "audit.sqlite3")
    with pytest.raises(ValueError, match=r"dashboards of the stack 'bestbox': conversations$"):
        create_app(settings, stack=variant, model=ScriptedModel(0, 0))
