"""Finding the bearer token in a request's headers."""

from __future__ import annotations

from collections.abc import Sequence

from auth.errors import AuthenticationError, AuthFailure


def bearer_token(authorization_headers: Sequence[str]) -> str:
    """The token of the single ``Authorization: Bearer`` header (scheme case-insensitive)."""
    if not authorization_headers:
        raise AuthenticationError(AuthFailure.MISSING)
    if len(authorization_headers) > 1:
        raise AuthenticationError(AuthFailure.MULTIPLE_HEADERS)
    scheme, _, token = authorization_headers[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationError(AuthFailure.UNSUPPORTED_SCHEME)
    token = token.strip()
    if not token:
        raise AuthenticationError(AuthFailure.EMPTY_TOKEN)
    return token
