"""Configuration: Neon URLs as pasted, and production refusing to start on bad settings."""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
from pathlib import Path
from urllib.parse import quote

import coredis
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from app.settings import ConfigError, Settings, load_settings
from app.transport import plaintext_connections
from persistence.urls import DatabaseUrlError, parse_database_url
from plumbing.ratelimit import storage_uri
from tests.certificates import CertificateAuthority

NEON = ("postgresql://alex:AbC123dEf@ep-cool-darkness-123456.eu-central-1.aws.neon.tech/dbname"
        "?sslmode=require&channel_binding=require")
NEON_POOLED = NEON.replace("-123456.", "-123456-pooler.")
GOOD_SECRET = "k3J9-vQz2_Lm8Rt5Wx1Yb7Nc4Hd6Fg0Ps"


def test_neon_url_is_translated_for_asyncpg():
    target = parse_database_url(NEON)
    assert target.url.drivername == "postgresql+asyncpg"
    assert (target.url.host, target.url.database, target.url.username) == (
        "ep-cool-darkness-123456.eu-central-1.aws.neon.tech", "dbname", "alex")
    assert target.url.password == "AbC123dEf"
    assert dict(target.url.query) == {}
    assert set(target.connect_args) == {"ssl"}
    context = target.connect_args["ssl"]  # require: encrypted, the certificate not checked
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)
    assert not target.behind_pgbouncer


@pytest.mark.parametrize("url", [NEON_POOLED, NEON])
def test_pooler_host_or_setting_turns_off_prepared_statement_caches(url):
    target = parse_database_url(url, pgbouncer=url == NEON)
    assert target.behind_pgbouncer
    assert target.url.query["prepared_statement_cache_size"] == "0"
    assert target.connect_args["statement_cache_size"] == 0
    names = {target.connect_args["prepared_statement_name_func"]() for _ in range(3)}
    assert len(names) == 3  # unique names: PgBouncer may hand us another server connection


@pytest.mark.parametrize(("url", "driver"), [
    ("postgres://u:p@db.example.com:5433/app", "postgresql+asyncpg"),
    ("postgresql+asyncpg://u@localhost/app", "postgresql+asyncpg"),
    ("sqlite:///./data/todo.db", "sqlite+aiosqlite"),
    ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite"),
])
def test_common_url_spellings_are_accepted(url, driver):
    assert parse_database_url(url).url.drivername == driver


@pytest.mark.parametrize("url", [
    "mysql://u@h/db", "not a url", "postgresql://host-only.example.com",
    "postgresql:///db-without-host", "sqlite://", "postgresql://u@h/db?sslmode=bogus",
])
def test_unusable_urls_are_refused(url):
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)


@pytest.mark.parametrize(("url", "reason"), [
    ("postgresql://u@h:port/db", "is not a valid database URL"),
    ("sqlite://", "names no SQLite file"),
    ("mysql://u@h/db", "uses the unsupported scheme 'mysql'"),
    ("postgresql:///db-without-host", "names no host"),
    ("postgresql://host-only.example.com", "names no database"),
])
def test_an_unusable_url_is_refused_with_its_reason(url, reason):
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url(url)
    assert str(refused.value) == reason


def test_a_socket_directory_in_the_query_is_a_host():
    target = parse_database_url("postgresql://u@/todo?host=/var/run/postgresql")
    assert target.hosts == ("/var/run/postgresql",)


def test_without_a_database_url_the_embedded_database_is_todo_db_in_the_data_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(todo_api_data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert settings.configured_database_url == f"sqlite+aiosqlite:///{tmp_path}/todo.db"


def _production(**values: object) -> Settings:
    base: dict[str, object] = {"app_env": "production",
                               "database_url": "postgresql://u@h/db?sslmode=require",
                               "better_auth_secret": GOOD_SECRET, "_env_file": None}
    return Settings(**{**base, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize(("values", "variable"), [
    ({"better_auth_secret": None}, "BETTER_AUTH_SECRET"),
    ({"better_auth_secret": "too-short"}, "BETTER_AUTH_SECRET"),
    ({"better_auth_secret": "a" * 40}, "BETTER_AUTH_SECRET"),
    ({"database_url": None}, "DATABASE_URL"),
    ({"database_url": "mysql://u@h/db"}, "DATABASE_URL"),
])
def test_production_refuses_bad_settings_naming_the_variable(values, variable):
    with pytest.raises(ConfigError, match=variable):
        _production(**values).validated()


def test_production_accepts_jwks_without_a_secret():
    settings = _production(better_auth_secret=None,
                           better_auth_jwks_url="https://auth.example.com/api/auth/jwks")
    assert settings.validated() is settings


def test_better_auth_url_sets_issuer_and_audience_unless_overridden():
    settings = _production(better_auth_url="https://app.example.com")
    assert (settings.issuer, settings.audience) == ("https://app.example.com",) * 2
    settings = _production(better_auth_url="https://app.example.com", jwt_audience="api")
    assert (settings.issuer, settings.audience) == ("https://app.example.com", "api")


def test_development_without_configuration_uses_sqlite_and_a_generated_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ENV", "DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    first, second = load_settings(), load_settings()
    assert first.database.is_sqlite and not first.is_production
    assert first.better_auth_secret is not None
    assert first.better_auth_secret == second.better_auth_secret  # shared by every process
    secret_file = tmp_path / ".data" / "dev-secret"
    assert secret_file.stat().st_mode & 0o077 == 0


def test_cors_origins_are_a_comma_separated_list():
    settings = _production(cors_origins="https://a.example, https://b.example")
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


def _ssl(url: str) -> object:
    return parse_database_url(url).connect_args.get("ssl")


@pytest.mark.parametrize(("query", "passed_on"), [
    ("", None),  # asyncpg's default, as libpq's: prefer
    ("?sslmode=disable", "disable"), ("?sslmode=allow", "allow"), ("?sslmode=prefer", "prefer"),
])
def test_modes_that_may_not_encrypt_reach_asyncpg_as_they_are(query: str, passed_on: str | None):
    assert _ssl(f"postgresql://u@db.example.com/app{query}") == passed_on


@pytest.mark.parametrize(("query", "verify_mode", "check_hostname"), [
    ("sslmode=require", ssl.CERT_NONE, False),
    ("sslmode=verify-full", ssl.CERT_REQUIRED, True),
    ("sslmode=verify-full&sslrootcert=system", ssl.CERT_REQUIRED, True),
    ("sslrootcert=system", ssl.CERT_REQUIRED, True),  # libpq: system roots imply verify-full
])
def test_encrypting_modes_become_a_context_checking_what_the_mode_promises(
        query: str, verify_mode: ssl.VerifyMode, check_hostname: bool):
    context = _ssl(f"postgresql://u@db.example.com/app?{query}")
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (verify_mode, check_hostname)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    if verify_mode == ssl.CERT_REQUIRED:
        assert context.get_ca_certs(), "the system's trusted CAs are loaded"


@pytest.mark.parametrize(("mode", "check_hostname"), [
    ("require", False), ("verify-ca", False), ("verify-full", True)])
def test_sslrootcert_is_the_only_ca_trusted(ca: CertificateAuthority, mode: str,
                                            check_hostname: bool):
    target = parse_database_url(f"postgresql://u@db.example.com/app?sslmode={mode}"
                                f"&sslrootcert={ca.cert}&channel_binding=require")
    context = target.connect_args["ssl"]
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, check_hostname)
    assert [cert["subject"] for cert in context.get_ca_certs()] == [
        ((("commonName", "todo-api test CA"),),)]
    assert dict(target.url.query) == {}  # nothing libpq-only reaches asyncpg


def test_client_certificate_and_key_are_loaded(ca: CertificateAuthority):
    client = ca.issue("app", client=True)
    context = _ssl(f"postgresql://app@db.example.com/app?sslmode=verify-full"
                   f"&sslrootcert={ca.cert}&sslcert={client.cert}&sslkey={client.key}")
    assert isinstance(context, ssl.SSLContext)


@pytest.mark.parametrize(("query", "message"), [
    ("sslmode=verify-ca", "has sslmode=verify-ca without sslrootcert: name your CA file "
     "(sslrootcert=/path/to/ca.pem), or use sslmode=verify-full with the system's CAs"),
    ("sslmode=require&sslrootcert=system",
     "has sslrootcert=system, which needs sslmode=verify-full"),
    ("sslmode=verify-ca&sslrootcert=system", "has sslrootcert=system, which needs"),
    ("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
     "has sslrootcert '/nonexistent/ca.pem', which cannot be read (No such file or directory)"),
    ("sslmode=verify-full&sslrootcert=/etc/hostname", "has sslrootcert '/etc/hostname', which is "
     "not usable PEM (NO_CERTIFICATE_OR_CRL_FOUND)"),
    ("sslmode=verify-full&sslcert=/nonexistent/c.crt", "has sslcert '/nonexistent/c.crt' (or its "
     "sslkey), which cannot be read (No such file or directory)"),
    ("sslmode=verify-full&sslkey=/tmp/x.key", "has sslkey without sslcert"),
    ("sslmode=prefer&sslcert=/tmp/x.crt", "has sslcert or sslkey, which need sslmode=require"),
    ("sslmode=require&sslmode=disable", "gives sslmode more than once"),
    ("sslmode=verify_full", "has an unknown sslmode 'verify_full'"),
])
def test_unusable_tls_parameters_are_refused_with_the_reason(query: str, message: str):
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url(f"postgresql://u@db.example.com/app?{query}")
    assert str(refused.value).startswith(message)


def test_a_host_list_the_driver_cannot_use_is_refused_with_the_reason():
    with pytest.raises(DatabaseUrlError) as refused:
        parse_database_url("postgresql://u@h/db?host=a,b&port=1,2,3")
    assert str(refused.value) == ("has a host list the driver cannot use (number of hosts and "
                                  "ports don't match)")


def test_a_certificate_file_with_a_broken_pem_block_is_refused_with_the_reason(tmp_path: Path):
    broken = tmp_path / "ca.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    for option in ("sslrootcert", "sslcert"):
        with pytest.raises(DatabaseUrlError, match=r"which is not usable PEM \(no certificate "
                                                     r"found\)$"):
            parse_database_url(f"postgresql://u@db.example.com/app?sslmode=verify-full"
                               f"&{option}={broken}")


def test_sslmode_require_without_a_root_certificate_is_a_client_context_that_checks_nothing():
    context = _ssl("postgresql://u@db.example.com/app?sslmode=require")
    assert isinstance(context, ssl.SSLContext)
    assert (context.protocol, context.verify_mode, context.check_hostname) == (
        ssl.PROTOCOL_TLS_CLIENT, ssl.CERT_NONE, False)


@given(st.text())
@example("u@h1:5432,h2:5433/db")  # libpq's list of hosts, which SQLAlchemy cannot read
@hypothesis_settings(max_examples=500)
def test_any_text_is_a_database_target_or_a_database_url_error(raw: str):
    for candidate in (raw, f"postgresql://{raw}", f"postgresql://u@h/db?{raw}"):
        with contextlib.suppress(DatabaseUrlError):
            parse_database_url(candidate)


def _loopback(host: str) -> bool:
    """The oracle: what a host given to asyncpg or coredis reaches, judged independently."""
    if host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


_HOSTS = st.one_of(
    st.sampled_from(["localhost", "LocalHost", "localhost.", "db.example.com", "127.1", "0.0.0.0",  # noqa: S104
                     "/var/run/postgresql", "%2Ftmp", "::1", "[::1]", "::ffff:127.0.0.1", ""]),
    st.ip_addresses().map(str),
    st.ip_addresses(v=4, network="127.0.0.0/8").map(str),
    st.text(alphabet="abc.:[]/1,%-", max_size=12),
)
_PORTS = st.one_of(st.none(), st.integers(1, 65535))


def _with_port(host: str, port: int | None) -> str:
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@given(netloc_host=st.one_of(st.none(), _HOSTS),
       query_hosts=st.lists(st.tuples(_HOSTS, _PORTS), max_size=3),
       separator=st.sampled_from(["&host=", ","]), sslmode=st.sampled_from(["", "disable"]))
@hypothesis_settings(max_examples=500)
def test_plaintext_is_allowed_only_when_every_host_asyncpg_gets_is_local(
        netloc_host: str | None, query_hosts: list[tuple[str, int | None]], separator: str,
        sslmode: str):
    netloc = _with_port(quote(netloc_host, safe="[]:"), None) if netloc_host is not None else ""
    query = separator.join(quote(_with_port(h, p), safe="[]:,") for h, p in query_hosts)
    raw = (f"postgresql://u@{netloc}/db?" + (f"host={query}&" if query_hosts else "")
           + (f"sslmode={sslmode}" if sslmode else ""))
    try:
        target = parse_database_url(raw)
    except DatabaseUrlError:
        return  # refused at start-up
    hosts = asyncpg_dialect().create_connect_args(target.url)[1].get("host")
    given_hosts = hosts if isinstance(hosts, list) else [hosts or ""]
    allowed = not plaintext_connections(target, None)
    # refused exactly when one of the hosts is another machine
    assert allowed == all(_loopback(host) for host in given_hosts), (raw, given_hosts)


_REDIS_URLS = st.builds(
    "{}://{}{}/0".format, st.sampled_from(["redis", "rediss", "redis+unix"]),
    st.sampled_from(["", ":pw@", "user:pw@"]),
    st.builds(_with_port, _HOSTS.filter(lambda h: "/" not in h and "%" not in h), _PORTS))


@given(url=st.one_of(_REDIS_URLS, st.text()))
@hypothesis_settings(max_examples=150)  # each rediss:// URL loads the system's CAs
def test_redis_url_is_plaintext_to_another_machine_exactly_when_its_client_thinks_so(url: str):
    try:
        uri = storage_uri(url)
        if uri.startswith("async+memory"):
            assert not plaintext_connections(parse_database_url("sqlite:///x.db"), url)
            return
        as_limits_passes_it = uri.removeprefix("async+").replace("redis+unix", "unix")
        kwargs = coredis.ConnectionPool.from_url(as_limits_passes_it).connection_kwargs
    except Exception:
        return
    target = parse_database_url("sqlite:///x.db")
    plaintext = plaintext_connections(target, url)
    if "ssl_context" in kwargs:
        assert not plaintext
        assert kwargs["ssl_context"].check_hostname == ("ssl_check_hostname=false" not in uri
                                                        and "ssl_cert_reqs=none" not in uri)
    elif kwargs.get("path"):  # a Unix socket
        assert not plaintext
    else:
        assert bool(plaintext) == (not _loopback(str(kwargs.get("host") or ""))), (url, kwargs)


def test_the_jwks_timeout_is_read_from_the_environment_within_its_bounds(
        monkeypatch: pytest.MonkeyPatch):
    assert Settings(_env_file=None).jwks_timeout_seconds == 5.0  # type: ignore[call-arg]
    monkeypatch.setenv("JWKS_TIMEOUT_SECONDS", "1.5")
    assert Settings(_env_file=None).jwks_timeout_seconds == 1.5  # type: ignore[call-arg]
    for refused in ("0", "61"):
        monkeypatch.setenv("JWKS_TIMEOUT_SECONDS", refused)
        with pytest.raises(ConfigError, match="JWKS_TIMEOUT_SECONDS"):
            load_settings(_env_file=None)
