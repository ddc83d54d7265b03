"""The team page's data, outcomes and the guarded recordings, at the library layer (cuekit.store,
cuekit.outcomes, cuekit.targets): every rule checked as a direct call would reach it."""

import math
import time

import pytest
from test_auth import Team, cheap_hashing  # noqa: F401 (an autouse fixture)
from test_store import make_cueset

from cuekit import outcomes, store, targets
from cuekit.auth import AccessDenied
from cuekit.errors import InputError


@pytest.fixture
def team(tmp_path):
    return Team(tmp_path / "home")


# -- the team page ------------------------------------------------------------------------------

def test_a_coach_gets_their_agents_an_admin_every_agent_by_coach(team):
    assert team.lib.team(user=team.coach) == [store.TeamMember("Ann", ("Cleo",))]
    assert team.lib.team(user=team.admin) == [store.TeamMember("Ann", ("Cleo",)),
                                              store.TeamMember("Bob", ())]
    rows = team.lib.team_metric_table(user=team.coach)
    assert set(rows["owner"]) == {"Ann"} and set(rows["participant"]) == {"Ann"}
    rows = team.lib.team_metric_table(user=team.admin)
    assert set(rows["participant"]) == {"Ann", "Bob"}  # the agents, not their customers


def test_an_agent_cannot_get_the_team_nor_another_agents_data_through_the_library(team):
    with pytest.raises(AccessDenied, match="only coaches and admins"):
        team.lib.team(user=team.ann)
    with pytest.raises(AccessDenied, match="only coaches and admins"):
        team.lib.team_metric_table(user=team.ann)
    assert set(team.lib.metric_table(user=team.ann)["session_id"]) == {team.ann_sid}
    assert team.lib.outcome_table(user=team.ann).empty
    team.lib.set_outcome(team.bob_sid, "satisfaction", 2, user=team.admin)
    assert team.lib.outcome_table(user=team.ann).empty  # Bob's outcome stays Bob's
    with pytest.raises(AccessDenied, match="not in your library"):
        team.lib.outcomes(team.bob_sid, user=team.ann)
    with pytest.raises(AccessDenied):
        team.lib.team(user=None)


def test_the_team_page_needs_team_mode(library):
    with pytest.raises(InputError, match="team mode"):
        library.team()


def test_the_agents_participant_is_named_like_the_account_else_first_in_order():
    import pandas as pd
    rows = pd.DataFrame({"session_id": ["a", "a", "b", "b"], "owner": ["Ann"] * 4,
                         "participant": ["Customer", "ann", "Agent", "Customer"],
                         "slot": [0, 1, 0, 1]})
    assert list(store.agent_rows(rows)["participant"]) == ["ann", "Agent"]


def test_team_summary_latest_values_and_the_trend_against_earlier_sessions():
    import pandas as pd
    table = pd.DataFrame({
        "session_id": ["s1", "s2", "s3", "s1", "s2", "s3"],
        "title": ["one", "two", "three"] * 2,
        "recorded_on": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"] * 2),
        "owner": ["Ann"] * 6, "participant": ["Ann"] * 6, "slot": [0] * 6,
        "indicator": ["talk_share"] * 3 + ["eye_contact_listening"] * 3,
        "value": [80.0, 70.0, 50.0, 70.0, 72.0, 50.0]})
    summary = targets.team_summary(table, ["Ann", "Zed"]).set_index("agent")
    ann = summary.loc["Ann"]
    assert ann["sessions"] == 3 and ann["latest_title"] == "three"
    assert ann["talk_share"] == 50.0
    assert ann["talk_share:trend"] == "down" and ann["talk_share:better"] is True  # into 35–55
    assert ann["eye_contact_listening:trend"] == "down"
    assert ann["eye_contact_listening:better"] is False  # at least 60 %: lower is worse
    assert summary.loc["Zed", "sessions"] == 0


# -- outcomes -----------------------------------------------------------------------------------

def test_outcomes_csv_numbers_and_yes_no():
    column, rows = outcomes.parse_csv(b"\xef\xbb\xbfSession,satisfaction,resolved,complaint\n"
                                      b"abc123,4.5,yes,no\n\nRenewal call,,TRUE,0\n")
    assert column == "Session"
    assert rows == [outcomes.OutcomeRow(2, "abc123", {"satisfaction": 4.5, "resolved": 1.0,
                                                      "complaint": 0.0}),
                    outcomes.OutcomeRow(4, "Renewal call", {"resolved": 1.0, "complaint": 0.0})]
    _, rows = outcomes.parse_csv("title;satisfaction\nA call;3\n")  # a semicolon export
    assert rows[0].values == {"satisfaction": 3.0}


def test_bad_rows_are_refused_whole_with_one_line_each():
    data = ("session,satisfaction,resolved\n"
            "a,4,yes\n"
            "b,great,yes\n"
            "c,3\n"
            "a,5,no\n"
            ",4,no\n"
            "d,nan,maybe\n")
    with pytest.raises(InputError) as refused:
        outcomes.parse_csv(data)
    lines = str(refused.value).splitlines()
    assert lines == ["the outcomes file has problems:",
                     "row 3: satisfaction is 'great', not a number or yes/no",
                     "row 4: 2 cells, the header has 3",
                     "row 5: 'a' is already on row 2",
                     "row 6: no session",
                     "row 7: satisfaction is 'nan', not a number or yes/no",
                     "row 7: resolved is 'maybe', not a number or yes/no"]


@pytest.mark.parametrize("data, message", [
    ("", "empty"),
    ("satisfaction,resolved\n4,yes\n", "one column naming the session"),
    ("session,title,x\na,b,1\n", "one column naming the session"),
    ("session\na\n", "no outcome columns"),
    ("session,x,X\na,1,2\n", "same name"),
])
def test_a_file_without_a_usable_header_says_what_it_needs(data, message):
    with pytest.raises(InputError, match=message):
        outcomes.parse_csv(data)


def test_import_finds_sessions_by_id_or_title_and_reports_unknown_ones(team):
    lib = team.lib
    data = (f"session,satisfaction,resolved\n{team.ann_sid},4.5,yes\nBob's call,2,no\n"
            "Nobody's call,5,yes\n")
    with pytest.raises(InputError) as refused:
        lib.import_outcomes(data, user=team.admin)
    assert str(refused.value).splitlines()[1:] == [
        'row 4: no session "Nobody\'s call" in your library']
    assert lib.outcome_table(user=team.admin).empty  # nothing half-imported
    done = lib.import_outcomes(data, user=team.admin, skip_unknown=True)
    assert (done.sessions, done.values) == (2, 4)
    assert done.skipped == ['row 4: no session "Nobody\'s call" in your library']
    assert lib.outcomes(team.ann_sid, user=team.ann) == {"resolved": 1.0, "satisfaction": 4.5}
    assert lib.outcomes(team.bob_sid, user=team.bob) == {"resolved": 0.0, "satisfaction": 2.0}


def test_a_coach_imports_only_for_their_agents_and_agents_not_at_all(team):
    data = "session,satisfaction\nAnn's call,4\nBob's call,1\n"
    with pytest.raises(InputError, match="row 3: no session \"Bob's call\""):
        team.lib.import_outcomes(data, user=team.coach)  # Bob is not Cleo's: unknown to her
    done = team.lib.import_outcomes(data, user=team.coach, skip_unknown=True)
    assert done.sessions == 1
    for call in (lambda: team.lib.import_outcomes(data, user=team.ann),
                 lambda: team.lib.set_outcome(team.ann_sid, "satisfaction", 5, user=team.ann)):
        with pytest.raises(AccessDenied, match="coach or an admin"):
            call()
    with pytest.raises(AccessDenied, match="not in your library"):
        team.lib.set_outcome(team.bob_sid, "satisfaction", 5, user=team.coach)
    assert team.lib.outcomes(team.ann_sid, user=team.ann) == {"satisfaction": 4.0}


def test_an_outcome_is_entered_edited_and_removed_on_the_session(library, tmp_path):
    from conftest import MP4_HEAD
    media = tmp_path / "c.mp4"
    media.write_bytes(MP4_HEAD + bytes(100))
    sid = library.add_session(media, title="t", media_name="c.mp4", analysed=make_cueset(10))
    library.set_outcome(sid, " satisfaction ", 3)
    library.set_outcome(sid, "satisfaction", 4)
    library.set_outcome(sid, "resolved", True)
    assert library.outcomes(sid) == {"resolved": 1.0, "satisfaction": 4.0}
    library.set_outcome(sid, "resolved", None)
    assert library.outcomes(sid) == {"satisfaction": 4.0}
    with pytest.raises(InputError, match="finite"):
        library.set_outcome(sid, "satisfaction", math.inf)
    with pytest.raises(InputError, match="needs a name"):
        library.set_outcome(sid, "  ", 1)
    library.delete(sid)
    assert library.outcome_table().empty


def test_relation_least_squares_correlation_and_the_caution():
    rel = outcomes.relation([1, 2, 3, 4], [2, 4, 6, 8.5])
    assert rel.n == 4 and rel.too_few and "too few sessions to say" in rel.caution()
    assert rel.slope == pytest.approx(2.15) and rel.r == pytest.approx(0.998, abs=1e-3)
    rel = outcomes.relation(range(12), [v % 2 for v in range(12)])
    assert not rel.too_few and rel.n == 12 and "correlation" in rel.caution()
    assert outcomes.relation([1, float("nan")], [1, 2]).slope is None  # one pair left
    assert outcomes.relation([3, 3, 3], [1, 2, 3]).r is None  # no spread in x


# -- the recordings over HTTP -------------------------------------------------------------------

def test_a_media_token_works_for_its_browser_and_account_only(team):
    lib = team.lib
    token = lib.media_token(team.ann_sid, "browser-A", user=team.ann)
    assert lib.media_file(team.ann_sid, token, "browser-A").name.startswith("media")
    with pytest.raises(AccessDenied, match="not yours"):
        lib.media_file(team.ann_sid, token, "browser-B")  # the link copied to another browser
    with pytest.raises(AccessDenied, match="not yours"):
        lib.media_file(team.bob_sid, token, "browser-A")  # the token on another session
    user_id, expires, signature = token.split(".")
    with pytest.raises(AccessDenied, match="not yours"):
        lib.media_file(team.ann_sid, f"{team.bob.id}.{expires}.{signature}", "browser-A")
    with pytest.raises(AccessDenied, match="not in your library"):
        lib.media_token(team.ann_sid, "browser-B", user=team.bob)
    with pytest.raises(AccessDenied):
        lib.media_file(team.ann_sid, "garbage", "browser-A")


def test_a_media_token_expires_and_follows_the_accounts_rights(team):
    lib = team.lib
    old = lib.media_token(team.ann_sid, "b", user=team.ann, ttl_s=-1)
    with pytest.raises(AccessDenied, match="expired"):
        lib.media_file(team.ann_sid, old, "b")
    token = lib.media_token(team.ann_sid, "b", user=team.coach)
    assert lib.media_file(team.ann_sid, token, "b")
    lib.set_agents("Cleo", [], by=team.admin)  # Ann is no longer Cleo's
    with pytest.raises(AccessDenied, match="not in your library"):
        lib.media_file(team.ann_sid, token, "b")
    assert time.time() < int(token.split(".")[1])  # refused although unexpired
