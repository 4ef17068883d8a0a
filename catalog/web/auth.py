"""Access with a token (`catalog serve --token`, or `CATALOG_TOKEN`): every /api/… route, every page
and /metrics ask for it; /healthz (for an orchestrator's probe) and /static/… (the package's own
stylesheet, scripts and the API docs' assets, the same for everyone) do not.

How a request shows it (docs/serve.md, "Access"):

- a program: `Authorization: Bearer <token>`;
- a person: a link with `?token=<token>` once (`http://host:8000/?token=...`). The server answers
  with a redirect to the same address without it and a cookie (HttpOnly, SameSite=Strict), so the
  token leaves the address bar and the history at once and never rides along in a Referer; the
  cookie then carries it for the pages, their thumbnails and the API docs' "Try it out".

Without it: 401, as one-line JSON on /api/… and /metrics (with `WWW-Authenticate: Bearer`), as a
page that says how to get in everywhere else (there is no login form: a team shares the link).
Compared with `hmac.compare_digest`, whose time does not depend on where the first wrong character is.
The cookie holds an HMAC of the token, not the token itself: a cookie read off one browser is not a
token for the API's `Authorization` header, and changing the token logs every browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from catalog.web.responses import json_response

COOKIE = "catalog_session"
OPEN_PATHS = ("/healthz", "/favicon.ico")  # and everything under /static/
MIN_TOKEN_LENGTH = 16
TOKEN_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def check_token(token: str) -> str:
    """A usable token, or a one-line reason (the CLI reports it as a usage error)."""
    token = token.strip()
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise ValueError(
            f"a token needs at least {MIN_TOKEN_LENGTH} characters and no spaces; make one with {TOKEN_HINT}"
        )
    return token


class TokenAuth:
    """ASGI middleware: lets a request through only with the token (header, cookie, or a `?token=` link)."""

    def __init__(self, app, token: str):
        self.app = app
        self.token = token.encode()
        self.cookie = hmac.new(self.token, b"catalog serve cookie", hashlib.sha256).hexdigest().encode()

    def __repr__(self) -> str:  # never the token
        return "TokenAuth(token=REDACTED)"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path in OPEN_PATHS or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
        if scheme.lower() == b"bearer":
            if hmac.compare_digest(given.strip(), self.token):
                return await self.app(scope, receive, send)
            return await self._refuse(scope, receive, send, "the bearer token sent is not the server's")
        if hmac.compare_digest(_cookie(headers.get(b"cookie", b"")), self.cookie):
            return await self.app(scope, receive, send)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        linked = [value for name, value in query if name == "token"]
        if linked and scope["method"] in ("GET", "HEAD"):
            if hmac.compare_digest(linked[0].encode(), self.token):
                return await self._enter(scope, send, [(n, v) for n, v in query if n != "token"])
            return await self._refuse(scope, receive, send, "the token in this link is not the server's")
        return await self._refuse(scope, receive, send, None)

    async def _enter(self, scope, send, query: list[tuple[str, str]]) -> None:
        """The `?token=` link: the same address without it, and the cookie."""
        location = scope.get("root_path", "") + scope["path"] + (f"?{urlencode(query)}" if query else "")
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{COOKIE}={self.cookie.decode()}; Path=/; HttpOnly; SameSite=Strict{secure}"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1", "replace")),
                    (b"set-cookie", cookie.encode()),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope, receive, send, reason: str | None) -> None:
        path = scope["path"]
        if path.startswith("/api/") or path == "/api" or path == "/metrics":
            message = reason or "this server needs a token: send the header Authorization: Bearer <token>"
            response = json_response({"error": message}, 401, headers={"WWW-Authenticate": "Bearer"})
        else:
            response = _login_free_page(reason)
        await response(scope, receive, send)


def _cookie(header: bytes) -> bytes:
    try:
        jar = SimpleCookie(header.decode("latin-1"))
    except Exception:  # a malformed Cookie header: as if there were none
        return b""
    morsel = jar.get(COOKIE)
    return morsel.value.encode() if morsel is not None else b""


def _login_free_page(reason: str | None):
    """The 401 page: self-contained (no template, no database), with the site's own stylesheet."""
    from fastapi.responses import HTMLResponse

    why = f"<p class='error'>{html.escape(reason)}.</p>" if reason else ""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Token needed · catalog</title><link rel='stylesheet' href='/static/style.css'>"
        "<link rel='icon' href='/static/favicon.svg' type='image/svg+xml'></head><body>"
        "<main id='main'><h1>This catalog needs a token</h1>"
        f"{why}"
        "<p>Open the link with <code>?token=…</code> that whoever runs this server shared with you "
        "(for example <code>/?token=YOUR-TOKEN</code>): the browser then keeps a cookie for this site, "
        "and the token leaves the address bar.</p>"
        "<p>Programs send the header <code>Authorization: Bearer YOUR-TOKEN</code>.</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"})
