"""The session timeline end to end in headless Chromium: the playhead follows the player, a
click or a drag on the lanes moves the player, "1 min" zooms to the minute around the playhead;
and in team mode a coach's note shows on the agent's timeline (two signed-in browsers) while a
second agent gets neither the session nor its recording. Screenshots in ``test-artifacts/``."""

import os
from datetime import date

import pytest
from conftest import SAMPLE_CALL
from test_auth import Team
from test_e2e import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, app_server,  # noqa: F401 (fixtures)
                      hide_streamlit_header, page, playwright_api, video_time_s)
from test_e2e_team_outcomes import _open_as
from test_store import fake_analyze, make_cueset

from cuekit import jobs, store

WAIT_MS = 60_000
expect = playwright_api.expect
TIMELINE = ".cuekit-timeline"
CLICK_PX = 2  # a click lands within a pixel or two of where it was aimed


def wait_for_timeline(pg) -> None:
    pg.wait_for_selector("video", timeout=WAIT_MS)
    pg.wait_for_selector(f"{TIMELINE} [data-playhead]", state="attached", timeout=WAIT_MS)
    pg.wait_for_function("() => document.querySelector('video').readyState >= 1",
                         timeout=WAIT_MS)


def view_s(pg) -> tuple[float, float]:
    tl = pg.locator(TIMELINE)
    return float(tl.get_attribute("data-view-start-s")), float(tl.get_attribute("data-view-end-s"))


def lane_box(pg, lane: str) -> dict:
    """The drawing area of a lane's first row (the time axis spans its width)."""
    return pg.locator(f"{TIMELINE} [data-lane='{lane}'] svg.plot").first.bounding_box()


def point_at(pg, lane: str, fraction: float) -> tuple[float, float, float, float]:
    """Screen x, y of a point ``fraction`` of the way along a lane; the time it stands for and
    the seconds one pixel spans there."""
    box = lane_box(pg, lane)
    start_s, end_s = view_s(pg)
    return (box["x"] + fraction * box["width"], box["y"] + box["height"] / 2,
            start_s + fraction * (end_s - start_s), (end_s - start_s) / box["width"])


def wait_for_video_at(pg, t_s: float, tolerance_s: float) -> None:
    pg.wait_for_function(f"() => Math.abs(document.querySelector('video').currentTime - {t_s})"
                         f" <= {tolerance_s}", timeout=WAIT_MS)


def playhead(pg) -> tuple[float, float]:
    """The time the playhead says, and the time its position on screen stands for."""
    head = pg.locator(f"{TIMELINE} [data-playhead]")
    box, lane = head.bounding_box(), lane_box(pg, "who-speaks")
    start_s, end_s = view_s(pg)
    x = box["x"] + 1  # the 2 px line's middle
    return (float(head.get_attribute("data-t-s")),
            start_s + (x - lane["x"]) / lane["width"] * (end_s - start_s))


def test_the_timeline_follows_the_player_and_moves_it(app_server, page, sample_result):  # noqa: F811
    if not os.path.isfile(SAMPLE_CALL):
        pytest.skip("the sample call is not built")
    url, home = app_server
    lib = store.Library(home)
    sid = lib.add_session(SAMPLE_CALL, title="Sample call (timeline)",
                          media_name="sample_call.mp4", names=["Agent", "Customer"],
                          recorded_on=date(2026, 2, 5), analysed=sample_result)
    page.goto(f"{url}/?session={sid}")
    wait_for_timeline(page)
    hide_streamlit_header(page)
    timeline = page.locator(TIMELINE)
    timeline.scroll_into_view_if_needed()
    assert view_s(page) == pytest.approx((0.0, 60.0), abs=0.5)  # the whole call
    titles = timeline.locator(".title").all_inner_texts()
    assert titles[0] == "Who speaks" and "Notes" in titles
    assert not any(t.startswith("Pitch") for t in titles)  # raw signals: one click away

    # plays: the playhead moves with the player's time
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; "
                  "return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 3",
                           timeout=WAIT_MS)
    playing_s = video_time_s(page)
    said_s, drawn_s = playhead(page)
    assert said_s == pytest.approx(playing_s, abs=1.0)  # it plays on while we read
    page.wait_for_function(f"() => document.querySelector('video').currentTime > {said_s + 2}",
                           timeout=WAIT_MS)
    later_s, _ = playhead(page)
    assert later_s > said_s + 1.5 and later_s == pytest.approx(video_time_s(page), abs=1.0)
    page.evaluate("() => document.querySelector('video').pause()")
    page.wait_for_timeout(300)  # a frame for the playhead
    paused_s = video_time_s(page)
    said_s, drawn_s = playhead(page)
    px_s = (view_s(page)[1] - view_s(page)[0]) / lane_box(page, "who-speaks")["width"]
    assert said_s == pytest.approx(paused_s, abs=0.01)
    assert drawn_s == pytest.approx(paused_s, abs=2 * px_s)
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline_playing.png")

    # a click on a lane: the player goes to that time
    x, y, t_s, px_s = point_at(page, "who-speaks", 0.4)
    page.mouse.click(x, y)
    wait_for_video_at(page, t_s, CLICK_PX * px_s)
    assert playhead(page)[0] == pytest.approx(t_s, abs=CLICK_PX * px_s)

    # a drag scrubs: the player ends where the drag ended; the note's time follows
    x0, y0, _, _ = point_at(page, "who-speaks", 0.15)
    x1, y1, end_s, px_s = point_at(page, "notes", 0.75)
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10)
        page.wait_for_timeout(30)
    page.mouse.up()
    wait_for_video_at(page, end_s, CLICK_PX * px_s)
    field = page.get_by_label("At (s)", exact=True).and_(page.locator("input"))
    expect(field).to_have_value(f"{round(video_time_s(page), 1):.1f}",
                                timeout=WAIT_MS)
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline_after_drag.png")

    # the raw signals, one click away
    page.get_by_text("Show the raw signals too").click()
    page.locator(f"{TIMELINE} [data-lane='pitch'] polyline").first.wait_for(timeout=WAIT_MS)
    page.set_viewport_size({"width": 1400, "height": 2000})  # all the lanes in one picture
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline_raw.png")
    page.screenshot(path=ARTIFACTS / "e2e_timeline_page.png", full_page=True)


def test_zoom_to_the_minute_around_the_playhead(app_server, page, tmp_path):  # noqa: F811
    from mediagen import write_media

    url, home = app_server
    duration_s = 180
    media = write_media(str(tmp_path / "call.mp4"), seconds=duration_s, fps=2, size=(160, 120))
    lib = store.Library(home)
    sid = lib.add_session(media, title="Three minutes", media_name="call.mp4",
                          recorded_on=date(2026, 1, 5))
    jobs.run_queue(lib, fake_analyze(make_cueset(duration_s)))
    page.goto(f"{url}/?session={sid}")
    wait_for_timeline(page)
    hide_streamlit_header(page)
    timeline = page.locator(TIMELINE)
    timeline.scroll_into_view_if_needed()
    assert view_s(page) == pytest.approx((0.0, duration_s), abs=0.5)

    page.evaluate("() => document.querySelector('video').currentTime = 100")
    expect(timeline.locator("[data-playhead]")).to_have_attribute("data-t-s", "100.00",
                                                                  timeout=WAIT_MS)
    timeline.get_by_role("button", name="1 min").click()
    assert view_s(page) == pytest.approx((70.0, 130.0), abs=0.01)
    assert timeline.locator(".range").inner_text() == "1:10\u20132:10 of 3:00"
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline_minute.png")
    # a click in the zoomed view: its time on the minute's scale
    x, y, t_s, px_s = point_at(page, "who-speaks", 0.25)
    assert t_s == pytest.approx(85.0, abs=0.5)
    page.mouse.click(x, y)
    wait_for_video_at(page, t_s, CLICK_PX * px_s)
    # the playhead leaves the minute (the call plays on): the view follows it
    page.evaluate("() => document.querySelector('video').currentTime = 170")
    expect(timeline).to_have_attribute("data-view-end-s", "180.00", timeout=WAIT_MS)
    assert view_s(page) == pytest.approx((120.0, 180.0), abs=0.01)
    timeline.get_by_role("button", name="Whole call").click()
    assert view_s(page) == pytest.approx((0.0, duration_s), abs=0.01)
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline_whole.png")


def test_a_coachs_note_reaches_the_agents_timeline(app_server):  # noqa: F811
    url, home = app_server
    team = Team(home)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _, coach = _open_as(browser, url, "Cleo", team.ann_sid)
        coach.wait_for_selector(f"{TIMELINE} [data-lane='notes']", timeout=WAIT_MS)
        field = coach.get_by_label("At (s)", exact=True).and_(coach.locator("input"))
        field.fill("4.5")
        field.press("Tab")
        coach.get_by_label("Note").fill("Ask her what she heard here")
        coach.get_by_role("button", name="Add note").click()
        coach.locator(f"{TIMELINE} [data-lane='notes'] .note").wait_for(timeout=WAIT_MS)
        [note] = team.lib.notes(team.ann_sid, user=team.coach)
        assert (note.t_s, note.text) == (4.5, "Ask her what she heard here")
        hide_streamlit_header(coach)
        coach.locator(TIMELINE).screenshot(path=ARTIFACTS / "e2e_timeline_coach_note.png")

        ann_ctx, ann = _open_as(browser, url, "Ann", team.ann_sid)
        marker = ann.locator(f"{TIMELINE} [data-lane='notes'] .note")
        marker.wait_for(timeout=WAIT_MS)
        assert float(marker.get_attribute("data-note-t")) == 4.5
        assert "Ask her what she heard here" in marker.locator("title").text_content()
        assert ann.locator("[data-testid=stMarkdownContainer]",
                           has_text="Ask her what she heard here").count() == 1  # the list
        start_s, end_s = view_s(ann)
        lane = lane_box(ann, "notes")
        drawn_x = marker.bounding_box()["x"] + marker.bounding_box()["width"] / 2
        assert drawn_x == pytest.approx(lane["x"] + (4.5 - start_s) / (end_s - start_s)
                                        * lane["width"], abs=CLICK_PX)
        hide_streamlit_header(ann)
        ann.locator(TIMELINE).screenshot(path=ARTIFACTS / "e2e_timeline_agent_sees_note.png")
        src = ann.locator("video").get_attribute("src")

        bob_ctx, bob = _open_as(browser, url, "Bob", team.ann_sid)
        bob.wait_for_selector("text=is not in your library", timeout=WAIT_MS)
        assert not bob.locator("video").count() and not bob.locator(TIMELINE).count()
        assert not bob.get_by_text("Ask her what she heard here").count()
        assert bob_ctx.request.get(src).status == 403
        assert ann_ctx.request.get(src).status == 200
        bob.screenshot(path=ARTIFACTS / "e2e_timeline_second_agent.png")
        browser.close()
