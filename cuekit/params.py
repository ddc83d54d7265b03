"""Stage parameters: one frozen dataclass per tunable stage, units in the field names.

:class:`cuekit.config.AnalysisConfig` holds one of each (the defaults here), the session hands
them to the stages, and each stage records the ones it used in the result's provenance
(``session.json`` → ``provenance.stages``). Plain dataclasses, no imports beyond the standard
library, so the metric registry (``cuekit.metrics``) can state the numbers in its definitions
without loading any stage.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .errors import InputError


@dataclass(frozen=True)
class VadParams:
    """Voice activity (``cuekit.audio.voice.speech_mask``)."""

    threshold: float = 0.5  # Silero speech probability (0..1) at or above which speech starts
    release_margin: float = 0.15  # ... and stays speech while at or above threshold - this
    # (hysteresis; Silero's own neg_threshold). benchmarks/validate.py, count given: AMI DER
    # 45.7 -> 43.4 % (miss 35.1 -> 34.0), pyAudioAnalysis 5.3 -> 5.2 %, phone call 4.3 -> 4.7 %
    min_speech_s: float = 0.15  # shorter speech is dropped
    min_silence_s: float = 0.25  # shorter silences inside speech are filled
    pad_s: float = 0.0  # speech widened by this on both sides. Before: 0.2 s and 0.03 s (the pad
    # widened each run by a 32-ms window a side, so pauses up to 0.26 s were filled; 0.25 s with
    # no pad fills up to 0.22 s). validate.py, count given, pooled: all 12 files 19.4 -> 19.2 %
    # (AMI 31.1 -> 31.8, pyAudioAnalysis 5.3 -> 4.2, phone call 5.0 -> 3.7); 20 generated video
    # calls' frame error median 0.072 -> 0.062 (0.2 s unpadded: 19.4 %, 0.055, but an espeak
    # pause of 0.22 s inside an interrupter's speech then moved the interruption 0.6 s late)
    model_threshold: float | None = 0.7  # on a mixed track, frames where the segmentation model
    # (cuekit.audio.segmentation) hears someone speak with at least this probability are speech
    # too (joined to Silero's, same duration rules; None: Silero alone). benchmarks/validate.py,
    # count given, pooled: AMI 38.9 -> 31.8 % (miss 28.4 -> 19.1, confusion 10.2 -> 11.4),
    # pyAudioAnalysis 5.2 -> 5.1 %, phone call 4.9 -> 5.0 %; 0.5: AMI 33.8 %, phone call 5.7 %
    level_floor_share: float | None = 0.2  # then speech is cut to the frames at least this share
    # of the way from the noise floor to the voices' loud level (cuekit.audio.voice.cut_to_level:
    # the models' decisions run on past the last word and bridge short pauses; None: not cut).
    # 20 generated video calls' frame error median 0.062 -> 0.035, worst 0.106 -> 0.086;
    # validate.py, count given, pooled: AMI 31.8 -> 31.5 %, pyAudioAnalysis 4.2 -> 5.4 %, phone
    # call 3.7 -> 3.8 %. 0.3: family 0.034 / 0.072 but pyAudioAnalysis 8.8 %. Frames under 10 dB
    # over the floor or 35 dB under the loud level: family 0.027 / 0.063, but the 10 dB cut the
    # voices of a recording ~12 dB above its background (pyAudioAnalysis 58 %), the 35 dB AMI's
    # soft voices (37 %)

    def __post_init__(self) -> None:
        if not 0.0 <= self.release_margin <= self.threshold:
            raise InputError(f"VadParams.release_margin must be in 0..threshold "
                             f"({self.threshold}), got {self.release_margin!r}")
        if self.level_floor_share is not None and not 0.0 < self.level_floor_share < 1.0:
            raise InputError(f"VadParams.level_floor_share must be in (0, 1) or None, "
                             f"got {self.level_floor_share!r}")
        if self.model_threshold is not None and not 0.0 < self.model_threshold <= 1.0:
            raise InputError(f"VadParams.model_threshold must be in (0, 1] or None, "
                             f"got {self.model_threshold!r}")

    def silero_rules(self) -> dict[str, float]:
        """The keyword arguments of ``cuekit.audio.voice.speech_mask`` for Silero's scores."""
        return dict(threshold=self.threshold, release_margin=self.release_margin,
                    min_speech_s=self.min_speech_s, min_silence_s=self.min_silence_s,
                    pad_s=self.pad_s)


@dataclass(frozen=True)
class PitchParams:
    """Pitch tracking (``cuekit.audio.voice.pitch``)."""

    fmin_hz: float = 60.0
    fmax_hz: float = 500.0
    hop_s: float = 0.01


@dataclass(frozen=True)
class VoiceParams:
    """The audio stage's per-speaker summary."""

    monotone_max_st: float = 1.5  # pitch SD (semitones) below which a speaker is monotone
    max_pause_in_turn_s: float = 1.0  # shorter pauses inside a turn count towards speech_rate


@dataclass(frozen=True)
class OverlapParams:
    """Overlapped speech in a mixed track (``cuekit.audio.segmentation``): the segmentation
    model's 10-s windows start every ``step_s`` (for its speech too, ``VadParams.model_threshold``);
    a frame whose mean overlap probability is at
    least ``min_probability`` has two voices (0.5: the lowest pooled DER of the validation
    recordings that leaves the non-AMI ones within 0.2 points; ``benchmarks/overlap_sweep.py``)."""

    step_s: float = 2.5
    min_probability: float = 0.5
    join_s: float = 0.75  # a voice's own speech and its overlapped speech this close are one
    # stretch: inside an overlap the windows' votes misplace the change by up to half a speaker
    # window, so the one who was talking seemed to stop and cut back in (family of generated
    # calls: right authors 26 -> 34 of 39; AMI 31.8 -> 31.1 %, all 12 files 19.7 -> 19.4 %)

    def __post_init__(self) -> None:
        if not self.join_s >= 0.0:
            raise InputError(f"OverlapParams.join_s must be >= 0 s, got {self.join_s!r}")


@dataclass(frozen=True)
class ToneShiftParams:
    """A *tone shift* (raised voice): a stretch of at least ``min_s`` in which the speaker's
    running median pitch over ``median_window_s`` is more than ``pitch_rise_st`` above their own
    whole-call median, or their running median loudness more than ``loudness_rise_db`` above
    theirs; stretches less than ``bridge_s`` apart are one."""

    pitch_rise_st: float = 3.0
    loudness_rise_db: float = 6.0
    median_window_s: float = 2.0
    min_s: float = 2.0
    bridge_s: float = 1.0


@dataclass(frozen=True)
class TurnParams:
    """Turn-taking (``cuekit.dynamics.turns``): who holds the floor, overlaps, backchannels."""

    min_overlap_s: float = 0.25  # shorter simultaneous speech is not an overlap
    backchannel_max_s: float = 1.0  # an overlap shorter than this that leaves the floor is one
    keep_floor_s: float = 0.5  # solo speech shorter than this inside another's turn takes no floor


@dataclass(frozen=True)
class SyncParams:
    """Movement synchrony (``cuekit.dynamics.synchrony.pair_synchrony``)."""

    step_s: float = 0.1  # grid of the movement series
    window_s: float = 10.0
    lag_max_s: float = 3.0
    win_step_s: float = 1.0
    n_surrogates: int = 1000
    quantile: float = 0.99  # a window above this quantile of chance starts a stretch …
    quantile_extend: float = 0.95  # … which goes on while windows stay above this one
    n_null_pairs: int = 2000
    min_stretch_s: float = 10.0


@dataclass(frozen=True)
class ListeningParams:
    """The listening profile (``cuekit.dynamics.profile``)."""

    min_listening_s: float = 5.0  # rates per minute of listening need at least this much of it
    tone_response_s: float = 3.0  # a tone shift this soon after the other's still counts


@dataclass(frozen=True)
class VerbalParams:
    """The verbal cues (``cuekit.dynamics.verbal``) and the pitch rule for questions."""

    question_rise_st: float = 2.0  # final pitch rise that makes a sentence a question
    question_tail_s: float = 0.5  # ... measured over this last stretch against the second before
    clarify_shared: int = 2  # content words shared with the other's turn: clarifying question
    paraphrase_shared: int = 2  # content-word stems shared with the other's previous turn
    paraphrase_share: float = 0.5  # ... or this share of the sentence's own content stems
    paraphrase_min_words: int = 4
    talk_over_min_words: int = 3  # shorter utterances inside the other's are backchannels


# The defaults, one instance each (what AnalysisConfig starts from and the metric registry states)
VAD = VadParams()
PITCH = PitchParams()
VOICE = VoiceParams()
OVERLAP = OverlapParams()
TONE_SHIFT = ToneShiftParams()
TURNS = TurnParams()
SYNC = SyncParams()
LISTENING = ListeningParams()
VERBAL = VerbalParams()

STAGE_PARAMS = {"vad": VadParams, "pitch": PitchParams, "voice": VoiceParams,
                "overlap": OverlapParams, "tone_shift": ToneShiftParams,
                "turns": TurnParams, "sync": SyncParams, "listening": ListeningParams,
                "verbal": VerbalParams}


def from_dict(cls: type, value) -> object:
    """``value`` as a ``cls``: an instance as is, a dict (as read back from JSON) by its fields;
    an unknown field raises ``InputError``."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise InputError(f"{cls.__name__} wants a dict of its fields, got {value!r}")
    known = {f.name for f in fields(cls)}
    unknown = set(value) - known
    if unknown:
        raise InputError(f"unknown {cls.__name__} field(s) {sorted(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
    return cls(**value)


__all__ = ["LISTENING", "OVERLAP", "PITCH", "STAGE_PARAMS", "SYNC", "TONE_SHIFT", "TURNS", "VAD", "VOICE",
           "ListeningParams", "OverlapParams", "PitchParams", "SyncParams", "ToneShiftParams", "TurnParams",
           "VadParams", "VoiceParams", "asdict", "from_dict"]
