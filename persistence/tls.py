"""libpq's TLS parameters (sslmode, sslrootcert, sslcert, sslkey) as asyncpg's ``ssl`` argument."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

ENCRYPTING_MODES = frozenset({"require", "verify-ca", "verify-full"})
SSL_MODES = frozenset({"disable", "allow", "prefer", *ENCRYPTING_MODES})
SYSTEM_ROOTS = "system"  # libpq's sslrootcert=system: the operating system's trusted CAs


class TlsSettingError(ValueError):
    """The TLS parameters cannot be used together (the message says why)."""


@dataclass(frozen=True)
class TlsParameters:
    """The TLS parameters of one PostgreSQL connection string, as libpq names them."""

    sslmode: str | None = None
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None

    @property
    def mode(self) -> str | None:
        """The sslmode in force: libpq makes sslrootcert=system imply verify-full."""
        if self.sslmode is None and self.sslrootcert == SYSTEM_ROOTS:
            return "verify-full"
        return self.sslmode

    @property
    def encrypts(self) -> bool:
        """True when the connection is never made without TLS."""
        return self.mode in ENCRYPTING_MODES


def asyncpg_ssl(parameters: TlsParameters) -> ssl.SSLContext | str | None:
    """asyncpg's ``ssl`` for these parameters; None leaves asyncpg's default (``prefer``)."""
    mode = parameters.mode
    if mode is not None and mode not in SSL_MODES:
        raise TlsSettingError(f"has an unknown sslmode {mode!r}")
    if parameters.sslrootcert == SYSTEM_ROOTS and mode != "verify-full":
        # The public CAs vouch for every site on the internet: without the host-name check
        # any of their certificates would pass, so libpq allows them only with verify-full.
        raise TlsSettingError("has sslrootcert=system, which needs sslmode=verify-full")
    if (parameters.sslcert or parameters.sslkey) and mode not in ENCRYPTING_MODES:
        raise TlsSettingError("has sslcert or sslkey, which need sslmode=require or stronger")
    if mode is None or mode not in ENCRYPTING_MODES:
        return mode
    context = _server_checks(mode, parameters.sslrootcert)
    if parameters.sslcert or parameters.sslkey:
        _load_client_certificate(context, parameters.sslcert, parameters.sslkey)
    return context


def _server_checks(mode: str, rootcert: str | None) -> ssl.SSLContext:
    """A client context that checks the server as ``mode`` asks (TLS 1.2 at least)."""
    cafile = None if rootcert in (None, SYSTEM_ROOTS) else rootcert
    if mode == "require" and cafile is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode == "verify-ca" and cafile is None:
        raise TlsSettingError(
            "has sslmode=verify-ca without sslrootcert: name your CA file "
            "(sslrootcert=/path/to/ca.pem), or use sslmode=verify-full with the system's CAs")
    try:
        # No cafile: the system's trusted CAs. With one, only that file: as libpq does, a
        # root certificate given with sslmode=require is checked too (like verify-ca).
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as error:
        raise TlsSettingError(f"has sslrootcert {cafile!r}, which {_unreadable(error)}") from None
    context.check_hostname = mode == "verify-full"
    return context


def _load_client_certificate(context: ssl.SSLContext, certfile: str | None,
                             keyfile: str | None) -> None:
    if not certfile:
        raise TlsSettingError("has sslkey without sslcert")
    try:
        context.load_cert_chain(certfile, keyfile=keyfile or None)
    except (OSError, ssl.SSLError) as error:
        raise TlsSettingError(f"has sslcert {certfile!r} (or its sslkey), which "
                              f"{_unreadable(error)}") from None


def _unreadable(error: OSError) -> str:
    """Why a certificate file could not be used, in a few words (no file contents)."""
    if isinstance(error, ssl.SSLError):
        return f"is not usable PEM ({error.reason or 'no certificate found'})"
    return f"cannot be read ({error.strerror or type(error).__name__})"
