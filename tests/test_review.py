"""The plain-language review (cuekit.review), the indicators' reference ranges (cuekit.targets),
the stills of the moment cards and the moments marked for the coaching conversation."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from test_store import MP4_HEAD, fake_analyze, make_cueset

from cuekit import jobs, review, stills, store, targets
from cuekit.auth import AccessDenied
from cuekit.cues import concat_segments, make_segments
from cuekit.metrics import METRICS


def with_segments(cs, rows, **metrics):
    """``cs`` with more segments and the Agent's metrics changed."""
    cs.segments = concat_segments([cs.segments, make_segments(rows)])
    cs.summary["participants"]["Agent"].update(metrics)
    return cs


def by_technique(found):
    return {f.technique: f for f in found}


def test_every_indicator_reads_a_registered_metric_and_cites_a_source():
    for ind in targets.INDICATORS.values():
        assert ind.metric in METRICS and ind.technique in targets.TECHNIQUES
        assert ind.source
        if ind.low is not None and ind.high is not None:
            assert ind.low < ind.high


def test_indicators_speak_a_coachs_units():
    talk, gap = targets.INDICATORS["talk_share"], targets.INDICATORS["response_latency_s"]
    rate = targets.INDICATORS["interruptions_made_per_10min"]
    assert talk.format(talk.value({"talk_share": 0.43}, 600)) == "43%"
    assert talk.target_text() == "35–55%"
    assert gap.target_text() == "0.2–0.7 s"
    assert rate.value({"interruptions_made": 3}, 1800) == pytest.approx(1.0)  # 3 in 30 min
    assert rate.target_text() == "at most 1.0 per 10 min"
    assert talk.status(talk.value({"talk_share": 0.55}, 60)) == "in"  # 55.000000001 %
    assert talk.status(72.0) == "high" and gap.status(0.05) == "low"
    assert rate.value({"interruptions_made": 1}, None) is None  # no length, no rate
    assert talk.value({"talk_share": float("nan")}, 60) is None


def test_a_two_party_call_gets_strengths_and_things_to_work_on():
    cs = make_cueset(60)  # Agent: 55 % talk, 1 interruption, 80 % eye contact, 0.4 s
    r = review.review(cs, "Agent")
    strengths, work_on = by_technique(r.strengths), by_technique(r.work_on)
    assert set(strengths) == {"attention", "silence", "room"}  # 55 %: within 35–55 %
    assert "80%" in strengths["attention"].evidence
    assert set(work_on) == {"not_interrupting"}
    [cut] = work_on["not_interrupting"].moments
    assert (cut.start_s, cut.label) == (12.0, "Agent interrupts Customer")
    assert not r.words_known  # no transcript: paraphrasing and empathy are not judged
    assert "paraphrasing" not in strengths and "paraphrasing" not in work_on


def test_looking_away_while_the_other_speaks_is_to_work_on_with_its_moments():
    cs = make_cueset(60)
    cs = with_segments(cs, [
        {"start": 11.0, "end": 14.0, "participant": "Agent", "kind": "gaze_away"},
        {"start": 31.0, "end": 38.0, "participant": "Agent", "kind": "gaze_away"},
        {"start": 20.5, "end": 22.0, "participant": "Agent", "kind": "gaze_away"},  # own turn
    ], eye_contact_listening=0.4)
    f = by_technique(review.findings(cs, "Agent"))["attention"]
    assert f.kind == review.WORK_ON
    assert "40%" in f.evidence and "at least 60%" in f.evidence
    # only the look-aways while the customer speaks (10–20 s, 30–40 s), the longest first
    assert [(m.start_s, m.end_s) for m in f.moments] == [(11.0, 14.0), (31.0, 38.0)]


def test_talking_most_of_the_call_is_to_work_on():
    cs = make_cueset(60)
    cs.summary["participants"]["Agent"]["talk_share"] = 0.72
    f = by_technique(review.findings(cs, "Agent"))["room"]
    assert f.kind == review.WORK_ON and "72%" in f.evidence
    assert all(m.label == "Agent holds the floor" for m in f.moments) and f.moments


def test_a_quick_answer_and_a_long_silence_are_read_against_the_turn_timing_norms():
    cs = make_cueset(60)
    cs.summary["participants"]["Agent"]["response_latency_s"] = -0.1
    assert by_technique(review.findings(cs, "Agent"))["silence"].kind == review.WORK_ON
    cs.summary["participants"]["Agent"]["response_latency_s"] = 3.0
    cs = with_segments(cs, [{"start": 17.0, "end": 20.0, "participant": "Customer|Agent",
                             "kind": "gap", "label": "Customer → Agent"}])
    f = by_technique(review.findings(cs, "Agent"))["silence"]
    assert f.kind == review.WORK_ON and f.text.startswith("Long silences")
    assert [m.start_s for m in f.moments] == [17.0]


def test_staying_calm_when_the_other_raises_their_voice():
    cs = make_cueset(60)
    cs = with_segments(cs, [{"start": 15.0, "end": 18.0, "participant": "Customer",
                             "kind": "tone_shift", "label": "raised"}],
                       tone_shifts_under_pressure=0)
    f = by_technique(review.findings(cs, "Agent"))["reading_cues"]
    assert f.kind == review.STRENGTH and f.moments[0].start_s == 15.0
    cs.summary["participants"]["Agent"]["tone_shifts_under_pressure"] = 1
    cs = with_segments(cs, [{"start": 16.0, "end": 19.0, "participant": "Agent",
                             "kind": "tone_shift", "label": "raised"}])
    f = by_technique(review.findings(cs, "Agent"))["reading_cues"]
    assert f.kind == review.WORK_ON and f.moments[0].label == "Agent's voice is raised"


def test_the_words_bring_paraphrases_questions_and_empathy():
    cs = make_cueset(60)
    cs = with_segments(cs, [
        {"start": 1.0, "end": 3.0, "participant": "Agent", "kind": "transcript",
         "label": "How can I help?"},
        {"start": 1.0, "end": 3.0, "participant": "Agent", "kind": "question",
         "label": "open: How can I help?"},
        {"start": 21.0, "end": 23.0, "participant": "Agent", "kind": "paraphrase",
         "label": "so the line drops every evening"},
        {"start": 24.0, "end": 25.0, "participant": "Agent", "kind": "empathy",
         "label": "empathy: that must be frustrating"},
    ], words=100)
    found = by_technique(review.findings(cs, "Agent"))
    assert found["paraphrasing"].kind == review.STRENGTH
    assert found["paraphrasing"].moments[0].label == "restates: “so the line drops every evening”"
    assert found["empathy"].kind == review.STRENGTH
    assert found["questions"].kind == review.STRENGTH
    # the customer said none of these: with the words known, that is to work on
    customer = by_technique(review.findings(cs, "Customer"))
    assert customer["paraphrasing"].kind == review.WORK_ON
    assert len(customer["paraphrasing"].moments) == 3  # ends of the agent's longest turns


def test_nods_while_listening_are_engagement_and_mirroring_is_praised():
    cs = make_cueset(60)  # the customer nods every 15 s: 4 nods/min while listening
    cs = with_segments(cs, [
        {"start": 2.0, "end": 3.0, "participant": "Agent|Customer", "kind": "mirror",
         "label": "Customer nods along while Agent speaks (1 nod)"},
        {"start": 22.0, "end": 23.0, "participant": "Agent|Customer", "kind": "mirror",
         "label": "Customer follows Agent's lean forward (0.8 s later)"},
        {"start": 40.0, "end": 44.0, "participant": "Agent|Customer", "kind": "mirror",
         "label": "Agent and Customer move in step"},
    ])
    found = by_technique(review.findings(cs, "Customer"))
    assert found["engagement"].kind == review.STRENGTH
    assert all(m.label == "Customer nods" for m in found["engagement"].moments)
    assert found["mirroring"].kind == review.STRENGTH
    assert len(found["mirroring"].moments) == 2  # "move in step" is nobody's answer
    assert "mirroring" not in by_technique(review.findings(cs, "Agent"))


def test_at_most_three_of_each_strongest_first():
    cs = make_cueset(60)
    r = review.review(cs, "Customer", max_each=1)
    assert len(r.strengths) == 1 and len(r.work_on) <= 1
    all_strengths = [f for f in review.findings(cs, "Customer") if f.kind == review.STRENGTH]
    assert r.strengths[0].weight == max(f.weight for f in all_strengths)


def test_usual_and_team_values_come_from_the_other_sessions():
    rows = pd.DataFrame([
        # session, owner, participant, slot, metric, value, duration
        ("s1", "ann", "Ann", 0, "talk_share", 0.40, 600.0),
        ("s2", "ann", "Ann", 0, "talk_share", 0.60, 600.0),
        ("s3", "ann", "Ann", 0, "talk_share", 0.70, 600.0),
        ("s4", "bob", "Bob", 0, "talk_share", 0.30, 600.0),
        ("s4", "bob", "Cust", 1, "talk_share", 0.70, 600.0),
    ], columns=["session_id", "owner", "participant", "slot", "metric", "value", "duration_s"])
    rows["title"], rows["recorded_on"] = rows["session_id"], pd.Timestamp("2026-01-05")
    table = targets.indicator_table(rows)
    refs = targets.references(table, "s3", "Ann", 0, with_team=True)["talk_share"]
    assert refs["usual"] == pytest.approx(50.0) and refs["usual_n"] == 2
    assert refs["team"] == pytest.approx(130 / 3) and refs["team_n"] == 3  # slot 0: agents
    assert targets.references(table, "s3", "Ann", 0, with_team=False)["talk_share"]["team"] \
        is None
    talk = targets.INDICATORS["talk_share"]
    assert targets.versus_usual(talk, 70.0, 50.0) == "higher than usual"
    assert targets.versus_usual(talk, 52.0, 50.0) == "as usual"


def test_marks_for_the_coaching_conversation_are_stored_for_whoever_may_see(tmp_path):
    from test_auth import Team

    team = Team(tmp_path / "home")
    lib = team.lib
    moment = store.Mark(25.0, 30.0, "Agent", "long monologue")
    lib.set_mark(team.ann_sid, moment, user=team.ann)
    lib.set_mark(team.ann_sid, moment, user=team.ann)  # twice: one mark
    assert lib.marks(team.ann_sid, user=team.ann) == [moment]
    with pytest.raises(AccessDenied):
        lib.set_mark(team.ann_sid, moment, user=team.bob)
    with pytest.raises(AccessDenied):
        lib.marks(team.ann_sid, user=team.bob)
    lib.set_mark(team.ann_sid, moment, False, user=team.ann)
    assert lib.marks(team.ann_sid, user=team.ann) == []


def test_metric_table_keeps_each_participants_place(library, recording):
    sid = library.add_session(recording, title="t", media_name="call.mp4",
                              names=["Agent", "Customer"], recorded_on=date(2026, 1, 5))
    jobs.run_queue(library, fake_analyze(make_cueset(60)))
    table = library.metric_table()
    slots = table.drop_duplicates("participant").set_index("participant")["slot"].to_dict()
    assert slots == {"Agent": 0, "Customer": 1}
    assert set(table["session_id"]) == {sid} and (table["duration_s"] == 60).all()


def test_stills_cut_each_participants_tile(tmp_path):
    from mediagen import write_media

    media = write_media(str(tmp_path / "call.mp4"), seconds=4, fps=10, size=(320, 240))
    session = {"layout": {"participants": [{"name": "A", "box": [0, 0, 160, 240]},
                                           {"name": "B", "box": [160, 0, 160, 240]}]}}
    pics = stills.stills(media, 2.5, session, width_px=80)
    assert set(pics) == {"A", "B"}
    assert all(p[:2] == b"\xff\xd8" for p in pics.values())  # JPEG
    frame = stills.frame_at(media, 99.0)  # past the end: the last frame
    assert frame.shape[:2] == (240, 320) and np.isfinite(frame).all()
    audio_only = tmp_path / "x.mp4"
    audio_only.write_bytes(MP4_HEAD + bytes(100))
    assert stills.stills(audio_only, 1.0, session) == {}


def test_an_agent_sees_only_their_own_indicators(tmp_path):
    from test_auth import Team

    team = Team(tmp_path / "home")
    assert set(team.lib.metric_table(user=team.ann)["session_id"]) == {team.ann_sid}
    assert set(team.lib.metric_table(user=team.coach)["session_id"]) <= {team.ann_sid,
                                                                          team.bob_sid}
    assert set(team.lib.metric_table(user=team.admin)["session_id"]) == {team.ann_sid,
                                                                          team.bob_sid}
    with pytest.raises(AccessDenied):
        team.lib.metric_table(user=None)


def test_the_person_trend_shades_the_target_and_rings_the_best_session():
    from cuekit import charts

    rows = pd.DataFrame({
        "session_id": ["a", "b", "c"], "title": ["Jan", "Feb", "Mar"],
        "recorded_on": pd.to_datetime(["2026-01-05", "2026-02-05", "2026-03-05"]),
        "owner": "", "participant": "Agent", "slot": 0, "metric": "talk_share",
        "value": [0.72, 0.47, 0.58], "duration_s": 600.0})
    table = targets.indicator_table(rows)
    fig = charts.indicator_trend_figure(table, "Agent", ["talk_share"])
    [band] = fig.layout.shapes
    assert (band.y0, band.y1) == (35, 55)
    best = [t for t in fig.data if t.name == "best"]
    assert list(best[0].text) == ["Feb"]  # 47 %: nearest the middle of 35–55 %
