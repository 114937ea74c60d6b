"""Smoke check: real Better Auth JWTs verify with PyJWT.

Run: ``uv run python tests/interop/smoke_better_auth.py``. Exits non-zero on failure.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Literal

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from better_auth_harness import (
    BetterAuthServer,
    SupportedAlg,
    running_better_auth,
    sign_with_jose,
)

PASSWORD = "correct-horse-battery-1"
HS256_SECRET = "nextjs-shared-hs256-secret-0123456789abcdef"


def show(label: str, token: str) -> None:
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    print(f"  {label} header : {json.dumps(header)}")
    print(f"  {label} payload: {json.dumps(payload)}")


def verify(server: BetterAuthServer, client: jwt.PyJWKClient, token: str) -> dict[str, Any]:
    key = client.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key=key,
        algorithms=[server.alg],
        audience=server.issuer,
        issuer=server.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )
    return claims


def check_alg(alg: SupportedAlg) -> None:
    print(f"== {alg}")
    with running_better_auth(alg=alg, db_name=f"better_auth_smoke_{alg.lower()}") as ba:
        print(f"  started in {ba.startup_seconds:.2f}s: {ba.ready_info}")
        # PyJWT >= 2.12: an unknown kid only triggers a JWKS refetch after
        # cooldown_duration (default 30 s) since the last fetch; 0 = refetch at once.
        client = jwt.PyJWKClient(ba.jwks_url, cooldown_duration=0)
        users = []
        for who in ("alice", "bob"):
            user = ba.sign_up(f"{who}@example.com", PASSWORD, who.title())
            users.append(user)
            token = ba.jwt_for(f"{who}@example.com", PASSWORD)
            claims = verify(ba, client, token)
            assert claims["sub"] == user["id"], (claims, user)
            assert claims["email"] == f"{who}@example.com"
            assert claims["exp"] - claims["iat"] == 15 * 60
            show(who, token)
        jwks = ba.jwks()
        print(f"  jwks: {json.dumps(jwks)}")
        assert len(jwks["keys"]) == 1
        assert jwks["keys"][0]["alg"] == alg

        # The other two ways to get the same kind of token.
        vias: tuple[Literal["cookie", "get-session"], ...] = ("cookie", "get-session")
        for via in vias:
            token = ba.jwt_for("alice@example.com", PASSWORD, via=via)
            assert verify(ba, client, token)["sub"] == users[0]["id"]
        print("  cookie and set-auth-jwt paths verified")

        # A wrong audience must fail.
        try:
            jwt.decode(
                token,
                key=client.get_signing_key_from_jwt(token),
                algorithms=[alg],
                audience="http://other",
            )
        except jwt.InvalidAudienceError:
            pass
        else:
            raise AssertionError("wrong audience accepted")

        if alg == "EdDSA":
            check_manual_rotation(ba, client)


def check_manual_rotation(ba: BetterAuthServer, client: jwt.PyJWKClient) -> None:
    print("  -- rotation via POST /__interop/rotate-keys (mode=add)")
    old_token = ba.jwt_for("alice@example.com", PASSWORD)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    started = time.monotonic()
    new_kid = ba.rotate_keys()
    new_token = ba.jwt_for("alice@example.com", PASSWORD)
    took = time.monotonic() - started
    got_kid = jwt.get_unverified_header(new_token)["kid"]
    print(f"  old kid {old_kid} -> new kid {got_kid} (rotate+sign-in+token {took:.2f}s)")
    assert got_kid == new_kid != old_kid
    # PyJWKClient refetches the JWKS when it sees an unknown kid.
    verify(ba, client, new_token)
    verify(ba, client, old_token)
    kids = [k["kid"] for k in ba.jwks()["keys"]]
    assert set(kids) == {old_kid, new_kid}, kids
    print(f"  new token verifies against refreshed JWKS; old token still verifies; kids={kids}")

    print("  -- rotation mode=replace (old keys deleted)")
    newest = ba.rotate_keys(mode="replace")
    kids = [k["kid"] for k in ba.jwks()["keys"]]
    assert kids == [newest], kids
    token = ba.jwt_for("bob@example.com", PASSWORD)
    assert jwt.get_unverified_header(token)["kid"] == newest
    fresh = jwt.PyJWKClient(ba.jwks_url, cooldown_duration=0)
    verify(ba, fresh, token)
    try:
        verify(ba, fresh, old_token)
    except jwt.PyJWKClientError as exc:
        print(f"  old token rejected after replace: {exc}")
    else:
        raise AssertionError("token signed with deleted key still verified")


def check_auto_rotation() -> None:
    print("== EdDSA with jwks.rotationInterval=2s")
    with running_better_auth(db_name="better_auth_smoke_autorotate", rotation_interval=2) as ba:
        client = jwt.PyJWKClient(ba.jwks_url, cooldown_duration=0)
        ba.sign_up("carol@example.com", PASSWORD, "Carol")
        first = ba.jwt_for("carol@example.com", PASSWORD)
        time.sleep(2.5)
        second = ba.jwt_for("carol@example.com", PASSWORD)
        kid1 = jwt.get_unverified_header(first)["kid"]
        kid2 = jwt.get_unverified_header(second)["kid"]
        print(f"  kid before {kid1}, after expiry {kid2}")
        assert kid1 != kid2
        verify(ba, client, first)
        verify(ba, client, second)
        print(f"  jwks kids: {[k['kid'] for k in ba.jwks()['keys']]}")


def check_hs256() -> None:
    print("== jose HS256 (Next.js style)")
    claims = {"sub": "user-123", "email": "dana@example.com", "name": "Dana"}
    token = sign_with_jose(claims, HS256_SECRET)
    show("hs256", token)
    decoded = jwt.decode(token, HS256_SECRET, algorithms=["HS256"], options={"require": ["exp"]})
    assert {k: decoded[k] for k in claims} == claims
    assert decoded["exp"] - decoded["iat"] == 15 * 60
    try:
        jwt.decode(token, HS256_SECRET + "x", algorithms=["HS256"])
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("wrong secret accepted")


def main() -> int:
    algs: tuple[SupportedAlg, ...] = ("EdDSA", "RS256", "ES256")
    for alg in algs:
        check_alg(alg)
    check_auto_rotation()
    check_hs256()
    print("SMOKE OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
