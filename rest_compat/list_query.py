"""The list query of the task families with plain JSON answers, and the headers of a page."""

from __future__ import annotations

from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.datastructures import URL

from resolvers.domain import (
    MAX_SEARCH_LENGTH,
    SortField,
    TaskFilter,
    TaskOrdering,
    TaskPriority,
    TaskStatus,
)
from resolvers.errors import ValidationFailed
from resolvers.inputs import NO_NUL, DueDate, check_text
from resolvers.tasks import MAX_PAGE_SIZE, TaskPage, TaskQuery

MAX_OFFSET = 1_000_000_000
SORT_ALIASES = {"created": SortField.CREATED_AT}
SEARCH_TEXT: dict[str, Any] = {"maxLength": MAX_SEARCH_LENGTH, "pattern": NO_NUL}


Query = TypeVar("Query", bound=BaseModel)


def read_query(model: type[Query], request: Request) -> Query:
    """The request's query parameters validated as ``model`` (its docs: ``query_parameters``).

    Read here rather than by FastAPI, which checks a parameter model field by field at several
    times the cost; the rules and messages are pydantic's either way.
    """
    ensure_utf8_query(request)
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error.errors()) from None


def ensure_utf8_query(request: Request) -> None:
    """ValidationFailed unless every query name and value is UTF-8 once percent-decoded.

    Starlette would silently turn bad bytes into U+FFFD and search for that instead.
    """
    query = request.scope["query_string"].decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
        try:
            name.encode("latin-1").decode(), value.encode("latin-1").decode()
        except UnicodeDecodeError:
            field = name.encode("latin-1").decode(errors="replace") or "query"
            raise ValidationFailed.single(field, "must be valid UTF-8") from None


class TaskListQuery(BaseModel):
    """List query parameters (unknown ones are ignored)."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["all", "pending", "in_progress", "completed"] = "all"
    completed: Literal["true", "false"] | None = None
    priority: TaskPriority | None = None
    q: str | None = Field(None, description="Case-insensitive substring of title or description",
                          json_schema_extra=SEARCH_TEXT)
    search: str | None = Field(None, description="Alias of q", json_schema_extra=SEARCH_TEXT)
    due_after: DueDate = Field(None, description="Tasks due at or after this instant")
    due_date_from: DueDate = Field(None, description="Alias of due_after")
    due_before: DueDate = Field(None, description="Tasks due at or before this instant")
    due_date_to: DueDate = Field(None, description="Alias of due_before")
    sort: Literal["created_at", "created", "updated_at", "title", "due_date", "priority",
                  "status"] = "created_at"
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE,
                       description="Tasks per page; the default is the most, so one call "
                                   "returns every task of a user with up to that many")
    offset: int | None = Field(None, ge=0, le=MAX_OFFSET, description="Not with page")
    page: int | None = Field(None, ge=1, le=MAX_OFFSET, description="Not with offset")

    @field_validator("q", "search")
    @classmethod
    def _storable_text(cls, value: str | None) -> str | None:
        """Checked here, not by the resolver, so that an error names the parameter sent."""
        return None if value is None else check_text(value, max_length=MAX_SEARCH_LENGTH)

    def to_query(self) -> TaskQuery:
        if self.offset is not None and self.page is not None:
            raise ValidationFailed.single("page", "send either offset or page, not both")
        status = None if self.status == "all" else TaskStatus(self.status)
        completed = None if self.completed is None else self.completed == "true"
        flt = TaskFilter(
            status=status, completed=completed, priority=self.priority,
            search=self.q if self.q is not None else self.search,
            due_after=self.due_after or self.due_date_from,
            due_before=self.due_before or self.due_date_to,
        )
        ordering = TaskOrdering(SORT_ALIASES.get(self.sort) or SortField(self.sort),
                                descending=self.order == "desc")
        return TaskQuery(filter=flt, ordering=ordering, limit=self.limit, offset=self._offset())

    def _offset(self) -> int:
        if self.page is not None:
            return min((self.page - 1) * self.limit, MAX_OFFSET)
        return self.offset or 0


def list_headers(request: Request, params: TaskListQuery, page: TaskPage) -> dict[str, str]:
    """X-Total-Count, and a Link to the first, previous, next and last pages where they exist."""
    headers = {"X-Total-Count": str(page.total)}
    links = [f'<{url}>; rel="{rel}"' for rel, url in _page_links(request, params, page)]
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def _page_links(request: Request, params: TaskListQuery, page: TaskPage
                ) -> list[tuple[str, URL]]:
    """(rel, url) of the neighbouring pages, counted in ``page=`` or ``offset=`` as the client did.

    first and prev exist past the first page, next and last while there is more; last is the
    page that following next arrives at.
    """
    limit = params.limit
    if params.page is not None:
        number = params.page
        pages = {"first": 1, "prev": number - 1} if number > 1 else {}
        if page.has_more:
            pages |= {"next": number + 1, "last": max(-(-page.total // limit), number + 1)}
        return [(rel, request.url.include_query_params(page=n)) for rel, n in pages.items()]
    offset = params.offset or 0
    offsets = {"first": 0, "prev": max(offset - limit, 0)} if offset > 0 else {}
    if page.has_more:
        remaining_pages = max((page.total - offset - 1) // limit, 1)
        offsets |= {"next": offset + limit, "last": offset + remaining_pages * limit}
    return [(rel, request.url.include_query_params(offset=n)) for rel, n in offsets.items()]
