"""What every resolver receives: who is asking, the database, and this request's loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from auth.principal import Principal
from persistence.database import RequestDatabase
from resolvers.domain import MAX_TASKS_PER_USER
from resolvers.loaders import Loaders


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Built once per request by the door; never shared between requests or users."""

    principal: Principal
    db: RequestDatabase
    clock: Callable[[], datetime] = utc_now
    max_tasks: int = MAX_TASKS_PER_USER
    _loaders: Loaders | None = field(default=None, init=False, repr=False)

    @property
    def owner(self) -> str:
        return self.principal.user_id

    @property
    def loaders(self) -> Loaders:
        """Created on first use, inside the request's event loop, bound to this user.

        Never awaited while holding the request's connection: a loader's batch queues for that
        same connection, so ``ensure_not_held`` refuses instead of letting the request hang.
        """
        self.db.ensure_not_held()
        if self._loaders is None:
            self._loaders = Loaders(self.db, self.principal.user_id)
        return self._loaders
