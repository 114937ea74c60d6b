"""Failures of the database layer that callers must tell apart."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc


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
        orig = error.orig
        return orig is not None and type(orig).__name__ in _UNAVAILABLE_DRIVER_ERRORS
    return False


_UNAVAILABLE_DRIVER_ERRORS = frozenset({
    "CannotConnectNowError",
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "TooManyConnectionsError",
    "AdminShutdownError",
    "QueryCanceledError",
    "InterfaceError",
})
