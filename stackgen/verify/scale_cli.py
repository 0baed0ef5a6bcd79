"""The ``stackgen verify-scale`` subcommand: its arguments and its exit code."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Callable
from typing import Any

from stackgen.spec import Stack
from stackgen.verify.live import DEFAULT_ADMIN_DSN
from stackgen.verify.scale import TRAFFIC_S, ScaleOptions, run_verify_scale, scale_scenarios
from stackgen.verify.scale_report import format_scale_report

__all__ = ["add_verify_scale_parser", "verify_scale"]

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def add_verify_scale_parser(
    commands: Any, common: Callable[[argparse.ArgumentParser], None]
) -> None:
    parser = commands.add_parser(
        "verify-scale",
        help="prove the stack past one machine: replicas, HA pairs and a clustered store",
        description="Start the stack's scale-out on 127.0.0.1 (Stack.scale_out): the "
        "service's replicas under traffic, the Prometheus replicas with distinct replica "
        "labels, the Alertmanagers clustered over gossip and a Thanos store both "
        "Prometheus write to. Compares every expression on each replica and the store, "
        "the aggregates with the replicas' /metrics, counts each at_scale fault's alert "
        "notifications through a Prometheus and an Alertmanager kill, and restarts a "
        "storage node. "
        "Needs scripts/build-tools.sh's programs and a PostgreSQL.",
        epilog="Exit codes: 0 everything proven; 1 failures; 2 invalid spec or missing "
        "environment.",
    )
    common(parser)
    parser.add_argument(
        "--scenarios",
        default="",
        metavar="NAME,...",
        help="fault scenarios of the stack's verify.scenarios marked at_scale, run one after "
        "another in the order given (default: every at_scale scenario, in the spec's order)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_ADMIN_DSN,
        metavar="DSN",
        help=f"a PostgreSQL admin DSN (default {DEFAULT_ADMIN_DSN})",
    )
    parser.add_argument(
        "--traffic-seconds",
        type=float,
        default=TRAFFIC_S,
        metavar="S",
        help=f"traffic before the expressions are compared (default {TRAFFIC_S:g})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs)")


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def verify_scale(stack: Stack, args: argparse.Namespace) -> int:
    if stack.scale_out is None or stack.verify is None:
        print(
            f"stackgen verify-scale: the {stack.name} stack has no scale_out and verify "
            "settings (Stack.scale_out, Stack.verify)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    at_scale = {s.name: s for s in scale_scenarios(stack)}
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()] or list(at_scale)
    if not names or any(n not in at_scale for n in names):
        print(
            f"stackgen verify-scale: --scenarios: {args.scenarios!r}; the stack's at_scale "
            f"scenarios: {', '.join(at_scale) or 'none (set FaultScenario.at_scale)'}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    options = ScaleOptions(
        scenarios=[at_scale[n] for n in names],
        admin_dsn=args.database_url,
        agent_argv=shlex.split(args.agent_command)
        if getattr(args, "agent_command", None)
        else None,
        traffic_s=args.traffic_seconds,
        keep_dir=args.keep,
    )
    # A plain SIGTERM would end Python without cleanup and leave the programs running
    # in their own process groups: unwind instead.
    signal.signal(signal.SIGTERM, _terminate)
    report = run_verify_scale(stack, stack.scale_out, options)
    print(format_scale_report(report), end="")
    if report.environment_error:
        return EXIT_INVALID
    return EXIT_OK if report.passed else EXIT_FAILED
