"""Admin passwords as scrypt hashes (``scrypt$n$r$p$salt$hash``, base64 salt and hash):
slow to guess, salted, compared in constant time. The service only ever sees hashes.

Here, in stackgen, because both sides use it: `stackgen secrets` writes the hash of the
password it generates, and the agent service (which depends on stackgen) verifies it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = ["MIN_PASSWORD_CHARS", "PasswordHash", "hash_password", "verify_password"]

# 2**15 * 8 * 128 bytes = 32 MiB a guess: ~0.1 s here, expensive on GPUs.
DEFAULT_N = 2**15
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_CHARS = 12
_MAX_MEM = 128 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PasswordHash:
    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    @classmethod
    def parse(cls, encoded: str) -> PasswordHash:
        """ValueError (never echoing the value) when it is not an scrypt hash."""
        parts = encoded.strip().split("$")
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("not an scrypt hash (expected scrypt$n$r$p$salt$hash)")
        try:
            n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
            salt = base64.b64decode(parts[4], validate=True)
            key = base64.b64decode(parts[5], validate=True)
        except ValueError as error:
            raise ValueError("malformed scrypt hash (bad number or base64)") from error
        if n < 2**14 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range (n a power of 2 >= 16384)")
        if len(salt) < 8 or len(key) < 16:
            raise ValueError("scrypt salt or hash too short")
        return cls(n, r, p, salt, key)

    def encode(self) -> str:
        return f"scrypt${self.n}${self.r}${self.p}${_b64(self.salt)}${_b64(self.key)}"

    def matches(self, password: str) -> bool:
        candidate = hashlib.scrypt(
            password.encode("utf-8"),
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            maxmem=_MAX_MEM,
            dklen=len(self.key),
        )
        return hmac.compare_digest(candidate, self.key)

    def __repr__(self) -> str:  # never print the hash itself
        return f"PasswordHash(scrypt n={self.n} r={self.r} p={self.p})"


def hash_password(password: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=DEFAULT_P,
        maxmem=_MAX_MEM,
        dklen=KEY_BYTES,
    )
    return PasswordHash(n, r, DEFAULT_P, salt, key).encode()


def verify_password(password: str, encoded: str) -> bool:
    return PasswordHash.parse(encoded).matches(password)
