"""The verbal side of listening, from the attributed words: questions, paraphrases, empathy and
acknowledgement, fillers, talking over, sentiment, and the word-based summary metrics.

Definitions (numbers are :class:`cuekit.params.VerbalParams` fields; the phrase sets are in
``cuekit/phrases.toml``, editable with ``--phrases``):

- **question** — a sentence (words up to ``.``, ``?`` or ``!``, or an utterance's end) that ends
  with ``?``, or opens with an auxiliary and its subject ("is the card …", "did you …", also
  after "just to clarify"), or that ends with a pitch rise of ``question_rise_st`` over its last
  ``question_tail_s`` against the second before *and* opens like a question (an auxiliary verb
  or a question word). A short rising statement alone is not taken for a question: on real
  emotional speech ("No, I did not.") it was wrong more often than right. Label ``clarifying``
  when it holds a clarifying phrase or shares ``clarify_shared`` content words with the other's
  previous turn; else ``open`` when it opens with an open-question start; else ``closed``.
- **paraphrase** — a sentence, not a question, that restates the other's previous turn (their
  words since this person last spoke): it shares ``paraphrase_shared`` content-word stems with that turn and
  either opens with a paraphrase opener or takes ``paraphrase_share`` of its own content stems
  from it. The label names the turn restated (its start and end in s).
- **empathy** — a sentence holding an empathy or acknowledgement phrase (label
  ``empathy: …`` or ``acknowledgement: …``; empathy first when it has both).
- **filler** — each filler word or phrase.
- **talk_over** — an utterance of ``talk_over_min_words`` or more that lies inside the other's
  utterance (starts after it and ends before it ends): words spoken over the other that did not
  take the floor. Shorter ones are backchannels.
- **sentiment** — each utterance's VADER compound score (-1..1): the tone of the words, which
  is not empathy.

Summary metrics per participant: ``words``, ``words_per_min`` (words per minute of the
participant's own speech time; NaN without speech time or without a word of theirs: missing
from the transcript is not 0 words), ``fillers_per_min`` (per minute of own speech, NaN alike), ``questions``,
``open_questions``, ``clarifying_questions``, ``paraphrases``, ``empathy_statements``,
``longest_monologue_words`` (most words in a row with no utterance of the other's longer than a
backchannel between them), ``talk_over_words`` and ``sentiment_mean``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..cues import StreamResult, concat_samples, make_segments
from ..errors import InputError
from ..params import VERBAL, VerbalParams
from .words import Utterance, utterances

PHRASES_FILE = Path(__file__).resolve().parent.parent / "phrases.toml"
PHRASE_LISTS = ("empathy", "acknowledgement", "fillers", "paraphrase_openers", "clarifying",
                "open_question_starts")
AUXILIARIES = frozenset(
    "do does did is are was were am can could will would should shall may might must have has "
    "had don't doesn't didn't isn't aren't wasn't weren't can't couldn't won't wouldn't "
    "shouldn't haven't hasn't hadn't".split())
SUBJECTS = frozenset("i you he she it we they this that there the a an your my his her our their "
                     "its".split())
CONDITIONALS = frozenset("if whether unless".split())
LEAD_INS = frozenset("so and but okay ok well right alright now then oh".split())
# Function words left out of content-word matching (closed classes of English).
STOPWORDS = frozenset("""
a an the and or but if so of to in on at by for with from about as into than then that this
these those there here it its it's i i'm i've i'd i'll me my mine we we're our us you you're
your yours he she him her his they them their what which who whom whose when where why how is
are was were be been being am do does did done have has had having can could will would should
shall may might must not no yes yeah okay ok just really very also too all any some one get got
go going gonna want let like well oh um uh right sure know mean think say said says tell see
thing things lot bit kind sort now today
""".split())


@dataclass(frozen=True)
class Phrases:
    empathy: tuple[str, ...]
    acknowledgement: tuple[str, ...]
    fillers: tuple[str, ...]
    paraphrase_openers: tuple[str, ...]
    clarifying: tuple[str, ...]
    open_question_starts: tuple[str, ...]


def load_phrases(path: str | None = None) -> Phrases:
    """The shipped phrase sets, with each list in ``path`` (a TOML file) replacing its own."""
    lists = _read_toml(PHRASES_FILE)
    if path:
        user = _read_toml(Path(path))
        unknown = set(user) - set(PHRASE_LISTS)
        if unknown:
            raise InputError(f"{path}: unknown phrase list(s) {sorted(unknown)}; "
                             f"known: {', '.join(PHRASE_LISTS)}")
        lists.update(user)
    for name in PHRASE_LISTS:
        if not isinstance(lists.get(name), list) or not all(isinstance(x, str) for x in lists[name]):
            raise InputError(f"phrase list {name!r} must be a list of strings")
    return Phrases(**{n: tuple(_norm(x) for x in lists[n] if _norm(x)) for n in PHRASE_LISTS})


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"phrases file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path} is not valid TOML: {e}") from None


_TOKEN = re.compile(r"[a-z0-9']+")


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.casefold().replace("’", "'")))


def _tokens(words) -> list[str]:
    return [_norm(w) for w in words]


def stem(word: str) -> str:
    """A light English suffix-stripper: enough to match "charged"/"charges"/"charging"."""
    w = word.casefold().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("ly", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[:-len(suffix)] + keep
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":  # "stopp" -> "stop"
        w = w[:-1]
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def content_stems(words) -> set[str]:
    return {stem(t) for t in _tokens(words) if t and t not in STOPWORDS and not t.isdigit()}


def _find(tokens: list[str], phrase: str) -> int:
    """Index of the first token where ``phrase`` (space-separated tokens) starts, or -1. Words
    of five letters or more are compared by their stems, so "that sound really" (a recogniser's
    slip) still matches "that sounds really", while "not" stays apart from "noted"."""
    parts = phrase.split()
    n = len(parts)
    for i in range(len(tokens) - n + 1):
        if all(_same_word(t, p) for t, p in zip(tokens[i:i + n], parts, strict=True)):
            return i
    return -1


def _states(tokens: list[str], phrase: str) -> bool:
    """``phrase`` is in ``tokens`` as a statement: not after "if" ("if I understand correctly"
    opens a paraphrase, it does not say one understands)."""
    i = _find(tokens, phrase)
    while i >= 0:
        if i == 0 or tokens[i - 1] not in CONDITIONALS:
            return True
        nxt = _find(tokens[i + 1:], phrase)
        i = -1 if nxt < 0 else i + 1 + nxt
    return False


def _same_word(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 5 and stem(a) == stem(b))


def _opening(tokens: list[str]) -> list[str]:
    i = 0
    while i < len(tokens) - 1 and tokens[i] in LEAD_INS:
        i += 1
    return tokens[i:]


@dataclass(frozen=True)
class _Sentence:
    participant: str
    start: float
    end: float
    words: tuple[str, ...]
    utterance: int  # index in the utterance list


def _sentences(utts: list[Utterance], words: pd.DataFrame) -> list[_Sentence]:
    out = []
    start, end = words["start"].to_numpy(), words["end"].to_numpy()
    for k, u in enumerate(utts):
        cur: list[int] = []
        for j, w in enumerate(u.words):
            cur.append(j)
            if w.endswith((".", "?", "!")) or j == len(u.words) - 1:
                a, b = u.rows[cur[0]], u.rows[cur[-1]]
                out.append(_Sentence(u.participant, float(start[a]), float(end[b]),
                                     tuple(u.words[i] for i in cur), k))
                cur = []
    return out


def pitch_rise_st(pitch: tuple[np.ndarray, np.ndarray] | None, end: float, *,
                  tail_s: float = VERBAL.question_tail_s) -> float:
    """Median pitch (``voice.pitch_st``: t, value) over the last ``tail_s`` before ``end``
    minus the second before (semitones); NaN when either stretch has no voiced frame."""
    if pitch is None:
        return np.nan
    t, st = pitch
    tail = st[(t >= end - tail_s) & (t < end)]
    before = st[(t >= end - tail_s - 1.0) & (t < end - tail_s)]
    tail, before = tail[np.isfinite(tail)], before[np.isfinite(before)]
    if not len(tail) or not len(before):
        return np.nan
    return float(np.median(tail) - np.median(before))


def _previous_turn(utts: list[Utterance], k: int) -> list[Utterance]:
    """The other participants' utterances since ``utts[k]``'s speaker last spoke (the turn this
    utterance answers), oldest first."""
    p = utts[k].participant
    turn: list[Utterance] = []
    for u in reversed(utts[:k]):
        if u.participant == p:
            if turn:
                break
            continue
        turn.append(u)
    return turn[::-1]


def verbal_cues(words: pd.DataFrame, participants: list[str], *, speech_s: dict[str, float],
                pitch: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                phrases: Phrases | None = None, lines: pd.DataFrame | None = None,
                params: VerbalParams = VERBAL) -> StreamResult:
    """Verbal cue segments, the transcript's lines and the word-based summary metrics (see the
    module doc). ``speech_s``: each participant's speech time in s; ``pitch``: participant ->
    (t, ``voice.pitch_st``) for the question rule's final rise; ``lines``: the transcript
    segments when the words came from an uploaded transcript (its cues are the lines), else
    the lines are the utterances."""
    phrases = phrases or load_phrases()
    pitch = pitch or {}
    words = words.reset_index(drop=True)
    utts = utterances(words)
    rows: list[dict] = ([dict(start=u.start, end=u.end, participant=u.participant,
                              kind="transcript", label=u.text) for u in utts]
                        if lines is None else lines.to_dict("records"))
    counts = {p: dict(questions=0, open_questions=0, clarifying_questions=0, paraphrases=0,
                      empathy_statements=0, fillers=0, talk_over_words=0) for p in participants}

    opened_in = None  # the utterance whose last sentence was a bare paraphrase opener
    for s in _sentences(utts, words):
        c = counts.get(s.participant)
        tokens = [t for t in _tokens(s.words) if t]
        kind = _question_kind(s, tokens, utts, pitch.get(s.participant), phrases, params)
        if kind:
            rows.append(dict(start=s.start, end=s.end, participant=s.participant, kind="question",
                             label=f"{kind}: {' '.join(s.words)}"))
            if c:
                c["questions"] += 1
                if kind in ("open", "clarifying"):
                    c[f"{kind}_questions"] += 1
        else:  # a question that echoes the other's words is clarifying, not a paraphrase
            opens = _opens_paraphrase(tokens, phrases)
            restated = _restates(s, _previous_turn(utts, s.utterance), params,
                                 opened=opens or opened_in == s.utterance)
            opened_in = s.utterance if restated is None and opens else None
            if restated is not None:
                rows.append(dict(start=s.start, end=s.end, participant=s.participant,
                                 kind="paraphrase", score=restated[2],
                                 label=f"restates {restated[3]}'s words at {restated[0]:.1f}–"
                                       f"{restated[1]:.1f} s: {' '.join(s.words)}"))
                if c:
                    c["paraphrases"] += 1
        for category in ("empathy", "acknowledgement"):
            phrase = next((ph for ph in getattr(phrases, category) if _states(tokens, ph)), None)
            if phrase:
                rows.append(dict(start=s.start, end=s.end, participant=s.participant,
                                 kind="empathy", label=f"{category}: {phrase}"))
                if c:
                    c["empathy_statements"] += 1
                break

    for k, u in enumerate(utts):
        c = counts.get(u.participant)
        rows += _fillers(u, _tokens(u.words), words, phrases, c)
        other = _inside_other(utts, k)
        if other is not None and len(u.words) >= params.talk_over_min_words:
            rows.append(dict(start=u.start, end=u.end, participant=u.participant,
                             kind="talk_over", score=len(u.words),
                             label=f"{len(u.words)} words over {other}: {u.text}"))
            if c:
                c["talk_over_words"] += len(u.words)

    scores = _sentiment([u.text for u in utts])
    for u, score in zip(utts, scores, strict=True):
        if not np.isfinite(score):  # VADER not installed
            continue
        rows.append(dict(start=u.start, end=u.end, participant=u.participant, kind="sentiment",
                         score=score, label=f"{score:+.2f}"))

    summary = {}
    for p in participants:
        mine = words[words["participant"] == p]
        # no word of theirs: not in the transcript (or not recognised), which is not 0 words
        minutes = speech_s.get(p, 0.0) / 60.0 if len(mine) else 0.0
        c = counts[p]
        own = [s for u, s in zip(utts, scores, strict=True) if u.participant == p]
        summary[p] = dict(
            words=int(len(mine)),
            words_per_min=len(mine) / minutes if minutes > 0 else np.nan,
            fillers_per_min=c["fillers"] / minutes if minutes > 0 else np.nan,
            questions=c["questions"], open_questions=c["open_questions"],
            clarifying_questions=c["clarifying_questions"], paraphrases=c["paraphrases"],
            empathy_statements=c["empathy_statements"],
            longest_monologue_words=_longest_monologue_words(utts, p,
                                                             params.talk_over_min_words),
            talk_over_words=c["talk_over_words"],
            sentiment_mean=float(np.mean(own)) if own else np.nan)
    return StreamResult(samples=concat_samples([]), segments=make_segments(rows),
                        provenance={"words": int(len(words)), "utterances": len(utts)},
                        summary=summary)


def _question_kind(s: _Sentence, tokens: list[str], utts: list[Utterance], pitch,
                   phrases: Phrases, params: VerbalParams) -> str | None:
    if not tokens:
        return None
    opening = _opening(_last_clause(s.words))
    asks = s.words[-1].endswith("?") or _inverted(opening, phrases)
    if not asks and not s.words[-1].endswith("!"):
        looks = bool(opening) and (opening[0] in AUXILIARIES or _opens_open(opening, phrases))
        asks = looks and (pitch_rise_st(pitch, s.end, tail_s=params.question_tail_s)
                          >= params.question_rise_st)
    if not asks:
        return None
    previous = _previous_turn(utts, s.utterance)
    shared = content_stems(s.words) & content_stems(w for u in previous for w in u.words)
    if any(_find(tokens, ph) >= 0 for ph in phrases.clarifying) or len(shared) >= params.clarify_shared:
        return "clarifying"
    return "open" if _opens_open(opening, phrases) else "closed"


def _inverted(opening: list[str], phrases: Phrases) -> bool:
    """Opens with an auxiliary then its subject ("is the card", "did you"), the word order of a
    yes/no question, after a clarifying lead such as "just to clarify" when there is one: a
    question even when the recogniser wrote no "?"."""
    for ph in phrases.clarifying:
        if _find(opening[:len(ph.split())], ph) == 0:
            opening = opening[len(ph.split()):]
            break
    return len(opening) >= 2 and opening[0] in AUXILIARIES and opening[1] in SUBJECTS


def _last_clause(words: tuple[str, ...]) -> list[str]:
    """Tokens after the sentence's last comma (its question clause: "Thank you for calling, how
    can I help?"), or all when that leaves fewer than two."""
    cut = max((i + 1 for i, w in enumerate(words[:-1]) if w.endswith(",")), default=0)
    tail = [t for t in _tokens(words[cut:]) if t]
    return tail if len(tail) >= 2 else [t for t in _tokens(words) if t]


def _opens_open(opening: list[str], phrases: Phrases) -> bool:
    return any(_find(opening[:len(ph.split())], ph) == 0 for ph in phrases.open_question_starts)


def _opens_paraphrase(tokens: list[str], phrases: Phrases) -> bool:
    """The sentence opens with a paraphrase opener ("so you", "what I'm hearing" …), lead-ins
    ("so", "okay" …) and one-word fillers ("um") left out."""
    fillers = {f for f in phrases.fillers if " " not in f}
    opening = _opening([t for t in tokens if t not in fillers])
    return any(_find(opening[:len(ph.split())], ph) == 0 for ph in phrases.paraphrase_openers)


def _restates(s: _Sentence, turn: list[Utterance], params: VerbalParams, *, opened: bool
              ) -> tuple[float, float, float, str] | None:
    """(start, end, share, speaker) of the turn the sentence ``s`` restates, or None.
    ``opened``: the sentence opens with a paraphrase opener, or the sentence before it, in the
    same utterance, was a bare opener ("Let me make sure I have this right.")."""
    if not turn or len(s.words) < params.paraphrase_min_words:
        return None
    mine = content_stems(s.words)
    theirs = content_stems(w for v in turn for w in v.words)
    shared = mine & theirs
    if len(shared) < params.paraphrase_shared or not mine:
        return None
    share = len(shared) / len(mine)
    if not (opened or share >= params.paraphrase_share):
        return None
    return turn[0].start, turn[-1].end, round(share, 3), turn[-1].participant


def _fillers(u: Utterance, tokens: list[str], words: pd.DataFrame, phrases: Phrases,
             counts: dict | None) -> list[dict]:
    rows = []
    start, end = words["start"].to_numpy(), words["end"].to_numpy()
    i = 0
    while i < len(tokens):
        hit = None
        for ph in phrases.fillers:
            parts = ph.split()
            if tokens[i:i + len(parts)] == parts and not (
                    ph == "you know" and i > 0 and tokens[i - 1] in AUXILIARIES):
                hit = parts
                break
        if hit:
            a, b = u.rows[i], u.rows[i + len(hit) - 1]
            rows.append(dict(start=float(start[a]), end=float(end[b]), participant=u.participant,
                             kind="filler", label=" ".join(hit)))
            if counts is not None:
                counts["fillers"] += 1
            i += len(hit)
        else:
            i += 1
    return rows


def _inside_other(utts: list[Utterance], k: int) -> str | None:
    u = utts[k]
    for v in utts:
        if v.participant != u.participant and v.start < u.start and u.end < v.end:
            return v.participant
    return None


def _longest_monologue_words(utts: list[Utterance], p: str, backchannel_words: int) -> int:
    best = run = 0
    for u in utts:
        if u.participant == p:
            run += len(u.words)
            best = max(best, run)
        elif len(u.words) >= backchannel_words:
            run = 0
    return best


def _sentiment(texts: list[str]) -> list[float]:
    if not texts:
        return []
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return [np.nan] * len(texts)
    sia = SentimentIntensityAnalyzer()
    return [float(sia.polarity_scores(t)["compound"]) for t in texts]


__all__ = ["PHRASES_FILE", "Phrases", "content_stems", "load_phrases", "pitch_rise_st", "stem",
           "verbal_cues"]
