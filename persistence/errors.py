"""Failures of the database layer that callers must tell apart."""

from __future__ import annotations

import asyncio
import ssl

from sqlalchemy import exc as sa_exc

UNREACHABLE = "unreachable"
CERTIFICATE_UNTRUSTED = "certificate not trusted"
CERTIFICATE_HOST_MISMATCH = "certificate does not match the host name"
_HOST_MISMATCHES = {62, 64}  # OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and _IP_ADDRESS_MISMATCH


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; the request may be retried."""


def is_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database is unreachable (not that a statement was wrong)."""
    if isinstance(error, sa_exc.TimeoutError | asyncio.TimeoutError | ConnectionError | OSError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        return error.orig is not None and _driver_unavailable(error.orig)
    return _driver_unavailable(error)  # raised by the driver itself (persistence.rows)


def _driver_unavailable(error: BaseException) -> bool:
    # asyncpg's errors arrive wrapped in SQLAlchemy's adapter errors: look at the cause too
    names = {type(error).__name__, type(error.__cause__).__name__}
    sqlstate = str(getattr(error, "sqlstate", None) or "")
    return bool(names & _UNAVAILABLE_DRIVER_ERRORS) or sqlstate.startswith(
        _UNAVAILABLE_SQLSTATES)


def unavailable_reason(error: BaseException) -> str:
    """Why the database is unavailable, in words safe to show anyone (no driver message)."""
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            if cause.verify_code in _HOST_MISMATCHES:
                return CERTIFICATE_HOST_MISMATCH
            return CERTIFICATE_UNTRUSTED
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return UNREACHABLE


# connection exceptions, too many connections, shutting down / starting up / crash recovery
_UNAVAILABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")


_UNAVAILABLE_DRIVER_ERRORS = frozenset({
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "TooManyConnectionsError",
    "AdminShutdownError",
    "QueryCanceledError",
    "InterfaceError",
})
