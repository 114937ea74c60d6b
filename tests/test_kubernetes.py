"""deploy/kubernetes, rendered by the locked kubectl's kustomize and validated offline."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

from tests.deployment import KUBERNETES, kustomize, setting_names
from tests.processes import ROOT

# The oldest and the newest Kubernetes minor versions the manifests are checked against.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
KUSTOMIZATIONS = ("base", "overlays/example")
SECRET_SETTINGS = {"DATABASE_URL", "BETTER_AUTH_SECRET", "RATE_LIMIT_STORAGE_URL"}

Manifest = dict[str, Any]


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def manifests(request: pytest.FixtureRequest) -> list[Manifest]:
    rendered: list[Manifest] = kustomize(KUBERNETES / request.param)
    return rendered


@pytest.fixture(scope="module")
def base() -> list[Manifest]:
    return kustomize(KUBERNETES / "base")


def _one(manifests: list[Manifest], kind: str) -> Manifest:
    [found] = [m for m in manifests if m["kind"] == kind]
    return found


def _pod(manifests: list[Manifest], kind: str) -> dict[str, Any]:
    pod: dict[str, Any] = _one(manifests, kind)["spec"]["template"]
    return pod


def _container(manifests: list[Manifest], kind: str) -> dict[str, Any]:
    [container] = _pod(manifests, kind)["spec"]["containers"]
    return container


def _config(manifests: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = _one(manifests, "ConfigMap")["data"]
    return data


def _environment_names(container: dict[str, Any]) -> set[str]:
    return {variable["name"] for variable in container.get("env", [])}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_are_valid_kubernetes_objects(manifests: list[Manifest], version: str):
    for manifest in manifests:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_manifests_hold_the_expected_objects(manifests: list[Manifest]):
    kinds = sorted(m["kind"] for m in manifests)
    expected = ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job",
                "PodDisruptionBudget", "Service", "ServiceAccount"]
    assert kinds in (expected, sorted([*expected, "Ingress"]))


def test_manifests_set_only_known_settings(manifests: list[Manifest]):
    for kind in ("Deployment", "Job"):
        names = _environment_names(_container(manifests, kind))
        assert names <= setting_names(), names - setting_names()
    assert set(_config(manifests)) <= setting_names(), set(_config(manifests)) - setting_names()
    assert _config(manifests)["APP_ENV"] == "production"


def test_manifests_take_secrets_only_by_reference(manifests: list[Manifest]):
    assert "Secret" not in {m["kind"] for m in manifests}
    assert not SECRET_SETTINGS & set(_config(manifests))
    api_env = {v["name"]: v for v in _container(manifests, "Deployment")["env"]}
    assert set(api_env) == SECRET_SETTINGS
    for variable in api_env.values():
        assert set(variable) == {"name", "valueFrom"}
        assert variable["valueFrom"]["secretKeyRef"]["name"] == "todo-api"
    references = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in api_env.values()}
    # Deployments that verify tokens with BETTER_AUTH_JWKS_URL only have no shared secret.
    assert references["BETTER_AUTH_SECRET"]["optional"] is True
    assert "optional" not in references["DATABASE_URL"]
    assert "optional" not in references["RATE_LIMIT_STORAGE_URL"]


def test_deployment_probes_readiness_liveness_and_startup(manifests: list[Manifest]):
    api = _container(manifests, "Deployment")
    assert api["ports"] == [{"name": "http", "containerPort": 8000}]
    assert api["command"][-4:] == ["--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    assert api["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}


def test_deployment_serves_with_workers_from_the_config(manifests: list[Manifest]):
    api = _container(manifests, "Deployment")
    assert api["command"][:2] == ["todo-api", "serve"]
    assert "--workers" not in api["command"]
    assert int(_config(manifests)["WEB_CONCURRENCY"]) >= 1
    config_map = _one(manifests, "ConfigMap")["metadata"]["name"]
    assert api["envFrom"] == [{"configMapRef": {"name": config_map}}]


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_run_locked_down(manifests: list[Manifest], kind: str):
    pod = _pod(manifests, kind)["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's USER
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["containers"]
    assert container["securityContext"] == {"allowPrivilegeEscalation": False,
                                             "readOnlyRootFilesystem": True,
                                             "capabilities": {"drop": ["ALL"]}}
    writable = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert set(mounts.values()) <= writable
    metrics_dir = _config(manifests)["PROMETHEUS_MULTIPROC_DIR"]
    assert any(metrics_dir.startswith(f"{path}/") for path in mounts)


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_containers_request_and_limit_resources(manifests: list[Manifest], kind: str):
    resources = _container(manifests, kind)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"memory"}


def test_migration_job_runs_todo_api_migrate_over_the_direct_host(manifests: list[Manifest]):
    job = _one(manifests, "Job")
    migrate = _container(manifests, "Job")
    assert migrate["command"] == ["todo-api", "migrate"]
    assert migrate["image"] == _container(manifests, "Deployment")["image"]
    references = {v["name"]: v["valueFrom"]["secretKeyRef"]["key"] for v in migrate["env"]}
    assert references == {"DATABASE_URL": "database-url-direct",
                          "BETTER_AUTH_SECRET": "better-auth-secret"}
    assert _pod(manifests, "Job")["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["activeDeadlineSeconds"] > 0


def test_service_and_budget_select_api_pods_but_not_the_migration(manifests: list[Manifest]):
    api_labels = _pod(manifests, "Deployment")["metadata"]["labels"].items()
    migration_labels = _pod(manifests, "Job")["metadata"]["labels"].items()
    deployment_selector = _one(manifests, "Deployment")["spec"]["selector"]["matchLabels"]
    for selector in (_one(manifests, "Service")["spec"]["selector"],
                     _one(manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
                     deployment_selector):
        assert selector.items() <= api_labels
        assert not selector.items() <= migration_labels
    port = _one(manifests, "Service")["spec"]["ports"]
    assert port == [{"name": "http", "port": 80, "targetPort": "http"}]


def test_autoscaler_owns_the_replica_count(manifests: list[Manifest]):
    hpa = _one(manifests, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    deployment = _one(manifests, "Deployment")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert "replicas" not in deployment["spec"]
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_disruptions_and_rollouts_keep_a_replica_serving(manifests: list[Manifest]):
    budget = _one(manifests, "PodDisruptionBudget")["spec"]
    minimum = _one(manifests, "HorizontalPodAutoscaler")["spec"]["minReplicas"]
    assert budget["maxUnavailable"] < minimum
    strategy = _one(manifests, "Deployment")["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_termination_grace_period_covers_the_shutdown(manifests: list[Manifest]):
    pod = _pod(manifests, "Deployment")["spec"]
    pre_stop = _container(manifests, "Deployment")["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain = int(pre_stop[1]) + int(_config(manifests)["SHUTDOWN_TIMEOUT_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > drain


def test_overlay_pins_the_image_and_trusts_only_its_proxies():
    overlay = kustomize(KUBERNETES / "overlays" / "example")
    image = _container(overlay, "Deployment")["image"]
    assert re.fullmatch(r"[a-z0-9./-]+:\d+\.\d+\.\d+", image), image
    assert {m["metadata"]["namespace"] for m in overlay} == {"todo-api"}
    assert _config(overlay)["FORWARDED_ALLOW_IPS"] != "*"


def test_readme_shows_the_secret_the_manifests_reference(base: list[Manifest]):
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"kubectl -n todo-api create secret generic todo-api(.*?)\n```", readme,
                        re.DOTALL)
    assert command, "the README's `kubectl create secret` example"
    created = set(re.findall(r"--from-literal=([a-z-]+)=", command[1]))
    referenced = {v["valueFrom"]["secretKeyRef"]["key"]
                  for kind in ("Deployment", "Job") for v in _container(base, kind)["env"]}
    assert created == referenced


def test_readme_documents_every_setting_the_manifests_set(base: list[Manifest]):
    readme = (ROOT / "README.md").read_text()
    overlay = kustomize(KUBERNETES / "overlays" / "example")
    names = set(_config(overlay)) | _environment_names(_container(base, "Deployment"))
    for name in names:
        assert f"`{name}`" in readme, name


def test_readme_connection_arithmetic_matches_the_manifests(base: list[Manifest]):
    config = _config(base)
    replicas = _one(base, "HorizontalPodAutoscaler")["spec"]["maxReplicas"]
    workers, pool = int(config["WEB_CONCURRENCY"]), int(config["DB_POOL_SIZE"])
    overflow = int(config["DB_MAX_OVERFLOW"])
    total = replicas * workers * (pool + overflow)
    sentence = f"{replicas} pods x {workers} worker x ({pool} + {overflow}) = {total}"
    assert sentence in (ROOT / "README.md").read_text()
