"""Conditional requests: a task's version as its entity tag, If-Match on writes."""

from __future__ import annotations

import re

from fastapi import Request

from resolvers.domain import Task

# A strong tag holding a version; weak tags (W/"…") never match, as If-Match compares strongly.
# Digits are ASCII only ("²".isdigit() is true) and bounded (no version has 19 digits).
_VERSION_TAG = re.compile(r'"([0-9]{1,18})"')


def etag(task: Task) -> str:
    return f'"{task.version}"'


def expected_versions(request: Request) -> frozenset[int] | None:
    """The versions If-Match accepts: None without the header or for ``*``."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    tags = (_VERSION_TAG.fullmatch(tag.strip()) for tag in header.split(","))
    return frozenset(int(match[1]) for match in tags if match)
