"""Analysis settings shared by the CLI, the dashboard and batch runs (one place for defaults)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from .errors import InputError
from .layout import GRIDS, parse_names
from .params import (LISTENING, OVERLAP, PITCH, STAGE_PARAMS, SYNC, TONE_SHIFT, TURNS, VAD, VERBAL,
                     VOICE, ListeningParams, OverlapParams, PitchParams, SyncParams, ToneShiftParams,
                     TurnParams, VadParams, VerbalParams, VoiceParams, from_dict)
from .video.face import EXPRESSION_SOURCES

# The layouts a person picks by name, with what each means (boxes 'x,y,w,h;…' are the rest).
LAYOUTS = {"auto": "detect automatically", "1": "one camera", "2x1": "two tiles side by side",
           "1x2": "two tiles stacked", "2x2": "four tiles", "audio": "audio only (ignore video)"}
LAYOUTS.update({g: g for g in GRIDS if g not in LAYOUTS})

DEFAULT_FACE_FPS = 10.0   # blinks and nods need >= 10 samples per second
DEFAULT_POSE_FPS = 1.0    # posture changes slowly; Pose costs ~25 ms of CPU per tile-frame
DEFAULT_AUDIO_SR = 16000  # enough for pitch and VAD; the Silero VAD model wants 16 kHz


@dataclass
class AnalysisConfig:
    """Everything that changes the result of ``cuekit.session.analyze``.

    ``layout``: ``auto``, ``1``, ``2x1`` (two tiles side by side), ``1x2`` (stacked), ``2x2``,
    explicit boxes ``'x,y,w,h;x,y,w,h'``, or ``audio`` (ignore the video). ``audio_files`` maps a
    participant name to a separate recording of that person's voice. ``transcribe`` writes the
    words with the local speech recogniser when no ``transcript`` is given (off by default: about 3
    minutes more per hour of speech on two cores; see the README); ``whisper_model`` names a CTranslate2
    Whisper folder instead of the bundled tiny.en; ``phrases`` a TOML file of phrase lists for
    the verbal cues (``cuekit/phrases.toml`` is the default). ``vad`` … ``listening`` are the
    stages' parameters (:mod:`cuekit.params`); a dict of fields is accepted for each
    (as ``to_dict`` gives them back).
    """

    layout: str = "auto"
    names: list[str] | None = None
    face_fps: float = DEFAULT_FACE_FPS
    pose_fps: float = DEFAULT_POSE_FPS
    audio_sr: int = DEFAULT_AUDIO_SR
    speakers: int | None = None
    audio_files: dict[str, str] = field(default_factory=dict)
    transcript: str | None = None
    expressions: str = "blendshapes"
    transcribe: bool = False
    whisper_model: str | None = None
    phrases: str | None = None
    vad: VadParams = VAD
    pitch: PitchParams = PITCH
    voice: VoiceParams = VOICE
    overlap: OverlapParams = OVERLAP
    tone_shift: ToneShiftParams = TONE_SHIFT
    turns: TurnParams = TURNS
    sync: SyncParams = SYNC
    listening: ListeningParams = LISTENING
    verbal: VerbalParams = VERBAL

    def __post_init__(self) -> None:
        for name, cls in STAGE_PARAMS.items():
            setattr(self, name, from_dict(cls, getattr(self, name)))
        self.names = parse_names(self.names)
        if not (self.layout in LAYOUTS or "," in self.layout):
            raise InputError(f"unknown layout {self.layout!r}; use auto, audio, "
                             f"{', '.join(GRIDS)} or boxes 'x,y,w,h;x,y,w,h'")
        for name, value, lo, hi in (("face_fps", self.face_fps, 0.5, 60),
                                    ("pose_fps", self.pose_fps, 0.0, 30)):
            if not (lo <= float(value) <= hi):
                raise InputError(f"{name} must be in {lo}..{hi} frames per second, got {value!r}")
        if self.audio_sr not in (8000, 16000):
            raise InputError(f"audio_sr must be 8000 or 16000 Hz, got {self.audio_sr!r}")
        if self.speakers is not None and not (1 <= int(self.speakers) <= 8):
            raise InputError(f"speakers must be 1..8, got {self.speakers!r}")
        if self.expressions not in EXPRESSION_SOURCES:
            raise InputError(f"expressions must be one of {', '.join(EXPRESSION_SOURCES)}, "
                             f"got {self.expressions!r}")
        for name, path in self.audio_files.items():
            if not os.path.isfile(path):
                raise InputError(f"audio file for {name} not found: {path}")
        if self.transcript is not None and not os.path.isfile(self.transcript):
            raise InputError(f"transcript not found: {self.transcript}")
        if self.phrases is not None and not os.path.isfile(self.phrases):
            raise InputError(f"phrases file not found: {self.phrases}")

    def to_dict(self) -> dict:
        return asdict(self)
