"""The layout stage: who takes part in a recording and where each one's signals are.

Tiles of the video (found by :mod:`cuekit.layout` on frames sampled over the call, or given),
else the participants' own recordings, else one participant per distinct audio channel, else
the voices of one mixed track. :func:`voice_count` is the one rule for how many voices a mixed
track is split into.
"""

from __future__ import annotations

import numpy as np

from . import layout, media
from .config import AnalysisConfig
from .errors import InputError, MediaError
from .layout import Participant

LAYOUT_PROBE_S = 20.0  # frames from the first seconds are enough to see the tiles
LAYOUT_LATER_STEP_S = 30.0  # after them, one key frame this often to catch a later change
LAYOUT_PROBE_WIDTH = 1280  # px: a 4-px gallery gap of a 1920-px call is still a line here


def find_participants(path: str, info: media.MediaInfo, config: AnalysisConfig,
                      use_video: bool, notes: list[str]) -> list[Participant]:
    """The participants of the recording at ``path`` (probed as ``info``), in reading order,
    named by ``config.names`` (else ``P1, P2, …``; with one recording per tile and no names, by
    the recordings' names). Empty for a mixed audio-only track whose speaker count nothing gives:
    the audio stage then finds the voices. What was found and why is appended to ``notes``.
    Raises ``InputError`` when ``config.audio_files`` do not match the participants one to one."""
    names = config.names
    if use_video:
        boxes = tile_boxes(path, info, config, notes)
        if names is None and len(config.audio_files) == len(boxes):
            names = list(config.audio_files)  # one recording per tile names them, in order
        participants = layout.name_participants(boxes, names)
    elif config.audio_files:
        participants = [Participant(name=n) for n in (names or list(config.audio_files))]
    elif info.audio_channels >= 2 and _channels_distinct(path, config):
        participants = layout.channel_participants(info.audio_channels, names)
        notes.append(f"audio-only: one participant per channel ({info.audio_channels} channels)")
    else:
        n = voice_count(config, [])
        participants = layout.voice_participants(n, names) if n else []
        notes.append("audio-only, one mixed track: speakers told apart by voice")
    if config.audio_files:
        participants = _with_audio_files(participants, config.audio_files)
    return participants


def voice_count(config: AnalysisConfig, participants: list[Participant]) -> int | None:
    """How many voices a mixed track is split into: ``config.speakers`` when given, else one
    per name, else one per participant already known (the tiles); None when nothing says (the
    audio stage estimates it from the voices)."""
    return config.speakers or len(config.names or ()) or len(participants) or None


def _channels_distinct(path: str, config: AnalysisConfig) -> bool:
    from .audio.pipeline import channels_distinct  # the audio stage's imports, only when needed

    return channels_distinct(path, sr=config.audio_sr)


def _with_audio_files(participants: list[Participant], audio_files: dict[str, str]
                      ) -> list[Participant]:
    unknown = set(audio_files) - {p.name for p in participants}
    if unknown:
        raise InputError(f"--audio names {sorted(unknown)} match no participant "
                         f"({', '.join(p.name for p in participants)})")
    missing = [p.name for p in participants if p.name not in audio_files]
    if missing:
        raise InputError(f"--audio gives no file for {', '.join(missing)}: give every "
                         "participant's own recording, or none")
    return [Participant(p.name, p.box, None, audio_files.get(p.name)) for p in participants]


def tile_boxes(path: str, info: media.MediaInfo, config: AnalysisConfig,
               notes: list[str] | None = None) -> list:
    """The participants' tiles ``(x, y, w, h)`` in pixels of the upright frame, in reading
    order: ``config.layout``'s boxes or grid when given, else found on frames sampled over the
    call (the longest stretch's tiles when the layout changes; a count of names or recordings
    of 1, 2 or 4 that differs from the tiles found wins, as a grid). Notes go to ``notes``."""
    width = min(info.width, LAYOUT_PROBE_WIDTH) if info.width else None
    sampled = list(media.iter_frames(path, step_s=4.0, end_s=LAYOUT_PROBE_S, width=width))
    if not sampled:
        raise MediaError(f"no decodable video frame in {path}")
    h, w = upright_size(info)
    if "," in config.layout:
        return layout.reading_order(layout.parse_boxes(config.layout, w, h))
    if config.layout != "auto":
        return layout.grid_boxes(config.layout, w, h)
    # the rest of the call, cheaply: the key frame before every LAYOUT_LATER_STEP_S (one seek
    # and one decode each: 5 s for a 60-minute 30 fps call, against 31 s decoding on to the time)
    later = np.arange(LAYOUT_PROBE_S + LAYOUT_LATER_STEP_S / 2, info.duration_s,
                      LAYOUT_LATER_STEP_S)
    sampled += [(t, f) for t, f in media.frames_near(path, later, width=width, max_decode=1)
                if t > sampled[-1][0] + 1.0 and f.shape == sampled[0][1].shape]
    # found on the small frames, given back in pixels of the full frame
    guess = layout.detect_tiles([f for _, f in sampled], [t for t, _ in sampled], size=(w, h))
    wanted = len(config.names or config.audio_files) or None  # names, or one recording each
    if wanted is not None and wanted != len(guess.boxes) and wanted in (1, 2, 4):
        return layout.grid_boxes({1: "1", 2: "2x1", 4: "2x2"}[wanted], w, h)  # the names win
    if notes is not None:
        notes.extend(f"layout: {n}" for n in guess.notes)
        if len(guess.segments) > 1:
            ends = [b for _, b, _ in guess.segments[:-1]] + [info.duration_s or
                                                             guess.segments[-1][1]]
            stretches = "; ".join(f"{a:.0f}-{b:.0f} s: {spec}"
                                  for (a, _, spec), b in zip(guess.segments, ends, strict=True))
            notes.append(f"layout changes during the call ({stretches}; frames every 4 s of "
                         f"the first {LAYOUT_PROBE_S:.0f} s, then every "
                         f"{LAYOUT_LATER_STEP_S:.0f} s); the longest stretch's tiles are "
                         f"used: {guess.layout}")
    return guess.boxes


def upright_size(info: media.MediaInfo) -> tuple[int, int]:
    """(height, width) of frames as shown: phone videos rotated by 90° swap the two."""
    if info.rotation_deg in (90, 270):
        return info.width, info.height
    return info.height, info.width


__all__ = ["find_participants", "tile_boxes", "upright_size", "voice_count"]
