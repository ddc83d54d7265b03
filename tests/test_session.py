"""The whole path on the bundled sample call: layout, names, transcript, the exchange format."""

import math

from conftest import SAMPLE_CALL

from cuekit import cli, cueset


def test_layout_finds_the_two_tiles(sample_result, sample_truth):
    boxes = [p["box"] for p in sample_result.session["layout"]["participants"]]
    assert sample_result.participants == ["Agent", "Customer"]
    for box, truth in zip(boxes, sample_truth["participants"].values(), strict=True):
        tx, ty, tw, th = truth["box"]
        x, y, w, h = box
        # the tile found contains the true tile's centre and is about its size
        assert x <= tx + tw / 2 <= x + w and y <= ty + th / 2 <= y + h
        assert abs(w - tw) < 0.1 * tw and abs(h - th) < 0.1 * th


def test_every_stage_ran(sample_result):
    cues = set(sample_result.samples["cue"])
    for cue in ("face.present", "head.yaw_deg", "gaze.on_screen", "expr.smile",
                "body.motion_energy", "voice.active", "voice.pitch_hz", "sync.motion"):
        assert cue in cues, cue
    kinds = set(sample_result.segments["kind"])
    assert {"speech", "gap", "nod", "transcript"} <= kinds
    seconds = sample_result.session["provenance"]["seconds"]
    assert {"video", "audio", "conversation", "listening"} <= set(seconds)


def test_transcript_is_mapped_to_the_named_participants(sample_result, sample_truth):
    tr = sample_result.segments[sample_result.segments["kind"] == "transcript"]
    assert len(tr) == len(sample_truth["speech"])
    first = tr.sort_values("start").iloc[0]
    assert first["participant"] == "Agent" and first["label"].startswith("Thank you")
    for name in ("Agent", "Customer"):
        wpm = sample_result.summary["participants"][name]["words_per_min"]
        assert math.isfinite(wpm) and 100 < wpm < 260, (name, wpm)


def test_cli_writes_a_folder_that_loads_back(tmp_path, capsys):
    out = tmp_path / "call"
    assert cli.main(["analyze", SAMPLE_CALL, "-o", str(out), "--fps", "5", "--pose-fps", "0"]) == 0
    printed = capsys.readouterr().out
    assert "2 participant(s)" in printed and f"wrote {out}/" in printed
    back = cueset.read(out)
    assert back.participants == ["P1", "P2"]
    assert set(back.samples["participant"]) >= {"P1", "P2"}
    assert back.session["config"]["face_fps"] == 5
