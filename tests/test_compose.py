"""docker-compose.yml, its nginx proxy and the Dockerfile, checked offline (no Docker engine)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from ipaddress import ip_address, ip_network
from typing import Any

import jsonschema
import pytest

from app.settings import Settings
from tests.deployment import Directive, find, load_compose, load_nginx_conf, setting_names
from tests.processes import ROOT

COMPOSE_SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
COMPOSE_SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"
LONG_RUNNING = {"proxy", "api", "postgres", "redis"}
# PostgreSQL numbers a release MAJOR.MINOR (16.15); the other images here MAJOR.MINOR.PATCH.
EXACT_TAG = re.compile(r"^(postgres:\d+\.\d+|[a-z0-9./-]+:\d+\.\d+\.\d+)(-[a-z0-9.]+)*$")
EDGE_DEFAULT = ("${EDGE_NETWORK:-10.203.0}", "10.203.0")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def nginx() -> list[Directive]:
    return load_nginx_conf()


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def _default_setting(name: str) -> Any:
    return Settings.model_fields[name].default


def test_compose_schema_is_the_vendored_release():
    assert hashlib.sha256(COMPOSE_SCHEMA.read_bytes()).hexdigest() == COMPOSE_SCHEMA_SHA256


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]):
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SCHEMA.read_text()))
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator.iter_errors(compose)]
    assert errors == []


def test_compose_runs_proxy_api_migration_postgres_and_redis(compose: dict[str, Any]):
    services = compose["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] == "unless-stopped", name
    assert services["migrate"]["restart"] == "no"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])


def test_compose_api_is_healthy_only_when_ready(compose: dict[str, Any]):
    check = " ".join(_service(compose, "api")["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/ready" in check


def test_compose_publishes_only_the_proxy_port(compose: dict[str, Any]):
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    assert _service(compose, "proxy")["ports"] == ["${PROXY_PORT:-8000}:8080"]


def test_compose_api_scales_to_several_replicas(compose: dict[str, Any], nginx: list[Directive]):
    api = _service(compose, "api")
    assert not {"container_name", "hostname", "ports"} & set(api)
    assert find(nginx, "http", "resolver")[0]["args"][0] == "127.0.0.11"  # Docker's DNS
    assert find(nginx, "http", "upstream api", "server")[0]["args"] == ["api:8000", "resolve"]
    assert find(nginx, "http", "upstream api", "zone")
    assert find(nginx, "http", "server", "location /", "proxy_pass")[0]["args"] == ["http://api"]


def test_compose_migrates_once_before_the_replicas_start(compose: dict[str, Any]):
    migrate, api = _service(compose, "migrate"), _service(compose, "api")
    assert migrate["command"] == ["todo-api", "migrate"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                 "postgres": {"condition": "service_healthy"},
                                 "redis": {"condition": "service_healthy"}}
    assert _service(compose, "proxy")["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert migrate["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert (migrate["build"], migrate["image"]) == (api["build"], api["image"])


def test_compose_api_takes_its_worker_count_from_the_environment(compose: dict[str, Any]):
    api = _service(compose, "api")
    assert api["command"] == ["todo-api", "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    assert api["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-2}"


def test_compose_api_trusts_forwarded_headers_from_the_proxy_only(compose: dict[str, Any]):
    proxy, api = _service(compose, "proxy"), _service(compose, "api")
    proxy_address = proxy["networks"]["edge"]["ipv4_address"]
    assert api["environment"]["FORWARDED_ALLOW_IPS"] == proxy_address
    assert list(proxy["networks"]) == ["edge"]
    assert set(api["networks"]) == {"edge", "backend"}
    pool = compose["networks"]["edge"]["ipam"]["config"][0]
    subnet = ip_network(pool["subnet"].replace(*EDGE_DEFAULT))
    dynamic = ip_network(pool["ip_range"].replace(*EDGE_DEFAULT))
    address = ip_address(proxy_address.replace(*EDGE_DEFAULT))
    # Inside the network, but never handed to another container nor the gateway.
    assert address in subnet
    assert address not in dynamic
    assert address != subnet.network_address + 1


def test_compose_api_image_containers_are_locked_down(compose: dict[str, Any]):
    for name in ("api", "migrate"):
        service = _service(compose, name)
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name  # noqa: S108
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
    metrics_dir = _service(compose, "api")["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert metrics_dir.startswith("/tmp/")  # noqa: S108


def test_compose_images_are_pinned_to_exact_versions(compose: dict[str, Any]):
    pulled = [service["image"] for service in compose["services"].values()
              if "build" not in service]
    assert len(pulled) == 3
    for image in pulled:
        assert EXACT_TAG.match(image), image


def test_compose_sets_only_known_settings(compose: dict[str, Any]):
    for name in ("api", "migrate"):
        environment = _service(compose, name)["environment"]
        assert set(environment) <= setting_names(), set(environment) - setting_names()
        assert environment["APP_ENV"] == "production"
    assert _service(compose, "api")["environment"]["RATE_LIMIT_STORAGE_URL"].startswith(
        "redis://redis:")


def test_compose_holds_no_secret_value(compose: dict[str, Any]):
    for service in compose["services"].values():
        for name, value in service.get("environment", {}).items():
            if re.search(r"(SECRET|PASSWORD)$", name):
                assert value.startswith(f"${{{name}:?"), name  # required, no default
    for name in ("api", "migrate"):
        url = _service(compose, name)["environment"]["DATABASE_URL"]
        assert re.fullmatch(r"postgresql://todo:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432/todo",
                            url)


def test_compose_stop_grace_period_covers_the_shutdown_timeout(compose: dict[str, Any]):
    api = _service(compose, "api")
    grace_seconds = int(api["stop_grace_period"].removesuffix("s"))
    assert grace_seconds > int(api["environment"]["SHUTDOWN_TIMEOUT_SECONDS"])


def test_compose_variables_are_documented_in_readme(compose: dict[str, Any]):
    readme = (ROOT / "README.md").read_text()
    for service in ("api", "migrate"):
        for name in _service(compose, service)["environment"]:
            assert f"`{name}`" in readme, name
    for name in ("BETTER_AUTH_SECRET", "POSTGRES_PASSWORD", "PROXY_PORT", "EDGE_NETWORK"):
        assert f"`{name}`" in readme, name


def test_proxy_listens_on_the_published_port_and_checks_itself_privately(
        compose: dict[str, Any], nginx: list[Directive]):
    proxy = _service(compose, "proxy")
    container_port = proxy["ports"][0].rsplit(":", 1)[1]
    listens = [d["args"] for d in find(nginx, "http", "server", "listen")]
    assert listens == [[container_port, "default_server"], ["127.0.0.1:8081"]]
    assert "http://127.0.0.1:8081/healthz" in proxy["healthcheck"]["test"]
    assert proxy["volumes"] == ["./deploy/compose/nginx.conf:/etc/nginx/nginx.conf:ro"]


def test_proxy_forwards_the_client_address_and_scheme(nginx: list[Directive]):
    headers = {d["args"][0]: d["args"][1]
               for d in find(nginx, "http", "server", "location /", "proxy_set_header")}
    assert headers == {"Connection": "", "Host": "$http_host",
                       "X-Forwarded-For": "$remote_addr", "X-Forwarded-Proto": "$scheme"}


def test_proxy_limits_let_the_api_answer_first(nginx: list[Directive]):
    def value(*path: str) -> list[str]:
        args: list[str] = find(nginx, "http", *path)[0]["args"]
        return args

    assert _default_setting("max_body_bytes") <= 2 * 1024 * 1024
    assert value("client_max_body_size") == ["2m"]
    assert value("large_client_header_buffers") == ["4", "16k"]
    assert value("client_header_timeout") == ["10s"]
    assert value("client_body_timeout") == ["30s"]
    assert value("keepalive_timeout") == ["5s"]
    # Below the api's 5 s keep-alive: a connection the api is closing is never reused.
    assert value("upstream api", "keepalive_timeout") == ["4s"]
    busiest_request = (_default_setting("db_pool_timeout_seconds")
                       + _default_setting("db_statement_timeout_seconds"))
    assert busiest_request < 30
    assert value("server", "location /", "proxy_read_timeout") == ["30s"]


def test_proxy_logs_no_query_strings(nginx: list[Directive]):
    log_format = find(nginx, "http", "log_format")[0]["args"]
    assert log_format[0] == "access"
    assert re.findall(r"\$(request|request_uri|args|query_string|arg_\w+)\b",
                      " ".join(log_format)) == []
    assert find(nginx, "http", "access_log")[0]["args"] == ["/dev/stdout", "access"]


def test_proxy_keeps_metrics_off_the_public_port(nginx: list[Directive]):
    metrics = find(nginx, "http", "server", "location = /metrics", "return")
    assert [d["args"] for d in metrics] == [["404"]]


def test_proxy_errors_are_json_like_the_apis(nginx: list[Directive]):
    answers = {tuple(d["args"][:1]): d["args"][1]
               for location in ("@not_found", "@payload_too_large", "@unavailable")
               for d in find(nginx, "http", "server", f"location {location}", "return")}
    codes = {status: json.loads(body.removesuffix("\\n"))["code"]
             for (status,), body in answers.items()}
    assert codes == {"404": "NOT_FOUND", "413": "PAYLOAD_TOO_LARGE", "503": "SERVICE_UNAVAILABLE"}
    assert find(nginx, "http", "server", "location @unavailable", "add_header")[0]["args"] == [
        "Retry-After", "5", "always"]


def test_dockerfile_runs_the_cli_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/health", dockerfile, re.MULTILINE)
    # the port comes from PORT (platforms set it), 8000 without it
    assert re.search(r'^CMD \["todo-api", "serve", "--host", "0\.0\.0\.0"\]$', dockerfile,
                     re.MULTILINE)
    assert "os.environ.get('PORT', '8000')" in dockerfile  # the health check follows it
    assert "uv sync --frozen --no-dev" in dockerfile
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for package in project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:
        assert f"COPY {package} {package}" in dockerfile


def test_dockerfile_base_images_are_pinned_to_exact_versions():
    images = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert len(images) == 2
    for image in images:
        assert EXACT_TAG.match(image), image


def test_dockerfile_installs_the_uv_the_makefile_pins():
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert pinned
    assert re.search(rf"^ARG UV_VERSION={re.escape(pinned[1])}$", dockerfile, re.MULTILINE)
    assert 'pip install --no-cache-dir "uv==${UV_VERSION}"' in dockerfile
