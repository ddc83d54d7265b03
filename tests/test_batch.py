import os

import pandas as pd
import pytest
from mediagen import write_media

from cuekit import batch, cli, cueset
from cuekit.config import AnalysisConfig
from cuekit.errors import InputError


@pytest.fixture
def recordings(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    write_media(str(d / "a.mp4"), seconds=1.5)
    write_media(str(d / "b.wav"), video=False, seconds=1.5)
    (d / "broken.mp4").write_bytes(os.urandom(4000))
    (d / "notes.txt").write_text("not a recording")
    return d


def _statuses(table: pd.DataFrame) -> dict:
    per_file = table.drop_duplicates("path")
    return {os.path.basename(p): s for p, s in zip(per_file["path"], per_file["status"],
                                                   strict=True)}


def test_local_pool_is_resumable_and_survives_a_corrupt_file(recordings, tmp_path):
    out = tmp_path / "out"
    items = batch.read_input(str(recordings))
    assert [os.path.basename(i.path) for i in items] == ["a.mp4", "b.wav", "broken.mp4"]
    table = batch.run_batch(items, str(out), config=AnalysisConfig(), workers=2)
    assert _statuses(table) == {"a.mp4": "done", "b.wav": "done", "broken.mp4": "failed"}
    broken = table[table["status"] == "failed"].iloc[0]
    assert "not a recording" in broken["error"]
    done = table[table["status"] == "done"]
    for d in done["out_dir"].unique():
        assert len(cueset.read(d).samples) > 0
    assert (out / "batch_summary.csv").exists() and (out / "batch_summary.parquet").exists()
    again = batch.run_batch(batch.read_input(str(recordings)), str(out),
                            config=AnalysisConfig(), workers=1)
    assert _statuses(again) == {"a.mp4": "skipped", "b.wav": "skipped", "broken.mp4": "failed"}
    # other settings are other work: nothing is skipped
    other = batch.run_batch(items[:1], str(out), config=AnalysisConfig(face_fps=5), workers=1)
    assert _statuses(other) == {"a.mp4": "done"}


def test_summary_table_has_every_summary_metric_pairs_too():
    """The batch summary holds every metric of each result's summary.json: the participants'
    and the pair's (a row whose participant is ``A|B``)."""
    row = {"path": "call.mp4", "status": "done", "key": "k", "out_dir": "o",
           "metrics": {"Ann": {"talk_share": 0.6}, "Bob": {"talk_share": 0.4}},
           "pair_metrics": {"Ann|Bob": {"synchrony": 0.3, "leader": "Ann", "lag_s": 1.0}}}
    table = batch.summary_table([row])
    assert list(table["participant"]) == ["Ann", "Bob", "Ann|Bob"]
    pair = table.set_index("participant").loc["Ann|Bob"]
    assert (pair["synchrony"], pair["leader"], pair["lag_s"]) == (0.3, "Ann", 1.0)
    assert pd.isna(pair["talk_share"])
    assert list(table.columns).index("talk_share") < list(table.columns).index("synchrony")


def test_manifest(tmp_path, recordings):
    m = tmp_path / "calls.csv"
    m.write_text("path,names,layout\nin/a.mp4,Agent,1\nin/b.wav,,\n")
    items = batch.read_input(str(m))
    assert items[0].names == ["Agent"] and items[0].layout == "1"
    assert items[0].path == str(tmp_path / "in" / "a.mp4")
    assert items[1].names is None
    bad = tmp_path / "bad.csv"
    bad.write_text("file\nx.mp4\n")
    with pytest.raises(InputError, match="'path' column"):
        batch.read_input(str(bad))


def test_cli_batch_reports_failures(recordings, tmp_path, capsys):
    code = cli.main(["batch", str(recordings), "-o", str(tmp_path / "o"), "--workers", "1", "-q"])
    out = capsys.readouterr().out
    assert code == 1
    assert "3 recording(s): 2 analysed, 0 already done, 1 failed" in out
    assert "broken.mp4" in out


def test_ray_local_mode(recordings, tmp_path):
    pytest.importorskip("ray")
    items = batch.read_input(str(recordings))
    table = batch.run_batch(items, str(tmp_path / "out"), config=AnalysisConfig(),
                            workers=2, engine="ray")
    assert _statuses(table) == {"a.mp4": "done", "b.wav": "done", "broken.mp4": "failed"}


def test_batch_results_import_into_the_library(recordings, tmp_path, capsys, monkeypatch):
    from cuekit.store import Library

    monkeypatch.setenv("CUEKIT_HOME", str(tmp_path / "home"))
    argv = ["batch", str(recordings), "-o", str(tmp_path / "o"), "--workers", "1", "-q",
            "--import"]
    assert cli.main(argv) == 1  # broken.mp4 failed; the others are imported
    assert "imported 2 session(s)" in capsys.readouterr().out
    library = Library()
    sessions = library.sessions()
    assert sorted(s.title for s in sessions) == ["a.mp4", "b.wav"]
    assert {s.status for s in sessions} == {"done"}
    assert len(library.load_cueset(sessions[0].id).samples) > 0
    cli.main(argv)  # a re-run imports nothing twice
    assert "imported 0 session(s)" in capsys.readouterr().out
    assert len(Library().sessions()) == 2
