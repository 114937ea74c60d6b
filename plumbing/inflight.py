"""Requests of one user being served at once, counted per process."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

RELEASE_SLOT = "release_in_flight_slot"
"""The key of a request's state that holds the release of its slot, once it took one."""


class InFlight:
    """How many requests each user has in flight in this process, up to ``per_user``."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._counts: dict[str, int] = {}

    def enter(self, user_id: str) -> bool:
        """Take a slot for one more request of ``user_id``; False when every slot is taken."""
        count = self._counts.get(user_id, 0)
        if count >= self.per_user:
            return False
        self._counts[user_id] = count + 1
        return True

    def leave(self, user_id: str) -> None:
        """Give back a slot taken by ``enter``."""
        count = self._counts[user_id] - 1
        if count:
            self._counts[user_id] = count
        else:
            del self._counts[user_id]

    def count(self, user_id: str) -> int:
        """Requests of ``user_id`` in flight now."""
        return self._counts.get(user_id, 0)


def release_slot(state: MutableMapping[str, Any]) -> None:
    """Give back the slot the request of ``state`` took, if it took one."""
    release = state.pop(RELEASE_SLOT, None)
    if release is not None:
        release()
