"""Turn-taking from who speaks when (Heldner & Edlund 2010).

The timeline of speech is cut into states (nobody, one, or several speakers). A participant
*holds the floor* from the start of their solo speech until someone else's solo speech begins;
a solo stretch shorter than ``keep_floor_s`` inside another person's turn does not take the
floor (a short "yes" in a pause). A *turn* runs from the start of its holder's first solo
stretch to the end of their last one before the floor changes hands: it takes in the holder's
pauses, however long, and the others' speech that did not take the floor (:func:`turns`, the one
definition of holding the floor; a *monologue* is a long turn). Then

- *pause*: silence inside one person's turn; *gap*: silence between two people's turns;
- *overlap*: several speak at once (at least ``min_overlap_s``);
- *interruption*: an overlap that starts while the floor holder speaks, after which a newcomer
  holds the floor; *backchannel*: a shorter-than-``backchannel_max_s`` overlap after which
  the floor holder keeps the floor;
- *response latency*: the floor-transfer offset (FTO) of each change of floor holder: the start
  of the new holder's speech that opens their turn minus the end of the previous holder's last
  speech before it. A silent gap gives a positive FTO, a transfer that begins in overlap
  (including an interruption) a negative one, so every transfer counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..cues import StreamResult, make_segments, pair_name
from ..errors import InputError
from ..intervals import as_intervals, duration, from_mask, inside
from ..params import TURNS, TurnParams


@dataclass(frozen=True)
class _State:
    start: float
    end: float
    active: frozenset

    @property
    def dur(self) -> float:
        return self.end - self.start


@dataclass
class _Spell:
    """One turn: a speaker's run of solo states, indices into the state list."""

    speaker: str
    first: int
    last: int
    solo_s: float


def conversation(samples: pd.DataFrame, participants: list[str], *, duration_s: float,
                 params: TurnParams = TURNS) -> StreamResult:
    """Pauses, gaps, overlaps, interruptions, backchannels and turn metrics.

    ``samples`` holds ``voice.active`` (0/1 on an even grid; each sample covers
    ``[t, t + step)``) per participant, named as in ``participants``; other cues are ignored.
    Returns segments of kinds ``pause``, ``gap``, ``overlap``, ``interruption``, ``backchannel``
    and a summary per participant: ``talk_share`` (0..1 of all speech time), ``turns``,
    ``longest_monologue_s``, ``interruptions_made``, ``interruptions_suffered``,
    ``response_latency_s`` (median floor-transfer offset when taking the floor from someone
    else, s: + = after a silent gap, - = started before the other stopped; NaN if never),
    ``backchannels``. ``params``: see :class:`~cuekit.params.TurnParams`.
    """
    if not duration_s >= 0:
        raise InputError(f"duration_s must be >= 0, got {duration_s!r}")
    speech = {p: _voice_intervals(samples, p) for p in participants}
    states = _states(speech, duration_s)
    spells = _spells(states, params.keep_floor_s)
    holder = _holder_index(states, spells)
    rows, counts = [], {p: dict(interruptions_made=0, interruptions_suffered=0, backchannels=0)
                        for p in participants}
    latency = _floor_transfer_offsets(speech, states, spells)
    order = {p: i for i, p in enumerate(participants)}
    for i, st in enumerate(states):
        if not st.active and holder[i] is not None:
            rows.extend(_silence(i, st, states, spells, holder))
    for i0, i1 in _overlap_runs(states):
        rows.extend(_overlap(i0, i1, states, spells, holder, order, counts,
                             min_overlap_s=params.min_overlap_s,
                             backchannel_max_s=params.backchannel_max_s))
    total_s = sum(duration(iv) for iv in speech.values())
    summary = {}
    held = _turn_intervals(states, spells, participants)
    for p in participants:
        spoken = duration(speech[p])
        summary[p] = dict(
            talk_share=spoken / total_s if total_s > 0 else np.nan,
            turns=float(len(held[p])),
            longest_monologue_s=float((held[p][:, 1] - held[p][:, 0]).max()) if len(held[p])
            else 0.0,
            response_latency_s=float(np.median(latency[p])) if latency[p] else np.nan,
            **{k: float(v) for k, v in counts[p].items()})
    return StreamResult(samples=samples.iloc[0:0].copy(), segments=make_segments(rows),
                        summary=summary,
                        provenance={"turns": asdict(params)})


def turns(speech: dict[str, np.ndarray], *,
          keep_floor_s: float = TURNS.keep_floor_s) -> dict[str, np.ndarray]:
    """Each participant's turns (when they hold the floor, see the module doc) as ``(n, 2)``
    intervals, from their speech (participant -> sorted interval set)."""
    speech = {p: as_intervals(iv) for p, iv in speech.items()}
    end_s = max((float(iv[:, 1].max()) for iv in speech.values() if len(iv)), default=0.0)
    states = _states(speech, end_s)
    return _turn_intervals(states, _spells(states, keep_floor_s), list(speech))


def _turn_intervals(states: list[_State], spells: list[_Spell], participants: list[str]
                    ) -> dict[str, np.ndarray]:
    out: dict[str, list] = {p: [] for p in participants}
    for s in spells:
        out[s.speaker].append((states[s.first].start, states[s.last].end))
    return {p: np.array(iv, dtype="float64").reshape(-1, 2) for p, iv in out.items()}


def _voice_intervals(samples: pd.DataFrame, participant: str) -> np.ndarray:
    sel = samples[(samples["participant"] == participant) & (samples["cue"] == "voice.active")]
    t = sel["t"].to_numpy(dtype="float64")
    order = np.argsort(t)
    t, on = t[order], sel["value"].to_numpy(dtype="float64")[order] >= 0.5
    return from_mask(t, on)  # each sample covers one step


def _states(speech: dict[str, np.ndarray], duration_s: float) -> list[_State]:
    """The timeline as maximal runs with a constant set of active speakers."""
    cuts = {0.0, float(duration_s)}
    for iv in speech.values():
        cuts.update(iv.ravel().tolist())
    cuts = np.array(sorted(c for c in cuts if 0.0 <= c <= max(duration_s, 0.0)))
    mids = (cuts[:-1] + cuts[1:]) / 2
    on = {p: inside(mids, iv) for p, iv in speech.items()}
    states: list[_State] = []
    for i, (a, b) in enumerate(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=False)):
        active = frozenset(p for p in speech if on[p][i])
        if states and states[-1].active == active:
            states[-1] = _State(states[-1].start, b, active)
        else:
            states.append(_State(a, b, active))
    return states


def _spells(states: list[_State], keep_floor_s: float) -> list[_Spell]:
    spells: list[_Spell] = []
    for i, st in enumerate(states):
        if len(st.active) != 1:
            continue
        (who,) = st.active
        if spells and spells[-1].speaker == who:
            spells[-1].last = i
            spells[-1].solo_s += st.dur
        else:
            spells.append(_Spell(who, i, i, st.dur))
    merged = True
    while merged:  # a short solo stretch inside someone else's turn does not take the floor
        merged = False
        for k in range(1, len(spells) - 1):
            prev, cur, nxt = spells[k - 1], spells[k], spells[k + 1]
            if cur.solo_s < keep_floor_s and prev.speaker == nxt.speaker:
                spells[k - 1:k + 2] = [_Spell(prev.speaker, prev.first, nxt.last,
                                              prev.solo_s + nxt.solo_s)]
                merged = True
                break
    return spells


def _holder_index(states: list[_State], spells: list[_Spell]) -> list[int | None]:
    """For each state, the index of the spell that holds the floor then (None before any)."""
    holder: list[int | None] = [None] * len(states)
    for k, s in enumerate(spells):
        end = spells[k + 1].first if k + 1 < len(spells) else len(states)
        for i in range(s.first, end):
            holder[i] = k
    return holder


_EDGE_S = 1e-6  # s: interval edges closer than this are the same instant


def _floor_transfer_offsets(speech: dict[str, np.ndarray], states: list[_State],
                            spells: list[_Spell]) -> dict[str, list[float]]:
    """Participant -> the floor-transfer offsets (s) of the turns they took from someone else."""
    fto_s: dict[str, list[float]] = {p: [] for p in speech}
    for prev, cur in zip(spells, spells[1:], strict=False):
        solo_start = states[cur.first].start
        # the taker's turn began where their speech around the solo start began (earlier when
        # they started in overlap); the state grid and the intervals can disagree by rounding,
        # so a solo start found in no interval counts as the turn's own start
        taker_start = next((a for a, b in speech[cur.speaker]
                            if a - _EDGE_S <= solo_start < b + _EDGE_S), solo_start)
        holder_ends = [b for a, b in speech[prev.speaker] if a < solo_start]
        if holder_ends:
            fto_s[cur.speaker].append(taker_start - max(holder_ends))
    return fto_s


def _silence(i, st, states, spells, holder) -> list[dict]:
    k = holder[i]
    spell = spells[k]
    if i < spell.last:
        return [dict(start=st.start, end=st.end, participant=spell.speaker, kind="pause",
                     label=f"{spell.speaker} pauses", score=st.dur)]
    if k + 1 >= len(spells):
        return []  # silence after the last turn
    nxt = spells[k + 1].speaker
    if any(states[j].active for j in range(i + 1, spells[k + 1].first)):
        return []  # an overlap follows before the new turn: the transfer is not a clean gap
    return [dict(start=st.start, end=st.end, participant=f"{spell.speaker}|{nxt}", kind="gap",
                 label=f"{spell.speaker} → {nxt}", score=st.dur)]


def _overlap_runs(states: list[_State]) -> list[tuple[int, int]]:
    runs, i = [], 0
    while i < len(states):
        if len(states[i].active) >= 2:
            j = i
            while j + 1 < len(states) and len(states[j + 1].active) >= 2:
                j += 1
            runs.append((i, j + 1))
            i = j + 1
        else:
            i += 1
    return runs


def _overlap(i0, i1, states, spells, holder, order, counts, *, min_overlap_s,
             backchannel_max_s) -> list[dict]:
    start, end = states[i0].start, states[i1 - 1].end
    if end - start < min_overlap_s:
        return []
    who = sorted(set().union(*(states[i].active for i in range(i0, i1))), key=order.get)
    rows = [dict(start=start, end=end, participant=pair_name(who), kind="overlap",
                 label=" + ".join(who), score=end - start)]
    before = states[i0 - 1].active if i0 > 0 else frozenset()
    k = holder[i0]
    incumbent = spells[k].speaker if k is not None else None
    if incumbent is None or incumbent not in before:
        return rows  # nobody held the floor when the overlap began (simultaneous start)
    newcomers = [p for p in who if p not in before]
    nxt = next((j for j in range(i1, len(states)) if states[j].active), None)
    k_after = holder[nxt] if nxt is not None else k
    taker = spells[k_after].speaker if k_after is not None else incumbent
    if k_after != k and taker in newcomers:
        counts[taker]["interruptions_made"] += 1
        counts[incumbent]["interruptions_suffered"] += 1
        rows.append(dict(start=start, end=end, participant=taker, kind="interruption",
                         label=f"{taker} interrupts {incumbent}", score=end - start))
    elif taker == incumbent and end - start < backchannel_max_s:
        for p in newcomers:
            counts[p]["backchannels"] += 1
            rows.append(dict(start=start, end=end, participant=p, kind="backchannel",
                             label=f"{p} backchannels {incumbent}", score=end - start))
    return rows
