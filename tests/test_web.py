"""The guarded routes of ``cuekit serve`` (cuekit.web) called as the server calls them (ASGI):
a session's recording, stills and exports reach the browser and account its token was made
for, and no one else — another signed-in agent, a browser that never signed in, a coach who no
longer coaches the agent."""

import asyncio
from urllib.parse import unquote

import cv2
import numpy as np
import pytest
from mediagen import write_media
from starlette.applications import Starlette
from test_auth import Team, cheap_hashing  # noqa: F401 (fixture)
from test_store import make_cueset

from cuekit import export, stills, store, web
from cuekit.errors import InputError

BOXES = {"Ann": [0, 0, 80, 120], "Customer A": [80, 0, 80, 120]}  # two tiles of a 160x120 call


def _get(path: str, browser: str = "") -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` (as the browser sent it) from the guarded routes with a browser-id cookie."""
    app = Starlette(routes=web.routes())
    headers = [(b"cookie", f"{web.BROWSER_COOKIE}={browser}".encode())] if browser else []
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(path), "raw_path": path.encode(), "root_path": "",
             "query_string": b"", "headers": headers, "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5000)}
    sent = []

    async def call():
        answered = asyncio.Event()
        asked = []

        async def receive():  # the request once, then a disconnect once answered
            if not asked:
                asked.append(True)
                return {"type": "http.request", "body": b"", "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await app(scope, receive, send)

    asyncio.run(call())
    start = sent[0]
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            b"".join(m.get("body", b"") for m in sent[1:]))


@pytest.fixture
def team(tmp_path, monkeypatch):
    """test_auth's team; Ann's call a real two-tile video with a coach's note on it."""
    home = tmp_path / "home"
    monkeypatch.setenv(store.HOME_ENV, str(home))
    t = Team(home)
    media = write_media(str(tmp_path / "tiles.mp4"), seconds=3, fps=10, size=(160, 120))
    cs = make_cueset(3, names=("Ann", "Customer A"))
    cs.session["layout"] = {"participants": [{"name": n, "box": b} for n, b in BOXES.items()]}
    t.call_sid = t.lib.add_session(media, title="Ann's tiles", media_name="tiles.mp4",
                                   user=t.ann, analysed=cs)
    t.lib.add_note(t.call_sid, 1.0, "a good open question", "Ann", user=t.coach)
    return t


def _links(lib, sid, user, browser) -> web.SessionLinks:
    return web.SessionLinks("", sid, lib.media_token(sid, browser, user=user))


def test_stills_reach_the_owner_in_their_browser_only(team):
    lib = team.lib
    ann = _links(lib, team.call_sid, team.ann, "browser-A")
    names = stills.still_names(lib.load_cueset(team.call_sid, user=team.ann).session)
    assert names == ["Ann", "Customer A"]
    for name in names:
        status, headers, body = _get(ann.still(1.0, name), "browser-A")
        assert status == 200 and headers["content-type"] == "image/jpeg"
        assert "no-store" in headers["cache-control"]
        picture = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape[:2] == (300, stills.STILL_WIDTH_PX)  # an 80x120 tile, 200 wide
    url = ann.still(1.0, "Ann")
    assert _get(url, "browser-B")[0] == 403  # Ann's link pasted into Bob's browser
    assert _get(url)[0] == 403  # a browser without the cookie (never signed in)
    forged = url.replace(f"/{team.ann.id}.", f"/{team.bob.id}.", 1)  # Bob's id, Ann's signature
    assert _get(forged, "browser-B")[0] == 403
    assert _get(ann.still(1.0, "Nobody"), "browser-A")[0] == 404


def test_exports_reach_the_owner_and_their_coach_only(team):
    lib = team.lib
    ann = _links(lib, team.call_sid, team.ann, "browser-A")
    status, headers, body = _get(ann.export("report.html"), "browser-A")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["content-disposition"] == 'attachment; filename="Ann_s_tiles_report.html"'
    assert b"a good open question" in body  # the coach's note travels with the export
    status, _, body = _get(ann.export("samples.csv"), "browser-A")
    assert status == 200 and body.startswith(b"t,participant,cue,value,confidence")
    for refused in (_get(ann.export("report.html"), "browser-B"), _get(ann.export("report.html"))):
        assert refused[0] == 403
        assert b"a good open question" not in refused[2]
    assert _get(ann.export("secrets.txt"), "browser-A")[0] == 404

    cleo = _links(lib, team.call_sid, team.coach, "browser-C")
    assert _get(cleo.export("summary.json"), "browser-C")[0] == 200
    lib.set_agents("Cleo", [], by=team.admin)  # Ann is no longer Cleo's: her link stops working
    status, _, body = _get(cleo.export("summary.json"), "browser-C")
    assert status == 403 and b"not in your library" in body
    assert _get(cleo.still(1.0, "Ann"), "browser-C")[0] == 403


def test_the_recording_route_still_serves_ranges(team):
    ann = _links(team.lib, team.call_sid, team.ann, "browser-A")
    status, headers, body = _get(ann.media(), "browser-A")
    assert status == 200 and headers["content-type"] == "video/mp4" and body[4:8] == b"ftyp"
    assert _get(ann.media(), "browser-B")[0] == 403


def test_export_kinds_and_file_names():
    cs = make_cueset(10)
    with pytest.raises(InputError, match="no export called"):
        export.export_bytes("secrets.txt", cs)
    assert export.export_bytes("summary.json", cs, title="T").startswith(b"{")
    assert export.file_stem("Renewal call: ACME!", "abc") == "Renewal_call__ACME"
    assert export.file_stem("???", "abc") == "abc"


def test_still_names_follow_the_layout():
    assert stills.still_names({"layout": {"participants": [{"name": "A"}, {"name": "B"}]}}) == [
        "call"]  # no tiles known: one still of the whole frame
    assert stills.still_names({}) == ["call"]
    assert stills.still_names({"layout": {"participants": [
        {"name": "A", "box": [0, 0, 1, 1]}, {"name": "B"}]}}) == ["A", "B"]
