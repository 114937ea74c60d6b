"""The domain's own failures, raised by resolvers and translated once per door."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every failure a client can cause."""


class Forbidden(DomainError):
    """The request names a user other than the caller."""


class TaskNotFound(DomainError):
    """No such task for this user (another user's task looks exactly the same)."""


class StaleVersion(DomainError):
    """The task changed since the version the client expected."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    """The input breaks a rule; ``errors`` says which field and why."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])
