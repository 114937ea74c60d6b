"""Shared-secret tokens: minted for development, verified once, then remembered exactly as long
as PyJWT accepts them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from app.tokens import mint_dev_token
from auth.principal import Principal
from auth.verifier import VERIFIED_TOKENS, TokenPolicy, TokenVerifier
from tests.support import TEST_SECRET, token

pytestmark = pytest.mark.anyio
LEEWAY = 30


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens PyJWT is asked to verify, in order."""
    seen: list[str] = []
    real_decode = jwt.decode

    def decode(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", decode)
    return seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Sets the time the verifier reads (PyJWT keeps reading the real one)."""
    def set_to(instant: float) -> None:
        monkeypatch.setattr(time, "time", lambda: instant)
    return set_to


def _verifier() -> TokenVerifier:
    return TokenVerifier(secret=TEST_SECRET, policy=TokenPolicy(leeway_seconds=LEEWAY))


async def test_a_token_is_verified_once_while_it_is_resent(decodes: list[str]):
    verifier, bearer = _verifier(), token("alice")
    answers = [await verifier.verify(bearer) for _ in range(3)]
    assert answers == [Principal(user_id="alice", email=None, name=None)] * 3
    assert decodes == [bearer]


async def test_a_remembered_token_is_verified_again_once_its_leeway_is_over(
        decodes: list[str], clock: Callable[[float], None]):
    verifier = _verifier()
    bearer = token("alice", ttl=600)
    expiry = jwt.decode(bearer, options={"verify_signature": False})["exp"]
    decodes.clear()
    await verifier.verify(bearer)
    for instant in (expiry + 1, expiry + LEEWAY - 0.001):  # expired, but within the leeway
        clock(instant)
        await verifier.verify(bearer)
    assert decodes == [bearer]
    clock(expiry + LEEWAY)  # the instant PyJWT calls it expired
    await verifier.verify(bearer)
    assert decodes == [bearer, bearer]


async def test_the_oldest_token_is_forgotten_when_the_cache_is_full(decodes: list[str]):
    verifier = _verifier()
    bearers = [token(f"user-{n}") for n in range(VERIFIED_TOKENS + 1)]
    for bearer in bearers:
        await verifier.verify(bearer)
    decodes.clear()
    await verifier.verify(bearers[-1])
    await verifier.verify(bearers[1])
    assert decodes == []  # the newest VERIFIED_TOKENS are remembered
    await verifier.verify(bearers[0])
    assert decodes == [bearers[0]]


def test_a_development_token_carries_exactly_the_claims_it_is_given(settings):
    configured = settings.model_copy(update={"jwt_issuer": "https://auth.example.com",
                                             "jwt_audience": "todo-api"})
    minted = mint_dev_token(configured, "dev-1", email="dev@example.com", ttl=90)
    claims = jwt.decode(minted, TEST_SECRET, algorithms=["HS256"], audience="todo-api")
    assert jwt.get_unverified_header(minted)["alg"] == "HS256"
    assert claims == {"sub": "dev-1", "email": "dev@example.com", "iss": "https://auth.example.com",
                      "aud": "todo-api", "iat": claims["iat"], "exp": claims["iat"] + 90}
    assert abs(claims["iat"] - time.time()) < 5
