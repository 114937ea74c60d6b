"""Tokens for the seeded users, and users.txt: '<user_id> <jwt> <10 task ids>' per line.

The anchors' data/users.txt has the same format, so their wrk scripts and ours read both.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import jwt

from harness.config import Config
from harness.log import log
from harness.run import Run

CLAIMS_OWN = frozenset({"sub", "iat", "exp", "nbf", "jti", "id", "userId", "user_id", "email",
                        "name"})
"""Claims that are per user or per token: never copied from the `todo-api token` template."""


class User(NamedTuple):
    """A seeded user, a token for it, and ten of its task ids."""

    user: str
    token: str
    task_ids: list[str]


def task_id(user: str, n: int) -> str:
    """The id bench/seed.sql gives ``user``'s ``n``-th task: md5('<user>:<n>') as a UUID."""
    return str(uuid.UUID(hashlib.md5(f"{user}:{n}".encode()).hexdigest()))  # noqa: S324


def claims_template(run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
    """The extra claims and headers (iss, aud, kid...) of a token from `todo-api token`, so
    that the service accepts ours however it is configured; none if the command fails."""
    cfg = run.cfg
    rc, out = run.children.run("token", [*cfg.todo_api, "token", "user_0001"], 120,
                               cfg.todo_api_env())
    (run.logdir / "token.log").write_text(out)
    lines = [x.strip() for x in out.splitlines() if x.strip().count(".") == 2]
    if rc != 0 or not lines:
        log(f"WARNING: `todo-api token` failed (rc={rc}); minting plain sub/iat/exp tokens")
        return {}, {}
    token = lines[-1]
    header = jwt.get_unverified_header(token)
    try:
        claims = jwt.decode(token, cfg.secret, algorithms=["HS256"],
                            options={"verify_aud": False, "verify_iss": False})
    except jwt.InvalidTokenError as exc:
        log(f"WARNING: `todo-api token` output does not verify with BETTER_AUTH_SECRET ({exc}); "
            "copying its claims anyway")
        claims = jwt.decode(token, options={"verify_signature": False})
    extra = {k: v for k, v in claims.items() if k not in CLAIMS_OWN}
    headers = {k: v for k, v in header.items() if k not in {"alg", "typ"}}
    if extra or headers:
        log(f"token template from `todo-api token`: claims {sorted(extra)} "
            f"headers {sorted(headers)}")
    return extra, headers


def mint_users(cfg: Config, path: Path, extra: dict[str, Any] | None = None,
               headers: dict[str, Any] | None = None) -> list[User]:
    """``N_TOKENS`` random users (the same ones every run) plus heavy_user, written to ``path``.

    HS256 tokens: ``sub`` = the user, ``iat``, ``exp`` a day later, plus ``extra`` claims.
    """
    rng = random.Random(1234)
    now = int(time.time())
    picks = [(f"user_{u:04d}", cfg.tasks_per_user)
             for u in rng.sample(range(1, cfg.n_users + 1), min(cfg.n_tokens, cfg.n_users))]
    if cfg.heavy_tasks > 0:
        picks.append(("heavy_user", cfg.heavy_tasks))
    users = []
    for user, n in picks:
        ns = rng.sample(range(1, n + 1), 10) if n >= 10 else [rng.randint(1, n) for _ in range(10)]
        token = jwt.encode({**(extra or {}), "sub": user, "iat": now, "exp": now + 86400},
                           cfg.secret, algorithm="HS256", headers=headers or None)
        users.append(User(user, token, [task_id(user, i) for i in ns]))
    path.write_text("".join(f"{u.user} {u.token} {' '.join(u.task_ids)}\n" for u in users))
    log(f"minted {len(users)} tokens -> {path}")
    return users


def read_users(path: Path) -> list[User]:
    """The users of a users.txt (ours or the anchors')."""
    users = []
    for line in path.read_text().splitlines():
        user, token, *ids = line.split()
        users.append(User(user, token, ids))
    return users
