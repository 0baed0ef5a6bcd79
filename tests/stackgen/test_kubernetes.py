"""The Kubernetes target (generated/kubernetes/): every object valid against its official
schema, the rules and dashboards the very ones of the plain files, the routing the same
as alertmanager.yml's, a monitor per scraped service, the replicas from the spec."""

from __future__ import annotations

import copy
import posixpath
import re
from typing import Any

import jsonschema
import pytest
import yaml

from stackgen.artifacts import is_dashboard_path
from stackgen.check.context import CheckContext
from stackgen.check.scale_out import check_replica_datasources
from stackgen.conventions import ALERT_RULES_DIR, ALERTMANAGER_CONFIG_PATH, KUBERNETES_DIR
from stackgen.output import regenerated_by
from stackgen.render.kubernetes import kubernetes_objects
from stackgen.render.kubernetes.grafana import DATASOURCES_KEY
from stackgen.rules_model import build_rules
from stackgen.spec import SpecError, Stack
from stackgen.spec.scale_out import KubernetesTarget, ScaleOut, Workload, scale_out_problems
from tests.data.fixture_stacks import FIXTURE_STACKS
from tests.stackgen.kubernetes_schemas import crd_schema, schema_errors

STACKS = {"bestbox": None, **{n: s for n, s in FIXTURE_STACKS.items() if s.scale_out}}


def _objects(rendered: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        path: yaml.safe_load(text)
        for path, text in rendered.items()
        if path.startswith(f"{KUBERNETES_DIR}/")
    }


def _of_kind(rendered: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in _objects(rendered).values() if obj["kind"] == kind]


def _stack_objects(name: str, bestbox: Stack) -> list[dict[str, Any]]:
    stack = bestbox if name == "bestbox" else FIXTURE_STACKS[name]
    return kubernetes_objects(stack)


# -- schemas --------------------------------------------------------------------------


def test_bestbox_opts_in_with_every_kind(rendered: dict[str, str]) -> None:
    kinds = {obj["kind"] for obj in _objects(rendered).values()}
    assert kinds == {
        "Alertmanager",
        "AlertmanagerConfig",
        "ConfigMap",
        "PodDisruptionBudget",
        "PodMonitor",
        "Prometheus",
        "PrometheusRule",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
        "StatefulSet",
    }


@pytest.mark.parametrize("name", STACKS)
def test_every_object_matches_its_official_schema(name: str, stack: Stack) -> None:
    problems = {
        f"{obj['kind']}/{obj['metadata']['name']}": errors
        for obj in _stack_objects(name, stack)
        if (errors := schema_errors(obj))
    }
    assert problems == {}


def test_the_written_files_are_the_objects(rendered: dict[str, str], stack: Stack) -> None:
    # What the schema test validated is what is written (one object per file).
    with regenerated_by(stack.regenerate_command):
        objects = kubernetes_objects(stack)
    assert sorted(_objects(rendered).values(), key=repr) == sorted(objects, key=repr)


def _prometheus_rule(rendered: dict[str, str]) -> dict[str, Any]:
    return copy.deepcopy(_of_kind(rendered, "PrometheusRule")[0])


def test_a_misspelt_prometheus_rule_field_fails(rendered: dict[str, str]) -> None:
    rule = _prometheus_rule(rendered)
    first = rule["spec"]["groups"][0]["rules"][0]
    first["expression"] = first.pop("expr")
    errors = schema_errors(rule)
    assert any("'expression' was unexpected" in e for e in errors), errors


def test_a_wrongly_typed_prometheus_rule_field_fails(rendered: dict[str, str]) -> None:
    rule = _prometheus_rule(rendered)
    rule["spec"]["groups"][0]["rules"] = "not a list"
    assert schema_errors(rule) != []


def test_a_misspelt_core_field_fails(rendered: dict[str, str]) -> None:
    (workload,) = copy.deepcopy(_of_kind(rendered, "StatefulSet"))
    workload["spec"]["replica"] = workload["spec"].pop("replicas")
    errors = schema_errors(workload)
    assert any("'replica' was unexpected" in e for e in errors), errors


def test_a_wrongly_cased_alertmanager_config_field_fails(rendered: dict[str, str]) -> None:
    # alertmanager.yml's snake_case is not the CRD's camelCase.
    (config,) = copy.deepcopy(_of_kind(rendered, "AlertmanagerConfig"))
    config["spec"]["route"]["group_by"] = config["spec"]["route"].pop("groupBy")
    assert schema_errors(config) != []


@pytest.mark.parametrize("name", STACKS)
def test_child_routes_match_the_route_schema(name: str, stack: Stack) -> None:
    # The CRD leaves child routes free-form (the API server accepts anything there), so
    # the route schema itself checks them.
    schema = crd_schema("AlertmanagerConfig", "v1alpha1")["properties"]["spec"]["properties"]
    validator = jsonschema.Draft7Validator(schema["route"])
    (config,) = [o for o in _stack_objects(name, stack) if o["kind"] == "AlertmanagerConfig"]
    routes = config["spec"]["route"]["routes"]
    assert routes
    assert [e.message for route in routes for e in validator.iter_errors(route)] == []
    broken = {**routes[0], "group_wait": "10s"}
    assert list(validator.iter_errors(broken)) != []


# -- the same rules, dashboards and routing as the plain files ------------------------


def test_prometheus_rules_are_the_rule_files(rendered: dict[str, str], stack: Stack) -> None:
    """The cross-check: each directory of rule files (alerts, recording, slo) has one
    PrometheusRule whose groups are its files' groups, rule for rule and expression for
    expression."""
    rules = {obj["metadata"]["name"]: obj for obj in _of_kind(rendered, "PrometheusRule")}
    plain: dict[str, list[Any]] = {}
    for path in build_rules(stack).rule_file_paths:
        name = f"{stack.name}-{posixpath.basename(posixpath.dirname(path))}"
        plain.setdefault(name, []).extend(yaml.safe_load(rendered[path])["groups"])
    assert (
        sorted(rules)
        == sorted(plain)
        == [f"{stack.name}-{d}" for d in ("alerts", "recording", "slo")]
    )
    for name, groups in plain.items():
        assert rules[name]["spec"]["groups"] == groups, name


def test_the_rules_cross_check_catches_a_changed_rule(rendered: dict[str, str]) -> None:
    rule = _prometheus_rule(rendered)
    plain = [
        group
        for path in sorted(rendered)
        if path.startswith(f"{ALERT_RULES_DIR}/")
        for group in yaml.safe_load(rendered[path])["groups"]
    ]

    def by_name(groups: list[Any]) -> list[Any]:
        return sorted(groups, key=lambda group: str(group["name"]))

    assert by_name(rule["spec"]["groups"]) == by_name(plain)
    rule["spec"]["groups"][0]["rules"][0]["expr"] += " > 0"
    assert by_name(rule["spec"]["groups"]) != by_name(plain)


def test_dashboard_config_maps_hold_the_dashboard_files(rendered: dict[str, str]) -> None:
    maps = _of_kind(rendered, "ConfigMap")
    held = {key: text for obj in maps for key, text in obj["data"].items()}
    files = {posixpath.basename(p): t for p, t in rendered.items() if is_dashboard_path(p)}
    assert len(files) == 5
    assert held == files
    for obj in maps:
        assert obj["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert obj["metadata"]["annotations"]["grafana_folder"] == "BestBox"


def test_datasources_secret_holds_no_secret_value(rendered: dict[str, str]) -> None:
    (secret,) = _of_kind(rendered, "Secret")
    assert secret["metadata"]["labels"]["grafana_datasource"] == "1"
    datasources = yaml.safe_load(secret["stringData"][DATASOURCES_KEY])["datasources"]
    secure = [value for ds in datasources for value in (ds.get("secureJsonData") or {}).values()]
    assert secure == ["${GRAFANA_DB_PASSWORD}"]
    assert (
        "password"
        not in str(
            [{k: v for k, v in d.items() if k != "secureJsonData"} for d in datasources]
        ).lower()
    )
    # Grafana reads the de-duplicating store, not one Prometheus replica.
    urls = {ds["uid"]: ds["url"] for ds in datasources}
    assert urls["prometheus"] == "http://vmselect:8481/select/0/prometheus"


def _matchers(matchers: list[dict[str, str]]) -> list[str]:
    return [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in matchers]


def _route(route: dict[str, Any]) -> dict[str, Any]:
    """A CRD route in alertmanager.yml's form."""
    names = {
        "groupBy": "group_by",
        "groupWait": "group_wait",
        "groupInterval": "group_interval",
        "repeatInterval": "repeat_interval",
    }
    plain: dict[str, Any] = {names.get(k, k): v for k, v in route.items() if k != "routes"}
    if "matchers" in route:
        plain["matchers"] = _matchers(route["matchers"])
    if "routes" in route:
        plain["routes"] = [_route(child) for child in route["routes"]]
    return plain


def test_alertmanager_config_routes_as_alertmanager_yml(rendered: dict[str, str]) -> None:
    (config,) = _of_kind(rendered, "AlertmanagerConfig")
    plain = yaml.safe_load(rendered[ALERTMANAGER_CONFIG_PATH])
    spec = config["spec"]
    assert _route(spec["route"]) == plain["route"]
    inhibitions = [
        {
            "source_matchers": _matchers(rule["sourceMatch"]),
            "target_matchers": _matchers(rule["targetMatch"]),
            "equal": rule["equal"],
        }
        for rule in spec["inhibitRules"]
    ]
    assert inhibitions == plain["inhibit_rules"]
    receivers = {
        r["name"]: [hook["url"] for hook in r.get("webhookConfigs", [])] for r in spec["receivers"]
    }
    assert receivers == {
        r["name"]: [hook["url"] for hook in r.get("webhook_configs", [])]
        for r in plain["receivers"]
    }


def test_webhook_tokens_come_from_a_secret(rendered: dict[str, str]) -> None:
    (config,) = _of_kind(rendered, "AlertmanagerConfig")
    for receiver in config["spec"]["receivers"]:
        for hook in receiver["webhookConfigs"]:
            credentials = hook["httpConfig"]["authorization"]["credentials"]
            assert credentials == {"name": "bestbox-alertmanager", "key": "alert_webhook_token"}


def test_the_alertmanager_resource_uses_the_config_as_its_whole_configuration(
    rendered: dict[str, str], stack: Stack
) -> None:
    # As the global configuration, the Operator adds no `namespace` matcher: alerts that
    # aggregate pods away (sum(active_sessions) > N) carry none and would match no route.
    (alertmanager,) = _of_kind(rendered, "Alertmanager")
    assert alertmanager["spec"]["alertmanagerConfiguration"]["name"] == stack.name
    assert alertmanager["spec"]["replicas"] == 2


# -- monitors, HA and workloads -------------------------------------------------------


def test_every_scraped_service_has_one_monitor(rendered: dict[str, str], stack: Stack) -> None:
    monitors = _of_kind(rendered, "ServiceMonitor") + _of_kind(rendered, "PodMonitor")
    names = sorted(m["metadata"]["name"] for m in monitors)
    assert names == sorted(s.name for s in stack.scraped_services())
    for monitor in monitors:
        name = monitor["metadata"]["name"]
        service = stack.service(name)
        assert service is not None and service.scrape is not None
        (endpoint,) = monitor["spec"].get("endpoints") or monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["path"] == service.scrape.path
        assert endpoint.get("interval") == service.scrape.interval
        # The job label is the service name, as every rule and dashboard expects.
        assert endpoint["relabelings"] == [
            {"action": "replace", "targetLabel": "job", "replacement": name}
        ]


def test_pods_of_the_workloads_and_the_operator_are_scraped_one_by_one(
    rendered: dict[str, str],
) -> None:
    selectors = {
        m["metadata"]["name"]: (m["spec"]["selector"]["matchLabels"], endpoint["port"])
        for m in _of_kind(rendered, "PodMonitor")
        for endpoint in m["spec"]["podMetricsEndpoints"]
    }
    assert selectors == {
        "agent-api": ({"app.kubernetes.io/name": "agent-api"}, "http"),
        # The labels and port the Operator gives the pods of the stack's resources.
        "prometheus": (
            {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "bestbox"},
            "web",
        ),
        "alertmanager": (
            {"app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": "bestbox"},
            "web",
        ),
    }
    for monitor in _of_kind(rendered, "ServiceMonitor"):
        name = monitor["metadata"]["name"]
        assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]


def test_prometheus_is_an_ha_pair_writing_to_the_store(
    rendered: dict[str, str], stack: Stack
) -> None:
    (prometheus,) = _of_kind(rendered, "Prometheus")
    spec = prometheus["spec"]
    assert spec["replicas"] == 2
    assert spec["replicaExternalLabelName"] == "replica"
    assert spec["externalLabels"] == stack.prometheus.external_labels
    assert spec["remoteWrite"] == [
        {"name": "victoriametrics", "url": "http://vminsert:8480/insert/0/prometheus/api/v1/write"}
    ]
    selector = {"matchLabels": {"app.kubernetes.io/part-of": "bestbox"}}
    assert spec["ruleSelector"] == spec["serviceMonitorSelector"] == selector
    for obj in _objects(rendered).values():
        if obj["kind"] in ("PrometheusRule", "ServiceMonitor", "PodMonitor"):
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "bestbox"


def test_prometheus_may_discover_its_targets(rendered: dict[str, str]) -> None:
    (prometheus,) = _of_kind(rendered, "Prometheus")
    account = prometheus["spec"]["serviceAccountName"]
    assert [a["metadata"]["name"] for a in _of_kind(rendered, "ServiceAccount")] == [account]
    (binding,) = _of_kind(rendered, "RoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": "bestbox"}
    ]
    (role,) = _of_kind(rendered, "Role")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    readable = {
        resource
        for rule in role["rules"]
        if "list" in rule["verbs"] and "watch" in rule["verbs"]
        for resource in rule["resources"]
    }
    # What PodMonitors and ServiceMonitors discover.
    assert {"pods", "services", "endpoints", "endpointslices"} <= readable


def test_agent_replicas_and_spool_come_from_the_spec(
    rendered: dict[str, str], stack: Stack
) -> None:
    assert stack.scale_out is not None
    (workload,) = _of_kind(rendered, "StatefulSet")
    spec = workload["spec"]
    assert spec["replicas"] == stack.scale_out.replicas["agent-api"] == 3
    (claim,) = spec["volumeClaimTemplates"]
    (container,) = spec["template"]["spec"]["containers"]
    (mount,) = container["volumeMounts"]
    assert mount == {"name": claim["metadata"]["name"], "mountPath": "/var/lib/bestbox/spool"}
    env = {e["name"]: e for e in container["env"]}
    assert env["AUDIT_SPOOL_DIR"]["value"] == mount["mountPath"]
    # The image's user may write to its fresh (root-owned) claim.
    pod_security = spec["template"]["spec"]["securityContext"]
    assert pod_security == {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001}
    # Secrets by reference only.
    for name in ("PGPASSWORD", "ADMIN_SESSION_SECRET", "ALERT_WEBHOOK_TOKEN"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "agent-api-secrets", "key": name}
    (budget,) = _of_kind(rendered, "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"] == spec["selector"]
    services = {s["metadata"]["name"]: s for s in _of_kind(rendered, "Service")}
    assert services["agent-api-pods"]["spec"]["clusterIP"] == "None"
    assert spec["serviceName"] == "agent-api-pods"
    assert services["agent-api"]["spec"]["selector"] == spec["selector"]["matchLabels"]


def test_no_object_holds_a_literal_secret(rendered: dict[str, str]) -> None:
    text = "\n".join(t for p, t in rendered.items() if p.startswith(f"{KUBERNETES_DIR}/"))
    assert not re.search(r"(?i)(password|token|secret)\s*:\s*['\"]?[A-Za-z0-9+/]{16,}", text)


# -- the spec -------------------------------------------------------------------------


def _workload(**fields: Any) -> Workload:
    return Workload(
        **{"service": "checkout", "image": "shop/checkout:1.0.0", "memory_limit": "1Gi", **fields}
    )


def test_scale_out_names_only_what_the_stack_defines() -> None:
    scale_out = ScaleOut(
        replicas={"checkout": 2, "payments": 3},
        kubernetes=KubernetesTarget(
            namespace="shop",
            workloads=(_workload(service="payments"),),
            datasource_urls={"thanos": "http://thanos-query:9090"},
            prometheus_service="prom",
        ),
    )
    assert scale_out_problems(scale_out, ["checkout"], ["prometheus"]) == [
        "scale_out.replicas[payments]: 'payments' is not a service",
        "scale_out.kubernetes.workloads[payments]: 'payments' is not a service",
        "scale_out.kubernetes.prometheus_service: 'prom' is not a service",
        "scale_out.kubernetes.datasource_urls[thanos]: no Grafana datasource has that uid",
    ]


def test_a_stack_naming_an_unknown_replicated_service_is_refused() -> None:
    fixture = FIXTURE_STACKS["checkout"]
    fields = {name: getattr(fixture, name) for name in type(fixture).model_fields}
    with pytest.raises(SpecError, match=re.escape("scale_out.replicas[payments]")):
        Stack(**{**fields, "scale_out": ScaleOut(replicas={"payments": 2})})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"environment": {"lower": "x"}}, "'lower' is not an environment variable name"),
        (
            {"environment": {"TOKEN": "x"}, "secret_environment": ("TOKEN",)},
            "both in environment and secret_environment",
        ),
        ({"memory_limit": "1g"}, "memory_limit"),
        ({"image": "shop/checkout:latest"}, "image"),
    ],
    ids=["env-name", "env-and-secret", "memory-unit", "unpinned-image"],
)
def test_a_bad_workload_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        _workload(**fields)


def test_replicas_must_be_positive() -> None:
    with pytest.raises(SpecError, match=re.escape("replicas[checkout]: 0 is not a positive count")):
        ScaleOut(replicas={"checkout": 0})
    assert ScaleOut(replicas={"checkout": 2}).replicas_of("checkout") == 2
    assert ScaleOut().replicas_of("checkout") == 1


def test_scale_out_without_kubernetes_writes_no_kubernetes_file() -> None:
    fixture = FIXTURE_STACKS["checkout"]
    fields = {name: getattr(fixture, name) for name in type(fixture).model_fields}
    stack = Stack(**{**fields, "scale_out": ScaleOut(replicas={"checkout": 2})})
    assert kubernetes_objects(stack) == []


def test_one_prometheus_needs_no_de_duplicating_datasource(stack: Stack) -> None:
    assert stack.scale_out is not None and stack.scale_out.kubernetes is not None
    kubernetes = stack.scale_out.kubernetes.model_copy(update={"datasource_urls": {}})
    for replicas, expected in ((1, []), (2, ["single-replica-datasource"])):
        scale_out = stack.scale_out.model_copy(
            update={"kubernetes": kubernetes, "prometheus_replicas": replicas}
        )
        context = CheckContext.of(stack.model_copy(update={"scale_out": scale_out}))
        assert [f.code for f in check_replica_datasources(context)] == expected
