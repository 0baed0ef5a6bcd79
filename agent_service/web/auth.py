"""Sign-in for /admin, done on the server: scrypt password hashes per account, a signed
HttpOnly SameSite=Strict session cookie, a CSRF token tied to the session (or, before
sign-in, to a login cookie), a failed-login rate limit per client, and sign-out that
revokes the session."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from agent_service.settings import Settings
from stackgen.passwords import PasswordHash

__all__ = ["Account", "Authenticator", "LoginLimiter", "Role", "Session"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "bestbox_admin"
LOGIN_COOKIE = "bestbox_login"
SESSION_SECONDS = 8 * 3600


class Role(StrEnum):
    ADMIN = "admin"  # everything, including conversation content and exports
    VIEWER = "viewer"  # aggregate tabs, service status and runbooks


@dataclass(frozen=True)
class Account:
    username: str
    role: Role
    password: PasswordHash


@dataclass(frozen=True)
class Session:
    username: str
    role: Role
    nonce: str
    expires: float

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _accounts(settings: Settings) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    for role, encoded, variable in (
        (Role.ADMIN, settings.admin_password_hash, "ADMIN_PASSWORD_HASH"),
        (Role.VIEWER, settings.viewer_password_hash, "VIEWER_PASSWORD_HASH"),
    ):
        if not encoded:
            continue
        try:
            accounts[role.value] = Account(role.value, role, PasswordHash.parse(encoded))
        except ValueError as error:  # the message never contains the value
            log.error("%s is not usable, %s cannot sign in: %s", variable, role.value, error)
    return accounts


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per client in ``window_s``; then every
    attempt from it is refused until the oldest failure leaves the window."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0, max_clients: int = 10_000):
        self.attempts = attempts
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and now - failures[0] >= self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(client, now)
        if len(failures) < self.attempts:
            return 0.0
        return max(0.0, self.window_s - (now - failures[0]))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if client not in self._failures and len(self._failures) >= self.max_clients:
            # Bounded memory: forget clients whose failures all left the window.
            for key in [k for k, v in self._failures.items() if not self._recent(k, now)]:
                del self._failures[key]
        failures = self._recent(client, now)
        failures.append(now)
        self._failures[client] = failures

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    def __init__(self, settings: Settings, limiter: LoginLimiter | None = None) -> None:
        self.accounts = _accounts(settings)
        secret = settings.admin_session_secret
        # Random per process when unset: sessions end when the service restarts.
        self._key = hashlib.sha256(
            secret.encode("utf-8") if secret else secrets.token_bytes(32)
        ).digest()
        self.limiter = limiter or LoginLimiter()
        self._revoked: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.accounts)

    def _sign(self, purpose: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{purpose}|{payload}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    # -- passwords ----------------------------------------------------------------------

    async def check_password(self, username: str, password: str) -> Account | None:
        account = self.accounts.get(username)
        if account is None:
            return None
        # scrypt takes ~0.1 s: off the event loop.
        matches = await asyncio.to_thread(account.password.matches, password)
        return account if matches else None

    # -- sessions -----------------------------------------------------------------------

    def issue(self, account: Account, now: float | None = None) -> tuple[str, Session]:
        expires = (time.time() if now is None else now) + SESSION_SECONDS
        session = Session(account.username, account.role, secrets.token_urlsafe(16), expires)
        payload = _b64(
            json.dumps(
                {"u": session.username, "r": session.role.value, "n": session.nonce, "e": expires}
            ).encode()
        )
        return f"{payload}.{self._sign('session', payload)}", session

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign("session", payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["u"]), Role(data["r"]), str(data["n"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        now = time.time() if now is None else now
        if session.expires <= now or session.nonce in self._revoked:
            return None
        if session.username not in self.accounts:  # the account's hash was removed
            return None
        return session

    def revoke(self, session: Session) -> None:
        now = time.time()
        for nonce in [n for n, expires in self._revoked.items() if expires <= now]:
            del self._revoked[nonce]
        self._revoked[session.nonce] = session.expires

    # -- CSRF ---------------------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", session.nonce)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    @staticmethod
    def new_login_nonce() -> str:
        return secrets.token_urlsafe(16)

    def login_csrf_token(self, login_nonce: str) -> str:
        return self._sign("login-csrf", login_nonce)

    def login_csrf_ok(self, login_nonce: str | None, token: str | None) -> bool:
        if not login_nonce or not token:
            return False
        return hmac.compare_digest(str(token), self.login_csrf_token(login_nonce))
