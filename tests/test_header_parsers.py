"""The request headers of retries and conditional requests, parsed over their whole input space."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plumbing.compression import CODINGS, preferred_coding, without_coding
from plumbing.etags import EntityTag, format_tags, parse_tags
from resolvers.errors import ValidationFailed
from rest_compat.idempotency import HEADER, parse_idempotency_key

# What a header value can hold once Starlette has decoded it (latin-1: any byte is a character).
header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255))
opaque = st.text(st.sampled_from(
    [chr(c) for c in (0x21, *range(0x23, 0x7F), *range(0x80, 0x100))]))
entity_tags = st.builds(EntityTag, opaque, st.booleans())
printable_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                         min_size=1, max_size=255)


def sf_string(text: str) -> str:
    """``text`` written as a structured-field string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- entity tags


@given(st.lists(entity_tags, max_size=5))
def test_entity_tag_lists_read_back_what_was_written(tags: list[EntityTag]):
    assert parse_tags(format_tags(tags)) == tags


@given(header_text)
def test_any_header_parses_into_well_formed_tags(header: str):
    for tag in parse_tags(header):
        assert '"' not in tag.opaque and " " not in tag.opaque
        assert str(tag) in header


@given(entity_tags, st.sampled_from(CODINGS))
def test_a_coding_suffix_comes_off_strong_tags_only(tag: EntityTag, coding: str):
    coded = EntityTag(f"{tag.opaque}-{coding}", tag.weak)
    assert without_coding(coded) == (coded if tag.weak else EntityTag(tag.opaque))


# ---------------------------------------------------------------- Accept-Encoding


@given(header_text)
def test_accept_encoding_always_yields_a_coding_we_have_or_none(header: str):
    assert preferred_coding(header) in (*CODINGS, None)


@given(st.permutations(["br", "gzip", "deflate", "identity"]),
       st.sampled_from(["", ";q=1", ";q=0.5", ";Q=0.001"]))
def test_br_wins_whenever_it_is_offered(codings: list[str], weight: str):
    assert preferred_coding(", ".join(f"{c}{weight}" for c in codings)) == "br"


@pytest.mark.parametrize(("header", "expected"), [
    ("", None), ("identity", None), ("gzip", "gzip"), ("br;q=0, gzip", "gzip"),
    ("gzip;q=0", None), ("*", "br"), ("*, br;q=0", "gzip"), ("*;q=0, gzip", "gzip"),
    ("GZIP", "gzip"), ("br;q=nope, gzip", "gzip"), ("br;q=2, gzip", "gzip"),
])
def test_accept_encoding_examples(header: str, expected: str | None):
    assert preferred_coding(header) == expected


# ---------------------------------------------------------------- Idempotency-Key


@given(printable_keys)
def test_a_key_sent_as_a_structured_string_reads_back_as_it_was(key: str):
    assert parse_idempotency_key(sf_string(key)) == key


@given(printable_keys.filter(lambda k: not k.startswith('"') and k.strip(" ") == k))
def test_a_bare_key_reads_back_as_it_was(key: str):
    assert parse_idempotency_key(key) == key


@given(header_text)
def test_any_header_value_is_a_printable_key_or_a_validation_error(value: str):
    try:
        key = parse_idempotency_key(value)
    except ValidationFailed as error:
        fields = [e.field for e in error.errors]
    else:
        fields = [HEADER]
        assert 1 <= len(key) <= 255
        assert all(" " <= ch <= "~" for ch in key)
    assert fields == [HEADER]
