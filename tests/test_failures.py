"""Bad input: one clear line on stderr, exit status 2, never a traceback; nothing half-written."""

import os

import pytest
from mediagen import write_media

from cuekit import cli


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_one_line_error(code, err, match):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cuekit: error: ")
    assert match in lines[0]
    assert "Traceback" not in err


@pytest.fixture
def good_mp4(tmp_path):
    return write_media(str(tmp_path / "good.mp4"), seconds=2.0)


def test_nonexistent(capsys, tmp_path):
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / "nope.mp4"), "-q")
    assert_one_line_error(code, err, "no such file")


def test_directory(capsys, tmp_path):
    code, _, err = run_cli(capsys, "analyze", str(tmp_path), "-q")
    assert_one_line_error(code, err, "is a directory")


def test_zero_bytes(capsys, tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    code, _, err = run_cli(capsys, "analyze", str(p), "-q")
    assert_one_line_error(code, err, "empty file")


@pytest.mark.parametrize("ext", ["mp4", "wav", "mkv", "mp3"])
def test_random_bytes_named_as_media(capsys, tmp_path, ext):
    p = tmp_path / f"noise.{ext}"
    p.write_bytes(os.urandom(50_000))
    code, _, err = run_cli(capsys, "analyze", str(p), "-q", "-o", str(tmp_path / "out"))
    assert_one_line_error(code, err, "not a recording")
    assert not (tmp_path / "out").exists()


def test_text_file_named_wav(capsys, tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio\n" * 100)
    code, _, err = run_cli(capsys, "analyze", str(p), "-q")
    assert_one_line_error(code, err, "not a recording")


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.7])
def test_truncated_file_errors_or_degrades(capsys, tmp_path, good_mp4, keep):
    data = open(good_mp4, "rb").read()
    p = tmp_path / "cut.mp4"
    p.write_bytes(data[: int(len(data) * keep)])
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "analyze", str(p), "-q", "-o", str(out))
    if code == 0:  # degraded: what could be decoded was analysed
        assert (out / "samples.parquet").exists()
    else:
        assert_one_line_error(code, err, str(p))
        assert not out.exists()


def test_bad_settings(capsys, good_mp4):
    for argv, match in (
        (["--layout", "3x3"], "unknown layout"),
        (["--fps", "0"], "face_fps"),
        (["--names", "A,A"], "distinct"),
        (["--audio", "P1"], "NAME=FILE"),
        (["--audio", "P1=/no/such.wav"], "not found"),
        (["--layout", "1", "--names", "A,B"], "2 name(s)"),
    ):
        code, _, err = run_cli(capsys, "analyze", good_mp4, "-q", *argv)
        assert_one_line_error(code, err, match)


@pytest.mark.parametrize("name, media, note, present, absent", [
    ("silent.mp4", {"audio": False}, "no audio track", "face.present", "voice.active"),
    ("voice.wav", {"video": False}, "no video track", "voice.active", "face.present"),
])
def test_one_track_only_is_analysed_and_says_so(capsys, tmp_path, name, media, note, present,
                                                 absent):
    from cuekit import cueset

    p = write_media(str(tmp_path / name), **media)
    code, out, _ = run_cli(capsys, "analyze", p, "-o", str(tmp_path / "o"))
    assert code == 0
    assert note in out
    cues = set(cueset.read(tmp_path / "o").samples["cue"])
    assert present in cues
    assert absent not in cues


def test_per_participant_audio_files(capsys, tmp_path):
    video = write_media(str(tmp_path / "call.mp4"), size=(320, 120), audio=False)
    a = write_media(str(tmp_path / "a.wav"), video=False)
    b = write_media(str(tmp_path / "b.wav"), video=False)
    code, _, err = run_cli(capsys, "analyze", video, "-q", "--layout", "2x1",
                           "--audio", f"P1={a}")
    assert_one_line_error(code, err, "no file for P2")
    out = tmp_path / "o"
    code, _, _ = run_cli(capsys, "analyze", video, "-q", "--layout", "2x1", "--audio", f"P1={a}",
                         "--audio", f"P2={b}", "-o", str(out))
    assert code == 0
    from cuekit import cueset

    cs = cueset.read(out)
    assert [p["audio_file"] for p in cs.session["layout"]["participants"]] == [a, b]
    assert set(cs.samples.query("cue == 'voice.active'")["participant"]) == {"P1", "P2"}


def test_per_participant_audio_files_name_the_tiles(capsys, tmp_path):
    """``--audio Agent=a.wav --audio Customer=b.wav`` on a video, without ``--names``: the
    names of the recordings name the tiles in reading order (the README's example)."""
    video = write_media(str(tmp_path / "call.mp4"), size=(320, 120), audio=False)
    a = write_media(str(tmp_path / "a.wav"), video=False)
    b = write_media(str(tmp_path / "b.wav"), video=False)
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, "analyze", video, "-q", "--audio", f"Agent={a}",
                           "--audio", f"Customer={b}", "-o", str(out))
    assert code == 0, err
    from cuekit import cueset

    cs = cueset.read(out)
    people = cs.session["layout"]["participants"]
    assert [(p["name"], p["audio_file"]) for p in people] == [("Agent", a), ("Customer", b)]
    assert people[0]["box"][0] < people[1]["box"][0]  # Agent is the left tile


def test_a_bug_gives_one_line_and_a_crash_log(capsys, monkeypatch, good_mp4):
    from cuekit import session

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(session, "analyze", broken)
    code, _, err = run_cli(capsys, "analyze", good_mp4, "-q")
    assert code == 3
    line = err.strip()
    assert "\n" not in line and "internal error (ZeroDivisionError: boom)" in line
    log = line.split("details are in ")[1].split(" ")[0]
    assert "ZeroDivisionError" in open(log).read()
    monkeypatch.setenv("CUEKIT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["analyze", good_mp4, "-q"])
