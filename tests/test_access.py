"""Who may do what (cuekit.store.access): every rule as a table over no team mode, an admin, a
coach and agents, each row with its one right answer; then the library and its SQL list of
sessions held to the same rules."""

from functools import partial

import pytest
from test_auth import Team, cheap_hashing  # noqa: F401 (fixture)
from test_store import make_cueset

from cuekit import auth
from cuekit.auth import AccessDenied, User
from cuekit.errors import InputError
from cuekit.store import access

NOBODY = None  # no team mode: one local user (or the operator's commands)
ADA = User(1, "Ada", auth.ADMIN)
CLEO = User(2, "Cleo", auth.COACH)  # coaches Ann
ANN = User(3, "Ann", auth.AGENT)
BOB = User(4, "Bob", auth.AGENT)
CLEO_COACHES = {ANN.id}


def _who(user):
    return "no team mode" if user is None else user.name


VIEW = [  # (acting, the session's owner, may view)
    (NOBODY, None, True), (NOBODY, ANN.id, True),
    (ADA, ANN.id, True), (ADA, BOB.id, True), (ADA, None, True),
    (CLEO, ANN.id, True), (CLEO, BOB.id, False), (CLEO, CLEO.id, True), (CLEO, None, False),
    (ANN, ANN.id, True), (ANN, BOB.id, False), (ANN, CLEO.id, False), (ANN, None, False),
    (BOB, ANN.id, False), (BOB, BOB.id, True),
]


@pytest.mark.parametrize(("user", "owner", "allowed"), VIEW,
                         ids=[f"{_who(u)}-owner{o}" for u, o, _ in VIEW])
def test_may_view_and_may_note(user, owner, allowed):
    assert access.may_view(user, owner, CLEO_COACHES if user is CLEO else ()) is allowed
    assert access.may_note(user, owner, CLEO_COACHES if user is CLEO else ()) is allowed


def test_coaching_someone_is_what_lets_a_coach_see_them():
    assert not access.may_view(CLEO, ANN.id, ())  # Cleo no longer coaches Ann
    assert not access.may_view(ANN, BOB.id, {BOB.id})  # an agent coaches no one


CHANGE = [  # (acting, owner, may rename / change)
    (NOBODY, None, True), (ADA, ANN.id, True), (ADA, None, True),
    (CLEO, ANN.id, False),  # reviews and annotates an agent's call, does not remove it
    (CLEO, CLEO.id, True), (ANN, ANN.id, True), (ANN, BOB.id, False), (BOB, ANN.id, False),
]


@pytest.mark.parametrize(("user", "owner", "allowed"), CHANGE,
                         ids=[f"{_who(u)}-owner{o}" for u, o, _ in CHANGE])
def test_may_change_and_may_rename(user, owner, allowed):
    assert access.may_change(user, owner) is allowed
    assert access.may_rename(user, owner) is allowed


RETRY = [  # (acting, owner, status, may retry)
    (NOBODY, None, "failed", True), (NOBODY, None, "done", False),
    (NOBODY, None, "running", False), (NOBODY, None, "queued", False),
    (ADA, BOB.id, "failed", True), (ADA, BOB.id, "done", False),
    (CLEO, ANN.id, "failed", False), (CLEO, CLEO.id, "failed", True),
    (ANN, ANN.id, "failed", True), (ANN, ANN.id, "done", False), (ANN, BOB.id, "failed", False),
]


@pytest.mark.parametrize(("user", "owner", "status", "allowed"), RETRY,
                         ids=[f"{_who(u)}-owner{o}-{s}" for u, o, s, _ in RETRY])
def test_may_retry(user, owner, status, allowed):
    assert access.may_retry(user, owner, status) is allowed


DELETE = [  # (acting, owner, status, may delete)
    (NOBODY, None, "done", True), (NOBODY, None, "failed", True), (NOBODY, None, "queued", True),
    (NOBODY, None, "running", False),  # wait for the analysis to finish or fail
    (ADA, BOB.id, "done", True), (ADA, BOB.id, "running", False),
    (CLEO, ANN.id, "done", False), (CLEO, CLEO.id, "failed", True),
    (ANN, ANN.id, "done", True), (ANN, ANN.id, "running", False), (ANN, BOB.id, "done", False),
]


@pytest.mark.parametrize(("user", "owner", "status", "allowed"), DELETE,
                         ids=[f"{_who(u)}-owner{o}-{s}" for u, o, s, _ in DELETE])
def test_may_delete(user, owner, status, allowed):
    assert access.may_delete(user, owner, status) is allowed


DELETE_NOTE = [  # (acting, the note's author, may delete it)
    (NOBODY, None, True), (ADA, CLEO.id, True), (CLEO, CLEO.id, True), (CLEO, ANN.id, False),
    (ANN, CLEO.id, False), (ANN, ANN.id, True), (BOB, None, False),
]


@pytest.mark.parametrize(("user", "author", "allowed"), DELETE_NOTE,
                         ids=[f"{_who(u)}-author{a}" for u, a, _ in DELETE_NOTE])
def test_may_delete_note(user, author, allowed):
    assert access.may_delete_note(user, author) is allowed


ROLE_RULES = {  # rule: answers for (no team mode, admin, coach, agent)
    access.may_record_outcomes: (True, True, True, False),
    access.may_see_team: (False, True, True, False),
    access.may_manage_accounts: (True, True, False, False),
}


@pytest.mark.parametrize("rule", ROLE_RULES, ids=lambda r: r.__name__)
def test_the_rules_that_follow_the_role(rule):
    assert tuple(rule(u) for u in (NOBODY, ADA, CLEO, ANN)) == ROLE_RULES[rule]


def test_pages_per_role():
    four = ("Library", "Session", "Compare", "Outcomes")
    assert access.pages(NOBODY) == four
    assert access.pages(ANN) == four
    assert access.pages(CLEO) == (*four, "Team")
    assert access.pages(ADA) == (*four, "Team", "Accounts")


# -- the library asks the same rules ------------------------------------------------------------

@pytest.fixture
def team(tmp_path):
    """Test_auth's team (Ada admin; Cleo coaches Ann; agents Ann and Bob with a call each) and a
    call of Cleo's own."""
    t = Team(tmp_path / "home")
    media = t.lib.session(t.ann_sid, user=t.ann).media_path
    t.cleo_sid = t.lib.add_session(media, title="Cleo's call", media_name="c.mp4", user=t.coach,
                                   analysed=make_cueset(10))
    return t


def _accounts(team):
    return {"Ada": team.admin, "Cleo": team.coach, "Ann": team.ann, "Bob": team.bob}


def test_the_listed_sessions_are_those_may_view_allows(team):
    """The SQL condition that lists sessions (access.visible_sql) says what may_view says."""
    lib = team.lib
    everything = lib.sessions(user=team.admin)
    assert len(everything) == 3
    coached = {team.coach.id: {team.ann.id}}
    for name, user in _accounts(team).items():
        expected = {s.id for s in everything
                    if access.may_view(user, s.owner_id, coached.get(user.id, ()))}
        assert {s.id for s in lib.sessions(user=user)} == expected, name
        assert expected  # everyone sees at least their own (the admin all)


def test_the_library_refuses_exactly_what_the_rules_refuse(team):
    """Rename and retry by every account on every session: refused (AccessDenied) if and only
    if the rule says no."""
    lib = team.lib
    coached = {team.coach.id: {team.ann.id}}
    sessions = lib.sessions(user=team.admin)
    checked = 0
    for name, user in _accounts(team).items():
        for s in sessions:
            may_see = access.may_view(user, s.owner_id, coached.get(user.id, ()))
            actions = {
                "rename": (partial(lib.rename, s.id, s.title, user=user),
                           access.may_rename(user, s.owner_id)),
                "retry": (partial(lib.requeue, s.id, user=user),
                          access.may_change(user, s.owner_id)),
                "note": (partial(lib.add_note, s.id, 1.0, "n", user=user),
                         access.may_note(user, s.owner_id, coached.get(user.id, ())))}
            for action, (call, rule) in actions.items():
                refused = False
                try:
                    call()
                except AccessDenied:
                    refused = True
                assert refused is not (may_see and rule), (name, s.title, action)
                checked += 1
    assert checked == 4 * 3 * 3


def test_delete_follows_may_delete_while_running(library, recording):
    sid = library.add_session(recording, title="x", media_name="call.mp4")
    assert library.claim_next().id == sid  # the worker has it: running
    with pytest.raises(InputError, match="being analysed"):
        library.delete(sid)
    library.fail(sid, "stopped")
    library.delete(sid)
    assert library.sessions() == []


def test_outcomes_and_accounts_follow_their_rules(team):
    lib = team.lib
    for name, user in _accounts(team).items():
        sid = team.ann_sid if name != "Bob" else team.bob_sid
        try:
            lib.set_outcome(sid, "satisfaction", 4, user=user)
        except AccessDenied:
            assert not access.may_record_outcomes(user), name
        else:
            assert access.may_record_outcomes(user), name
        try:
            lib.users(by=user)
        except AccessDenied:
            assert not access.may_manage_accounts(user), name
        else:
            assert access.may_manage_accounts(user), name
