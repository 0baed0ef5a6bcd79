"""One version everywhere: the programs the tests run are the images the compose file pins,
and the collector the tests build holds exactly the components stackgen renders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stackgen.conventions import COMPOSE_FILE, JAEGER_CONFIG_PATH, OTEL_COLLECTOR_CONFIG_PATH
from stackgen.tools import tiny_model
from tests.conftest import GENERATED, REPO_ROOT, run_tool, tool_path

# The program, the argument that prints its version, and the image it must equal.
TOOL_IMAGES = (
    ("prometheus", "--version", "prom/prometheus"),
    ("promtool", "--version", "prom/prometheus"),
    ("alertmanager", "--version", "prom/alertmanager"),
    ("amtool", "--version", "prom/alertmanager"),
    ("otelcol", "--version", "otel/opentelemetry-collector-contrib"),
    ("jaeger", "version", "jaegertracing/jaeger"),
    ("node_exporter", "--version", "prom/node-exporter"),
)
# prometheus/common prints "NAME, version X.Y.Z (...)"; otelcol "otelcol version X.Y.Z";
# jaeger a JSON line with "gitVersion":"vX.Y.Z".
_VERSION = re.compile(r'version[ ":]+v?(\d+\.\d+\.\d+)', re.IGNORECASE)
# Jaeger v1 (all-in-one) and Prometheus 2 are end-of-life release lines.
END_OF_LIFE = (re.compile(r"^jaegertracing/all-in-one:"), re.compile(r"^prom/prometheus:v2\."))


def _compose_images() -> dict[str, str]:
    document = yaml.safe_load((GENERATED / COMPOSE_FILE).read_text())
    images = [s["image"] for s in document["services"].values() if "image" in s]
    return dict(image.rsplit(":", 1) for image in images)


def _version(name: str, argument: str) -> str:
    result = run_tool(tool_path(name), argument)
    assert result.returncode == 0, result.stdout + result.stderr
    found = _VERSION.search(result.stdout + result.stderr)
    assert found, f"{name} {argument} printed no version: {result.stdout + result.stderr}"
    return found[1]


@pytest.mark.parametrize(
    ("name", "argument", "image"), TOOL_IMAGES, ids=[t[0] for t in TOOL_IMAGES]
)
def test_built_tool_is_the_pinned_image(name: str, argument: str, image: str) -> None:
    images = _compose_images()
    assert image in images, f"the compose file runs no {image} image"
    assert _version(name, argument) == images[image].removeprefix("v")


def test_no_image_of_an_end_of_life_line() -> None:
    for image, tag in _compose_images().items():
        for pattern in END_OF_LIFE:
            assert not pattern.match(f"{image}:{tag}"), f"{image}:{tag} is end-of-life"


def _rendered_components() -> dict[str, set[str]]:
    config = yaml.safe_load((GENERATED / OTEL_COLLECTOR_CONFIG_PATH).read_text())
    return {
        kind: {name.split("/", 1)[0] for name in config.get(kind, {})}
        for kind in ("receivers", "processors", "exporters", "extensions")
    }


def _built_components() -> dict[str, set[str]]:
    result = run_tool(tool_path("otelcol"), "components")
    assert result.returncode == 0, result.stderr
    listed: dict[str, Any] = yaml.safe_load(result.stdout)
    return {
        kind: {entry["name"] for entry in listed.get(kind) or []}
        for kind in ("receivers", "processors", "exporters", "extensions")
    }


def test_collector_holds_exactly_the_rendered_components() -> None:
    assert _built_components() == _rendered_components()


def test_collector_validates_the_generated_config() -> None:
    result = run_tool(
        tool_path("otelcol"), "validate", f"--config={GENERATED / OTEL_COLLECTOR_CONFIG_PATH}"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_collector_rejects_what_it_cannot_run(tmp_path: Any) -> None:
    # The validation is real: a component the build lacks fails it.
    config = yaml.safe_load((GENERATED / OTEL_COLLECTOR_CONFIG_PATH).read_text())
    config["exporters"]["logging"] = {}
    config["service"]["pipelines"]["traces"]["exporters"].append("logging")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_tool(tool_path("otelcol"), "validate", f"--config={path}")
    assert result.returncode != 0
    assert "logging" in result.stdout + result.stderr


def test_jaeger_validates_the_generated_config() -> None:
    result = run_tool(tool_path("jaeger"), "validate", f"--config={GENERATED / JAEGER_CONFIG_PATH}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_jaeger_rejects_what_it_cannot_run(tmp_path: Any) -> None:
    # Jaeger v2 is a collector distribution without the `resource` processor.
    config = yaml.safe_load((GENERATED / JAEGER_CONFIG_PATH).read_text())
    config["processors"]["resource"] = {"attributes": []}
    config["service"]["pipelines"]["traces"]["processors"].insert(0, "resource")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_tool(tool_path("jaeger"), "validate", f"--config={path}")
    assert result.returncode != 0
    assert "resource" in result.stdout + result.stderr


def test_builder_manifest_pins_one_collector_release() -> None:
    manifest = yaml.safe_load((REPO_ROOT / "tools/otelcol/builder-config.yaml").read_text())
    modules = [
        entry["gomod"]
        for kind in ("receivers", "processors", "exporters", "extensions")
        for entry in manifest[kind]
    ]
    # Core components share one v0.x release, contrib ones their release or its patch.
    releases = {re.sub(r"^v0\.(\d+)\.\d+$", r"\1", m.split()[1]) for m in modules}
    assert len(releases) == 1, modules


def test_the_tiny_model_is_written_the_same_every_time(tmp_path: Path) -> None:
    """The model llama-server serves in the tests is made here, never downloaded: the
    script writes the same bytes as the cached copy."""
    cached = tiny_model()
    fresh = tmp_path / "tiny.gguf"
    script = REPO_ROOT / "tools" / "llm" / "make_tiny_model.py"
    result = subprocess.run(
        [sys.executable, str(script), str(fresh)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert fresh.read_bytes() == cached.read_bytes()
    assert fresh.read_bytes()[:4] == b"GGUF"


def test_llama_server_is_built_cpu_only_from_the_pinned_sources() -> None:
    result = run_tool(tool_path("llama-server"), "--version")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built with" in result.stderr + result.stdout
    versions = (REPO_ROOT / "tools" / "versions.env").read_text()
    assert "LLAMA_CPP_PYTHON_SHA256=" in versions
    # No GPU backend and no network model downloads in the binary the tests run.
    listed = run_tool(tool_path("llama-server"), "--list-devices")
    devices = (listed.stdout + listed.stderr).split("Available devices:", 1)[1].split()
    assert devices == ["(none)"], devices
