"""Known-answer tests of turn-taking on hand-made voice activity."""

import numpy as np
import pytest

from cuekit.cues import concat_samples, series_to_samples
from cuekit.dynamics.turns import conversation

STEP_S = 0.05


def _activity(duration_s: float, speech: dict[str, list[tuple[float, float]]]):
    t = np.arange(0.0, duration_s, STEP_S)
    frames = []
    for p, iv in speech.items():
        v = np.zeros(len(t))
        for a, b in iv:
            v[(t >= a - 1e-9) & (t < b - 1e-9)] = 1.0
        frames.append(series_to_samples(t, p, "voice.active", v))
    return concat_samples(frames)


def _kinds(result, kind):
    seg = result.segments
    return seg[seg["kind"] == kind].reset_index(drop=True)


def test_pause_gap_interruption_backchannel():
    speech = {"A": [(0.0, 4.0), (4.6, 8.0), (14.0, 16.0)],
              "B": [(5.0, 5.4), (9.0, 12.0), (11.0, 14.5)]}
    # B: backchannel 5.0–5.4 inside A's turn; gap 8.0–9.0 A→B; A interrupts B at 14.0
    speech["B"] = [(5.0, 5.4), (9.0, 14.5)]
    r = conversation(_activity(17.0, speech), ["A", "B"], duration_s=17.0)
    pauses = _kinds(r, "pause")
    assert list(pauses["participant"]) == ["A"]
    assert pauses.loc[0, "start"] == pytest.approx(4.0) and pauses.loc[0, "end"] == pytest.approx(4.6)
    gaps = _kinds(r, "gap")
    assert len(gaps) == 1 and gaps.loc[0, "participant"] == "A|B"
    assert gaps.loc[0, "end"] - gaps.loc[0, "start"] == pytest.approx(1.0)
    inter = _kinds(r, "interruption")
    assert list(inter["participant"]) == ["A"] and inter.loc[0, "label"] == "A interrupts B"
    assert inter.loc[0, "start"] == pytest.approx(14.0) and inter.loc[0, "end"] == pytest.approx(14.5)
    bc = _kinds(r, "backchannel")
    assert list(bc["participant"]) == ["B"]
    assert len(_kinds(r, "overlap")) == 2
    a, b = r.summary["A"], r.summary["B"]
    assert a["interruptions_made"] == 1 and b["interruptions_suffered"] == 1
    assert b["backchannels"] == 1 and a["backchannels"] == 0
    assert a["turns"] == 2 and b["turns"] == 1
    assert b["response_latency_s"] == pytest.approx(1.0)
    assert a["response_latency_s"] == pytest.approx(-0.5)  # A took over 0.5 s before B stopped
    assert a["longest_monologue_s"] == pytest.approx(8.0)
    total = 4.0 + 3.4 + 2.0 + 0.4 + 5.5
    assert a["talk_share"] == pytest.approx(9.4 / total, abs=0.01)
    assert a["talk_share"] + b["talk_share"] == pytest.approx(1.0)


def test_long_overlap_without_floor_change_is_neither():
    speech = {"A": [(0.0, 10.0)], "B": [(3.0, 5.0)]}
    r = conversation(_activity(10.0, speech), ["A", "B"], duration_s=10.0)
    assert len(_kinds(r, "overlap")) == 1
    assert len(_kinds(r, "interruption")) == 0 and len(_kinds(r, "backchannel")) == 0


def test_silence_only():
    r = conversation(_activity(5.0, {"A": [], "B": []}), ["A", "B"], duration_s=5.0)
    assert len(r.segments) == 0
    assert np.isnan(r.summary["A"]["talk_share"]) and r.summary["A"]["turns"] == 0


def test_response_latency_is_the_floor_transfer_offset():
    # B takes over from A 0.5 s before A stops (overlap); A answers B after a 1.0 s silence
    speech = {"A": [(0.0, 5.0), (11.0, 15.0)], "B": [(4.5, 10.0)]}
    r = conversation(_activity(15.0, speech), ["A", "B"], duration_s=15.0)
    assert r.summary["B"]["response_latency_s"] == pytest.approx(-0.5)
    assert r.summary["A"]["response_latency_s"] == pytest.approx(1.0)
    assert len(_kinds(r, "gap")) == 1  # only the silent transfer is a gap segment


def test_floor_transfer_survives_a_solo_start_outside_the_intervals():
    """A 30-minute call crashed here (StopIteration) when a turn's first solo state began where
    none of the taker's intervals did; now that instant counts as the turn's start."""
    from cuekit.dynamics.turns import _floor_transfer_offsets, _Spell, _State

    speech = {"A": [(0.0, 2.0)], "B": [(3.0, 5.0)]}
    states = [_State(0.0, 2.0, frozenset("A")), _State(2.0, 3.0, frozenset()),
              _State(3.0000001, 5.0, frozenset("B"))]
    spells = [_Spell("A", 0, 0, 2.0), _Spell("B", 2, 2, 2.0)]
    assert _floor_transfer_offsets(speech, states, spells)["B"] == [pytest.approx(1.0)]
    states[2] = _State(6.0, 7.0, frozenset("B"))  # in no interval of B at all
    assert _floor_transfer_offsets(speech, states, spells)["B"] == [pytest.approx(4.0)]
