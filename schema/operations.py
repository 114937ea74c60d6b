"""Query and Mutation: each field hands its arguments to one resolver."""

from __future__ import annotations

import strawberry
from strawberry import UNSET

from resolvers import account, tasks
from resolvers.tasks import TaskQuery
from schema.info import Info
from schema.types import (
    CreateTaskInput,
    TaskConnection,
    TaskCounts,
    TaskFilterInput,
    TaskOrderInput,
    TaskType,
    UpdateTaskInput,
    sent_fields,
)

MAX_FIRST = 100
DEFAULT_FIRST = 50
TASKS_DESCRIPTION = f"The caller's tasks; first is 1-{MAX_FIRST}"


async def task_connection(
    info: Info, filter: TaskFilterInput | None = UNSET, order_by: TaskOrderInput | None = UNSET,
    first: int | None = DEFAULT_FIRST, after: str | None = UNSET,
) -> TaskConnection:
    """A page of the caller's tasks, continuing after the ``after`` cursor."""
    query = TaskQuery(filter=(filter or TaskFilterInput()).to_filter(),
                      ordering=(order_by or TaskOrderInput()).to_ordering(),
                      limit=DEFAULT_FIRST if first is None else first, after=after or None)
    page = await tasks.list_tasks(info.context.ctx, query, max_limit=MAX_FIRST)
    return TaskConnection.from_page(page, after=after or None)


@strawberry.type
class Viewer:
    """The authenticated caller."""

    id: strawberry.ID
    email: str | None
    name: str | None

    @strawberry.field
    async def task_counts(self, info: Info) -> TaskCounts:
        return TaskCounts.from_counts(await tasks.status_counts(info.context.ctx))

    tasks: TaskConnection = strawberry.field(resolver=task_connection,
                                             description=TASKS_DESCRIPTION)


@strawberry.type
class Query:
    @strawberry.field(description="The authenticated caller")
    def me(self, info: Info) -> Viewer:
        principal = info.context.ctx.principal
        return Viewer(id=strawberry.ID(principal.user_id), email=principal.email,
                      name=principal.name)

    @strawberry.field(description="The caller's task; null when missing or not yours")
    async def task(self, info: Info, id: strawberry.ID) -> TaskType | None:
        return await tasks.find_task(info.context.ctx, id)

    tasks: TaskConnection = strawberry.field(resolver=task_connection,
                                             description=TASKS_DESCRIPTION)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a task for the caller. With an idempotencyKey "
                                     "(1-255 printable ASCII characters) a retry within 24 hours "
                                     "answers the task the first call created and creates "
                                     "nothing (IDEMPOTENCY_KEY_REUSED for another input, "
                                     "IDEMPOTENCY_KEY_IN_USE while the first call runs)")
    async def create_task(self, info: Info, input: CreateTaskInput,
                          idempotency_key: str | None = UNSET) -> TaskType:
        return await tasks.create_task(info.context.ctx, sent_fields(input),
                                       idempotency_key=_unless_unset(idempotency_key))

    @strawberry.mutation(description="Change the fields sent; expectedVersion guards against "
                                     "overwriting someone else's change (CONFLICT)")
    async def update_task(
        self, info: Info, id: strawberry.ID, input: UpdateTaskInput,
        expected_version: int | None = UNSET,
    ) -> TaskType:
        return await tasks.update_task(info.context.ctx, id, sent_fields(input),
                                       expected_versions=_versions(expected_version))

    @strawberry.mutation(description="Mark the task completed or not (idempotent)")
    async def set_task_completed(
        self, info: Info, id: strawberry.ID, completed: bool = True,
        expected_version: int | None = UNSET,
    ) -> TaskType:
        return await tasks.set_completed(info.context.ctx, id, completed,
                                         expected_versions=_versions(expected_version))

    @strawberry.mutation(description="Flip the task between completed and not")
    async def toggle_task_completed(
        self, info: Info, id: strawberry.ID, expected_version: int | None = UNSET
    ) -> TaskType:
        return await tasks.toggle_completed(info.context.ctx, id,
                                            expected_versions=_versions(expected_version))

    @strawberry.mutation(description="Delete the task; answers its id")
    async def delete_task(
        self, info: Info, id: strawberry.ID, expected_version: int | None = UNSET
    ) -> strawberry.ID:
        deleted = await tasks.delete_task(info.context.ctx, id,
                                          expected_versions=_versions(expected_version))
        return strawberry.ID(str(deleted))

    @strawberry.mutation(description="Erase everything held about the caller: their tasks and "
                                     "stored idempotency keys and their user record. True also "
                                     "when there was nothing to erase")
    async def delete_my_data(self, info: Info) -> bool:
        await account.erase_my_data(info.context.ctx)
        return True


def _versions(expected_version: int | None) -> frozenset[int] | None:
    """The versions a mutation accepts: any when expectedVersion is absent or null."""
    if expected_version is None or expected_version is UNSET:
        return None
    return frozenset({expected_version})


def _unless_unset(value: str | None) -> str | None:
    """An optional argument's value: None when it was not sent at all."""
    return None if value is UNSET else value
