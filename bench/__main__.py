"""``python -m bench`` (``make bench``): every benchmark, figures on stdout."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
from datetime import UTC, datetime

from bench import cli, ingest, overhead, retention, scaling, shutdown
from bench.common import load_average


def _machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo", encoding="utf-8")
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    )


def _postgres() -> str:
    try:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _overhead(scale: int) -> None:
    overhead.measure(
        "realistic paced model (first token 300 ms, then 30 ms a token, ~33 tokens/s)",
        0.3,
        0.03,
        rounds=12 if scale else 2,
        concurrency=8,
        per_worker=2,
    )
    overhead.measure(
        "fast scripted model (the service's default pace: 50 ms, then 10 ms a token)",
        0.05,
        0.01,
        rounds=12 if scale else 2,
        concurrency=8,
        per_worker=3,
    )
    overhead.measure(
        "instant model (no LLM time: the worst case for relative overhead)",
        0.0,
        0.0,
        rounds=12 if scale else 2,
        concurrency=8,
        per_worker=10 if scale else 5,
    )


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer requests and rows")
    parser.add_argument(
        "--skip-shutdown", action="store_true", help="skip the SDK shutdown (~10 s)"
    )
    parser.add_argument(
        "--ingest-only",
        type=int,
        metavar="RUNS",
        help="only the audit ingest (writer and COPY floor), RUNS alternating rounds a side",
    )
    parser.add_argument(
        "--overhead-only", action="store_true", help="only telemetry on vs off (~5 min)"
    )
    parser.add_argument(
        "--retention-only", action="store_true", help="only the audit retention's purge"
    )
    parser.add_argument(
        "--scaling-only",
        action="store_true",
        help="only the spec scaling (BestBox x1/x5/x20: promtool, render, check)",
    )
    args = parser.parse_args()
    # SIGTERM ends the run like Ctrl-C does: through every ``finally``, so the scratch
    # databases and the services started are dropped and stopped.
    signal.signal(signal.SIGTERM, _terminate)
    scale = 1 if not args.quick else 0
    print(f"# stackgen benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"   machine: {_machine()}; PostgreSQL {_postgres()}")
    print(f"   load average (1/5/15 min) at start: {load_average()}")
    if args.overhead_only:
        _overhead(scale)
        print(f"\n   load average (1/5/15 min) at end: {load_average()}")
        return
    if args.scaling_only:
        scaling.measure()
        print(f"\n   load average (1/5/15 min) at end: {load_average()}")
        return
    if args.retention_only:
        retention.measure()
        print(f"\n   load average (1/5/15 min) at end: {load_average()}")
        return
    if args.ingest_only:
        ingest.measure(100_000 if scale else 10_000, rounds=args.ingest_only)
        print(f"\n   load average (1/5/15 min) at end: {load_average()}")
        return
    _overhead(scale)
    ingest.measure(100_000 if scale else 10_000, rounds=3 if scale else 1)
    retention.measure((10_000, 100_000, 1_000_000) if scale else (1_000, 10_000, 100_000))
    cli.measure(3 if scale else 1)
    scaling.measure(scaling.SCALES if scale else (1, 5))
    if not args.skip_shutdown:
        shutdown.measure()
    print(f"\n   load average (1/5/15 min) at end: {load_average()}")


if __name__ == "__main__":
    main()
