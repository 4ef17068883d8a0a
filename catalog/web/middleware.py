"""ASGI middlewares around every request: the upload size cap and the security headers."""

from __future__ import annotations

from catalog.web.responses import json_response


class UploadTooLarge(Exception):
    """A body grew past the cap while it was read (`BodyLimit`); answered 413 by catalog/web/errors.py."""


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is refused (413) without being read whole."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = json_response(
                {"error": f"upload too large: the limit is {self.max_bytes // (1024 * 1024)} MB"},
                413,
                headers={"Connection": "close"},
            )
            return await response(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise UploadTooLarge()
            return message

        return await self.app(scope, counted, send)


# Pages load only this server's own scripts, styles and images (thumbnails; a chosen photo's preview
# is a blob: URL): markup that got past escaping could still not run a script from anywhere. The
# bars of the score charts are inline style attributes. The API docs (/api/docs) live under the same
# policy: Swagger UI is served from this package (catalog/web/docs.py), its SVG icons are data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """ASGI middleware: a content security policy on pages, and no MIME sniffing anywhere."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, with_headers)
