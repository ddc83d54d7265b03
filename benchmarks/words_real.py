"""The words on real speech: word error rate where the text is known, attribution on a real phone
call, and the transcription stage's share of the analysis time.

    python benchmarks/words_real.py

1. JFK and LJ001-0001 (``../shared/media``, texts in its README): word error rate.
2. SpokenWOZ MUL1011 (``../shared/validation/spokenwoz``): a real two-person phone call, one
   speaker a channel. Each channel is transcribed on its own (its words are that speaker's: the
   reference), then the mono mix goes through ``cuekit analyze --transcribe`` (two speakers
   given), whose words are attributed through who speaks when. Reported: the mix's word error
   rate against the channels' words (no human transcript exists), and the share of the mix's
   words given to the speaker whose channel holds the same word (±0.5 s).
3. The bundled sample call (60 s, two people, video) analysed with ``--transcribe``: seconds per
   stage and the words stage's share.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
sys.path.insert(0, HERE)
from verbal_calls import _norm_words, wer  # noqa: E402

TEXTS = {
    "speech_jfk_inaugural.flac": "And so my fellow Americans, ask not what your country can do "
                                 "for you, ask what you can do for your country.",
    "speech_LJ001-0001.wav": "Printing, in the only sense with which we are at present concerned, "
                             "differs from most if not from all the arts and crafts represented "
                             "in the Exhibition",
}


def known_texts(recogniser) -> None:
    from cuekit import media
    from cuekit.audio.transcribe import WHISPER_SR

    print("Word error rate on real speech with a known text")
    for name, text in TEXTS.items():
        y = media.load_audio(os.path.join(SHARED, "media", name), sr=WHISPER_SR)
        t0 = time.perf_counter()
        words = recogniser.words(y)
        spent = time.perf_counter() - t0
        hyp = [w for x in words["word"] for w in _norm_words(x)]
        print(f"  {name:28} WER {wer(_norm_words(text), hyp):5.1%}  "
              f"({len(y) / WHISPER_SR / spent:.0f}x real time)  {' '.join(words['word'])}")


def phone_call(recogniser) -> None:
    import soundfile as sf

    from cuekit import media, session
    from cuekit.audio.transcribe import WHISPER_SR
    from cuekit.config import AnalysisConfig

    path = os.path.join(SHARED, "validation", "spokenwoz", "MUL1011_stereo.opus")
    stereo = media.load_audio(path, sr=WHISPER_SR, mono=False)
    ref = []
    for ch, name in enumerate(("left", "right")):
        w = recogniser.words(stereo[ch])
        ref += [(0.5 * (a + b), name, t) for a, b, t in zip(w["start"], w["end"], w["word"],
                                                              strict=True)]
    ref.sort()
    with tempfile.TemporaryDirectory() as tmp:
        mono = os.path.join(tmp, "mix.wav")
        sf.write(mono, stereo.mean(axis=0), WHISPER_SR)
        t0 = time.perf_counter()
        cs = session.analyze(mono, AnalysisConfig(speakers=2, transcribe=True))
        spent = time.perf_counter() - t0
    hyp = cs.words
    ref_words = [w for _, _, t in ref for w in _norm_words(t)]
    hyp_words = [w for t in hyp["word"] for w in _norm_words(t)]
    # which voice is which channel: the mapping that agrees on most matched words
    pairs = []
    for mid, who, t in zip(0.5 * (hyp["start"] + hyp["end"]), hyp["participant"], hyp["word"],
                           strict=True):
        near = [name for m, name, rt in ref if abs(m - mid) <= 0.5
                and _norm_words(rt) == _norm_words(t)]
        if near and who:
            pairs.append((who, near[0]))
    voices = sorted({w for w, _ in pairs})
    best = 0
    for flip in (False, True):
        names = ("right", "left") if flip else ("left", "right")
        mapping = dict(zip(voices, names, strict=False))
        best = max(best, sum(mapping.get(w) == n for w, n in pairs))
    print(f"\nSpokenWOZ MUL1011 (real phone call, {cs.session['media']['duration_s']:.0f} s, "
          "8 kHz band), mixed to mono")
    print(f"  words: {len(hyp)} in the mix, {len(ref)} in the two channels; WER of the mix "
          f"against the channels' words {wer(ref_words, hyp_words):.1%}")
    print(f"  words matched to a channel's word: {len(pairs)}; given to that channel's speaker: "
          f"{best / max(1, len(pairs)):.1%} ({best}/{len(pairs)})")
    unattributed = int((hyp["participant"] == "").sum())
    print(f"  unattributed words: {unattributed}; mean word probability "
          f"{float(np.nanmean(hyp['probability'])):.2f}; analysis {spent:.1f} s")
    for p, m in cs.summary["participants"].items():
        print(f"  {p}: {m.get('words', 0)} words, {m.get('words_per_min', float('nan')):.0f} "
              f"words/min, {m.get('questions', 0)} questions")


def sample_call_share() -> None:
    from cuekit import session
    from cuekit.config import AnalysisConfig

    here = os.path.join(HERE, "..", "sample_media", "sample_call.mp4")
    t0 = time.perf_counter()
    cs = session.analyze(here, AnalysisConfig(names=["Agent", "Customer"], transcribe=True))
    wall = time.perf_counter() - t0
    sec = cs.session["provenance"]["seconds"]
    words = sec.get("words", 0.0) + sec.get("verbal", 0.0)
    print(f"\nSample call ({cs.session['media']['duration_s']:.0f} s video) with --transcribe: "
          f"{wall:.1f} s wall; words + verbal stages {words:.1f} s = {words / wall:.0%} of it")
    print("  seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in sec.items()))


def main() -> int:
    from cuekit.audio.transcribe import Transcriber

    recogniser = Transcriber()
    known_texts(recogniser)
    phone_call(recogniser)
    sample_call_share()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
