"""Cross-checks of the compose deployment against the rest of the stack: scrape targets
and alert receivers exist, host services are reachable, Grafana's audit datasource is
the compose database, ports stay on loopback and no secret is written inline."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.findings import Finding
from stackgen.render.compose import derived
from stackgen.spec import HOST_GATEWAY, DatasourceType
from stackgen.spec.compose import memory_bytes

__all__ = [
    "check_grafana_database",
    "check_host_gateway",
    "check_inline_secrets",
    "check_memory_limits",
    "check_public_ports",
    "check_receiver_hosts",
    "check_scrape_hosts",
]

# Variable names that hold credentials; their values belong in the env file.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL")
_URL_CREDENTIAL = re.compile(r"//[^/@\s:]+:[^/@\s]+@")
_ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})


def check_scrape_hosts(context: CheckContext) -> list[Finding]:
    """Every scrape target is a compose service or a declared external host (`localhost`
    inside Prometheus' container is Prometheus itself)."""
    stack = context.stack
    compose = stack.compose
    if compose is None:
        return []
    names = {s.name for s in compose.services}
    findings = []
    for service in stack.scraped_services():
        if service.external or service.host in names:
            continue
        findings.append(
            finding(
                FindingCode.UNKNOWN_SCRAPE_HOST,
                f"scrape job {service.name}",
                f"target host {service.host!r} is not a compose service and the service is "
                "not declared external: Prometheus cannot resolve it",
                f"set host to a compose service ({', '.join(sorted(names))}) or mark "
                f"Service[{service.name}] external=True",
                service,
            )
        )
    return findings


def check_receiver_hosts(context: CheckContext) -> list[Finding]:
    """Every Alertmanager webhook reaches a compose service, or is an operator's
    external endpoint over https with its token in a secret file: a webhook to a host
    that no part of the stack runs delivers no alert to anyone."""
    stack = context.stack
    if stack.compose is None or stack.alerting is None:
        return []
    names = {s.name for s in stack.compose.services}
    findings = []
    for receiver in stack.alerting.receivers:
        for hook in receiver.webhooks():
            url = urlsplit(hook.url)
            if url.hostname in names:
                continue
            if url.scheme == "https" and hook.bearer_token_secret:
                continue  # an operator-configured external endpoint
            findings.append(
                finding(
                    FindingCode.UNKNOWN_RECEIVER_HOST,
                    f"alertmanager receiver {receiver.name}",
                    f"webhook {hook.url} names host {url.hostname!r}, which is not a compose "
                    "service: its notifications reach nobody",
                    f"post to a compose service ({', '.join(sorted(names))}); an external "
                    "endpoint is allowed only over https with bearer_token_secret (its "
                    "token in a secret file)",
                    receiver,
                )
            )
    return findings


def check_host_gateway(context: CheckContext) -> list[Finding]:
    """A container that reaches host.docker.internal needs extra_hosts host-gateway:
    Docker on Linux does not define the name otherwise."""
    stack = context.stack
    compose = stack.compose
    if compose is None:
        return []
    findings = []
    for service in compose.services:
        if service.host_gateway:
            continue
        reasons = []
        if service.name == compose.prometheus:
            reasons += [
                f"scrapes {s.name} at {s.address}"
                for s in stack.scraped_services()
                if s.host == HOST_GATEWAY
            ]
        environment = {**derived(stack, service).environment, **service.environment}
        reasons += [
            f"{name}={value}"
            for name, value in sorted(environment.items())
            if HOST_GATEWAY in value
        ]
        if reasons:
            findings.append(
                finding(
                    FindingCode.MISSING_HOST_GATEWAY,
                    f"compose service {service.name}",
                    f"reaches {HOST_GATEWAY} ({'; '.join(reasons)}) without extra_hosts "
                    "host-gateway: the name does not resolve on Linux",
                    "set host_gateway=True on the compose service",
                    service,
                )
            )
    return findings


def check_grafana_database(context: CheckContext) -> list[Finding]:
    """Grafana's PostgreSQL datasource logs in to the compose database as the read-only
    role its init script creates, with that role's password variable."""
    stack = context.stack
    if stack.grafana is None or stack.compose is None:
        return []
    db = stack.compose.database
    findings = []
    for ds in stack.grafana.datasources:
        if ds.type is not DatasourceType.POSTGRES:
            continue
        where = f"grafana datasource {ds.uid}"
        if db is None:
            findings.append(
                finding(
                    FindingCode.GRAFANA_DB_MISMATCH,
                    where,
                    "the compose deployment declares no audit database",
                    "give Compose a `database` (AuditDatabase)",
                    ds,
                )
            )
            continue
        pairs = [
            ("service", ds.service, "service", db.service),
            ("database", ds.database, "database", db.database),
            ("user", ds.user, "reader", db.reader),
            ("password_env", ds.password_env, "reader_password_env", db.reader_password_env),
        ]
        for field, value, db_field, expected in pairs:
            if value == expected:
                continue
            findings.append(
                finding(
                    FindingCode.GRAFANA_DB_MISMATCH,
                    where,
                    f"{field} is {value!r} but the compose database's {db_field} is "
                    f"{expected!r}: Grafana could not log in (or not as the read-only role)",
                    f"set Datasource[{ds.uid}].{field}={expected!r}",
                    ds,
                )
            )
    return findings


def check_public_ports(context: CheckContext) -> list[Finding]:
    stack = context.stack
    if stack.compose is None:
        return []
    findings = []
    for service in stack.compose.services:
        for port in service.ports:
            if port.host_ip not in _ALL_INTERFACES:
                continue
            findings.append(
                finding(
                    FindingCode.PUBLIC_PORT,
                    f"compose service {service.name} port {port.host_port}",
                    f"published on every interface ({port.host_ip}:{port.host_port}): "
                    "anyone on the network reaches it",
                    "keep host_ip='127.0.0.1' and put a TLS reverse proxy in front",
                    service,
                )
            )
    return findings


def check_inline_secrets(context: CheckContext) -> list[Finding]:
    """Secrets belong in the env file, referenced through ``secrets``; a literal in
    ``environment`` would be committed in generated/docker-compose.yml."""
    stack = context.stack
    if stack.compose is None:
        return []
    findings = []
    for service in stack.compose.services:
        for name, value in sorted(service.environment.items()):
            if not (_SECRET_NAME.search(name) or _URL_CREDENTIAL.search(value)):
                continue
            findings.append(
                finding(
                    FindingCode.INLINE_SECRET,
                    f"compose service {service.name} environment {name}",
                    "a credential written in the spec would be committed in the compose file",
                    f"use secrets={{{name!r}: 'ENV_FILE_VARIABLE'}} (the env file holds the "
                    "value; `stackgen secrets` writes it)",
                    service,
                )
            )
    return findings


def check_memory_limits(context: CheckContext) -> list[Finding]:
    """Every container has a memory limit, and the collector's lies above its
    memory_limiter's: below it the kernel kills the collector before the limiter
    refuses any data."""
    stack = context.stack
    compose = stack.compose
    if compose is None:
        return []
    findings = []
    for service in compose.services:
        where = f"compose service {service.name}"
        if service.memory_limit is None:
            findings.append(
                finding(
                    FindingCode.NO_MEMORY_LIMIT,
                    where,
                    "no memory limit: a runaway process can take the memory of every other "
                    "service on the host",
                    'set memory_limit (e.g. memory_limit="512m")',
                    service,
                )
            )
            continue
        collector = stack.collector
        if collector is None or service.name != collector.host:
            continue
        limiter_bytes = collector.memory_limiter.limit_mib * 1024**2
        if memory_bytes(service.memory_limit) <= limiter_bytes:
            findings.append(
                finding(
                    FindingCode.MEMORY_LIMIT_BELOW_LIMITER,
                    where,
                    f"memory_limit {service.memory_limit} is not above the collector's "
                    f"memory_limiter limit_mib {collector.memory_limiter.limit_mib}: the "
                    "container is killed before the limiter refuses data",
                    "raise memory_limit above limit_mib (with room for the Go runtime), or "
                    "lower limit_mib",
                    service,
                )
            )
    return findings
