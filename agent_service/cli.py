"""``agent-service serve | migrate | report``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence

from agent_service.reports.cli import add_report_command, run_report
from agent_service.settings import Settings

__all__ = ["main"]


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agent-service",
        description="The BestBox agent API, instrumented from the stackgen metric catalog. "
        "Configuration comes from the environment: DATABASE_URL (PostgreSQL audit log; "
        "unset: a SQLite file, AUDIT_SQLITE_PATH), LLM_BASE_URL and LLM_MODEL (an "
        "OpenAI-compatible server; unset: the built-in scripted model), "
        "OTEL_EXPORTER_OTLP_ENDPOINT (trace export).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the API")
    serve.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    serve.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    serve.add_argument("--log-level", default="info")
    commands.add_parser("migrate", help="apply the audit-log schema migrations and exit")
    add_report_command(commands, settings)
    commands.add_parser(
        "hash-password",
        help="read a password on stdin, print its scrypt hash for ADMIN_PASSWORD_HASH or "
        "VIEWER_PASSWORD_HASH",
    )
    return parser


async def _migrate(settings: Settings) -> None:
    from agent_service.store import open_store

    store = open_store(settings.database_url, settings.sqlite_path)
    try:
        await store.migrate()
    finally:
        await store.close()


def _hash_password() -> int:
    """The password from stdin (a prompt without echo on a terminal); only the hash is
    printed."""
    import getpass

    from stackgen.passwords import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("agent-service: the passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        print(hash_password(password))
    except ValueError as error:
        print(f"agent-service: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings.from_env()
    args = _parser(settings).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "report":
        return run_report(args)
    if args.command == "hash-password":
        return _hash_password()
    if args.command == "migrate":
        try:
            asyncio.run(_migrate(settings))
        except Exception as error:
            print(f"agent-service: migration failed: {error}", file=sys.stderr)
            return 1
        target = "PostgreSQL" if settings.database_url else f"SQLite {settings.sqlite_path}"
        print(f"agent-service: audit schema up to date ({target})", file=sys.stderr)
        return 0
    import uvicorn

    from agent_service.app import create_app
    from agent_service.serving import uvicorn_config

    app = create_app(settings)
    # Everything imported and built so far lives as long as the process: keep it out
    # of the cyclic collector's full passes (gen-2 pauses were the p99 tail here).
    gc.freeze()
    config = uvicorn_config(app, host=args.host, port=args.port, log_level=args.log_level)
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
