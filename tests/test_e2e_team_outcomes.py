"""Team mode's new pages end to end in headless Chromium: the guarded recordings (two signed-in
browsers), a coach's team page → an agent's person page, importing outcomes → the relation
chart. Screenshots in ``test-artifacts/``."""

import copy
import time
from datetime import date, timedelta

from test_auth import PASSWORD, Team
from test_e2e import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROW_PX, app_server,  # noqa: F401
                      hide_streamlit_header, page, playwright_api)
from test_e2e_teams import sign_in
from test_store import MP4_HEAD, make_cueset

from cuekit import auth, store

WAIT_MS = 60_000
AGENTS, SESSIONS = 10, 5


def _open_as(browser, url: str, name: str, session_id: str | None = None):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(f"{url}/?session={session_id}" if session_id else url)
    sign_in(pg, name)
    pg.wait_for_selector("text=Signed in as", timeout=WAIT_MS)
    return context, pg


def test_agent_b_gets_neither_agent_as_page_nor_its_recording(app_server):  # noqa: F811
    url, home = app_server
    team = Team(home)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        ann_ctx, ann = _open_as(browser, url, "Ann", team.ann_sid)
        ann.wait_for_selector("video", timeout=WAIT_MS)
        src = ann.locator("video").get_attribute("src")
        assert "/cuekit/media/" in src and "/media/" not in src.split("/cuekit", 1)[0]
        got = ann_ctx.request.get(src)
        assert got.status == 200 and got.body().startswith(MP4_HEAD)
        ranged = ann_ctx.request.get(src, headers={"Range": "bytes=4-7"})
        assert ranged.status == 206 and ranged.body() == b"ftyp"  # the player can seek
        ann.screenshot(path=ARTIFACTS / "e2e_guard_agent_a.png")

        bob_ctx, bob = _open_as(browser, url, "Bob", team.ann_sid)
        bob.wait_for_selector("text=is not in your library", timeout=WAIT_MS)
        assert not bob.locator("video").count()
        bob.screenshot(path=ARTIFACTS / "e2e_guard_agent_b_page.png")
        refused = bob_ctx.request.get(src)  # Ann's link, pasted into Bob's signed-in browser
        assert refused.status == 403 and b"not yours" in refused.body()
        bob.goto(src)
        bob.screenshot(path=ARTIFACTS / "e2e_guard_agent_b_media_url.png")
        assert "not yours" in bob.content()
        stranger = browser.new_context()  # a browser that never signed in
        assert stranger.request.get(src).status == 403
        bob.goto(f"{url}/?session={team.bob_sid}")  # Bob's own call plays
        sign_in(bob, "Bob")
        bob.wait_for_selector("video", timeout=WAIT_MS)
        assert bob_ctx.request.get(bob.locator("video").get_attribute("src")).status == 200
        browser.close()


def _big_team(home):
    """An admin, coach Cleo with 10 agents of 5 sessions each (the agent improving)."""
    lib = store.Library(home)
    admin = lib.add_user("Ada", auth.ADMIN, PASSWORD)
    lib.add_user("Cleo", auth.COACH, PASSWORD, by=admin)
    media = home.parent / "call.mp4"
    media.write_bytes(MP4_HEAD + bytes(1000))
    base = make_cueset(60, names=("Agent", "Customer"))
    agents, sids = [f"Agent{i:02d}" for i in range(AGENTS)], []
    for i, name in enumerate(agents):
        user = lib.add_user(name, auth.AGENT, PASSWORD, by=admin)
        for k in range(SESSIONS):
            cs = copy.deepcopy(base)
            cs.summary["participants"]["Agent"].update(
                talk_share=0.75 - 0.05 * k - 0.01 * i, eye_contact_listening=0.5 + 0.05 * k,
                interruptions_made=max(0, 3 - k), response_latency_s=0.3 + 0.05 * i)
            sids.append(lib.add_session(media, title=f"{name} call {k + 1}",
                                        media_name="call.mp4", user=user, analysed=cs,
                                        recorded_on=date(2026, 1, 5) + timedelta(days=7 * k)))
    lib.set_agents("Cleo", agents, by=admin)
    return lib, agents, sids


def test_team_page_person_page_outcomes_and_the_relation(app_server, page):  # noqa: F811
    url, home = app_server
    lib, agents, sids = _big_team(home)
    page.goto(url)
    sign_in(page, "Cleo")
    page.wait_for_selector("text=Signed in as", timeout=WAIT_MS)
    started = time.monotonic()
    page.get_by_text("Team", exact=True).click()
    grid = page.locator(".st-key-team_table [data-testid='stDataFrame']")
    grid.wait_for(timeout=WAIT_MS)
    page.get_by_text("Ready in").wait_for(timeout=WAIT_MS)
    open_s = time.monotonic() - started
    print(f"team page ({AGENTS} agents x {SESSIONS} sessions) ready in {open_s:.2f} s; "
          + page.get_by_text("Ready in").inner_text().split("Ready in")[-1].strip())
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_team_page.png", full_page=True)
    assert page.get_by_text("Your team").is_visible()

    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + ROW_PX * (3 + 1.5))  # Agent03
    page.get_by_role("button", name="Open Agent03's person page").click()
    trend = page.locator(".st-key-person_trend .js-plotly-plot")
    trend.wait_for(timeout=WAIT_MS)
    assert trend.locator(".annotation-text", has_text="Talk share").count() == 1
    points = trend.locator(".scatterlayer .trace").first.locator(".points path")
    assert points.count() == SESSIONS  # Agent03's own five sessions only
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_team_person_page.png", full_page=True)

    # outcomes: import a CSV with an unknown session, then the rest; the relation chart
    rows = [f"{sid},{3 + (i % 5) * 0.5},{'yes' if i % 3 else 'no'}"
            for i, sid in enumerate(sids[:24])]
    csv = "session,satisfaction,resolved\n" + "\n".join(rows) + "\nNo such call,4,yes\n"
    path = home.parent / "outcomes.csv"
    path.write_text(csv)
    page.get_by_text("Outcomes", exact=True).click()
    page.get_by_text("Import outcomes from CSV").click()
    page.locator(".st-key-outcomes_csv input[type='file'], "
                 "[data-testid='stFileUploader'] input[type='file']").last.set_input_files(path)
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("row 26: no session 'No such call' in your library").wait_for(
        timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "e2e_outcomes_refused.png", full_page=True)
    assert lib.outcome_table(user=lib.user_named("Cleo")).empty
    page.get_by_text("Import the rest when a row names no session").click()
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Imported 48 value(s) for 24 session(s).").wait_for(timeout=WAIT_MS)
    chart = page.locator(".st-key-relation_chart .js-plotly-plot")
    chart.wait_for(timeout=WAIT_MS)
    assert chart.locator(".gtitle", has_text="n = 24 sessions").count() == 1
    assert chart.locator(".scatterlayer .trace").first.locator(".points path").count() == 24
    hide_streamlit_header(page)
    page.screenshot(path=ARTIFACTS / "e2e_outcomes_relation.png", full_page=True)
    chart.screenshot(path=ARTIFACTS / "e2e_relation_chart.png")
