import io
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from test_store import make_cueset

from cuekit import charts, export
from cuekit.store import Note

EAF_XSD_ENV = "CUEKIT_EAF_XSD"
NOTES = [Note(1, "s", 33.0, "Customer", "asks an open question", "2026-01-01T00:00:00+00:00"),
         Note(2, "s", 50.0, "", "check the tone <here> & there", "2026-01-01T00:00:00+00:00")]


def eaf_schema_path() -> str:
    """ELAN's official EAF 3.0 schema: ``$CUEKIT_EAF_XSD``, ``tests/data/EAFv3.0.xsd`` or
    ``../shared/EAFv3.0.xsd``. It ships in the pympi-ling sdist (``test/EAFv3.0.xsd``)."""
    here = Path(__file__).resolve().parent
    for path in (os.environ.get(EAF_XSD_ENV), here / "data" / "EAFv3.0.xsd",
                 here.parent.parent / "shared" / "EAFv3.0.xsd"):
        if path and os.path.isfile(path):
            return str(path)
    pytest.skip(f"ELAN's EAFv3.0.xsd not found (set {EAF_XSD_ENV}); get it with "
                "`pip download pympi-ling==1.71 --no-binary :all: --no-deps`")


def test_csv_and_parquet_round_trip_the_cues():
    cs = make_cueset(30)
    back = pd.read_csv(io.BytesIO(export.samples_csv_bytes(cs)))
    assert list(back.columns) == ["t", "participant", "cue", "value", "confidence"]
    assert len(back) == len(cs.samples)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(export.samples_parquet_bytes(cs))),
                                  cs.samples)
    segs = pd.read_parquet(io.BytesIO(export.segments_parquet_bytes(export.with_notes(cs, NOTES))))
    notes = segs[segs["kind"] == "note"]
    assert list(notes["start"]) == [33.0, 50.0]
    assert list(notes["participant"]) == ["Customer", export.NOTE_PARTICIPANT]


def test_summary_json_has_metrics_notes_and_moments():
    doc = json.loads(export.summary_json_bytes(make_cueset(30), NOTES, title="Q1"))
    assert doc["title"] == "Q1"
    assert doc["participants"]["Agent"]["talk_share"] == 0.55
    assert doc["participants"]["Agent"]["pitch_median_hz"] is None  # NaN → null, valid JSON
    assert doc["notes"][0] == {"t_s": 33.0, "participant": "Customer",
                               "text": "asks an open question",
                               "created_at": "2026-01-01T00:00:00+00:00"}
    assert doc["coaching_moments"][0]["start_s"] == 25.0


def test_eaf_has_one_tier_per_participant_and_kind():
    pympi = pytest.importorskip("pympi")
    data = export.eaf_bytes(make_cueset(60), NOTES, media_path="/data/call.mp4")
    path = Path(pytest.importorskip("tempfile").mkdtemp()) / "s.eaf"
    path.write_bytes(data)
    eaf = pympi.Elan.Eaf(str(path))
    tiers = set(eaf.get_tier_names())
    assert {"Agent speech", "Customer speech", "Customer nod", "Agent interruption",
            "Agent moment", "Customer note", "coach note"} <= tiers
    assert eaf.get_annotation_data_for_tier("Agent interruption") == [
        (12000, 13000, "Agent interrupts Customer")]
    [(start_ms, end_ms, text)] = eaf.get_annotation_data_for_tier("coach note")
    assert (start_ms, end_ms - start_ms) == (50000, export.EAF_MIN_ANNOTATION_MS)
    assert text == "check the tone <here> & there"
    assert eaf.get_parameters_for_tier("Customer nod")["PARTICIPANT"] == "Customer"
    assert eaf.media_descriptors[0]["MEDIA_URL"] == "file:///data/call.mp4"


def test_eaf_is_valid_against_elans_schema():
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(eaf_schema_path()))
    doc = etree.fromstring(export.eaf_bytes(make_cueset(60), NOTES, media_path="/data/call.mp4"))
    assert schema.validate(doc), schema.error_log


def test_html_report_is_standalone_and_has_everything():
    page = export.html_report_bytes(make_cueset(60), NOTES, title="Q1 <review>").decode()
    assert page.startswith("<!DOCTYPE html>")
    assert "Q1 &lt;review&gt;" in page
    assert "<script src=" not in page and "Plotly.newPlot" in page  # plotly.js is inlined
    for heading in ("Listening profile", "Coaching moments", "Coach notes", "Events",
                    "Synchrony"):
        assert f"<h2>{heading}</h2>" in page
    assert "check the tone &lt;here&gt; &amp; there" in page
    assert "long monologue while the customer looks away" in page


def test_write_all_writes_every_format(tmp_path):
    paths = export.write_all(make_cueset(20), NOTES, tmp_path / "out", title="x")
    assert sorted(p.name for p in paths) == sorted(
        ["samples.csv", "segments.csv", "samples.parquet", "segments.parquet", "summary.json",
         "session.eaf", "report.html"])
    assert all(p.stat().st_size > 0 for p in paths)


def test_events_list_keeps_long_pauses_and_adds_notes():
    events = charts.events_table(make_cueset(60), NOTES)
    assert list(zip(events["start_s"], events["kind"], strict=True)) == [
        (12.0, "interruption"), (25.0, "moment"), (33.0, "note"), (40.0, "pause"),
        (50.0, "note")]


def test_timeline_is_decimated_for_long_sessions():
    cs = make_cueset(3600, face_hz=10, voice_hz=20)
    fig = charts.timeline_figure(cs, NOTES, max_points=500, raw=True)
    assert max(len(tr.x) for tr in fig.data if tr.mode == "lines") <= 500
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0] == "Who speaks" and titles[-1] == "Coaching moments and notes"
    assert any(t.startswith("Eye contact") for t in titles)
    assert fig.layout.xaxis.range == (0, 3600)
    # a coach's lanes by default: events, no raw signal such as pitch in semitones
    coach = [a.text for a in charts.timeline_figure(cs, NOTES).layout.annotations]
    assert not any(t.startswith(("Pitch", "Eye contact", "Smile intensity")) for t in coach)
    assert {"Who speaks", "Nods and head shakes", "Interruptions and mm-hms",
            "Pauses of 2 s or more"} <= set(coach)


def test_timeline_lanes_carry_the_known_segments_curves_and_notes():
    """make_cueset's known truth: 10 s turns, the customer nods every 15 s for 1.2 s, the agent
    interrupts at 12 s, pauses 40–43 s (the 0.5 s pause is left out), a moment at 25–30 s; its
    pitch is 40 st while speaking, NaN otherwise."""
    import numpy as np

    data = charts.timeline_lanes(make_cueset(60), NOTES, raw=True, max_points=120)
    assert data["duration_s"] == 60 and list(data["people"]) == ["Agent", "Customer"]
    lanes = {lane["title"].split(" — ")[0]: lane for lane in data["lanes"]}
    assert list(lanes)[:2] == ["Who speaks", "Nods and head shakes"]
    assert list(lanes)[-2:] == [charts.MOMENTS_LANE, charts.NOTES_LANE]
    speaks = {r["name"]: r["bars"] for r in lanes["Who speaks"]["rows"]}
    assert speaks["Agent"] == [[0.0, 10.0, ""], [20.0, 30.0, ""], [40.0, 50.0, ""]]
    [nods] = lanes["Nods and head shakes"]["rows"]
    assert nods["name"] == "Customer nods"
    assert nods["bars"] == [[5.0, 6.2, ""], [20.0, 21.2, ""], [35.0, 36.2, ""], [50.0, 51.2, ""]]
    [interrupts] = lanes["Interruptions and mm-hms"]["rows"]
    assert interrupts["bars"] == [[12.0, 13.0, "Agent interrupts Customer"]]
    assert [r["bars"] for r in lanes["Pauses of 2 s or more"]["rows"]] == [[[40.0, 43.0, ""]]]
    assert lanes[charts.MOMENTS_LANE]["rows"][0]["bars"][0][:2] == [25.0, 30.0]
    assert lanes[charts.NOTES_LANE]["notes"] == [[33.0, "Customer", "asks an open question"],
                                                 [50.0, "", "check the tone <here> & there"]]
    # pitch at 20 Hz (1200 samples) → 120 bins of 0.5 s: 40 st while the agent speaks, None
    # (not 0) while the customer does
    pitch = lanes["Pitch"]
    assert pitch["kind"] == "lines" and pitch["unit"] == "st" and pitch["range"] == [40.0, 40.0]
    agent = next(s for s in pitch["series"] if s["name"] == "Agent")
    assert (agent["t0"], agent["dt"], len(agent["v"])) == (0.25, 0.5, 120)
    t = agent["t0"] + agent["dt"] * np.arange(120)
    speaking = (t // 10) % 2 == 0
    assert all(v == 40.0 for v in np.array(agent["v"], dtype=object)[speaking])
    assert all(v is None for v in np.array(agent["v"], dtype=object)[~speaking])


def test_timeline_lanes_are_a_coachs_by_default_and_small_for_an_hour():
    cs = make_cueset(3600, face_hz=10, voice_hz=20)
    coach = [lane["title"] for lane in charts.timeline_lanes(cs)["lanes"]]
    assert coach == ["Who speaks", "Nods and head shakes", "Interruptions and mm-hms",
                     "Pauses of 2 s or more", charts.MOMENTS_LANE, charts.NOTES_LANE]
    raw = charts.timeline_lanes(cs, raw=True)
    curves = [s for lane in raw["lanes"] if lane["kind"] == "lines" for s in lane["series"]]
    assert curves and all(len(s["v"]) == charts.MAX_POINTS_PER_TRACE and "t" not in s
                          for s in curves)
    assert len(json.dumps(raw)) < 250_000  # two people, an hour, every raw signal


def test_bin_means_keep_gaps_and_values():
    import numpy as np

    t = np.arange(0, 100, 0.1)
    v = np.where((t >= 20) & (t < 40), np.nan, 2.0)
    tb, vb = charts.bin_means(t, v, end_s=100, max_points=10)
    assert list(tb) == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert np.isnan(vb[2]) and np.isnan(vb[3]) and np.allclose(vb[[0, 1, 4, 9]], 2.0)


def test_scorecard_reads_the_metric_registry_and_formats_units():
    card = charts.scorecard(make_cueset(30))
    agent = card[card["participant"] == "Agent"].set_index("indicator")["value"]
    assert agent["Talk share"] == "55%"
    assert agent["Eye contact while listening"] == "80%"
    assert agent["Response latency"] == "0.40 s"  # the registry: two digits for latency
    assert "Pitch range" not in agent  # not measured, not shown
    assert (card["definition"] != "").all()
