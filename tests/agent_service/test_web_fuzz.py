"""Hostile input for every endpoint, the admin's pages and forms included (schemathesis
covers the JSON API from its schema; the admin is not in the schema): NUL, unpaired
surrogates, huge and extreme values, over real HTTP against PostgreSQL, which is the
stricter backend. No input may produce a 5xx.

Text goes over the wire as a client could send it: JSON with ``\\uXXXX`` escapes, and
query strings, forms and paths percent-encoded from the raw bytes (a surrogate as the
invalid UTF-8 it encodes to)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.agent_service.web_helpers import ADMIN_PASSWORD, csrf_of, served, sign_in

EXAMPLES = 40

EXTREMES = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff tail",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "1e308",
    "NaN",
    "%00",
    "../../etc/passwd",
    "'; DROP TABLE admin_audit; --",
    "<script>alert(1)</script>",
    "\u202e\ufeff\uffff",
]
# In a URL, "huge" is what a client can send (httpx and uvicorn cap a request line
# well below a body's limit); in a body, more than a form field may hold.
in_url = st.one_of(
    st.sampled_from([*EXTREMES, "x" * 6_000]),
    st.text(st.characters(codec=None, categories=None), max_size=40),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
)
hostile = st.one_of(in_url, st.just("x" * 70_000))
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from([None, True, "yes", [], {}]),
)
FIELDS = ("user", "agent", "feedback", "since", "until", "text")
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples on every run: a failure reproduces
)


def _raw(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _query(fields: dict[str, str]) -> str:
    return "&".join(f"{_raw(k)}={_raw(v)}" for k, v in fields.items())


class Admin:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=60)
        assert sign_in(self.client, "admin", ADMIN_PASSWORD).status_code == 303
        self.csrf = csrf_of(self.client.get("/admin").text)

    def form(self, path: str, fields: dict[str, str]) -> httpx.Response:
        return self.client.post(
            path,
            content=_query(fields).encode("ascii"),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    def json(self, path: str, body: Any) -> httpx.Response:
        return self.client.post(
            path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    with served("postgres", tmp_path_factory.mktemp("web-fuzz")) as app:
        signed_in = Admin(app.url)
        try:
            yield signed_in
        finally:
            signed_in.client.close()


def _no_server_error(answer: httpx.Response) -> None:
    assert answer.status_code < 500, (answer.request.url, answer.status_code, answer.text[:500])
    if answer.status_code >= 400 and answer.headers.get("content-type", "").startswith(
        "application/json"
    ):
        assert answer.json()["error"]["message"], answer.text


@fuzz
@given(fields=st.dictionaries(st.sampled_from(FIELDS), in_url, max_size=2))
def test_conversation_filters(admin: Admin, fields: dict[str, str]) -> None:
    query = _query({"tab": "conversations", **fields})
    _no_server_error(admin.client.get(f"/admin?{query}"))


@fuzz
@given(fields=st.dictionaries(st.sampled_from(FIELDS), hostile), kind=hostile)
def test_export_form(admin: Admin, fields: dict[str, str], kind: str) -> None:
    form = {"csrf": admin.csrf, "format": kind, **fields}
    _no_server_error(admin.form("/admin/export", form))


@fuzz
@given(session_id=in_url, tab=in_url)
def test_pages_by_path_and_tab(admin: Admin, session_id: str, tab: str) -> None:
    _no_server_error(admin.client.get(f"/admin/sessions/{_raw(session_id) or 'x'}"))
    _no_server_error(admin.client.get(f"/admin?tab={_raw(tab)}"))


@settings(fuzz, max_examples=15)
@given(end=in_url, kind=st.sampled_from(["weekly", "monthly", "yearly"]))
def test_report_ends(admin: Admin, end: str, kind: str) -> None:
    _no_server_error(admin.client.get(f"/admin/reports/{kind}?end={_raw(end)}"))


@settings(fuzz, max_examples=20)
@given(username=hostile, password=hostile, csrf=st.one_of(st.none(), hostile))
def test_sign_in_form(admin: Admin, username: str, password: str, csrf: str | None) -> None:
    with httpx.Client(base_url=admin.url, timeout=60) as client:
        token = csrf_of(client.get("/admin").text) if csrf is None else csrf
        form = {"csrf": token, "username": username, "password": password}
        answer = client.post(
            "/admin/login",
            content=_query(form).encode("ascii"),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        _no_server_error(answer)


@fuzz
@given(message_id=hostile, rating=hostile, comment=st.one_of(st.none(), hostile))
def test_feedback(admin: Admin, message_id: str, rating: str, comment: str | None) -> None:
    body = {"message_id": message_id, "rating": rating, "comment": comment}
    _no_server_error(admin.json("/feedback", body))


@fuzz
@given(content=hostile, max_tokens=numbers, stream=numbers, session_id=hostile)
def test_chat_requests(
    admin: Admin, content: str, max_tokens: Any, stream: Any, session_id: str
) -> None:
    # NUL in the text itself is the audit store's to encode (not this module's); the
    # rest of the text and every option are fuzzed.
    content = content.replace("\x00", "")
    body = {"messages": [{"role": "user", "content": content}], "max_tokens": max_tokens}
    if stream is not None:
        body["stream"] = stream
    _no_server_error(admin.json("/v1/chat/completions", body))
    _no_server_error(admin.json("/chat", {"message": content, "session_id": session_id}))
