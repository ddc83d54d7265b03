"""A family of generated customer-service calls with scripted verbal cues, and their scoring.

Each call (seeded) is a customer and an agent, two espeak-ng voices picked from a pool, in six
exchanges: the customer states a problem (or answers); the agent replies with some of an
empathy statement, a paraphrase of the problem, a clarifying / open / closed question, or a
plain statement; fillers ("um", "uh") are put into some sentences. Every scripted sentence is
known: its speaker, time and kind — the truth that cuekit's verbal cues are scored against.
Pauses between turns vary (0.3–1.4 s). The call is written twice: stereo (one voice a channel)
and mixed to mono (the words are then attributed through who speaks when).

    python benchmarks/verbal_calls.py --n 20          # prints per call and aggregate

Scoring, per kind (question, paraphrase, empathy, filler): a found segment matches a scripted
sentence of that kind by the same person when their times overlap; recall = scripted sentences
matched / scripted, precision = found segments that match / found. Question type (open, closed,
clarifying) is scored on the matched questions. Fillers count: a scripted sentence with k
fillers matches up to k found fillers inside it. Word error rate of the recognised words is
against the script; words per minute against the script's words over its sentences' durations.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sample_media"))
import synth  # noqa: E402

SR = 16000
VOICES = [("en-us", 40), ("en-gb", 55), ("en-gb-scotland", 35), ("en-us+f3", 60),
          ("en+m3", 30), ("en-gb-x-rp", 50), ("en-us+f2", 70), ("en+m7", 45)]

# (problem, a paraphrase of it): the paraphrase restates the problem's content words
PROBLEMS = [
    ("I was charged twice for my order last week and nobody answered my emails.",
     "So you were charged twice for the order and nobody answered your emails."),
    ("My internet connection keeps dropping every evening when I work from home.",
     "It sounds like the connection keeps dropping every evening while you work from home."),
    ("The replacement phone arrived with a cracked screen and a damaged box.",
     "So the replacement phone arrived with a cracked screen and the box was damaged."),
    ("I moved to a new apartment and my bill went up without any warning.",
     "If I understand correctly, your bill went up without warning after you moved apartment."),
    ("The delivery was supposed to come on Monday but the parcel still has not arrived.",
     "So the parcel was supposed to come on Monday and it still has not arrived."),
    ("I cancelled my subscription in March but you keep taking money from my account.",
     "What I'm hearing is that you cancelled the subscription in March but money still leaves "
     "your account."),
    ("Your app logs me out every time I open the payment page.",
     "So the app logs you out every time you open the payment page."),
    ("I have called three times about the broken heater and no technician has come.",
     "Let me make sure I have this right, you called three times about the heater and no "
     "technician came."),
]
EMPATHY = ["I understand how frustrating that must be.", "I'm so sorry to hear that.",
           "That sounds really stressful.", "I can see why you are upset.",
           "Thank you for your patience with this.", "I can imagine how annoying that is."]
QUESTIONS = {
    "open": ["How can I help you today?", "What happened when you tried to log in?",
             "How long has this been going on?", "What would be the best outcome for you?",
             "Why do you think the payment failed?"],
    "closed": ["Is the card still active?", "Did you receive a confirmation email?",
               "Can you see the order number on your screen?",
               "Have you restarted the router since then?", "Would you like me to send a new one?"],
    "clarifying": ["Do you mean that this happened more than once?",
                   "Could you tell me more about what happened?",
                   "Just to clarify, was this on your main account?",
                   "Are you saying the problem started after the update?",
                   "When you say it stopped, do you mean it stopped completely?"],
}
PLAIN_AGENT = ["I will check your account now.", "The system shows two payments on the fifth.",
               "Your reference number is four five seven two.",
               "I have sent the details to your email address.",
               "Our team will call you tomorrow morning.",
               "The refund will take three to five working days."]
PLAIN_CUSTOMER = ["Yes, it was the main account.", "No, I did not get any email.",
                  "It started about two weeks ago.", "The order number is seven eight one.",
                  "Yes please, that would be great.", "I tried that already yesterday."]
FILLERS = ["um", "uh"]
KINDS = ("question", "paraphrase", "empathy", "filler")


def synth_available() -> bool:
    """espeak-ng is on the PATH (the calls are spoken with it)."""
    import shutil

    return shutil.which("espeak-ng") is not None


def _with_filler(text: str, rng: random.Random) -> tuple[str, int]:
    """``text`` with a filler after its first word (or first), and the count put in (0 or 1)."""
    if rng.random() >= 0.3:
        return text, 0
    words = text.split()
    k = rng.choice([0, 1]) if len(words) > 2 else 0
    filler = rng.choice(FILLERS)
    if k == 0:
        words = [filler.capitalize() + ","] + [words[0][0].lower() + words[0][1:]] + words[1:]
    else:
        words = words[:1] + [filler + ","] + words[1:]
    return " ".join(words), 1


def plan_call(seed: int) -> list[dict]:
    """The script: sentences with speaker, text, kind (None for plain), question type, fillers."""
    rng = random.Random(seed)
    problems = rng.sample(PROBLEMS, 3)
    script: list[dict] = []

    def say(who, text, kind=None, qtype=None):
        text, fillers = _with_filler(text, rng)
        script.append(dict(who=who, text=text, kind=kind, qtype=qtype, fillers=fillers,
                           turn_break=not script or script[-1]["who"] != who))

    say("Agent", rng.choice(QUESTIONS["open"][:1] + ["Thank you for calling, how can I help?"]),
        "question", "open")
    for problem, paraphrase in problems:
        say("Customer", problem)
        if rng.random() < 0.7:
            say("Agent", rng.choice(EMPATHY), "empathy")
        if rng.random() < 0.7:
            say("Agent", paraphrase, "paraphrase")
        qtype = rng.choice(list(QUESTIONS))
        say("Agent", rng.choice(QUESTIONS[qtype]), "question", qtype)
        say("Customer", rng.choice(PLAIN_CUSTOMER))
        say("Agent", rng.choice(PLAIN_AGENT))
    return script


def render(script: list[dict], seed: int) -> tuple[np.ndarray, list[dict]]:
    """Stereo audio (channel 0 the agent, 1 the customer) and the script with times."""
    rng = random.Random(seed + 1000)
    (va, pa), (vc, pc) = rng.sample(VOICES, 2)
    voice = {"Agent": (va, pa, rng.randint(150, 180)), "Customer": (vc, pc, rng.randint(150, 185))}
    pieces, t, timed = [], 0.5, []
    for line in script:
        v, pitch, rate = voice[line["who"]]
        y = synth.espeak(line["text"], voice=v, pitch=pitch, rate_wpm=rate, sr=SR)
        a, b = synth.trim_silence(y, SR)
        y = y[int(a * SR):int(b * SR)]
        t += rng.uniform(0.5, 1.4) if line["turn_break"] else rng.uniform(0.2, 0.5)
        pieces.append((line["who"], int(t * SR), y))
        timed.append(dict(line, start=t, end=t + len(y) / SR))
        t += len(y) / SR
    n = int((t + 1.0) * SR)
    out = np.zeros((2, n), dtype="float32")
    for who, i, y in pieces:
        out[0 if who == "Agent" else 1, i:i + len(y)] += y
    return out, timed


def write_call(seed: int, folder: str) -> tuple[str, str, list[dict]]:
    """``(stereo.wav, mono.wav, timed script)`` for call ``seed`` in ``folder``."""
    import soundfile as sf

    audio, timed = render(plan_call(seed), seed)
    stereo = os.path.join(folder, f"verbal_{seed:03d}_stereo.wav")
    mono = os.path.join(folder, f"verbal_{seed:03d}_mono.wav")
    sf.write(stereo, audio.T, SR)
    sf.write(mono, audio.mean(axis=0) * 1.4, SR)
    return stereo, mono, timed


def _norm_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.casefold())


def wer(reference: list[str], hypothesis: list[str]) -> float:
    """Word error rate: (substitutions + deletions + insertions) / reference words."""
    d = np.arange(len(hypothesis) + 1)
    for i, r in enumerate(reference, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hypothesis, 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
            prev, d[j] = d[j], cur
    return float(d[-1]) / max(1, len(reference))


def score(cs, timed: list[dict]) -> dict:
    """Per kind: scripted, found, matched-scripted, matched-found; and question types right."""
    seg = cs.segments
    out = {}
    for kind in KINDS:
        if kind == "filler":
            truth = [s for s in timed if s["fillers"]]
        else:
            truth = [s for s in timed if s["kind"] == kind]
        found = seg[seg["kind"] == kind]
        hit_truth, hit_found, type_right = 0, 0, 0
        for s in truth:
            mine = found[(found["participant"] == s["who"]) & (found["end"] > s["start"])
                         & (found["start"] < s["end"])]
            want = s["fillers"] if kind == "filler" else 1
            hit_truth += min(want, len(mine))
            if kind == "question" and len(mine):
                type_right += mine["label"].iloc[0].startswith(s["qtype"] + ":")
        for _, f in found.iterrows():
            near = [s for s in truth if s["who"] == f["participant"] and f["end"] > s["start"]
                    and f["start"] < s["end"]]
            hit_found += bool(near)
        n_truth = sum(s["fillers"] for s in truth) if kind == "filler" else len(truth)
        out[kind] = dict(truth=n_truth, found=len(found), hit_truth=hit_truth,
                         hit_found=hit_found, type_right=type_right)
    ref = [w for s in timed for w in _norm_words(s["text"])]
    hyp = [w for w in cs.words["word"] for w in _norm_words(w)]
    out["wer"] = dict(wer=wer(ref, hyp), words=len(ref))
    right = wrong = 0
    for _, w in cs.words.iterrows():
        mid = 0.5 * (w["start"] + w["end"])
        who = [s["who"] for s in timed if s["start"] - 0.1 <= mid <= s["end"] + 0.1]
        if who:
            right += w["participant"] == who[0]
            wrong += w["participant"] != who[0]
    out["attribution"] = dict(right=right, wrong=wrong)
    wpm_err = []
    for who in ("Agent", "Customer"):
        said = [s for s in timed if s["who"] == who]
        truth = sum(len(_norm_words(s["text"])) for s in said) / (
            sum(s["end"] - s["start"] for s in said) / 60)
        got = cs.summary["participants"].get(who, {}).get("words_per_min")
        wpm_err.append(abs(got / truth - 1) if got is not None and np.isfinite(got) else 1.0)
    out["wpm"] = dict(err_sum=sum(wpm_err), n=len(wpm_err), within_10=sum(e <= 0.1 for e in wpm_err))
    return out


def analyse(path: str, names: str):
    from cuekit import session
    from cuekit.config import AnalysisConfig

    return session.analyze(path, AnalysisConfig(names=names, speakers=2, transcribe=True))


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.0%} ({a}/{b})" if b else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="number of calls (seeds 0..n-1)")
    ap.add_argument("--out", default=None, help="folder for the calls (default: a temp dir)")
    args = ap.parse_args()
    folder = args.out or tempfile.mkdtemp(prefix="cuekit_verbal_")
    os.makedirs(folder, exist_ok=True)
    totals = {cond: {} for cond in ("stereo", "mono")}
    audio_s = {"stereo": 0.0, "mono": 0.0}
    spent_s = {"stereo": 0.0, "mono": 0.0}
    words_s = {"stereo": 0.0, "mono": 0.0}
    print("call  cond    " + "  ".join(f"{k:>18}" for k in KINDS) + "     WER  attrib")
    for seed in range(args.n):
        stereo, mono, timed = write_call(seed, folder)
        for cond, path in (("stereo", stereo), ("mono", mono)):
            t0 = time.perf_counter()
            cs = analyse(path, "Agent,Customer")
            spent_s[cond] += time.perf_counter() - t0
            audio_s[cond] += cs.session["media"]["duration_s"]
            words_s[cond] += cs.session["provenance"]["seconds"].get("words", 0.0)
            r = score(cs, timed)
            cells = []
            for k in KINDS:
                tot = totals[cond].setdefault(k, dict.fromkeys(r[k], 0))
                for key, v in r[k].items():
                    tot[key] += v
                cells.append(f"R {r[k]['hit_truth']}/{r[k]['truth']} P {r[k]['hit_found']}/"
                             f"{r[k]['found']}")
            for key in ("wer", "attribution", "wpm"):
                tot = totals[cond].setdefault(key, {})
                for k2, v in r[key].items():
                    tot[k2] = tot.get(k2, 0) + (v * r["wer"]["words"] if k2 == "wer" else v)
            a = r["attribution"]
            print(f"{seed:4d}  {cond:6}  " + "  ".join(f"{c:>18}" for c in cells)
                  + f"  {r['wer']['wer']:6.1%}  {a['right'] / max(1, a['right'] + a['wrong']):6.1%}")
    print()
    for cond, tot in totals.items():
        print(f"{cond}: {args.n} calls, {audio_s[cond] / 60:.1f} min of audio; analysis "
              f"{audio_s[cond] / max(spent_s[cond], 1e-9):.1f}x real time, words stage "
              f"{words_s[cond] / max(spent_s[cond], 1e-9):.0%} of it")
        for k in KINDS:
            t = tot[k]
            extra = (f", type right {_ratio(t['type_right'], t['hit_truth'])}"
                     if k == "question" else "")
            print(f"  {k:10} recall {_ratio(t['hit_truth'], t['truth'])}, precision "
                  f"{_ratio(t['hit_found'], t['found'])}{extra}")
        m = tot["wpm"]
        print(f"  words per minute: mean error {m['err_sum'] / max(1, m['n']):.1%}, within 10 % "
              f"for {_ratio(m['within_10'], m['n'])} participants")
        w, a = tot["wer"], tot["attribution"]
        print(f"  WER {w['wer'] / max(1, w['words']):.1%} of {w['words']} scripted words; words "
              f"given to the right speaker {_ratio(a['right'], a['right'] + a['wrong'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
