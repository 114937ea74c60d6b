"""The list query of the task families with plain JSON answers, and the headers of a page."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from resolvers.domain import (
    MAX_SEARCH_LENGTH,
    SortField,
    TaskFilter,
    TaskOrdering,
    TaskPriority,
    TaskStatus,
)
from resolvers.errors import ValidationFailed
from resolvers.inputs import NO_NUL, DueDate
from resolvers.tasks import TaskPage, TaskQuery

MAX_OFFSET = 1_000_000_000
SORT_ALIASES = {"created": SortField.CREATED_AT}
SEARCH_TEXT: dict[str, Any] = {"maxLength": MAX_SEARCH_LENGTH, "pattern": NO_NUL}


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
    due_after: DueDate = None
    due_date_from: DueDate = Field(None, description="Alias of due_after")
    due_before: DueDate = None
    due_date_to: DueDate = Field(None, description="Alias of due_before")
    sort: Literal["created_at", "created", "updated_at", "title", "due_date", "priority",
                  "status"] = "created_at"
    order: Literal["asc", "desc"] = "desc"
    limit: int = Field(100, ge=1, le=500)
    offset: int | None = Field(None, ge=0, le=MAX_OFFSET, description="Not with page")
    page: int | None = Field(None, ge=1, le=MAX_OFFSET, description="Not with offset")

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
    """X-Total-Count, and a Link to the next page when there is one."""
    headers = {"X-Total-Count": str(page.total)}
    if page.has_more:
        if params.page is not None:
            url = request.url.include_query_params(page=params.page + 1)
        else:
            url = request.url.include_query_params(offset=(params.offset or 0) + params.limit)
        headers["Link"] = f'<{url}>; rel="next"'
    return headers
