"""The resolvers' own rules, for a caller that is not one of today's doors.

Every door checks its input before it calls a resolver; these rules are the domain's all the same,
and hold for any caller (a new door, a script).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from auth.principal import Principal
from persistence.database import Database
from persistence.urls import parse_database_url
from resolvers.context import Context
from resolvers.errors import FieldError, ValidationFailed
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
