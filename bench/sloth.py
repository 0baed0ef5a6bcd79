"""Rule generation per SLO, stackgen against Sloth, in one run over the same specs.

``python -m bench.sloth [CORPUS]`` builds Sloth from its Go module on demand
(scripts/build-sloth.sh, cached by version), copies the Sloth examples stackgen imports
and Sloth generates without plugins into a scratch directory, and times, median of 5:

- Sloth: ``sloth generate -i DIR -o OUT`` (one process over the directory);
- stackgen: one process (``python -m bench.sloth --generate DIR OUT``) that imports each
  spec, builds its rules with the rules model and writes the rule file;
- stackgen in process (interpreter start and imports excluded).

Each divided by the number of SLOs; the ratio is stackgen's over Sloth's.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from stackgen.importers import import_file
from stackgen.importers.side_by_side import imported_stack
from stackgen.rules_model import build_rules

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
REPEATS = 5


def spec_format(path: Path) -> str:
    return "openslo" if "apiVersion: openslo/" in path.read_text() else "sloth"


def generate(specs: Path, out: Path) -> int:
    """stackgen's side: every spec imported, its rules built and written; the SLO count."""
    count = 0
    out.mkdir(parents=True, exist_ok=True)
    for spec in sorted(specs.iterdir()):
        result = import_file(spec_format(spec), spec)
        rules = build_rules(imported_stack(result.slos))
        documents = [rule_file.document() for rule_file in rules.rule_files]
        (out / spec.name).write_text(yaml.safe_dump_all(documents, sort_keys=False))
        count += len(result.slos)
    return count


def _supported(corpus: Path, into: Path) -> int:
    """Copy the examples both tools generate from (no plugins, nothing skipped)."""
    count = 0
    for spec in sorted((corpus / "sloth" / "specs").iterdir()):
        result = import_file(spec_format(spec), spec)
        if result.slos and not result.skipped and "plugin" not in spec.name:
            shutil.copy(spec, into / spec.name)
            count += len(result.slos)
    return count


def _timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - started


def measure(corpus: Path = CORPUS) -> dict[str, float]:
    sloth = subprocess.run(
        ["bash", str(REPO / "scripts" / "build-sloth.sh")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-sloth-") as scratch:
        specs, out = Path(scratch) / "specs", Path(scratch) / "out"
        specs.mkdir()
        slos = _supported(corpus, specs)
        files = len(list(specs.iterdir()))
        (out / "sloth").mkdir(parents=True)
        sloth_s = statistics.median(
            _timed([sloth, "generate", "--no-log", "-i", str(specs), "-o", str(out / "sloth")])
            for _ in range(REPEATS)
        )
        process_s = statistics.median(
            _timed([sys.executable, "-m", "bench.sloth", "--generate", str(specs), str(out / "sg")])
            for _ in range(REPEATS)
        )
        in_process = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            generate(specs, out / "in-process")
            in_process.append(time.perf_counter() - started)
        in_process_s = statistics.median(in_process)
    figures = {
        "slos": float(slos),
        "sloth_ms_per_slo": 1000 * sloth_s / slos,
        "stackgen_ms_per_slo": 1000 * process_s / slos,
        "stackgen_in_process_ms_per_slo": 1000 * in_process_s / slos,
    }
    figures["ratio"] = figures["stackgen_ms_per_slo"] / figures["sloth_ms_per_slo"]
    figures["ratio_in_process"] = (
        figures["stackgen_in_process_ms_per_slo"] / figures["sloth_ms_per_slo"]
    )
    print(f"## rule generation per SLO ({slos} SLOs of {files} specs, median of {REPEATS})")
    print(f"   sloth generate (one process):    {figures['sloth_ms_per_slo']:.1f} ms/SLO")
    print(f"   stackgen (one process):          {figures['stackgen_ms_per_slo']:.1f} ms/SLO")
    in_process_ms = figures["stackgen_in_process_ms_per_slo"]
    print(f"   stackgen (in process):           {in_process_ms:.2f} ms/SLO")
    print(
        f"   ratio stackgen/sloth: {figures['ratio']:.2f} "
        f"(in process {figures['ratio_in_process']:.3f})"
    )
    return figures


def main(argv: list[str]) -> int:
    if argv[:1] == ["--generate"]:
        generate(Path(argv[1]), Path(argv[2]))
        return 0
    measure(Path(argv[0]) if argv else CORPUS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
