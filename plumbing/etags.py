"""Entity tags as HTTP writes them: ``"opaque"`` (strong) and ``W/"opaque"`` (weak)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = "*"
"""If-None-Match / If-Match: any current representation."""
# RFC 9110: #entity-tag, entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, where etagc takes commas too
# (so a list is scanned, not split) and obs-text (latin-1, as Starlette decodes headers).
_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*')
_SEPARATORS = re.compile(r"[ \t,]*")  # a list may hold empty elements


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str
    weak: bool = False

    def __str__(self) -> str:
        return f'{"W/" if self.weak else ""}"{self.opaque}"'


def parse_tags(header: str) -> list[EntityTag]:
    """The entity tags of an If-None-Match or If-Match list, in order; none when the header
    is not such a list (a malformed validator matches nothing)."""
    tags: list[EntityTag] = []
    position = _past_separators(header, 0)
    while position < len(header):
        tag = _TAG.match(header, position)
        if tag is None or (tag.end() < len(header) and header[tag.end()] != ","):
            return []
        tags.append(EntityTag(tag[2], weak=tag[1] is not None))
        position = _past_separators(header, tag.end())
    return tags


def _past_separators(header: str, position: int) -> int:
    separators = _SEPARATORS.match(header, position)
    return separators.end() if separators else position


def format_tags(tags: list[EntityTag]) -> str:
    return ", ".join(str(tag) for tag in tags)
