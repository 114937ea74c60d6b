"""Why a request could not be authenticated."""

from __future__ import annotations

import enum


class AuthFailure(enum.StrEnum):
    """The reason recorded in logs and metrics (never shown with the token)."""

    MISSING = "missing"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    MULTIPLE_HEADERS = "multiple_authorization_headers"
    EMPTY_TOKEN = "empty_token"  # noqa: S105 (a reason, not a secret)
    MALFORMED = "malformed"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    UNKNOWN_KEY = "unknown_key"
    KEYS_UNAVAILABLE = "keys_unavailable"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    MISSING_CLAIM = "missing_claim"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    NO_USER_ID = "no_user_id"
    INVALID = "invalid"


_MESSAGES = {
    AuthFailure.MISSING: "Authentication required: send Authorization: Bearer <token>",
    AuthFailure.UNSUPPORTED_SCHEME: "Authentication required: use the Bearer scheme",
    AuthFailure.EXPIRED: "The token has expired",
}
_NO_CREDENTIALS = {AuthFailure.MISSING, AuthFailure.UNSUPPORTED_SCHEME}
_BAD_REQUEST = {AuthFailure.MULTIPLE_HEADERS, AuthFailure.EMPTY_TOKEN}


class AuthenticationError(Exception):
    """The request carries no usable credentials; answered with 401."""

    def __init__(self, reason: AuthFailure) -> None:
        super().__init__(reason.value)
        self.reason = reason

    @property
    def code(self) -> str:
        return "TOKEN_EXPIRED" if self.reason is AuthFailure.EXPIRED else "UNAUTHENTICATED"

    @property
    def message(self) -> str:
        return _MESSAGES.get(self.reason, "The token is invalid")

    @property
    def www_authenticate(self) -> str:
        """The WWW-Authenticate value (RFC 6750 §3: no error code without credentials)."""
        if self.reason in _NO_CREDENTIALS:
            return "Bearer"
        error = "invalid_request" if self.reason in _BAD_REQUEST else "invalid_token"
        return f'Bearer error="{error}"'
