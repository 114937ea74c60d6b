"""A JWKS endpoint on loopback whose keys a test can rotate, counting every fetch."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

_GENERATORS = {
    "EdDSA": (lambda: ed25519.Ed25519PrivateKey.generate(), OKPAlgorithm),
    "RS256": (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), RSAAlgorithm),
    "ES256": (lambda: ec.generate_private_key(ec.SECP256R1()), ECAlgorithm),
}


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.algorithm,
                          headers={"kid": self.kid, **header})


def new_key(kid: str, algorithm: str = "EdDSA") -> SigningKey:
    generate, algorithm_class = _GENERATORS[algorithm]
    private = generate()
    public_jwk = json.loads(algorithm_class.to_jwk(private.public_key()))
    return SigningKey(kid, algorithm, private, {**public_jwk, "kid": kid, "alg": algorithm})


@dataclass
class JwksServer:
    url: str
    keys: list[SigningKey] = field(default_factory=list)
    extra: list[Any] = field(default_factory=list)  # served before the keys
    raw: bytes | None = None  # served instead of the document
    redirect_to: str | None = None  # answer 302 to this URL instead
    fail: bool = False
    fetches: int = 0
    accepts: list[str | None] = field(default_factory=list)  # each request's Accept header

    def document(self) -> bytes:
        self.fetches += 1
        if self.raw is not None:
            return self.raw
        return json.dumps({"keys": self.extra + [k.public_jwk for k in self.keys]}).encode()


@contextmanager
def serve_jwks(*keys: SigningKey) -> Iterator[JwksServer]:
    """Serve ``keys`` at http://127.0.0.1:<port>/api/auth/jwks until the block ends."""
    state = JwksServer(url="", keys=list(keys))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.accepts.append(self.headers.get("Accept"))
            if state.fail:
                self.send_error(503)
                return
            if state.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/api/auth/jwks"
    # shutdown() waits for the loop's next poll: 0.5 s by default, for every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
