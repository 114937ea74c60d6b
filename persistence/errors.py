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
        if orig is None:
            return False
        # asyncpg's errors arrive wrapped in the dialect's generic Error: look at the cause too
        names = {type(orig).__name__, type(orig.__cause__).__name__}
        sqlstate = str(getattr(orig, "sqlstate", None) or "")
        return bool(names & _UNAVAILABLE_DRIVER_ERRORS) or sqlstate.startswith(
            _UNAVAILABLE_SQLSTATES)
    return False


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
