"""The configuration of a local scale-out run, from the local profile's files (pure).

Every Prometheus replica runs the local profile's prometheus.yml and rule files, changed
only where a replica of an HA pair must differ or where one host stands in for many:

- ``external_labels[replica_label]`` is the replica's own value (the store de-duplicates
  on it);
- the replica label is dropped from the alerts it sends (``alert_relabel_configs``), or
  the two replicas' alerts differ by it and the Alertmanagers notify each alert twice;
- every job whose service runs several instances scrapes all of them, and every
  Alertmanager of the cluster receives the alerts;
- ``remote_write`` goes to the store's write endpoint.

The clustered store is Thanos: a receive router that spreads series over a hashring of
receive ingestors (the storage nodes), and a querier that reads the ingestors and
de-duplicates the Prometheus replicas by the replica label.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from stackgen.output import dump_yaml

__all__ = [
    "ALERTMANAGER_NAMES",
    "PROMETHEUS_NAMES",
    "STORE_LABELS",
    "ReceivePorts",
    "alertmanager_cluster_flags",
    "replica_config",
    "thanos_hashring",
    "thanos_ingestor_argv",
    "thanos_query_argv",
    "thanos_router_argv",
]

# The replica label's value of each Prometheus replica, and the Alertmanagers' names.
PROMETHEUS_NAMES = ("a", "b", "c", "d", "e")
ALERTMANAGER_NAMES = ("alertmanager-1", "alertmanager-2", "alertmanager-3")
LOCAL_HOST = "127.0.0.1"
# The external label every receive process must announce (its node name).
NODE_LABEL = "receive_node"
# Labels the store adds to every series: Thanos receive's tenant, and the node's external
# label. Neither is part of what Prometheus scraped.
STORE_LABELS = ("tenant_id", NODE_LABEL)


def replica_config(
    prometheus_yml: str,
    *,
    replica_label: str,
    replica: str,
    job_targets: Mapping[str, Sequence[str]],
    alertmanagers: Sequence[str],
    remote_write_url: str,
) -> str:
    """The prometheus.yml of one replica: the local profile's, with the replica's
    external label, the label dropped from its alerts, every instance of each job in
    ``job_targets`` (job name -> host:port), every Alertmanager, and remote_write."""
    config: dict[str, Any] = copy.deepcopy(yaml.safe_load(prometheus_yml))
    settings = config.setdefault("global", {})
    labels = dict(settings.get("external_labels") or {})
    labels[replica_label] = replica
    settings["external_labels"] = dict(sorted(labels.items()))
    for job in config.get("scrape_configs", []):
        targets = job_targets.get(job["job_name"])
        if targets is not None:
            job["static_configs"] = [{"targets": list(targets)}]
    alerting = config.setdefault("alerting", {})
    alerting["alert_relabel_configs"] = [{"action": "labeldrop", "regex": replica_label}]
    alerting["alertmanagers"] = [{"static_configs": [{"targets": list(alertmanagers)}]}]
    config["remote_write"] = [{"url": remote_write_url, "name": "store"}]
    comment = f"Prometheus replica {replica_label}={replica} of a local scale-out run."
    return dump_yaml(config, comment=comment)


def alertmanager_cluster_flags(own: int, peers: Sequence[int]) -> list[str]:
    """Gossip on 127.0.0.1: the member's own cluster port and every other member's."""
    flags = [f"--cluster.listen-address={LOCAL_HOST}:{own}"]
    flags += [f"--cluster.peer={LOCAL_HOST}:{port}" for port in peers if port != own]
    return flags


@dataclass(frozen=True)
class ReceivePorts:
    """The listeners of one Thanos receive process."""

    http: int
    grpc: int
    remote_write: int
    # Its Cap'n Proto listener (replication between receivers); 0.0.0.0 unless set.
    capnproto: int

    @property
    def grpc_address(self) -> str:
        return f"{LOCAL_HOST}:{self.grpc}"

    @property
    def write_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.remote_write}/api/v1/receive"


def thanos_hashring(ingestors: Sequence[ReceivePorts]) -> str:
    """The router's hashring file: one ring over every ingestor's gRPC endpoint."""
    ring = [{"hashring": "default", "endpoints": [i.grpc_address for i in ingestors]}]
    return json.dumps(ring, indent=2) + "\n"


def _receive_flags(ports: ReceivePorts, data_dir: str, name: str) -> list[str]:
    return [
        f'--label={NODE_LABEL}="{name}"',
        f"--http-address={LOCAL_HOST}:{ports.http}",
        f"--grpc-address={LOCAL_HOST}:{ports.grpc}",
        f"--remote-write.address={LOCAL_HOST}:{ports.remote_write}",
        f"--receive.capnproto-address={LOCAL_HOST}:{ports.capnproto}",
        f"--tsdb.path={data_dir}",
    ]


def thanos_ingestor_argv(thanos: str, ports: ReceivePorts, data_dir: str, name: str) -> list[str]:
    """A storage node: receives from the router, keeps its share of the series."""
    return [
        thanos,
        "receive",
        *_receive_flags(ports, data_dir, name),
        f"--receive.local-endpoint={ports.grpc_address}",
    ]


def thanos_router_argv(
    thanos: str, ports: ReceivePorts, data_dir: str, hashring_file: str
) -> list[str]:
    """The write endpoint: spreads the series over the ingestors, each series on one
    (replication factor 1). A write that cannot be placed fails, and Prometheus sends it
    again from its write-ahead log: a storage node down delays samples, loses none."""
    return [
        thanos,
        "receive",
        *_receive_flags(ports, data_dir, "router"),
        f"--receive.hashrings-file={hashring_file}",
        "--receive.replication-factor=1",
    ]


def thanos_query_argv(
    thanos: str, http: int, grpc: int, ingestors: Sequence[ReceivePorts], replica_label: str
) -> list[str]:
    """The store's query API: every ingestor, de-duplicated by the replica label (the
    nodes' own label too: a series lives on one of them)."""
    return [
        thanos,
        "query",
        f"--http-address={LOCAL_HOST}:{http}",
        f"--grpc-address={LOCAL_HOST}:{grpc}",
        *[f"--endpoint={i.grpc_address}" for i in ingestors],
        f"--query.replica-label={replica_label}",
        f"--query.replica-label={NODE_LABEL}",
    ]
