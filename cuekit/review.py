"""The session review in plain words: what one person did well and what to work on, each tied to
an active-listening technique and to the moments that show it.

Pure functions on a :class:`~cuekit.cueset.CueSet` (its segments and summary only, so the
dashboard's light view is enough) and the reference ranges of :mod:`cuekit.targets`. Each rule
looks at one technique and returns at most one :class:`Finding`, a strength or a thing to work on,
with the evidence (the number against its reference) and up to :data:`MAX_MOMENTS` moments.
:func:`review` keeps the strongest few of each.

The rules (``p`` the person reviewed, "the other" everyone else; thresholds in :data:`RULES`):

- *Paying attention*: eye contact while the other speaks at least ``eye_contact_good`` →
  strength; under the target's low end → work on (moments: p's look-aways while the other
  speaks, longest first).
- *Showing engagement*: nods plus "mm-hm"s per minute of listening at least ``engaged_per_min``
  → strength (moments: those nods and backchannels); under ``quiet_per_min`` over at least
  ``min_listening_s`` of listening → work on (moments: the longest listening stretches without
  either).
- *Not interrupting*: no interruption while the other spoke at least ``min_listening_s`` →
  strength (moments: where p took over after a silence); more than the target's rate → work on
  (moments: the interruptions).
- *Using silence*: median pause before answering in the target range → strength (moments: those
  answers); under it → work on (moments: the quickest answers); over ``long_answer_gap_s`` →
  work on (moments: the longest silences).
- *Reading the other's cues*: the other's voice rose and p's did not → strength (moments: the
  other's raised voice); p's rose too → work on (moments: p's raised voice).
- *Paraphrasing and clarifying* (only when the words are known): a paraphrase or a clarifying
  question → strength; none after at least ``min_listening_s`` of the other's speech → work on
  (moments: the ends of the other's longest turns, where a restatement fits).
- *Acknowledging feelings* (words known): an empathy statement → strength; none while the other's
  voice rose or their words were negative → work on (moments: those).
- *Mirroring*: p answered the other's movement, smile, posture or nodded along ``min_mirrors``
  times → strength.
- *Leaving room*: talk share in the target range → strength; over it → work on (moments: p's
  longest turns).
- *Asking questions* (words known): at least one open question → strength.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cues import is_pair, pair_members
from .cueset import CueSet
from .intervals import duration, intersect, merge, subtract
from .targets import INDICATORS, TECHNIQUES

MAX_MOMENTS = 5
MAX_EACH = 3
STRENGTH, WORK_ON = "strength", "work_on"


@dataclass(frozen=True)
class ReviewRules:
    """The thresholds of the rules (the target ranges are in :mod:`cuekit.targets`)."""

    min_listening_s: float = 20.0  # listening-based rules need at least this much of it
    eye_contact_good: float = 75.0  # % of the other's speaking time
    engaged_per_min: float = 3.0  # nods + backchannels per minute of listening
    quiet_per_min: float = 1.0
    quiet_stretch_s: float = 15.0  # a listening stretch this long without a nod or "mm-hm"
    long_answer_gap_s: float = 2.0  # median pause before answering above this: long silences
    min_mirrors: int = 2
    negative_sentiment: float = -0.3  # an utterance this negative (VADER) calls for empathy
    lead_in_s: float = 5.0  # a moment at the end of a turn starts this long before its end


RULES = ReviewRules()


@dataclass(frozen=True)
class Moment:
    """A stretch that shows a finding: play from ``start_s``."""

    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True)
class Finding:
    technique: str  # a key of cuekit.targets.TECHNIQUES
    kind: str  # STRENGTH or WORK_ON
    text: str  # one plain line
    evidence: str  # the number against its reference
    weight: float  # rank among findings of the same kind (higher first)
    moments: tuple[Moment, ...] = ()

    @property
    def technique_title(self) -> str:
        return TECHNIQUES[self.technique]


@dataclass(frozen=True)
class Review:
    person: str
    strengths: list[Finding] = field(default_factory=list)
    work_on: list[Finding] = field(default_factory=list)
    words_known: bool = False


# -- helpers on the segments table ------------------------------------------------------------

def _iv(segs: pd.DataFrame) -> np.ndarray:
    if segs.empty:
        return np.empty((0, 2))
    return merge(segs[["start", "end"]].to_numpy(dtype="float64"))


def _kind(cs: CueSet, kind: str, who: str | None = None) -> pd.DataFrame:
    s = cs.segments
    sel = s[s["kind"] == kind]
    if who is not None:
        sel = sel[sel["participant"] == who]
    return sel.sort_values("start")


def _moments(segs: pd.DataFrame, label, *, longest: bool = False,
             n: int = MAX_MOMENTS) -> tuple[Moment, ...]:
    """Up to ``n`` moments from segment rows, the longest first when ``longest`` (else the
    first), shown in time order. ``label`` is a string or a function of the row."""
    if segs.empty:
        return ()
    rows = segs.assign(_len=segs["end"] - segs["start"])
    rows = rows.sort_values("_len", ascending=False) if longest else rows
    rows = rows.head(n).sort_values("start")
    return tuple(Moment(float(r.start), float(r.end), label(r) if callable(label) else label)
                 for r in rows.itertuples())


def _iv_moments(iv: np.ndarray, label: str, *, longest: bool = True,
                n: int = MAX_MOMENTS) -> tuple[Moment, ...]:
    if not len(iv):
        return ()
    order = np.argsort(-(iv[:, 1] - iv[:, 0])) if longest else np.arange(len(iv))
    picked = sorted(iv[order[:n]].tolist())
    return tuple(Moment(float(a), float(b), label) for a, b in picked)


def _inside(segs: pd.DataFrame, iv: np.ndarray) -> pd.DataFrame:
    """Rows of ``segs`` that start inside the intervals ``iv``."""
    if segs.empty or not len(iv):
        return segs.iloc[:0]
    t = segs["start"].to_numpy()
    i = np.searchsorted(iv[:, 0], t, side="right") - 1
    ok = (i >= 0) & (t < iv[np.clip(i, 0, None), 1])
    return segs[ok]


def _names(names: list[str]) -> str:
    return " and ".join(names) if names else "the other"


@dataclass
class _Context:
    cs: CueSet
    person: str
    others: list[str]
    metrics: dict
    duration_s: float
    own_speech: np.ndarray
    others_speech: np.ndarray
    listening: np.ndarray
    words_known: bool

    @property
    def other(self) -> str:
        return _names(self.others)

    def value(self, key: str) -> float | None:
        return INDICATORS[key].value(self.metrics, self.duration_s)

    def raw(self, key: str) -> float | None:
        v = self.metrics.get(key)
        return float(v) if isinstance(v, (int, float)) and np.isfinite(v) else None


def _context(cs: CueSet, person: str) -> _Context:
    people = list(cs.participants) or sorted(
        {p for p in cs.segments["participant"].unique() if not is_pair(p)})
    others = [p for p in people if p != person]
    speech = cs.segments[cs.segments["kind"] == "speech"]
    own = _iv(speech[speech["participant"] == person])
    theirs = _iv(speech[speech["participant"].isin(others)])
    duration_s = float(cs.session.get("media", {}).get("duration_s") or 0.0)
    if not duration_s and len(cs.segments):
        duration_s = float(cs.segments["end"].max())
    metrics = cs.summary.get("participants", {}).get(person, {})
    words_known = bool(len(cs.words)) or (cs.segments["kind"] == "transcript").any() \
        or metrics.get("words") is not None
    return _Context(cs, person, others, metrics, duration_s, own, theirs,
                    subtract(theirs, own), bool(words_known))


# -- the rules -------------------------------------------------------------------------------

def _attention(c: _Context) -> Finding | None:
    ind = INDICATORS["eye_contact_listening"]
    ec = c.value("eye_contact_listening")
    if ec is None or duration(c.listening) < RULES.min_listening_s:
        return None
    evidence = f"eye contact {ind.format(ec)} of {c.other}'s speaking time " \
               f"(reference {ind.target_text()})"
    away = _kind(c.cs, "gaze_away", c.person)
    away_while = intersect(_iv(away), c.others_speech)
    if ec >= RULES.eye_contact_good:
        return Finding("attention", STRENGTH, f"Kept eye contact while {c.other} spoke.",
                       evidence, 1.0 + (ec - RULES.eye_contact_good) / 25,
                       _iv_moments(c.listening, f"{c.other} speaks, {c.person} looks on"))
    if ind.status(ec) == "low":
        return Finding("attention", WORK_ON, f"Looked away while {c.other} was talking.",
                       evidence, 1.5 + (ind.low - ec) / 20,
                       _iv_moments(away_while, f"{c.person} looks away while {c.other} speaks"))
    return None


def _engagement(c: _Context) -> Finding | None:
    listen_s = duration(c.listening)
    nods = c.raw("nods_per_min_listening")
    backs = c.raw("backchannels_per_min_listening")
    if listen_s < RULES.min_listening_s or (nods is None and backs is None):
        return None
    rate = (nods or 0.0) + (backs or 0.0)
    signs = pd.concat([_kind(c.cs, "nod", c.person), _kind(c.cs, "backchannel", c.person)])
    signs = _inside(signs.sort_values("start"), c.others_speech)
    evidence = (f"{rate:.1f} nods or 'mm-hm's a minute while {c.other} spoke "
                f"({nods or 0:.1f} nods, {backs or 0:.1f} 'mm-hm's)")
    if rate >= RULES.engaged_per_min:
        return Finding("engagement", STRENGTH,
                       f"Showed {c.other} they were following: nods and 'mm-hm's.", evidence,
                       1.0 + min(rate / RULES.engaged_per_min - 1, 1.0),
                       _moments(signs, lambda r: f"{c.person} {'nods' if r.kind == 'nod' else 'says mm-hm'}"))
    if rate < RULES.quiet_per_min and listen_s >= 3 * RULES.min_listening_s:
        quiet = subtract(c.listening, _iv(signs))
        quiet = quiet[(quiet[:, 1] - quiet[:, 0]) >= RULES.quiet_stretch_s] if len(quiet) else quiet
        return Finding("engagement", WORK_ON,
                       f"Few visible signs of listening while {c.other} talked.", evidence,
                       1.2 + (RULES.quiet_per_min - rate),
                       _iv_moments(quiet, f"{c.other} speaks, no nod or 'mm-hm' from {c.person}"))
    return None


def _not_interrupting(c: _Context) -> Finding | None:
    ind = INDICATORS["interruptions_made_per_10min"]
    n = c.raw("interruptions_made")
    if n is None:
        return None
    rate = ind.value(c.metrics, c.duration_s)
    interruptions = _kind(c.cs, "interruption", c.person)
    if n == 0 and duration(c.others_speech) >= RULES.min_listening_s:
        return Finding("not_interrupting", STRENGTH, f"Let {c.other} finish: no interruptions.",
                       f"0 interruptions in {c.duration_s / 60:.0f} min", 1.1,
                       _moments(_answer_gaps(c), f"{c.other} finishes, then {c.person} answers",
                                longest=True))
    if rate is not None and ind.status(rate) == "high":
        return Finding("not_interrupting", WORK_ON, f"Cut in while {c.other} was speaking.",
                       f"{n:.0f} interruption{'s' if n != 1 else ''} ({ind.format(rate)}; "
                       f"reference {ind.target_text()})", 2.0 + min(n, 5) / 5,
                       _moments(interruptions, lambda r: r.label or f"{c.person} interrupts"))
    return None


def _answer_gaps(c: _Context) -> pd.DataFrame:
    s = c.cs.segments
    return s[(s["kind"] == "gap") & s["participant"].str.endswith(f"|{c.person}")
             & ~s["participant"].str.startswith(f"{c.person}|")].sort_values("start")


def _silence(c: _Context) -> Finding | None:
    ind = INDICATORS["response_latency_s"]
    latency = c.value("response_latency_s")
    if latency is None:
        return None
    gaps = _answer_gaps(c)
    evidence = f"median pause before answering {ind.format(latency)} (reference {ind.target_text()})"
    status = ind.status(latency)
    if status == "in":
        fits = gaps[((gaps["end"] - gaps["start"]) >= ind.low)
                    & ((gaps["end"] - gaps["start"]) <= ind.high)]
        return Finding("silence", STRENGTH,
                       f"Let {c.other} finish and took a beat before answering.", evidence, 0.9,
                       _moments(fits, lambda r: f"{r.end - r.start:.1f} s pause, then "
                                                f"{c.person} answers"))
    if status == "low":
        quick = gaps.assign(_len=gaps["end"] - gaps["start"]).sort_values("_len").head(
            MAX_MOMENTS).sort_values("start")
        cut = _kind(c.cs, "interruption", c.person)
        moments = _moments(pd.concat([quick, cut]).sort_values("start"),
                           lambda r: r.label if r.kind == "interruption"
                           else f"{c.person} answers after {r.end - r.start:.1f} s")
        return Finding("silence", WORK_ON,
                       f"Answered as soon as {c.other} stopped, or before.", evidence,
                       1.4 + (ind.low - latency), moments)
    if latency > RULES.long_answer_gap_s:
        return Finding("silence", WORK_ON, f"Long silences before answering {c.other}.",
                       evidence, 1.0 + min(latency - RULES.long_answer_gap_s, 2.0) / 2,
                       _moments(gaps, lambda r: f"{r.end - r.start:.1f} s silence before "
                                                f"{c.person} answers", longest=True))
    return None


def _reading_cues(c: _Context) -> Finding | None:
    theirs = _kind(c.cs, "tone_shift")
    theirs = theirs[theirs["participant"].isin(c.others)]
    if theirs.empty:
        return None
    own = _kind(c.cs, "tone_shift", c.person)
    under = c.raw("tone_shifts_under_pressure")
    n = len(theirs)
    if not under:
        return Finding("reading_cues", STRENGTH,
                       f"Stayed calm when {c.other}'s voice rose.",
                       f"{c.other}'s voice rose {n} time{'s' if n != 1 else ''}; "
                       f"{c.person}'s did not follow", 1.3,
                       _moments(theirs, lambda r: f"{r.participant}'s voice is raised"))
    return Finding("reading_cues", WORK_ON,
                   f"Raised their own voice when {c.other}'s rose.",
                   f"{under:.0f} of {c.person}'s tone shifts came during or just after "
                   f"{c.other}'s", 1.8 + min(under, 3) / 3,
                   _moments(own, f"{c.person}'s voice is raised"))


def _paraphrasing(c: _Context) -> Finding | None:
    if not c.words_known:
        return None
    para = _kind(c.cs, "paraphrase", c.person)
    questions = _kind(c.cs, "question", c.person)
    clarifying = questions[questions["label"].str.startswith("clarifying")]
    n_para, n_clar = len(para), len(clarifying)
    if n_para + n_clar:
        both = pd.concat([para, clarifying]).sort_values("start")
        return Finding("paraphrasing", STRENGTH,
                       "Checked understanding: restated or asked to clarify.",
                       f"{n_para} paraphrase{'s' if n_para != 1 else ''}, {n_clar} clarifying "
                       f"question{'s' if n_clar != 1 else ''}", 1.2 + min(n_para + n_clar, 4) / 4,
                       _moments(both, lambda r: ("restates: " if r.kind == "paraphrase"
                                                 else "asks: ") + _quote(r.label)))
    if duration(c.others_speech) < RULES.min_listening_s:
        return None
    turns = merge(c.others_speech, bridge_s=1.0)
    ends = np.column_stack([np.maximum(turns[:, 0], turns[:, 1] - RULES.lead_in_s),
                            turns[:, 1]]) if len(turns) else turns
    order = np.argsort(-(turns[:, 1] - turns[:, 0]))[:3] if len(turns) else []
    moments = tuple(Moment(float(a), float(b), f"end of a long turn of {c.other}'s: "
                                               "a restatement fits here")
                    for a, b in sorted(ends[order].tolist()))
    return Finding("paraphrasing", WORK_ON,
                   f"No paraphrase or clarifying question: restate what {c.other} said.",
                   "0 paraphrases, 0 clarifying questions", 1.3, moments)


def _quote(label: str) -> str:
    text = label.split(": ", 1)[-1] if ": " in label else label
    return f"“{text[:70]}{'…' if len(text) > 70 else ''}”"


def _empathy(c: _Context) -> Finding | None:
    if not c.words_known:
        return None
    said = _kind(c.cs, "empathy", c.person)
    if len(said):
        return Finding("empathy", STRENGTH, f"Acknowledged {c.other}'s situation.",
                       f"{len(said)} empathy or acknowledgement statement"
                       f"{'s' if len(said) != 1 else ''}", 1.0 + min(len(said), 3) / 6,
                       _moments(said, lambda r: f"{c.person}: {_quote(r.label)}"))
    upset = pd.concat([_kind(c.cs, "tone_shift"), _kind(c.cs, "sentiment")])
    upset = upset[upset["participant"].isin(c.others)
                  & ((upset["kind"] == "tone_shift")
                     | (upset["score"] <= RULES.negative_sentiment))]
    if upset.empty:
        return None
    return Finding("empathy", WORK_ON,
                   f"{c.other} sounded upset or negative; no word of acknowledgement.",
                   f"{len(upset)} raised or negative moment{'s' if len(upset) != 1 else ''} "
                   f"of {c.other}'s, 0 empathy statements", 1.6,
                   _moments(upset.sort_values("start"),
                            lambda r: f"{r.participant}'s voice is raised"
                            if r.kind == "tone_shift" else f"{r.participant} sounds negative"))


def _mirroring(c: _Context) -> Finding | None:
    mirrors = _kind(c.cs, "mirror")
    theirs = np.array([c.person in pair_members(p) for p in mirrors["participant"]], bool)
    mine = mirrors[theirs
                   & mirrors["label"].str.startswith(f"{c.person} ")
                   & ~mirrors["label"].str.contains(" and ", regex=False)]
    if len(mine) < RULES.min_mirrors:
        return None
    return Finding("mirroring", STRENGTH, f"Mirrored {c.other}: posture, movement or nodding "
                                          "along.",
                   f"{len(mine)} mirroring answers", 0.8 + min(len(mine), 5) / 10,
                   _moments(mine, lambda r: r.label))


def _room(c: _Context) -> Finding | None:
    ind = INDICATORS["talk_share"]
    share = c.value("talk_share")
    if share is None or len(c.others) != 1:  # the range is for two-party calls
        return None
    evidence = f"talk share {ind.format(share)} (reference {ind.target_text()})"
    if ind.status(share) == "in":
        return Finding("room", STRENGTH, f"Left {c.other} room to talk.", evidence, 0.7)
    if ind.status(share) == "high":
        turns = merge(c.own_speech, bridge_s=1.0)
        return Finding("room", WORK_ON, f"Did most of the talking; {c.other} had less room.",
                       evidence, 1.2 + (share - ind.high) / 20,
                       _iv_moments(turns, f"{c.person} holds the floor", n=3))
    return None


def _questions(c: _Context) -> Finding | None:
    if not c.words_known:
        return None
    questions = _kind(c.cs, "question", c.person)
    open_q = questions[questions["label"].str.startswith("open")]
    if open_q.empty:
        return None
    return Finding("questions", STRENGTH, f"Asked open questions that let {c.other} explain.",
                   f"{len(open_q)} open question{'s' if len(open_q) != 1 else ''}",
                   0.9 + min(len(open_q), 4) / 8,
                   _moments(open_q, lambda r: f"asks: {_quote(r.label)}"))


RULE_FUNCTIONS = (_attention, _engagement, _not_interrupting, _silence, _reading_cues,
                  _paraphrasing, _empathy, _mirroring, _room, _questions)


def findings(cs: CueSet, person: str) -> list[Finding]:
    """Every rule's finding for ``person`` (at most one per rule)."""
    return _findings(_context(cs, person))


def _findings(c: _Context) -> list[Finding]:
    return [f for rule in RULE_FUNCTIONS if (f := rule(c)) is not None]


def review(cs: CueSet, person: str, *, max_each: int = MAX_EACH) -> Review:
    """The strongest ``max_each`` strengths and things to work on of ``person``."""
    c = _context(cs, person)  # once: it holds the speech interval work every rule reads
    ranked = sorted(_findings(c), key=lambda f: -f.weight)
    return Review(person,
                  [f for f in ranked if f.kind == STRENGTH][:max_each],
                  [f for f in ranked if f.kind == WORK_ON][:max_each],
                  words_known=c.words_known)
