"""Request budgets per user and per client address, in memory or shared through Redis."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

logger = logging.getLogger("todo_api.ratelimit")

STORAGE_SCHEMES = {"memory", "redis", "rediss", "redis+unix"}
STORAGE_TIMEOUT_SECONDS = 0.5  # a slow Redis must not slow every request down
RETRY_STORAGE_AFTER_SECONDS = 2.0  # while Redis is down, requests skip it for this long
LOG_INTERVAL_SECONDS = 60.0


def parse_limit(text: str) -> RateLimitItem:
    """``120/minute`` as a limits item; ValueError when it is not one positive rate."""
    try:
        items = parse_many(text)
    except ValueError:
        items = []
    if len(items) != 1 or items[0].amount < 1:
        raise ValueError(f"is not a rate such as 120/minute: {text!r}")
    return items[0]


def storage_uri(url: str | None) -> str:
    """The ``limits`` async storage URI for RATE_LIMIT_STORAGE_URL (memory when unset)."""
    if not url:
        return "async+memory://"
    parts = urlsplit(url)
    scheme = parts.scheme.removeprefix("async+")
    if scheme not in STORAGE_SCHEMES:
        raise ValueError(f"must be a redis://, rediss:// or memory:// URL (got {scheme!r})")
    query = parse_qs(parts.query)
    if scheme == "rediss" and "ssl_check_hostname" not in query and query.get(
            "ssl_cert_reqs") != ["none"]:
        # The Redis client checks the certificate chain but not, by default, the host name
        # in it: any certificate from a trusted CA would pass. Check it unless told not to.
        checked = "&".join(filter(None, (parts.query, "ssl_check_hostname=true")))
        url = urlunsplit(parts._replace(query=checked))
    return f"async+{url.removeprefix('async+')}"


@dataclass(frozen=True)
class Budget:
    """What is left of one budget after a request was counted (or looked at)."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        """RateLimit-* headers, and Retry-After once the budget is spent."""
        reset = max(0, math.ceil(self.reset_at - time.time()))
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                   "RateLimit-Reset": str(reset)}
        if not self.allowed:
            headers["Retry-After"] = str(max(1, reset))
        return headers


class RateLimiter:
    """Moving-window budgets; fails open (and says so in the log) when the storage is down."""

    def __init__(self, *, per_user: str, per_address: str, storage_url: str | None = None,
                 key_prefix: str = "todo-api") -> None:
        self.per_user = parse_limit(per_user)
        self.per_address = parse_limit(per_address)
        options: dict[str, float | str | bool] = {"wrap_exceptions": True}
        uri = storage_uri(storage_url)
        if not uri.startswith("async+memory"):
            options |= {"key_prefix": key_prefix, "connect_timeout": STORAGE_TIMEOUT_SECONDS,
                        "stream_timeout": STORAGE_TIMEOUT_SECONDS}
        self.storage: Storage = storage_from_string(uri, **options)  # type: ignore[assignment]
        self._strategy = MovingWindowRateLimiter(self.storage)
        base = self.storage.base_exceptions
        self._failures: tuple[type[BaseException], ...] = (
            StorageError, OSError, TimeoutError, *(base if isinstance(base, tuple) else (base,)))
        self._skip_until = 0.0
        self._last_logged = -math.inf
        self._failing = False

    async def spend_user(self, user_id: str) -> Budget | None:
        """Count one request against the user's budget (None: storage down, not limited)."""
        return await self._spend(self.per_user, "user", user_id)

    async def spend_address(self, address: str) -> Budget | None:
        """Count one unauthenticated request against the client address's budget."""
        return await self._spend(self.per_address, "address", address)

    async def _spend(self, item: RateLimitItem, *key: str) -> Budget | None:
        async def spend() -> Budget:
            allowed = await self._strategy.hit(item, *key)
            stats = await self._stats(item, *key)
            return Budget(allowed, stats.limit, stats.remaining, stats.reset_at)

        return await self._guarded(spend)

    async def _stats(self, item: RateLimitItem, *key: str) -> Budget:
        stats = await self._strategy.get_window_stats(item, *key)
        remaining = max(0, stats.remaining)
        return Budget(remaining > 0, item.amount, remaining, stats.reset_time)

    async def _guarded(self, call: Callable[[], Awaitable[Budget]]) -> Budget | None:
        """Run a storage call; on a storage failure, log (at most once a minute) and fail open."""
        if time.monotonic() < self._skip_until:
            return None
        try:
            budget = await call()
        except self._failures as error:
            self._storage_failed(error)
            return None
        if self._failing:
            self._failing = False
            logger.warning("rate limit storage is back; limiting again")
        return budget

    def _storage_failed(self, error: BaseException) -> None:
        now = time.monotonic()
        self._failing = True
        self._skip_until = now + RETRY_STORAGE_AFTER_SECONDS
        if now - self._last_logged >= LOG_INTERVAL_SECONDS:
            self._last_logged = now
            cause = error.storage_error if isinstance(error, StorageError) else error
            logger.error("rate limit storage unavailable; requests are not limited",
                         extra={"error": type(cause).__name__})
