"""Coaching moments: a ranked list of stretches worth reviewing, each with its reason.

Each finder returns rows for ``moment`` segments: ``participant`` is the person the moment is
about (the pair for a mirroring stretch), ``label`` the reason in plain words, ``score`` the rank
weight (higher = review first). Weights put the clearest listening lapses first:

=============================================  ==========================================
interruption                                   3 + overlap length / 3 s (at most +1)
looking away while the other's tone is raised  2.5 + share of the raised stretch (0..1)
long silence after a question                  2 + silence / 10 s (at most +1)
long monologue                                 1.5 + length / 120 s (at most +1.5)
a paraphrase of the other's turn (to praise)   1.5
strong mirroring stretch (to praise)           1 + its strength (peak |r|, 0..1)
=============================================  ==========================================

A *question*: when the words are known (a transcript, or ``--transcribe``), a ``question``
segment of the asker's ending at the turn's end (``cuekit.dynamics.verbal``'s definition, words
and final pitch together); without words, a turn whose pitch rises by
``VerbalParams.question_rise_st`` over its last ``question_tail_s`` against the second before
(``verbal.pitch_rise_st``). Without either a long silence is not called a moment, since it
cannot be told from thinking time after a statement.
"""

from __future__ import annotations

import numpy as np

from ..params import VERBAL
from ..intervals import duration, intersect, merge
from .profile import Observed
from .verbal import pitch_rise_st

LONG_SILENCE_S = 3.0
MONOLOGUE_S = 60.0
QUESTION_END_S = 1.0  # a question segment ending this close to a turn's end ends the turn
PARAPHRASE_WEIGHT = 1.5
STRONG_MIRROR = 0.6  # a movement stretch at least this strong (peak |r|) is worth praising


def _row(p: str, start: float, end: float, label: str, weight: float) -> dict:
    return dict(start=float(start), end=float(end), participant=p, kind="moment", label=label,
                score=round(float(weight), 3))


def interruptions(obs: Observed) -> list[dict]:
    """Each ``interruption`` segment, about the one who cut in."""
    return [_row(p, a, b, f"{p} interrupts" + _whom(obs, p, a), 3 + min(b - a, 3.0) / 3)
            for p in obs.participants for a, b in obs.event(p, "interruption")]


def _whom(obs: Observed, p: str, t: float) -> str:
    holder = obs.floor_holder(t)
    return f" {holder}" if holder is not None and holder != p else ""


def looking_away_under_pressure(obs: Observed) -> list[dict]:
    """Looking away (``gaze_away``) while another's tone is raised."""
    rows = []
    for p in obs.participants:
        away = merge(obs.event(p, "gaze_away"), bridge_s=0.0)
        for q in obs.others(p):
            raised = obs.raised_tone(q)
            if raised is None or not len(away):
                continue
            for a, b in raised:
                lost = intersect(np.array([[a, b]]), away)
                if len(lost):
                    share = duration(lost) / (b - a)
                    rows.append(_row(p, a, b, f"{p} looks away while {q}'s voice is raised "
                                              f"({share:.0%} of it)", 2.5 + share))
    return rows


def silences_after_questions(obs: Observed) -> list[dict]:
    """Silences of ``LONG_SILENCE_S`` or more between one person's question and another's turn."""
    rows = []
    ends = sorted((b, p) for p in obs.speech for _, b in obs.floor(p))
    starts = sorted((a, p) for p in obs.speech for a, _ in obs.floor(p))
    for end, asker in ends:
        nxt = [(a, q) for a, q in starts if a >= end]
        if not nxt:
            continue
        start, answerer = nxt[0]
        if answerer == asker or start - end < LONG_SILENCE_S or not _asks(obs, asker, end):
            continue
        silence = start - end
        rows.append(_row(answerer, end, start, f"{silence:.1f} s silence after {asker}'s "
                                               f"question before {answerer} answers",
                         2 + min(silence / 10, 1.0)))
    return rows


def _asks(obs: Observed, p: str, end: float) -> bool:
    if any(k == "transcript" for _, k in obs.events):  # the words are known: they decide
        return any(abs(b - end) <= QUESTION_END_S for _, b in obs.event(p, "question"))
    return pitch_rise_st(obs.cue(p, "voice.pitch_st"), end) >= VERBAL.question_rise_st


def monologues(obs: Observed) -> list[dict]:
    """Turns of ``MONOLOGUE_S`` or more (:meth:`Observed.floor`: the others' speech that does
    not take the floor, such as backchannels, does not end one), so the longest is the
    turn-taking stage's ``longest_monologue_s``."""
    return [_row(p, a, b, f"{p} speaks {b - a:.0f} s without handing over",
                 1.5 + min((b - a) / 120, 1.5))
            for p in obs.speech for a, b in obs.floor(p) if b - a >= MONOLOGUE_S]


def paraphrases_to_praise(obs: Observed) -> list[dict]:
    """Each paraphrase (a restatement of the other's previous turn: ``verbal``), to praise."""
    return [_row(p, a, b, f"worth praising: {p} restates {', '.join(obs.others(p))}'s words",
                 PARAPHRASE_WEIGHT)
            for p in obs.participants for a, b in obs.event(p, "paraphrase")]


def mirroring_to_praise(mirror_rows: list[dict]) -> list[dict]:
    """Movement-mirroring stretches with strength of at least ``STRONG_MIRROR``."""
    return [_row(r["participant"], r["start"], r["end"], f"worth praising: {r['label']}",
                 1 + r["score"])
            for r in mirror_rows if r.get("what") == "movement" and r["score"] >= STRONG_MIRROR]


def coaching_moments(obs: Observed, mirror_rows: list[dict]) -> list[dict]:
    """Every moment of this module, highest weight first (ties by time)."""
    rows = (interruptions(obs) + looking_away_under_pressure(obs) + silences_after_questions(obs)
            + monologues(obs) + paraphrases_to_praise(obs) + mirroring_to_praise(mirror_rows))
    return sorted(rows, key=lambda r: (-r["score"], r["start"]))
