"""Team mode in the dashboard (Streamlit AppTest): the sign-in page, what each role sees, and
refusals of crafted URLs. The library-level refusals are in test_auth.py."""

import pytest
from streamlit.testing.v1 import AppTest
from test_app import APP, by_label
from test_auth import PASSWORD, Team, cheap_hashing  # noqa: F401 (an autouse fixture)

from cuekit import auth, store


@pytest.fixture
def team(tmp_path, monkeypatch):
    monkeypatch.setenv(store.HOME_ENV, str(tmp_path / "home"))
    return Team(tmp_path / "home")


def run_as(user: auth.User | None, query: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.session_state["user_id"] = user.id
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page:
        at.session_state["page"] = page
    return at.run()


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    by_label(at.text_input, "Name").input(name)
    by_label(at.text_input, "Password").input(password)
    return by_label(at.button, "Sign in").click().run()


def test_team_mode_shows_only_the_sign_in_page(team):
    at = run_as(None, {"session": team.ann_sid})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.get("video") and not at.get("download_button")
    assert not at.sidebar.get("file_uploader")


def test_wrong_password_is_refused_then_the_right_one_opens_the_library(team):
    at = sign_in(run_as(None), "Ann", "not my password")
    assert "wrong name or password" in at.error[0].value
    assert "user_id" not in at.session_state
    at = sign_in(at, "Ann", PASSWORD)
    assert not at.exception
    assert at.session_state["user_id"] == team.ann.id
    assert "Signed in as **Ann** (agent)" in at.sidebar.markdown[0].value
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Ann's call"] and "owner" not in table


def test_an_agent_cannot_open_or_export_another_agents_session_by_url(team):
    at = run_as(team.ann, {"session": team.bob_sid})
    assert not at.exception
    assert "not in your library" in at.error[0].value
    assert not at.get("video") and not at.get("download_button") and not at.get("plotly_chart")
    at = run_as(team.ann, {"session": team.ann_sid})
    assert at.header[0].value == "Ann's call" and len(at.get("download_button")) == 7


def test_an_agent_compares_only_their_own_calls(team):
    at = run_as(team.ann, page="Compare")
    assert by_label(at.selectbox, "Participant").options == ["Ann", "Customer A"]


def test_a_coach_sees_their_agents_with_the_owner_and_cannot_delete(team):
    at = run_as(team.coach)
    table = at.dataframe[0].value
    assert list(table["title"]) == ["Ann's call"] and list(table["owner"]) == ["Ann"]
    at = run_as(team.coach, {"session": team.bob_sid})
    assert "not in your library" in at.error[0].value


def test_only_an_admin_gets_the_accounts_page(team):
    at = run_as(team.ann, page="Accounts")  # a crafted page state falls back to the library
    assert at.session_state["page"] == "Library"
    assert "Accounts" not in at.sidebar.radio[0].options
    at = run_as(team.coach, page="Accounts")
    assert at.session_state["page"] == "Library"
    at = run_as(team.admin, page="Accounts")
    assert not at.exception
    accounts = at.dataframe[0].value
    assert list(accounts["name"]) == ["Ada", "Ann", "Bob", "Cleo"]
    assert accounts.set_index("name").loc["Cleo", "agents coached"] == "Ann"


def test_the_admin_adds_an_account_and_assigns_it(team):
    at = run_as(team.admin, page="Accounts")
    by_label(at.text_input, "Name").input("Dan")
    by_label(at.text_input, f"Password (at least {auth.MIN_PASSWORD_CHARS} characters)").input(
        "a long enough secret")
    at = by_label(at.button, "Add account").click().run()
    assert not at.exception and not at.error
    assert "Added Dan (agent)." in at.success[0].value
    by_label(at.multiselect, "Agents coached by Cleo").select("Dan")
    at = at.button(key="save_agents_Cleo").click().run()
    assert team.lib.agents_of("Cleo") == ["Ann", "Dan"]
    assert team.lib.sign_in("Dan", "a long enough secret").role == auth.AGENT


def test_signing_out_forgets_the_account_and_the_open_session(team):
    at = run_as(team.ann, {"session": team.ann_sid})
    at = by_label(at.sidebar.button, "Sign out").click().run()
    assert "user_id" not in at.session_state
    assert [b.label for b in at.button] == ["Sign in"]
    assert "session" not in at.query_params


def test_the_team_page_is_for_coaches_and_admins_and_opens_a_person_page(team):
    at = run_as(team.ann, page="Team")
    assert at.session_state["page"] == "Library" and "Team" not in at.sidebar.radio[0].options
    at = run_as(team.coach, page="Team")
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["agent"]) == ["Ann"] and "coach" not in table
    assert table.loc[0, "Talk share (%)"] == pytest.approx(55.0)
    at = run_as(team.admin, page="Team")
    table = at.dataframe[0].value
    assert list(zip(table["coach"], table["agent"], strict=True)) == [("(no coach)", "Bob"),
                                                                      ("Cleo", "Ann")]


def test_outcomes_an_agent_reads_a_coach_imports(team):
    team.lib.set_outcome(team.ann_sid, "satisfaction", 4, user=team.coach)
    at = run_as(team.ann, page="Outcomes")
    assert not at.exception and not at.main.get("file_uploader")  # no import for agents
    assert "too few sessions to say" in at.warning[0].value
    at = run_as(team.ann, {"session": team.ann_sid})
    assert "satisfaction: 4" in [c.value for c in at.caption]
    assert "Save the outcomes" not in [b.label for b in at.button]
    at = run_as(team.coach, page="Outcomes")
    assert not at.exception and at.main.get("file_uploader")
    at = run_as(team.coach, {"session": team.ann_sid})
    assert not at.exception and "Save the outcomes" in [b.label for b in at.button]
