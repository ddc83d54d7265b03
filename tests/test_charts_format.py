import math

from cuekit.charts import format_metric, indicators


def test_metric_units_follow_the_name():
    assert format_metric("pace_difference_syl_s", 0.84) == "0.8 syl/s"
    assert format_metric("response_latency_s", 0.5) == "0.5 s"
    assert format_metric("pitch_range_st", 4.24) == "4.2 st"
    assert format_metric("talk_share", 0.256) == "26%"
    assert format_metric("interruptions_made", 2.0) == "2"
    assert format_metric("nods_per_min_listening", 3.14) == "3.1/min"
    assert format_metric("synchrony", math.nan) == "–"


def test_each_indicator_is_defined_once():
    keys = [i.key for i in indicators()]
    assert len(keys) == len(set(keys))
    assert all(i.definition and i.explanation for i in indicators())
