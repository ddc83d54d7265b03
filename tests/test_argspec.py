"""Defaults shared by two entry points (the CLI and AnalysisConfig) must never drift apart."""

import dataclasses

import pytest

from cuekit import cli
from cuekit.config import LAYOUTS, AnalysisConfig
from cuekit.errors import InputError


def test_cli_defaults_match_analysis_config():
    args = cli._parser().parse_args(["analyze", "x.mp4"])
    defaults = {f.name: f.default for f in dataclasses.fields(AnalysisConfig)
                if f.default is not dataclasses.MISSING}
    pairs = {"layout": args.layout, "face_fps": args.fps, "pose_fps": args.pose_fps,
             "speakers": args.speakers, "transcript": args.transcript,
             "expressions": args.expressions, "names": args.names}
    for name, value in pairs.items():
        assert value == defaults[name], name


def test_batch_defaults_match_analysis_config():
    args = cli._parser().parse_args(["batch", "in", "-o", "out"])
    config = AnalysisConfig()
    assert (args.layout, args.fps, args.pose_fps, args.expressions) == (
        config.layout, config.face_fps, config.pose_fps, config.expressions)


def test_every_layout_the_app_offers_is_accepted():
    assert {"auto", "audio", "1", "2x1", "1x2", "2x2"} <= set(LAYOUTS)
    for name in LAYOUTS:
        assert AnalysisConfig(layout=name).layout == name
    with pytest.raises(InputError, match="unknown layout"):
        AnalysisConfig(layout="3x7")
