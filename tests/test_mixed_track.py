"""A mixed track's voices given to the participants (cuekit.dynamics.mixed_track), on an audio
result with known voices: names, order of first speech, silent participants, and the audio
stage's own result left as it was."""

import numpy as np

from cuekit.cues import StreamResult, concat_samples, make_segments, series_to_samples
from cuekit.dynamics.mixed_track import attribute_mixed_track
from cuekit.layout import Participant

GRID_S = 0.05
DURATION_S = 10.0


def _audio() -> StreamResult:
    """V1 speaks 4-6 s, V2 1-3 s: V2 speaks first."""
    t = np.arange(0.0, DURATION_S, GRID_S)
    spoken = {"V1": (4.0, 6.0), "V2": (1.0, 3.0)}
    samples = concat_samples([series_to_samples(t, v, "voice.active",
                                                ((t >= a) & (t < b)).astype(float))
                              for v, (a, b) in spoken.items()])
    segments = make_segments([dict(start=a, end=b, participant=v, kind="speech")
                              for v, (a, b) in spoken.items()])
    return StreamResult(samples, segments, {"mixed": True, "voices": ["V1", "V2"],
                                            "grid_s": GRID_S},
                        {v: {"speech_s": 2.0} for v in spoken})


def _active(result: StreamResult, name: str) -> np.ndarray:
    sel = result.samples[(result.samples["cue"] == "voice.active")
                         & (result.samples["participant"] == name)].sort_values("t")
    return sel["t"].to_numpy()[sel["value"].to_numpy() > 0.5]


def test_unknown_speakers_become_one_participant_per_voice_in_order_of_first_speech():
    audio = _audio()
    before = audio.samples.copy()
    people, result = attribute_mixed_track(audio, None, [], names=None, duration_s=DURATION_S)
    assert [p.name for p in people] == ["P1", "P2"]
    assert result.provenance["voice_map"] == {"V2": "P1", "V1": "P2"}
    assert _active(result, "P1").min() == 1.0 and _active(result, "P2").min() == 4.0
    assert set(result.summary) == {"P1", "P2"}
    assert sorted(result.segments["participant"]) == ["P1", "P2"]
    assert audio.samples.equals(before)  # a new result; the audio stage's is left as it was
    named, _ = attribute_mixed_track(audio, None, [], names=["Ann", "Bob"],
                                     duration_s=DURATION_S)
    assert [p.name for p in named] == ["Ann", "Bob"]


def test_a_participant_given_no_voice_heard_nothing():
    people = [Participant("A"), Participant("B"), Participant("C")]
    same, result = attribute_mixed_track(_audio(), None, people, names=None,
                                         duration_s=DURATION_S)
    assert same == people
    c = result.samples[(result.samples["participant"] == "C")]
    assert set(c["cue"]) == {"voice.active"} and (c["value"] == 0).all()
    assert len(c) == round(DURATION_S / GRID_S)  # 0 to the recording's end, on the audio grid
    assert _active(result, "A").min() == 1.0  # V2 spoke first
