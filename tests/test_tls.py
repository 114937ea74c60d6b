"""TLS to PostgreSQL and Redis, against real servers holding certificates from a private CA.

The PostgreSQL cluster accepts TCP connections on 127.0.0.1 over TLS only (``hostssl``), so
every success below is an encrypted connection; its certificate names ``localhost`` only, so
``127.0.0.1`` is the wrong host name for it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.factory import create_app
from app.settings import Settings
from tests.certificates import CertificateAuthority
from tests.processes import ROOT, PostgresCluster, RedisServer
from tests.support import ALICE, TEST_SECRET, assert_error, auth, tasks_url

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CERT_USER = "certuser"  # may log in only with a client certificate
STRONG_SECRET = "Zq8-vR2#kP0wLm5!xT7uNc3$yH9bGd1@"


class TlsCluster:
    """A PostgreSQL cluster with ``ssl=on`` and the CA that signed its certificate."""

    def __init__(self, cluster: PostgresCluster, ca: CertificateAuthority,
                 other_ca: CertificateAuthority, client: tuple[Path, Path]) -> None:
        self.cluster, self.ca, self.other_ca, self.client = cluster, ca, other_ca, client

    def url(self, host: str = "localhost", user: str = "postgres", **query: str | Path) -> str:
        parameters = "&".join(f"{name}={value}" for name, value in query.items())
        return f"postgresql://{user}@{host}:{self.cluster.port}/postgres?{parameters}"


def _remote_address() -> str | None:
    """An address of this machine that is not loopback (the route to a documentation net)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only a route is chosen
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


REMOTE = _remote_address()


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsCluster]:
    listen = ",".join(filter(None, ["127.0.0.1", REMOTE]))
    cluster = PostgresCluster(listen=listen)
    keys = cluster.dir / "tls"
    keys.mkdir()
    ca = CertificateAuthority(keys)
    other_ca = CertificateAuthority(tmp_path_factory.mktemp("other-ca"), "unrelated CA")
    server = ca.issue("db server", hosts=("localhost",))
    client = ca.issue(CERT_USER, client=True)
    for path in (keys, *keys.iterdir()):
        shutil.chown(path, "postgres", "postgres")
    cluster.configure(
        {"ssl": "on", "ssl_cert_file": str(server.cert), "ssl_key_file": str(server.key),
         "ssl_ca_file": str(ca.cert)},
        ["local all all trust",
         f"hostssl all {CERT_USER} 127.0.0.1/32 cert",
         "hostssl all all 127.0.0.1/32 trust",
         *([f"host all all {REMOTE}/32 trust"] if REMOTE else [])],
    )
    try:
        cluster.start()
        subprocess.run(["psql", "-h", str(cluster.dir), "-p", str(cluster.port), "-U", "postgres",
                        "-d", "postgres", "-qc", f"CREATE ROLE {CERT_USER} LOGIN SUPERUSER"],
                       check=True, capture_output=True, timeout=60)
        yield TlsCluster(cluster, ca, other_ca, (client.cert, client.key))
    finally:
        cluster.remove()


@pytest.fixture
async def open_app() -> AsyncIterator[Any]:
    """Build apps for database URLs; each one's engine is disposed after the test."""
    apps: list[FastAPI] = []

    async def open_for(database_url: str, **settings: Any) -> httpx.AsyncClient:
        app = create_app(Settings(
            database_url=database_url, better_auth_secret=TEST_SECRET, _env_file=None,
            db_connect_timeout_seconds=5, **settings).validated())
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver")

    yield open_for
    for app in apps:
        await app.state.services.db.dispose()


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, capture_output=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
                          text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def migrated(tls_cluster: TlsCluster, tmp_path_factory: pytest.TempPathFactory) -> TlsCluster:
    """The cluster's database at the latest migration, applied over verify-full."""
    url = tls_cluster.url(sslmode="verify-full", sslrootcert=tls_cluster.ca.cert)
    result = run_cli("migrate", cwd=tmp_path_factory.mktemp("migrate"),
                     env={"DATABASE_URL": url, "BETTER_AUTH_SECRET": TEST_SECRET})
    assert result.returncode == 0, result.stderr
    return tls_cluster


async def test_verify_full_refuses_a_certificate_no_trusted_ca_signed(migrated: TlsCluster,
                                                                      open_app: Any):
    client = await open_app(migrated.url(sslmode="verify-full"))  # the system's CAs only
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable", "database": "certificate not trusted",
        "reason": "the database's certificate is not signed by a trusted CA: check sslrootcert "
                  "in DATABASE_URL"}
    assert ready.headers["retry-after"] == "5"
    response = await client.get(tasks_url(ALICE), headers=auth(ALICE))
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert "certificate" not in response.text  # no driver or TLS message reaches a client


async def test_verify_full_with_the_servers_ca_and_host_name_serves(migrated: TlsCluster,
                                                                   open_app: Any):
    client = await open_app(migrated.url(sslmode="verify-full", sslrootcert=migrated.ca.cert))
    assert (await client.get("/ready")).json() == {"status": "ready", "database": "ok"}
    created = await client.post(tasks_url(ALICE), json={"title": "over TLS"}, headers=auth(ALICE))
    assert created.status_code == 201, created.text


async def test_system_roots_are_not_the_servers_ca(migrated: TlsCluster, open_app: Any):
    client = await open_app(migrated.url(sslrootcert="system"))  # implies verify-full
    assert (await client.get("/ready")).json()["database"] == "certificate not trusted"


async def test_verify_full_refuses_a_certificate_for_another_host_name(migrated: TlsCluster,
                                                                      open_app: Any):
    client = await open_app(migrated.url("127.0.0.1", sslmode="verify-full",
                                         sslrootcert=migrated.ca.cert))
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable", "database": "certificate does not match the host name",
        "reason": "the database's certificate names another host: check the host in "
                  "DATABASE_URL (sslmode=verify-full checks it)"}


async def test_verify_ca_accepts_the_servers_ca_under_another_host_name(migrated: TlsCluster,
                                                                       open_app: Any):
    client = await open_app(migrated.url("127.0.0.1", sslmode="verify-ca",
                                         sslrootcert=migrated.ca.cert))
    assert (await client.get("/ready")).status_code == 200


async def test_verify_ca_refuses_a_certificate_another_ca_signed(migrated: TlsCluster,
                                                                open_app: Any):
    client = await open_app(migrated.url(sslmode="verify-ca", sslrootcert=migrated.other_ca.cert))
    assert (await client.get("/ready")).json()["database"] == "certificate not trusted"


async def test_require_encrypts_without_checking_the_certificate(migrated: TlsCluster,
                                                                open_app: Any):
    client = await open_app(migrated.url("127.0.0.1", sslmode="require"))
    assert (await client.get("/ready")).status_code == 200


async def test_require_with_a_root_certificate_checks_it_as_libpq_does(migrated: TlsCluster,
                                                                      open_app: Any):
    client = await open_app(migrated.url(sslmode="require", sslrootcert=migrated.other_ca.cert))
    assert (await client.get("/ready")).json()["database"] == "certificate not trusted"


async def test_client_certificate_logs_in_where_the_server_demands_one(migrated: TlsCluster,
                                                                     open_app: Any):
    cert, key = migrated.client
    client = await open_app(migrated.url(user=CERT_USER, sslmode="verify-full",
                                         sslrootcert=migrated.ca.cert, sslcert=cert, sslkey=key))
    assert (await client.get("/ready")).status_code == 200


@pytest.mark.skipif(REMOTE is None, reason="this machine has no address besides loopback")
def test_plaintext_to_another_machine_needs_the_private_network_setting(tls_cluster: TlsCluster,
                                                                        tmp_path: Path):
    url = tls_cluster.url(str(REMOTE), sslmode="disable")
    env = {"APP_ENV": "production", "DATABASE_URL": url, "BETTER_AUTH_SECRET": STRONG_SECRET}
    refused = run_cli("migrate", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"todo-api: configuration error: DATABASE_URL connects to {REMOTE} without encryption "
        "(sslmode=disable): add sslmode=verify-full (or at least sslmode=require), or set "
        "ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true if the network between them is private\n")
    allowed = run_cli("migrate", env=env | {"ALLOW_UNENCRYPTED_PRIVATE_NETWORK": "true"},
                      cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stderr.splitlines() == [
        f"todo-api: warning: ALLOW_UNENCRYPTED_PRIVATE_NETWORK=true: DATABASE_URL connects to "
        f"{REMOTE} without encryption (sslmode=disable)",
        "todo-api: database is at the latest migration",
    ]


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, Path]]:
    directory = tmp_path_factory.mktemp("redis-tls")
    ca = CertificateAuthority(directory)
    issued = ca.issue("redis server", hosts=("localhost",))
    redis = RedisServer(tls=(issued.cert, issued.key))
    redis.start()
    try:
        yield redis, ca.cert
    finally:
        redis.stop()


@pytest.mark.parametrize(("host", "trust", "limited"), [
    ("localhost", "ca", True),      # the right CA and host name: budgets are kept in Redis
    ("127.0.0.1", "ca", False),     # the certificate names localhost only
    ("localhost", "system", False),  # no trusted CA signed it
])
async def test_rediss_checks_the_certificate_and_its_host_name(
        tls_redis: tuple[RedisServer, Path], database_url: str, open_app: Any,
        host: str, trust: str, limited: bool):
    redis, ca = tls_redis
    query = f"?ssl_ca_certs={ca}" if trust == "ca" else ""
    client = await open_app(database_url, rate_limit="1/minute",
                            rate_limit_storage_url=f"rediss://{host}:{redis.port}/0{query}",
                            rate_limit_key_prefix=f"tls-{uuid.uuid4().hex}")
    statuses = [(await client.get(tasks_url(ALICE), headers=auth(ALICE))).status_code
                for _ in range(2)]
    # Storage that cannot be trusted is storage that is down: requests pass, unlimited.
    assert statuses == ([200, 429] if limited else [200, 200])
