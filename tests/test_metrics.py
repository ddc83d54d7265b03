"""The metric registry: formats from the registered unit (never from the name), definitions
that state the parameters in use, and every summary key a stage writes registered."""

import math

import pytest

from cuekit import cli, metrics
from cuekit.metrics import METRICS, Metric, format_metric
from cuekit.params import LISTENING, TONE_SHIFT, TURNS


def test_values_are_formatted_by_their_registered_unit():
    assert format_metric("pace_difference_syl_s", 0.84) == "0.8 syl/s"
    assert format_metric("response_latency_s", 0.5) == "0.50 s"
    assert format_metric("pitch_range_st", 4.24) == "4.2 st"
    assert format_metric("pitch_median_hz", 181.4) == "181 Hz"
    assert format_metric("talk_share", 0.256) == "26%"
    assert format_metric("eye_contact_listening", 0.5) == "50%"
    assert format_metric("interruptions_made", 2.0) == "2"
    assert format_metric("nods_per_min_listening", 3.14) == "3.1/min"
    assert format_metric("monotone", 1.0) == "yes"
    assert format_metric("leader", "P1") == "P1"
    assert format_metric("synchrony", math.nan) == "–" and format_metric("lag_s", None) == "–"


def test_an_unregistered_name_gets_no_guessed_unit():
    assert format_metric("mystery_s", 1.234) == "1.23"
    assert format_metric("mystery_share", 0.5) == "0.5"


def test_entries_are_complete_and_checked():
    for m in METRICS.values():
        assert m.title and m.short and m.definition and m.explanation, m.name
    with pytest.raises(ValueError):
        Metric("x", "X", "x", "furlongs", "d", "e", "", "audio")
    assert [m.name for m in metrics.profile_metrics()][:2] == ["listening_s",
                                                               "eye_contact_listening"]
    assert metrics.order(["zzz", "talk_share", "listening_s"]) == ["listening_s", "talk_share",
                                                                   "zzz"]


def test_definitions_state_the_parameters_in_use():
    raised = METRICS["other_raised_tone_episodes"].definition
    for number in (TONE_SHIFT.min_s, TONE_SHIFT.median_window_s, TONE_SHIFT.pitch_rise_st,
                   TONE_SHIFT.loudness_rise_db):
        assert f"{number:g}" in raised
    assert f"{TURNS.keep_floor_s:g} s" in METRICS["longest_monologue_s"].definition
    assert f"{TURNS.backchannel_max_s:g} s" in METRICS["backchannels"].definition
    assert f"{LISTENING.tone_response_s:g} s" in METRICS["tone_shifts_under_pressure"].definition


def test_cli_table_reads_the_registry():
    assert all(k in METRICS for k in cli.SUMMARY_METRICS)


def test_every_summary_key_of_a_full_analysis_is_registered(sample_result):
    people = sample_result.summary["participants"]
    pairs = sample_result.summary["pairs"]
    assert people and pairs
    for name, values in people.items():
        missing = set(values) - {k for k, m in METRICS.items() if m.scope == "participant"}
        assert not missing, (name, missing)
    for name, values in pairs.items():
        missing = set(values) - {k for k, m in METRICS.items() if m.scope == "pair"}
        assert not missing, (name, missing)
    assert "words_per_min" in next(iter(people.values()))  # the transcript stage ran too
