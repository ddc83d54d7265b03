"""The library page's buttons clicked in headless Chromium, as an agent and as her coach: Retry,
Rename and Delete change the database and the page; what the rules (cuekit.store.access) refuse
is disabled or absent; the stills and exports of a session reach only its viewers. Buttons are
found by their keys (``.st-key-<key>``). Screenshots in ``test-artifacts/``."""

from datetime import date

from mediagen import write_media
from test_auth import Team
from test_e2e import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROW_PX, app_server,  # noqa: F401
                      playwright_api)
from test_e2e_team_outcomes import _open_as
from test_e2e_teams import sign_in
from test_store import make_cueset

WAIT_MS = 60_000
TILES = {"Ann": [0, 0, 160, 240], "Customer A": [160, 0, 160, 240]}


def _setup(home, tmp_path):
    """Test_auth's team, and for Ann also a failed analysis and a two-tile video call; Ann's
    library lists (newest recording first) her first call, the failed one, the video call."""
    team = Team(home)
    lib = team.lib
    media = lib.session(team.ann_sid, user=team.ann).media_path
    team.failed_sid = lib.add_session(media, title="Ann's failed call", media_name="f.mp4",
                                      user=team.ann, recorded_on=date(2026, 3, 3))
    assert lib.claim_next().id == team.failed_sid
    lib.fail(team.failed_sid, "the worker stopped")
    video = write_media(str(tmp_path / "tiles.mp4"), seconds=30, fps=5, size=(320, 240))
    cs = make_cueset(30, names=("Ann", "Customer A"))  # a coaching moment at 0:25
    cs.session["layout"] = {"participants": [{"name": n, "box": b} for n, b in TILES.items()]}
    team.video_sid = lib.add_session(video, title="Ann's video call", media_name="tiles.mp4",
                                     user=team.ann, recorded_on=date(2026, 3, 2), analysed=cs)
    lib.add_note(team.video_sid, 3.0, "coach's note", "Ann", user=team.coach)
    return team


def _pick_row(pg, row: int) -> None:
    """Tick a row of the library's grid (a canvas: its row-marker column, below the header)."""
    grid = pg.locator(".st-key-library_table [data-testid='stDataFrame']")
    grid.wait_for(timeout=WAIT_MS)
    box = grid.bounding_box()
    pg.mouse.click(box["x"] + 18, box["y"] + ROW_PX * (row + 1.5))


def _key(pg, key: str, what: str = "button"):
    return pg.locator(f".st-key-{key} {what}")


def test_an_agent_retries_renames_and_deletes_her_calls(app_server, tmp_path):  # noqa: F811
    url, home = app_server
    team = _setup(home, tmp_path)
    lib = team.lib
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _, ann = _open_as(browser, url, "Ann")
        radio = ann.locator("[data-testid='stSidebar'] [role='radiogroup']")
        radio.wait_for(timeout=WAIT_MS)
        assert "Team" not in radio.inner_text() and "Accounts" not in radio.inner_text()

        # Retry: the failed analysis is queued again (and fails again on its fake file).
        _pick_row(ann, 1)
        retry = _key(ann, f"retry_{team.failed_sid}")
        retry.wait_for(timeout=WAIT_MS)
        assert retry.is_enabled()
        ann.screenshot(path=ARTIFACTS / "e2e_library_agent_failed.png", full_page=True)
        retry.click()
        deadline_ms = WAIT_MS
        while lib.session(team.failed_sid, user=team.ann).error == "the worker stopped" and deadline_ms > 0:
            ann.wait_for_timeout(500)  # requeued clears the error; the new failure says why
            deadline_ms -= 500
        assert lib.session(team.failed_sid, user=team.ann).error != "the worker stopped"

        # Rename the first call: the database and the title field on the page.
        _pick_row(ann, 0)
        title = _key(ann, f"title_{team.ann_sid}", "input")
        title.wait_for(timeout=WAIT_MS)
        assert not _key(ann, f"retry_{team.ann_sid}").count()  # done: nothing to retry
        title.fill("Ann's renamed call")
        title.press("Enter")
        _key(ann, f"rename_{team.ann_sid}").click()
        deadline_ms = WAIT_MS
        while lib.session(team.ann_sid, user=team.ann).title != "Ann's renamed call" and deadline_ms > 0:
            ann.wait_for_timeout(500)
            deadline_ms -= 500
        assert lib.session(team.ann_sid, user=team.ann).title == "Ann's renamed call"
        playwright_api.expect(_key(ann, f"title_{team.ann_sid}", "input")).to_have_value(
            "Ann's renamed call", timeout=WAIT_MS)
        ann.screenshot(path=ARTIFACTS / "e2e_library_agent_renamed.png", full_page=True)

        # Delete needs the box ticked first.
        delete = _key(ann, f"delete_{team.ann_sid}")
        assert delete.is_disabled()
        _key(ann, f"sure_{team.ann_sid}", "label").click()
        playwright_api.expect(delete).to_be_enabled(timeout=WAIT_MS)
        delete.click()
        playwright_api.expect(_key(ann, f"title_{team.ann_sid}", "input")).to_have_count(
            0, timeout=WAIT_MS)
        assert team.ann_sid not in {s.id for s in lib.sessions(user=team.admin)}
        assert not (lib.sessions_dir / team.ann_sid).exists()
        ann.screenshot(path=ARTIFACTS / "e2e_library_agent_deleted.png", full_page=True)
        browser.close()


def test_a_coach_cannot_change_an_agents_call_and_its_stills_and_exports_are_guarded(
        app_server, tmp_path):  # noqa: F811
    url, home = app_server
    team = _setup(home, tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        cleo_ctx, cleo = _open_as(browser, url, "Cleo")
        _pick_row(cleo, 2)  # Ann's calls: her first, the failed one, the video call
        rename = _key(cleo, f"rename_{team.video_sid}")
        rename.wait_for(timeout=WAIT_MS)
        assert rename.is_disabled()  # a coach reviews an agent's call, does not change it
        assert _key(cleo, f"title_{team.video_sid}", "input").is_disabled()
        assert _key(cleo, f"sure_{team.video_sid}", "input").is_disabled()
        assert _key(cleo, f"delete_{team.video_sid}").is_disabled()
        cleo.screenshot(path=ARTIFACTS / "e2e_library_coach_disabled.png", full_page=True)
        _pick_row(cleo, 1)
        retry = _key(cleo, f"retry_{team.failed_sid}")
        retry.wait_for(timeout=WAIT_MS)
        assert retry.is_disabled()

        # The session page: the moment's stills come from the guarded route.
        cleo.goto(f"{url}/?session={team.video_sid}")
        sign_in(cleo, "Cleo")
        still = cleo.locator(".st-key-moment_card_0 img").first
        still.wait_for(timeout=WAIT_MS)
        cleo.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=still.element_handle(), timeout=WAIT_MS)
        assert still.evaluate("img => img.naturalWidth") == 200
        src = still.get_attribute("src")
        assert "/cuekit/still/" in src and cleo_ctx.request.get(src).status == 200
        cleo.locator(".st-key-moment_card_0").screenshot(path=ARTIFACTS / "e2e_moment_stills.png")
        cleo.get_by_role("tab", name="Exports").click()
        report = cleo.get_by_role("link", name="Report (HTML)")
        report.wait_for(timeout=WAIT_MS)
        href = report.get_attribute("href")
        got = cleo_ctx.request.get(href)
        assert "/cuekit/export/" in href and got.status == 200
        assert b"coach's note" in got.body()
        cleo.screenshot(path=ARTIFACTS / "e2e_session_guarded_stills.png", full_page=True)

        bob_ctx, bob = _open_as(browser, url, "Bob")  # another signed-in agent
        for link in (src, href):
            refused = bob_ctx.request.get(link)
            assert refused.status == 403 and b"coach's note" not in refused.body()
            assert browser.new_context().request.get(link).status == 403  # never signed in
        bob.goto(src)
        bob.screenshot(path=ARTIFACTS / "e2e_guard_still_other_agent.png")
        assert "not yours" in bob.content()

        # As Ann: the coach's note has no delete button for her; outcomes are read only.
        _, ann = _open_as(browser, url, "Ann", team.video_sid)
        ann.locator("[data-testid=stMarkdownContainer]", has_text="coach's note").first.wait_for(
            timeout=WAIT_MS)
        [note] = team.lib.notes(team.video_sid, user=team.ann)
        assert not ann.locator(f".st-key-note_{note.id}").count()
        ann.get_by_text("None recorded.").wait_for(state="attached", timeout=WAIT_MS)  # a tab
        assert not ann.get_by_role("button", name="Save the outcomes").count()
        ann.screenshot(path=ARTIFACTS / "e2e_session_agent_read_only.png", full_page=True)
        browser.close()
