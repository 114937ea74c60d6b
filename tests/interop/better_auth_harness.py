"""Start a real Better Auth server (Node, from npm) and get real tokens from it.

This is a plain helper module (not a test file). Typical use::

    from better_auth_harness import running_better_auth

    with running_better_auth(alg="EdDSA") as ba:
        user = ba.sign_up("alice@example.com", "correct-horse-1", "Alice")
        token = ba.jwt_for("alice@example.com", "correct-horse-1")
        # verify `token` against ba.jwks_url with audience=issuer=ba.base_url
        new_kid = ba.rotate_keys()  # next tokens are signed with a new key

HTTP paths used (all under ``{base_url}/api/auth``):

* ``POST /sign-up/email``  JSON ``{email, password, name}`` -> ``{token, user}``
* ``POST /sign-in/email``  JSON ``{email, password}`` -> ``{redirect, token, user}``; the
  signed session token comes back in the ``set-auth-token`` header (bearer plugin) and
  in the ``better-auth.session_token`` cookie.
* ``GET /token`` with ``Authorization: Bearer <session token>`` (or the session cookie)
  -> ``{"token": "<JWT>"}`` (jwt plugin).
* ``GET /get-session`` with the session -> the same kind of JWT in the ``set-auth-jwt``
  response header (jwt plugin's after-hook); see :meth:`BetterAuthServer.jwt_via_get_session`.
* ``GET /jwks`` -> ``{"keys": [...]}`` public keys, ``kid`` = row id in the ``jwks`` table.

Test-only admin route added by ``server.mjs`` (header ``x-interop-admin: <secret>``):
``POST /__interop/rotate-keys?mode=add|replace``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

NODE_DIR = Path(__file__).resolve().parent / "better_auth"
SERVER_SCRIPT = NODE_DIR / "server.mjs"
SIGN_HS256_SCRIPT = NODE_DIR / "sign_hs256.mjs"

#: Server DSN without database name; override with INTEROP_PG_DSN.
DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_SECRET = "interop-better-auth-secret-0123456789abcdef"
READY_MARKER = "BETTER_AUTH_READY "
SESSION_COOKIE = "better-auth.session_token"

SupportedAlg = Literal["EdDSA", "RS256", "ES256", "ES512", "PS256"]


class BetterAuthError(RuntimeError):
    """A Better Auth request or the server process failed."""


def _require_executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"`{name}` not found on PATH: Node.js >= 20 and npm are required")
    return path


def _installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return None
    version = data.get("version")
    return version if isinstance(version, str) else None


def _node_modules_current() -> bool:
    wanted: dict[str, str] = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    return all(_installed_version(name) == version for name, version in wanted.items())


def ensure_node_modules(*, timeout: float = 600.0) -> None:
    """Run ``npm ci`` in the Better Auth folder unless node_modules already matches.

    Raises RuntimeError (never skips) when npm is missing or the install fails.
    """
    if _node_modules_current():
        return
    npm = _require_executable("npm")
    _require_executable("node")
    lock_path = Path(tempfile.gettempdir()) / "better_auth_interop_npm.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # parallel test workers install only once
        try:
            if _node_modules_current():
                return
            try:
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                    cwd=NODE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(
                    f"npm registry unreachable: `npm ci` in {NODE_DIR} timed out after {timeout}s"
                ) from exc
            if result.returncode != 0 or not _node_modules_current():
                tail = (result.stderr or result.stdout).strip()[-2000:]
                raise RuntimeError(
                    f"npm registry unreachable: `npm ci` in {NODE_DIR} failed "
                    f"(exit {result.returncode}): {tail}"
                )
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _check(response: httpx.Response, what: str) -> httpx.Response:
    if response.is_error:
        raise BetterAuthError(f"{what} failed: HTTP {response.status_code}: {response.text}")
    return response


@dataclass
class BetterAuthServer:
    """A running ``server.mjs``. Create it with :func:`running_better_auth`."""

    base_url: str
    alg: str
    secret: str
    db_name: str
    database_url: str
    process: subprocess.Popen[str]
    ready_info: dict[str, Any]
    startup_seconds: float
    output: deque[str] = field(default_factory=lambda: deque(maxlen=400))

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/api/auth"

    @property
    def jwks_url(self) -> str:
        return f"{self.auth_url}/jwks"

    @property
    def issuer(self) -> str:
        """``iss`` and ``aud`` of every JWT: Better Auth's baseURL (no trailing slash)."""
        return self.base_url

    def logs(self) -> str:
        """The last lines the server printed (stdout and stderr)."""
        return "\n".join(self.output)

    def _client(self) -> httpx.Client:
        # A fresh client per flow so session cookies never leak between users.
        # Origin is sent like a browser would; base_url is a trusted origin by default.
        return httpx.Client(base_url=self.auth_url, timeout=30.0, headers={"origin": self.base_url})

    def sign_up(self, email: str, password: str, name: str) -> dict[str, Any]:
        """Create a user (POST /sign-up/email); returns the user dict (``id``, ``email``...)."""
        with self._client() as client:
            response = client.post(
                "/sign-up/email", json={"email": email, "password": password, "name": name}
            )
            user: dict[str, Any] = _check(response, "sign-up").json()["user"]
            return user

    def sign_in(self, email: str, password: str) -> str:
        """POST /sign-in/email; returns the signed session token (``set-auth-token``).

        The same value is the ``better-auth.session_token`` cookie; send it as
        ``Authorization: Bearer <token>`` (bearer plugin) or as that cookie.
        """
        with self._client() as client:
            response = client.post("/sign-in/email", json={"email": email, "password": password})
            _check(response, "sign-in")
            token: str | None = response.headers.get("set-auth-token")
            if not token:
                raise BetterAuthError("sign-in response had no set-auth-token header")
            return token

    def jwt_from_session(
        self, session_token: str, *, via: Literal["bearer", "cookie"] = "bearer"
    ) -> str:
        """GET /token with the session (bearer header or cookie); returns the JWT."""
        with self._client() as client:
            if via == "bearer":
                response = client.get(
                    "/token", headers={"authorization": f"Bearer {session_token}"}
                )
            else:
                client.cookies.set(SESSION_COOKIE, session_token)
                response = client.get("/token")
            token: str = _check(response, "GET /token").json()["token"]
            return token

    def jwt_via_get_session(self, session_token: str) -> str:
        """GET /get-session; the jwt plugin puts a JWT in the ``set-auth-jwt`` header."""
        with self._client() as client:
            response = client.get(
                "/get-session", headers={"authorization": f"Bearer {session_token}"}
            )
            _check(response, "GET /get-session")
            token: str | None = response.headers.get("set-auth-jwt")
            if not token:
                raise BetterAuthError(f"no set-auth-jwt header (body: {response.text})")
            return token

    def session_user(self, session_token: str) -> dict[str, Any]:
        """GET /get-session: the signed-in user, as a Next.js route sees it via getSession."""
        with self._client() as client:
            response = client.get(
                "/get-session", headers={"authorization": f"Bearer {session_token}"}
            )
            user: dict[str, Any] = _check(response, "GET /get-session").json()["user"]
            return user

    def jwt_for(
        self,
        email: str,
        password: str,
        *,
        via: Literal["bearer", "cookie", "get-session"] = "bearer",
    ) -> str:
        """Sign in and return a fresh Better Auth JWT for that user."""
        session_token = self.sign_in(email, password)
        if via == "get-session":
            return self.jwt_via_get_session(session_token)
        return self.jwt_from_session(session_token, via=via)

    def jwks(self) -> dict[str, Any]:
        """GET /jwks (public keys)."""
        with self._client() as client:
            keys: dict[str, Any] = _check(client.get("/jwks"), "GET /jwks").json()
            return keys

    def rotate_keys(self, *, mode: Literal["add", "replace"] = "add") -> str:
        """Mint a new signing key now; returns its kid.

        ``add``: the new key signs every JWT from now on; old keys stay in the JWKS.
        ``replace``: additionally delete all older keys, so tokens signed with them no
        longer verify once the verifier refreshes the JWKS.
        """
        response = httpx.post(
            f"{self.base_url}/__interop/rotate-keys",
            params={"mode": mode},
            headers={"x-interop-admin": self.secret},
            timeout=30.0,
        )
        kid: str = _check(response, "rotate-keys").json()["kid"]
        return kid


def _pump_output(stream: Any, sink: deque[str], ready: threading.Event, info: list[str]) -> None:
    for raw in stream:
        line = raw.rstrip("\n")
        sink.append(line)
        if not ready.is_set() and line.startswith(READY_MARKER):
            info.append(line[len(READY_MARKER) :])
            ready.set()
    ready.set()  # EOF: wake the waiter, it checks whether the process died


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextlib.contextmanager
def running_better_auth(
    *,
    alg: SupportedAlg = "EdDSA",
    db_name: str | None = None,
    secret: str = DEFAULT_SECRET,
    rotation_interval: int | None = None,
    grace_period: int | None = None,
    jwt_expiration: str | None = None,
    pg_dsn: str | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[BetterAuthServer]:
    """Start ``server.mjs`` on a free 127.0.0.1 port with a freshly (re)created database.

    ``db_name`` must start with ``better_auth_`` (default ``better_auth_interop_<alg>``).
    ``rotation_interval`` (seconds) makes Better Auth expire keys and mint a new one on its
    own; ``grace_period`` (seconds) is how long expired keys stay in the JWKS.
    ``jwt_expiration`` is the jwt plugin's ``expirationTime`` (default ``"15m"``).
    """
    ensure_node_modules()
    node = _require_executable("node")
    name = db_name or f"better_auth_interop_{alg.lower()}"
    if not name.startswith("better_auth_"):
        raise ValueError(f"db_name must start with 'better_auth_': {name!r}")
    dsn = (pg_dsn or os.environ.get("INTEROP_PG_DSN") or DEFAULT_PG_DSN).rstrip("/")
    database_url = f"{dsn}/{name}"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": secret,
        "BETTER_AUTH_URL": base_url,
        "BETTER_AUTH_RESET_DB": "1",
        "BETTER_AUTH_TELEMETRY": "0",
        "JWT_ALG": alg,
        "NO_COLOR": "1",
    }
    for key, value in (
        ("JWKS_ROTATION_INTERVAL", rotation_interval),
        ("JWKS_GRACE_PERIOD", grace_period),
        ("JWT_EXPIRATION", jwt_expiration),
    ):
        if value is not None:
            env[key] = str(value)
        else:
            env.pop(key, None)

    started = time.monotonic()
    process = subprocess.Popen(
        [node, str(SERVER_SCRIPT)],
        cwd=NODE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # own process group, killed as a whole on exit
    )
    output: deque[str] = deque(maxlen=400)
    ready = threading.Event()
    info: list[str] = []
    pump = threading.Thread(
        target=_pump_output, args=(process.stdout, output, ready, info), daemon=True
    )
    pump.start()
    try:
        if not ready.wait(startup_timeout) or not info:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            code = process.poll()
            reason = (
                f"exited with code {code} before it was ready"
                if code is not None
                else f"was not ready within {startup_timeout}s"
            )
            log = "\n".join(output)
            raise BetterAuthError(
                f"Better Auth server ({SERVER_SCRIPT.name}) {reason}; output:\n{log}"
            )
        server = BetterAuthServer(
            base_url=base_url,
            alg=alg,
            secret=secret,
            db_name=name,
            database_url=database_url,
            process=process,
            ready_info=json.loads(info[0]),
            startup_seconds=time.monotonic() - started,
            output=output,
        )
        yield server
    finally:
        _stop(process)
        pump.join(timeout=5)


def sign_with_jose(claims: dict[str, Any], secret: str) -> str:
    """Make a compact HS256 JWT with ``jose`` exactly as a Next.js route would.

    ``SignJWT(claims).setProtectedHeader({alg: 'HS256'}).setIssuedAt()
    .setExpirationTime('15m')``; ``claims`` must contain ``sub``.
    """
    ensure_node_modules()
    node = _require_executable("node")
    result = subprocess.run(
        [node, str(SIGN_HS256_SCRIPT), "-"],
        cwd=NODE_DIR,
        input=json.dumps(claims),
        env={**os.environ, "HS256_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sign_hs256.mjs failed (exit {result.returncode}): {result.stderr}")
    return result.stdout.strip()
