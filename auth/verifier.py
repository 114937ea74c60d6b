"""Turning a bearer token into a Principal, locally, with PyJWT."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import jwt

from auth.errors import AuthenticationError, AuthFailure
from auth.jwks import JwksCache, KeysUnavailable
from auth.principal import Principal

SHARED_SECRET_ALGORITHMS = frozenset({"HS256"})
PUBLIC_KEY_ALGORITHMS = frozenset({"EdDSA", "RS256", "RS384", "RS512", "PS256", "PS384",
                                   "PS512", "ES256", "ES384", "ES512"})
USER_ID_CLAIMS = ("sub", "id", "userId", "user_id")
TIME_CLAIMS = ("exp", "nbf", "iat")
MAX_TOKEN_LENGTH = 8192
MAX_USER_ID_LENGTH = 255
VERIFIED_TOKENS = 4096
"""Shared-secret tokens remembered once verified (clients resend the same token many times)."""

_FAILURES: tuple[tuple[type[Exception], AuthFailure], ...] = (
    (jwt.ExpiredSignatureError, AuthFailure.EXPIRED),
    (jwt.ImmatureSignatureError, AuthFailure.NOT_YET_VALID),
    (jwt.InvalidSignatureError, AuthFailure.BAD_SIGNATURE),
    (jwt.InvalidAudienceError, AuthFailure.WRONG_AUDIENCE),
    (jwt.InvalidIssuerError, AuthFailure.WRONG_ISSUER),
    (jwt.MissingRequiredClaimError, AuthFailure.MISSING_CLAIM),
    (jwt.DecodeError, AuthFailure.MALFORMED),
)


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must satisfy besides its signature."""

    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: int = 30


class TokenVerifier:
    """Verifies HS256 tokens with the shared secret and asymmetric ones with the JWKS keys."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks: JwksCache | None = None,
        policy: TokenPolicy | None = None,
    ) -> None:
        self._secret = secret
        self._jwks = jwks
        self._policy = policy or TokenPolicy()
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        """The principal ``token`` speaks for; AuthenticationError when it speaks for none."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError(AuthFailure.MALFORMED)
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        header = _header(token)
        key = await self._key_for(header)
        claims = self._decode(token, key, header["alg"])
        principal = _principal(claims)
        if key is self._secret:
            self._remember(token, principal, claims["exp"])
        return principal

    def _remember(self, token: str, principal: Principal, exp: float) -> None:
        """Keep a verified shared-secret token until it expires, as PyJWT would judge it.

        Its signature, audience, issuer, nbf and iat were checked and cannot change; only the
        clock can end it. JWKS tokens are not kept: their key may be withdrawn.
        """
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (principal, float(exp) + self._policy.leeway_seconds)

    async def _key_for(self, header: dict[str, Any]) -> Any:
        algorithm = header.get("alg")
        if algorithm in SHARED_SECRET_ALGORITHMS and self._secret:
            return self._secret
        if algorithm in PUBLIC_KEY_ALGORITHMS and self._jwks is not None:
            kid = header.get("kid")
            if kid is not None and not isinstance(kid, str):
                raise AuthenticationError(AuthFailure.MALFORMED)
            try:
                key = await self._jwks.key_for(kid)
            except KeysUnavailable as error:
                raise AuthenticationError(AuthFailure.KEYS_UNAVAILABLE) from error
            if key is None:
                raise AuthenticationError(AuthFailure.UNKNOWN_KEY)
            if key.algorithm_name != algorithm:
                raise AuthenticationError(AuthFailure.ALGORITHM_NOT_ALLOWED)
            return key
        raise AuthenticationError(AuthFailure.ALGORITHM_NOT_ALLOWED)

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        policy = self._policy
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=policy.audience,
                issuer=policy.issuer,
                leeway=policy.leeway_seconds,
                options={"require": ["exp"], "verify_aud": policy.audience is not None},
            )
        except jwt.InvalidTokenError as error:
            raise AuthenticationError(_failure_for(error)) from error
        if not all(_is_numeric_date(claims[name]) for name in TIME_CLAIMS if name in claims):
            raise AuthenticationError(AuthFailure.MALFORMED)
        return claims


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise AuthenticationError(AuthFailure.MALFORMED) from error
    if not isinstance(header.get("alg"), str):
        raise AuthenticationError(AuthFailure.MALFORMED)
    return header


def _is_numeric_date(value: Any) -> bool:
    """A JSON number that a float holds (PyJWT also takes strings of digits and huge integers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer past 1.8e308
        return False


def _failure_for(error: jwt.InvalidTokenError) -> AuthFailure:
    for error_type, failure in _FAILURES:
        if isinstance(error, error_type):
            return failure
    return AuthFailure.INVALID


def _principal(claims: dict[str, Any]) -> Principal:
    user_id = _text(next((claims[name] for name in USER_ID_CLAIMS if name in claims), None))
    if user_id is None or not user_id.strip() or len(user_id) > MAX_USER_ID_LENGTH:
        raise AuthenticationError(AuthFailure.NO_USER_ID)
    email, name = _text(claims.get("email")), _text(claims.get("name"))
    return Principal(user_id=user_id, email=email, name=name)


def _text(value: Any) -> str | None:
    """``value`` when it is text a database can store: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return None
    try:
        value.encode()
    except UnicodeEncodeError:  # JSON allows "\ud800", UTF-8 does not
        return None
    return value


def mint_token(secret: str, user_id: str, *, ttl_seconds: int, **claims: Any) -> str:
    """An HS256 token for ``user_id``, as a frontend signing with the shared secret would make."""
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + ttl_seconds, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")
