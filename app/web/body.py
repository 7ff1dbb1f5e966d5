"""One limit on every request body, counted as it streams in (an ASGI middleware).

A body over the limit is refused as soon as it passes it, or at once when its Content-Length says
so: reading it raises RequestTooLarge, which the error path answers with a 413. A route that takes
files may catch it and say which limit the file broke.
"""

from __future__ import annotations

from app.web.errors import STATUS_MESSAGES, UserError


class RequestTooLarge(UserError):
    def __init__(self, limit: int) -> None:
        super().__init__(STATUS_MESSAGES[413], status=413)
        self.limit = limit


class BodyLimit:
    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        too_large_declared = declared.isdigit() and int(declared) > limit
        seen = 0

        async def limited_receive():
            nonlocal seen
            if too_large_declared:
                raise RequestTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
