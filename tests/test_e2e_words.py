"""End to end in headless Chromium: a call uploaded without a transcript, "Transcribe the words"
checked, opens with its words on the timeline and in the transcript panel, and its verbal cues
in the session's tables. Screenshots go to ``test-artifacts/``."""

import os

import pytest
from conftest import SAMPLE_CALL
from test_e2e import (ANALYSIS_TIMEOUT_S, ARTIFACTS, app_server, hide_streamlit_header,  # noqa: F401
                      page)

from cuekit import store

pytest.importorskip("faster_whisper", reason="the words extra is not installed")


def test_a_call_without_transcript_gets_its_words(app_server, page):  # noqa: F811
    if not SAMPLE_CALL or not os.path.isfile(SAMPLE_CALL):
        pytest.skip(f"{SAMPLE_CALL} not built yet")
    url, home = app_server
    page.goto(url)
    page.wait_for_selector("text=No sessions yet", timeout=30_000)
    page.locator("input[type='file']").nth(0).set_input_files(SAMPLE_CALL)
    page.get_by_label("Title").fill("Words (e2e)")
    page.get_by_label("Participants (reading order)").fill("Agent, Customer")
    box = page.get_by_role("checkbox", name="Transcribe the words")  # not its help button
    assert box.is_checked()  # on by default when the words extra is installed
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.wait_for_selector("video", timeout=ANALYSIS_TIMEOUT_S * 1000)
    page.wait_for_selector(".cuekit-timeline [data-lane='who-speaks']", timeout=30_000)

    [info] = store.Library(home).sessions()
    assert info.status == "done" and info.transcript_path is None
    cs = store.Library(home).load_cueset(info.id)
    assert len(cs.words) > 100 and set(cs.words["participant"]) <= {"Agent", "Customer"}
    lines = cs.segments[cs.segments["kind"] == "transcript"]
    assert len(lines) >= 5
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_words_session.png", full_page=True)
    timeline = page.locator(".cuekit-timeline")
    timeline.screenshot(path=ARTIFACTS / "e2e_words_timeline.png")
    assert timeline.locator("[data-lane='transcript'] rect").count() == len(lines)
    assert page.get_by_text(f"Transcript ({len(lines)} lines)").is_visible()
    first = lines.sort_values("start")["label"].iloc[0]
    assert page.get_by_text(first[:30]).count()
    kinds = set(cs.segments["kind"])
    assert {"question", "sentiment"} <= kinds
    assert cs.summary["participants"]["Agent"]["words_per_min"] > 60
