"""Without the npm registry the interop suite fails with a clear message; it never skips."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from . import better_auth_harness
from .conftest import require_node_modules

pytestmark = pytest.mark.interop


@pytest.fixture
def offline_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh copy of the Node project, an empty npm cache and a registry nobody serves."""
    project = tmp_path / "better_auth"
    project.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(better_auth_harness.NODE_DIR / name, project / name)
    monkeypatch.setattr(better_auth_harness, "NODE_DIR", project)
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # discard port: refused
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_offline", "false")
    monkeypatch.setenv("npm_config_fetch_retries", "0")


@pytest.mark.usefixtures("offline_npm")
def test_install_without_registry_fails_the_run_with_a_clear_message():
    with pytest.raises(pytest.fail.Exception, match="npm registry unreachable") as failure:
        require_node_modules()
    assert "Better Auth interop suite cannot run" in str(failure.value)
    assert not isinstance(failure.value, pytest.skip.Exception)
