"""Public keys from a JWKS URL, fetched once, cached, refreshed at most once per interval."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

logger = logging.getLogger("todo_api.auth")


class KeysUnavailable(Exception):
    """The JWKS endpoint could not be read and no key is cached."""


class JwksCache:
    """Keys by ``kid``; an unknown ``kid`` triggers a refresh only when the last is old enough."""

    def __init__(
        self, url: str, *, min_refresh_seconds: float = 30.0, timeout_seconds: float = 5.0
    ) -> None:
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self._timeout = timeout_seconds
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK | None:
        """The key named ``kid`` (or the only key, for a token without one)."""
        key = self._lookup(kid)
        if key is None and self._may_refresh():
            await self._refresh()
            key = self._lookup(kid)
        return key

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def _may_refresh(self) -> bool:
        return (self._fetched_at is None
                or time.monotonic() - self._fetched_at >= self.min_refresh_seconds)

    async def _refresh(self) -> None:
        async with self._lock:
            if not self._may_refresh():  # another request refreshed while we waited
                return
            self._fetched_at = time.monotonic()
            try:
                document = await self._download()
            except (httpx.HTTPError, ValueError) as error:
                logger.warning("jwks fetch failed: %s", type(error).__name__)
                if not self._keys:
                    raise KeysUnavailable from error
                return
            self._keys = _parse_keys(document)

    async def _download(self) -> Any:
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()


def _parse_keys(document: Any) -> dict[str | None, jwt.PyJWK]:
    keys: dict[str | None, jwt.PyJWK] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            key = jwt.PyJWK.from_dict(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, TypeError, ValueError):
            continue  # a key we cannot use (unknown type, private-only, …) is skipped
        keys[key.key_id] = key
    return keys
