"""Admin passwords (scrypt), the hash-password command, sessions, CSRF tokens and the
sign-in rate limit, without a server."""

from __future__ import annotations

import io
import sys

import pytest

from agent_service import cli
from agent_service.settings import Settings
from agent_service.web.auth import SESSION_SECONDS, Authenticator, LoginLimiter, Role
from stackgen.passwords import PasswordHash, hash_password, verify_password
from tests.agent_service.web_helpers import ADMIN_PASSWORD, VIEWER_PASSWORD, password_hashes


def test_a_hash_verifies_its_password_only() -> None:
    admin_hash, _ = password_hashes()
    assert admin_hash.startswith("scrypt$32768$8$1$")
    assert verify_password(ADMIN_PASSWORD, admin_hash)
    assert not verify_password(VIEWER_PASSWORD, admin_hash)
    assert not verify_password(ADMIN_PASSWORD + " ", admin_hash)


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("same password twice"), hash_password("same password twice")
    assert first != second
    assert PasswordHash.parse(first).salt != PasswordHash.parse(second).salt


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "plaintext-password",
        "scrypt$32768$8$1$c2FsdA==",  # no hash part
        "bcrypt$32768$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",
        "scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==",  # n not a power of 2
        "scrypt$32768$8$1$not base64!$aGFzaGhhc2hoYXNoaGFzaA==",
    ],
)
def test_a_malformed_hash_is_refused_without_echoing_it(encoded: str) -> None:
    with pytest.raises(ValueError) as raised:
        PasswordHash.parse(encoded)
    if encoded:
        assert encoded not in str(raised.value)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 12 characters"):
        hash_password("short")


def test_hash_password_reads_stdin_and_prints_only_the_hash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))
    assert cli.main(["hash-password"]) == 0
    out, err = capsys.readouterr()
    assert verify_password("a long enough secret", out.strip())
    assert "a long enough secret" not in out + err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["hash-password"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "at least 12 characters" in err


def _auth(**overrides: str | None) -> Authenticator:
    admin_hash, viewer_hash = password_hashes()
    values: dict[str, str | None] = {
        "admin_password_hash": admin_hash,
        "viewer_password_hash": viewer_hash,
        "admin_session_secret": "test-secret",
        **overrides,
    }
    return Authenticator(Settings(**values))  # type: ignore[arg-type]


def test_settings_read_the_variables_and_never_show_them() -> None:
    admin_hash, viewer_hash = password_hashes()
    settings = Settings.from_env(
        {
            "ADMIN_PASSWORD_HASH": admin_hash,
            "VIEWER_PASSWORD_HASH": viewer_hash,
            "ADMIN_SESSION_SECRET": "s3cret-value",
            "GRAFANA_URL": "http://grafana.example:3000/",
        }
    )
    assert settings.admin_password_hash == admin_hash
    assert settings.viewer_password_hash == viewer_hash
    assert settings.grafana_url == "http://grafana.example:3000"
    shown = repr(settings)
    assert admin_hash not in shown and viewer_hash not in shown and "s3cret-value" not in shown


def test_a_bad_hash_disables_only_its_account(caplog: pytest.LogCaptureFixture) -> None:
    auth = _auth(viewer_password_hash="scrypt$oops-this-is-not-a-hash")
    assert set(auth.accounts) == {"admin"}
    assert "VIEWER_PASSWORD_HASH" in caplog.text and "oops-this" not in caplog.text
    assert not _auth(admin_password_hash=None, viewer_password_hash=None).enabled


async def test_passwords_are_checked_per_account() -> None:
    auth = _auth()
    admin = await auth.check_password("admin", ADMIN_PASSWORD)
    assert admin is not None and admin.role is Role.ADMIN
    assert await auth.check_password("viewer", ADMIN_PASSWORD) is None
    assert await auth.check_password("root", ADMIN_PASSWORD) is None


def test_sessions_are_signed_expire_and_can_be_revoked() -> None:
    auth = _auth()
    account = auth.accounts["viewer"]
    cookie, issued = auth.issue(account, now=1_000.0)
    assert auth.session(cookie, now=1_001.0) == issued
    assert auth.session(cookie, now=1_000.0 + SESSION_SECONDS) is None  # expired
    payload, signature = cookie.rsplit(".", 1)
    # A viewer cannot make itself admin by editing the cookie.
    forged = payload.replace(payload[:4], payload[:4][::-1]) + "." + signature
    assert auth.session(forged, now=1_001.0) is None
    assert auth.session(cookie + "x", now=1_001.0) is None
    # Another secret (another deployment) does not accept it.
    assert _auth(admin_session_secret="other").session(cookie, now=1_001.0) is None
    auth.revoke(issued)
    assert auth.session(cookie, now=1_001.0) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    auth = _auth()
    _, first = auth.issue(auth.accounts["admin"])
    _, second = auth.issue(auth.accounts["admin"])
    assert auth.csrf_ok(first, auth.csrf_token(first))
    assert not auth.csrf_ok(first, auth.csrf_token(second))
    assert not auth.csrf_ok(first, None) and not auth.csrf_ok(first, "")
    nonce = auth.new_login_nonce()
    assert auth.login_csrf_ok(nonce, auth.login_csrf_token(nonce))
    assert not auth.login_csrf_ok(auth.new_login_nonce(), auth.login_csrf_token(nonce))
    assert not auth.login_csrf_ok(None, auth.login_csrf_token(nonce))


def test_the_limiter_counts_failures_in_a_sliding_window() -> None:
    limiter = LoginLimiter(attempts=3, window_s=60)
    for at in (0.0, 10.0, 20.0):
        assert limiter.retry_after("10.0.0.1", now=at) == 0
        limiter.failed("10.0.0.1", now=at)
    assert limiter.retry_after("10.0.0.1", now=30.0) == pytest.approx(30.0)
    assert limiter.retry_after("10.0.0.2", now=30.0) == 0  # per client
    assert limiter.retry_after("10.0.0.1", now=60.0) == 0  # the first failure left
    limiter.succeeded("10.0.0.1")
    assert limiter.retry_after("10.0.0.1", now=30.0) == 0


def test_the_limiter_forgets_old_clients_when_full() -> None:
    limiter = LoginLimiter(attempts=1, window_s=10, max_clients=2)
    limiter.failed("a", now=0.0)
    limiter.failed("b", now=0.0)
    limiter.failed("c", now=20.0)  # a and b have no failure left in the window
    assert set(limiter._failures) == {"c"}
