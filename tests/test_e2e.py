"""End to end in headless Chromium (Playwright): the real app, server and browser.

Screenshots go to ``test-artifacts/``. Skipped when Debian's chromium or playwright is absent.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE_CALL
from test_store import fake_analyze, make_cueset

from cuekit import charts, jobs, store
from cuekit.transcript import read_transcript

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(ROOT) / "test-artifacts"
SERVER_START_S = 60
ROW_PX = 35  # Streamlit's data grid: header and rows
ANALYSIS_TIMEOUT_S = 300  # the 60 s sample call on 2 cores takes a few minutes
SAMPLE_TRANSCRIPT = os.path.join(ROOT, "sample_media", "sample_call.vtt")

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_server(tmp_path):
    """The dashboard on a free port, its library in a fresh CUEKIT_HOME. Yields (url, home)."""
    home = tmp_path / "home"
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        # server.py: app.py as ``cuekit serve`` runs it, with the guarded media route
        [sys.executable, "-m", "streamlit", "run", os.path.join(ROOT, "server.py"),
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, store.HOME_ENV: str(home)}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.5)
    yield url, home
    proc.terminate()
    proc.wait(10)
    log.close()
    if jobs.worker_alive(store.Library(home)):
        pytest.fail("an analysis worker is still running after the test")


@pytest.fixture
def page():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def hide_streamlit_header(page) -> None:
    """The sticky app header would cover the top of element screenshots."""
    page.add_style_tag(content="header[data-testid='stHeader'] {display: none}")


def element_screenshot(locator, path, attempts: int = 5) -> None:
    """Screenshot an element that a rerun may redraw meanwhile (the locator finds it again)."""
    for attempt in range(attempts):
        try:
            locator.screenshot(path=path)
            return
        except playwright_api.Error as e:
            if "not attached" not in str(e) or attempt == attempts - 1:
                raise
            time.sleep(0.5)


def video_time_s(page) -> float:
    return page.evaluate("() => document.querySelector('video').currentTime")


def note_time_field(page):
    return page.get_by_label("At (s)", exact=True).and_(page.locator("input"))


def click_event(page, row: int) -> None:
    """Tick a row of the events table (a canvas grid: click its row-marker column)."""
    grid = page.locator(".st-key-events_table [data-testid='stDataFrame']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_PX * (row + 1.5))  # after the header row


def test_event_click_seeks_the_video(app_server, page, tmp_path):
    """A hand-made analysis of a real (synthetic) mp4: open it, click an event, click the timeline."""
    from mediagen import write_media

    url, home = app_server
    media = write_media(str(tmp_path / "call.mp4"), seconds=60, fps=10, size=(320, 240))
    lib = store.Library(home)
    sid = lib.add_session(media, title="Hand-made call", media_name="call.mp4",
                          recorded_on=date(2026, 1, 5))
    jobs.run_queue(lib, fake_analyze(make_cueset(60)))

    page.goto(f"{url}/?session={sid}")
    page.wait_for_selector("video", timeout=30_000)
    page.wait_for_selector(".cuekit-timeline [data-lane='who-speaks']", timeout=30_000)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1",
                           timeout=30_000)
    assert video_time_s(page) == pytest.approx(0.0, abs=0.5)
    page.screenshot(path=ARTIFACTS / "e2e_session_view.png", full_page=True)

    click_event(page, 0)  # the interruption at 0:12
    page.wait_for_function("() => document.querySelector('video').currentTime >= 11.5",
                           timeout=30_000)
    assert page.get_by_text("Position 0:12").is_visible()
    page.screenshot(path=ARTIFACTS / "e2e_after_event_click.png", full_page=True)

    timeline = page.locator(".cuekit-timeline")
    hide_streamlit_header(page)
    timeline.screenshot(path=ARTIFACTS / "e2e_timeline.png")
    # the coaching moment at 0:25–0:30: a click on its bar's start moves the player there
    page.evaluate("() => document.querySelector('video').pause()")
    bar = timeline.locator("[data-lane='coaching-moments'] rect").bounding_box()
    page.mouse.click(bar["x"] + 1, bar["y"] + bar["height"] / 2)
    page.wait_for_function("() => Math.abs(document.querySelector('video').currentTime - 25)"
                           " < 0.5", timeout=30_000)

    # The coach pauses the player at 0:31.3 (not an event): a new note goes to that moment.
    page.evaluate("() => { const v = document.querySelector('video'); v.pause(); "
                  "v.currentTime = 31.3; }")
    playwright_api.expect(note_time_field(page)).to_have_value("31.3", timeout=30_000)
    assert page.get_by_text("Position 0:31").is_visible()
    page.get_by_label("Note").fill("paused here")
    page.get_by_role("button", name="Add note").click()
    page.locator("[data-testid=stMarkdownContainer]", has_text="paused here").wait_for(
        timeout=30_000)
    assert [(n.t_s, n.text) for n in lib.notes(sid)] == [(31.3, "paused here")]
    # While it plays, the button takes the player's time.
    page.evaluate("() => { const v = document.querySelector('video'); v.currentTime = 50.0; "
                  "v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video').currentTime > 51.0",
                           timeout=30_000)
    page.get_by_role("button", name="Use the player's time").click()
    clicked_s = video_time_s(page)
    page.wait_for_function("() => +document.querySelector('input[aria-label=\"At (s)\"]').value"
                           " > 51.0", timeout=30_000)
    # the player keeps running while the page answers (seconds on a loaded machine): the note
    # time lies between the click and now, not after the video's end or before the click
    now_s = video_time_s(page)
    assert clicked_s - 1.0 <= float(note_time_field(page).input_value()) <= now_s + 0.5
    page.screenshot(path=ARTIFACTS / "e2e_note_at_player_time.png", full_page=True)


def test_upload_the_sample_call_and_review_it(app_server, page):
    if not SAMPLE_CALL or not os.path.isfile(SAMPLE_CALL):
        pytest.skip(f"{SAMPLE_CALL} not built yet")
    url, home = app_server
    page.goto(url)
    page.wait_for_selector("text=No sessions yet", timeout=30_000)
    page.screenshot(path=ARTIFACTS / "e2e_welcome.png", full_page=True)

    page.locator("input[type='file']").nth(0).set_input_files(SAMPLE_CALL)
    page.locator("input[type='file']").nth(1).set_input_files(SAMPLE_TRANSCRIPT)
    page.get_by_label("Title").fill("Sample call (e2e)")
    page.get_by_label("Participants (reading order)").fill("Agent, Customer")
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.wait_for_selector("[data-testid='stProgress']", timeout=30_000)
    page.screenshot(path=ARTIFACTS / "e2e_analysing.png", full_page=True)

    page.wait_for_selector("video", timeout=ANALYSIS_TIMEOUT_S * 1000)
    page.wait_for_selector(".cuekit-timeline [data-lane='who-speaks']", timeout=30_000)
    page.wait_for_function("() => document.querySelector('video').readyState >= 1",
                           timeout=30_000)
    assert page.get_by_role("heading", name="Sample call (e2e)").is_visible()
    [info] = store.Library(home).sessions()
    assert info.status == "done" and info.participants == ["Agent", "Customer"]
    assert info.transcript_path.read_bytes() == Path(SAMPLE_TRANSCRIPT).read_bytes()
    page.screenshot(path=ARTIFACTS / "e2e_sample_session.png", full_page=True)
    hide_streamlit_header(page)
    timeline = page.locator(".cuekit-timeline")
    timeline.screenshot(path=ARTIFACTS / "e2e_sample_timeline.png")
    assert timeline.locator("[data-lane='transcript']").count() == 1
    lines = read_transcript(SAMPLE_TRANSCRIPT)
    assert page.get_by_text(f"Transcript ({len(lines)} lines)").is_visible()  # clickable lines
    assert page.get_by_text("Thank you for calling Northwind support").count()

    events = charts.events_table(store.Library(home).load_cueset(info.id))
    later = events.index[events["start_s"] > 2.0]
    assert len(later), "the sample call has no event after 0:02"
    row, target_s = int(later[0]), float(events.loc[later[0], "start_s"])
    click_event(page, row)
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('video').currentTime - {target_s}) < 1.0",
        timeout=30_000)
    page.screenshot(path=ARTIFACTS / "e2e_sample_after_event_click.png", full_page=True)
