"""Team mode end to end in headless Chromium: the sign-in page, an agent's library, and a crafted
URL to another agent's session. Screenshots in ``test-artifacts/``."""

from test_auth import PASSWORD, Team
from test_e2e import ARTIFACTS, app_server, page  # noqa: F401 (fixtures)

APP_WAIT_MS = 30_000


def sign_in(pg, name: str) -> None:
    pg.wait_for_selector("text=Sign in to see your calls", timeout=APP_WAIT_MS)
    pg.get_by_label("Name", exact=True).fill(name)
    pg.get_by_label("Password", exact=True).fill(PASSWORD)
    pg.get_by_role("button", name="Sign in").click()


def test_an_agent_signs_in_and_sees_only_their_calls(app_server, page):  # noqa: F811
    url, home = app_server
    team = Team(home)

    page.goto(f"{url}/?session={team.bob_sid}")  # a link to Bob's call, opened by Ann
    page.wait_for_selector("text=Sign in to see your calls", timeout=APP_WAIT_MS)
    assert not page.get_by_text("Bob's call").count()
    page.screenshot(path=ARTIFACTS / "e2e_sign_in.png", full_page=True)
    sign_in(page, "Ann")
    page.wait_for_selector("text=is not in your library", timeout=APP_WAIT_MS)
    assert not page.locator("video").count()
    assert not page.get_by_text("Report (HTML)").count()  # a link under cuekit serve
    page.screenshot(path=ARTIFACTS / "e2e_agent_refused.png", full_page=True)

    page.goto(url)  # a new page load is a new browser session: sign in again
    sign_in(page, "Ann")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=APP_WAIT_MS)
    page.wait_for_selector("text=Signed in as", timeout=APP_WAIT_MS)
    page.screenshot(path=ARTIFACTS / "e2e_agent_library.png", full_page=True)
    assert page.get_by_text("Ann (agent)").count()
