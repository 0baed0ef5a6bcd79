"""The scale-out settings against the rest of the stack: with several Prometheus
replicas, what reads the metrics must read them de-duplicated."""

from __future__ import annotations

from stackgen.check.codes import FindingCode, finding
from stackgen.check.context import CheckContext
from stackgen.findings import Finding
from stackgen.spec import DatasourceType

__all__ = ["check_replica_datasources"]


def check_replica_datasources(context: CheckContext) -> list[Finding]:
    """Grafana's Prometheus datasources in the cluster, when Prometheus runs replicated:
    through the Service each query lands on either replica, so a panel's gaps (one
    replica restarted, the other not) come and go between refreshes."""
    stack = context.stack
    scale_out = stack.scale_out
    if scale_out is None or scale_out.kubernetes is None or stack.grafana is None:
        return []
    if scale_out.prometheus_replicas < 2:
        return []
    urls = scale_out.kubernetes.datasource_urls
    return [
        finding(
            FindingCode.SINGLE_REPLICA_DATASOURCE,
            f"grafana datasource {datasource.uid} in Kubernetes",
            f"{scale_out.prometheus_replicas} Prometheus replicas, and this datasource reads "
            f"the {datasource.service} Service: one replica or the other at each query",
            "point it at the store's de-duplicating query API: "
            f"scale_out.kubernetes.datasource_urls[{datasource.uid!r}]",
            scale_out.kubernetes,
        )
        for datasource in stack.grafana.datasources
        if datasource.type is DatasourceType.PROMETHEUS and datasource.uid not in urls
    ]
