"""Build ``sample_call.mp4`` and ``sample_call.truth.json``: a ~60 s two-person gallery call
whose every cue is known.

Run from the repository root (needs espeak-ng and scikit-image; ~1-2 min on 2 cores)::

    .venv/bin/python sample_media/make_sample_call.py

Users and tests read the committed outputs; this script documents how they were made and
remakes them byte-for-byte (fixed seeds, deterministic TTS, resampler and encoder settings).

The call: 1280x720, 25 fps, Zoom-like gallery view with two tiles on a dark #1e1e1e frame.
P1 "Agent" (left) is the astronaut photo; P2 "Customer" (right) is the same photo mirrored,
colour-tinted and in front of another room. Voices are espeak-ng (P1 ``en-us`` ~100 Hz,
P2 ``en-us+f3`` ~200 Hz). Mouths follow each speaker's own speech envelope, heads nod, shake,
turn away and sway as listed in the truth file. All times in the truth file are seconds on the
media clock; speech extents are measured on each speaker's clean track, not the nominal
placement.
"""

from __future__ import annotations

import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import synth  # noqa: E402

FPS = 25
SR = 16000
FRAME_W, FRAME_H = 1280, 720
FRAME_BGR = (0x1E, 0x1E, 0x1E)
TILE_W, TILE_H = 628, 704
BOXES = {"P1": (8, 8, TILE_W, TILE_H), "P2": (644, 8, TILE_W, TILE_H)}
NAMES = {"P1": "Agent", "P2": "Customer"}
VOICES = {"P1": dict(voice="en-us", pitch=35, rate_wpm=150),
          "P2": dict(voice="en-us+f3", pitch=60, rate_wpm=185)}
SPEECH_RMS = 0.1  # each voice's loud-frame RMS in the mix (-20 dBFS)
NOISE_DBFS = -60.0
SEED = 20261125
LEAD_IN_S, TAIL_S = 0.5, 0.8

# The dialogue: (participant, text, syllables, gap before it in s). The gap is silence between
# the end of the previous utterance and this one; "pause" marks a pause inside the same turn.
TURNS = [
    ("P1", "Thank you for calling Northwind support. My name is Alex, how can I help you today?",
     21, LEAD_IN_S),
    ("P2", "Hi, my internet keeps dropping out each evening.", 12, 0.6),
    ("P1", "I'm sorry to hear that. Let me pull up your account.", 13, 0.9),
    ("P1", "Okay, I can see your line here.", 8, 1.2),  # a 1.2 s pause inside P1's turn
    ("P2", "Great, thank you.", 3, 0.3),
    ("P1", "There was some maintenance work in your area this week, and that can cause short "
     "outages in the evening, mostly between seven and ten.", 34, 0.5),
    ("P2", "Okay, but it still happens each night.", 9, 1.5),
    ("P1", "I understand. What I can do is run a remote test on your modem, and if that test "
     "fails, we can send a technician out to you later this week.", 26, 0.4),  # interrupted
    ("P2", "Sorry, can you just send someone tomorrow? I work from home.", 15, None),
    ("P1", "Of course. I have a slot tomorrow morning, between eight and noon.", 16, 0.7),
    ("P2", "That works for me.", 4, 0.2),
    ("P1", "Perfect, you are all booked. Is there anything else I can help with?", 16, 1.0),
    ("P2", "No, that's all. Thank you so much.", 7, 0.8),
    ("P1", "You're welcome, have a great evening!", 8, 0.5),
]
PAUSE_TURN = 3  # index of the utterance that follows a pause in the same speaker's turn
INTERRUPTED, INTERRUPTER = 7, 8
# P1 is cut right after these words; 26 syllables are spoken (the TURNS count above)
INTERRUPTED_PREFIX = ("I understand. What I can do is run a remote test on your modem, and if "
                      "that test fails, we can send")
OVERLAP_S = 1.0
FADE_S = 0.05
BACKCHANNEL = ("P2", "Mm-hm.", 2)  # during P1's long turn (utterance 5)
BACKCHANNEL_IN = 5

NOD_DEG, NOD_HZ = 9.0, 2.0
SHAKE_DEG, SHAKE_HZ = 12.0, 2.0
GAZE_YAW_DEG, GAZE_S, GAZE_RAMP_S = 30.0, 2.5, 0.25
SWAY_PX, SWAY_S, SWAY_LAG_S = 25.0, 15.0, 1.0
STILL_S = 10.0


# ----------------------------------------------------------------------------- audio


def _utterance(p: str, text: str) -> np.ndarray:
    return synth.espeak(text, sr=SR, **VOICES[p])


def build_audio():
    """Place every utterance; returns per-speaker clean tracks, the utterance table, gains."""
    utts = [dict(participant=p, text=t, syllables=s, gap=g, y=_utterance(p, t))
            for p, t, s, g in TURNS]
    for u in utts:
        u["on"], u["off"] = synth.trim_silence(u["y"], SR)  # voiced extent inside the clip
    prefix = _utterance("P1", INTERRUPTED_PREFIX)
    cut_in_clip = synth.trim_silence(prefix, SR)[1]

    t_end = 0.0  # end of the previous utterance's voiced extent
    for i, u in enumerate(utts):
        if i == INTERRUPTER:
            prev = utts[INTERRUPTED]
            cut = prev["start"] - prev["on"] + cut_in_clip  # media time P1 goes quiet
            u["start"] = cut - OVERLAP_S  # P2's voice starts 1 s before P1 is cut
            prev["cut"] = cut
        else:
            u["start"] = t_end + u["gap"]
        u["place"] = u["start"] - u["on"]  # where the clip's first sample goes
        if i == INTERRUPTED:
            # P1's audio fades out over 50 ms ending at the cut; nothing after
            k = int(round(cut_in_clip * SR))
            fade = np.ones(len(u["y"]), np.float32)
            nf = int(round(FADE_S * SR))
            fade[k - nf:k] = np.linspace(1, 0, nf, dtype=np.float32)
            fade[k:] = 0
            u["y"] = u["y"] * fade
            u["on"], u["off"] = synth.trim_silence(u["y"], SR)
        u["end"] = u["place"] + u["off"]
        t_end = u["end"]  # (after the interrupted turn, the next start is set by the cut)
    # the backchannel: inside one voiced stretch of P1's long turn, ~40% of the way in
    host = utts[BACKCHANNEL_IN]
    bc_y = _utterance(BACKCHANNEL[0], BACKCHANNEL[1])
    bc_on, bc_off = synth.trim_silence(bc_y, SR)
    segs = synth.voiced_segments(host["y"], SR, min_gap_s=0.08)
    want = 0.4 * (host["off"] - host["on"]) + host["on"]
    start_in = None
    for a, b in segs:
        a2 = max(a + 0.3, want)
        if b - 0.3 - a2 >= bc_off - bc_on:
            start_in = a2
            break
    assert start_in is not None, "no voiced stretch long enough for the backchannel"
    bc = dict(participant=BACKCHANNEL[0], text=BACKCHANNEL[1], syllables=BACKCHANNEL[2],
              y=bc_y, on=bc_on, off=bc_off, start=host["place"] + start_in, backchannel=True)
    bc["place"] = bc["start"] - bc_on
    bc["end"] = bc["place"] + bc_off
    utts.insert(BACKCHANNEL_IN + 1, bc)

    duration = np.ceil((max(u["end"] for u in utts) + TAIL_S) * FPS) / FPS
    tracks = synth.place_utterances(utts, VOICES, int(round(duration * SR)), SR, SPEECH_RMS)
    return tracks, utts, float(duration), cut_in_clip


def mix(tracks: dict[str, np.ndarray]) -> np.ndarray:
    y = sum(tracks.values())
    rng = np.random.default_rng(SEED)
    y = y + rng.standard_normal(len(y)).astype(np.float32) * 10 ** (NOISE_DBFS / 20)
    peak = float(np.abs(y).max())
    assert peak < 0.99, f"mix clips (peak {peak:.2f})"
    return y.astype(np.float32)


# ----------------------------------------------------------------------------- motion


def _osc(t, t0, hz, cycles, amp):
    """amp * sin over a whole number of half-cycles starting at t0 (0 outside)."""
    ph = (t - t0) * hz
    return np.where((ph >= 0) & (ph <= cycles), amp * np.sin(2 * np.pi * ph), 0.0)


def _sway(t, t0):
    """Smooth irregular sideways sway (px) over SWAY_S from t0: two incommensurate sines under
    a cosine taper, scaled so the largest excursion is SWAY_PX."""
    tau = np.asarray(t, float) - t0
    def raw(x):
        return np.sin(2 * np.pi * 0.23 * x + 0.4) + 0.7 * np.sin(2 * np.pi * 0.51 * x + 2.1)
    taper = np.clip(np.minimum(tau, SWAY_S - tau) / 1.5, 0, 1)
    taper = 0.5 - 0.5 * np.cos(np.pi * taper)
    grid = np.linspace(0, SWAY_S, 3001)
    g_taper = 0.5 - 0.5 * np.cos(np.pi * np.clip(np.minimum(grid, SWAY_S - grid) / 1.5, 0, 1))
    norm = np.abs(raw(grid) * g_taper).max()
    inside = (tau >= 0) & (tau <= SWAY_S)
    return np.where(inside, SWAY_PX * raw(tau) * taper / norm, 0.0)


def _gaze(t, t0):
    """Yaw (deg) turning away: smooth 0.25 s ramps, GAZE_S long in all."""
    up = synth._smoothstep((t - t0) / GAZE_RAMP_S)
    down = synth._smoothstep((t0 + GAZE_S - t) / GAZE_RAMP_S)
    return GAZE_YAW_DEG * np.minimum(up, down)


def plan_motion(utts, duration):
    """Motion events anchored to the speech, and per-frame head parameters per participant."""
    turns = [u for u in utts if not u.get("backchannel")]
    bc = next(u for u in utts if u.get("backchannel"))

    def turn(i):
        return turns[i]
    nods = [  # (participant, start, cycles)
        ("P2", turn(0)["start"] + 2.0, 2.5),   # P2 nods while P1 greets
        ("P2", bc["start"] - 0.1, 2.0),        # P2 nods with the "mm-hm"
        ("P2", turn(9)["start"] + 2.6, 2.5),   # P2 nods while P1 offers a slot
        ("P1", turn(10)["start"] + 0.05, 2.0),  # P1 nods while P2 accepts
    ]
    shakes = [("P2", turn(12)["start"] + 0.05, 2.0)]  # "No, that's all"
    gaze = [("P1", turn(1)["start"] + 0.1)]  # P1 looks away while P2 describes the problem
    still = (turn(2)["start"] - 0.3, turn(2)["start"] - 0.3 + STILL_S)
    sway_t0 = turn(6)["start"] - 1.5
    sway = (sway_t0, sway_t0 + SWAY_S)

    t = np.arange(int(round(duration * FPS))) / FPS
    pose = {p: {k: np.zeros_like(t) for k in ("yaw", "pitch", "shift_x")} for p in VOICES}
    events = []
    for p, t0, cyc in nods:
        pose[p]["pitch"] += _osc(t, t0, NOD_HZ, cyc, -NOD_DEG)  # down first
        events.append(dict(kind="nod", participant=p, start=t0, end=t0 + cyc / NOD_HZ,
                           cycles=cyc, amplitude_deg=NOD_DEG, hz=NOD_HZ))
    for p, t0, cyc in shakes:
        pose[p]["yaw"] += _osc(t, t0, SHAKE_HZ, cyc, SHAKE_DEG)
        events.append(dict(kind="shake", participant=p, start=t0, end=t0 + cyc / SHAKE_HZ,
                           cycles=cyc, amplitude_deg=SHAKE_DEG, hz=SHAKE_HZ))
    for p, t0 in gaze:
        pose[p]["yaw"] += _gaze(t, t0)
        events.append(dict(kind="gaze_away", participant=p, start=t0, end=t0 + GAZE_S,
                           yaw_deg=GAZE_YAW_DEG, hold=[t0 + GAZE_RAMP_S,
                                                       t0 + GAZE_S - GAZE_RAMP_S]))
    pose["P1"]["shift_x"] += _sway(t, sway[0])
    pose["P2"]["shift_x"] += _sway(t - SWAY_LAG_S, sway[0])
    # the design's promises, checked: motion events never touch the still or sway windows
    busy = [(e["start"], e["end"]) for e in events]
    for a, b in busy:
        assert b <= still[0] or a >= still[1], f"motion {a:.2f}-{b:.2f} inside still window"
        assert b <= sway[0] or a >= sway[1] + SWAY_LAG_S, f"motion {a:.2f}-{b:.2f} in sway"
    assert still[1] <= sway[0] or still[0] >= sway[1] + SWAY_LAG_S
    assert sway[1] + SWAY_LAG_S <= duration
    for e in events:  # listener nods happen while the other one speaks
        other = "P1" if e["participant"] == "P2" else "P2"
        if e["kind"] == "nod" or e["kind"] == "gaze_away":
            assert any(u["participant"] == other and u["start"] <= e["start"]
                       and e["end"] <= u["end"] + 0.3 for u in utts), e
    return t, pose, events, still, sway


# ----------------------------------------------------------------------------- pictures


def _room(kind: str) -> np.ndarray:
    """A plain room wall as BGR float32: a vertical gradient, plus a window for the customer."""
    yy, xx = np.mgrid[0:TILE_H, 0:TILE_W].astype(np.float32)
    v = yy / TILE_H
    if kind == "P1":  # cool blue-grey office wall
        top, bottom = np.array([178, 160, 138]), np.array([132, 116, 96])
    else:  # sage-green living room
        top, bottom = np.array([128, 162, 112]), np.array([82, 112, 70])
    img = top * (1 - v[..., None]) + bottom * v[..., None]
    if kind == "P2":  # a bright soft-edged window at the top right (as shown on screen)
        x0, x1 = TILE_W - 230, TILE_W - 40
        inside = np.clip(np.minimum.reduce([xx - x0, x1 - xx, yy - 60, 330 - yy]) / 6, 0, 1)
        img = img * (1 - 0.8 * inside[..., None]) + np.array([235, 240, 238]) * (
            0.8 * inside[..., None])
    return img.astype(np.float32)


def base_tiles():
    """Per participant: the person as BGRA (P2 tinted, still unmirrored: it is mirrored after
    warping) and the room behind them (as shown on screen)."""
    person = synth.astronaut_person((TILE_W, TILE_H))
    tint = np.array([0.86, 0.97, 1.10], np.float32)  # warmer light on the customer (BGR)
    p2 = person.copy()
    p2[..., :3] = np.clip(person[..., :3] * tint, 0, 255).round().astype(np.uint8)
    rooms = {p: _room(p).round().astype(np.uint8) for p in VOICES}
    return {"P1": person, "P2": p2}, rooms


def _label(frame, box, text):
    x, y, w, h = box
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1)
    x0, y0 = x + 8, y + h - 8 - th - 12
    roi = frame[y0:y0 + th + 12, x0:x0 + tw + 16]
    roi[:] = (roi.astype(np.float32) * 0.45).astype(np.uint8)
    cv2.putText(frame, text, (x0 + 8, y0 + th + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                (255, 255, 255), 1, cv2.LINE_AA)


def render_frames(t, pose, mouths, bases, rooms):
    """Yield the gallery frames."""
    cache: dict = {}
    for i in range(len(t)):
        frame = np.full((FRAME_H, FRAME_W, 3), FRAME_BGR, np.uint8)
        for p, (x, y, w, h) in BOXES.items():
            yaw, pitch = float(pose[p]["yaw"][i]), float(pose[p]["pitch"][i])
            sx, mo = float(pose[p]["shift_x"][i]), float(mouths[p][i])
            key = (p, round(yaw, 4), round(pitch, 4), round(sx, 3), round(mo, 3))
            tile = cache.get(key)
            if tile is None:
                if p == "P2":  # warp the unmirrored picture with mirrored motion, then mirror
                    fg = synth.warp_head(bases[p], yaw_deg=-yaw, pitch_deg=pitch,
                                         shift_px=(-sx, 0), mouth_open=mo)[:, ::-1]
                else:
                    fg = synth.warp_head(bases[p], yaw_deg=yaw, pitch_deg=pitch,
                                         shift_px=(sx, 0), mouth_open=mo)
                tile = synth.composite(fg, rooms[p])
                if mo == 0 and yaw == 0 and pitch == 0 and sx == 0:
                    cache[key] = tile
            frame[y:y + h, x:x + w] = tile
            _label(frame, (x, y, w, h), NAMES[p])
        yield frame


# ----------------------------------------------------------------------------- truth


def _intervals_overlap(a, b):
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            s, e = max(s1, s2), min(e1, e2)
            if e > s:
                out.append((s, e))
    return sorted(out)


def build_truth(tracks, utts, duration, events, still, sway):
    import librosa

    r3 = lambda v: round(float(v), 3)  # noqa: E731
    speech = [dict(participant=u["participant"], start=r3(u["start"]), end=r3(u["end"]),
                   text=u["text"] if "cut" not in u else INTERRUPTED_PREFIX + " [cut]")
              for u in utts]
    per = {p: [(s["start"], s["end"]) for s in speech if s["participant"] == p] for p in VOICES}
    overlaps = _intervals_overlap(per["P1"], per["P2"])
    ui = next(u for u in utts if "cut" in u)
    uj = next(u for u in utts if u["text"] == TURNS[INTERRUPTER][1])
    interruption = dict(start=r3(uj["start"]), end=r3(ui["end"]), interrupter="P2",
                        interrupted="P1", cut_after_text=INTERRUPTED_PREFIX.split()[-3:])
    bc = next(u for u in utts if u.get("backchannel"))

    # pauses: silences inside one speaker's turn (the designed one, and espeak's sentence breaks)
    pauses = []
    floor = [u for u in utts if not u.get("backchannel")]
    for a, b in zip(floor[:-1], floor[1:], strict=True):
        if a["participant"] == b["participant"]:
            pauses.append(dict(participant=a["participant"], start=r3(a["end"]),
                               end=r3(b["start"]), designed=True))
    for u in utts:
        segs = synth.voiced_segments(u["y"], SR, min_gap_s=0.25)
        k0 = u["start"] - u["on"]
        for (_, e1), (s2, _) in zip(segs[:-1], segs[1:], strict=True):
            pauses.append(dict(participant=u["participant"], start=r3(k0 + e1),
                               end=r3(k0 + s2), designed=False))
    pauses.sort(key=lambda d: d["start"])
    # gaps: silence between one speaker's end and the other's start (floor transfers)
    gaps = []
    for a, b in zip(floor[:-1], floor[1:], strict=True):
        if a["participant"] != b["participant"] and b["start"] > a["end"]:
            gaps.append(dict(start=r3(a["end"]), end=r3(b["start"]),
                             **{"from": a["participant"], "to": b["participant"]}))

    parts = {}
    speech_s = {p: sum(e - s for s, e in per[p]) for p in VOICES}
    for p in VOICES:
        f0, voiced, _ = librosa.pyin(tracks[p], fmin=60, fmax=400, sr=SR, frame_length=1024,
                                     hop_length=160)
        syl = sum(u["syllables"] for u in utts if u["participant"] == p)
        parts[p] = dict(name=NAMES[p], box=list(BOXES[p]), voice=VOICES[p]["voice"],
                        espeak_pitch=VOICES[p]["pitch"], rate_wpm=VOICES[p]["rate_wpm"],
                        pitch_ref_hz=round(float(np.nanmedian(f0[voiced])), 1),
                        syllables=syl, speech_s=r3(speech_s[p]),
                        mirrored=(p == "P2"))
    total = sum(speech_s.values())
    share = {p: round(speech_s[p] / total, 4) for p in VOICES}
    share["P2"] = round(1 - share["P1"], 4)

    def ev(kind):
        return [{k: (r3(v) if isinstance(v, float) else v) for k, v in e.items() if k != "kind"}
                for e in events if e["kind"] == kind]
    gaze = ev("gaze_away")
    for g in gaze:
        g["hold"] = [r3(v) for v in g["hold"]]
    return {
        "duration_s": r3(duration), "fps": FPS, "size": [FRAME_W, FRAME_H],
        "audio": {"sample_rate": SR, "channels": 1, "noise_dbfs": NOISE_DBFS,
                  "speech_rms_dbfs": round(20 * np.log10(SPEECH_RMS), 1)},
        "layout": {"kind": "gallery", "frame_bgr": list(FRAME_BGR)},
        "participants": parts,
        "speech": speech,
        "pauses": pauses,
        "gaps": gaps,
        "overlaps": [dict(start=r3(s), end=r3(e)) for s, e in overlaps],
        "interruptions": [interruption],
        "backchannels": [dict(participant=bc["participant"], start=r3(bc["start"]),
                              end=r3(bc["end"]), text=bc["text"])],
        "nods": ev("nod"),
        "shakes": ev("shake"),
        "gaze_away": gaze,
        "sway": {"leader": "P1", "follower": "P2", "lag_s": SWAY_LAG_S, "start": r3(sway[0]),
                 "end": r3(sway[1] + SWAY_LAG_S), "amplitude_px": SWAY_PX,
                 "axis": "tile x (screen direction; the follower repeats the leader's on-screen "
                         "shift, delayed)"},
        "still": [dict(start=r3(still[0]), end=r3(still[1]))],
        "talk_share": share,
        "notes": "Times in s on the media clock. speech = voiced extent (-35 dB re each "
                 "utterance's loudest 20 ms window) of each placed utterance on the clean "
                 "per-speaker track. pauses: designed=true is the planned pause inside a turn; "
                 "designed=false are espeak-ng's sentence/comma breaks (>= 0.25 s). Head angles "
                 "follow cuekit's signs (yaw + = turns to own left, pitch + = up); nods start "
                 "downward. Mouth opening follows each speaker's 50 ms RMS envelope.",
    }


def write_vtt(truth: dict, path: str) -> None:
    """A Zoom-style WebVTT transcript ("Name: text") of the truth's utterances."""
    def stamp(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"

    names = {p: info["name"] for p, info in truth["participants"].items()}
    lines = ["WEBVTT", ""]
    for i, u in enumerate(sorted(truth["speech"], key=lambda u: u["start"]), start=1):
        lines += [str(i), f"{stamp(u['start'])} --> {stamp(u['end'])}",
                  f"{names[u['participant']]}: {u['text']}", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main(out_dir: str = HERE) -> None:
    t_start = time.time()
    tracks, utts, duration, _ = build_audio()
    audio = mix(tracks)
    t, pose, events, still, sway = plan_motion(utts, duration)
    mouths = synth.mouth_openings(tracks, SR, t)
    truth = build_truth(tracks, utts, duration, events, still, sway)
    mp4 = os.path.join(out_dir, "sample_call.mp4")
    codec = synth.write_av(mp4, render_frames(t, pose, mouths, *base_tiles()), FPS, audio, SR,
                           crf=26)
    truth["video_codec"] = codec
    with open(os.path.join(out_dir, "sample_call.truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    write_vtt(truth, os.path.join(out_dir, "sample_call.vtt"))
    print(f"wrote {mp4} ({os.path.getsize(mp4) / 1e6:.2f} MB, {duration:.2f} s, {codec}) "
          f"in {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
