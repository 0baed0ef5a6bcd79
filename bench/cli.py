"""Wall time of ``stackgen generate`` (into a scratch directory) and ``stackgen check``,
as a user runs them (a new process each, imports included): median of 3."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STACKGEN = Path(sys.executable).parent / "stackgen"


def _timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(STACKGEN), *args], check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def measure(repeats: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-") as out:
        generate = [_timed(["generate", "--out", out]) for _ in range(repeats)]
    check = [_timed(["check"]) for _ in range(repeats)]
    figures = {"generate_s": statistics.median(generate), "check_s": statistics.median(check)}
    print(f"\n## stackgen wall time (median of {repeats}, new process each)")
    print(f"   stackgen generate: {figures['generate_s']:.2f} s")
    print(f"   stackgen check:    {figures['check_s']:.2f} s")
    return figures
