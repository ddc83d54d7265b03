"""A family of generated two-person calls with known answers, and how cuekit scores on them.

    .venv/bin/python benchmarks/call_family.py [--n 20] [--seed0 0] [--out /tmp/cuekit_family]
                                               [--layout 2x1|auto] [--workers 2] [--only-generate]

Each call is a pure function of its seed (and of the photos present in ``../shared``): a
1280x720 side-by-side gallery (the sample call's frame and tile boxes), 25 or 30 fps, ~40-55 s,
one mixed mono track. What the sample call fixes varies here:

* faces: the astronaut (``synth.astronaut_person`` on the sample call's rooms), the photos of
  ``../shared/images`` framed as webcam tiles (``tests/layoutgen.py``; landmarks found once with
  cuekit's own face model so ``synth.warp_head`` can open the mouth and nod the head), and GRID's
  real talking faces (``../shared/media/grid_10speakers_30s.mp4``: the person's own video and
  voice, looped per turn; a still frame from before the sentence while listening). Without
  ``../shared`` only the astronaut is used.
* voices: espeak-ng voices and ``-p`` settings picked so that a third of the pairs are < 2
  semitones apart, a third 2-7 and a third further; the median pitch of every voice as placed in
  the call is measured (librosa's YIN on the loud frames) and the real distance reported.
* turn timing: gaps 0.15-1.2 s, pauses inside a turn, 1-3 interruptions a call where the second
  speaker starts 0.5-2.0 s before the first has finished (crosstalk: the first speaker finishes
  their sentence), and 1-4 backchannels ("Mm-hm.", "Yeah.", "Right." …) in a voiced stretch of
  the other's turn.
* head motion and light: listener nods (2 Hz, 7-10°), a sideways sway on some calls, a
  brightness ramp of one tile (x0.55 or x1.35 over 1.5-3 s) on some, and on some a chewing-like
  mouth movement of the silent listener (3-5 s at ~1.5 Hz) to test who is given the voice.

Mouths follow each speaker's own speech envelope, as in ``make_sample_call.py``; the listener's
mouth stays closed except for backchannels (and the chewing). Calls and their truth JSON
(``call_SEED.mp4``, ``call_SEED.truth.json``, the sample call's schema plus ``speech_voiced``,
``overlaps[].author`` and the extras) are cached in ``--out``, never in the repository.

Scoring (``cuekit.session.analyze(path, AnalysisConfig(layout="2x1"))``): frame error of who
speaks when on 10 ms frames (the share of frames whose set of speakers differs from the truth;
the truth is each utterance's voiced stretches split at silences ≥ 0.25 s; tiles are known, so
P1 = left, no remapping), every interruption overlap ≥ 0.5 s found (an ``overlap`` or
``interruption`` segment overlapping it) and with the right author (an ``interruption`` by the
one who started second), backchannel recall and precision (``backchannel`` segments, 0.3 s
slack, right participant), nod recall. Targets (the issue): median frame error ≤ 0.03, worst
≤ 0.08, every overlap ≥ 0.5 s found with the right author, backchannel recall ≥ 80 %.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from functools import cache

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "sample_media"), os.path.join(ROOT, "benchmarks"),
           os.path.join(ROOT, "tests")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import layoutgen  # noqa: E402
import make_sample_call as msc  # noqa: E402
import synth  # noqa: E402
from accuracy_sample_call import match_events, overlap_s  # noqa: E402
from scoring import _activity  # noqa: E402

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
GRID_FILE = os.path.join(SHARED, "media", "grid_10speakers_30s.mp4")
GRID_CLIP_S, GRID_FPS, GRID_SPEAKERS = 3.0, 25, 10
SR = msc.SR
BOXES = msc.BOXES  # P1 left, P2 right: what layout="2x1" names P1 and P2
TILE = (msc.TILE_W, msc.TILE_H)
STEP_S = 0.01  # scoring frames
MIN_OVERLAP_S = 0.5
TARGETS = {"median_frame_error": 0.03, "worst_frame_error": 0.08, "backchannel_recall": 0.80}

SENTENCES = [
    "Thanks for joining the call today.", "I had a look at the numbers you sent over.",
    "The delivery was two days late, and nobody told us why.",
    "Can you walk me through what happened on Tuesday?",
    "We changed the supplier in March, so the timing moved a little.",
    "That makes sense, but our customers noticed it straight away.",
    "I can offer a discount on the next order to make up for it.",
    "What would that look like in practice?", "Let me check the contract first.",
    "The warehouse in Leeds is running at full capacity this month.",
    "We could split the shipment into two smaller ones.",
    "I would rather keep one delivery if that is possible.",
    "Honestly, the price matters less to us than the date.",
    "Understood, I will talk to the planning team this afternoon.",
    "Could you send me a short summary by email?",
    "Our finance people will want to see the new terms before Friday.",
    "The last three orders arrived on time, which is good news.",
    "I think we are close to an agreement here.",
    "Is there anything else on your list for today?",
    "One more thing, the invoices still show the old address.",
    "I will ask accounts to fix that and send corrected copies.",
    "We are planning a bigger order for the autumn season.",
    "Then we should reserve the slots early, maybe in July.",
    "That sounds sensible to me.", "Great, let us meet again next week.",
]
BACKCHANNELS = ["Mm-hm.", "Yeah.", "Right.", "Okay.", "Uh-huh.", "I see."]
MALE = ["en-us", "en-gb", "en-us+m3", "en-us+m7", "en-gb-scotland"]
FEMALE = ["en-us+f3", "en-us+f2"]


# ----------------------------------------------------------------------------- faces


def photo_faces() -> list[str]:
    """Face names in the order calls cycle through them: the astronaut, then the photos."""
    photos: list[str] = []
    images = os.path.join(SHARED, "images")
    if os.path.isdir(images):
        photos = sorted(n for n in layoutgen._SHARED_FACES if os.path.exists(os.path.join(images, n)))
    return ["astronaut"] + photos


def grid_available() -> bool:
    return os.path.exists(GRID_FILE)


@cache
def _grid_all() -> tuple[list[np.ndarray], np.ndarray]:
    from cuekit import media

    frames = [f for _, f in media.iter_frames(GRID_FILE, step_s=1 / GRID_FPS)]
    audio = media.load_audio(GRID_FILE, sr=SR)
    return frames, audio


def _landmarks_of(tile_bgr: np.ndarray) -> dict[int, np.ndarray]:
    """Face landmarks (tile pixels) by cuekit's own face model, tracked twice to settle."""
    from cuekit.media import Picture
    from cuekit.video.landmarks import FaceDetector, FaceLandmarker
    from cuekit.video.track import FaceTrack

    track = FaceTrack(FaceLandmarker(blendshapes=False), FaceDetector())
    found = None
    for _ in range(3):
        found = track.step(Picture(bgr=tile_bgr)) or found
    if found is None:
        raise RuntimeError("no face found in a generated tile")
    return {k: found.points[k, :2].astype(np.float64) for k in range(len(found.points))}


class Face:
    """One participant's picture source: ``base`` (BGR, or BGRA over ``room``) that
    ``synth.warp_head`` moves, or GRID frames (``grid``) shown as they are."""

    def __init__(self, name: str, side: str, seed: int) -> None:
        self.name, self.room, self.landmarks, self.grid = name, None, None, None
        w, h = TILE
        if name == "astronaut":
            self.base = synth.astronaut_person(TILE)
            self.room = msc._room(side).round().astype(np.uint8)
        elif name.startswith("grid"):
            k = int(name[4:])
            frames, audio = _grid_all()
            first = k * int(GRID_CLIP_S * GRID_FPS)
            clip = frames[first:first + int(GRID_CLIP_S * GRID_FPS)]
            y = audio[int(k * GRID_CLIP_S * SR):int((k + 1) * GRID_CLIP_S * SR)]
            on, off = synth.trim_silence(y, SR, threshold_db=-20.0)  # GRID's room noise: -20..-35 dB
            # crop round the face so it is ~36 % of the tile's width, as the astronaut's
            from cuekit.video.landmarks import FaceDetector

            dets = FaceDetector().detect(np.ascontiguousarray(clip[0][:, :, ::-1]))
            fx, fy, fw, fh = dets[0][:4]
            s = 0.36 * w / fw
            m = np.float32([[s, 0, w / 2 - s * (fx + fw / 2)], [0, s, 0.40 * h - s * (fy + fh / 2)]])
            self.grid = [cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_CUBIC,
                                        borderMode=cv2.BORDER_REPLICATE) for f in clip]
            self.grid_audio, self.grid_on, self.grid_off = y, on, off
            self.base = self.grid[max(0, int((on - 0.25) * GRID_FPS))]  # mouth shut, before
        else:
            person = layoutgen.Person(cv2.imread(os.path.join(SHARED, "images", name)),
                                      layoutgen._SHARED_FACES[name])
            rng = np.random.default_rng(seed)
            self.base = layoutgen.person_tile(person, w, h, rng, face_frac=0.42)
            self.landmarks = _landmarks_of(self.base)

    @property
    def movable(self) -> bool:
        return self.grid is None

    def tile(self, *, yaw=0.0, pitch=0.0, shift_x=0.0, mouth=0.0, grid_frame=None) -> np.ndarray:
        if self.grid is not None:
            return (self.grid[grid_frame] if grid_frame is not None else self.base).copy()
        fg = self.base
        if yaw or pitch or shift_x or mouth > 0:
            fg = synth.warp_head(self.base, yaw_deg=yaw, pitch_deg=pitch, shift_px=(shift_x, 0),
                                 mouth_open=mouth, landmarks_px=self.landmarks)
        return synth.composite(fg, self.room) if self.room is not None else fg.copy()


# ----------------------------------------------------------------------------- plan


def plan_call(seed: int) -> dict:
    """Everything random about call ``seed``: faces, voices, timing targets and extras."""
    rng = np.random.default_rng([seed, 20261206])
    faces = photo_faces()
    use_grid = grid_available() and seed % 5 == 4
    a = faces[seed % len(faces)]
    b = faces[(seed % len(faces) + 1 + int(rng.integers(len(faces) - 1))) % len(faces)] \
        if len(faces) > 1 else "astronaut"
    if use_grid:
        b = f"grid{(seed // 5) % GRID_SPEAKERS}"
    sides = ["P1", "P2"] if rng.random() < 0.5 else ["P2", "P1"]
    face = {sides[0]: a, sides[1]: b}
    # voices: pitch class by seed; GRID brings its own voice
    cls = ("close", "mid", "far")[seed % 3]
    rate = lambda: int(rng.integers(140, 195))  # noqa: E731
    if cls == "close":
        pool = MALE if rng.random() < 0.75 else FEMALE
        va, vb = rng.choice(pool, 2, replace=False)
        pa = int(rng.integers(25, 60))
        pb = int(np.clip(pa + rng.integers(-9, 10), 0, 99))
    elif cls == "mid":
        va, vb = rng.choice(MALE, 2, replace=False)
        pa = int(rng.integers(20, 35))
        pb = int(pa + rng.integers(25, 45))
    else:
        va, vb = str(rng.choice(MALE)), str(rng.choice(FEMALE))
        pa, pb = int(rng.integers(20, 50)), int(rng.integers(40, 75))
    voice = {sides[0]: dict(voice=str(va), pitch=pa, rate_wpm=rate()),
             sides[1]: dict(voice=str(vb), pitch=pb, rate_wpm=rate())}
    if use_grid:
        voice[sides[1]] = dict(voice="grid")
    return dict(
        seed=seed, fps=30 if seed % 4 == 3 else 25, face=face, voice=voice, pitch_class=cls,
        duration_target=float(rng.uniform(40, 52)), interruptions=int(rng.integers(1, 4)),
        backchannels=int(rng.integers(1, 5)), nods=int(rng.integers(2, 5)),
        sway=bool(rng.random() < 0.35), lighting=bool(rng.random() < 0.4),
        chewing=bool(rng.random() < 0.3), rng_seed=int(rng.integers(2**31)))


# ----------------------------------------------------------------------------- audio


def _say(voice: dict, text: str) -> np.ndarray:
    return synth.espeak(text, sr=SR, **voice)


def _grid_say(face: Face, reps: int) -> tuple[np.ndarray, list[tuple[int, float, int]]]:
    """The GRID person's sentence ``reps`` times, 0.3 s apart; and (sample index, clip time,
    samples) of each repeat, so the video can follow the audio."""
    a0 = max(0.0, face.grid_on - 0.03)
    a1 = min(GRID_CLIP_S, face.grid_off + 0.03)
    piece = face.grid_audio[int(a0 * SR):int(a1 * SR)].copy()
    nf = int(0.03 * SR)  # gated: GRID's room noise between sentences is not speech
    piece[:nf] *= np.linspace(0, 1, nf)
    piece[-nf:] *= np.linspace(1, 0, nf)
    gap = np.zeros(int(0.3 * SR), np.float32)
    parts, anchors, k = [], [], 0
    for r in range(reps):
        if r:
            parts.append(gap)
            k += len(gap)
        anchors.append((k, a0, len(piece)))
        parts.append(piece)
        k += len(piece)
    return np.concatenate(parts).astype(np.float32), anchors


def build_script(plan: dict, faces: dict[str, Face]) -> list[dict]:
    """Utterances placed on the media clock: turns, pauses, interruptions, then backchannels."""
    rng = np.random.default_rng(plan["rng_seed"])
    voice = plan["voice"]
    other = {"P1": "P2", "P2": "P1"}
    utts: list[dict] = []
    who = "P1" if rng.random() < 0.5 else "P2"
    want_int = plan["interruptions"]
    transition, gap = "start", 0.5
    sentences = list(rng.permutation(SENTENCES))
    while True:
        if voice[who]["voice"] == "grid":
            y, anchors = _grid_say(faces[who], int(rng.integers(1, 3)))
            text = "[GRID sentence]"
        else:
            n = 2 if rng.random() < 0.45 else 1
            text = " ".join(str(sentences.pop()) if sentences else str(rng.choice(SENTENCES))
                            for _ in range(n))
            y, anchors = _say(voice[who], text), None
        on, off = synth.trim_silence(y, SR)
        u = dict(participant=who, text=text, y=y, on=on, off=off, anchors=anchors,
                 transition=transition)
        if not utts:
            u["start"] = gap
        elif transition == "interrupt":
            prev = utts[-1]
            u["start"] = prev["end"] - gap
            u["interrupts"] = len(utts) - 1
        else:
            u["start"] = utts[-1]["end"] + gap
        u["place"] = u["start"] - on
        u["end"] = u["place"] + off
        utts.append(u)
        if u["end"] > plan["duration_target"]:
            break
        # the next transition: interrupt (if this one is long enough), pause, or a gap
        dur = u["end"] - u["start"]
        left = plan["duration_target"] - u["end"]
        done_int = sum(1 for x in utts if x.get("interrupts") is not None)
        p_int = (want_int - done_int) / max(1.0, left / 6.0)
        if (done_int < want_int and dur > 2.5 and u["transition"] != "interrupt"
                and rng.random() < p_int):
            transition, gap = "interrupt", float(rng.uniform(MIN_OVERLAP_S + 0.1, min(2.0, dur - 1.5)))
            who = other[who]
        elif rng.random() < 0.15 and u["transition"] != "interrupt":
            transition, gap = "pause", float(rng.uniform(0.6, 1.5))
        else:
            transition, gap = "gap", float(rng.uniform(0.15, 1.2))
            who = other[who]
    _add_backchannels(plan, utts, rng)
    return utts


def _speaking(utts: list[dict], p: str, a: float, b: float, margin: float = 0.5) -> bool:
    return any(u["participant"] == p and u["start"] - margin < b and a < u["end"] + margin
               for u in utts)


def _add_backchannels(plan: dict, utts: list[dict], rng: np.random.Generator) -> None:
    """Up to ``plan["backchannels"]`` short replies inside a voiced stretch of the other's turn
    (≥ 0.3 s of the host's voice on each side), never near the listener's own speech."""
    hosts = [u for u in utts if u["end"] - u["start"] >= 2.5]
    rng.shuffle(hosts)
    added = 0
    for host in hosts:
        if added >= plan["backchannels"]:
            break
        p = "P2" if host["participant"] == "P1" else "P1"
        if plan["voice"][p]["voice"] == "grid":
            continue
        text = str(rng.choice(BACKCHANNELS))
        y = _say(plan["voice"][p], text)
        on, off = synth.trim_silence(y, SR)
        want = host["place"] + host["on"] + rng.uniform(0.3, 0.6) * (host["off"] - host["on"])
        for a, b in synth.voiced_segments(host["y"], SR, min_gap_s=0.08):
            a2 = max(host["place"] + a + 0.3, want)
            if host["place"] + b - 0.3 - a2 >= off - on:
                start = a2
                break
        else:
            continue
        end = start + off - on
        if _speaking(utts, p, start, end) or end > host["end"] - 0.5:
            continue
        utts.append(dict(participant=p, text=text, y=y, on=on, off=off, anchors=None,
                         start=start, place=start - on, end=end, backchannel=True))
        added += 1
    utts.sort(key=lambda u: u["start"])


def place_audio(utts: list[dict], duration: float) -> dict[str, np.ndarray]:
    """Per-participant clean tracks at -20 dBFS loud level (times snapped to samples)."""
    return synth.place_utterances(utts, BOXES, int(round(duration * SR)), SR, msc.SPEECH_RMS)


def median_pitch_hz(y: np.ndarray) -> float:
    """Median f0 (YIN, 60-400 Hz) over the frames within 25 dB of the loudest."""
    import librosa

    f0 = librosa.yin(y, fmin=60, fmax=400, sr=SR, frame_length=1024, hop_length=160)
    _, rms = synth.frame_rms(y, SR, frame_s=1024 / SR, hop_s=160 / SR)
    n = min(len(f0), len(rms))
    loud = rms[:n] > rms.max() * 10 ** (-25 / 20)
    return float(np.median(f0[:n][loud]))


def pitched_spans(y: np.ndarray) -> list[tuple[float, float]]:
    """GRID's truth: each stretch of ``synth.voiced_segments`` (-35 dB, split at silences of
    0.25 s) cut to its first and last frame where librosa's pYIN finds a voice (60-400 Hz,
    10 ms hop). GRID's room noise, up to -16 dB re the speech peak, passes any level cut but
    mostly has no pitch; a GRID sentence is read in one breath, so nothing inside is split
    (pYIN leaves consonants and some weak vowels of these noisy recordings unvoiced)."""
    import librosa

    hop = 160
    _, voiced, _ = librosa.pyin(np.asarray(y, dtype="float64"), fmin=60, fmax=400, sr=SR,
                                frame_length=1024, hop_length=hop)
    t = np.arange(len(voiced)) * hop / SR
    out = []
    for a, b in synth.voiced_segments(y, SR, min_gap_s=0.25, threshold_db=-35.0):
        inside = np.flatnonzero(voiced & (t >= a) & (t <= b))
        if len(inside):
            out.append((max(a, t[inside[0]] - hop / 2 / SR), min(b, t[inside[-1]] + hop / 2 / SR)))
    return out


# ----------------------------------------------------------------------------- motion


def plan_motion(plan: dict, utts: list[dict], duration: float, fps: int, faces: dict[str, Face]):
    """Per-frame yaw/pitch/shift/mouth/gain per participant, and the events for the truth."""
    rng = np.random.default_rng(plan["rng_seed"] + 1)
    t = np.arange(int(round(duration * fps))) / fps
    pose = {p: {k: np.zeros_like(t) for k in ("yaw", "pitch", "shift_x", "chew")} for p in BOXES}
    gain = {p: np.ones_like(t) for p in BOXES}
    events: list[dict] = []
    busy: dict[str, list[tuple[float, float]]] = {p: [] for p in BOXES}

    def free(p, a, b):
        return not _speaking(utts, p, a, b, 0.3) and all(b <= x or a >= y for x, y in busy[p])

    floor = [u for u in utts if not u.get("backchannel") and u["end"] - u["start"] >= 2.5]
    # nods: the listener, during the other's turn; some with the listener's backchannel
    bcs = [u for u in utts if u.get("backchannel")]
    tries = 0
    while sum(e["kind"] == "nod" for e in events) < plan["nods"] and tries < 200:
        tries += 1
        if bcs and rng.random() < 0.3:
            u = bcs[int(rng.integers(len(bcs)))]
            p, t0 = u["participant"], u["start"] - 0.1
        else:
            host = floor[int(rng.integers(len(floor)))]
            p = "P2" if host["participant"] == "P1" else "P1"
            t0 = host["start"] + rng.uniform(0.3, max(0.4, host["end"] - host["start"] - 1.6))
        cyc = float(rng.choice([2.0, 2.5]))
        hz, amp = msc.NOD_HZ, float(rng.uniform(7, 10))
        t1 = t0 + cyc / hz
        if not faces[p].movable or t1 > duration - 0.5:
            continue
        if not all(t1 <= x or t0 >= y for x, y in busy[p]):
            continue
        if any(e for e in utts if e["participant"] == p and not e.get("backchannel")
               and e["start"] - 0.3 < t1 and t0 < e["end"] + 0.3):
            continue
        pose[p]["pitch"] += msc._osc(t, t0, hz, cyc, -amp)
        busy[p].append((t0 - 0.3, t1 + 0.3))
        events.append(dict(kind="nod", participant=p, start=t0, end=t1, cycles=cyc,
                           amplitude_deg=amp, hz=hz))
    if plan["chewing"]:
        for _ in range(50):
            host = floor[int(rng.integers(len(floor)))]
            p = "P2" if host["participant"] == "P1" else "P1"
            length = float(rng.uniform(3, 5))
            t0 = host["start"] + float(rng.uniform(0.6, 1.2))
            t1 = min(t0 + length, host["end"] - 0.6)
            if faces[p].movable and t1 - t0 >= 2.0 and free(p, t0, t1):
                hz = float(rng.uniform(1.3, 1.8))
                ph = np.clip((t - t0) / (t1 - t0), 0, 1)
                inside = (t >= t0) & (t <= t1)
                pose[p]["chew"] = np.where(inside, 0.35 * (0.5 - 0.5 * np.cos(2 * np.pi * hz * (t - t0)))
                                           * np.sin(np.pi * ph) ** 0.3, 0.0)
                busy[p].append((t0, t1))
                events.append(dict(kind="chewing", participant=p, start=t0, end=t1, hz=hz,
                                   mouth_open=0.35))
                break
    if plan["sway"]:
        p = str(rng.choice([q for q in BOXES if faces[q].movable] or ["P1"]))
        if faces[p].movable:
            t0 = float(rng.uniform(2, max(2.5, duration - msc.SWAY_S - 2)))
            pose[p]["shift_x"] += msc._sway(t, t0)
            events.append(dict(kind="sway", participant=p, start=t0, end=t0 + msc.SWAY_S,
                               amplitude_px=msc.SWAY_PX))
    if plan["lighting"]:
        p = str(rng.choice(list(BOXES)))
        g = float(rng.choice([0.55, 1.35]))
        t0, ramp = float(rng.uniform(5, duration - 10)), float(rng.uniform(1.5, 3.0))
        gain[p] = 1 + (g - 1) * synth._smoothstep((t - t0) / ramp)
        events.append(dict(kind="lighting", participant=p, start=t0, end=t0 + ramp, gain=g))
    return t, pose, gain, events


def grid_frames(utts: list[dict], p: str, t: np.ndarray) -> np.ndarray:
    """For a GRID participant: the clip frame shown at each call frame (-1: the still)."""
    idx = np.full(len(t), -1)
    for u in utts:
        if u["participant"] != p or not u["anchors"]:
            continue
        for k, a0, n in u["anchors"]:
            rel = t - (u["k"] + k) / SR
            inside = (rel >= 0) & (rel < n / SR)
            idx[inside] = np.clip(np.round((a0 + rel[inside]) * GRID_FPS).astype(int), 0,
                                  int(GRID_CLIP_S * GRID_FPS) - 1)
    return idx


def render(t, pose, mouth, gain, faces, gframes, names):
    cache: dict = {}
    for i in range(len(t)):
        frame = np.full((msc.FRAME_H, msc.FRAME_W, 3), msc.FRAME_BGR, np.uint8)
        for p, (x, y, w, h) in BOXES.items():
            f = faces[p]
            if f.grid is not None:
                gi = int(gframes[p][i])
                tile = f.tile(grid_frame=gi if gi >= 0 else None)
            else:
                mo = max(float(mouth[p][i]), float(pose[p]["chew"][i]))
                yaw, pitch, sx = (float(pose[p][k][i]) for k in ("yaw", "pitch", "shift_x"))
                still = mo < 1e-3 and yaw == 0 and pitch == 0 and sx == 0
                tile = cache.get(p) if still else None
                if tile is None:
                    tile = f.tile(yaw=yaw, pitch=pitch, shift_x=sx, mouth=mo if mo >= 1e-3 else 0)
                    if still:
                        cache[p] = tile
            g = float(gain[p][i])
            if g != 1.0:
                tile = cv2.convertScaleAbs(tile, alpha=g)
            frame[y:y + h, x:x + w] = tile
            msc._label(frame, (x, y, w, h), names[p])
        yield frame


# ----------------------------------------------------------------------------- truth


def build_truth(plan, utts, tracks, duration, fps, events) -> dict:
    r3 = lambda v: round(float(v), 3)  # noqa: E731
    speech = [dict(participant=u["participant"], start=r3(u["start"]), end=r3(u["end"]),
                   text=u["text"], **({"backchannel": True} if u.get("backchannel") else {}))
              for u in utts]
    voiced = []
    for u in utts:
        # GRID's recordings carry room noise 16-35 dB below the speech peak: any level cut
        # counted some of it as speech (at -20 dB, 0.4-0.8 s per sentence), so their truth
        # is each stretch from its first to its last pitched frame
        spans = (pitched_spans(u["y"]) if u.get("anchors") is not None
                 else synth.voiced_segments(u["y"], SR, min_gap_s=0.25, threshold_db=-35.0))
        for a, b in spans:
            voiced.append(dict(participant=u["participant"], start=r3(u["k"] / SR + a),
                               end=r3(u["k"] / SR + b)))
    voiced.sort(key=lambda s: s["start"])
    # overlaps between the two people's utterances; author = who started second
    overlaps = []
    for u in utts:
        for v in utts:
            if u["participant"] == "P1" and v["participant"] == "P2":
                s, e = max(u["start"], v["start"]), min(u["end"], v["end"])
                if e > s:
                    late = u if u["start"] > v["start"] else v
                    kind = "backchannel" if (u.get("backchannel") or v.get("backchannel")) \
                        else "interruption"
                    overlaps.append(dict(start=r3(s), end=r3(e), author=late["participant"],
                                         kind=kind))
    overlaps.sort(key=lambda o: o["start"])
    interruptions = [dict(start=r3(u["start"]), end=r3(utts_prev["end"]),
                          interrupter=u["participant"], interrupted=utts_prev["participant"])
                     for u in utts if u.get("interrupts") is not None
                     for utts_prev in [next(v for v in utts if v is not u and not v.get("backchannel")
                                            and v["participant"] != u["participant"]
                                            and v["start"] < u["start"] < v["end"])]]
    parts, pitches = {}, {}
    for p in BOXES:
        pitches[p] = median_pitch_hz(tracks[p])
        v = plan["voice"][p]
        parts[p] = dict(name=p, box=list(BOXES[p]), face=plan["face"][p], voice=v["voice"],
                        espeak_pitch=v.get("pitch"), rate_wpm=v.get("rate_wpm"),
                        pitch_ref_hz=round(pitches[p], 1),
                        speech_s=r3(sum(s["end"] - s["start"] for s in voiced
                                        if s["participant"] == p)))
    total = sum(parts[p]["speech_s"] for p in BOXES)

    def ev(kind):
        return [{k: (r3(x) if isinstance(x, float) else x) for k, x in e.items() if k != "kind"}
                for e in events if e["kind"] == kind]
    return {
        "seed": plan["seed"], "duration_s": r3(duration), "fps": fps,
        "size": [msc.FRAME_W, msc.FRAME_H],
        "audio": {"sample_rate": SR, "channels": 1, "noise_dbfs": msc.NOISE_DBFS,
                  "speech_rms_dbfs": round(20 * np.log10(msc.SPEECH_RMS), 1)},
        "layout": {"kind": "gallery", "frame_bgr": list(msc.FRAME_BGR)},
        "participants": parts,
        "pitch_class": plan["pitch_class"],
        "pitch_distance_st": round(abs(12 * math.log2(pitches["P1"] / pitches["P2"])), 2),
        "speech": speech, "speech_voiced": voiced, "overlaps": overlaps,
        "interruptions": interruptions,
        "backchannels": [dict(participant=u["participant"], start=r3(u["start"]), end=r3(u["end"]),
                              text=u["text"]) for u in utts if u.get("backchannel")],
        "nods": ev("nod"), "chewing": ev("chewing"), "sway": ev("sway"), "lighting": ev("lighting"),
        "talk_share": {p: round(parts[p]["speech_s"] / total, 4) for p in BOXES},
        "notes": "Times in s on the media clock. speech = voiced extent of each placed utterance "
                 "(-35 dB re its loudest 20 ms window); speech_voiced = the same split at "
                 "silences >= 0.25 s (what frame error is scored on; for GRID's voices, whose room "
                 "noise is 16-35 dB below their speech, each stretch cut to its first and last frame "
                 "where pYIN finds a pitch). overlaps: author = who "
                 "started second. The listener's mouth is closed except for backchannels and "
                 "chewing (mouth moves, no voice).",
    }


def generate(seed: int, out_dir: str) -> str:
    """Make ``call_SEED.mp4`` and its truth in ``out_dir`` (skipped when both exist)."""
    base = os.path.join(out_dir, f"call_{seed:03d}")
    if os.path.exists(base + ".mp4") and os.path.exists(base + ".truth.json"):
        return base
    clock = time.time()
    plan = plan_call(seed)
    faces = {p: Face(plan["face"][p], p, seed * 10 + i) for i, p in enumerate(BOXES)}
    utts = build_script(plan, faces)
    fps = GRID_FPS if any(f.grid is not None for f in faces.values()) else plan["fps"]
    duration = math.ceil((max(u["end"] for u in utts) + msc.TAIL_S) * fps) / fps
    tracks = place_audio(utts, duration)
    audio = msc.mix(tracks)
    t, pose, gain, events = plan_motion(plan, utts, duration, fps, faces)
    mouth = synth.mouth_openings(tracks, SR, t)
    gframes = {p: grid_frames(utts, p, t) for p in BOXES if faces[p].grid is not None}
    truth = build_truth(plan, utts, tracks, duration, fps, events)
    tmp = base + ".tmp.mp4"
    truth["video_codec"] = synth.write_av(tmp, render(t, pose, mouth, gain, faces, gframes,
                                                      {p: p for p in BOXES}),
                                          fps, audio, SR, crf=26, preset="veryfast")
    truth["generated_s"] = round(time.time() - clock, 1)
    with open(base + ".truth.json", "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    os.replace(tmp, base + ".mp4")
    return base


# ----------------------------------------------------------------------------- scoring


def frame_error(truth: dict, hyp: list[tuple[float, float, str]]) -> dict:
    """Share of 10 ms frames whose set of speakers differs from the truth (tiles known)."""
    n = int(round(truth["duration_s"] / STEP_S))
    names = sorted(BOXES)
    ref = _activity([(s["start"], s["end"], s["participant"]) for s in truth["speech_voiced"]],
                    names, n, 0.0, STEP_S)
    hyp_act = _activity([h for h in hyp if h[2] in names], names, n, 0.0, STEP_S)
    differ = (ref != hyp_act).any(0)
    nr, nh = ref.sum(0), hyp_act.sum(0)
    return dict(frame_error=float(differ.mean()),
                miss=float((differ & (nh < nr)).mean()), false_alarm=float((differ & (nh > nr)).mean()),
                swapped=float((differ & (nh == nr)).mean()))


def score(result, truth: dict) -> dict:
    seg = result.segments

    def events(kind):
        return seg[seg["kind"] == kind].to_dict("records")

    hyp = [(r["start"], r["end"], r["participant"]) for r in events("speech")]
    out = frame_error(truth, hyp)
    found_ov = events("overlap") + events("interruption")
    ints = events("interruption")
    rows = []
    for o in truth["overlaps"]:
        if o["kind"] != "interruption" or o["end"] - o["start"] < MIN_OVERLAP_S:
            continue
        grown = dict(start=o["start"] - 0.3, end=o["end"] + 0.3)
        found = any(overlap_s(grown, f) > 0 for f in found_ov)
        right = any(overlap_s(grown, f) > 0 and f["participant"] == o["author"] for f in ints)
        rows.append(dict(o, found=found, right_author=right))
    out["overlaps"] = rows
    pairs, extra = match_events(truth["backchannels"], events("backchannel"), slack_s=0.3)
    out["bc_truth"], out["bc_found"], out["bc_hits"] = (len(truth["backchannels"]),
                                                        len(events("backchannel")), len(pairs))
    out["bc_missed"] = [b for b in truth["backchannels"]
                        if not any(b is t for t, _ in pairs)]
    nods, extra_nods = match_events(truth["nods"], events("nod"))
    out["nod_truth"], out["nod_hits"], out["nod_extra"] = len(truth["nods"]), len(nods), len(extra_nods)
    out["interruptions_found"] = len(ints)
    return out


def analyze(path: str, layout: str):
    from cuekit import session
    from cuekit.config import AnalysisConfig

    return session.analyze(path, AnalysisConfig(layout=layout, names=None))


def describe(truth: dict) -> str:
    p = truth["participants"]
    v = lambda q: (p[q]["voice"] if p[q]["voice"] == "grid"  # noqa: E731
                   else f"{p[q]['voice']} -p{p[q]['espeak_pitch']}")
    face = lambda q: p[q]["face"].split("_")[0].split(".")[0]  # noqa: E731
    extras = [k for k in ("chewing", "sway", "lighting") if truth[k]]
    n_ov = sum(1 for o in truth["overlaps"] if o["kind"] == "interruption"
               and o["end"] - o["start"] >= MIN_OVERLAP_S)
    return (f"{face('P1')}/{face('P2')}  {v('P1')} | {v('P2')}  "
            f"{p['P1']['pitch_ref_hz']:.0f}/{p['P2']['pitch_ref_hz']:.0f} Hz "
            f"Δ{truth['pitch_distance_st']:.1f} st  ov {n_ov} bc {len(truth['backchannels'])} "
            f"nod {len(truth['nods'])} {truth['fps']} fps {truth['duration_s']:.0f} s"
            + (f"  +{','.join(extras)}" if extras else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument("--out", default="/tmp/cuekit_family")
    ap.add_argument("--layout", default="2x1", help="2x1 (tiles known) or auto")
    ap.add_argument("--workers", type=int, default=2, help="processes generating calls")
    ap.add_argument("--only-generate", action="store_true")
    ap.add_argument("--json", help="write the per-call scores here")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seeds = list(range(args.seed0, args.seed0 + args.n))
    clock = time.time()
    todo = [s for s in seeds if not os.path.exists(os.path.join(args.out, f"call_{s:03d}.mp4"))]
    if todo:
        with mp.get_context("fork").Pool(max(1, args.workers)) as pool:
            for base in pool.imap(_generate_star, [(s, args.out) for s in todo]):
                print(f"generated {base} ({time.time() - clock:.0f} s)", flush=True)
    if args.only_generate:
        return
    results = []
    for s in seeds:
        base = os.path.join(args.out, f"call_{s:03d}")
        truth = json.load(open(base + ".truth.json"))
        t0 = time.time()
        res = analyze(base + ".mp4", args.layout)
        sc = score(res, truth)
        sc.update(seed=s, analysis_s=round(time.time() - t0, 1), describe=describe(truth),
                  pitch_distance_st=truth["pitch_distance_st"],
                  voices_told_apart=res.session.get("provenance", {}).get("stages", {})
                  .get("audio", {}).get("voices_told_apart"))
        results.append(sc)
        print_call(sc)
    print_aggregate(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    print(f"total {time.time() - clock:.0f} s")


def _generate_star(a):
    return generate(*a)


def print_call(sc: dict) -> None:
    ov = sc["overlaps"]
    print(f"\ncall {sc['seed']:03d}: {sc['describe']}  (analysis {sc['analysis_s']} s)")
    print(f"  frame error {sc['frame_error']:.3f} (miss {sc['miss']:.3f}, false alarm "
          f"{sc['false_alarm']:.3f}, swapped {sc['swapped']:.3f})")
    print(f"  overlaps ≥ {MIN_OVERLAP_S} s: found {sum(o['found'] for o in ov)}/{len(ov)}, right author "
          f"{sum(o['right_author'] for o in ov)}/{len(ov)}"
          + "".join(f"  [{o['start']:.1f}-{o['end']:.1f} by {o['author']}: "
                    f"{'ok' if o['right_author'] else 'found' if o['found'] else 'MISSED'}]" for o in ov))
    print(f"  backchannels: {sc['bc_hits']}/{sc['bc_truth']} found, {sc['bc_found']} reported"
          + "".join(f"  [missed {b['participant']} {b['text']} {b['start']:.1f}]" for b in sc["bc_missed"]))
    print(f"  nods: {sc['nod_hits']}/{sc['nod_truth']}, {sc['nod_extra']} extra")


def print_aggregate(results: list[dict]) -> None:
    fe = np.array([r["frame_error"] for r in results])
    ov = [o for r in results for o in r["overlaps"]]
    bc_t = sum(r["bc_truth"] for r in results)
    bc_h = sum(r["bc_hits"] for r in results)
    bc_f = sum(r["bc_found"] for r in results)
    nod_t, nod_h = sum(r["nod_truth"] for r in results), sum(r["nod_hits"] for r in results)
    worst = results[int(fe.argmax())]
    print(f"\n{'seed':>4} {'Δst':>5} {'frame err':>9} {'miss':>6} {'FA':>6} {'swap':>6} "
          f"{'ov found':>8} {'ov author':>9} {'bc':>5} {'bc rep':>6} {'nods':>5}  call")
    for r in results:
        o = r["overlaps"]
        print(f"{r['seed']:>4} {r['pitch_distance_st']:>5.1f} {r['frame_error']:>9.3f} {r['miss']:>6.3f} "
              f"{r['false_alarm']:>6.3f} {r['swapped']:>6.3f} "
              f"{sum(x['found'] for x in o):>4}/{len(o):<3} "
              f"{sum(x['right_author'] for x in o):>5}/{len(o):<3} "
              f"{r['bc_hits']:>2}/{r['bc_truth']:<2} {r['bc_found']:>6} "
              f"{r['nod_hits']:>2}/{r['nod_truth']:<2}  "
              f"{r['describe']}")
    ok = lambda c: "OK" if c else "MISSED"  # noqa: E731
    print(f"\nAggregate over {len(results)} calls:")
    print(f"  frame error median {np.median(fe):.3f} [target ≤ {TARGETS['median_frame_error']}] "
          f"{ok(np.median(fe) <= TARGETS['median_frame_error'])}; worst {fe.max():.3f} (call "
          f"{worst['seed']:03d}) [target ≤ {TARGETS['worst_frame_error']}] "
          f"{ok(fe.max() <= TARGETS['worst_frame_error'])}")
    n_found = sum(o["found"] for o in ov)
    n_right = sum(o["right_author"] for o in ov)
    print(f"  overlaps ≥ {MIN_OVERLAP_S} s: found {n_found}/{len(ov)}, right author {n_right}/{len(ov)} "
          f"[target: all] {ok(n_right == len(ov))}")
    rec = bc_h / bc_t if bc_t else math.nan
    prec = bc_h / bc_f if bc_f else math.nan
    print(f"  backchannels: recall {bc_h}/{bc_t} = {rec:.0%} [target ≥ 80%] "
          f"{ok(rec >= TARGETS['backchannel_recall'])}; precision {bc_h}/{bc_f} = {prec:.0%}")
    print(f"  nods: recall {nod_h}/{nod_t} = {nod_h / max(nod_t, 1):.0%}")


if __name__ == "__main__":
    main()
