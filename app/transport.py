"""Which configured connections would leave this machine unencrypted (production refuses them)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from persistence.urls import DatabaseTarget

PRIVATE_NETWORK_SETTING = "ALLOW_UNENCRYPTED_PRIVATE_NETWORK"


@dataclass(frozen=True)
class PlaintextConnection:
    """A connection that would cross a network without TLS."""

    variable: str
    hosts: tuple[str, ...]
    why: str  # what the URL says instead of asking for TLS
    remedy: str

    def describe(self) -> str:
        """``DATABASE_URL connects to db.internal without encryption (sslmode=disable)``."""
        hosts = ", ".join(host or "(no host)" for host in self.hosts)
        return f"{self.variable} connects to {hosts} without encryption ({self.why})"

    def refusal(self) -> str:
        """Why production will not start, and the two ways out."""
        return (f"{self.describe()}: {self.remedy}, or set {PRIVATE_NETWORK_SETTING}=true "
                "if the network between them is private")


def private_network_warning(connections: Iterable[PlaintextConnection]) -> str:
    """The start-up warning for connections allowed unencrypted by the private-network setting."""
    described = "; ".join(connection.describe() for connection in connections)
    return f"{PRIVATE_NETWORK_SETTING}=true: {described}"


def plaintext_connections(database: DatabaseTarget, redis_url: str | None,
                          jwks_url: str | None = None) -> list[PlaintextConnection]:
    """The database, Redis and JWKS connections that are unencrypted and leave this machine."""
    found = []
    if not database.is_sqlite and not database.tls.encrypts:
        remote = _remote(database.hosts)
        if remote:
            mode = database.tls.mode
            found.append(PlaintextConnection(
                "DATABASE_URL", remote, f"sslmode={mode}" if mode else "no sslmode",
                "add sslmode=verify-full (or at least sslmode=require)"))
    if redis_url:
        scheme, hosts = redis_hosts(redis_url)
        remote = _remote(hosts)
        if scheme != "rediss" and remote:
            found.append(PlaintextConnection("RATE_LIMIT_STORAGE_URL", remote, f"{scheme}://",
                                             "use a rediss:// URL"))
    if jwks_url:
        # Whoever can rewrite the keys on their way here can sign tokens for any user.
        scheme, hosts = _web_hosts(jwks_url)
        remote = _remote(hosts)
        if scheme != "https" and remote:
            found.append(PlaintextConnection("BETTER_AUTH_JWKS_URL", remote, f"{scheme}://",
                                             "use an https:// URL"))
    return found


def is_local(host: str) -> bool:
    """True for ``localhost``, a loopback address (127.0.0.0/8, ::1) or a Unix socket path."""
    if host.startswith("/") or host.lower() == "localhost":  # a leading slash: a socket
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def redis_hosts(url: str) -> tuple[str, tuple[str, ...]]:
    """The scheme of a rate-limit storage URL and the hosts it reaches (none in memory)."""
    try:
        parts = urlsplit(url.removeprefix("async+"))
        host = parts.hostname or ""
    except ValueError:  # an unbalanced [ in the address
        return "", ("",)
    if parts.scheme == "memory":
        return parts.scheme, ()
    if parts.scheme.endswith("+unix"):
        return parts.scheme, (parts.path or "/",)
    return parts.scheme, (host,)


def _web_hosts(url: str) -> tuple[str, tuple[str, ...]]:
    try:
        parts = urlsplit(url)
        return parts.scheme, (parts.hostname or "",)
    except ValueError:
        return "", ("",)


def _remote(hosts: Iterable[str]) -> tuple[str, ...]:
    return tuple(host for host in hosts if not is_local(host))
