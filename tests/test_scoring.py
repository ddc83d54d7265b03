"""Known answers for the validation harness's DER scorer (benchmarks/scoring.py).

Every reference here is made by hand on the 10 ms grid, so each error is known to the frame."""

import math
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from scoring import (  # noqa: E402
    der,
    merge,
    pooled_der,
    read_rttm,
    speaker_count,
    speaker_seconds,
    write_rttm,
)

# A speaks 0-4 s, B 4-7 s, A 7-9 s, with B's "mm-hm" over A at 8.0-8.5 s; 10 s scored
REF = [(0.0, 4.0, "A"), (4.0, 7.0, "B"), (7.0, 9.0, "A"), (8.0, 8.5, "B")]
REF_S = 4.0 + 3.0 + 2.0 + 0.5
UEM = (0.0, 10.0)


def close(result, **expected):
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-9), (key, result[key], value)


def test_perfect_hypothesis_scores_zero():
    r = der(REF, REF, uem=UEM)
    close(r, reference_s=REF_S, miss_s=0, false_alarm_s=0, confusion_s=0, der=0)
    assert r["ref_speakers"] == r["hyp_speakers"] == 2


def test_permuted_labels_score_zero():
    hyp = [(a, b, {"A": "P2", "B": "P1"}[s]) for a, b, s in REF]
    r = der(REF, hyp, uem=UEM)
    close(r, der=0, confusion_s=0)
    assert r["mapping"] == {"P2": "A", "P1": "B"}


def test_turn_given_to_other_speaker_is_confusion():
    # B's 4-7 s turn labelled as A: 3 s of confusion (B's mm-hm still right); mapping A->A
    hyp = [(0.0, 4.0, "x"), (4.0, 7.0, "x"), (7.0, 9.0, "x"), (8.0, 8.5, "y")]
    r = der(REF, hyp, uem=UEM)
    close(r, miss_s=0, false_alarm_s=0, confusion_s=3.0, confusion=3.0 / REF_S, der=3.0 / REF_S)


def test_half_turn_to_wrong_speaker():
    # 1.5 s of B's turn given to A: confusion 1.5 s, not more (the mapping stays A->A, B->B)
    hyp = [(0.0, 5.5, "a"), (5.5, 7.0, "b"), (7.0, 9.0, "a"), (8.0, 8.5, "b")]
    close(der(REF, hyp, uem=UEM), confusion_s=1.5, miss_s=0, false_alarm_s=0)


def test_missed_overlap_is_miss():
    # the mm-hm is not found: 0.5 s missed (one speaker found where two speak), no confusion
    hyp = [(0.0, 4.0, "a"), (4.0, 7.0, "b"), (7.0, 9.0, "a")]
    r = der(REF, hyp, uem=UEM)
    close(r, miss_s=0.5, false_alarm_s=0, confusion_s=0, miss=0.5 / REF_S, der=0.5 / REF_S)


def test_extra_speech_is_false_alarm():
    # speech found in the silence 9-10 s, and a second voice over A at 1-2 s
    hyp = REF + [(9.0, 10.0, "A"), (1.0, 2.0, "B")]
    r = der(REF, hyp, uem=UEM)
    close(r, miss_s=0, false_alarm_s=2.0, confusion_s=0, false_alarm=2.0 / REF_S)


def test_missed_speech_and_wrong_overlap_voice():
    # the mm-hm found, but as a third voice "c" that never speaks elsewhere: the mapping is
    # one-to-one and "b" is already B, so c's 0.5 s is confusion (not miss, not false alarm)
    hyp = [(0.0, 4.0, "a"), (4.0, 7.0, "b"), (7.0, 9.0, "a"), (8.0, 8.5, "c")]
    close(der(REF, hyp, uem=UEM), confusion_s=0.5, miss_s=0, false_alarm_s=0)


def test_nothing_found_is_all_miss():
    r = der(REF, [], uem=UEM)
    close(r, miss_s=REF_S, miss=1.0, der=1.0, false_alarm_s=0, confusion_s=0)
    assert r["hyp_speakers"] == 0


def test_one_speaker_for_everything():
    # all speech given to one voice: A's 6 s matched, B's 3 s turn confused, mm-hm missed
    hyp = [(0.0, 9.0, "x")]
    close(der(REF, hyp, uem=UEM), confusion_s=3.0, miss_s=0.5, false_alarm_s=0)


def test_collar_removes_boundary_errors():
    # every boundary 0.2 s late: errors only near boundaries, which a 0.25 s collar removes
    hyp = [(a + 0.2, min(b + 0.2, 9.2), s) for a, b, s in REF]
    no_collar = der(REF, hyp, uem=UEM)
    assert no_collar["der"] > 0.05
    with_collar = der(REF, hyp, uem=UEM, collar_s=0.25)
    close(with_collar, der=0, miss_s=0, false_alarm_s=0, confusion_s=0)
    assert with_collar["reference_s"] < REF_S
    # boundaries of A at 0, 4, 7, 9 and of B at 4, 7, 8, 8.5: not scored 0.25 s either side
    no_score = merge([(max(0, t - 0.25), t + 0.25) for t in (0, 4, 7, 9, 8, 8.5)])
    assert with_collar["scored_s"] == pytest.approx(10.0 - sum(b - a for a, b in no_score))


def test_collar_does_not_hide_errors_away_from_boundaries():
    hyp = [(0.0, 4.0, "a"), (4.0, 7.0, "a"), (7.0, 9.0, "a"), (8.0, 8.5, "b")]
    r = der(REF, hyp, uem=UEM, collar_s=0.25)
    close(r, confusion_s=2.5, miss_s=0, false_alarm_s=0)  # B's turn minus 0.25 s each end


def test_uem_limits_scoring():
    hyp = REF + [(12.0, 15.0, "A")]  # outside the scored region: not counted
    close(der(REF, hyp, uem=UEM), der=0)
    close(der(REF, REF, uem=(0.0, 5.0)), reference_s=5.0, der=0)


def test_own_overlapping_segments_count_once():
    ref = [(0.0, 2.0, "A"), (1.0, 3.0, "A")]
    r = der(ref, [(0.0, 3.0, "h")], uem=(0.0, 3.0))
    close(r, reference_s=3.0, der=0)


def test_no_reference_speech_gives_nan():
    r = der([], [(0.0, 1.0, "h")], uem=(0.0, 2.0))
    assert math.isnan(r["der"]) and r["false_alarm_s"] == pytest.approx(1.0)


def test_pooled_der_weights_by_reference_time():
    a = der(REF, [], uem=UEM)  # DER 1 over 9.5 s
    b = der([(0.0, 0.5, "A")], [(0.0, 0.5, "x")], uem=(0.0, 1.0))  # DER 0 over 0.5 s
    pooled = pooled_der([a, b])
    assert pooled["der"] == pytest.approx(REF_S / (REF_S + 0.5))
    assert pooled["miss_s"] == pytest.approx(REF_S)


def test_rttm_round_trip_and_placeholder_lines(tmp_path):
    path = tmp_path / "x.rttm"
    write_rttm(str(path), {"f1": REF, "f2": [(1.0, 2.5, "MÉO069")]})
    with open(path, "a", encoding="utf-8") as f:  # pyAudioAnalysis' empty trailing line
        f.write("SPEAKER f2 1 0.00 0.00 <NA> <NA>  <NA> <NA>\n")
    back = read_rttm(str(path))
    assert sorted(back) == ["f1", "f2"]
    assert back["f2"] == [(1.0, 2.5, "MÉO069")]
    assert sorted(back["f1"]) == sorted(REF)


def test_speaker_helpers():
    assert speaker_count(REF) == 2
    assert speaker_count(REF, uem=(0.0, 3.0)) == 1
    assert speaker_seconds(REF) == pytest.approx({"A": 6.0, "B": 3.5})
    assert merge([(0, 1), (1.2, 2), (5, 6)], gap_s=0.3) == [(0, 2), (5, 6)]
