"""One live stack on 127.0.0.1: the agent service (its own fresh PostgreSQL database),
Prometheus and Alertmanager with the local profile, the webhook they alert to, and the
OpenTelemetry collector and Jaeger the service's traces go through. Alertmanager also
delivers to the agent's own webhook, with a token of the run (its file in the run's
directory, the same value in the agent's environment).

Everything it starts is stopped by PID (process groups) and the database dropped on
exit, also when the run fails or is interrupted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

import asyncpg
import httpx

from stackgen.conventions import JAEGER_CONFIG_PATH, OTEL_COLLECTOR_CONFIG_PATH
from stackgen.render.jaeger import HEALTH_PATH as JAEGER_HEALTH_PATH
from stackgen.render.local_profile import LOCAL_HOST, LocalProfile, TracePorts, render_local
from stackgen.spec import LocalProgram, Stack
from stackgen.tools import ToolMissing, tiny_model
from stackgen.verify.ports import PortsExhausted, free_port, free_ports
from stackgen.verify.processes import Child, ProcessSetClosed
from stackgen.verify.prometheus_api import PrometheusAPI
from stackgen.verify.stack_run import (
    StackRun,
    VerifyCancelled,
    VerifyEnvironmentError,
    agent_command,
    tool_binary,
)

__all__ = [
    "DEFAULT_ADMIN_DSN",
    "LiveStack",
    "VerifyCancelled",
    "VerifyEnvironmentError",
    "agent_command",
    "free_port",
    "free_ports",
]

DEFAULT_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Prometheus' own port in the run (and the service of that name, if the stack scrapes
# Prometheus itself).
PROMETHEUS = "prometheus"
STARTUP_TIMEOUT_S = 45.0


def _collector_jobs(stack: Stack) -> list[str]:
    """The scrape jobs that are the collector (its own telemetry, its exporter)."""
    collector = stack.collector
    if collector is None:
        return []
    return [s.name for s in stack.services if s.host == collector.host and s.scrape is not None]


def expand_program_text(text: str, port: int) -> str:
    """A local program's argument or setting with its placeholders filled in."""
    values = {"{port}": str(port), "{url}": f"http://{LOCAL_HOST}:{port}"}
    if "{tiny_model}" in text:
        try:
            values["{tiny_model}"] = str(tiny_model())
        except ToolMissing as missing:
            raise VerifyEnvironmentError(str(missing)) from missing
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def wait_until_serving(child: Child, url: str, sleep: Callable[[float], None]) -> None:
    """Until ``url`` answers 200; VerifyEnvironmentError when the program exits first or
    the start-up timeout passes. ``sleep`` raises when the run is stopped meanwhile."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not child.running():
            raise VerifyEnvironmentError(
                f"{child.name} exited during start-up (code {child.process.returncode}):\n"
                f"{child.log_tail()}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        sleep(0.2)
    raise VerifyEnvironmentError(
        f"{child.name} did not answer {url} within {STARTUP_TIMEOUT_S:g}s:\n{child.log_tail()}"
    )


class LiveStack(StackRun):
    def __init__(
        self,
        stack: Stack,
        name: str,
        *,
        admin_dsn: str = DEFAULT_ADMIN_DSN,
        agent_argv: Sequence[str] | None = None,
        log: Callable[[str], None] = print,
        keep_dir: bool = False,
    ) -> None:
        super().__init__(
            stack,
            label=f"[{name}]",
            cancelled=f"[{name}] stopped",
            dir_prefix=f"stackgen-verify-{name}-",
            database_prefix="stackgen_verify_",
            admin_dsn=admin_dsn,
            agent_argv=agent_argv,
            log=log,
            keep_dir=keep_dir,
        )
        assert stack.verify is not None  # StackRun refuses a stack without verify settings
        self.name = name
        # The name Alertmanager has among the stack's services (its port is the
        # program's listen port).
        self.alertmanager = stack.prometheus.alertmanager or "alertmanager"
        # Real programs standing in for external services (a model server, a host
        # exporter), each scraped as its service's job.
        self.programs: tuple[LocalProgram, ...] = stack.verify.programs
        self.ports = dict.fromkeys(
            (
                self.service,
                PROMETHEUS,
                self.alertmanager,
                *_collector_jobs(stack),
                *(p.service for p in self.programs),
            ),
            0,
        )
        # The collector and Jaeger run when the stack has both (traces end to end).
        self.traces = bool(_collector_jobs(stack)) and stack.jaeger is not None
        self.trace_ports = TracePorts()
        self.agent: Child | None = None
        self.prometheus: PrometheusAPI | None = None
        self.started_at = time.time()

    # -- addresses ---------------------------------------------------------------------
    @property
    def agent_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.ports[self.service]}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.ports[PROMETHEUS]}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.ports[self.alertmanager]}"

    @property
    def jaeger_url(self) -> str:
        """Jaeger's query API (``/api/traces/<trace id>``) and UI."""
        return f"http://{LOCAL_HOST}:{self.trace_ports.jaeger_query_http}"

    @property
    def otlp_http_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.trace_ports.otlp_http}"

    @property
    def api(self) -> PrometheusAPI:
        assert self.prometheus is not None, "the stack is not started"
        return self.prometheus

    # -- lifecycle -----------------------------------------------------------------------
    def _start(self) -> None:
        prometheus_bin = tool_binary("prometheus")
        alertmanager_bin = tool_binary("alertmanager")
        self.webhook.__enter__()
        trace_names = list(TracePorts.__dataclass_fields__) if self.traces else []
        try:
            chosen = iter(free_ports(len(self.ports) + len(trace_names)))
        except PortsExhausted as exhausted:
            raise VerifyEnvironmentError(str(exhausted)) from exhausted
        self.ports = {name: next(chosen) for name in self.ports}
        if self.traces:
            self.trace_ports = TracePorts(**{name: next(chosen) for name in trace_names})
        else:
            # Without trace ports the collector's jobs would be scraped but never started.
            for name in _collector_jobs(self.stack):
                self.ports.pop(name, None)
        secrets_dir = self._write_token_files()
        services = {s.name for s in self.stack.services}
        profile = LocalProfile(
            ports={name: port for name, port in self.ports.items() if name in services},
            webhook_url=self.webhook.url,
            secrets_dir=str(secrets_dir),
            traces=self.trace_ports,
        )
        for path, text in render_local(self.stack, profile).items():
            target = self.dir / "config" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self._create_database()
        self.log(f"[{self.name}] created database {self.database}")
        self._started(
            "alertmanager",
            [
                alertmanager_bin,
                f"--config.file={self.dir / 'config/alertmanager/alertmanager.yml'}",
                f"--storage.path={self.dir / 'alertmanager-data'}",
                f"--web.listen-address={LOCAL_HOST}:{self.ports[self.alertmanager]}",
                "--cluster.listen-address=",  # no gossip port on 0.0.0.0:9094
            ],
        )
        if self.traces:
            self.start_jaeger()
            self.start_collector()
        for program in self.programs:
            self.start_program(program)
        self.start_agent()
        self._started(
            "prometheus",
            [
                prometheus_bin,
                f"--config.file={self.dir / 'config/prometheus/prometheus.yml'}",
                f"--storage.tsdb.path={self.dir / 'prometheus-data'}",
                f"--web.listen-address={LOCAL_HOST}:{self.ports[PROMETHEUS]}",
                # Re-send firing alerts every 2 s: ones sent before Prometheus found
                # Alertmanager are not lost for long.
                "--rules.alert.resend-delay=2s",
            ],
        )
        self.prometheus = PrometheusAPI(self.prometheus_url)
        self._wait_ready(f"{self.prometheus_url}/-/ready", "prometheus")
        self._wait_ready(f"{self.alertmanager_url}/-/ready", "alertmanager")

    def recorded_alerts(self, alertname: str, since: float) -> int:
        """Firing alerts named ``alertname`` the agent recorded in its database's
        alert_notifications since ``since`` (time.time())."""

        async def count() -> int:
            connection = await asyncpg.connect(self.database_url, timeout=5)
            try:
                found = await connection.fetchval(
                    "SELECT count(*) FROM alert_notifications WHERE alertname = $1 "
                    "AND status = 'firing' AND received_at >= to_timestamp($2)",
                    alertname,
                    since,
                )
            finally:
                await connection.close()
            return int(found or 0)

        try:
            return asyncio.run(count())
        except (OSError, asyncpg.PostgresError):
            return 0  # not there (yet): the table is created when the agent migrates

    def _started(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None
    ) -> Child:
        try:
            child = self.processes.start(name, argv, env)
        except ProcessSetClosed as closed:
            raise VerifyCancelled(f"[{self.name}] stopped") from closed
        self.log(f"[{self.name}] started {name}, pid {child.pid} (logs in {self.dir})")
        return child

    def agent_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        settings: dict[str, str] = {}
        if self.traces:
            settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.otlp_http_url
        for program in self.programs:
            port = self.ports[program.service]
            settings.update(
                {k: expand_program_text(v, port) for k, v in program.service_environment.items()}
            )
        # The spool is the run's own, so a restarted agent replays what it left.
        env = self._agent_environment(self.ports[self.service], self.dir / "audit-spool", settings)
        env.update(extra or {})
        return env

    def start_jaeger(self) -> None:
        config = self.dir / "config" / JAEGER_CONFIG_PATH
        self._started("jaeger", [tool_binary("jaeger"), f"--config={config}"])
        health = f"http://{LOCAL_HOST}:{self.trace_ports.jaeger_health}{JAEGER_HEALTH_PATH}"
        self._wait_ready(health, "jaeger")

    def start_collector(self) -> None:
        config = self.dir / "config" / OTEL_COLLECTOR_CONFIG_PATH
        self._started("otelcol", [tool_binary("otelcol"), f"--config={config}"])
        self._wait_ready(f"http://{LOCAL_HOST}:{self.trace_ports.collector_health}/", "otelcol")

    def start_program(self, program: LocalProgram) -> None:
        port = self.ports[program.service]
        argv = [
            tool_binary(program.program),
            *(expand_program_text(arg, port) for arg in program.args),
        ]
        self._started(program.service, argv)
        self._wait_ready(f"http://{LOCAL_HOST}:{port}{program.ready_path}", program.service)

    def stop(self, name: str) -> None:
        """Stop one program of the stack (a fault); its process group, by PID."""
        for child in self.processes.children:
            if child.name == name:
                child.stop()

    def start_agent(self, extra_env: Mapping[str, str] | None = None) -> None:
        self.agent = self._started("agent-service", self.agent_argv, self.agent_env(extra_env))
        self._wait_ready(f"{self.agent_url}/health", "agent-service")

    def stop_agent(self) -> None:
        if self.agent is not None:
            self.agent.stop()

    def restart_agent(self, extra_env: Mapping[str, str]) -> None:
        self.stop_agent()
        self.start_agent(extra_env)

    def _wait_ready(self, url: str, name: str) -> None:
        child = next(c for c in reversed(self.processes.children) if c.name == name)
        wait_until_serving(child, url, self.sleep)

    def wait_discovered(self, timeout_s: float = 60.0) -> None:
        """Every scrape target up and Alertmanager known to Prometheus."""
        deadline = time.monotonic() + timeout_s
        health: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                health = self.api.target_health()
                found = self.api.alertmanagers_found()
            except httpx.HTTPError:
                health, found = {}, 0
            if health and all(h == "up" for h in health.values()) and found:
                return
            self.sleep(0.5)
        raise VerifyEnvironmentError(
            f"[{self.name}] Prometheus did not see every target up within {timeout_s:g}s: {health}"
        )

    def close(self) -> None:
        super().close()
        if self.prometheus is not None:
            self.prometheus.close()
