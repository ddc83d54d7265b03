"""Audio-visual attribution on synthetic series: voices follow the mouth that moves."""

import numpy as np

from cuekit.cues import concat_samples, series_to_samples
from cuekit.dynamics.attribution import attribute_voices
from cuekit.layout import Participant

T = np.arange(0.0, 60.0, 0.05)
T_VIDEO = np.arange(0.0, 60.0, 0.1)
PEOPLE = [Participant("Ann", box=(0, 0, 10, 10)), Participant("Bob", box=(10, 0, 10, 10))]


def _turns(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Alternating 2–6 s turns: who (0/1) speaks at each T."""
    rng = np.random.default_rng(seed)
    who, t, k = np.zeros(len(T), dtype=int), 0.0, 0
    while t < 60:
        d = rng.uniform(2, 6)
        who[(T >= t) & (T < t + d)] = k % 2
        t, k = t + d, k + 1
    return who == 0, who == 1


def _voices(first_speaker_is_v1: bool, seed: int = 1):
    a, b = _turns(seed)
    v1, v2 = (a, b) if first_speaker_is_v1 else (b, a)
    return concat_samples([series_to_samples(T, "V1", "voice.active", v1.astype(float)),
                           series_to_samples(T, "V2", "voice.active", v2.astype(float))])


def _mouths(speaking: dict[str, np.ndarray], seed: int = 2, no_face_s=(20.0, 25.0)):
    rng = np.random.default_rng(seed)
    frames = []
    for name, on in speaking.items():
        on_v = np.interp(T_VIDEO, T, on.astype(float)) > 0.5
        mouth = np.where(on_v, 0.5 + 0.4 * np.sin(2 * np.pi * 4 * T_VIDEO + rng.uniform(0, 6)),
                         0.1) + rng.normal(0, 0.03, len(T_VIDEO))
        mouth[(T_VIDEO >= no_face_s[0]) & (T_VIDEO < no_face_s[1])] = np.nan
        frames.append(series_to_samples(T_VIDEO, name, "expr.mouth_open", np.clip(mouth, 0, 1)))
    return concat_samples(frames)


def test_voice_follows_moving_mouth_not_first_speech():
    a, b = _turns(1)
    # V1 speaks first, but it is Bob's mouth that moves when V1 speaks
    video = _mouths({"Ann": b, "Bob": a})
    got = attribute_voices(_voices(True), ["V1", "V2"], video, PEOPLE)
    assert got == {"V1": "Bob", "V2": "Ann"}


def test_without_video_order_of_first_speech():
    got = attribute_voices(_voices(False), ["V1", "V2"], None, PEOPLE)
    assert got == {"V2": "Ann", "V1": "Bob"}


def test_more_voices_than_people_keep_their_label():
    voices = _voices(True)
    extra = series_to_samples(T, "V3", "voice.active", (T > 55).astype(float))
    got = attribute_voices(concat_samples([voices, extra]), ["V1", "V2", "V3"], None, PEOPLE)
    assert got == {"V1": "Ann", "V2": "Bob", "V3": "V3"}
