"""`stackgen secrets`: the env file with a random value for every secret the stack needs.

The file is created with mode 0600 and never overwritten: an existing file keeps its
values (regenerating a database password after the first start would lock the services
out, since the postgres image sets passwords only on an empty data directory). With
``add_missing`` only the variables the file lacks are appended.

Bearer tokens of Alertmanager's webhooks are written twice with one value: as the
env-file variable the receiving service reads and as the secret file Alertmanager reads
(``token_files``: file name -> variable; the directory compose mounts into Alertmanager).
Either one already present gives its value to the other; neither is ever overwritten.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stackgen.passwords import hash_password
from stackgen.spec import Stack
from stackgen.spec.alerting import token_variable

__all__ = [
    "PASSWORD_HASH_SUFFIX",
    "SecretsError",
    "SecretsWritten",
    "new_value",
    "read_env_file",
    "secrets_mount_source",
    "secrets_owner",
    "token_files",
    "write_secrets",
]

MODE = 0o600
DIR_MODE = 0o700
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
    # Token files written and kept (names under the token directory).
    files_added: tuple[str, ...] = ()
    files_kept: tuple[str, ...] = ()
    # Set when the token directory could not be given to the uid that must read it.
    owner_problem: str | None = None


def token_files(stack: Stack) -> dict[str, str]:
    """Alertmanager's bearer-token files -> the env-file variable with the same value."""
    if stack.alerting is None:
        return {}
    return {name: token_variable(name) for name in stack.alerting.token_secrets()}


def secrets_owner(stack: Stack) -> int | None:
    """The uid Alertmanager's container runs as (who must be able to read its secret
    files); None when it runs as root or the stack does not say."""
    if stack.compose is None or stack.prometheus.alertmanager is None:
        return None
    service = stack.compose.service(stack.prometheus.alertmanager)
    return service.runs_as_uid if service is not None else None


def secrets_mount_source(stack: Stack) -> str | None:
    """The bind-mount source (relative to the compose file's directory) that compose
    mounts where Alertmanager reads its secret files; None without one."""
    if stack.compose is None or stack.alerting is None or stack.prometheus.alertmanager is None:
        return None
    service = stack.compose.service(stack.prometheus.alertmanager)
    if service is None:
        return None
    for mount in service.mounts:
        if mount.is_bind and mount.target == stack.alerting.secrets_dir:
            return mount.source
    return None


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


def _lines(name: str, existing: dict[str, str], preset: Mapping[str, str]) -> list[str]:
    """The env-file lines that define ``name``: its preset value (a token file already
    holding it) or a random one, or for a password hash the password (unless the file
    has it) and the hash of it."""
    if not name.endswith(PASSWORD_HASH_SUFFIX):
        return [f"{name}={preset.get(name) or new_value()}"]
    password_name = name.removesuffix("_HASH")
    password = existing.get(password_name)
    lines = []
    if password is None:
        password = new_value()
        lines.append(f"{password_name}={password}")
    return [*lines, f"{name}='{hash_password(password)}'"]


def _read_token(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _refuse_dangling(path: Path) -> None:
    """A symlink whose target is missing: `exists()` says no, but creating the file
    would fail (O_EXCL) or write somewhere the operator did not mean."""
    if path.is_symlink() and not path.exists():
        raise SecretsError(
            f"{path} is a symlink to {os.readlink(path)}, which does not exist: remove the "
            "link, or point it at an existing file"
        )


def _create(path: Path, flags: int) -> int:
    # O_EXCL: never replace a file that appeared meanwhile; 0600 before any byte is written.
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, MODE)
    except FileExistsError as error:
        raise SecretsError(f"{path} appeared while the secrets were written: run again") from error


def _write_token(path: Path, value: str) -> None:
    fd = _create(path, os.O_WRONLY)
    try:
        os.fchmod(fd, MODE)
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _token_presets(
    token_dir: Path | None, files: Mapping[str, str], env: Mapping[str, str]
) -> dict[str, str]:
    """Values of the token files that exist (variable -> value); SecretsError when one
    differs from the env file (Alertmanager's calls would be refused)."""
    presets: dict[str, str] = {}
    if token_dir is None:
        return presets
    for name, variable in files.items():
        value = _read_token(token_dir / name)
        if value is None:
            continue
        if variable in env and env[variable] != value:
            raise SecretsError(
                f"{token_dir / name} and {variable} in the env file differ: the service "
                "would refuse Alertmanager's calls. Make them equal (or remove one to "
                "have it written from the other)."
            )
        presets[variable] = value
    return presets


def _write_token_files(
    token_dir: Path | None, files: Mapping[str, str], env: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if token_dir is None or not files:
        return (), ()
    token_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    added, kept = [], []
    for name, variable in sorted(files.items()):
        path = token_dir / name
        _refuse_dangling(path)
        if path.exists():
            os.chmod(path, MODE)
            kept.append(name)
        elif variable in env:
            _write_token(path, env[variable])
            added.append(name)
    return tuple(added), tuple(kept)


def _append(path: Path, lines: list[str], *, create: bool) -> None:
    flags = os.O_WRONLY | os.O_APPEND
    fd = _create(path, flags) if create else os.open(path, flags)
    try:
        os.fchmod(fd, MODE)
        os.write(fd, "".join(f"{line}\n" for line in lines).encode())
    finally:
        os.close(fd)


def write_secrets(
    path: Path,
    variables: Iterable[str],
    *,
    add_missing: bool = False,
    token_dir: Path | None = None,
    tokens: Mapping[str, str] | None = None,
    token_owner: int | None = None,
) -> SecretsWritten:
    """The env file at ``path``; with ``token_dir``, also the token files ``tokens``
    (file name -> env variable) there, each holding its variable's value, owned by
    ``token_owner`` when given (the uid of the container that reads them)."""
    wanted = list(dict.fromkeys(variables))
    files = dict(tokens or {})
    _refuse_dangling(path)
    if token_dir is not None:
        for name in files:
            _refuse_dangling(token_dir / name)
    if path.is_dir():
        raise SecretsError(f"{path} is a directory")
    if path.exists():
        if not add_missing:
            raise SecretsError(
                f"{path} exists; not overwriting it (its passwords may already be in use). "
                "Use --add-missing to add only the variables it lacks."
            )
        existing = read_env_file(path)
        presets = _token_presets(token_dir, files, existing)
        missing = [name for name in wanted if name not in existing]
        if missing:
            lines = [line for name in missing for line in _lines(name, existing, presets)]
            _append(path, lines, create=False)
        else:
            os.chmod(path, MODE)
        kept = tuple(name for name in wanted if name in existing)
        added = tuple(missing)
    else:
        if not path.parent.is_dir():
            raise SecretsError(f"{path.parent} does not exist")
        presets = _token_presets(token_dir, files, {})
        header = [
            "# Secrets of the stack, written by `stackgen secrets`. Never commit this file.",
            "# generated/.env.example says what each variable is.",
        ]
        lines = [line for name in wanted for line in _lines(name, {}, presets)]
        _append(path, header + lines, create=True)
        added, kept = tuple(wanted), ()
    files_added, files_kept = _write_token_files(token_dir, files, read_env_file(path))
    problem = _give_to(token_dir, files, token_owner) if token_dir and files else None
    return SecretsWritten(path, added, kept, files_added, files_kept, problem)


def _give_to(token_dir: Path, files: Mapping[str, str], uid: int | None) -> str | None:
    """The token directory and files owned by ``uid`` (modes stay 0700/0600: readable by
    that user only); the reason when this process may not change owners."""
    if uid is None:
        return None
    try:
        for path in (token_dir, *(token_dir / name for name in sorted(files))):
            if path.exists() and path.stat().st_uid != uid:
                os.chown(path, uid, -1)
    except PermissionError:
        return (
            f"the container reading {token_dir} runs as uid {uid} and cannot read it: run "
            f"`sudo chown -R {uid} {token_dir}` (or run stackgen secrets as root)"
        )
    return None
