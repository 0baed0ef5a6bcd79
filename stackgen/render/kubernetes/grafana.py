"""Grafana through its sidecar (the kiwigrid k8s-sidecar of the Grafana Helm chart): the
dashboards as ConfigMaps labelled ``grafana_dashboard: "1"`` and the datasources as a
Secret labelled ``grafana_datasource: "1"``.

The dashboards are the very files of generated/grafana/dashboards/. The datasources
Secret is a template holding no secret value: Grafana expands ``$VARIABLES`` in
provisioning files from its own environment (the PostgreSQL password), as in compose.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from stackgen.artifacts import is_dashboard_path
from stackgen.output import dump_yaml
from stackgen.render.grafana_provisioning import datasource_entry
from stackgen.render.kubernetes.objects import KubeObject, kube_object, metadata
from stackgen.spec import Stack
from stackgen.spec.scale_out import KubernetesTarget

__all__ = [
    "DASHBOARD_LABEL",
    "DATASOURCES_KEY",
    "DATASOURCE_LABEL",
    "FOLDER_ANNOTATION",
    "dashboard_config_maps",
    "datasources_secret",
]

# The sidecar's default labels (both must have the value "1") and its folder annotation
# (the chart's `folderAnnotation` setting).
DASHBOARD_LABEL = "grafana_dashboard"
DATASOURCE_LABEL = "grafana_datasource"
FOLDER_ANNOTATION = "grafana_folder"
DATASOURCES_KEY = "datasources.yaml"


def dashboard_config_maps(
    stack: Stack, target: KubernetesTarget, files: Mapping[str, str]
) -> list[KubeObject]:
    """One ConfigMap per dashboard file among ``files`` (the rendered tree), holding the
    file's text unchanged under its own name."""
    folder = stack.grafana.folder if stack.grafana is not None else None
    objects = []
    for path, text in sorted(files.items()):
        if not is_dashboard_path(path):
            continue
        file_name = posixpath.basename(path)
        name = posixpath.splitext(file_name)[0]
        meta = metadata(
            target,
            f"{stack.name}-dashboard-{name}",
            labels={DASHBOARD_LABEL: "1"},
            annotations={FOLDER_ANNOTATION: folder} if folder else None,
        )
        objects.append(kube_object("v1", "ConfigMap", meta, data={file_name: text}))
    return objects


def datasources_secret(stack: Stack, target: KubernetesTarget) -> KubeObject | None:
    grafana = stack.grafana
    if grafana is None:
        return None
    entries = []
    for datasource in grafana.datasources:
        entry = datasource_entry(stack, datasource)
        if datasource.uid in target.datasource_urls:
            entry["url"] = target.datasource_urls[datasource.uid]
        entries.append(entry)
    text = dump_yaml(
        {"apiVersion": 1, "datasources": entries},
        comment=f"Grafana datasources of the {stack.name} stack in the cluster.\n"
        "Passwords: Grafana expands $VARIABLES from its environment.",
    )
    meta = metadata(target, f"{stack.name}-grafana-datasources", labels={DATASOURCE_LABEL: "1"})
    return kube_object("v1", "Secret", meta, type="Opaque", stringData={DATASOURCES_KEY: text})
