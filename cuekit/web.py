"""The dashboard's HTTP side: what a session shows — its recording, the stills of its moments,
its exports — served only to whom the library lets see it.

Streamlit serves what ``st.video(path)`` plays, what ``st.image(bytes)`` shows and what a
download button offers from ``/media/<content hash>``: any browser that has that URL gets the
file while a page shows it, signed in or not. ``cuekit serve`` (``streamlit run server.py``)
instead starts the app as an ``st.App`` with

- a middleware that gives every browser a random id in an HttpOnly cookie
  (:data:`BROWSER_COOKIE`, SameSite=Strict) on its first request, before the app's websocket
  opens, so the page's Python code reads it (``st.context.cookies``);
- three routes under ``/cuekit/<what>/<session id>/<token>``: :data:`MEDIA_PREFIX` streams the
  recording (with HTTP range requests, so the player seeks), :data:`STILL_PREFIX` ``/<t
  ms>/<participant>`` a JPEG of one participant at a moment, :data:`EXPORT_PREFIX` ``/<kind>``
  one of ``cuekit.export.EXPORTS`` — each only when the token is genuine, unexpired, made for
  the browser asking (its cookie), and its account may still see the session:
  :meth:`cuekit.store.Library.link_session` decides, the library's rules as everywhere else.

The session page asks :meth:`~cuekit.store.Library.media_token` for a token only after the
library let the signed-in account open the session, and builds the URLs with
:class:`SessionLinks`. Started as plain ``streamlit run app.py`` (no routes), the page falls back
to Streamlit's own media URLs and says so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from http.cookies import SimpleCookie
from urllib.parse import quote

from . import store
from .auth import AccessDenied
from .errors import CuekitError

BROWSER_COOKIE = "cuekit_browser"
MEDIA_PREFIX = "/cuekit/media"
STILL_PREFIX = "/cuekit/still"
EXPORT_PREFIX = "/cuekit/export"
_PRIVATE = {"Cache-Control": "private, no-store"}
_state = {"mounted": False}
_libraries: dict[str, store.Library] = {}


@dataclass(frozen=True)
class SessionLinks:
    """The guarded URLs of one session for one account in one browser (``token`` from
    :meth:`~cuekit.store.Library.media_token`; ``origin`` like ``http://host:8501``)."""

    origin: str
    session_id: str
    token: str

    def media(self) -> str:
        return f"{self.origin}{MEDIA_PREFIX}/{self.session_id}/{self.token}"

    def still(self, t_s: float, participant: str) -> str:
        """One participant's still at ``t_s`` (to the millisecond)."""
        return (f"{self.origin}{STILL_PREFIX}/{self.session_id}/{self.token}/"
                f"{round(t_s * 1000)}/{quote(participant, safe='')}")

    def export(self, kind: str) -> str:
        return f"{self.origin}{EXPORT_PREFIX}/{self.session_id}/{self.token}/{quote(kind)}"


def mounted() -> bool:
    """Whether this process serves the guarded routes (started through :func:`routes`)."""
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


def _refused(message: str, status_code: int = 403):
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(f"{message}\n", status_code=status_code,
                             headers={"Cache-Control": "no-store"})


async def _guarded(request, make):
    """Run ``make(info, user)`` in a worker thread for the session and account of the request's
    token; 403 with one line when the library refuses, 404 when ``make`` finds nothing."""
    from starlette.concurrency import run_in_threadpool

    def checked():
        info, user = _library().link_session(request.path_params["session_id"],
                                             request.path_params["token"],
                                             request.cookies.get(BROWSER_COOKIE, ""))
        return make(info, user)

    try:
        response = await run_in_threadpool(checked)
    except AccessDenied as e:
        return _refused(str(e))
    except CuekitError as e:
        return _refused(str(e), 404)
    return response if response is not None else _refused("not found", 404)


async def serve_media(request):
    """``GET /cuekit/media/<session id>/<token>``: the recording, or 403 with one line."""
    from starlette.responses import FileResponse

    def make(info, _user):
        if not info.media_path.is_file():
            return _refused("the recording is gone", 404)
        return FileResponse(info.media_path, media_type=info.media_type, headers=_PRIVATE)

    return await _guarded(request, make)


@lru_cache(maxsize=64)
def _stills(media_path: str, t_ms: int, layout_json: str) -> dict[str, bytes]:
    """Every participant's still at a moment (a card asks for each in turn: decoded once)."""
    import json

    from . import stills

    return stills.stills(media_path, t_ms / 1000, {"layout": json.loads(layout_json)})


async def serve_still(request):
    """``GET /cuekit/still/<session id>/<token>/<t ms>/<participant>``: a JPEG."""
    import json

    from starlette.responses import Response

    from . import cueset

    def make(info, _user):
        try:
            t_ms = int(request.path_params["t_ms"])
        except ValueError:
            return None
        layout = cueset.read_session(_library().cues_dir(info.id)).get("layout", {})
        jpeg = _stills(str(info.media_path), t_ms, json.dumps(layout, sort_keys=True)).get(
            request.path_params["participant"])
        return Response(jpeg, media_type="image/jpeg", headers=_PRIVATE) if jpeg else None

    return await _guarded(request, make)


async def serve_export(request):
    """``GET /cuekit/export/<session id>/<token>/<kind>``: one export file, as a download, built
    from the whole result and the notes the token's account may read."""
    from starlette.responses import Response

    from . import export

    def make(info, user):
        kind = request.path_params["kind"]
        if kind not in export.EXPORTS:
            return None
        lib = _library()
        data = export.export_bytes(kind, lib.load_cueset(info.id, user=user),
                                   lib.notes(info.id, user=user), title=info.title,
                                   media_path=str(info.media_path))
        name = f"{export.file_stem(info.title, info.id)}_{kind}"
        return Response(data, media_type=export.EXPORTS[kind].mime,
                        headers={**_PRIVATE,
                                 "Content-Disposition": f'attachment; filename="{name}"'})

    return await _guarded(request, make)


def routes() -> list:
    """The guarded routes, for ``st.App(..., routes=routes())`` (see ``server.py``)."""
    from starlette.routing import Route

    _state["mounted"] = True
    session = "/{session_id}/{token}"
    return [Route(MEDIA_PREFIX + session, serve_media, methods=["GET", "HEAD"]),
            Route(STILL_PREFIX + session + "/{t_ms}/{participant}", serve_still,
                  methods=["GET"]),
            Route(EXPORT_PREFIX + session + "/{kind}", serve_export, methods=["GET"])]


def middleware() -> list:
    """The browser-id cookie, for ``st.App(..., middleware=middleware())``."""
    from starlette.middleware import Middleware

    return [Middleware(BrowserCookie)]
