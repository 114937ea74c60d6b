"""Conditional requests: entity tags out, If-Match on writes, If-None-Match on reads."""

from __future__ import annotations

import re

from fastapi import Request, Response

from plumbing.etags import ANY, parse_tags
from resolvers.domain import Task
from resolvers.tasks import ANY_TAG

# What etag() writes: ASCII digits ("²".isdigit() is true), no leading zero, bounded.
_VERSION = re.compile(r"[1-9][0-9]{0,17}")
REVALIDATE = {"Cache-Control": "private, no-cache"}
"""Answers with a tag: a browser may keep them, but asks (If-None-Match) before each reuse."""


def etag(task: Task) -> str:
    return f'"{task.version}"'


def listing_etag(tag: str) -> str:
    return f'"{tag}"'


def listing_scope(request: Request) -> str:
    """What a listing's tag is for: this path and query (a tag never validates another URL)."""
    return f"{request.url.path}?{request.url.query}"


def expected_versions(request: Request) -> frozenset[int] | None:
    """The versions If-Match accepts: None without the header or for ``*``.

    Only a strong tag equal to a task's ETag names its version (If-Match compares strongly);
    a header that is not a list of entity tags names none, so the write is refused.
    """
    header = request.headers.get("if-match")
    if header is None or header.strip(" \t") == ANY:
        return None
    return frozenset(int(tag.opaque) for tag in parse_tags(header)
                     if not tag.weak and _VERSION.fullmatch(tag.opaque))


def known_tags(request: Request) -> frozenset[str]:
    """The opaque tags the client holds (If-None-Match compares weakly: W/ is ignored)."""
    header = ", ".join(request.headers.getlist("if-none-match"))
    if header.strip() == ANY:
        return frozenset({ANY_TAG})
    return frozenset(tag.opaque for tag in parse_tags(header))


def holds(request: Request, task: Task) -> bool:
    """The client's If-None-Match names the task's current version (or ``*``)."""
    tags = known_tags(request)
    return str(task.version) in tags or ANY_TAG in tags


def not_modified(tag: str) -> Response:
    """304: the client's copy is current; the tag and caching rules, no body."""
    return Response(status_code=304, headers={"ETag": tag, **REVALIDATE})
