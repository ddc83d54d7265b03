"""The layout stage's rules that need no video: how many voices a mixed track holds, and whether
a stereo recording is two people or one mixed track copied twice."""

import numpy as np
import pytest
import soundfile as sf

from cuekit.audio.pipeline import channels_distinct
from cuekit.config import AnalysisConfig
from cuekit.layout import Participant
from cuekit.participants import voice_count

SR = 16000


def test_voice_count_given_then_names_then_tiles_else_estimated():
    tiles = [Participant("P1", box=(0, 0, 10, 10)), Participant("P2", box=(10, 0, 10, 10))]
    assert voice_count(AnalysisConfig(speakers=3), tiles) == 3
    assert voice_count(AnalysisConfig(names=["Ann", "Bob", "Cy"]), []) == 3
    assert voice_count(AnalysisConfig(), tiles) == 2
    assert voice_count(AnalysisConfig(), []) is None  # the audio stage counts the voices


def _write(tmp_path, name, channels):
    path = tmp_path / name
    sf.write(path, np.stack(channels, axis=1), SR)
    return str(path)


def test_stereo_channels_are_distinct_unless_one_track_is_copied(tmp_path):
    rng = np.random.default_rng(0)
    a, b = (rng.normal(0, 0.1, 3 * SR).astype("float32") for _ in range(2))
    assert channels_distinct(_write(tmp_path, "two.wav", [a, b]), sr=SR)
    assert not channels_distinct(_write(tmp_path, "copied.wav", [a, a]), sr=SR)
    assert not channels_distinct(_write(tmp_path, "near.wav", [a, 0.9 * a + 0.01 * b]), sr=SR)
    assert channels_distinct(_write(tmp_path, "one_silent.wav", [a, 0 * a]), sr=SR)
    mono = tmp_path / "mono.wav"
    sf.write(mono, a, SR)
    assert not channels_distinct(str(mono), sr=SR)
    assert not channels_distinct(_write(tmp_path, "short.wav", [a[:SR // 2], b[:SR // 2]]), sr=SR)


@pytest.mark.parametrize("between", [True, False])
def test_between_stages_is_called_after_the_audio_stage_only_when_given(tmp_path, between):
    from cuekit import session

    path = tmp_path / "tone.wav"
    t = np.arange(2 * SR) / SR
    sf.write(path, (0.1 * np.sin(2 * np.pi * 150 * t)).astype("float32"), SR)
    events = []
    session.analyze(str(path), hook=lambda stage, done, total: events.append(stage),
                    between_stages=(lambda: events.append("between")) if between else None)
    if not between:
        assert "between" not in events
        return
    last_audio = max(i for i, e in enumerate(events) if e == "audio")
    assert "between" in events[last_audio:]
