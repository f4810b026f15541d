"""Security headers and the ``Origin`` check, as one ASGI middleware.

Every response gets ``X-Content-Type-Options: nosniff``, a
``Referrer-Policy`` and a Content-Security-Policy that allows only the
server's own scripts, styles and connections and forbids framing; JSON gets
``Cache-Control: no-store`` (a case must not linger in a shared cache). The
evaluation report (product staff open it in the console's frame) is the one
page that may be framed, by the console only.

State-changing requests (POST, PUT, PATCH, DELETE) that carry an ``Origin``
other than the server's own (or ``server.allowed_origins``) are refused
with 403, as are WebSocket handshakes: a page on another site cannot ride
on a teller's cookie or open calls from a victim's browser. Requests
without ``Origin`` (the bank's systems, curl) are not browsers and pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: The evaluation report is generated HTML with inline styles and images, no scripts.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
REPORT_PREFIX = "/api/eval/latest/"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(headers: Headers, allowed: Iterable[str]) -> bool:
    """Whether the request's ``Origin`` (if any) is this server or an allowed one.

    The server's own origin is the one whose host (and port) is the request's
    ``Host``; comparing hosts, not schemes, keeps it right behind a proxy
    that ends TLS.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().lower()
    if urlsplit(origin).netloc == headers.get("host", "").lower():
        return True
    return origin in {_origin_of(a) for a in allowed}


class SecurityMiddleware:
    """Adds the headers above and enforces the ``Origin`` rule.

    Args:
        app: the wrapped ASGI app.
        allowed_origins: origins besides the server's own (``https://app.bank.example``).
    """

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed_origins = tuple(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the origin, then pass on, decorating the response start."""
        if scope["type"] == "websocket":
            headers = Headers(scope=scope)
            if not origin_allowed(headers, self.allowed_origins):
                # Refused before the handshake: the browser sees a 403.
                await send({"type": "websocket.close", "code": 4403, "reason": "origin"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] in _UNSAFE_METHODS and not origin_allowed(headers, self.allowed_origins):
            body = json.dumps({"error": "cross-site request refused"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        report = scope["path"].startswith(REPORT_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["X-Content-Type-Options"] = "nosniff"
                out["Referrer-Policy"] = "no-referrer"
                out["Content-Security-Policy"] = REPORT_CSP if report else CSP
                out["X-Frame-Options"] = "SAMEORIGIN" if report else "DENY"
                out["Cross-Origin-Opener-Policy"] = "same-origin"
                if "json" in out.get("content-type", ""):
                    out["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Caps request bodies while they stream in, before anything is spooled.

    A declared ``Content-Length`` over the limit is refused at once (413,
    the body unread); a chunked or lying body is counted as it arrives and
    the request fails with 413 the moment it passes the limit.

    Args:
        app: the wrapped ASGI app.
        default_bytes: the cap for every path not in ``limits``.
        limits: path → cap (e.g. the upload route's).
    """

    def __init__(
        self, app: ASGIApp, default_bytes: int, limits: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or count the body, then pass on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limits.get(scope["path"], self.default_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await _too_large(send, cap)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    # Raised inside the app: FastAPI answers it as a 413.
                    raise HTTPException(413, f"request body larger than {cap} bytes refused")
            return message

        await self.app(scope, counted, send)


async def _too_large(send: Send, cap: int) -> None:
    body = json.dumps({"error": f"request body larger than {cap} bytes refused"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
