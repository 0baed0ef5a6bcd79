"""The faults of the scale-out run: a stack fault scenario made on every replica of the
service at once, and undone the same way.

A fault on one replica of three is not the scenario's fault: its alert aggregates over the
job (``sum(rate(...)) / sum(rate(...))``, ``max by (job) (up) == 0``), so the others'
healthy answers would hide it. Each kind is undone by its opposite: a stopped service is
started again, a service restarted with a setting is restarted without it, a traffic mix
goes back to the healthy one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stackgen.spec import FaultScenario, RestartService, StopProgram, StopService, TrafficMix
from stackgen.verify.scenarios import fault_environment, mix_of
from stackgen.verify.traffic import HEALTHY_MIX, Action

__all__ = ["Replicas", "ScaleFault", "ScaleTraffic", "workers_per_replica"]


class Replicas(Protocol):
    """The service's replicas of a running scale-out (verify.scale_stack.ScaleStack)."""

    @property
    def agent_names(self) -> list[str]: ...

    def stop(self, name: str) -> None: ...

    def restart(self, name: str, environment: Mapping[str, str] | None = None) -> None: ...


class ScaleTraffic(Protocol):
    """One replica's traffic (verify.traffic.Traffic)."""

    @property
    def workers(self) -> int: ...

    def start(self, workers: int | None = None) -> None: ...

    def stop(self) -> None: ...

    def set_mix(self, mix: Sequence[Action]) -> None: ...


def workers_per_replica(total: int, replicas: int) -> int:
    """A scenario's users spread over the replicas (rounded up: each gets one at least):
    the same load as on one instance, so thresholds sized for it (the concurrent-session
    capacity) mean the same."""
    return max(1, math.ceil(total / max(1, replicas)))


@dataclass
class ScaleFault:
    scenario: FaultScenario
    live: Replicas
    traffic: Sequence[ScaleTraffic]
    _workers: list[int] = field(default_factory=list)
    _mix: Sequence[Action] = HEALTHY_MIX

    def __post_init__(self) -> None:
        if isinstance(self.scenario.fault, StopProgram):
            raise ValueError(
                f"{self.scenario.name}: the scale-out run starts no {self.scenario.fault.program!r}"
            )
        if isinstance(self.scenario.fault, TrafficMix):
            self._mix = mix_of(self.scenario.fault)

    def begin(self) -> None:
        """Make the fault on every replica; it is in effect when this returns."""
        fault = self.scenario.fault
        if isinstance(fault, StopService):
            # Traffic keeps trying: clients see connection errors.
            for name in self.live.agent_names:
                self.live.stop(name)
        elif isinstance(fault, TrafficMix):
            for traffic in self.traffic:
                traffic.set_mix(self._mix)
        elif isinstance(fault, RestartService):
            # One unreachable port for every replica, taken when the fault begins.
            environment = fault_environment(fault)
            self._workers = [traffic.workers for traffic in self.traffic]
            workers = None
            if fault.workers is not None:
                workers = workers_per_replica(fault.workers, len(self.live.agent_names))
            self._restart_all(environment, [workers] * len(self.traffic))

    def end(self) -> None:
        """Undo the fault on every replica."""
        fault = self.scenario.fault
        if isinstance(fault, StopService):
            for name in self.live.agent_names:
                self.live.restart(name)
        elif isinstance(fault, TrafficMix):
            for traffic in self.traffic:
                traffic.set_mix(HEALTHY_MIX)
        elif isinstance(fault, RestartService):
            self._restart_all(None, list(self._workers) or [None] * len(self.traffic))

    def _restart_all(
        self, environment: Mapping[str, str] | None, workers: Sequence[int | None]
    ) -> None:
        """Every replica stopped and started with ``environment`` (None: its own), one at
        a time so the job keeps answering; no request is cut meanwhile (a cut turn would
        count as an error): the traffic waits."""
        for traffic in self.traffic:
            traffic.stop()
        for name in self.live.agent_names:
            self.live.stop(name)
            self.live.restart(name, environment)
        for traffic, count in zip(self.traffic, workers, strict=True):
            traffic.start(count)
