"""Sign-in for /admin, done on the server: scrypt password hashes per account (checked
in their own pool), a signed HttpOnly SameSite=Strict session cookie bound to the
account's password hash, a CSRF token tied to the session (or, before sign-in, to a
login cookie), a sign-in limit per address and per account, and sign-out that revokes
the session in the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from agent_service.settings import Settings
from agent_service.web.hashing import PasswordHasher
from agent_service.web.limiter import LoginLimiter
from agent_service.web.revocations import Revocations
from stackgen.passwords import PasswordHash

__all__ = ["Account", "Authenticator", "LoginLimiter", "Role", "Session", "SignInRefused"]

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


class SignInRefused(Exception):
    """The attempt was not tried: too many recent failures, or too many checks at once."""

    def __init__(self, retry_after_s: float, reason: str) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s
        self.reason = reason


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of a client's string and ours. compare_digest refuses
    non-ASCII str (TypeError), so both are compared as bytes; a lone surrogate from a
    JSON escape must not raise either."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    def __init__(
        self,
        settings: Settings,
        limiter: LoginLimiter | None = None,
        *,
        revocations: Revocations | None = None,
    ) -> None:
        self.accounts = _accounts(settings)
        secret = settings.admin_session_secret
        # Random per process when unset: sessions end when the service restarts.
        self._key = hashlib.sha256(
            secret.encode("utf-8") if secret else secrets.token_bytes(32)
        ).digest()
        self.limiter = limiter or LoginLimiter(
            free_attempts=settings.login_free_attempts,
            base_delay_s=settings.login_backoff_base_s,
            max_delay_s=settings.login_backoff_max_s,
        )
        self.hasher = PasswordHasher(
            workers=settings.password_hash_workers,
            max_pending=settings.password_hash_max_pending,
        )
        # None: revocations live in this process only (the unit tests' authenticator).
        self.revocations = revocations
        self._revoked: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.accounts)

    def _sign(self, purpose: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{purpose}|{payload}".encode(), hashlib.sha256)
        return _b64(mac.digest())

    # -- passwords ----------------------------------------------------------------------

    async def check_password(
        self, username: str, password: str, address: str = "local"
    ) -> Account | None:
        """The account when the password is its own; raise SignInRefused when the attempt
        may not be tried now. The attempt is reserved (counted as a failure of the
        address and the account) before scrypt runs, and cleared on success."""
        account = self.accounts.get(username)
        slot = self.hasher.acquire()
        if slot is None:
            raise SignInRefused(1.0, "too many sign-ins are being checked")
        wait = self.limiter.reserve(address, account.username if account else None)
        if wait > 0:
            slot.release()
            raise SignInRefused(wait, "too many failed sign-ins")
        if account is None:
            slot.release()
            return None
        if not await self.hasher.matches(slot, account.password, password):
            return None
        self.limiter.succeeded(address, account.username)
        return account

    def close(self) -> None:
        self.hasher.close()

    # -- sessions -----------------------------------------------------------------------

    def _password_mark(self, account: Account) -> str:
        """A MAC of the account's password hash: a cookie carries it, so a new password
        (a new hash) ends every session issued under the old one."""
        return self._sign("password", account.password.encode())[:22]

    def issue(self, account: Account, now: float | None = None) -> tuple[str, Session]:
        expires = (time.time() if now is None else now) + SESSION_SECONDS
        session = Session(account.username, account.role, secrets.token_urlsafe(16), expires)
        claims = {
            "u": session.username,
            "r": session.role.value,
            "n": session.nonce,
            "e": expires,
            "p": self._password_mark(account),
        }
        payload = _b64(json.dumps(claims).encode())
        return f"{payload}.{self._sign('session', payload)}", session

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not _same(signature, self._sign("session", payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["u"]), Role(data["r"]), str(data["n"]), float(data["e"]))
            mark = str(data["p"])
        except (ValueError, KeyError, TypeError):
            return None
        now = time.time() if now is None else now
        if session.expires <= now or session.nonce in self._revoked:
            return None
        account = self.accounts.get(session.username)
        if account is None or account.role is not session.role:  # the hash was removed
            return None
        if not _same(mark, self._password_mark(account)):  # a new password
            return None
        return session

    async def current(self, cookie: str | None) -> Session | None:
        """The cookie's session unless it is invalid or signed out (also by another
        process, or before a restart). Raises StoreUnavailable when the database cannot
        say: a session is never taken on trust."""
        session = self.session(cookie)
        if session is None:
            return None
        if self.revocations is not None and await self.revocations.revoked(session.nonce):
            self._revoked[session.nonce] = session.expires
            return None
        return session

    async def revoke(self, session: Session) -> None:
        """Sign ``session`` out here at once, and in the database (StoreUnavailable when
        that cannot be written: the sign-out then holds in this process only)."""
        now = time.time()
        for nonce in [n for n, expires in self._revoked.items() if expires <= now]:
            del self._revoked[nonce]
        self._revoked[session.nonce] = session.expires
        if self.revocations is not None:
            await self.revocations.revoke(session.nonce, session.username, session.expires)

    # -- CSRF ---------------------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", session.nonce)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return bool(token) and _same(str(token), self.csrf_token(session))

    @staticmethod
    def new_login_nonce() -> str:
        return secrets.token_urlsafe(16)

    def login_csrf_token(self, login_nonce: str) -> str:
        return self._sign("login-csrf", login_nonce)

    def login_csrf_ok(self, login_nonce: str | None, token: str | None) -> bool:
        if not login_nonce or not token:
            return False
        return _same(str(token), self.login_csrf_token(login_nonce))
