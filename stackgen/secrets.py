"""`stackgen secrets`: the env file with a random value for every secret the stack needs.

The file is created with mode 0600 and never overwritten: an existing file keeps its
values (regenerating a database password after the first start would lock the services
out, since the postgres image sets passwords only on an empty data directory). With
``add_missing`` only the variables the file lacks are appended.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stackgen.passwords import hash_password

__all__ = [
    "PASSWORD_HASH_SUFFIX",
    "SecretsError",
    "SecretsWritten",
    "new_value",
    "read_env_file",
    "write_secrets",
]

MODE = 0o600
# 32 random bytes. URL-safe base64 has no `$`, quote, `#` or space, so compose reads the
# value literally (it interpolates `$` in env files) and it fits in a URL unescaped.
TOKEN_BYTES = 32
# A variable named <NAME>_PASSWORD_HASH gets the scrypt hash of a random password, and
# that password is written beside it as <NAME>_PASSWORD: the operator signs in with the
# password, the service (ADMIN_PASSWORD_HASH) only ever sees the hash.
PASSWORD_HASH_SUFFIX = "_PASSWORD_HASH"
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


class SecretsError(Exception):
    """The env file cannot be written as asked (the message says why)."""


@dataclass(frozen=True)
class SecretsWritten:
    path: Path
    added: tuple[str, ...]
    kept: tuple[str, ...]


def new_value() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines (comments and blank lines skipped; no quote processing)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match:
            value = line.split("=", 1)[1].strip()
            # Single quotes: compose takes the value literally (hashes hold `$`).
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            values[match[1]] = value
    return values


def _lines(name: str, existing: dict[str, str]) -> list[str]:
    """The env-file lines that define ``name``: a random value, or for a password hash
    the password (unless the file has it) and the hash of it."""
    if not name.endswith(PASSWORD_HASH_SUFFIX):
        return [f"{name}={new_value()}"]
    password_name = name.removesuffix("_HASH")
    password = existing.get(password_name)
    lines = []
    if password is None:
        password = new_value()
        lines.append(f"{password_name}={password}")
    return [*lines, f"{name}='{hash_password(password)}'"]


def _append(path: Path, lines: list[str], *, create: bool) -> None:
    flags = os.O_WRONLY | os.O_APPEND | (os.O_CREAT | os.O_EXCL if create else 0)
    # O_EXCL: never replace a file that appeared meanwhile; 0600 before any byte is written.
    fd = os.open(path, flags, MODE)
    try:
        os.fchmod(fd, MODE)
        os.write(fd, "".join(f"{line}\n" for line in lines).encode())
    finally:
        os.close(fd)


def write_secrets(
    path: Path, variables: Iterable[str], *, add_missing: bool = False
) -> SecretsWritten:
    wanted = list(dict.fromkeys(variables))
    if path.is_dir():
        raise SecretsError(f"{path} is a directory")
    if path.exists():
        if not add_missing:
            raise SecretsError(
                f"{path} exists; not overwriting it (its passwords may already be in use). "
                "Use --add-missing to add only the variables it lacks."
            )
        existing = read_env_file(path)
        missing = [name for name in wanted if name not in existing]
        if missing:
            lines = [line for name in missing for line in _lines(name, existing)]
            _append(path, lines, create=False)
        else:
            os.chmod(path, MODE)
        kept = tuple(name for name in wanted if name in existing)
        return SecretsWritten(path, tuple(missing), kept)
    if not path.parent.is_dir():
        raise SecretsError(f"{path.parent} does not exist")
    header = [
        "# Secrets of the stack, written by `stackgen secrets`. Never commit this file.",
        "# generated/.env.example says what each variable is.",
    ]
    lines = [line for name in wanted for line in _lines(name, {})]
    _append(path, header + lines, create=True)
    return SecretsWritten(path, tuple(wanted), ())
