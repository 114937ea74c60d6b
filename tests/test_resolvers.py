"""The resolvers' own rules, for a caller that is not one of today's doors.

Every door checks its input before it calls a resolver; these rules are the domain's all the same,
and hold for any caller (a new door, a script).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from auth.principal import Principal
from persistence.database import Database
from persistence.urls import parse_database_url
from resolvers.context import Context
from resolvers.errors import FieldError, ValidationFailed
from resolvers.inputs import check_text
from resolvers.tasks import TaskQuery, list_tasks, list_tasks_if_changed
from tests.support import ALICE

pytestmark = pytest.mark.anyio


@pytest.fixture
async def context(database_url: str) -> AsyncIterator[Context]:
    database = Database.connect(parse_database_url(database_url))
    yield Context(principal=Principal(user_id=ALICE), db=database.for_request())
    await database.dispose()


async def test_a_negative_offset_is_refused_by_both_listings(context: Context):
    refused = TaskQuery(offset=-1)
    with pytest.raises(ValidationFailed) as listed:
        await list_tasks(context, refused)
    with pytest.raises(ValidationFailed) as compared:
        await list_tasks_if_changed(context, refused, scope="script", known_tags=())
    for raised in (listed, compared):
        assert raised.value.errors == [FieldError("offset", "must not be negative")]
    assert (await list_tasks(context, TaskQuery(offset=0))).total == 0


@given(text=st.text(st.characters(exclude_categories=()), max_size=12),
       max_length=st.integers(0, 12))
@example(text="a\ud800b", max_length=5).via("a lone surrogate")
@example(text="\udfff", max_length=5).via("the last surrogate")
@example(text="\ud7ff\ue000", max_length=2).via("either side of the surrogates")
@example(text="a\x00", max_length=5).via("NUL")
@example(text="abc", max_length=3).via("exactly the limit")
def test_text_is_stored_only_when_postgresql_and_sqlite_can_store_it(text: str, max_length: int):
    """Any caller's text, not only what today's doors let through (their JSON parsers refuse
    lone surrogates already)."""
    storable = "\x00" not in text and _is_utf8(text)
    if storable and len(text) <= max_length:
        assert check_text(text, max_length=max_length) == text
        return
    expected = ("must not contain NUL characters" if "\x00" in text
                else "must be valid UTF-8 text" if not storable
                else f"must be at most {max_length} characters")
    with pytest.raises(ValueError, match=f"^{expected}$"):
        check_text(text, max_length=max_length)


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
