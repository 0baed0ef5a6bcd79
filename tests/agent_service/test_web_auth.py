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


async def test_sessions_are_signed_expire_and_can_be_revoked() -> None:
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
    await auth.revoke(issued)
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


def test_the_limiter_backs_off_exponentially_per_address_and_account() -> None:
    limiter = LoginLimiter(free_attempts=3, base_delay_s=1.0, max_delay_s=60.0)
    for _ in range(3):
        assert limiter.reserve("10.0.0.1", "admin", now=0.0) == 0
    # The fourth attempt waits 1 s, then each failure doubles the wait.
    assert limiter.reserve("10.0.0.1", "admin", now=0.0) == pytest.approx(1.0)
    assert limiter.reserve("10.0.0.1", "admin", now=1.0) == 0
    assert limiter.retry_after("10.0.0.1", "admin", now=1.0) == pytest.approx(2.0)
    assert limiter.reserve("10.0.0.1", "admin", now=3.0) == 0
    assert limiter.retry_after("10.0.0.1", "admin", now=3.0) == pytest.approx(4.0)
    assert limiter.delay(100) == 60.0  # bounded
    # Another address is limited on the same account, not on another one.
    assert limiter.retry_after("10.0.0.2", "admin", now=3.0) == pytest.approx(4.0)
    assert limiter.retry_after("10.0.0.2", "viewer", now=3.0) == 0
    assert limiter.retry_after("10.0.0.1", None, now=3.0) == pytest.approx(4.0)
    # A success forgets the account's failures; the address only loses that attempt.
    assert limiter.reserve("10.0.0.2", "viewer", now=3.0) == 0
    limiter.succeeded("10.0.0.2", "viewer")
    assert "ip:10.0.0.2" not in limiter._keys and "account:viewer" not in limiter._keys
    limiter.succeeded("10.0.0.1", "admin")
    assert limiter.retry_after("10.0.0.2", "admin", now=3.0) == 0
    assert limiter.retry_after("10.0.0.1", "admin", now=3.0) == pytest.approx(2.0)


def test_concurrent_attempts_are_reserved_before_they_are_checked() -> None:
    """Forty attempts at once (none has finished): only the free ones are tried."""
    limiter = LoginLimiter(free_attempts=5)
    tried = [limiter.reserve("10.0.0.1", "admin", now=0.0) == 0 for _ in range(40)]
    assert tried.count(True) == 5


def test_the_limiter_forgets_quiet_addresses_first_and_never_accounts() -> None:
    limiter = LoginLimiter(free_attempts=1, max_delay_s=10, forget_after_s=10, max_keys=3)
    limiter.reserve("a", "admin", now=0.0)  # ip:a and account:admin
    limiter.reserve("b", None, now=5.0)
    limiter.reserve("c", None, now=6.0)  # full: the oldest address (a) goes
    assert set(limiter._keys) == {"account:admin", "ip:b", "ip:c"}
    limiter.reserve("d", None, now=30.0)  # every key is quiet now: all forgotten
    assert set(limiter._keys) == {"ip:d"}
