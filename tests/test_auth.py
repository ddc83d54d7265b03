"""Team mode in the library: accounts, roles, and refusals of another user's sessions.

Every refusal is checked at the library layer, as a crafted URL or a direct call would reach it.
"""

import io
import sqlite3
import time

import pytest
from argon2 import PasswordHasher
from test_store import MP4_HEAD, fake_analyze, make_cueset

from cuekit import auth, jobs, store
from cuekit.auth import AccessDenied
from cuekit.errors import InputError

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Tests make many accounts: a light Argon2id (the real parameters are checked below)."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


class Team:
    """An admin, a coach of Ann, agents Ann and Bob, each agent with one analysed call."""

    def __init__(self, home):
        self.lib = store.Library(home)
        self.admin = self.lib.add_user("Ada", auth.ADMIN, PASSWORD)
        self.coach = self.lib.add_user("Cleo", auth.COACH, PASSWORD, by=self.admin)
        self.ann = self.lib.add_user("Ann", auth.AGENT, PASSWORD, by=self.admin)
        self.bob = self.lib.add_user("Bob", auth.AGENT, PASSWORD, by=self.admin)
        self.lib.set_agents("Cleo", ["Ann"], by=self.admin)
        media = home.parent / "call.mp4"
        media.write_bytes(MP4_HEAD + bytes(1000))
        self.ann_sid = self._call(media, self.ann, ("Ann", "Customer A"))
        self.bob_sid = self._call(media, self.bob, ("Bob", "Customer B"))

    def _call(self, media, user, names) -> str:
        sid = self.lib.add_session(media, title=f"{user.name}'s call", media_name="call.mp4",
                                   user=user)
        jobs.run_queue(self.lib, fake_analyze(make_cueset(10, names=names)))
        assert self.lib.session(sid, user=user).status == "done"
        return sid


@pytest.fixture
def team(tmp_path):
    return Team(tmp_path / "home")


def test_a_new_library_is_single_user_until_the_first_admin(tmp_path):
    lib = store.Library(tmp_path / "home")
    assert not lib.team_mode
    assert lib.sessions() == []  # no account needed
    with pytest.raises(InputError, match="first account must be an admin"):
        lib.add_user("Ann", auth.AGENT, PASSWORD)
    assert not lib.team_mode
    lib.add_user("Ada", auth.ADMIN, PASSWORD)
    assert lib.team_mode
    with pytest.raises(AccessDenied, match="sign in"):
        lib.sessions()


def test_passwords_are_stored_as_argon2id_hashes_only(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher())  # the real parameters
    lib = store.Library(tmp_path / "home")
    lib.add_user("Ada", auth.ADMIN, PASSWORD)
    with sqlite3.connect(lib.db_path) as db:
        [stored] = db.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and "m=65536,t=3" in stored
    assert PASSWORD not in stored
    with pytest.raises(InputError, match="at least 8"):
        lib.add_user("Short", auth.COACH, "abc", by=lib.sign_in("Ada", PASSWORD))


def test_signed_out_requests_are_refused(team):
    for call in (team.lib.sessions, lambda: team.lib.session(team.ann_sid),
                 lambda: team.lib.load_cueset(team.ann_sid),
                 lambda: team.lib.delete(team.ann_sid), team.lib.participant_names,
                 lambda: team.lib.add_session(team.lib.session(team.ann_sid, user=team.ann)
                                              .media_path, title="x", media_name="x.mp4")):
        with pytest.raises(AccessDenied, match="sign in"):
            call()
    assert len(team.lib.sessions(user=team.admin)) == 2


def test_an_agent_sees_opens_and_exports_only_their_own_sessions(team):
    lib, ann = team.lib, team.ann
    assert [s.id for s in lib.sessions(user=ann)] == [team.ann_sid]
    assert lib.session(team.ann_sid, user=ann).owner == "Ann"
    assert len(lib.load_cueset(team.ann_sid, user=ann).samples)
    refused = {
        "open": lambda: lib.session(team.bob_sid, user=ann),
        "export": lambda: lib.load_cueset(team.bob_sid, user=ann),
        "read notes": lambda: lib.notes(team.bob_sid, user=ann),
        "add a note": lambda: lib.add_note(team.bob_sid, 1.0, "mine now", user=ann),
        "rename": lambda: lib.rename(team.bob_sid, "mine now", user=ann),
        "retry": lambda: lib.requeue(team.bob_sid, user=ann),
        "delete": lambda: lib.delete(team.bob_sid, user=ann),
    }
    for action, call in refused.items():
        with pytest.raises(AccessDenied, match="not in your library"):
            call()
            pytest.fail(f"Ann could {action} Bob's session")
    bob_session = lib.session(team.bob_sid, user=team.bob)
    assert (bob_session.title, bob_session.status) == ("Bob's call", "done")
    assert bob_session.media_path.is_file() and lib.cues_dir(team.bob_sid).is_dir()
    assert lib.participant_names(user=ann) == ["Ann", "Customer A"]
    assert lib.history("Bob", user=ann).empty
    assert not lib.history("Bob", user=team.bob).empty


def test_unknown_and_foreign_ids_get_the_same_answer(team):
    """A user cannot learn which ids exist by trying them."""
    answers = []
    for sid in (team.bob_sid, "0123456789ab"):
        with pytest.raises(AccessDenied) as refused:
            team.lib.session(sid, user=team.ann)
        answers.append(str(refused.value).replace(sid, "ID"))
    assert answers[0] == answers[1]


def test_a_coach_reviews_their_agents_only(team):
    lib, coach = team.lib, team.coach
    assert [s.id for s in lib.sessions(user=coach)] == [team.ann_sid]
    note_id = lib.add_note(team.ann_sid, 3.0, "good open question", "Ann", user=coach)
    assert [n.text for n in lib.notes(team.ann_sid, user=team.ann)] == ["good open question"]
    with pytest.raises(AccessDenied, match="author"):
        lib.delete_note(note_id, user=team.ann)
    with pytest.raises(AccessDenied, match="or an admin"):
        lib.delete(team.ann_sid, user=coach)  # reviews, does not remove an agent's call
    with pytest.raises(AccessDenied):
        lib.load_cueset(team.bob_sid, user=coach)
    lib.delete_note(note_id, user=coach)
    lib.set_agents("Cleo", ["Bob"], by=team.admin)
    assert [s.id for s in lib.sessions(user=coach)] == [team.bob_sid]
    with pytest.raises(AccessDenied):
        lib.session(team.ann_sid, user=coach)


def test_the_admin_sees_everything_and_alone_manages_accounts(team):
    lib = team.lib
    assert {s.id for s in lib.sessions(user=team.admin)} == {team.ann_sid, team.bob_sid}
    assert [u.name for u in lib.users(by=team.admin)] == ["Ada", "Ann", "Bob", "Cleo"]
    for who in (team.coach, team.ann):
        with pytest.raises(AccessDenied, match="admin"):
            lib.add_user("Eve", auth.ADMIN, PASSWORD, by=who)
        with pytest.raises(AccessDenied, match="admin"):
            lib.set_agents("Cleo", ["Bob"], by=who)
    with pytest.raises(InputError, match="not agents: Cleo"):
        lib.set_agents("Cleo", ["Cleo"], by=team.admin)
    with pytest.raises(InputError, match="already"):
        lib.add_user("ann", auth.AGENT, PASSWORD, by=team.admin)  # names ignore case
    lib.delete(team.bob_sid, user=team.admin)
    assert not (lib.sessions_dir / team.bob_sid).exists()


def test_account_deletion_keeps_sessions_and_an_admin(team):
    lib, admin = team.lib, team.admin
    with pytest.raises(InputError, match="owns 1 session"):
        lib.delete_user("Ann", by=admin)
    with pytest.raises(InputError, match="own account"):
        lib.delete_user("Ada", by=admin)
    with pytest.raises(InputError, match="last admin"):
        lib.delete_user("Ada")  # the operator (CLI)
    lib.delete_user("Cleo", by=admin)
    with pytest.raises(AccessDenied, match="sign in"):  # a deleted account loses access at once
        lib.sessions(user=team.coach)
    assert lib.agents_of("Cleo") == []


def test_sign_in_and_lockout_after_repeated_failures(team, monkeypatch):
    monkeypatch.setattr(auth, "LOCKOUT_S", 0.5)
    lib = team.lib
    assert lib.sign_in(" Ann ", PASSWORD) == team.ann
    for name in ("Ann", "Nobody"):
        with pytest.raises(AccessDenied, match="wrong name or password"):
            lib.sign_in(name, "wrong password")
    for _ in range(auth.MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(AccessDenied, match="wrong"):
            lib.sign_in("Ann", "wrong password")
    with pytest.raises(AccessDenied, match="try again in 1 s"):
        lib.sign_in("Ann", PASSWORD)  # locked: even the right password waits
    assert lib.sign_in("Bob", PASSWORD) == team.bob  # other accounts are not affected
    time.sleep(0.6)
    assert lib.sign_in("Ann", PASSWORD) == team.ann


def test_an_admin_resets_a_password(team):
    team.lib.set_password("Ann", "a brand new secret", by=team.admin)
    with pytest.raises(AccessDenied):
        team.lib.sign_in("Ann", PASSWORD)
    assert team.lib.sign_in("Ann", "a brand new secret") == team.ann
    with pytest.raises(AccessDenied, match="admin"):
        team.lib.set_password("Bob", "taken over!", by=team.ann)


def test_a_library_from_before_team_mode_is_upgraded(tmp_path):
    home = tmp_path / "home"
    (home / "sessions").mkdir(parents=True)
    with sqlite3.connect(home / store.DB_NAME) as db:  # the first release's tables
        db.executescript("""
            CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT NOT NULL,
                created_at TEXT NOT NULL, recorded_on TEXT NOT NULL, media_name TEXT NOT NULL,
                media_file TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL,
                stage TEXT NOT NULL DEFAULT '', progress REAL NOT NULL DEFAULT 0,
                error TEXT NOT NULL DEFAULT '', participants TEXT NOT NULL DEFAULT '[]',
                duration_s REAL);
            CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
                t_s REAL NOT NULL, participant TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
                created_at TEXT NOT NULL);
            INSERT INTO sessions (id, title, created_at, recorded_on, media_name, media_file,
                config, status) VALUES ('old1', 'Old call', '2026-01-01', '2026-01-01', 'a.mp4',
                'media.mp4', '{}', 'failed');
            INSERT INTO notes (session_id, t_s, text, created_at)
                VALUES ('old1', 1.0, 'kept', '2026-01-01');""")
    lib = store.Library(home)
    assert [n.text for n in lib.notes("old1")] == ["kept"]
    admin = lib.add_user("Ada", auth.ADMIN, PASSWORD)
    agent = lib.add_user("Ann", auth.AGENT, PASSWORD, by=admin)
    assert [s.title for s in lib.sessions(user=admin)] == ["Old call"]  # ownerless: admins only
    assert lib.sessions(user=agent) == []


def test_the_cli_creates_the_first_admin_and_resets_passwords(tmp_path, monkeypatch, capsys):
    from cuekit import cli

    monkeypatch.setenv(store.HOME_ENV, str(tmp_path / "home"))

    def users(*args: str, password: str = PASSWORD) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))  # not a terminal
        return cli.main(["users", *args])

    assert users("add", "Ann") == 2  # an agent first: refused
    assert "first account must be an admin" in capsys.readouterr().err
    assert users("add", "Ada", "--role", "admin") == 0
    lib = store.Library(tmp_path / "home")
    assert lib.team_mode and lib.sign_in("Ada", PASSWORD).is_admin
    assert users("passwd", "Ada", password="another long one") == 0
    assert lib.sign_in("Ada", "another long one").name == "Ada"
    capsys.readouterr()
    assert users("list") == 0 and capsys.readouterr().out == "Ada\tadmin\n"
