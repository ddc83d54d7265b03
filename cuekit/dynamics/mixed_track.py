"""A mixed track's voices given to the participants: the audio stage's result, with voices
``V1, V2, …``, becomes one whose voices are the participants' (a new result; the audio stage's
own is left as it is).

With faces in the tiles the track is split again with the mouths' help
(:func:`~cuekit.dynamics.attribution.fuse_voices`); otherwise each voice is matched to the
participant whose mouth moves with it (:func:`~cuekit.dynamics.attribution.attribute_voices`;
without video, in order of first speech). Participants given no voice heard nothing:
``voice.active = 0`` (a measurement, unlike NaN). With video, overlaps seen on the faces are
marked (:func:`~cuekit.dynamics.attribution.add_visual_overlaps`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import layout
from ..cues import StreamResult, concat_samples, series_to_samples
from ..layout import Participant
from .attribution import add_visual_overlaps, attribute_voices, fuse_voices


def attribute_mixed_track(audio: StreamResult, video: StreamResult | None,
                          participants: list[Participant], *, names: list[str] | None,
                          duration_s: float) -> tuple[list[Participant], StreamResult]:
    """The participants and the audio result of a mixed track with its voices named after them.

    ``participants`` empty (an audio-only track whose speaker count nothing gave): one
    participant per voice found (at least one), named by ``names`` or ``P1, P2, …``.
    ``duration_s``: the recording's, the span of the silent participants' ``voice.active``
    series (on the audio stage's grid step). The summary is renamed; the provenance gains
    ``voice_map`` (voice → participant)."""
    video_samples = video.samples if video is not None else None
    fused = fuse_voices(audio, video_samples, participants)
    audio = fused or audio  # with faces in the tiles, voices split by voice and mouth together
    voices = list(audio.provenance.get("voices", []))
    if not participants:
        participants = layout.voice_participants(max(1, len(voices)), names)
    mapping = {v: v for v in voices} if fused else attribute_voices(
        audio.samples, voices, video_samples, participants)
    rename = lambda s: s.map(lambda v: mapping.get(v, v))  # noqa: E731
    samples = audio.samples.assign(participant=rename(audio.samples["participant"]))
    step_s = float(audio.provenance.get("grid_s", 0.05))
    samples = concat_samples([samples, *_silent(samples, participants, step_s, duration_s)])
    segments = audio.segments.assign(participant=rename(audio.segments["participant"]))
    summary = {mapping.get(k, k): v for k, v in audio.summary.items()}
    renamed = StreamResult(samples, segments, dict(audio.provenance, voice_map=mapping), summary)
    if video is None:
        return participants, renamed
    return participants, add_visual_overlaps(renamed, video_samples,
                                             [p.name for p in participants])


def _silent(samples: pd.DataFrame, participants: list[Participant], step_s: float,
            duration_s: float) -> list[pd.DataFrame]:
    """``voice.active = 0`` series from 0 to ``duration_s`` every ``step_s`` for the
    participants with no ``voice.active`` in ``samples``."""
    heard = set(samples.loc[samples["cue"] == "voice.active", "participant"])
    grid = np.arange(0.0, max(duration_s, 0.0), step_s)
    return [series_to_samples(grid, p.name, "voice.active", np.zeros(len(grid)))
            for p in participants if p.name not in heard]


__all__ = ["attribute_mixed_track"]
