"""The domain's own failures, raised by resolvers and translated once per door."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    """Base of every failure a client can cause."""


class Forbidden(DomainError):
    """The request names a user other than the caller."""


class TaskNotFound(DomainError):
    """No such task for this user (another user's task looks exactly the same)."""


class StaleVersion(DomainError):
    """The task changed since the version the client expected."""


class TaskLimitReached(DomainError):
    """The user already holds as many tasks as one user may."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit


class IdempotencyKeyReused(DomainError):
    """The idempotency key was first used with a different request."""


class IdempotencyKeyInUse(DomainError):
    """A request with the same idempotency key is still being processed."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    """The input breaks a rule; ``errors`` says which field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__()
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])

    @classmethod
    def from_pydantic(cls, errors: Iterable[Mapping[str, Any]]) -> ValidationFailed:
        """The field errors of a pydantic validation, fields named as the client sent them."""
        return cls([_field_error(error) for error in errors])

    @property
    def detail(self) -> str:
        """The first problem, with its field: what a frontend that shows one message shows."""
        first = self.errors[0]
        return f"{first.field}: {first.message}"


_WHERE = ("body", "query", "path", "header")  # FastAPI's prefix saying where a value came from


def _field_error(error: Mapping[str, Any]) -> FieldError:
    location = [str(part) for part in error["loc"]]
    if location and location[0] in _WHERE:
        location = location[1:]
    message = str(error["msg"]).removeprefix("Value error, ")
    return FieldError(field=".".join(location) or "body", message=message)
