"""The dashboard's HTTP side: recordings served only to whom the library lets see them.

Streamlit serves what ``st.video(path)`` plays from ``/media/<content hash>``: any browser that
has that URL gets the file while a page shows it, signed in or not. ``cuekit serve``
(``streamlit run server.py``) instead starts the app as an ``st.App`` with

- a middleware that gives every browser a random id in an HttpOnly cookie
  (:data:`BROWSER_COOKIE`, SameSite=Strict) on its first request, before the app's websocket
  opens, so the page's Python code reads it (``st.context.cookies``);
- a route :data:`MEDIA_PREFIX` ``/<session id>/<token>`` that streams the recording (with HTTP
  range requests, so the player seeks) only when the token is genuine, unexpired, made for the
  browser asking (its cookie), and its account may still see the session:
  :meth:`cuekit.store.Library.media_file` decides, the library's rules as everywhere else.

The session page asks :meth:`~cuekit.store.Library.media_token` for a token only after the
library let the signed-in account open the session, and plays the URL. Started as plain
``streamlit run app.py`` (no route), the page falls back to ``st.video(path)`` and says so.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from . import store
from .auth import AccessDenied
from .errors import InputError

BROWSER_COOKIE = "cuekit_browser"
MEDIA_PREFIX = "/cuekit/media"
MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".m4a": "audio/mp4",
               ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
               ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".flac": "audio/flac"}
_state = {"mounted": False}
_libraries: dict[str, store.Library] = {}


def mounted() -> bool:
    """Whether this process serves :data:`MEDIA_PREFIX` (started through :func:`routes`)."""
    return _state["mounted"]


def _library() -> store.Library:
    home = str(store.default_home())
    if home not in _libraries:
        _libraries[home] = store.Library(home)
    return _libraries[home]


class BrowserCookie:
    """ASGI middleware: a browser without :data:`BROWSER_COOKIE` gets one (random, HttpOnly,
    SameSite=Strict, for the whole site) on its next HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or BROWSER_COOKIE in _cookies(scope):
            await self.app(scope, receive, send)
            return
        cookie = (f"{BROWSER_COOKIE}={secrets.token_urlsafe(32)}; Path=/; HttpOnly; "
                  "SameSite=Strict").encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookies(scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: treated as none
                return {}
    return {k: m.value for k, m in jar.items()}


async def serve_media(request):
    """``GET /cuekit/media/<session id>/<token>``: the recording, or 403 with one line."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, PlainTextResponse

    session_id = request.path_params["session_id"]
    token = request.path_params["token"]
    browser = request.cookies.get(BROWSER_COOKIE, "")
    try:
        path = await run_in_threadpool(_library().media_file, session_id, token, browser)
    except (AccessDenied, InputError) as e:
        return PlainTextResponse(f"{e}\n", status_code=403,
                                 headers={"Cache-Control": "no-store"})
    if not path.is_file():
        return PlainTextResponse("the recording is gone\n", status_code=404)
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "private, no-store"})


def routes() -> list:
    """The guarded media route, for ``st.App(..., routes=routes())`` (see ``server.py``)."""
    from starlette.routing import Route

    _state["mounted"] = True
    return [Route(MEDIA_PREFIX + "/{session_id}/{token}", serve_media, methods=["GET", "HEAD"])]


def middleware() -> list:
    """The browser-id cookie, for ``st.App(..., middleware=middleware())``."""
    from starlette.middleware import Middleware

    return [Middleware(BrowserCookie)]
