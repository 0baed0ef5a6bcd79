"""The processes of a local scale-out run, all on 127.0.0.1: the agent service's
replicas, the Prometheus replicas (the local profile's config per replica), the
Alertmanagers clustered over gossip, the clustered store (Thanos receive router, its
receive ingestors, the querier) and the webhook the Alertmanagers notify.

Each program can be killed (SIGKILL to its process group) and started again with the
same command line and data directory: the faults of the run. Everything is stopped by
PID and the database dropped on close, also when the run fails or is interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from stackgen.conventions import ALERTMANAGER_CONFIG_PATH, PROMETHEUS_CONFIG_PATH
from stackgen.render.local_profile import LOCAL_HOST, LocalProfile, render_local
from stackgen.spec import Stack
from stackgen.spec.scale_out import ScaleOut
from stackgen.verify.live import (
    DEFAULT_ADMIN_DSN,
    VerifyCancelled,
    VerifyEnvironmentError,
    wait_until_serving,
)
from stackgen.verify.ports import PortsExhausted, free_ports
from stackgen.verify.processes import Child, ProcessSetClosed
from stackgen.verify.scale_config import (
    ALERTMANAGER_NAMES,
    PROMETHEUS_NAMES,
    ReceivePorts,
    alertmanager_cluster_flags,
    replica_config,
    thanos_hashring,
    thanos_ingestor_argv,
    thanos_query_argv,
    thanos_router_argv,
)
from stackgen.verify.stack_run import StackRun, tool_binary

__all__ = ["Program", "ScaleStack"]

STARTUP_TIMEOUT_S = 60.0
# The stack's service name of Prometheus itself (scraped by every replica).
PROMETHEUS = "prometheus"


@dataclass(frozen=True)
class Program:
    """One process of the run: how to start it again and how to tell it is ready."""

    name: str
    argv: tuple[str, ...]
    ready_url: str
    env: Mapping[str, str] | None = None


def replica_file(config: Path, replica: str) -> Path:
    """Beside the profile's prometheus.yml: its rule_files glob is relative to the file."""
    return (config / PROMETHEUS_CONFIG_PATH).parent / f"prometheus-{replica}.yml"


class ScaleStack(StackRun):
    def __init__(
        self,
        stack: Stack,
        scale_out: ScaleOut,
        *,
        admin_dsn: str = DEFAULT_ADMIN_DSN,
        agent_argv: Sequence[str] | None = None,
        log: Callable[[str], None] = print,
        keep_dir: bool = False,
    ) -> None:
        super().__init__(
            stack,
            label="[scale]",
            cancelled="verify-scale stopped",
            dir_prefix="stackgen-verify-scale-",
            database_prefix="stackgen_verify_scale_",
            admin_dsn=admin_dsn,
            agent_argv=agent_argv,
            log=log,
            keep_dir=keep_dir,
        )
        self.scale_out = scale_out
        self.alertmanager_service = stack.prometheus.alertmanager or "alertmanager"
        self.agent_count = scale_out.replicas_of(self.service)
        self.prometheus_names = PROMETHEUS_NAMES[: scale_out.prometheus_replicas]
        self.alertmanager_names = ALERTMANAGER_NAMES[: scale_out.alertmanager_replicas]
        self.programs: dict[str, Program] = {}
        self.agent_ports: list[int] = []
        self.prometheus_ports: dict[str, int] = {}
        self.alertmanager_ports: dict[str, int] = {}
        self.query_port = 0
        self.ingestor_names: list[str] = []
        self.router = ReceivePorts(0, 0, 0, 0)
        self.alertmanager_config = ""

    # -- addresses ---------------------------------------------------------------------
    @property
    def agent_names(self) -> list[str]:
        return [f"agent-{index + 1}" for index in range(len(self.agent_ports))]

    @property
    def agent_urls(self) -> list[str]:
        return [f"http://{LOCAL_HOST}:{port}" for port in self.agent_ports]

    def prometheus_url(self, replica: str) -> str:
        return f"http://{LOCAL_HOST}:{self.prometheus_ports[replica]}"

    def alertmanager_url(self, name: str) -> str:
        return f"http://{LOCAL_HOST}:{self.alertmanager_ports[name]}"

    @property
    def store_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.query_port}"

    # -- lifecycle -----------------------------------------------------------------------
    def _ports(self, count: int) -> list[int]:
        try:
            return free_ports(count)
        except PortsExhausted as exhausted:
            raise VerifyEnvironmentError(str(exhausted)) from exhausted

    def _start(self) -> None:
        thanos = tool_binary("thanos")
        prometheus = tool_binary("prometheus")
        alertmanager = tool_binary("alertmanager")
        self.webhook.__enter__()
        self.agent_ports = self._ports(self.agent_count)
        self.prometheus_ports = dict(
            zip(self.prometheus_names, self._ports(len(self.prometheus_names)), strict=True)
        )
        self.alertmanager_ports = dict(
            zip(self.alertmanager_names, self._ports(len(self.alertmanager_names)), strict=True)
        )
        gossip_ports = self._ports(len(self.alertmanager_names))
        self.router = ReceivePorts(*self._ports(4))
        config = self._render_configs()
        self._create_database()
        self._start_store(thanos)
        for index, name in enumerate(self.alertmanager_names):
            data = self.dir / f"{name}-data"
            argv = [
                alertmanager,
                f"--config.file={config / ALERTMANAGER_CONFIG_PATH}",
                f"--storage.path={data}",
                f"--web.listen-address={LOCAL_HOST}:{self.alertmanager_ports[name]}",
                *alertmanager_cluster_flags(gossip_ports[index], gossip_ports),
            ]
            self.launch(Program(name, tuple(argv), f"{self.alertmanager_url(name)}/-/ready"))
        for name, port in zip(self.agent_names, self.agent_ports, strict=True):
            # One at a time: each migrates the shared database on start-up.
            env = self._agent_environment(port, self.dir / f"{name}-spool", {})
            url = f"http://{LOCAL_HOST}:{port}/health"
            self.launch(Program(name, tuple(self.agent_argv), url, env))
        for replica in self.prometheus_names:
            argv = [
                prometheus,
                f"--config.file={replica_file(config, replica)}",
                f"--storage.tsdb.path={self.dir / f'prometheus-{replica}-data'}",
                f"--web.listen-address={LOCAL_HOST}:{self.prometheus_ports[replica]}",
                # Firing alerts re-sent every 2 s: a restarted Alertmanager learns them
                # again at once.
                "--rules.alert.resend-delay=2s",
            ]
            url = f"{self.prometheus_url(replica)}/-/ready"
            self.launch(Program(f"prometheus-{replica}", tuple(argv), url))

    def _render_configs(self) -> Path:
        """The local profile's files, then one prometheus.yml per replica."""
        secrets_dir = self._write_token_files()
        services = {s.name for s in self.stack.services}
        first_prometheus = self.prometheus_ports[self.prometheus_names[0]]
        first_alertmanager = self.alertmanager_ports[self.alertmanager_names[0]]
        ports = {
            self.service: self.agent_ports[0],
            PROMETHEUS: first_prometheus,
            self.alertmanager_service: first_alertmanager,
        }
        profile = LocalProfile(
            ports={name: port for name, port in ports.items() if name in services},
            webhook_url=self.webhook.url,
            secrets_dir=str(secrets_dir),
        )
        config = self.dir / "config"
        for path, text in render_local(self.stack, profile).items():
            target = config / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.alertmanager_config = (config / ALERTMANAGER_CONFIG_PATH).read_text()
        alertmanagers = [f"{LOCAL_HOST}:{p}" for p in self.alertmanager_ports.values()]
        job_targets = {
            self.service: [f"{LOCAL_HOST}:{p}" for p in self.agent_ports],
            PROMETHEUS: [f"{LOCAL_HOST}:{p}" for p in self.prometheus_ports.values()],
            self.alertmanager_service: alertmanagers,
        }
        base = (config / PROMETHEUS_CONFIG_PATH).read_text()
        for replica in self.prometheus_names:
            text = replica_config(
                base,
                replica_label=self.scale_out.replica_label,
                replica=replica,
                job_targets=job_targets,
                alertmanagers=alertmanagers,
                remote_write_url=self.router.write_url,
            )
            replica_file(config, replica).write_text(text)
        return config

    def _start_store(self, thanos: str) -> None:
        ingestors = [ReceivePorts(*self._ports(4)) for _ in range(2)]
        for index, ports in enumerate(ingestors):
            name = f"store-node-{index + 1}"
            argv = thanos_ingestor_argv(thanos, ports, str(self.dir / f"{name}-data"), name)
            self.launch(Program(name, tuple(argv), f"http://{LOCAL_HOST}:{ports.http}/-/ready"))
            self.ingestor_names.append(name)
        hashring = self.dir / "hashring.json"
        hashring.write_text(thanos_hashring(ingestors))
        router = self.router
        argv = thanos_router_argv(thanos, router, str(self.dir / "router-data"), str(hashring))
        self.launch(
            Program("store-router", tuple(argv), f"http://{LOCAL_HOST}:{router.http}/-/ready")
        )
        self.query_port, query_grpc = self._ports(2)
        argv = thanos_query_argv(
            thanos, self.query_port, query_grpc, ingestors, self.scale_out.replica_label
        )
        self.launch(Program("store-query", tuple(argv), f"{self.store_url}/-/ready"))

    # -- programs ------------------------------------------------------------------------
    def launch(self, program: Program) -> None:
        """Start the program and wait until it answers its ready URL; ``restart`` starts
        it again the same way."""
        self.programs[program.name] = program
        self._start_program(program)

    def _start_program(self, program: Program) -> None:
        try:
            child = self.processes.start(program.name, program.argv, program.env)
        except ProcessSetClosed as closed:
            raise VerifyCancelled("verify-scale stopped") from closed
        self.log(f"[scale] started {program.name}, pid {child.pid}")
        self._wait_ready(child, program.ready_url)

    def child(self, name: str) -> Child:
        return next(c for c in reversed(self.processes.children) if c.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL to the program's process group: a crash, nothing flushed."""
        child = self.child(name)
        if child.running():
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            try:
                child.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.stop()
        self.log(f"[scale] killed {name} (pid {child.pid})")

    def stop(self, name: str) -> None:
        self.child(name).stop()

    def restart(self, name: str, environment: Mapping[str, str] | None = None) -> None:
        """Start the program again: same command line, same data directory, and its
        environment with ``environment`` on top (a setting that makes a fault; the next
        plain restart goes back to the original)."""
        program = self.programs[name]
        if environment:
            program = replace(program, env={**(program.env or {}), **environment})
        self._start_program(program)

    def _wait_ready(self, child: Child, url: str) -> None:
        wait_until_serving(child, url, self.sleep)
