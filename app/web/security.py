"""Headers that make every response safer to show in a classroom, and the Origin check that keeps
another site from sending our forms (starting, pausing or stopping runs) in a student's name.

- Content-Security-Policy: scripts only from our own files (no inline script, no eval), so markup
  that slipped into a page could not run. Inline style attributes stay allowed: the maps and
  bars are sized with them, and a style cannot run code.
- X-Content-Type-Options: nosniff, so an upload served back is never read as a script.
- Referrer-Policy: same-origin, so a student's lab settings in the URL never leave the site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from app.web.errors import UserError
from app.web.i18n import N_

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])  # fmt: skip


def security_headers(frame_ancestors: str) -> list[tuple[bytes, bytes]]:
    headers = {
        "Content-Security-Policy": content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    }
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


class SecurityHeaders:
    """An ASGI middleware: the headers on every response, static files and errors included."""

    def __init__(self, app, frame_ancestors: str = "'self'") -> None:
        self.app = app
        self.headers = security_headers(frame_ancestors)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def check_origin(request: Request) -> None:
    """A dependency of every route: a form sent from another site is refused (403). Browsers
    send Origin with every cross-origin POST; without it, Sec-Fetch-Site tells. A request with
    neither (curl, a test client) is not a browser acting for someone, and passes."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin is not None:
        allowed = request.app.state.settings.allowed_origins
        if origin in allowed or _host_of(origin) == request.headers.get("host"):
            return
    elif request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
        return
    raise UserError(
        N_("This form was sent from another site (%(origin)s), so it was refused. Open CNN "
           "Playground itself and send the form from there."),
        status=403, origin=(origin or request.headers.get("sec-fetch-site", ""))[:80],
    )  # fmt: skip


def _host_of(origin: str) -> str | None:
    try:
        return urlsplit(origin).netloc or None
    except ValueError:
        return None
