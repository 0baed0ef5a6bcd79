"""The live proof of a stack (``stackgen verify``, ``stackgen check --live``): which
service it runs and drives, and the fault scenarios whose alerts must fire.

A scenario is data: a named fault of one of a few kinds that ``stackgen.verify``
knows how to make, the alert that must reach the webhook, and what else may fire. A
scenario without an alert is healthy-but-noisy traffic (the "fault" is noise under every
threshold): for its whole length no critical alert may fire, or even pend.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from stackgen.spec.base import SpecModel
from stackgen.spec.services import SERVICE_NAME

__all__ = [
    "Fault",
    "FaultScenario",
    "LocalProgram",
    "RestartService",
    "StopProgram",
    "StopService",
    "TrafficMix",
    "VerifySettings",
]

# Placeholder in a RestartService value: replaced by a free port nobody listens on
# (a dependency made unreachable: connections are refused at once).
FREE_PORT = "{free_port}"
_SLUG = r"^[a-z][a-z0-9-]*$"
_ENV_VAR = r"^[A-Z_][A-Z0-9_]*$"


class StopService(SpecModel):
    """The verified service itself stops (its clients see connection errors)."""

    spec_key = "kind"

    kind: Literal["stop-service"] = "stop-service"


# The programs the live run always starts beside the service when the stack has them.
STACK_PROGRAMS = ("otelcol", "jaeger")


class StopProgram(SpecModel):
    """A program of the local stack beside the service stops: the collector, Jaeger, or
    a local program by the name of the service it stands in for (``llm-server``)."""

    spec_key = "program"

    kind: Literal["stop-program"] = "stop-program"
    program: str = Field(pattern=r"^[a-z][a-z0-9-]*$")


class TrafficMix(SpecModel):
    """The traffic switches to another of the driver's named mixes."""

    spec_key = "mix"

    kind: Literal["traffic-mix"] = "traffic-mix"
    mix: str = Field(pattern=_SLUG)


class RestartService(SpecModel):
    """The service restarts with these settings; the fault begins when it serves again.
    A value may hold ``{free_port}``: a port nobody listens on."""

    spec_key = "kind"

    kind: Literal["restart-service"] = "restart-service"
    environment: dict[Annotated[str, Field(pattern=_ENV_VAR)], str] = Field(min_length=1)
    # Concurrent users after the restart (None: as before).
    workers: int | None = Field(default=None, ge=1, le=64)


Fault = Annotated[
    StopService | StopProgram | TrafficMix | RestartService, Field(discriminator="kind")
]


class FaultScenario(SpecModel):
    name: str = Field(pattern=_SLUG)
    title: str = Field(min_length=1)
    # The alert that must reach the webhook; None: a quiet scenario, noise that must page
    # nobody for max_wait_s (which it then needs).
    alert: str | None = Field(default=None, min_length=1)
    fault: Fault
    # Also allowed to fire: other alerts of the same fault, and the burn-rate alerts of
    # the SLOs the fault really burns.
    also_allowed: tuple[str, ...] = ()
    slos: tuple[str, ...] = ()
    # Part of the quick subset (`stackgen verify --scenarios quick`, the pytest run).
    quick: bool = False
    # Cap on the wait after the fault (None: the detection promise plus an overshoot).
    max_wait_s: float | None = Field(default=None, gt=0)
    # Users must not notice the fault: no request may fail during the whole scenario.
    requests_must_succeed: bool = False
    # Requests may fail, but only as the service's clean error answer (502 naming the
    # cause), never as no answer (refused, reset, timed out) or another server error.
    failures_must_be_clean: bool = False
    # The service is up when the alert fires and records the notification it receives.
    service_records: bool = True
    # Also run by `stackgen verify-scale`, on every replica of the service at once. Its
    # fault must be one that run can start and end on every replica (the service
    # stopped, restarted with a setting, or a traffic mix; the scale-out starts no other
    # program), and its alert must resolve within minutes of the fault's end: the run
    # counts the firing and the resolved notification.
    at_scale: bool = False

    @property
    def quiet(self) -> bool:
        """Noise under every threshold: nothing critical may fire."""
        return self.alert is None

    @model_validator(mode="after")
    def _quiet_needs_a_length(self) -> Self:
        if self.quiet and self.max_wait_s is None:
            raise ValueError(
                "a scenario without an alert needs max_wait_s: how long it stays quiet"
            )
        if self.at_scale and self.quiet:
            raise ValueError("at_scale: the scale-out run counts an alert's notifications")
        if self.at_scale and isinstance(self.fault, StopProgram):
            raise ValueError(
                f"at_scale: the scale-out run starts no {self.fault.program!r} to stop "
                "(it runs the service's replicas, Prometheus, Alertmanager and the store)"
            )
        return self


class LocalProgram(SpecModel):
    """A real program the live run starts on 127.0.0.1 in place of an external service of
    the stack (a model server, a host exporter): Prometheus scrapes it as that service's
    job, and the verified service may be pointed at it. ``program`` is one the tools step
    builds. Arguments and environment values may hold ``{port}`` (its port), ``{url}``
    (``http://127.0.0.1:{port}``) and ``{tiny_model}`` (the tools step's GGUF model)."""

    spec_key = "service"

    service: str = Field(pattern=SERVICE_NAME)
    program: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    args: tuple[str, ...] = ()
    # Answers 200 once the program serves.
    ready_path: str = Field(default="/metrics", pattern=r"^/")
    # Settings the verified service gets so that it uses this program.
    service_environment: dict[Annotated[str, Field(pattern=_ENV_VAR)], str] = Field(
        default_factory=dict
    )


class VerifySettings(SpecModel):
    spec_key = "service"

    # The application service the live run starts and drives with traffic, and whose
    # /metrics `stackgen check --live` compares with the catalog by default.
    service: str = Field(pattern=SERVICE_NAME)
    # Prefix of the service's own span attributes (``<prefix>.message_id``); None: its
    # traces are not checked.
    span_attribute_prefix: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    scenarios: tuple[FaultScenario, ...] = ()
    # Real programs standing in for external services during the live run.
    programs: tuple[LocalProgram, ...] = ()
