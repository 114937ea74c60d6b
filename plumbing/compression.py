"""Compressed answers: br when the client offers it, else gzip; only bodies over 1 KiB.

A compressed body is another representation than the identity one, so it must not carry the
same strong entity tag: its tag gets the coding as a suffix (``"3"`` becomes ``"3-gzip"``).
Tags that come back in If-None-Match and If-Match lose that suffix before the application
sees them, so a client that only ever saw compressed answers still updates with If-Match
(compared strongly with the task's version) and still gets 304s. Weak tags are left alone.
"""

from __future__ import annotations

import anyio.to_thread
import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plumbing.etags import EntityTag, format_tags, parse_tags

MINIMUM_SIZE = 1025  # bytes: answers over 1 KiB are compressed
GZIP_LEVEL = 6  # Starlette defaults to 9: 2.6 times the CPU for 4 % fewer bytes
BROTLI_QUALITY = 5  # a 400 KB list: 4.4 ms, 33 KB (gzip 6: 7.7 ms, 37 KB; br 11: 1.7 s)
THREAD_MINIMUM_SIZE = 128 * 1024  # larger bodies are compressed off the event loop
CODINGS = ("br", "gzip")
_CONDITIONAL = (b"if-none-match", b"if-match")


def preferred_coding(accept_encoding: str) -> str | None:
    """The coding to answer with (br before gzip), None for none, from Accept-Encoding."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        weights[coding.lower()] = _weight(parameters)
    wildcard = weights.get("*", 0.0)
    for coding in CODINGS:
        if weights.get(coding, wildcard) > 0:
            return coding
    return None


def _weight(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def without_coding(tag: EntityTag) -> EntityTag:
    """``tag`` as the application wrote it, before a coding suffix was added."""
    for coding in CODINGS:
        if not tag.weak and tag.opaque.endswith(f"-{coding}"):
            return EntityTag(tag.opaque.removesuffix(f"-{coding}"))
    return tag


class BrotliResponder(IdentityResponder):
    content_encoding = "br"

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        super().__init__(app, minimum_size)
        self._compressor: brotli.Compressor | None = None  # only for bodies worth compressing

    async def apply_compression(self, body: bytes, *, more_body: bool) -> bytes:
        if len(body) >= THREAD_MINIMUM_SIZE:
            return await anyio.to_thread.run_sync(self._compress, body, more_body)
        return self._compress(body, more_body)

    def _compress(self, body: bytes, more_body: bool) -> bytes:
        if self._compressor is None:
            self._compressor = brotli.Compressor(quality=BROTLI_QUALITY)
        output = self._compressor.process(body)
        return bytes(output + (self._compressor.flush() if more_body
                               else self._compressor.finish()))


class CompressionMiddleware:
    """Compress answers over 1 KiB, and keep entity tags distinct per coding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        sent_tags = _strip_codings(scope)
        coding = preferred_coding(request_headers.get("accept-encoding", ""))
        responder = _responder(self.app, coding)

        async def send_tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                _retag(message, sent_tags, coding if not responder.content_encoding_set else None)
            await send(message)

        try:
            await responder(scope, receive, send_tagged)
        finally:
            # The responder keeps send_tagged, which refers back to it: break that cycle, so
            # the request's objects are freed at once rather than by the cycle collector.
            responder.send = send


def _responder(app: ASGIApp, coding: str | None) -> IdentityResponder:
    if coding == "br":
        return BrotliResponder(app, MINIMUM_SIZE)
    if coding == "gzip":
        return GZipResponder(app, MINIMUM_SIZE, compresslevel=GZIP_LEVEL,
                             thread_minimum_size=THREAD_MINIMUM_SIZE)
    return IdentityResponder(app, MINIMUM_SIZE)  # still says Vary: Accept-Encoding


def _strip_codings(scope: Scope) -> dict[str, EntityTag]:
    """Remove coding suffixes from conditional headers; the tags as sent, by stripped tag."""
    sent: dict[str, EntityTag] = {}
    headers: list[tuple[bytes, bytes]] = []
    for name, value in scope["headers"]:
        if name in _CONDITIONAL:
            tags = parse_tags(value.decode("latin-1"))
            if any(without_coding(tag) != tag for tag in tags):
                sent |= {str(without_coding(tag)): tag for tag in tags}
                value = format_tags([without_coding(tag) for tag in tags]).encode("latin-1")
        headers.append((name, value))
    scope["headers"] = headers
    return sent


def _retag(message: Message, sent_tags: dict[str, EntityTag], coding: str | None) -> None:
    """Give a compressed answer's strong tag its coding; a 304 the tag the client sent."""
    headers = MutableHeaders(raw=message["headers"])
    tag = headers.get("etag")
    if tag is None:
        return
    if message["status"] == 304:
        if tag in sent_tags:
            headers["etag"] = str(sent_tags[tag])
    elif headers.get("content-encoding") == coding and coding is not None:
        parsed = parse_tags(tag)
        if len(parsed) == 1 and not parsed[0].weak:
            headers["etag"] = str(EntityTag(f"{parsed[0].opaque}-{coding}"))
