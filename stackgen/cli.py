"""The stackgen command line: a thin layer over the library.

Exit codes: 0 success; 1 findings at error level, or generated/ out of date;
2 the spec (or a command-line argument) is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stackgen import __version__
from stackgen.check import check_dashboard_file, check_rule_file, check_stack
from stackgen.check.live import check_live
from stackgen.check.rule_files import rule_paths
from stackgen.conventions import COMPOSE_FILE
from stackgen.findings import Finding, format_finding, has_errors
from stackgen.importers import IMPORTERS, SpecImportError, import_file, python_module
from stackgen.load import DEFAULT_OUTPUT, LoadError, ProjectSettings, find_settings, load_stack
from stackgen.operate import (
    Action,
    ComposeTarget,
    OperateError,
    compose_command,
    execute,
    format_command,
)
from stackgen.output import DriftKind, diff_tree, write_tree
from stackgen.render import render_all
from stackgen.render.compose import env_file_variables
from stackgen.render.local_profile import (
    DEFAULT_WEBHOOK_URL,
    LocalProfile,
    ProfileError,
    localize,
    profile_ports,
    render_local,
)
from stackgen.scaffold import InitError, Project, write_project
from stackgen.secrets import (
    SecretsError,
    secrets_mount_source,
    secrets_owner,
    token_files,
    write_secrets,
)
from stackgen.spec import FaultScenario, Stack, duration_seconds
from stackgen.verify.live import DEFAULT_ADMIN_DSN
from stackgen.verify.report import format_report
from stackgen.verify.run import TRAFFIC_S, VerifyOptions, run_verify
from stackgen.verify.scale_cli import add_verify_scale_parser, verify_scale
from stackgen.verify.scenarios import scenarios_of

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


def _log(message: str) -> None:
    print(message, file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackgen",
        description=(
            "Generate a monitoring stack's configuration (Prometheus, Alertmanager, "
            "Grafana, compose...) from its Python specs, and check that every query "
            "matches the metrics the services emit. Start one with `stackgen init NAME`."
        ),
        epilog="Exit codes: 0 ok; 1 error findings or stale generated files; 2 invalid spec.",
    )
    parser.add_argument("--version", action="version", version=f"stackgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--spec",
            metavar="MODULE:ATTR",
            help="the Stack to load (default: [tool.stackgen].spec in pyproject.toml); "
            "a path to a .py file also works: path/to/spec.py:stack",
        )

    generate = commands.add_parser(
        "generate",
        help="write every generated file",
        description="Render the stack's files into the output directory (default: "
        "[tool.stackgen].output). Refuses to write when static checks find errors.",
    )
    common(generate)
    generate.add_argument("--out", type=Path, metavar="DIR", help="output directory")
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the files that differ from the specs",
    )
    # -- local profile --
    generate.add_argument(
        "--profile",
        choices=("production", "local"),
        default="production",
        help="local: prometheus.yml, rules and alertmanager.yml for processes on "
        "127.0.0.1 (needs --out; see docs/operating.md, 'Local profile')",
    )
    generate.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="SERVICE=PORT",
        help="with --profile local: a service's port on 127.0.0.1 (repeatable; on top "
        "of the stack's local_ports)",
    )
    generate.add_argument(
        "--webhook-url",
        metavar="URL",
        help="with --profile local: where every Alertmanager receiver posts "
        "(default http://127.0.0.1:15001)",
    )
    generate.add_argument(
        "--secrets-dir",
        metavar="DIR",
        help="with --profile local: where the local Alertmanager reads its webhook token "
        "files (default: the production /etc/alertmanager/secrets)",
    )

    check = commands.add_parser(
        "check",
        help="report consistency findings",
        description="Check the stack's expressions, catalog and scrape jobs; with --rules "
        "or --dashboard, also lint those files against the metric catalog.",
    )
    common(check)
    check.add_argument(
        "--rules",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="Prometheus rules to lint: a rule file (plain, PrometheusRule, multi-document) "
        "or a directory of them (repeatable)",
    )
    check.add_argument(
        "--dashboard",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="Grafana dashboards to lint: a JSON file, a YAML file of ConfigMaps, or a "
        "provisioning directory (repeatable)",
    )
    check.add_argument(
        "--no-catalog",
        action="store_true",
        help="lint --rules/--dashboard files on their own, without loading a stack: every "
        "structural check runs on types inferred from names and use; unknown names are "
        "not findings (the default outside a stackgen project)",
    )
    check.add_argument(
        "--scrape-interval",
        metavar="DURATION",
        help="with --rules/--dashboard: the interval the files' series are scraped at, for "
        "the range-window check (default: the stack's; without one, 15s)",
    )
    check.add_argument(
        "--live",
        metavar="URL",
        help="also scrape a running service's /metrics (e.g. http://127.0.0.1:8000/metrics) "
        "and compare it with the catalog",
    )
    check.add_argument(
        "--live-service",
        metavar="NAME",
        help="the catalog service the live URL belongs to (default: the stack's verify.service)",
    )
    check.add_argument("--json", action="store_true", help="print findings as JSON on stdout")
    _operator_commands(commands, common)
    _add_verify_parser(commands, common)
    add_verify_scale_parser(commands, common)
    _add_init_parser(commands)
    _add_import_parser(commands)
    return parser


def _add_init_parser(commands: Any) -> None:
    init = commands.add_parser(
        "init",
        help="create a new project with a minimal working stack",
        description="Write a new project: pyproject.toml with a [tool.stackgen] section and "
        "a spec package <NAME>_stack/ holding one service (<NAME>-api) with three metrics, "
        "an alert with its fault test, an SLO, a dashboard and their runbooks. Then, in "
        "its directory: stackgen generate && stackgen check.",
        epilog="Example: stackgen init payments --dir ~/src/payments-monitoring",
    )
    init.add_argument(
        "name",
        metavar="NAME",
        help="the stack's name: lower-case words joined by '-' (payments, order-api)",
    )
    init.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="where to create the project (default ./NAME); it must not exist or be empty",
    )


def _init(args: argparse.Namespace) -> int:
    try:
        project = Project.named(args.name)
        directory: Path = args.dir or Path(args.name)
        written = write_project(directory, project)
    except (InitError, OSError) as error:
        _log(f"stackgen init: {error}")
        return EXIT_INVALID
    for path in written:
        _log(f"created {path}")
    _log(
        f"stackgen: the {project.name} stack is in {directory}; next: cd {directory} && "
        "stackgen generate && stackgen check"
    )
    return EXIT_OK


def _add_import_parser(commands: Any) -> None:
    importer = commands.add_parser(
        "import",
        help="turn Sloth or OpenSLO SLO specs into stackgen SLO specs (Python)",
        description="Read a Sloth (prometheus/v1, Kubernetes PrometheusServiceLevel) or "
        "OpenSLO (openslo/v1alpha, openslo/v1) file and write its SLOs as a Python module of "
        "stackgen specs (stdout, or --out). Every field that has no stackgen equivalent and "
        "every SLO that cannot be imported is listed on stderr and in the module's docstring.",
        epilog="Exit codes: 0 every SLO imported; 1 some SLOs could not be; 2 not such a spec.",
    )
    importer.add_argument("format", choices=sorted(IMPORTERS), help="the spec's format")
    importer.add_argument("file", type=Path, metavar="FILE", help="the spec file")
    importer.add_argument("--out", type=Path, metavar="PATH", help="write the module there")


def _operator_commands(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """secrets, apply, down, status: what an operator runs on the generated stack."""
    secrets = commands.add_parser(
        "secrets",
        help="write the env file with random passwords",
        description="Write the env file (default: [Compose].env_file at the repository "
        "root, .env) with a random value for every secret the compose file reads, mode "
        "0600, and Alertmanager's webhook token files (the same values) in the directory "
        "compose mounts into Alertmanager. An existing file is never overwritten.",
    )
    common(secrets)
    secrets.add_argument("--env-file", type=Path, metavar="PATH", help="where to write it")
    secrets.add_argument(
        "--alertmanager-secrets",
        type=Path,
        metavar="DIR",
        help="where to write Alertmanager's token files (default: the compose mount's "
        "source, taken from the env file's directory: secrets/alertmanager)",
    )
    secrets.add_argument(
        "--add-missing",
        action="store_true",
        help="the file exists: append only the variables it lacks, keep the others",
    )
    for action, text in (
        (Action.APPLY, "start or update the stack (docker compose up --detach --build --wait)"),
        (Action.DOWN, "stop the stack (docker compose down; volumes are kept)"),
        (Action.STATUS, "list the stack's containers (docker compose ps --all)"),
    ):
        sub = commands.add_parser(action.value, help=text, description=text + ".")
        common(sub)
        sub.add_argument("--out", type=Path, metavar="DIR", help="the generated directory")
        sub.add_argument("--env-file", type=Path, metavar="PATH", help="the env file")
        sub.add_argument(
            "--dry-run", action="store_true", help="print the exact command; run nothing"
        )


# -- stackgen verify -------------------------------------------------------------------


def _add_verify_parser(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    verify = commands.add_parser(
        "verify",
        help="prove the stack live: real Prometheus, Alertmanager and agent service",
        description="Start the agent service, Prometheus and Alertmanager on 127.0.0.1 "
        "with the local profile, drive traffic, evaluate every dashboard and rule "
        "expression, and run the fault scenarios (each on its own stack, concurrently). "
        "Needs the stack's programs built by scripts/build-tools.sh (.tools/bin) and a "
        "PostgreSQL (scripts/ensure-test-tools.sh sets up both).",
        epilog="Exit codes: 0 everything proven; 1 failures; 2 invalid spec or missing "
        "environment.",
    )
    common(verify)
    verify.add_argument(
        "--scenarios",
        default="all",
        metavar="all|quick|none|NAME,...",
        help="fault scenarios to run, of the stack's verify.scenarios (quick: those marked quick)",
    )
    verify.add_argument("--no-expressions", action="store_true", help="skip the expression table")
    verify.add_argument(
        "--agent-command",
        metavar="CMD",
        help="run this command as the agent service instead of `agent-service serve` "
        "(it must read AGENT_HOST, AGENT_PORT and DATABASE_URL; for service variants)",
    )
    verify.add_argument(
        "--database-url",
        default=DEFAULT_ADMIN_DSN,
        metavar="DSN",
        help="a PostgreSQL admin DSN; each stack gets a fresh database, dropped after "
        f"(default {DEFAULT_ADMIN_DSN})",
    )
    verify.add_argument(
        "--traffic-seconds",
        type=float,
        default=TRAFFIC_S,
        metavar="S",
        help=f"traffic before the expressions are evaluated (default {TRAFFIC_S:g})",
    )
    verify.add_argument(
        "--keep", action="store_true", help="keep the stacks' temp directories (logs, configs)"
    )


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _pick_scenarios(stack: Stack, choice: str) -> list[FaultScenario] | None:
    scenarios = scenarios_of(stack)
    if choice == "all":
        return list(scenarios)
    if choice == "quick":
        return [s for s in scenarios if s.quick]
    if choice == "none":
        return []
    by_name = {s.name: s for s in scenarios}
    names = [n.strip() for n in choice.split(",") if n.strip()]
    if not names or any(n not in by_name for n in names):
        return None
    return [by_name[n] for n in names]


def _verify(args: argparse.Namespace) -> int:
    stack, _ = _load(args.spec)
    if stack.verify is None:
        _log(f"stackgen verify: the {stack.name} stack has no verify settings (Stack.verify)")
        return EXIT_INVALID
    scenarios = _pick_scenarios(stack, args.scenarios)
    if scenarios is None:
        names = ", ".join(s.name for s in scenarios_of(stack)) or "none"
        _log(f"stackgen verify: --scenarios: unknown {args.scenarios!r} (the stack's: {names})")
        return EXIT_INVALID
    options = VerifyOptions(
        scenarios=scenarios,
        expressions=not args.no_expressions,
        admin_dsn=args.database_url,
        agent_argv=shlex.split(args.agent_command) if args.agent_command else None,
        traffic_s=args.traffic_seconds,
        keep_dirs=args.keep,
    )
    # A plain SIGTERM (e.g. from `timeout`) would end Python without cleanup and leave
    # the stacks' processes running in their own process groups: unwind instead.
    signal.signal(signal.SIGTERM, _terminate)
    report = run_verify(stack, options)
    print(format_report(report), end="")
    if report.environment_error:
        return EXIT_INVALID
    return EXIT_OK if report.passed else EXIT_FINDINGS


def _local_profile(args: argparse.Namespace, stack: Stack) -> LocalProfile | None:
    overrides = {}
    for item in args.port:
        name, _, port = item.partition("=")
        if not port.isdigit():
            _log(f"stackgen generate: --port {item!r}: expected SERVICE=PORT")
            return None
        overrides[name] = int(port)
    return LocalProfile(
        ports=profile_ports(stack, overrides),
        webhook_url=args.webhook_url or DEFAULT_WEBHOOK_URL,
        secrets_dir=str(Path(args.secrets_dir).absolute()) if args.secrets_dir else None,
    )


def _generate_local(args: argparse.Namespace, stack: Stack) -> int:
    if args.out is None or args.check:
        _log("stackgen generate: --profile local needs --out DIR and does not take --check")
        return EXIT_INVALID
    profile = _local_profile(args, stack)
    if profile is None:
        return EXIT_INVALID
    try:
        files = render_local(stack, profile)
        omitted = localize(stack, profile).omitted
    except ProfileError as error:
        _log(f"stackgen generate: {error}")
        return EXIT_INVALID
    write_tree(args.out, files)
    for name, why in omitted.items():
        _log(f"not scraped in the local profile: {name}: {why}")
    _log(f"stackgen: local profile: {len(files)} files in {args.out}")
    return EXIT_OK


def _settings(spec: str | None) -> ProjectSettings:
    """The project's settings; with an explicit --spec, the current directory stands in
    for a project without a pyproject (output: ./generated)."""
    try:
        return find_settings(Path.cwd())
    except LoadError:
        if spec is None:
            raise
        return ProjectSettings(Path.cwd(), spec, Path.cwd() / DEFAULT_OUTPUT)


def _load(spec: str | None) -> tuple[Stack, Path]:
    settings = _settings(spec)
    if spec is not None:
        target, _, attribute = spec.rpartition(":")
        if target.endswith(".py"):
            # A path given on the command line is relative to where it was typed.
            spec = f"{Path(target).resolve()}:{attribute}"
    return load_stack(spec or settings.spec, settings.root), settings.output


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        _log(format_finding(finding))
    errors = sum(1 for f in findings if f.level == "error")
    _log(f"{len(findings)} finding(s), {errors} error(s)")


def _generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    stack, default_out = _load(args.spec)
    out: Path = args.out or default_out
    if args.profile == "local":
        return _generate_local(args, stack)
    files = render_all(stack)
    findings = check_stack(stack, files)
    if has_errors(findings):
        _print_findings(findings)
        _log("stackgen: not writing: fix the error findings above")
        return EXIT_FINDINGS
    if args.check:
        drifts = diff_tree(out, files)
        for drift in drifts:
            print(f"{drift.kind}: {out / drift.path}")
        if drifts:
            _log(
                f"stackgen: {len(drifts)} generated file(s) differ from the specs: "
                "run `make generate`"
            )
            return EXIT_FINDINGS
        _log(f"stackgen: {len(files)} generated files match the specs")
        return EXIT_OK
    drifts = write_tree(out, files)
    for drift in drifts:
        verb = {DriftKind.MISSING: "created", DriftKind.CHANGED: "updated"}.get(
            drift.kind, "removed"
        )
        _log(f"{verb} {out / drift.path}")
    elapsed = time.perf_counter() - started
    _log(f"stackgen: {len(files)} files in {out}, {len(drifts)} changed ({elapsed:.2f}s)")
    return EXIT_OK


def _check_stack_or_none(args: argparse.Namespace) -> Stack | None:
    """The stack to judge files against: none with --no-catalog, nor outside a project
    when only external files are checked (there is no catalog to ask)."""
    external = bool(args.rules or args.dashboard)
    if args.no_catalog:
        return None
    if external and args.spec is None:
        try:
            find_settings(Path.cwd())
        except LoadError:
            _log("stackgen check: no stackgen project here: checking the files on their own")
            return None
    stack, _ = _load(args.spec)
    return stack


def _check(args: argparse.Namespace) -> int:
    if args.no_catalog and not (args.rules or args.dashboard):
        _log("stackgen check: --no-catalog needs --rules or --dashboard files")
        return EXIT_INVALID
    if args.no_catalog and args.live:
        _log("stackgen check: --live compares with the catalog: it does not take --no-catalog")
        return EXIT_INVALID
    interval: float | None = None
    if args.scrape_interval is not None:
        try:
            interval = duration_seconds(args.scrape_interval)
        except ValueError:
            _log(f"stackgen check: --scrape-interval {args.scrape_interval!r}: not a duration")
            return EXIT_INVALID
    stack = _check_stack_or_none(args)
    findings = check_stack(stack) if stack is not None else []
    for path in [p for given in args.rules for p in rule_paths(given)]:
        findings += check_rule_file(stack, path, scrape_interval_s=interval)
    for path in args.dashboard:
        findings += check_dashboard_file(stack, path, scrape_interval_s=interval)
    if args.live and stack is not None:
        service = args.live_service or (stack.verify.service if stack.verify else None)
        if service is None:
            _log("stackgen check: --live needs --live-service (the stack has no verify.service)")
            return EXIT_INVALID
        findings += check_live(stack, args.live, service=service)
    if args.json:
        print(json.dumps([asdict(f) for f in findings], indent=2))
    _print_findings(findings)
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK


def _env_file(args: argparse.Namespace, stack: Stack) -> Path:
    if args.env_file:
        return Path(args.env_file)
    name = stack.compose.env_file if stack.compose else ".env"
    return _settings(args.spec).root / name


def _token_dir(args: argparse.Namespace, stack: Stack, env_file: Path) -> Path | None:
    """Alertmanager's secrets directory on the host: the compose mount's source (relative
    to the generated directory) seen from the directory of the env file (the repository
    root by default)."""
    if args.alertmanager_secrets:
        return Path(args.alertmanager_secrets)
    source = secrets_mount_source(stack)
    if source is None:
        return None
    settings = _settings(args.spec)
    from_root = os.path.normpath(settings.output.relative_to(settings.root) / source)
    return env_file.parent / from_root


def _secrets(args: argparse.Namespace) -> int:
    stack, _ = _load(args.spec)
    variables = env_file_variables(stack)
    if not variables:
        _log("stackgen: the stack has no compose deployment: no secrets to write")
        return EXIT_INVALID
    path = _env_file(args, stack)
    tokens = token_files(stack)
    token_dir = _token_dir(args, stack, path) if tokens else None
    if tokens and token_dir is None:
        _log(
            "stackgen: Alertmanager reads webhook tokens but compose mounts no secrets "
            "directory into it: pass --alertmanager-secrets DIR"
        )
        return EXIT_INVALID
    try:
        written = write_secrets(
            path,
            variables,
            add_missing=args.add_missing,
            token_dir=token_dir,
            tokens=tokens,
            token_owner=secrets_owner(stack),
        )
    except (SecretsError, OSError) as error:
        _log(f"stackgen: {error}")
        return EXIT_INVALID
    added = ", ".join(written.added) or "nothing"
    _log(f"stackgen: {path} (mode 0600): added {added}; kept {len(written.kept)}")
    if token_dir is not None:
        files = ", ".join(written.files_added) or "nothing"
        _log(f"stackgen: {token_dir} (mode 0600): added {files}; kept {len(written.files_kept)}")
    if written.owner_problem:
        _log(f"stackgen: warning: {written.owner_problem}")
    return EXIT_OK


def _operate(args: argparse.Namespace) -> int:
    stack, default_out = _load(args.spec)
    if stack.compose is None:
        _log("stackgen: the stack has no compose deployment")
        return EXIT_INVALID
    out: Path = args.out or default_out
    target = ComposeTarget(out / COMPOSE_FILE, _env_file(args, stack), stack.compose.project)
    action = Action(args.command)
    if args.dry_run:
        print(format_command(compose_command(target, action)))
        return EXIT_OK
    try:
        execute(target, action)
    except OperateError as error:
        _log(f"stackgen {action}: {error}")
        return EXIT_INVALID
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    try:
        result = import_file(args.format, args.file)
    except SpecImportError as error:
        _log(f"stackgen import: {error}")
        return EXIT_INVALID
    module = python_module(result)
    if args.out is not None:
        args.out.write_text(module)
    else:
        print(module, end="")
    for item in result.unsupported:
        _log(f"unsupported: {item}")
    for item in result.skipped:
        _log(f"skipped: {item}")
    where = f" into {args.out}" if args.out is not None else ""
    _log(
        f"stackgen import: {len(result.slos)} SLO(s){where}, {len(result.skipped)} not imported, "
        f"{len(result.unsupported)} unsupported field(s)"
    )
    return EXIT_FINDINGS if result.skipped else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "init":
        return _init(args)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "secrets":
            return _secrets(args)
        if args.command in set(Action):
            return _operate(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "import":
            return _import(args)
        if args.command == "verify-scale":
            return verify_scale(_load(args.spec)[0], args)
        return _check(args)
    except LoadError as error:
        for problem in error.problems:
            _log(f"error: {problem}")
        _log("stackgen: the spec is invalid; nothing was written")
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
