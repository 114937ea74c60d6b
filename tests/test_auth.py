"""Authentication through HTTP: HS256 with the shared secret, JWKS keys, claims and headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from app.factory import create_app
from app.settings import Settings
from auth.verifier import MAX_TOKEN_LENGTH
from tests.jwks_server import JwksServer, SigningKey, new_key, serve_jwks
from tests.support import (
    ALICE,
    TEST_SECRET,
    AuditReasons,
    assert_error,
    metric,
    tasks_url,
    token,
)

pytestmark = pytest.mark.anyio
ISSUER = "https://auth.example.com"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _now() -> int:
    return int(time.time())


def claims(sub: Any = ALICE, **extra: Any) -> dict[str, Any]:
    return {"sub": sub, "iat": _now(), "exp": _now() + 600, **extra}


def hs256(payload: Any, secret: str | bytes = TEST_SECRET, **header: Any) -> str:
    """A compact HS256 JWS over any JSON payload, even ones PyJWT would refuse to make."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = _b64(json.dumps(payload).encode())
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


async def get_tasks(client: httpx.AsyncClient, bearer: str, user: str = ALICE) -> httpx.Response:
    return await client.get(tasks_url(user), headers={"Authorization": f"Bearer {bearer}"})


def assert_rejected(response: httpx.Response, code: str = "UNAUTHENTICATED") -> None:
    assert_error(response, 401, code)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# ---------------------------------------------------------------- shared secret (HS256)


async def test_hs256_token_from_the_shared_secret_is_accepted(client: httpx.AsyncClient):
    response = await get_tasks(client, token(ALICE))
    assert response.status_code == 200


async def test_scheme_word_is_case_insensitive(client: httpx.AsyncClient):
    for scheme in ("bearer", "BEARER", "BeArEr"):
        response = await client.get(tasks_url(ALICE),
                                    headers={"Authorization": f"{scheme} {token(ALICE)}"})
        assert response.status_code == 200, scheme


@pytest.mark.parametrize(("name", "bad_token", "code"), [
    ("wrong secret", lambda: token(ALICE, secret="another-secret-" + "x" * 40), "UNAUTHENTICATED"),
    ("expired", lambda: token(ALICE, ttl=-120), "TOKEN_EXPIRED"),
    ("no exp", lambda: hs256({"sub": ALICE, "iat": _now()}), "UNAUTHENTICATED"),
    ("nbf in the future", lambda: hs256(claims(nbf=_now() + 600)), "UNAUTHENTICATED"),
    ("iat in the future", lambda: hs256(claims(iat=_now() + 600)), "UNAUTHENTICATED"),
    ("alg none", lambda: _b64(b'{"alg":"none"}') + "." + _b64(json.dumps(claims()).encode()) + ".",
     "UNAUTHENTICATED"),
    ("unsigned", lambda: hs256(claims()).rsplit(".", 1)[0] + ".", "UNAUTHENTICATED"),
    ("HS512", lambda: _hs512(claims()), "UNAUTHENTICATED"),
    ("no user id", lambda: hs256({"iat": _now(), "exp": _now() + 60}), "UNAUTHENTICATED"),
    ("empty sub", lambda: hs256(claims(sub="")), "UNAUTHENTICATED"),
    ("300-character sub", lambda: hs256(claims(sub="u" * 300)), "UNAUTHENTICATED"),
    ("numeric sub", lambda: hs256(claims(sub=12345)), "UNAUTHENTICATED"),
    ("lone surrogate sub", lambda: hs256(claims(sub="al\ud800ice")), "UNAUTHENTICATED"),  # was 500
    ("NUL in sub", lambda: hs256(claims(sub="alice\u0000")), "UNAUTHENTICATED"),
    ("JSON array payload", lambda: hs256([ALICE]), "UNAUTHENTICATED"),
    ("invalid base64", lambda: "!!!.@@@.###", "UNAUTHENTICATED"),
    ("not a JWT", lambda: "garbage", "UNAUTHENTICATED"),
    ("20 KB token", lambda: hs256(claims(padding="x" * 20_000)), "UNAUTHENTICATED"),
    ("edited payload", lambda: _edit_payload(token(ALICE), sub="bob"), "UNAUTHENTICATED"),
])
async def test_bad_tokens_are_401(client: httpx.AsyncClient, name, bad_token, code):
    assert_rejected(await get_tasks(client, bad_token()), code)


def _hs512(payload: dict[str, Any]) -> str:
    head = _b64(b'{"alg":"HS512","typ":"JWT"}')
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(TEST_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha512).digest()
    return f"{head}.{body}.{_b64(signature)}"


def _edit_payload(compact: str, **changes: Any) -> str:
    head, body, signature = compact.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return ".".join([head, _b64(json.dumps({**payload, **changes}).encode()), signature])


def _token_of_length(length: int) -> str:
    """A valid HS256 token exactly ``length`` characters long (padded with a claim)."""
    for kid_length in range(4):  # base64 skips some lengths; a longer header fills the gap
        for padding in range(length):
            bearer = hs256(claims(padding="x" * padding), kid="k" * kid_length)
            if len(bearer) >= length:
                break
        if len(bearer) == length:
            return bearer
    raise AssertionError(f"no token of {length} characters")


async def test_tokens_up_to_the_length_limit_are_accepted(client: httpx.AsyncClient):
    assert (await get_tasks(client, _token_of_length(MAX_TOKEN_LENGTH))).status_code == 200
    assert_rejected(await get_tasks(client, _token_of_length(MAX_TOKEN_LENGTH + 1)))


async def test_expired_within_leeway_is_still_accepted(client: httpx.AsyncClient):
    response = await get_tasks(client, hs256(claims(exp=_now() - 10)))
    assert response.status_code == 200


async def test_token_accepted_before_is_refused_once_it_expires(settings: Settings):
    """Verified tokens are remembered, but never past their expiry (plus the leeway)."""
    no_leeway = settings.model_copy(update={"jwt_leeway_seconds": 0})
    bearer = hs256(claims(exp=_now() + 2))
    async with _client_for(create_app(no_leeway)) as http:
        assert (await get_tasks(http, bearer)).status_code == 200
        assert (await get_tasks(http, bearer)).status_code == 200
        await anyio.sleep(3)  # past exp: the remembered verification must not outlive it
        assert_rejected(await get_tasks(http, bearer), "TOKEN_EXPIRED")


@pytest.mark.parametrize("claim", ["id", "userId", "user_id"])
async def test_user_id_falls_back_to_other_claims(client: httpx.AsyncClient, claim):
    response = await get_tasks(client, hs256({claim: ALICE, "iat": _now(), "exp": _now() + 60}))
    assert response.status_code == 200


async def test_sub_wins_over_fallback_claims(client: httpx.AsyncClient):
    response = await get_tasks(client, hs256(claims(id="someone-else")))
    assert response.status_code == 200


async def test_token_audience_is_ignored_when_none_is_configured(client: httpx.AsyncClient):
    response = await get_tasks(client, hs256(claims(aud="https://frontend.example", iss="x")))
    assert response.status_code == 200


@pytest.mark.parametrize(("headers", "challenge"), [
    ([], "Bearer"),
    ([("Authorization", f"Basic {_b64(b'alice:secret')}")], "Bearer"),
    ([("Authorization", "Bearer")], 'Bearer error="invalid_request"'),
    ([("Authorization", "Bearer    ")], 'Bearer error="invalid_request"'),
    ([("Authorization", f"Bearer {token(ALICE)}"), ("Authorization", f"Bearer {token(ALICE)}")],
     'Bearer error="invalid_request"'),
])
async def test_authorization_header_shapes(client: httpx.AsyncClient, headers, challenge):
    response = await client.get(tasks_url(ALICE), headers=headers)
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == challenge


async def test_token_in_query_string_or_cookie_does_not_authenticate(client: httpx.AsyncClient):
    response = await client.get(tasks_url(ALICE) + f"?access_token={token(ALICE)}&token=x",
                                headers={"Cookie": f"better-auth.session_token={token(ALICE)}"})
    assert_error(response, 401, "UNAUTHENTICATED")


async def test_email_and_name_claims_reach_the_users_table(client: httpx.AsyncClient, app):
    headers = {"Authorization": f"Bearer {token(ALICE, email='a@example.com', name='Alice')}"}
    assert (await client.post(tasks_url(ALICE), json={"title": "x"}, headers=headers)).is_success
    headers = {"Authorization": f"Bearer {token(ALICE, name='Alice B.')}"}
    assert (await client.post(tasks_url(ALICE), json={"title": "y"}, headers=headers)).is_success
    async with app.state.services.db.transaction() as session:
        rows = (await session.execute(text("SELECT id, email, name FROM users"))).all()
    assert [tuple(r) for r in rows] == [(ALICE, "a@example.com", "Alice B.")]


async def test_email_and_name_that_are_not_storable_text_are_dropped(client: httpx.AsyncClient,
                                                                     app):
    # A lone surrogate is valid JSON but not UTF-8: storing it was a 500 (hostile inputs).
    bearer = hs256(claims(email="a\ud800@example.com", name="nul\u0000"))
    response = await client.post(tasks_url(ALICE), json={"title": "x"},
                                 headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 201, response.text
    async with app.state.services.db.transaction() as session:
        rows = (await session.execute(text("SELECT id, email, name FROM users"))).all()
    assert [tuple(r) for r in rows] == [(ALICE, None, None)]


# ---------------------------------------------------------------- issuer and audience


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    strict = settings.model_copy(update={"better_auth_url": ISSUER})
    async with _client_for(create_app(strict)) as http:
        yield http


async def test_issuer_and_audience_are_checked_when_configured(strict_client):
    good = hs256(claims(iss=ISSUER, aud=ISSUER))
    assert (await get_tasks(strict_client, good)).status_code == 200
    assert (await get_tasks(strict_client, hs256(claims(iss=ISSUER, aud=[ISSUER, "x"])))
            ).status_code == 200
    for bad in (claims(iss="https://evil.example", aud=ISSUER),
                claims(iss=ISSUER, aud="https://evil.example"),
                claims(iss=ISSUER), claims(aud=ISSUER)):
        assert_rejected(await get_tasks(strict_client, hs256(bad)))


# ---------------------------------------------------------------- JWKS (asymmetric keys)


@asynccontextmanager
async def _client_for(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await application.state.services.db.dispose()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with serve_jwks(new_key("k1", "EdDSA"), new_key("r1", "RS256"), new_key("e1", "ES256")) as s:
        yield s


@asynccontextmanager
async def jwks_client(settings: Settings, server: JwksServer, **overrides: Any
                      ) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"better_auth_jwks_url": server.url, **overrides})
    async with _client_for(create_app(configured)) as http:
        yield http


@pytest.mark.parametrize("kid", ["k1", "r1", "e1"])
async def test_jwks_keys_verify_eddsa_rs256_and_es256_tokens(settings, jwks_server, kid):
    key = next(k for k in jwks_server.keys if k.kid == kid)
    async with jwks_client(settings, jwks_server) as http:
        assert (await get_tasks(http, key.sign(claims()))).status_code == 200
        assert (await get_tasks(http, key.sign(claims()))).status_code == 200
    assert jwks_server.fetches == 1  # fetched once, then cached
    assert [accept.lower() for accept in jwks_server.accepts if accept] == ["application/json"]


async def test_jwks_and_shared_secret_work_side_by_side(settings, jwks_server):
    async with jwks_client(settings, jwks_server) as http:
        assert (await get_tasks(http, jwks_server.keys[0].sign(claims()))).status_code == 200
        assert (await get_tasks(http, token(ALICE))).status_code == 200


async def test_key_not_in_the_jwks_is_rejected(settings, jwks_server):
    stranger = new_key("k1", "EdDSA")  # same kid, other key: a second Better Auth instance
    async with jwks_client(settings, jwks_server) as http:
        assert_rejected(await get_tasks(http, stranger.sign(claims())))
        assert_rejected(await get_tasks(http, _edit_payload(jwks_server.keys[0].sign(claims()),
                                                            sub="bob")))


async def test_unknown_kid_refreshes_at_most_once_per_interval(settings, jwks_server):
    rotated = new_key("k2", "EdDSA")
    # a minute: far longer than this test, and shorter than the machine has been up (the
    # monotonic clock's reading), so a refresh check that adds the clocks up would refresh
    async with jwks_client(settings, jwks_server, jwks_min_refresh_seconds=60) as http:
        assert (await get_tasks(http, jwks_server.keys[0].sign(claims()))).status_code == 200
        for _ in range(5):
            assert_rejected(await get_tasks(http, rotated.sign(claims())))
    assert jwks_server.fetches == 1


async def test_rotated_keys_are_picked_up_without_restart(settings, jwks_server):
    rotated = new_key("k2", "EdDSA")
    async with jwks_client(settings, jwks_server, jwks_min_refresh_seconds=0) as http:
        assert (await get_tasks(http, jwks_server.keys[0].sign(claims()))).status_code == 200
        jwks_server.keys.append(rotated)
        assert (await get_tasks(http, rotated.sign(claims()))).status_code == 200
    assert jwks_server.fetches == 2


@pytest.mark.parametrize("header", [
    {"kid": "../../etc/passwd"}, {"kid": "http://evil.example/jwks"},
    {"jku": "http://evil.example/jwks"}, {"x5u": "http://evil.example/cert"},
])
async def test_hostile_key_headers_never_fetch_anything_else(settings, jwks_server, header):
    attacker = new_key("k1", "EdDSA")
    async with jwks_client(settings, jwks_server, jwks_min_refresh_seconds=3600) as http:
        assert_rejected(await get_tasks(http, attacker.sign(claims(), **header)))
    assert jwks_server.fetches <= 1


async def test_hs256_signed_with_the_public_key_is_rejected(settings, jwks_server):
    """Algorithm confusion: an HS256 token whose HMAC key is the published public key."""
    public = jwks_server.keys[1].private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    configured = settings.model_copy(update={"better_auth_jwks_url": jwks_server.url,
                                             "better_auth_secret": None})
    async with _client_for(create_app(configured)) as http:
        assert_rejected(await get_tasks(http, hs256(claims(), secret=public, kid="r1")))
        assert_rejected(await get_tasks(http, hs256(claims(), secret=jwks_server.keys[0].kid)))


async def test_asymmetric_token_is_not_checked_against_the_shared_secret(client):
    key = new_key("k1", "EdDSA")  # no JWKS configured: only the secret
    assert_rejected(await get_tasks(client, key.sign(claims())))


async def test_unreachable_jwks_rejects_asymmetric_tokens_but_not_hs256(settings, audited,
                                                                        capsys):
    with serve_jwks(new_key("k1")) as server:
        url = server.url
    key = new_key("k1")
    configured = settings.model_copy(update={"better_auth_jwks_url": url})
    async with _client_for(create_app(configured)) as http:
        assert_rejected(await get_tasks(http, key.sign(claims())))
        assert (await get_tasks(http, token(ALICE))).status_code == 200
    assert audited.reasons == ["keys_unavailable"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()
              if line.startswith("{")]
    warnings = [(line["level"], line["message"]) for line in logged
                if line["logger"] == "todo_api.auth"]
    assert warnings == [("warning", "jwks fetch failed: ConnectError")]


async def test_a_jwks_endpoint_that_never_answers_does_not_hold_requests(settings, audited):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks"
        configured = settings.model_copy(update={"better_auth_jwks_url": url,
                                                 "jwks_timeout_seconds": 0.2})
        async with _client_for(create_app(configured)) as http:
            # The fetch gives up after the configured timeout, long before httpx's default (5 s).
            with anyio.fail_after(4):
                assert_rejected(await get_tasks(http, new_key("k1").sign(claims())))
    assert audited.reasons == ["keys_unavailable"]


async def test_jwks_redirects_are_not_followed(settings, jwks_server, audited):
    with serve_jwks() as redirecting:
        redirecting.redirect_to = jwks_server.url
        async with jwks_client(settings, redirecting) as http:
            assert_rejected(await get_tasks(http, jwks_server.keys[0].sign(claims())))
    assert (len(redirecting.accepts), jwks_server.fetches) == (1, 0)
    assert audited.reasons == ["keys_unavailable"]


@pytest.mark.parametrize("document", [b"[]", b'"keys"', b"5", b"null", b'{"keys": "all"}',
                                      b'{"keys": null}', b"{}", b"not json"])
async def test_a_jwks_that_is_not_a_key_set_rejects_asymmetric_tokens(settings, jwks_server,
                                                                      document):
    jwks_server.raw = document
    async with jwks_client(settings, jwks_server) as http:
        assert_rejected(await get_tasks(http, jwks_server.keys[0].sign(claims())))
        assert (await get_tasks(http, token(ALICE))).status_code == 200


async def test_known_keys_are_not_fetched_again(settings, jwks_server):
    key = jwks_server.keys[0]
    async with jwks_client(settings, jwks_server, jwks_min_refresh_seconds=0) as http:
        for _ in range(3):
            assert (await get_tasks(http, key.sign(claims()))).status_code == 200
    assert jwks_server.fetches == 1


async def test_token_without_kid_uses_the_only_key(settings):
    key = new_key("only", "EdDSA")
    with serve_jwks(key) as server:
        async with jwks_client(settings, server) as http:
            anonymous = jwt.encode(claims(), key.private, algorithm="EdDSA")
            assert (await get_tasks(http, anonymous)).status_code == 200


async def test_token_without_kid_is_rejected_when_keys_are_ambiguous(settings, jwks_server):
    key = jwks_server.keys[0]
    async with jwks_client(settings, jwks_server) as http:
        assert_rejected(await get_tasks(http, jwt.encode(claims(), key.private, algorithm="EdDSA")))


async def test_token_without_kid_is_rejected_even_when_one_key_has_no_kid(settings, jwks_server):
    unnamed = new_key("unnamed", "EdDSA")
    jwks_server.extra = [{k: v for k, v in unnamed.public_jwk.items() if k != "kid"}]
    async with jwks_client(settings, jwks_server) as http:
        anonymous = jwt.encode(claims(), unnamed.private, algorithm="EdDSA")
        assert_rejected(await get_tasks(http, anonymous))
        assert (await get_tasks(http, jwks_server.keys[0].sign(claims()))).status_code == 200


async def test_a_withdrawn_key_is_refused_even_for_a_token_accepted_before(settings,
                                                                           jwks_server):
    withdrawn, successor = jwks_server.keys[0], new_key("k2", "EdDSA")
    earlier = withdrawn.sign(claims())
    async with jwks_client(settings, jwks_server, jwks_min_refresh_seconds=0) as http:
        assert (await get_tasks(http, earlier)).status_code == 200
        jwks_server.keys = [successor]  # Better Auth rotated k1 out
        assert (await get_tasks(http, successor.sign(claims()))).status_code == 200
        assert_rejected(await get_tasks(http, earlier))


async def test_cached_keys_survive_a_jwks_outage(settings, audited):
    key = new_key("k1", "EdDSA")
    with serve_jwks(key) as server:
        app_settings = settings.model_copy(update={"better_auth_jwks_url": server.url,
                                                   "jwks_min_refresh_seconds": 0})
        application = create_app(app_settings)
        async with _client_for(application) as http:
            assert (await get_tasks(http, key.sign(claims()))).status_code == 200
            server.keys.clear()
            server.fail = True
            assert_rejected(await get_tasks(http, new_key("k2").sign(claims())))
            assert (await get_tasks(http, key.sign(claims()))).status_code == 200
    assert audited.reasons == ["unknown_key"]  # the outage did not make the cache unusable


async def test_unusable_jwks_entries_are_skipped(settings):
    key = new_key("good", "EdDSA")
    with serve_jwks(key) as server:  # the unusable entries come first
        server.extra = [{"kty": "unknown", "kid": "weird"}, {"kid": "no-type"}, "not-an-object"]
        async with jwks_client(settings, server) as http:
            assert (await get_tasks(http, key.sign(claims()))).status_code == 200


@pytest.mark.parametrize("header", [{"kid": 7}, {"alg": 5}])
async def test_malformed_jose_headers_are_rejected(settings, jwks_server, header):
    key = jwks_server.keys[0]
    head = _b64(json.dumps({"alg": "EdDSA", "kid": key.kid, **header}).encode())
    body = _b64(json.dumps(claims()).encode())
    async with jwks_client(settings, jwks_server) as http:
        assert_rejected(await get_tasks(http, f"{head}.{body}.{_b64(b'sig')}"))


async def test_header_algorithm_must_match_the_keys_algorithm(settings, jwks_server):
    """An RS256 token that names the kid of the Ed25519 key must not be accepted."""
    rsa_key = next(k for k in jwks_server.keys if k.algorithm == "RS256")
    forged = jwt.encode(claims(), rsa_key.private, algorithm="RS256", headers={"kid": "k1"})
    async with jwks_client(settings, jwks_server) as http:
        assert_rejected(await get_tasks(http, forged))


async def test_user_id_with_nul_is_rejected(client: httpx.AsyncClient):
    assert_rejected(await get_tasks(client, hs256(claims(sub="ali\u0000ce"))))


# ---------------------------------------------------------------- HS256 never meets a public key


def _public_bytes(key: SigningKey, encoding: serialization.Encoding) -> bytes:
    public = key.private.public_key()
    if encoding is serialization.Encoding.Raw:
        raw: bytes = public.public_bytes(encoding, serialization.PublicFormat.Raw)
        return raw
    spki: bytes = public.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
    return spki


def _relabelled_hs256(compact: str) -> str:
    """An asymmetric token whose header now says HS256; payload and signature unchanged."""
    head, body, signature = compact.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return ".".join([_b64(json.dumps({**header, "alg": "HS256"}).encode()), body, signature])


def _key(server: JwksServer, kid: str) -> SigningKey:
    return next(key for key in server.keys if key.kid == kid)


OTHER_SECRET = "another-frontend-secret-0123456789abcdef"
CONFUSED_TOKENS: dict[str, Callable[[JwksServer], str]] = {
    "wrong secret": lambda _: hs256(claims(), secret=OTHER_SECRET),
    "wrong secret, a published kid": lambda _: hs256(claims(), secret=OTHER_SECRET, kid="k1"),
    "wrong secret, an unknown kid": lambda _: hs256(claims(), secret=OTHER_SECRET, kid="k9"),
    "RSA public key (PEM) as secret": lambda s: hs256(
        claims(), secret=_public_bytes(_key(s, "r1"), serialization.Encoding.PEM), kid="r1"),
    "RSA public key (DER) as secret": lambda s: hs256(
        claims(), secret=_public_bytes(_key(s, "r1"), serialization.Encoding.DER), kid="r1"),
    "Ed25519 public key (raw) as secret": lambda s: hs256(
        claims(), secret=_public_bytes(_key(s, "k1"), serialization.Encoding.Raw), kid="k1"),
    "EC public key (PEM) as secret": lambda s: hs256(
        claims(), secret=_public_bytes(_key(s, "e1"), serialization.Encoding.PEM), kid="e1"),
    "published JWK as secret": lambda s: hs256(
        claims(), secret=json.dumps(_key(s, "k1").public_jwk).encode(), kid="k1"),
    "EdDSA token relabelled HS256": lambda s: _relabelled_hs256(_key(s, "k1").sign(claims())),
    "RS256 token relabelled HS256": lambda s: _relabelled_hs256(_key(s, "r1").sign(claims())),
    "ES256 token relabelled HS256": lambda s: _relabelled_hs256(_key(s, "e1").sign(claims())),
}


async def _failures(http: httpx.AsyncClient) -> dict[str, float]:
    exposition = (await http.get("/metrics")).text
    return {reason: metric(exposition, "todo_api_auth_failures_total", reason=reason)
            for reason in ("bad_signature", "algorithm_not_allowed", "invalid", "unknown_key",
                           "keys_unavailable", "malformed")}


@pytest.mark.parametrize(("secret", "reason"), [
    (TEST_SECRET, "bad_signature"),  # checked against the shared secret only
    (None, "algorithm_not_allowed"),  # no shared secret: HS256 is not accepted at all
], ids=["secret and JWKS", "JWKS only"])
@pytest.mark.parametrize("name", sorted(CONFUSED_TOKENS))
async def test_hs256_token_is_checked_against_the_shared_secret_only(
        settings: Settings, jwks_server: JwksServer, audited: AuditReasons, secret: str | None,
        reason: str, name: str):
    configured = settings.model_copy(update={"better_auth_jwks_url": jwks_server.url,
                                             "better_auth_secret": secret and SecretStr(secret)})
    bearer = CONFUSED_TOKENS[name](jwks_server)
    async with _client_for(create_app(configured)) as http:
        before = await _failures(http)
        assert_rejected(await get_tasks(http, bearer))
        after = await _failures(http)
        assert audited.reasons == [reason]
        assert {k: after[k] - before[k] for k in after} == {k: float(k == reason) for k in after}
        assert jwks_server.fetches == 0  # HS256 never reaches the JWKS, whatever its kid
        assert (await get_tasks(http, _key(jwks_server, "k1").sign(claims()))).status_code == 200
        assert jwks_server.fetches == 1  # the JWKS was reachable all along
