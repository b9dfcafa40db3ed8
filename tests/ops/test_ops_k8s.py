"""k8s/: the generated base is up to date, both overlays render with kustomize, validate against the
Kubernetes schemas offline, and have the shape operations relies on (probes, limits, non-root, HPA, PDB,
migration Job, NetworkPolicies, operators' resources) for every service that exists, and provision every
Grafana dashboard as a ConfigMap for kube-prometheus-stack's dashboard sidecar."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import shutil
import subprocess
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy.alertmanager import render as alertmanager_render
from deploy.prometheus import render as prometheus_render
from k8s import generate
from tests.ops.test_ops_tools import checkov, missing

REPO_ROOT = Path(__file__).resolve().parents[2]
K8S = REPO_ROOT / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32"
# The operators' kinds, which kubernetes-validate has no schema for: checked against k8s/schemas/ instead.
CRD_SCHEMAS = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmqcluster.yaml",
    ("postgresql.cnpg.io/v1", "Cluster"): "cluster.postgresql.cnpg.io.yaml",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.monitoring.coreos.com.yaml",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor.monitoring.coreos.com.yaml",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.monitoring.coreos.com.yaml",
    ("monitoring.coreos.com/v1", "Alertmanager"): "alertmanager.monitoring.coreos.com.yaml",
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): "alertmanagerconfig.monitoring.coreos.com.yaml",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "scheduledbackup.postgresql.cnpg.io.yaml",
}
# Only production backs up to an object store (dev has none), so only its overlay has the ScheduledBackups.
PROD_ONLY_KINDS = {("postgresql.cnpg.io/v1", "ScheduledBackup")}


SERVICES = [s.name for s in generate.load_services() if s.exists]


def _kustomize(path: Path) -> str:
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(path)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(path)]
    else:
        missing("kubectl (or kustomize)")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all(_kustomize(K8S / "overlays" / overlay)) if d)


def by_kind(docs: tuple[dict[str, Any], ...]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for doc in docs:
        out[doc["kind"]][doc["metadata"]["name"]] = doc
    return out


def pod_specs(docs: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    specs = [
        (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet")
    ]
    specs += [
        (f"CronJob/{d['metadata']['name']}", d["spec"]["jobTemplate"]["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] == "CronJob"
    ]
    return specs


def test_generated_base_is_up_to_date() -> None:
    assert generate.main(["--check"]) == 0, "run `python k8s/generate.py`"


def test_gateway_config_is_the_compose_nginx_config() -> None:
    copy = (K8S / "base" / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    assert copy == (REPO_ROOT / "deploy" / "nginx" / "nginx.compose.conf").read_text(encoding="utf-8")


DASHBOARDS = REPO_ROOT / "deploy" / "grafana" / "dashboards"


def test_dashboard_copies_are_the_grafana_dashboards() -> None:
    copies = K8S / "base" / "grafana" / "dashboards"
    assert {p.name: p.read_text(encoding="utf-8") for p in copies.iterdir()} == {
        p.name: p.read_text(encoding="utf-8") for p in DASHBOARDS.glob("*.json")
    }


def test_check_notices_a_stale_or_a_leftover_dashboard_copy(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(K8S / "base", base)
    assert generate.main(["--check", "--out", str(base)]) == 0
    board = base / "grafana" / "dashboards" / "platform-overview.json"
    board.write_text(board.read_text(encoding="utf-8").replace('"title"', '"Title"', 1), encoding="utf-8")
    assert generate.main(["--check", "--out", str(base)]) == 1
    shutil.rmtree(base)
    shutil.copytree(K8S / "base", base)
    (base / "grafana" / "dashboards" / "removed-dashboard.json").write_text("{}", encoding="utf-8")
    assert generate.main(["--check", "--out", str(base)]) == 1


def test_a_dashboard_too_big_for_a_configmap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "small.json").write_text("{}", encoding="utf-8")
    assert generate.dashboards(tmp_path) == {"small.json": "{}"}
    (tmp_path / "huge.json").write_text('{"x": "' + "x" * generate.CONFIGMAP_LIMIT + '"}', encoding="utf-8")
    with pytest.raises(ValueError, match="1 MiB"):
        generate.dashboards(tmp_path)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_dashboard_is_a_configmap_the_grafana_sidecar_loads(overlay: str) -> None:
    """kube-prometheus-stack's Grafana sidecar loads ConfigMaps labelled grafana_dashboard="1" (any namespace)
    and files them in the folder the grafana_folder annotation names (deploy/README.md gives the values)."""
    docs = rendered(overlay)
    loaded = {
        d["metadata"]["name"]: d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    }
    boards = sorted(DASHBOARDS.glob("*.json"))
    assert len(boards) >= 8  # platform overview, CIO workflow, RabbitMQ, one per service
    assert set(loaded) == {f"grafana-dashboard-{p.stem}" for p in boards}, "one ConfigMap per dashboard, no other"
    uids = set()
    for path in boards:
        cm = loaded[f"grafana-dashboard-{path.stem}"]
        text = path.read_text(encoding="utf-8")
        assert cm["data"] == {path.name: text}, f"{path.name}: not the generated JSON"
        assert json.loads(cm["data"][path.name]) == json.loads(text)
        assert cm["metadata"]["annotations"]["grafana_folder"] == "CIO platform"
        assert cm["metadata"]["namespace"] == ("cio-dev" if overlay == "dev" else "cio")
        data_size = sum(len(k.encode()) + len(v.encode()) for k, v in cm["data"].items())
        assert data_size < generate.CONFIGMAP_LIMIT, f"{path.name}: {data_size} bytes"
        assert len(json.dumps(cm).encode()) < generate.CONFIGMAP_LIMIT, f"{path.name}: the whole object"
        uids.add(json.loads(text)["uid"])
    assert len(uids) == len(boards), "Grafana keeps one dashboard per uid"


def test_the_dashboards_use_the_datasource_uid_kube_prometheus_stack_provisions() -> None:
    """The stack's Grafana names its Prometheus datasource uid "prometheus" (grafana.sidecar.datasources.uid),
    as compose's provisioning does, so the dashboards load with no datasource to pick."""

    def uids(node: Any) -> set[str]:
        if isinstance(node, list):
            return set().union(*map(uids, node))
        if not isinstance(node, dict):
            return set()
        found = {node["datasource"]["uid"]} if isinstance(node.get("datasource"), dict) else set()
        return found.union(*map(uids, node.values()))

    for path in DASHBOARDS.glob("*.json"):
        wanted = {"loki"} if path.name == "logs.json" else {"prometheus"}
        assert uids(json.loads(path.read_text(encoding="utf-8"))) == wanted, path.name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grafana_gets_the_loki_datasource_the_logs_dashboard_reads(overlay: str) -> None:
    (config,) = [
        d
        for d in rendered(overlay)
        if d["kind"] == "ConfigMap" and d["metadata"].get("labels", {}).get("grafana_datasource") == "1"
    ]
    (source,) = yaml.safe_load(config["data"]["loki.yaml"])["datasources"]
    compose = yaml.safe_load(
        (REPO_ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "loki.yml").read_text()
    )
    assert source["uid"] == compose["datasources"][0]["uid"] == "loki" and source["type"] == "loki"
    assert source["url"] == "http://loki-gateway.monitoring.svc"


def test_the_web_pods_believe_forwarded_headers_only_from_the_pod_network() -> None:
    """Not "*": gunicorn takes X-Forwarded-* (scheme, client address) only from the pod network's private ranges."""
    for service in SERVICES:
        docs = yaml.safe_load_all((K8S / "base" / "services" / f"{service}.yaml").read_text(encoding="utf-8"))
        config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == f"{service}-config")
        allowed = config["data"]["FORWARDED_ALLOW_IPS"].split(",")
        assert all(ipaddress.ip_network(value).is_private for value in allowed), (service, allowed)


def test_every_kustomization_resource_exists() -> None:
    for kustomization in K8S.rglob("kustomization.yaml"):
        spec = yaml.safe_load(kustomization.read_text(encoding="utf-8"))
        for resource in spec.get("resources", []):
            assert (kustomization.parent / resource).exists(), f"{kustomization}: {resource}"
        for generator in spec.get("configMapGenerator", []):
            for entry in generator.get("files", []):
                assert (kustomization.parent / entry.split("=")[-1]).is_file(), f"{kustomization}: {entry}"


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = yaml.safe_load((K8S / "schemas" / CRD_SCHEMAS[(api_version, kind)]).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validation_errors(doc: dict[str, Any]) -> list[str]:
    """Errors of one object: built-in kinds against Kubernetes' own schemas, operators' kinds against ours."""
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    key = (doc["apiVersion"], doc["kind"])
    if key in CRD_SCHEMAS:
        return [
            f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in crd_validator(*key).iter_errors(doc)
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{where}: no schema for {key}: add one to k8s/schemas/ (see its README.md)"]
    except kubernetes_validate.ValidationError as exc:
        return [f"{where}: {exc}"]
    return []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    docs = rendered(overlay)
    wanted = set(CRD_SCHEMAS) if overlay == "prod" else set(CRD_SCHEMAS) - PROD_ONLY_KINDS
    assert {(d["apiVersion"], d["kind"]) for d in docs} >= wanted, "every operator kind is rendered"
    errors = [error for doc in docs for error in validation_errors(doc)]
    assert not errors, "\n".join(errors)


def test_the_operator_schemas_reject_a_misspelt_field() -> None:
    kinds = by_kind(rendered("prod"))
    broken = copy.deepcopy(kinds["Cluster"]["cio-approvals-db"])
    broken["spec"]["instance"] = broken["spec"].pop("instances")
    assert any("instance" in e for e in validation_errors(broken))
    broken = copy.deepcopy(kinds["RabbitmqCluster"]["cio-rabbitmq"])
    broken["spec"]["rabbitmq"]["additionalPlugins"] = ["rabbitmq shovel"]
    assert validation_errors(broken)
    broken = copy.deepcopy(kinds["ServiceMonitor"]["approvals"])
    broken["spec"]["endpoints"][0]["interval"] = "15 seconds"
    assert validation_errors(broken)
    broken = copy.deepcopy(kinds["Deployment"]["approvals-web"])  # and the built-in kinds are strict too
    broken["spec"]["replica"] = 2
    assert validation_errors(broken)


def test_overlays_and_the_dockerfile_pass_checkov(tmp_path: Path) -> None:
    """The security linter, with the skips (and their reasons) in k8s/.checkov.yaml."""
    binary = checkov()
    files = []
    for overlay in OVERLAYS:
        path = tmp_path / f"{overlay}.yaml"
        path.write_text(yaml.safe_dump_all(rendered(overlay)), encoding="utf-8")
        files += ["-f", str(path)]
    result = subprocess.run(
        [binary, "--config-file", str(K8S / ".checkov.yaml"), *files, "-f", str(REPO_ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "kubernetes scan results" in result.stdout and "dockerfile scan results" in result.stdout


def test_every_checkov_skip_has_its_reason() -> None:
    lines = (K8S / ".checkov.yaml").read_text(encoding="utf-8").splitlines()
    skips = [i for i, line in enumerate(lines) if line.strip().startswith("- CKV_")]
    assert skips
    for i in skips:
        assert lines[i - 1].strip().startswith("#"), f"{lines[i].strip()}: say why in a comment above it"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_non_root_with_resources_and_probes(overlay: str) -> None:
    for name, spec in pod_specs(rendered(overlay)):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in spec["containers"]:
            where = f"{name}/{c['name']}"
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, where
            assert sc["capabilities"]["drop"] == ["ALL"] and sc["runAsUser"] != 0, where
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
            assert "memory" in c["resources"]["limits"], where
            assert ":" in c["image"] and not c["image"].endswith(":latest"), f"{where}: pin the image tag"
            if name.startswith("Deployment/"):
                assert c["readinessProbe"]["httpGet"] and c["livenessProbe"]["httpGet"], where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_its_full_set_of_objects(overlay: str) -> None:
    kinds = by_kind(rendered(overlay))
    for name in SERVICES:
        web, worker = kinds["Deployment"][f"{name}-web"], kinds["Deployment"][f"{name}-worker"]
        (web_c,) = web["spec"]["template"]["spec"]["containers"]
        (worker_c,) = worker["spec"]["template"]["spec"]["containers"]
        assert web_c["command"][:4] == [
            "gunicorn",
            "-c",
            "deploy/gunicorn/gunicorn.conf.py",
            f"{name}.entrypoints.web:create_app()",
        ]
        assert worker_c["command"] == ["python", "-m", f"{name}.entrypoints.worker"]
        for c, port in ((web_c, 8000), (worker_c, 9100)):
            assert c["ports"][0]["containerPort"] == port
            assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready"
            assert c["livenessProbe"]["httpGet"]["path"] == "/health/live"
        job = kinds["Job"][f"{name}-migrate"]
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
            "python",
            "-m",
            f"{name}.entrypoints.cli",
            "migrate",
        ]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        for suffix in ("web", "worker"):
            assert kinds["PodDisruptionBudget"][f"{name}-{suffix}"]["spec"]["selector"]["matchLabels"]
            hpa = kinds["HorizontalPodAutoscaler"][f"{name}-{suffix}"]
            assert hpa["spec"]["scaleTargetRef"]["name"] == f"{name}-{suffix}"
            assert kinds["Service"][f"{name}-{suffix}"]
            assert kinds["NetworkPolicy"][f"{name}-{suffix}"]
        assert kinds["HorizontalPodAutoscaler"][f"{name}-web"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        external = kinds["HorizontalPodAutoscaler"][f"{name}-worker"]["spec"]["metrics"][0]["external"]
        assert external["metric"]["name"] == "rabbitmq_queue_messages_ready"
        config = kinds["ConfigMap"]
        (cm,) = [c for n, c in config.items() if n.startswith(f"{name}-config")]
        assert cm["data"]["SERVICE_NAME"] == name and cm["data"]["BUS_QUORUM_QUEUES"] == "true"
        assert cm["data"]["APP_ENV"] == "production"
        secret = kinds["Secret"][f"{name}-secrets"]
        assert set(secret["stringData"].values()) == {"REPLACE_ME"}, "Secrets are templates only"
        assert {"DATABASE_URL", "AMQP_URL"} <= set(secret["stringData"])
        assert kinds["ServiceMonitor"][name]["spec"]["endpoints"]
        assert kinds["PodMonitor"][f"cio-{name}-db"]["spec"]["podMetricsEndpoints"]
        assert kinds["Cluster"][f"cio-{name}-db"]["spec"]["bootstrap"]["initdb"]["database"] == f"cio_{name}"
        assert kinds["NetworkPolicy"][f"cio-{name}-db"]


def test_worker_hpas_name_queues_the_workers_really_consume() -> None:
    docs = rendered("prod")
    for name in SERVICES:
        hpa = by_kind(docs)["HorizontalPodAutoscaler"][f"{name}-worker"]
        (expr,) = hpa["spec"]["metrics"][0]["external"]["metric"]["selector"]["matchExpressions"]
        source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "services" / name).rglob("*.py"))
        for queue in expr["values"]:
            suffix = queue.split(".", 1)[1]
            assert f'"{queue}"' in source or f'.{suffix}"' in source, f"{name}: queue {queue} not declared"


def test_network_policies_keep_services_and_databases_private() -> None:
    kinds = by_kind(rendered("prod"))
    assert kinds["NetworkPolicy"]["default-deny-ingress"]["spec"]["podSelector"] == {}
    for name in SERVICES:
        web_from = kinds["NetworkPolicy"][f"{name}-web"]["spec"]["ingress"][0]["from"]
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}} in web_from
        assert any("namespaceSelector" in peer for peer in web_from), "Prometheus must reach /metrics"
        db_from = kinds["NetworkPolicy"][f"cio-{name}-db"]["spec"]["ingress"][0]["from"]
        app_peers = [p["podSelector"]["matchLabels"] for p in db_from if "namespaceSelector" not in p]
        assert {"app.kubernetes.io/name": name} in app_peers
        assert all(peer.get("app.kubernetes.io/name") in (name, None) for peer in app_peers)


def test_prod_runs_a_three_node_rabbitmq_and_replicated_databases() -> None:
    kinds = by_kind(rendered("prod"))
    assert kinds["RabbitmqCluster"]["cio-rabbitmq"]["spec"]["replicas"] == 3
    assert all(c["spec"]["instances"] == 3 for c in kinds["Cluster"].values())
    ingress = kinds["Ingress"]["gateway"]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "gateway"
    assert all(d["metadata"]["namespace"] == "cio" for d in rendered("prod") if d["kind"] != "Namespace")
    assert all(d["metadata"].get("namespace") == "cio-dev" for d in rendered("dev") if d["kind"] != "Namespace")


def _monitor_jobs(docs: tuple[dict[str, Any], ...]) -> set[str]:
    """The job names the ServiceMonitors and PodMonitors give their targets (set by a relabeling)."""
    jobs = set()
    for doc in docs:
        if doc["kind"] not in ("ServiceMonitor", "PodMonitor"):
            continue
        for endpoint in doc["spec"].get("endpoints") or doc["spec"]["podMetricsEndpoints"]:
            (job,) = [r["replacement"] for r in endpoint.get("relabelings", []) if r["targetLabel"] == "job"]
            jobs.add(job)
    return jobs


def test_monitors_give_the_job_names_the_alerts_and_dashboards_select() -> None:
    """Without the relabelings the Prometheus Operator would name jobs after Services (approvals-web, ...),
    and every `job="web"` of the rules, dashboards and the worker HPAs' adapter rule would match nothing."""
    selected = set()
    sources = [p.read_text(encoding="utf-8") for p in (REPO_ROOT / "deploy" / "prometheus" / "rules").glob("*.yml")]
    sources += [p.read_text(encoding="utf-8") for p in (REPO_ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")]
    for text in sources:
        selected |= set(re.findall(r'job=\\*"([\w-]+)\\*"', text))
        for alternatives in re.findall(r'job=~\\*"([\w|-]+)\\*"', text):
            selected |= set(alternatives.split("|"))
    assert {"web", "worker", "rabbitmq", "rabbitmq-queues"} <= selected  # the patterns above do find them
    compose_jobs = {job["job_name"] for job in prometheus_render.build("compose")["scrape_configs"]}
    assert selected <= compose_jobs, f"jobs no compose scrape config has: {selected - compose_jobs}"
    for overlay in OVERLAYS:
        jobs = _monitor_jobs(rendered(overlay))
        assert selected <= jobs, f"{overlay}: jobs no monitor sets: {sorted(selected - jobs)}"
        assert jobs <= compose_jobs, f"{overlay}: jobs compose does not have: {sorted(jobs - compose_jobs)}"


def test_the_cluster_evaluates_the_same_alert_rules_as_compose() -> None:
    (rule,) = by_kind(rendered("prod"))["PrometheusRule"].values()
    groups = [
        group
        for path in sorted((REPO_ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    ]
    assert rule["spec"]["groups"] == groups


def test_the_ingress_routes_every_public_route_and_nothing_internal() -> None:
    (ingress,) = by_kind(rendered("prod"))["Ingress"].values()
    prefixes = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]

    def routed(path: str) -> bool:  # Kubernetes' Prefix match: whole path elements
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)

    for service in generate.load_services():
        for route in service.routes:
            assert routed(route), route
        assert routed(f"/openapi/{service.name}/openapi.json")
    # The portal is served at `/`, so every path reaches the gateway's public listener: the internal ones must be
    # refused there, and stub_status lives only on the listener the Service does not expose.
    assert routed("/") and routed("/school/rounds/42") and routed("/assets/index-4f2a.js")
    conf = (K8S / "base" / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    public, _, status_listener = conf.partition("listen 8081;")
    for internal in ("/nginx_status", "/metrics"):
        block = public[public.index(f"location = {internal} {{") :].split("\n        }", 1)[0]
        assert "return 404" in block, internal
    assert "stub_status" not in public and "stub_status" in status_listener
    session_check = public[public.index("location = /sso/session {") :].split("}", 1)[0]
    assert "internal;" in session_check
    service = by_kind(rendered("prod"))["Service"]["gateway"]
    assert 8081 not in [port["port"] for port in service["spec"]["ports"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_cluster_seeds_no_demo_accounts_and_keeps_production_settings(overlay: str) -> None:
    docs = rendered(overlay)
    text = yaml.safe_dump_all(docs)
    assert "seed-demo" not in text and "--web.enable-lifecycle" not in text
    kinds = by_kind(docs)
    for name in SERVICES:
        (config,) = [c for n, c in kinds["ConfigMap"].items() if n.startswith(f"{name}-config")]
        assert config["data"]["APP_ENV"] == "production"
        if name != "identity":  # keys from identity inside the cluster, never through the public gateway
            assert config["data"]["JWKS_URL"] == "http://identity-web:8000/api/auth/.well-known/jwks.json"
    for secret in kinds.get("Secret", {}).values():
        for key, value in (secret.get("stringData") or {}).items():
            assert not value or "REPLACE" in value or "$(" in value, f"{secret['metadata']['name']}.{key}"


def test_the_gateway_believes_forwarded_addresses_only_from_the_ingress_controllers() -> None:
    kinds = by_kind(rendered("prod"))
    (config,) = [c for n, c in kinds["ConfigMap"].items() if n.startswith("gateway-nginx")]
    proxies = config["data"]["trusted-proxies.conf"]
    assert "set_real_ip_from 10.0.0.0/8;" in proxies
    assert "include /etc/nginx/trusted-proxies.conf;" in config["data"]["nginx.conf"]
    nginx = kinds["Deployment"]["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert "/etc/nginx/trusted-proxies.conf" in {m["mountPath"] for m in nginx["volumeMounts"]}
    admitted = kinds["NetworkPolicy"]["gateway"]["spec"]["ingress"]
    on_http = [rule["from"] for rule in admitted if {"protocol": "TCP", "port": 8080} in rule["ports"]]
    assert on_http == [[{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]]
    identity = next(c for n, c in kinds["ConfigMap"].items() if n.startswith("identity-config"))
    assert "10.0.0.0/8" in identity["data"]["TRUSTED_PROXIES"]


def test_the_cluster_s_alertmanager_routes_and_inhibits_as_amtool_tests_them() -> None:
    """The AlertmanagerConfig is deploy/alertmanager/render.py's tree, converted: same receivers per route."""
    kinds = by_kind(rendered("prod"))
    manager = kinds["Alertmanager"]["cio"]
    assert manager["spec"]["replicas"] == 3 and manager["spec"]["alertmanagerConfiguration"]["name"] == "cio-platform"
    config = kinds["AlertmanagerConfig"]["cio-platform"]["spec"]

    def flatten(route: dict[str, Any]) -> list[tuple[str, tuple[str, ...], bool]]:
        here = [(route["receiver"], tuple(route.get("matchers", [])), route.get("continue", False))]
        return here + [r for child in route.get("routes", []) for r in flatten(child)]

    def as_text(matchers: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple(f'{m["name"]}{m.get("matchType", "=")}"{m["value"]}"' for m in matchers)

    cluster = [(receiver, as_text(m), cont) for receiver, m, cont in flatten(config["route"])]
    assert cluster == [(r, tuple(m), c) for r, m, c in flatten(alertmanager_render.routes())]
    assert config["route"]["groupBy"] == ["alertname", "service"]
    inhibit = [
        (as_text(tuple(r["sourceMatch"])), as_text(tuple(r["targetMatch"])), r["equal"]) for r in config["inhibitRules"]
    ]
    assert inhibit == [
        (tuple(r["source_matchers"]), tuple(r["target_matchers"]), r["equal"])
        for r in alertmanager_render.inhibit_rules()
    ]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert set(receivers) == {"oncall", "workflow-office", "ops-mail", "platform-inbox"}
    assert receivers["oncall"]["emailConfigs"] and receivers["oncall"]["wechatConfigs"]
    (webhook,) = receivers["platform-inbox"]["webhookConfigs"]
    assert webhook["url"] == "http://notifications-web:8000/api/alerts/alertmanager"
    assert webhook["httpConfig"]["oauth2"]["tokenUrl"] == "http://identity-web:8000/api/auth/token"
    secret = kinds["Secret"]["alertmanager-cio-receivers"]["stringData"]
    assert set(secret.values()) == {"REPLACE_ME"}
    referenced = {receivers["oncall"]["emailConfigs"][0]["authPassword"]["key"]}
    referenced |= {receivers["oncall"]["wechatConfigs"][0]["apiSecret"]["key"]}
    referenced |= {
        webhook["httpConfig"]["oauth2"]["clientSecret"]["key"],
        webhook["httpConfig"]["oauth2"]["clientId"]["secret"]["key"],
    }
    assert referenced == set(secret)


def test_alertmanager_reaches_identity_and_notifications_and_prometheus_reaches_it() -> None:
    kinds = by_kind(rendered("prod"))
    for name in ("identity", "notifications"):
        peers = [peer for rule in kinds["NetworkPolicy"][f"{name}-web"]["spec"]["ingress"] for peer in rule["from"]]
        assert {"podSelector": {"matchLabels": {"alertmanager": "cio"}}} in peers, name
    for name in ("approvals", "training", "nominations"):
        peers = [peer for rule in kinds["NetworkPolicy"][f"{name}-web"]["spec"]["ingress"] for peer in rule["from"]]
        assert {"podSelector": {"matchLabels": {"alertmanager": "cio"}}} not in peers, name
    policy = kinds["NetworkPolicy"]["alertmanager"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"alertmanager": "cio"}}
    assert {"protocol": "TCP", "port": 9093} in policy["ingress"][0]["ports"]


def test_prod_backs_up_every_database_daily_with_a_retention_policy() -> None:
    kinds = by_kind(rendered("prod"))
    for name in SERVICES:
        cluster = kinds["Cluster"][f"cio-{name}-db"]["spec"]
        assert cluster["backup"]["retentionPolicy"] == "30d"
        assert cluster["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
        backup = kinds["ScheduledBackup"][f"cio-{name}-db-daily"]
        assert backup["spec"]["cluster"] == {"name": f"cio-{name}-db"}
        assert backup["spec"]["schedule"] == "0 15 2 * * *" and backup["spec"]["method"] == "barmanObjectStore"
        assert backup["metadata"]["namespace"] == "cio"
    assert len(kinds["ScheduledBackup"]) == len(SERVICES)
    assert "ScheduledBackup" not in by_kind(rendered("dev")), "dev has no object store to back up to"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_signing_keys_rotate_monthly_by_cronjob_and_not_by_the_worker_timer(overlay: str) -> None:
    kinds = by_kind(rendered(overlay))
    job = kinds["CronJob"]["identity-rotate-keys"]["spec"]
    assert job["schedule"] == "0 3 1 * *" and job["concurrencyPolicy"] == "Forbid"
    (container,) = job["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "identity.entrypoints.cli", "rotate-keys"]
    assert {
        "configMapRef": {"name": next(n for n in kinds["ConfigMap"] if n.startswith("identity-config"))}
    } in container["envFrom"]
    assert {"secretRef": {"name": "identity-secrets"}} in container["envFrom"]
    (config,) = [c for n, c in kinds["ConfigMap"].items() if n.startswith("identity-config")]
    assert config["data"]["SIGNING_KEY_ROTATION_SECONDS"] == "0"
    # The database admits it: its pods carry app.kubernetes.io/name=identity.
    labels = job["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "identity"
