"""Stage parameters: frozen, part of AnalysisConfig (and its round trip through a dict), and
written to the result's provenance."""

import dataclasses

import pytest

from cuekit.config import AnalysisConfig
from cuekit.errors import InputError
from cuekit.params import STAGE_PARAMS, SYNC, TONE_SHIFT, TURNS, ToneShiftParams


def test_parameters_are_frozen_and_round_trip_through_the_config():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TONE_SHIFT.min_s = 1.0
    config = AnalysisConfig(tone_shift={"pitch_rise_st": 4.0})
    assert config.tone_shift == ToneShiftParams(pitch_rise_st=4.0)
    again = AnalysisConfig(**config.to_dict())
    assert again == config and isinstance(again.sync, type(SYNC))
    assert set(STAGE_PARAMS) <= set(config.to_dict())
    with pytest.raises(InputError, match="pitch_st"):
        AnalysisConfig(tone_shift={"pitch_st": 3.0})  # the old dict's name, without its unit
    with pytest.raises(InputError, match="release_margin"):
        AnalysisConfig(vad={"threshold": 0.3, "release_margin": 0.4})  # would release below 0


def test_the_result_records_the_parameters_it_used(sample_result):
    stages = sample_result.session["provenance"]["stages"]
    assert stages["audio"]["tone_shift"] == dataclasses.asdict(TONE_SHIFT)
    assert stages["conversation"]["turns"] == dataclasses.asdict(TURNS)
    assert stages["listening"]["listening"]["window_s"] == SYNC.window_s
    assert sample_result.session["config"]["vad"]["threshold"] == 0.5
