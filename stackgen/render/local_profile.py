"""The local profile: the same Prometheus config, rules, Alertmanager, collector and
Jaeger configs, for processes on one host (127.0.0.1 and chosen ports) instead of the
compose network.

Used by ``stackgen verify`` and by ``stackgen generate --profile local --out DIR``. The
rule files are rendered from the same spec by the same renderers, so they are exactly
the production rules; only addresses change:

- every service given a local port (``Stack.local_ports``, with the command line's
  overrides) is scraped (or used as Alertmanager) on ``127.0.0.1:<port>``;
- every other scraped service is left out of the scrape configuration, with the reason
  in ``LocalStack.omitted``: external services (servers on other hosts, a GPU host
  say, that cannot run here) and services given no port. Left in, their targets would
  be down for the whole run and fire ServiceDown (the critical ones) though nothing is
  wrong with what is being verified;
- the collector runs locally when its scraped services (its own telemetry and its
  prometheus exporter) are given ports: its config comes from the same renderer with
  every listener on 127.0.0.1 (OTLP, health check and the other non-scraped
  listeners on ``LocalProfile.traces``) and traces to the local Jaeger, whose config
  is rendered the same way;
- every Alertmanager receiver posts to the given webhook (same path as in production,
  so ``/alerts/critical`` and ``/alerts/warning`` stay distinguishable); a receiver
  whose production webhook is a service given a local port (the application) also
  posts there, on 127.0.0.1, with its bearer token read from ``secrets_dir``, so the
  real delivery path is exercised too; Slack and email are dropped: they cannot be
  reached from a test machine.

Pure: no IO. Returns only the files the running programs read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from stackgen.conventions import (
    ALERTMANAGER_CONFIG_PATH,
    JAEGER_CONFIG_PATH,
    OTEL_COLLECTOR_CONFIG_PATH,
    PROMETHEUS_CONFIG_PATH,
    RULES_DIR,
)
from stackgen.render import render_all
from stackgen.spec import Collector, Jaeger, Service, Stack
from stackgen.spec.alerting import Receiver, Webhook

__all__ = [
    "LOCAL_HOST",
    "LocalProfile",
    "LocalStack",
    "ProfileError",
    "TracePorts",
    "localize",
    "profile_ports",
    "render_local",
]

LOCAL_HOST = "127.0.0.1"
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:15001"


class ProfileError(ValueError):
    """The profile does not fit the stack (names the service or field)."""


@dataclass(frozen=True)
class TracePorts:
    """The collector's and Jaeger's listeners that are no scrape target (the collector's
    own telemetry and its prometheus exporter are: their ports are services' ports)."""

    otlp_grpc: int = 14317
    otlp_http: int = 14318
    collector_health: int = 14133
    jaeger_otlp_grpc: int = 14417
    jaeger_query_http: int = 16786
    jaeger_query_grpc: int = 16785
    jaeger_health: int = 14134

    def listeners(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class LocalProfile:
    # Service name -> port on 127.0.0.1; only these services are scraped (the stack's
    # local_ports, with the command line's overrides: see ``profile_ports``).
    ports: Mapping[str, int] = field(default_factory=dict)
    # Base URL of the webhook every receiver posts to (its path is kept).
    webhook_url: str = DEFAULT_WEBHOOK_URL
    # Used when the collector runs locally (its scraped services have ports).
    traces: TracePorts = field(default_factory=TracePorts)
    # Where the local Alertmanager reads its secret files (webhook tokens); None: the
    # production directory.
    secrets_dir: str | None = None


@dataclass(frozen=True)
class LocalStack:
    stack: Stack
    # Service name -> why it is not scraped in this profile.
    omitted: Mapping[str, str]
    # The collector (and Jaeger, if the stack has one) run on this host.
    traces: bool = False


def profile_ports(stack: Stack, overrides: Mapping[str, int]) -> dict[str, int]:
    """The stack's local ports with ``overrides`` (the command line's) on top."""
    return {**stack.local_ports, **overrides}


def _why_omitted(service: Service) -> str:
    if service.external:
        return (
            f"external: runs on {service.host}, not on this machine; the local profile "
            "leaves it out (give it a local port to scrape a stand-in)"
        )
    return "does not run on this host in the local profile (no local port given)"


def _local_receiver_url(receiver: Receiver, webhook: str) -> str:
    """The production path on the local webhook (so receivers stay distinguishable)."""
    path = urlsplit(receiver.webhook_url).path if receiver.webhook_url else ""
    return webhook.rstrip("/") + (path or f"/alerts/{receiver.name}")


def _collector_services(stack: Stack) -> list[Service]:
    """The scraped services that are the collector (its metrics ports)."""
    collector = stack.collector
    if collector is None:
        return []
    return [s for s in stack.services if s.host == collector.host and s.scrape is not None]


def _runs_collector(stack: Stack, profile: LocalProfile) -> bool:
    services = [s.name for s in _collector_services(stack)]
    given = [name for name in services if name in profile.ports]
    if given and len(given) < len(services):
        missing = sorted(set(services) - set(given))
        raise ProfileError(
            f"profile.ports: no port for {missing}: the collector serves {services} "
            "together (give all of them a port, or none)"
        )
    return bool(given)


def _local_collector(stack: Stack, profile: LocalProfile) -> Collector:
    collector = stack.collector
    assert collector is not None
    by_port = {s.port: profile.ports[s.name] for s in _collector_services(stack)}
    traces = profile.traces
    return collector.model_copy(
        update={
            "listen_host": LOCAL_HOST,
            "otlp_grpc_port": traces.otlp_grpc,
            "otlp_http_port": traces.otlp_http,
            "health_check_port": traces.collector_health,
            "telemetry_metrics_port": by_port[collector.telemetry_metrics_port],
            "prometheus": collector.prometheus.model_copy(
                update={"port": by_port[collector.prometheus.port]}
            ),
            "traces_endpoint": f"{LOCAL_HOST}:{traces.jaeger_otlp_grpc}",
        }
    )


def _local_jaeger(jaeger: Jaeger, traces: TracePorts) -> Jaeger:
    return jaeger.model_copy(
        update={
            "host": LOCAL_HOST,
            "listen_host": LOCAL_HOST,
            "otlp_grpc_port": traces.jaeger_otlp_grpc,
            "query_http_port": traces.jaeger_query_http,
            "query_grpc_port": traces.jaeger_query_grpc,
            "health_check_port": traces.jaeger_health,
        }
    )


def _check_ports(ports: Mapping[str, int]) -> None:
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            raise ProfileError(f"{name}: {port} is not a TCP port")
        if port in seen:
            raise ProfileError(f"{name} and {seen[port]} both use port {port}")
        seen[port] = name


def _local_receiver(receiver: Receiver, stack: Stack, profile: LocalProfile) -> Receiver:
    """The local webhook first; the production webhook too when its service runs here."""
    update: dict[str, object] = {
        "webhook_url": _local_receiver_url(receiver, profile.webhook_url),
        "bearer_token_secret": None,
        "extra_webhooks": (),
        "slack": None,
        "email": None,
    }
    if receiver.webhook_url:
        url = urlsplit(receiver.webhook_url)
        service = next((s for s in stack.services if s.host == url.hostname), None)
        if service is not None and service.name in profile.ports:
            local = url._replace(netloc=f"{LOCAL_HOST}:{profile.ports[service.name]}").geturl()
            hook = Webhook(url=local, bearer_token_secret=receiver.bearer_token_secret)
            update["extra_webhooks"] = (hook,)
    return receiver.model_copy(update=update)


def localize(stack: Stack, profile: LocalProfile) -> LocalStack:
    """The stack with its services on 127.0.0.1; raises ProfileError naming the problem."""
    names = {s.name for s in stack.services}
    unknown = sorted(set(profile.ports) - names)
    if unknown:
        raise ProfileError(f"profile.ports: {unknown} are not services of {stack.name}")
    traces = _runs_collector(stack, profile)
    listeners = {f"profile.ports[{name}]": port for name, port in profile.ports.items()}
    if traces:
        trace_ports = profile.traces.listeners()
        listeners |= {f"profile.traces.{name}": port for name, port in trace_ports.items()}
    _check_ports(listeners)
    if not urlsplit(profile.webhook_url).scheme.startswith("http"):
        raise ProfileError(f"profile.webhook_url: {profile.webhook_url!r} is not an http URL")
    if profile.secrets_dir is not None and not profile.secrets_dir.startswith("/"):
        raise ProfileError(f"profile.secrets_dir: {profile.secrets_dir!r} is not absolute")
    services: list[Service] = []
    omitted: dict[str, str] = {}
    for service in stack.services:
        if service.name in profile.ports:
            port = profile.ports[service.name]
            services.append(service.model_copy(update={"host": LOCAL_HOST, "port": port}))
        elif service.scrape is not None:
            omitted[service.name] = _why_omitted(service)
            # Not scraped here; `critical` only means "watched by ServiceDown".
            services.append(service.model_copy(update={"scrape": None, "critical": False}))
        else:
            services.append(service)
    if stack.prometheus.alertmanager and stack.prometheus.alertmanager not in profile.ports:
        raise ProfileError(
            f"profile.ports: no port for {stack.prometheus.alertmanager!r}, "
            "the Alertmanager Prometheus sends alerts to"
        )
    alerting = stack.alerting
    if alerting is not None:
        receivers = tuple(_local_receiver(r, stack, profile) for r in alerting.receivers)
        secrets_dir = profile.secrets_dir or alerting.secrets_dir
        alerting = alerting.model_copy(update={"receivers": receivers, "secrets_dir": secrets_dir})
    update: dict[str, object] = {"services": tuple(services), "alerting": alerting}
    if traces:
        update["collector"] = _local_collector(stack, profile)
        if stack.jaeger is not None:
            update["jaeger"] = _local_jaeger(stack.jaeger, profile.traces)
    return LocalStack(stack.model_copy(update=update), omitted, traces)


def render_local(stack: Stack, profile: LocalProfile) -> dict[str, str]:
    """prometheus.yml, the rule files and alertmanager.yml of the local profile, and the
    collector's and Jaeger's configs when the collector runs locally."""
    localized = localize(stack, profile)
    runtime = {PROMETHEUS_CONFIG_PATH, ALERTMANAGER_CONFIG_PATH}
    if localized.traces:
        runtime |= {OTEL_COLLECTOR_CONFIG_PATH, JAEGER_CONFIG_PATH}
    return {
        path: text
        for path, text in render_all(localized.stack).items()
        if path in runtime or path.startswith(f"{RULES_DIR}/")
    }
