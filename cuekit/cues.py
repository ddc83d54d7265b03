"""The cue registry and the three table types every module shares.

``samples``  long table, one row per (participant, cue, t): ``t`` float s on the media clock,
             ``participant`` str, ``cue`` str, ``value`` float64 (NaN = not observed, never 0),
             ``confidence`` float32 in 0..1.
``segments`` intervals: ``start``, ``end`` (float s), ``participant`` (``P1|P2`` for a pair),
             ``kind``, ``label`` (str), ``score`` (float64).
``words``    one row per spoken word: ``start``, ``end`` (float64 s), ``participant`` (str, ``""``
             when nobody's speech covers it), ``word`` (str, with its punctuation),
             ``probability`` (float32 0..1, the recogniser's; NaN for an uploaded transcript).

The registry (``CUES``) is the single place that names cues: their unit, range and meaning. The
CLI (`cuekit cues`), the dashboard's legends and the exports all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError

SAMPLE_COLUMNS = ["t", "participant", "cue", "value", "confidence"]
SEGMENT_COLUMNS = ["start", "end", "participant", "kind", "label", "score"]
WORD_COLUMNS = ["start", "end", "participant", "word", "probability"]
PAIR_SEPARATOR = "|"  # a pair's rows name both participants: "Ann|Bob"


@dataclass(frozen=True)
class Cue:
    name: str
    unit: str
    range: str
    meaning: str
    how: str


CUES: dict[str, Cue] = {
    c.name: c
    for c in [
        Cue("face.present", "0/1", "0..1", "a face was found in the participant's region",
            "face landmarker detection per sampled frame"),
        Cue("head.yaw_deg", "deg", "-90..90", "head turn; + = participant turns to their left",
            "head axes built from the 3-D face landmarks (eye line, forehead-chin line)"),
        Cue("head.pitch_deg", "deg", "-90..90", "head tilt up/down; + = up",
            "head axes built from the 3-D face landmarks (eye line, forehead-chin line)"),
        Cue("head.roll_deg", "deg", "-90..90", "head tilt sideways; + = towards their left shoulder",
            "angle of the line between the face sides (landmarks 234/454)"),
        Cue("gaze.h", "-1..1", "-1..1", "eye-in-head direction, horizontal, calibrated per person",
            "iris offset within the eye opening, minus the person's median"),
        Cue("gaze.v", "-1..1", "-1..1", "eye-in-head direction, vertical, calibrated per person",
            "iris offset within the eye opening, minus the person's median"),
        Cue("gaze.on_screen", "0/1", "0..1", "looking at the screen or camera (1) or away (0)",
            "head pose + iris offset inside the person's own central band"),
        Cue("eye.openness", "ratio", "0..1", "eye aspect ratio (height / width), both eyes",
            "landmark distances"),
        Cue("expr.smile", "0..1", "0..1",
            "smile intensity over the person's neutral (median), lowered while they talk",
            "mouth width + corner retraction (geometry) or mouthSmile blendshapes"),
        Cue("expr.brow_raise", "0..1", "0..1", "brow raise (AU1+2) over the neutral (median)",
            "brow-to-eye-corners height (geometry) or browInnerUp/browOuterUp blendshapes"),
        Cue("expr.brow_furrow", "0..1", "0..1", "brow furrow (AU4) over the neutral (median)",
            "inner-brow distance (geometry) or browDown blendshapes"),
        Cue("expr.mouth_open", "0..1", "0..1", "mouth opening (AU25/26)",
            "inner-lip gap in inter-ocular distances (geometry, whatever the expression source)"),
        Cue("body.lean", "relative", "-1..1", "lean toward (+) or away (-) from the camera vs own baseline",
            "face size relative to the person's median"),
        Cue("body.shoulder_tilt_deg", "deg", "-45..45", "shoulder line tilt; + = left shoulder up",
            "pose landmarks 11/12"),
        Cue("body.slouch", "0..1", "0..1", "slouch: head sunk toward the shoulders vs own upright",
            "nose height above the shoulder line (pose), drop below the person's 90th percentile"),
        Cue("body.arms_crossed", "0/1", "0..1", "arms crossed (NaN when arms not visible)",
            "pose wrists on the opposite side of the midline, below the shoulders"),
        Cue("body.motion_energy", "0..1", "0..1", "share of changed pixels in the participant's region",
            "frame differencing (Motion Energy Analysis)"),
        Cue("body.hand_activity", "1/s", "0..", "wrist motion in shoulder widths per second",
            "pose wrists when visible"),
        Cue("voice.active", "0/1", "0..1", "the participant is speaking", "voice activity detection"),
        Cue("voice.pitch_hz", "Hz", "50..600", "fundamental frequency, NaN when unvoiced",
            "pitch tracker over voiced frames"),
        Cue("voice.pitch_st", "st", "0..60", "pitch in semitones re 27.5 Hz (eGeMAPS)",
            "12·log2(F0/27.5)"),
        Cue("voice.loudness_db", "dB", "-100..0", "loudness (RMS level re full scale)",
            "RMS over 50 ms frames"),
        Cue("voice.syllable_rate", "syl/s", "0..10", "syllables per second of speech",
            "syllable nuclei (intensity peaks in voiced stretches)"),
        Cue("sync.motion", "0..1", "0..1", "synchrony of motion energy between a pair (|r|)",
            "windowed lagged cross-correlation (rMEA)"),
        Cue("sync.head", "0..1", "0..1", "synchrony of head movement (angular speed) between a pair (|r|)",
            "windowed lagged cross-correlation (rMEA)"),
        Cue("sync.smile", "0..1", "0..1", "synchrony of smile intensity between a pair (|r|)",
            "windowed lagged cross-correlation (rMEA)"),
        Cue("sync.lag_s", "s", "-5..5", "lag of the best correlation; + = second of pair follows",
            "windowed lagged cross-correlation (rMEA)"),
    ]
}

# Segment kinds and what one segment of each means (``cuekit cues`` prints them).
SEGMENT_KINDS: dict[str, str] = {
    "speech": "a stretch of one participant's speech (who speaks when)",
    "pause": "silence inside one participant's turn",
    "gap": "silence between one participant's turn and the next speaker's (P1|P2)",
    "overlap": "two participants speaking at once (P1|P2)",
    "interruption": "an overlap in which the one who cut in took the floor",
    "backchannel": "a short vocal reply inside the other's turn that does not take the floor",
    "nod": "head nod (pitch oscillation)", "shake": "head shake (yaw oscillation)",
    "blink": "eye closure", "smile": "a smile episode", "gaze_away": "looking away from the screen",
    "tone_shift": "voice raised or lowered against the person's own level",
    "mirror": "one participant mirroring the other (posture, smile, movement, nodding along)",
    "moment": "a coaching moment worth reviewing; label = the reason, score = rank",
    "note": "a reviewer's note",
    "transcript": "an utterance of the transcript (uploaded, or words joined by speaker)",
    "question": "a question (label: open, closed or clarifying) from its words and final pitch",
    "paraphrase": "a turn that restates the other's previous turn (label: the turn restated)",
    "empathy": "an empathy or acknowledgement statement (label: the phrase found)",
    "filler": "a filler word or phrase (um, uh, you know, I mean)",
    "talk_over": "words spoken inside the other's turn that did not take the floor",
    "sentiment": "an utterance's sentiment (VADER compound score, -1..1); not empathy",
}


def is_pair(participant: str) -> bool:
    """Whether a row's participant is a pair (``Ann|Bob``: synchrony, mirroring, moments)."""
    return PAIR_SEPARATOR in participant


def pair_name(names) -> str:
    """The participant of a pair's rows: ``pair_name(["Ann", "Bob"]) == "Ann|Bob"``."""
    return PAIR_SEPARATOR.join(names)


def pair_members(participant: str) -> list[str]:
    """The people a row names: ``["Ann", "Bob"]`` for a pair, ``["Ann"]`` for one person."""
    return participant.split(PAIR_SEPARATOR)


def shown_name(participant: str) -> str:
    """A participant as shown to people: a pair as ``Ann & Bob``."""
    return participant.replace(PAIR_SEPARATOR, " & ")


def empty_samples() -> pd.DataFrame:
    return pd.DataFrame({
        "t": pd.Series(dtype="float64"), "participant": pd.Series(dtype="str"),
        "cue": pd.Series(dtype="str"), "value": pd.Series(dtype="float64"),
        "confidence": pd.Series(dtype="float32"),
    })


def empty_segments() -> pd.DataFrame:
    return pd.DataFrame({
        "start": pd.Series(dtype="float64"), "end": pd.Series(dtype="float64"),
        "participant": pd.Series(dtype="str"), "kind": pd.Series(dtype="str"),
        "label": pd.Series(dtype="str"), "score": pd.Series(dtype="float64"),
    })


def series_to_samples(t: np.ndarray, participant: str, cue: str, value: np.ndarray,
                      confidence: np.ndarray | float = 1.0) -> pd.DataFrame:
    """Build a samples table for one (participant, cue) from parallel arrays."""
    if cue not in CUES:
        raise InputError(f"unknown cue {cue!r}: add it to cuekit.cues.CUES first")
    t = np.asarray(t, dtype="float64")
    value = np.asarray(value, dtype="float64")
    if t.shape != value.shape:
        raise InputError(f"t has shape {t.shape} but value has {value.shape} for cue {cue!r}")
    conf = np.broadcast_to(np.asarray(confidence, dtype="float32"), t.shape)
    return pd.DataFrame({"t": t, "participant": participant, "cue": cue, "value": value,
                         "confidence": conf.astype("float32")})


def make_segments(rows: list[dict]) -> pd.DataFrame:
    """Build a segments table from dicts with keys start, end, participant, kind[, label, score]."""
    if not rows:
        return empty_segments()
    df = pd.DataFrame(rows)
    for col, default in (("label", ""), ("score", np.nan)):
        if col not in df:
            df[col] = default
    bad = set(df["kind"]) - set(SEGMENT_KINDS)
    if bad:
        raise InputError(f"unknown segment kind(s) {sorted(bad)}; known: {', '.join(SEGMENT_KINDS)}")
    df = df[SEGMENT_COLUMNS].astype({"start": "float64", "end": "float64", "score": "float64"})
    df["label"] = df["label"].fillna("").astype(str)
    return df


def make_words(rows) -> pd.DataFrame:
    """The words table from ``(start, end, participant, word, probability)`` rows, in time order."""
    df = pd.DataFrame(list(rows), columns=WORD_COLUMNS)
    df = df.astype({"start": "float64", "end": "float64", "participant": "str", "word": "str",
                    "probability": "float32"})
    return df.sort_values(["start", "end"], kind="stable").reset_index(drop=True)


def concat_samples(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One samples table sorted by (participant, cue, t); where a key repeats, the last wins.

    Tables made of whole (participant, cue) runs already sorted by time, no run's key in two
    places (what the pipelines produce) are put in order by moving the runs (one copy); others
    go through a full de-duplication and sort (several copies of the table)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_samples()
    order = _run_order(frames)
    df = pd.concat([f[SAMPLE_COLUMNS] for f in frames], ignore_index=True)
    if order is not None:
        return df.take(order).reset_index(drop=True)
    df = df.drop_duplicates(["participant", "cue", "t"], keep="last")
    return df.sort_values(["participant", "cue", "t"], kind="stable").reset_index(drop=True)


def _run_order(frames: list[pd.DataFrame]) -> np.ndarray | None:
    """Row order that sorts the concatenated ``frames`` by moving whole (participant, cue) runs,
    or None when some run is not strictly increasing in time or a key has two runs."""
    runs, offset = [], 0
    for f in frames:
        p, c = f["participant"].to_numpy(), f["cue"].to_numpy()
        t = f["t"].to_numpy(dtype="float64")
        new_run = (p[1:] != p[:-1]) | (c[1:] != c[:-1])
        if not (new_run | (t[1:] > t[:-1])).all():  # within a run: strictly increasing times
            return None
        starts = np.concatenate([[0], np.flatnonzero(new_run) + 1])
        ends = np.concatenate([starts[1:], [len(f)]])
        runs += [((p[a], c[a]), offset + a, offset + b) for a, b in zip(starts, ends, strict=True)]
        offset += len(f)
    keys = [k for k, _, _ in runs]
    if len(set(keys)) != len(keys):
        return None
    runs.sort(key=lambda r: r[0])
    return np.concatenate([np.arange(a, b) for _, a, b in runs])


def concat_segments(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_segments()
    df = pd.concat(frames, ignore_index=True)[SEGMENT_COLUMNS]
    return df.sort_values(["start", "participant", "kind"], kind="stable").reset_index(drop=True)


def series(samples: pd.DataFrame, participant: str, cue: str) -> tuple[np.ndarray, np.ndarray]:
    """(t, value) arrays of one participant's cue, sorted by time; empty arrays if absent."""
    sel = samples[(samples["participant"] == participant) & (samples["cue"] == cue)]
    sel = sel.sort_values("t")
    return sel["t"].to_numpy(dtype="float64"), sel["value"].to_numpy(dtype="float64")


def align(samples: pd.DataFrame, step_s: float, *, start_s: float = 0.0,
          end_s: float | None = None) -> pd.DataFrame:
    """Put every (participant, cue) on one time grid of ``step_s`` seconds.

    Returns a wide table indexed by ``t`` with one column per ``participant/cue``. Each grid
    point takes the mean of the samples in ``[t, t + step_s)``; points with none are NaN
    (not interpolated, so gaps stay visible).
    """
    if not step_s > 0:
        raise InputError(f"step_s must be > 0, got {step_s!r}")
    if end_s is None:
        end_s = float(samples["t"].max()) + step_s if len(samples) else start_s
    grid = np.arange(start_s, end_s, step_s)
    out = pd.DataFrame(index=pd.Index(grid, name="t"))
    if not len(samples):
        return out
    for (p, c), g in samples.groupby(["participant", "cue"], sort=True):
        # a sample on a grid point belongs to that point's bin: without the epsilon, 0.3 / 0.1
        # = 2.9999999999999996 would put it in the bin before and leave a NaN hole
        idx = np.floor((g["t"].to_numpy() - start_s) / step_s + 1e-9).astype(int)
        ok = (idx >= 0) & (idx < len(grid))
        sums = np.bincount(idx[ok], weights=np.nan_to_num(g["value"].to_numpy()[ok]),
                           minlength=len(grid))
        counts = np.bincount(idx[ok], weights=np.isfinite(g["value"].to_numpy()[ok]),
                             minlength=len(grid))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{p}/{c}"] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out



@dataclass
class StreamResult:
    """What one pipeline (video, audio, dynamics) returns: tables plus what it used."""

    samples: pd.DataFrame
    segments: pd.DataFrame
    provenance: dict = field(default_factory=dict)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)  # participant -> metrics
    # what a later stage may need from this one in memory (never saved): e.g. the audio stage's
    # analysis windows, so that attribution can split a mixed track again with the video's help
    state: dict = field(default_factory=dict, repr=False, compare=False)
