"""The session review end to end in headless Chromium: the real sample call's analysis, opened as
a coach would: the summary, a moment played from it, a coaching-moment card marked for the
coaching conversation and noted, the indicators against their targets, the person page.
Screenshots in ``test-artifacts/``."""

import copy
import os
import time
from datetime import date

import pytest
from conftest import SAMPLE_CALL
from test_e2e import (ARTIFACTS, app_server, element_screenshot, hide_streamlit_header, page,  # noqa: F401
                      video_time_s)

from cuekit import store

WAIT_MS = 60_000


def open_sample(url, home, sample_result, pg, *, title="Sample call (review)"):
    lib = store.Library(home)
    sid = lib.add_session(SAMPLE_CALL, title=title, media_name="sample_call.mp4",
                          names=["Agent", "Customer"], recorded_on=date(2026, 2, 5),
                          analysed=sample_result)
    started = time.monotonic()
    pg.goto(f"{url}/?session={sid}")
    pg.wait_for_selector("video", timeout=WAIT_MS)
    pg.locator(".st-key-review_work_on").wait_for(timeout=WAIT_MS)
    pg.wait_for_selector(".cuekit-timeline [data-lane='who-speaks']", timeout=WAIT_MS)
    return lib, sid, time.monotonic() - started


def test_a_coach_reads_the_summary_and_plays_a_moment(app_server, page, sample_result):  # noqa: F811
    if not os.path.isfile(SAMPLE_CALL):
        pytest.skip("the sample call is not built")
    url, home = app_server
    lib, sid, open_s = open_sample(url, home, sample_result, page)
    print(f"session page (sample call) ready in {open_s:.1f} s")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1",
                           timeout=WAIT_MS)
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_review_session_top.png")
    page.screenshot(path=ARTIFACTS / "e2e_review_session.png", full_page=True)

    went_well = page.locator(".st-key-review_strengths")
    work_on = page.locator(".st-key-review_work_on")
    assert went_well.get_by_text("What went well").is_visible()
    assert work_on.get_by_text("Leaving room to talk").is_visible()  # the agent talks 72 %
    assert went_well.get_by_text("Acknowledging feelings").is_visible()  # "I'm sorry to hear"
    # one click plays a moment behind a finding
    play = work_on.locator("button.cuekit-play").first
    target_s = float(play.get_attribute("data-t"))
    play.click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('video').currentTime - {target_s}) < 1.5",
        timeout=WAIT_MS)
    page.evaluate("() => document.querySelector('video').pause()")

    # indicators against their targets, units a coach reads
    indicators = page.locator(".st-key-indicators")
    assert indicators.count() == 1
    indicators.scroll_into_view_if_needed()
    element_screenshot(indicators, ARTIFACTS / "e2e_review_indicators.png")
    page.get_by_text("Where the targets come from").click()
    page.get_by_text("Stivers et al. 2009").wait_for(timeout=WAIT_MS)

    # a coaching-moment card: its stills, play, mark for the coaching conversation, a note
    card = page.locator(".st-key-moment_card_0")
    card.scroll_into_view_if_needed()
    card.locator("img").first.wait_for(timeout=WAIT_MS)
    assert card.locator("img").count() == 2  # Agent and Customer
    element_screenshot(card, ARTIFACTS / "e2e_review_moment_card.png")
    moment_s = float(card.locator("button.cuekit-play").get_attribute("data-t"))
    card.locator("button.cuekit-play").click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('video').currentTime - {moment_s}) < 1.5",
        timeout=WAIT_MS)
    card.get_by_text("Mark for the coaching conversation").click()
    deadline = time.monotonic() + 30
    while not lib.marks(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    [mark] = lib.marks(sid)
    assert mark.start_s == pytest.approx(moment_s, abs=0.01)
    card.get_by_role("button", name="Add a note").click()
    page.get_by_label("Note on this moment").fill("ask what made him cut in here")
    page.get_by_role("button", name="Save the note").click()
    deadline = time.monotonic() + 30
    while not lib.notes(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    [note] = lib.notes(sid)
    assert note.t_s == pytest.approx(moment_s, abs=0.01)
    page.locator("[data-testid=stMarkdownContainer]",
                 has_text="ask what made him cut in here").first.wait_for(timeout=WAIT_MS)
    hide_streamlit_header(page)
    timeline = page.locator(".cuekit-timeline")
    marker = timeline.locator("[data-lane='notes'] .note")
    marker.wait_for(timeout=WAIT_MS)  # the note, on the timeline's notes lane
    assert float(marker.get_attribute("data-note-t")) == pytest.approx(moment_s, abs=0.01)
    timeline.scroll_into_view_if_needed()
    element_screenshot(timeline, ARTIFACTS / "e2e_review_timeline.png")
    assert timeline.locator(".title", has_text="Who speaks").count() == 1
    assert timeline.locator(".title", has_text="Pitch").count() == 0  # one click away
    page.screenshot(path=ARTIFACTS / "e2e_review_after_note.png", full_page=True)

    # the person page: the agent's trend across sessions, with the target range
    earlier = copy.deepcopy(sample_result)
    earlier.summary["participants"]["Agent"].update(talk_share=0.81, eye_contact_listening=0.5)
    lib.add_session(SAMPLE_CALL, title="January call", media_name="sample_call.mp4",
                    names=["Agent", "Customer"], recorded_on=date(2026, 1, 5), analysed=earlier)
    page.goto(url)
    page.get_by_text("Compare", exact=True).click()
    trend = page.locator(".st-key-person_trend .js-plotly-plot")
    trend.wait_for(timeout=WAIT_MS)
    assert trend.locator(".annotation-text", has_text="Talk share").count() == 1
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_person_page.png")
    element_screenshot(trend, ARTIFACTS / "e2e_person_trend.png")
