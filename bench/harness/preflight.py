"""Before measuring: one request of every kind must be correct, and another user's list refused.

A kind that fails marks its scenarios PREFLIGHT_FAIL instead of being measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

import httpx

from harness.config import Config
from harness.log import log
from harness.scenarios import GQL_VARS, HEAVY_PAGE, graphql_document, heavy_pages
from harness.users import User

Check = Callable[[], str | None]
"""One request of a kind: None if its answer is right, else what is wrong with it."""


def preflight(cfg: Config, users: list[User], kinds: Collection[str]) -> dict[str, str]:
    """Check every kind in ``kinds`` once (logging each); {kind: what failed}."""
    checks = Checks(cfg, users)
    fails: dict[str, str] = {}
    for kind, check in checks.by_kind().items():
        if kind not in kinds:
            continue
        try:
            failure = check()
        except (httpx.HTTPError, KeyError, TypeError, IndexError, AttributeError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
        if failure:
            fails[kind] = failure
            log(f"  preflight {kind}: FAIL {failure}")
        else:
            log(f"  preflight {kind}: ok")
    return fails


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Checks:
    """The first user's requests of every kind, against the running service."""

    def __init__(self, cfg: Config, users: list[User]) -> None:
        self.cfg, self.users = cfg, users
        self.user, token, self.ids = users[0]
        self.other = users[1].user
        self.headers = {"Authorization": f"Bearer {token}"}
        self.api = f"{cfg.base_url}/api/{self.user}/tasks"
        self.want_list = min(50, cfg.tasks_per_user)

    def by_kind(self) -> dict[str, Check]:
        """Each kind's check, in the order they run (the writes last)."""
        return {
            "rest_list": self.rest_list,
            "rest_poll": self.rest_poll,
            "rest_heavy": self.rest_heavy,
            "rest_get": self.rest_get,
            "gql_list": self.gql_list,
            "gql_get10": self.gql_get10,
            "rest_create": self.rest_create,
            "rest_update": self.rest_update,
            "rest_complete": self.rest_complete,
        }

    def _graphql(self, document: str, variables: dict[str, str]) -> tuple[int, Any]:
        r = httpx.post(self.cfg.base_url + "/graphql", headers=self.headers, timeout=10,
                       json={"query": graphql_document(document), "variables": variables})
        return r.status_code, _body(r)

    def rest_list(self) -> str | None:
        """The 50 newest tasks, all the user's; another user's list is refused."""
        r = httpx.get(self.api, params={"limit": 50}, headers=self.headers, timeout=10)
        b = _body(r)
        if r.status_code != 200 or not isinstance(b, list):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        if len(b) != self.want_list:
            return f"expected {self.want_list} tasks, got {len(b)}"
        owners = {t.get("user_id", t.get("userId", self.user)) for t in b}
        if owners != {self.user}:
            return f"foreign rows in list: {owners}"
        x = httpx.get(f"{self.cfg.base_url}/api/{self.other}/tasks", headers=self.headers,
                      timeout=10)
        if 200 <= x.status_code < 300:
            return (f"SECURITY: {self.user}'s token listed {self.other}'s tasks "
                    f"(HTTP {x.status_code})")
        return None

    def rest_poll(self) -> str | None:
        """The list's current ETag as If-None-Match: 304 without a body."""
        tag = httpx.get(self.api, params={"limit": 50}, headers=self.headers,
                        timeout=10).headers.get("etag")
        r = httpx.get(self.api, params={"limit": 50},
                      headers={**self.headers, "If-None-Match": tag or ""}, timeout=10)
        if r.status_code != 304 or r.content:
            return f"expected 304 without a body for the current ETag, got HTTP {r.status_code}"
        return None

    def rest_heavy(self) -> str | None:
        """heavy_user's last page: its tasks only, and X-Total-Count = all of them."""
        heavy = next((u for u in self.users if u.user == "heavy_user"), None)
        if heavy is None:
            return "no heavy_user token (HEAVY_TASKS=0?)"
        heavy_tasks = self.cfg.heavy_tasks
        last = (heavy_pages(heavy_tasks) - 1) * HEAVY_PAGE
        r = httpx.get(f"{self.cfg.base_url}/api/heavy_user/tasks",
                      params={"limit": HEAVY_PAGE, "offset": last},
                      headers={"Authorization": f"Bearer {heavy.token}"}, timeout=10)
        b = _body(r)
        if r.status_code != 200 or not isinstance(b, list):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        want = min(HEAVY_PAGE, heavy_tasks - last)
        if len(b) != want or {t.get("user_id") for t in b} != {"heavy_user"}:
            return f"expected {want} of heavy_user's tasks at offset {last}, got {len(b)}"
        if r.headers.get("x-total-count") != str(heavy_tasks):
            return f"X-Total-Count {r.headers.get('x-total-count')} != {heavy_tasks}"
        return None

    def rest_get(self) -> str | None:
        """One task by id."""
        r = httpx.get(f"{self.api}/{self.ids[0]}", headers=self.headers, timeout=10)
        b = _body(r)
        if r.status_code != 200 or not isinstance(b, dict) or str(b.get("id")) != self.ids[0]:
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None

    def gql_list(self) -> str | None:
        """list.graphql: a full first page and a total at least as large."""
        code, b = self._graphql("list.graphql", {})
        if code != 200 or not b or b.get("errors") or not b.get("data"):
            return f"HTTP {code}: {json.dumps(b)[:300]}"
        t = b["data"]["tasks"]
        if len(t["nodes"]) != self.want_list or t["totalCount"] < len(t["nodes"]):
            return (f"expected {self.want_list} nodes, got {len(t['nodes'])} "
                    f"(totalCount {t['totalCount']})")
        return None

    def gql_get10(self) -> str | None:
        """get10.graphql: the ten tasks asked for, in order."""
        code, b = self._graphql("get10.graphql", dict(zip(GQL_VARS, self.ids, strict=True)))
        if code != 200 or not b or b.get("errors") or not b.get("data"):
            return f"HTTP {code}: {json.dumps(b)[:300]}"
        got = [(b["data"].get(f"t{i}") or {}).get("id") for i in range(10)]
        if [str(g) for g in got] != self.ids:
            return f"ids returned {got} != requested"
        return None

    def rest_create(self) -> str | None:
        """A create succeeds (201 by the contract; another 2xx is only noted)."""
        r = httpx.post(self.api, json={"title": "wrk-create preflight"}, headers=self.headers,
                       timeout=10)
        if not 200 <= r.status_code < 300:
            return f"HTTP {r.status_code}: {r.text[:200]}"
        if r.status_code != 201:
            log(f"  note: create answered {r.status_code}, the interface says 201")
        return None

    def rest_update(self) -> str | None:
        """A replace answers the task with its new title."""
        r = httpx.put(f"{self.api}/{self.ids[1]}", json={"title": "wrk-update preflight"},
                      headers=self.headers, timeout=10)
        b = _body(r)
        if r.status_code != 200 or not isinstance(b, dict) or b.get("title") != (
                "wrk-update preflight"):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None

    def rest_complete(self) -> str | None:
        """Completing a task answers 200 and not completed: false."""
        r = httpx.patch(f"{self.api}/{self.ids[2]}/complete", json={"completed": True},
                        headers=self.headers, timeout=10)
        b = _body(r)
        if r.status_code != 200 or (isinstance(b, dict) and b.get("completed") is False):
            return f"HTTP {r.status_code}: {r.text[:200]}"
        return None
