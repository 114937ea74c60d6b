"""Our service against a real Better Auth (npm) server: its tokens work, and nothing else does.

Every test runs on SQLite and PostgreSQL, and the door tests once per door of tests/doors.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any, Literal

import httpx
import jwt
import pytest

from tests.doors import DOORS, Caller, Door, Outcome, Result, complete, door_id
from tests.support import AuditReasons

from .better_auth_harness import BetterAuthServer, sign_with_jose
from .conftest import (
    PASSWORD,
    SHARED_SECRET,
    Service,
    counting_proxy,
    jwks_settings,
    make_settings,
    serve,
    sign_up,
)

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.fixture(params=DOORS, ids=door_id)
def door(request: pytest.FixtureRequest) -> Door:
    driver: Door = request.param
    return driver


def shown(outcome: Outcome) -> dict[str, Any]:
    """The fields of a task every door reports, from a successful answer."""
    task = outcome.ok_task()
    return {"id": task["id"], "title": task["title"], "completed": task["completed"]}


def header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = jwt.get_unverified_header(token)
    return header


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def edit_payload(token: str, **changes: Any) -> str:
    """The token with its payload changed and its original signature kept."""
    header, _, signature = token.split(".")
    payload = _b64url(json.dumps(claims_of(token) | changes).encode())
    return f"{header}.{payload}.{signature}"


def session_user(server: BetterAuthServer, caller: Caller) -> dict[str, Any]:
    """Better Auth's user for a fresh sign-in, as a Next.js route reads it from the session."""
    assert caller.email
    return server.session_user(server.sign_in(caller.email, PASSWORD))


async def run_every_operation(service: Service, door: Door, caller: Caller) -> None:
    """Create, list, read, update, complete and delete one task as ``caller``."""
    http = service.http
    created = await door.create(http, caller, {"title": "Write the report"})
    task_id = created.ok_task()["id"]
    assert shown(created) == {"id": task_id, "title": "Write the report", "completed": False}
    assert (await door.list(http, caller)).ok().ids == [task_id]
    assert (await door.get(http, caller, task_id)).ok_task() == created.task
    updated = await door.update(http, caller, task_id, {"title": "Write the final report"})
    assert shown(updated) == shown(created) | {"title": "Write the final report"}
    completed = await complete(door, http, caller, task_id)
    assert shown(completed) == shown(updated) | {"completed": True}
    assert (await door.delete(http, caller, task_id)).result is Result.OK
    assert (await door.get(http, caller, task_id)).result is Result.NOT_FOUND
    assert (await door.list(http, caller)).ok().ids == []


async def list_and_create(door: Door, http: httpx.AsyncClient, caller: Caller) -> list[Result]:
    """What listing, then creating a task, answer to ``caller``."""
    return [(await door.list(http, caller)).result,
            (await door.create(http, caller, {"title": "Attempt"})).result]


# --- JWKS mode -----------------------------------------------------------------------------


async def test_better_auth_token_works_on_every_operation(
    service: Service, door: Door, alice: Caller
):
    assert header_of(alice.token)["alg"] == "EdDSA"
    await run_every_operation(service, door, alice)


@pytest.mark.parametrize("via", ["cookie", "get-session"])
async def test_tokens_from_each_frontend_path_are_accepted(
    service: Service, door: Door, ba: BetterAuthServer, alice: Caller,
    via: Literal["cookie", "get-session"],
):
    # GET /api/auth/token with the session cookie, or the set-auth-jwt header of get-session
    # (the bearer-session GET /token path is what every other test uses).
    assert alice.email
    caller = alice.with_token(ba.jwt_for(alice.email, PASSWORD, via=via))
    created = await door.create(service.http, caller, {"title": "From the frontend"})
    assert created.result is Result.OK


async def test_other_user_cannot_see_or_change_tasks(
    service: Service, door: Door, alice: Caller, bob: Caller
):
    http = service.http
    mine = await door.create(http, alice, {"title": "Alice's secret"})
    task_id = mine.ok_task()["id"]
    paths = [bob.user_id, alice.user_id] if door.names_user_in_path else [bob.user_id]
    for path_user in paths:
        denied = Result.NOT_FOUND if path_user == bob.user_id else Result.FORBIDDEN
        answers = [
            await door.get(http, bob, task_id, path_user=path_user),
            await door.update(http, bob, task_id, {"title": "Bob was here"},
                              path_user=path_user),
            await complete(door, http, bob, task_id, path_user=path_user),
            await door.delete(http, bob, task_id, path_user=path_user),
        ]
        assert [answer.result for answer in answers] == [denied] * 4
    if door.names_user_in_path:
        assert (await door.list(http, bob, path_user=alice.user_id)).result is Result.FORBIDDEN
        planted = await door.create(http, bob, {"title": "Planted"}, path_user=alice.user_id)
        assert planted.result is Result.FORBIDDEN
    assert (await door.list(http, bob)).ok().ids == []
    assert (await door.list(http, alice)).ok().ids == [task_id]
    assert (await door.get(http, alice, task_id)).ok_task() == mine.task


async def test_user_row_holds_better_auth_id_email_and_name(
    service: Service, door: Door, ba: BetterAuthServer, alice: Caller, bob: Caller
):
    for caller in (alice, bob):
        assert (await door.create(service.http, caller, {"title": "Hello"})).result is Result.OK
    users = await service.rows("SELECT id, email, name FROM users ORDER BY email")
    better_auth_users = [session_user(ba, caller) for caller in (alice, bob)]
    assert users == [(u["id"], u["email"], u["name"]) for u in better_auth_users]
    assert users == [(alice.user_id, alice.email, "Alice"), (bob.user_id, bob.email, "Bob")]
    assert len(alice.user_id) == 32  # Better Auth's own id format, not a UUID we made up
    with pytest.raises(ValueError, match=r"badly formed|invalid literal"):
        uuid.UUID(alice.user_id)
    owners = await service.rows("SELECT DISTINCT user_id FROM tasks ORDER BY user_id")
    assert owners == sorted([(alice.user_id,), (bob.user_id,)])


@pytest.mark.parametrize("edit", ["impersonate", "extend_expiry"])
async def test_edited_payload_is_rejected(
    service: Service, door: Door, alice: Caller, bob: Caller,
    audited: AuditReasons, edit: str,
):
    if edit == "impersonate":
        forged = bob.with_token(edit_payload(alice.token, sub=bob.user_id, id=bob.user_id))
    else:
        later = claims_of(alice.token)["exp"] + 30 * 24 * 3600
        forged = alice.with_token(edit_payload(alice.token, exp=later))
    assert await list_and_create(door, service.http, forged) == [Result.UNAUTHENTICATED] * 2
    assert audited.reasons == ["bad_signature", "bad_signature"]
    assert await service.rows("SELECT id FROM users") == []


async def test_expired_better_auth_token_is_rejected(
    database_url: str, door: Door, expired: tuple[BetterAuthServer, Caller],
    audited: AuditReasons,
):
    server, caller = expired
    # Leeway 0 so that the token, expired for about a second, counts as expired.
    async with serve(jwks_settings(database_url, server, jwt_leeway_seconds=0)) as strict:
        assert (await door.list(strict.http, caller)).result is Result.EXPIRED
    assert audited.reasons == ["expired"]
    # The same token within the leeway is fine: expiry was the only thing wrong with it.
    async with serve(jwks_settings(database_url, server, jwt_leeway_seconds=600)) as lenient:
        assert (await door.list(lenient.http, caller)).result is Result.OK


@pytest.mark.parametrize("checks_issuer", [True, False], ids=["iss-aud-checked", "keys-only"])
async def test_token_from_another_better_auth_instance_is_rejected(
    database_url: str, door: Door, ba: BetterAuthServer, ba_other: BetterAuthServer,
    audited: AuditReasons, checks_issuer: bool,
):
    stranger = sign_up(ba_other, "mallory")
    settings = (jwks_settings(database_url, ba) if checks_issuer
                else make_settings(database_url, better_auth_jwks_url=ba.jwks_url))
    async with serve(settings) as service:
        assert await list_and_create(door, service.http, stranger) == [Result.UNAUTHENTICATED] * 2
    assert audited.reasons == ["unknown_key", "unknown_key"]


async def test_rotated_keys_are_used_without_restarting(
    database_url: str, door: Door, ba_rotating: BetterAuthServer
):
    server = ba_rotating
    settings = jwks_settings(database_url, server, jwks_min_refresh_seconds=0)
    async with serve(settings) as service:  # one app instance for the whole test
        first = sign_up(server, "carol")
        assert (await door.create(service.http, first, {"title": "Before"})).result is Result.OK

        added = server.rotate_keys(mode="add")
        assert first.email
        second = first.with_token(server.jwt_for(first.email, PASSWORD))
        assert header_of(second.token)["kid"] == added != header_of(first.token)["kid"]
        assert (await door.list(service.http, second)).result is Result.OK
        assert (await door.list(service.http, first)).result is Result.OK  # still published

        replaced = server.rotate_keys(mode="replace")
        third = first.with_token(server.jwt_for(first.email, PASSWORD))
        assert header_of(third.token)["kid"] == replaced
        assert (await door.create(service.http, third, {"title": "After"})).result is Result.OK
        # The first key has been withdrawn from Better Auth's JWKS, and we noticed.
        assert (await door.list(service.http, first)).result is Result.UNAUTHENTICATED


async def test_unknown_kid_burst_fetches_jwks_at_most_once_per_interval(
    database_url: str, ba: BetterAuthServer, ba_other: BetterAuthServer, alice: Caller,
    audited: AuditReasons,
):
    door = DOORS[0]
    stranger = sign_up(ba_other, "mallory")
    with counting_proxy(ba.jwks_url) as proxy:
        settings = make_settings(database_url, better_auth_jwks_url=proxy.url,
                                 better_auth_url=ba.base_url, jwks_min_refresh_seconds=3600)
        async with serve(settings) as service:
            burst = [door.list(service.http, stranger) for _ in range(25)]
            answers = await asyncio.gather(*burst)
            assert {answer.result for answer in answers} == {Result.UNAUTHENTICATED}
            assert proxy.count == 1
            assert (await door.list(service.http, alice)).result is Result.OK
            assert (await door.list(service.http, stranger)).result is Result.UNAUTHENTICATED
            assert proxy.count == 1
    assert set(audited.reasons) == {"unknown_key"}


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_rs256_and_es256_tokens_work(
    database_url: str, door: Door, ba_by_alg: dict[str, BetterAuthServer], alg: str
):
    server = ba_by_alg[alg]
    dave = sign_up(server, "dave")
    assert header_of(dave.token)["alg"] == alg
    assert [key["alg"] for key in server.jwks()["keys"]] == [alg]
    async with serve(jwks_settings(database_url, server)) as service:
        await run_every_operation(service, door, dave)


# --- Shared-secret mode: a Next.js route signs with jose ------------------------------------


async def test_jose_token_with_only_sub_iat_exp_is_accepted(
    database_url: str, door: Door, ba: BetterAuthServer, alice: Caller
):
    user = session_user(ba, alice)
    caller = alice.with_token(sign_with_jose({"sub": user["id"]}, SHARED_SECRET))
    assert header_of(caller.token) == {"alg": "HS256"}
    assert set(claims_of(caller.token)) == {"sub", "iat", "exp"}
    async with serve(make_settings(database_url, better_auth_secret=SHARED_SECRET)) as service:
        await run_every_operation(service, door, caller)
        assert await service.rows("SELECT id, email, name FROM users") == [(user["id"], None, None)]


async def test_jose_token_email_and_name_reach_users_table(
    database_url: str, door: Door, ba: BetterAuthServer, bob: Caller
):
    user = session_user(ba, bob)
    claims = {"sub": user["id"], "email": user["email"], "name": user["name"]}
    caller = bob.with_token(sign_with_jose(claims, SHARED_SECRET))
    async with serve(make_settings(database_url, better_auth_secret=SHARED_SECRET)) as service:
        assert (await door.create(service.http, caller, {"title": "Named"})).result is Result.OK
        assert await service.rows("SELECT id, email, name FROM users") == [
            (bob.user_id, bob.email, "Bob")
        ]


async def test_jose_token_signed_with_another_secret_is_rejected(
    database_url: str, door: Door, ba: BetterAuthServer, alice: Caller,
    audited: AuditReasons,
):
    user = session_user(ba, alice)
    other_secret = "some-other-frontend-secret-Vh5Qe8Tj1Wm3Xs7Ry"
    caller = alice.with_token(sign_with_jose({"sub": user["id"]}, other_secret))
    async with serve(make_settings(database_url, better_auth_secret=SHARED_SECRET)) as service:
        assert await list_and_create(door, service.http, caller) == [Result.UNAUTHENTICATED] * 2
    assert audited.reasons == ["bad_signature", "bad_signature"]


async def test_each_mode_accepts_only_its_own_kind_of_token(
    database_url: str, door: Door, ba: BetterAuthServer, alice: Caller,
    audited: AuditReasons,
):
    # A Better Auth EdDSA token means nothing to a secret-only service ...
    async with serve(make_settings(database_url, better_auth_secret=SHARED_SECRET)) as service:
        assert (await door.list(service.http, alice)).result is Result.UNAUTHENTICATED
    # ... and an HS256 token, even one signed with Better Auth's own secret, nothing to a
    # JWKS-only one.
    hs256 = alice.with_token(sign_with_jose({"sub": alice.user_id, "iss": ba.issuer,
                                             "aud": ba.issuer}, ba.secret))
    async with serve(jwks_settings(database_url, ba)) as service:
        assert (await door.list(service.http, hs256)).result is Result.UNAUTHENTICATED
    assert audited.reasons == ["algorithm_not_allowed", "algorithm_not_allowed"]
