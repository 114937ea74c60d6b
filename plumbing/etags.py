"""Entity tags as HTTP writes them: ``"opaque"`` (strong) and ``W/"opaque"`` (weak)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY = "*"
"""If-None-Match / If-Match: any current representation."""
# An entity tag inside a list; anything else in the header is ignored, as a malformed
# validator never matches. Opaque tags hold no DQUOTE, space or control character.
_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str
    weak: bool = False

    def __str__(self) -> str:
        return f'{"W/" if self.weak else ""}"{self.opaque}"'


def parse_tags(header: str) -> list[EntityTag]:
    """The entity tags listed in an If-None-Match or If-Match header, in order."""
    return [EntityTag(match[2], weak=bool(match[1])) for match in _TAG.finditer(header)]


def format_tags(tags: list[EntityTag]) -> str:
    return ", ".join(str(tag) for tag in tags)
