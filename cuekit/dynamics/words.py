"""Who said each word, and the words grouped into utterances.

``attribute_words`` gives each word of a mixed track to the participant whose speech covers it
(who speaks when decides, never the recogniser). A word inside an overlap goes to the person
whose speech covers more of it; a tie to the one already talking before the word. A word
outside everyone's speech (the VAD missed a soft syllable) goes to the participant whose speech
is nearest within ``NEAREST_SPEECH_S``, else stays unattributed (``""``).

``utterances`` joins one person's consecutive words (no other participant's word wholly between
them, gaps under ``UTTERANCE_GAP_S``) into the unit the verbal cues and the transcript panel use.
``transcript_words`` turns an uploaded transcript's cues into the same words table, each cue's
words spread evenly over its time, so the verbal cues read both sources alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cues import make_words

NEAREST_SPEECH_S = 0.5
UTTERANCE_GAP_S = 1.5


def attribute_words(words: pd.DataFrame, speech: pd.DataFrame,
                    participants: list[str]) -> pd.DataFrame:
    """``words`` with ``participant`` set from ``speech`` segments (``start``, ``end``,
    ``participant``; one participant's rows are their speech)."""
    if not len(words):
        return words.copy()
    spans = {p: speech.loc[speech["participant"] == p, ["start", "end"]].to_numpy(float)
             for p in participants}
    start, end = words["start"].to_numpy(float), words["end"].to_numpy(float)
    cover = np.stack([_covered_s(start, end, spans[p]) for p in participants], axis=1)
    earlier = np.stack([_covered_s(start - 1.0, start, spans[p]) for p in participants], axis=1)
    gap = np.stack([_distance_s(start, end, spans[p]) for p in participants], axis=1)
    who = []
    for i in range(len(words)):
        if cover[i].max() > 0:
            top = np.flatnonzero(cover[i] >= cover[i].max() - 1e-9)
            k = top[np.argmax(earlier[i, top])] if len(top) > 1 else top[0]
            who.append(participants[k])
        elif gap[i].min() <= NEAREST_SPEECH_S:
            who.append(participants[int(np.argmin(gap[i]))])
        else:
            who.append("")
    return words.assign(participant=who)


def _covered_s(start: np.ndarray, end: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Seconds of each ``[start, end]`` covered by the (non-overlapping) ``spans``."""
    if not len(spans):
        return np.zeros(len(start))
    lo = np.maximum(start[:, None], spans[None, :, 0])
    hi = np.minimum(end[:, None], spans[None, :, 1])
    return np.clip(hi - lo, 0.0, None).sum(axis=1)


def _distance_s(start: np.ndarray, end: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Seconds from each ``[start, end]`` to the nearest span (0 when they touch)."""
    if not len(spans):
        return np.full(len(start), np.inf)
    before = np.clip(start[:, None] - spans[None, :, 1], 0.0, None)
    after = np.clip(spans[None, :, 0] - end[:, None], 0.0, None)
    return np.maximum(before, after).min(axis=1)


@dataclass(frozen=True)
class Utterance:
    participant: str
    start: float   # s
    end: float     # s
    words: tuple[str, ...]
    rows: tuple[int, ...]  # the words' row numbers in the words table

    @property
    def text(self) -> str:
        return " ".join(self.words)


def utterances(words: pd.DataFrame) -> list[Utterance]:
    """Each participant's words joined into utterances, in time order of their starts.

    One person's next word starts a new utterance after a gap of ``UTTERANCE_GAP_S`` or more,
    or when a word of someone else's lies wholly inside the gap (the other spoke in between:
    a turn went by). Words of someone else's that overlap this person's words do not split
    them: that is talking over, not taking the floor. Unattributed words are left out."""
    rows = words.reset_index(drop=True)
    who = rows["participant"].to_numpy(dtype=object)
    start, end = rows["start"].to_numpy(float), rows["end"].to_numpy(float)
    text = rows["word"].tolist()
    out: list[Utterance] = []
    for p in dict.fromkeys(w for w in who if w):
        mine = np.flatnonzero(who == p)
        others = np.flatnonzero((who != p) & (who != ""))
        o_start, o_end = start[others], end[others]
        order = np.argsort(o_start, kind="stable")
        o_start, o_end = o_start[order], o_end[order]
        run = [int(mine[0])]
        for i in mine[1:]:
            a, b = end[run[-1]], start[i]
            lo, hi = np.searchsorted(o_start, a), np.searchsorted(o_start, b, side="right")
            if b - a >= UTTERANCE_GAP_S or bool(np.any(o_end[lo:hi] <= b)):
                out.append(_utterance(p, run, start, end, text))
                run = []
            run.append(int(i))
        out.append(_utterance(p, run, start, end, text))
    return sorted(out, key=lambda u: (u.start, u.end))


def _utterance(p: str, run: list[int], start, end, text) -> Utterance:
    return Utterance(p, float(start[run[0]]), float(end[run[-1]]), tuple(text[i] for i in run),
                     tuple(run))


def transcript_words(cues: list[dict], mapping: dict[str, str]) -> pd.DataFrame:
    """Words of an uploaded transcript: each cue's words evenly over its time, the cue's speaker
    mapped to a participant, probability NaN (not a recogniser's guess)."""
    rows = []
    for c in cues:
        ws = c["text"].split()
        if not ws:
            continue
        edges = np.linspace(c["start"], max(c["end"], c["start"]), len(ws) + 1)
        who = mapping.get(c["speaker"], c["speaker"])
        rows += [(float(edges[k]), float(edges[k + 1]), who, w, np.nan) for k, w in enumerate(ws)]
    return make_words(rows)


__all__ = ["NEAREST_SPEECH_S", "UTTERANCE_GAP_S", "Utterance", "attribute_words",
           "transcript_words", "utterances"]
