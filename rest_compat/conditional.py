"""Conditional requests: a task's version as its entity tag, If-Match on writes."""

from __future__ import annotations

import re

from fastapi import Request

from resolvers.domain import Task

# RFC 9110: If-Match = "*" / #entity-tag, entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, where etagc
# takes commas too (so a list is scanned, not split) and obs-text (latin-1 as Starlette decodes).
_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*')
_SEPARATORS = re.compile(r"[ \t,]*")  # a list may hold empty elements
# What etag() writes: ASCII digits ("²".isdigit() is true), no leading zero, bounded.
_VERSION = re.compile(r"[1-9][0-9]{0,17}")


def etag(task: Task) -> str:
    return f'"{task.version}"'


def expected_versions(request: Request) -> frozenset[int] | None:
    """The versions If-Match accepts: None without the header or for ``*``.

    Only a strong tag equal to a task's ETag names its version (If-Match compares strongly);
    a header that is not a list of entity tags names none, so the write is refused.
    """
    header = request.headers.get("if-match")
    if header is None or header.strip(" \t") == "*":
        return None
    return frozenset(int(opaque) for weak, opaque in _entity_tags(header)
                     if not weak and _VERSION.fullmatch(opaque))


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """The (weak, opaque) tags of an entity-tag list; none when ``header`` is not one."""
    tags: list[tuple[bool, str]] = []
    position = _past_separators(header, 0)
    while position < len(header):
        tag = _TAG.match(header, position)
        if tag is None or (tag.end() < len(header) and header[tag.end()] != ","):
            return []
        tags.append((tag[1] is not None, tag[2]))
        position = _past_separators(header, tag.end())
    return tags


def _past_separators(header: str, position: int) -> int:
    separators = _SEPARATORS.match(header, position)
    return separators.end() if separators else position
