"""The Idempotency-Key request header of creates."""

from __future__ import annotations

from fastapi import Request

from resolvers.errors import ValidationFailed
from resolvers.retries import check_key

HEADER = "Idempotency-Key"
PARAMETER = {
    "name": HEADER, "in": "header", "required": False,
    "description": (
        "Makes the create safe to retry: the same key with the same body within 24 hours "
        "answers the task the first request created, and creates nothing. The same key with "
        "another body is 422 IDEMPOTENCY_KEY_REUSED; a retry while the first request is still "
        "running is 409 IDEMPOTENCY_KEY_IN_USE. Keys are per user: 1-255 printable ASCII "
        'characters, sent as a structured-field string ("…") or as they are.'),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
}
"""The header as OpenAPI documents it."""


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key, None without one; ValidationFailed when malformed."""
    values = request.headers.getlist(HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationFailed.single(HEADER, "must be sent once")
    return parse_idempotency_key(values[0])


def parse_idempotency_key(value: str) -> str:
    """The key in a header value: a structured-field string (RFC 8941), or the bare text."""
    value = value.strip(" \t")
    key = _unquote(value) if value.startswith('"') else value
    return check_key(key, field=HEADER)


def _unquote(value: str) -> str:
    """The content of an sf-string: ``"…"`` with ``\\"`` and ``\\\\`` the only escapes."""
    characters: list[str] = []
    escaped = False
    for position, ch in enumerate(value[1:], start=1):
        if escaped:
            if ch not in '"\\':
                break
            characters.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            if position == len(value) - 1:
                return "".join(characters)
            break
        else:
            characters.append(ch)
    raise ValidationFailed.single(HEADER, 'must be a quoted string such as "a1b2c3"')
