"""What a client may send, checked against the task's rules (text, lengths, consistency)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from resolvers.domain import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TITLE_LENGTH,
    UPDATABLE_FIELDS,
    TaskPriority,
    TaskStatus,
)
from resolvers.errors import ValidationFailed

TaskInput = bytes | str | Mapping[str, Any] | None
"""A JSON document (bytes or text) or an already decoded mapping; None means no body."""


def check_text(value: str, *, max_length: int) -> str:
    """``value`` unchanged, or ValueError when it cannot be stored faithfully."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("must be valid UTF-8 text")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value


def _not_a_number(value: Any) -> Any:
    """A number, or a string holding one, is not a date (pydantic reads it as a Unix time)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _numeric(value)):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def as_utc(value: datetime | None) -> datetime | None:
    """Naive date-times are taken as UTC; others are converted to it."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; ValueError when that instant falls outside years 1-9999."""
    try:
        return as_utc(value)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise ValueError("must fall within the years 1 to 9999 once converted to UTC") from None


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value


def _never_null(*names: str) -> Callable[[dict[str, Any]], None]:
    """A JSON schema edit: ``names`` may be left out but never sent as null (see _not_null)."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            prop["anyOf"] = [option for option in prop["anyOf"] if option != {"type": "null"}]
            prop.pop("default", None)

    return edit


NO_NUL = r"^[^\x00]*$"
"""A JSON Schema pattern for text without NUL (see check_text)."""
# Exactly what str.strip() removes (ECMA's \s, which JSON Schema patterns use, differs).
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def title_pattern(max_length: int) -> str:
    """The title rule as a JSON Schema pattern: 1 to ``max_length`` characters once trimmed."""
    edge = rf"[^{_SPACE}\x00]"
    return rf"^[{_SPACE}]*{edge}(?:[^\x00]{{0,{max_length - 2}}}{edge})?[{_SPACE}]*$"


_CONTRADICTIONS = {"anyOf": [
    {"required": ["status", "completed"],
     "properties": {"status": {"const": "completed"}, "completed": {"const": False}}},
    {"required": ["status", "completed"],
     "properties": {"status": {"enum": ["pending", "in_progress"]}, "completed": {"const": True}}},
]}


def publish_title_rule(schema: dict[str, Any], max_length: int = MAX_TITLE_LENGTH) -> None:
    """Give the title of a task's JSON schema the pattern for titles of ``max_length``."""
    _strings(schema, "title")["pattern"] = title_pattern(max_length)


def _published_rules(schema: dict[str, Any]) -> None:
    """A JSON schema edit: the text and consistency rules the validators below enforce."""
    publish_title_rule(schema)
    _strings(schema, "description").update(pattern=NO_NUL, maxLength=MAX_DESCRIPTION_LENGTH)
    schema["not"] = _CONTRADICTIONS  # status and completed must not disagree


def _strings(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """The string option of property ``name`` in ``schema``."""
    prop: dict[str, Any] = schema["properties"][name]
    return next((o for o in prop.get("anyOf", ()) if o.get("type") == "string"), prop)


def _task_schema(*never_null: str) -> Callable[[dict[str, Any]], None]:
    def edit(schema: dict[str, Any]) -> None:
        _never_null(*never_null)(schema)
        _published_rules(schema)

    return edit


DueDate = Annotated[datetime | None, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]
"""A date-time in ISO 8601, converted to UTC (bodies and query parameters alike)."""


class _TaskFields(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)

    description: StrictStr | None = None
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: DueDate = None
    completed: StrictBool | None = None

    @field_validator("title", mode="after", check_fields=False)
    @classmethod
    def _title(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        max_length = (info.context or {}).get("title_max", MAX_TITLE_LENGTH)
        return check_text(value, max_length=max_length)

    @field_validator("description", mode="after")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return None if value is None else check_text(value, max_length=MAX_DESCRIPTION_LENGTH)


class NewTask(_TaskFields):
    """The fields of a task being created."""

    model_config = ConfigDict(json_schema_extra=_task_schema())

    title: StrictStr


_NOT_NULL_IF_SENT = ("title", "status", "priority", "completed")


_NOTHING_UPDATABLE = {"properties": dict.fromkeys(UPDATABLE_FIELDS, False)}


def _changes_schema(schema: dict[str, Any]) -> None:
    _task_schema(*_NOT_NULL_IF_SENT)(schema)
    # At least one updatable field (see update_task), said inside "not": client generators read
    # a top-level anyOf as a union and lose the object's type.
    schema["not"] = {"anyOf": [*schema["not"]["anyOf"], _NOTHING_UPDATABLE]}


class TaskChanges(_TaskFields):
    """A partial update: the fields sent change, the others stay; at least one must be sent."""

    model_config = ConfigDict(json_schema_extra=_changes_schema)

    title: StrictStr | None = None

    @field_validator(*_NOT_NULL_IF_SENT, mode="before")
    @classmethod
    def _required_if_sent(cls, value: Any) -> Any:
        return _not_null(value)

    @property
    def sent(self) -> set[str]:
        return self.model_fields_set & set(UPDATABLE_FIELDS)


class CompletionRequest(BaseModel):
    """A body for the completion endpoint: an explicit state, or nothing (toggle)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_never_null("completed"))

    completed: StrictBool | None = None

    @field_validator("completed", mode="before")
    @classmethod
    def _required_if_sent(cls, value: Any) -> Any:
        return _not_null(value)


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: TaskInput, *, title_max: int = MAX_TITLE_LENGTH) -> Model:
    """``data`` validated as ``model``; ValidationFailed lists every broken rule."""
    context = {"title_max": title_max}
    try:
        if isinstance(data, bytes | str):
            return model.model_validate_json(data, context=context)
        return model.model_validate(data, context=context)
    except ValidationError as error:
        raise ValidationFailed.from_pydantic(error.errors()) from None


def parse_completion(data: TaskInput) -> bool | None:
    """The requested completion state, or None to toggle (no body, an empty one, ``{}``)."""
    if data is None or (isinstance(data, bytes | str) and not data.strip()):
        return None
    return parse(CompletionRequest, data).completed
