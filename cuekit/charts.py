"""Figures and display tables built from a CueSet (pure: no I/O, no Streamlit).

The dashboard and the standalone HTML report both draw from here. Long recordings are
decimated before drawing: a continuous cue becomes at most ``max_points`` bin means, so an hour
at 10 samples per second costs the browser no more than a minute does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from .cues import CUES, is_pair, shown_name
from .cueset import CueSet
from .metrics import METRICS, format_metric, profile_metrics, title

if TYPE_CHECKING:  # only a type here: figures and exports need no database
    from .store import Note

MAX_POINTS_PER_TRACE = 1500  # bin means per drawn series; ~2 per screen pixel column
LANE_GAP_PX = 28  # room for each lane's title
LONG_PAUSE_S = 2.0  # pauses and gaps at least this long are listed as events
EVENT_KINDS = ("interruption", "backchannel", "pause", "gap", "tone_shift", "moment", "mirror",
               "shake", "note")
_PAUSE_KINDS = ("pause", "gap")
_PALETTE = qualitative.D3
_ROW_NAMES = {"nod": "nods", "shake": "head shakes"}  # rows of a lane with several kinds


@dataclass(frozen=True)
class Lane:
    """One row of the timeline: line cues (first one present is drawn) or segment bars."""

    title: str
    cues: tuple[str, ...] = ()  # alternatives in order of preference, e.g. pitch in st or Hz
    kinds: tuple[str, ...] = ()
    raw: bool = False  # a raw signal: drawn only when asked (``timeline_figure(raw=True)``)
    min_s: float = 0.0  # segments shorter than this are left out (pauses)


# Lanes a coach reads first (what happened, as events), then the raw signals behind them.
LANES = (
    Lane("Who speaks", kinds=("speech",)),
    Lane("Transcript", kinds=("transcript",)),
    Lane("Questions, paraphrases, empathy", kinds=("question", "paraphrase", "empathy")),
    Lane("Looks away", kinds=("gaze_away",)),
    Lane("Nods and head shakes", kinds=("nod", "shake")),  # a row per person and kind
    Lane("Smiles", kinds=("smile",)),
    Lane("Voice raised", kinds=("tone_shift",)),
    Lane("Interruptions and mm-hms", kinds=("interruption", "backchannel")),
    Lane("Pauses of 2 s or more", kinds=("pause", "gap"), min_s=2.0),
    Lane("Mirroring", kinds=("mirror",)),
    Lane("Eye contact", cues=("gaze.on_screen",), raw=True),
    Lane("Smile intensity", cues=("expr.smile",), raw=True),
    Lane("Posture (lean)", cues=("body.lean",), raw=True),
    Lane("Pitch", cues=("voice.pitch_st", "voice.pitch_hz"), raw=True),
    Lane("Loudness", cues=("voice.loudness_db",), raw=True),
    Lane("Pace", cues=("voice.syllable_rate",), raw=True),
    Lane("Synchrony", cues=("sync.motion",), raw=True),
)
TIMELINE_EVENT_KINDS = ("moment", "note")  # the bottom lane: coaching moments and coach notes
_ROW_NAMES.update({"question": "questions", "paraphrase": "paraphrases", "empathy": "empathy",
                   "interruption": "interrupts", "backchannel": "mm-hm", "pause": "pauses",
                   "gap": "gaps"})

LANE_CUES = tuple(c for lane in LANES for c in lane.cues)  # the sample cues the timeline draws


def bin_means(t: np.ndarray, value: np.ndarray, *, end_s: float, max_points: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Decimate a series to at most ``max_points`` bins over ``[0, end_s]``.

    Returns (bin centre s, mean of the finite values in the bin); bins with none are NaN, so
    gaps stay gaps. A series already short enough is returned unchanged.
    """
    if len(t) <= max_points or end_s <= 0:
        return t, value
    width_s = end_s / max_points
    idx = np.clip((t / width_s).astype(int), 0, max_points - 1)
    finite = np.isfinite(value)
    sums = np.bincount(idx[finite], weights=value[finite], minlength=max_points)
    counts = np.bincount(idx[finite], minlength=max_points)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return (np.arange(max_points) + 0.5) * width_s, means


def participant_colors(names: Sequence[str]) -> dict[str, str]:
    return {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(names)}


def _duration_s(cs: CueSet) -> float:
    media_s = cs.session.get("media", {}).get("duration_s") or 0.0
    ends = [media_s]
    if len(cs.samples):
        ends.append(float(cs.samples["t"].max()))
    if len(cs.segments):
        ends.append(float(cs.segments["end"].max()))
    return max(ends)


def _people(cs: CueSet) -> list[str]:
    """Participants in layout order, then any other single names found in the tables."""
    names = list(cs.participants)
    for p in list(cs.samples["participant"].unique()) + list(cs.segments["participant"].unique()):
        if not is_pair(p) and p not in names:
            names.append(p)
    return names


def _bars(segs: pd.DataFrame) -> tuple[list, list]:
    """x and hover text for horizontal bars drawn as one line trace with gaps (fast to draw)."""
    x: list = []
    text: list = []
    for start, end, label in zip(segs["start"], segs["end"], segs["label"], strict=True):
        x += [start, end, None]
        text += [label, label, None]
    return x, text


def timeline_figure(cs: CueSet, notes: Iterable[Note] = (), *,
                    max_points: int = MAX_POINTS_PER_TRACE, raw: bool = False) -> go.Figure:
    """Lanes on one time axis (s): who speaks, the words, questions, looking away, nods,
    smiles, raised voice, interruptions, long pauses, mirroring, then coaching moments and coach
    notes; with ``raw`` also the signals behind them (eye contact, smile intensity, posture,
    pitch, loudness, pace, synchrony). Lanes without data are left out.

    Each point's ``customdata`` is its time in seconds, so a click can seek the video there.
    """
    notes = list(notes)
    duration_s = _duration_s(cs)
    people = _people(cs)
    colors = participant_colors(people)
    groups = {k: g for k, g in cs.samples.groupby(["participant", "cue"], sort=False)}
    lanes = [(lane, _lane_cue(lane, groups)) for lane in LANES if raw or not lane.raw]
    lanes = [(lane, cue) for lane, cue in lanes
             if cue is not None or len(_lane_segments(cs, lane))]
    events = events_table(cs, notes)
    events = events[events["kind"].isin(TIMELINE_EVENT_KINDS)]
    n_rows = len(lanes) + 1
    heights = [1.0 if cue is not None else 0.35 + 0.2 * _rows_of(cs, lane)
               for lane, cue in lanes] + [0.7]
    height_px = 80 + sum(95 if cue is not None else 40 + 18 * _rows_of(cs, lane)
                         for lane, cue in lanes) + 30 * max(2, events["kind"].nunique())
    fig = make_subplots(rows=n_rows, cols=1, shared_xaxes=True,
                        vertical_spacing=LANE_GAP_PX / height_px,
                        row_heights=heights,
                        subplot_titles=[_lane_title(lane, cue) for lane, cue in lanes]
                        + ["Coaching moments and notes"])
    shown_in_legend: set[str] = set()
    for row, (lane, cue) in enumerate(lanes, start=1):
        if cue is not None:
            _add_lines(fig, row, cue, groups, colors, duration_s, max_points, shown_in_legend)
        else:
            _add_bars(fig, row, _lane_segments(cs, lane), colors,
                      shown_in_legend, row_per_kind=len(lane.kinds) > 1)
    _add_events(fig, n_rows, events, colors)
    for note in notes:
        fig.add_shape(type="line", x0=note.t_s, x1=note.t_s, yref="paper", y0=0, y1=1,
                      line={"color": "#9467bd", "width": 1, "dash": "dot"})
    fig.update_xaxes(range=[0, duration_s], showspikes=True, spikemode="across", spikesnap="cursor")
    fig.update_xaxes(title_text="time (s)", row=n_rows, col=1)
    fig.update_annotations(font_size=12, x=0, xanchor="left")
    fig.update_layout(height=height_px,
                      margin={"l": 10, "r": 10, "t": 60, "b": 40}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1,
                              "xanchor": "right"},
                      clickmode="event+select")
    return fig


# -- the dashboard's timeline: compact lane data for the browser --------------------------------

NOTES_LANE = "Notes"
MOMENTS_LANE = "Coaching moments"


def timeline_lanes(cs: CueSet, notes: Iterable[Note] = (), *,
                   max_points: int = MAX_POINTS_PER_TRACE, raw: bool = False) -> dict:
    """The timeline as plain data for the dashboard's in-page timeline (JSON-ready, small).

    The lanes of :data:`LANES` that have data (the raw signals only with ``raw``), then the
    coaching moments and the notes lane (always there, so a coach sees where notes go)::

        {"duration_s": float,
         "people": {name: colour},
         "lanes": [{"key": slug, "title": str, "kind": "bars",
                    "rows": [{"name": str, "color": str, "bars": [[start_s, end_s, label], …]}]}
                   | {"key", "title", "kind": "lines", "unit": str, "range": [lo, hi],
                      "series": [{"name", "color", "t": [s, …] | "t0": s, "dt": s,
                                  "v": [value or None, …]}]}
                   | {"key": "notes", "title", "kind": "notes",
                      "notes": [[t_s, about, text], …]}]}

    Times are seconds on the media clock (rounded to 10 ms); a curve longer than ``max_points``
    becomes ``max_points`` bin means on a regular grid (``t0 + i·dt``), None where a bin has no
    finite value.
    """
    duration_s = _duration_s(cs)
    people = _people(cs)
    colors = participant_colors(people)
    wanted = [lane for lane in LANES if raw or not lane.raw]
    # the samples are grouped only when a lane draws them (an hour's take 0.2 s)
    groups = {k: g for k, g in cs.samples.groupby(["participant", "cue"], sort=False)} \
        if any(lane.cues for lane in wanted) else {}
    lanes = []
    for lane in wanted:
        cue = _lane_cue(lane, groups)
        if cue is not None:
            lanes.append(_line_lane(lane, cue, groups, colors, duration_s, max_points))
        elif len(segs := _lane_segments(cs, lane)):
            lanes.append(_bar_lane(lane.title, segs, colors, row_per_kind=len(lane.kinds) > 1))
    moments = cs.segments[cs.segments["kind"] == "moment"]
    if len(moments):
        lanes.append(_bar_lane(MOMENTS_LANE, moments, colors))
    lanes.append({"key": "notes", "title": NOTES_LANE, "kind": "notes",
                  "notes": [[round(float(n.t_s), 2), n.participant, n.text] for n in notes]})
    return {"duration_s": round(duration_s, 2), "people": colors, "lanes": lanes}


def _slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


def _bar_lane(title: str, segs: pd.DataFrame, colors: dict[str, str], *,
              row_per_kind: bool = False) -> dict:
    """A lane of bars, a row per participant (and per kind with ``row_per_kind``)."""
    rows = []
    for (participant, kind), g in segs.groupby(["participant", "kind"], sort=False):
        who = shown_name(participant)
        rows.append({"name": f"{who} {_ROW_NAMES.get(kind, kind)}" if row_per_kind else who,
                     "color": colors.get(participant, "#7f7f7f"),
                     "bars": [[round(float(s), 2), round(float(e), 2), str(label)]
                              for s, e, label in zip(g["start"], g["end"], g["label"],
                                                     strict=True)]})
    return {"key": _slug(title), "title": title, "kind": "bars", "rows": rows}


def _line_lane(lane: Lane, cue: str, groups: dict, colors: dict[str, str], duration_s: float,
               max_points: int) -> dict:
    """A lane of curves, one per participant (or pair), decimated to ``max_points``."""
    series, lo, hi = [], np.inf, -np.inf
    for (participant, name), g in groups.items():
        if name != cue:
            continue
        t, v = bin_means(g["t"].to_numpy(), g["value"].to_numpy(), end_s=duration_s,
                         max_points=max_points)
        finite = v[np.isfinite(v)]
        if len(finite):
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        one = {"name": shown_name(participant),
               "color": colors.get(participant, "#7f7f7f"),
               "v": [float(f"{x:.4g}") if np.isfinite(x) else None for x in v]}
        if len(t) < len(g):  # decimated to bin_means' regular grid: two numbers, not a list
            one.update(t0=round(float(t[0]), 6), dt=round(duration_s / len(t), 6))
        else:
            one["t"] = [round(float(x), 2) for x in t]
        series.append(one)
    if not np.isfinite(lo):
        lo, hi = 0.0, 1.0
    return {"key": _slug(lane.title), "title": _lane_title(lane, cue), "kind": "lines",
            "unit": CUES[cue].unit if cue in CUES else "", "range": [lo, hi], "series": series}


def _lane_segments(cs: CueSet, lane: Lane) -> pd.DataFrame:
    segs = cs.segments[cs.segments["kind"].isin(lane.kinds)]
    if lane.min_s:
        segs = segs[segs["end"] - segs["start"] >= lane.min_s]
    return segs


def _rows_of(cs: CueSet, lane: Lane) -> int:
    segs = _lane_segments(cs, lane)
    if len(lane.kinds) > 1:
        return max(1, len(segs.groupby(["participant", "kind"])))
    return max(1, segs["participant"].nunique())


def _lane_cue(lane: Lane, groups: dict) -> str | None:
    present = {cue for _, cue in groups}
    return next((c for c in lane.cues if c in present), None)


def _lane_title(lane: Lane, cue: str | None) -> str:
    if cue is None:
        return lane.title
    c = CUES.get(cue)
    return f"{lane.title} — {c.meaning} ({c.unit})" if c else lane.title


def _add_lines(fig: go.Figure, row: int, cue: str, groups: dict, colors: dict[str, str],
               duration_s: float, max_points: int, shown: set[str]) -> None:
    unit = CUES[cue].unit if cue in CUES else ""
    for (participant, name), g in groups.items():
        if name != cue:
            continue
        t, v = bin_means(g["t"].to_numpy(), g["value"].to_numpy(), end_s=duration_s,
                         max_points=max_points)
        color = colors.get(participant, "#7f7f7f")
        who = shown_name(participant)  # a pair's cue: "Ann & Bob"
        fig.add_trace(go.Scatter(
            x=t, y=v, customdata=t, mode="lines", name=who, legendgroup=participant,
            showlegend=participant not in shown, line={"color": color, "width": 1.5},
            hovertemplate=f"{who} %{{y:.2f}} {unit}<br>%{{x:.1f}} s<extra></extra>",
            connectgaps=False), row=row, col=1)
        shown.add(participant)


def _add_bars(fig: go.Figure, row: int, segs: pd.DataFrame, colors: dict[str, str],
              shown: set[str], *, row_per_kind: bool = False) -> None:
    """Bars per participant; with ``row_per_kind`` a row per participant and kind ("Ann nods",
    "Ann head shakes"), so kinds sharing a lane stay apart."""
    for (participant, kind), g in segs.groupby(["participant", "kind"], sort=False):
        x, text = _bars(g)
        color = colors.get(participant, "#7f7f7f")
        who = shown_name(participant)
        y = f"{who} {_ROW_NAMES.get(kind, kind)}" if row_per_kind else who
        fig.add_trace(go.Scatter(
            x=x, y=[y if v is not None else None for v in x], customdata=x,
            text=text, mode="lines+markers", name=who, legendgroup=participant,
            showlegend=participant not in shown, line={"color": color, "width": 9},
            marker={"size": 4, "color": color}, connectgaps=False,
            hovertemplate=f"{participant} {kind} %{{x:.1f}} s<br>%{{text}}<extra></extra>"),
            row=row, col=1)
        shown.add(participant)


def _add_events(fig: go.Figure, row: int, events: pd.DataFrame,
                colors: dict[str, str] | None = None) -> None:
    names = {"moment": "coaching moments", "note": "notes"}
    for kind, g in events.groupby("kind", sort=False):
        fig.add_trace(go.Scatter(
            x=g["start_s"], y=[names.get(kind, kind)] * len(g), customdata=g["start_s"],
            mode="markers", name=kind, showlegend=False,
            text=g["participant"].map(shown_name) + ": " + g["label"],
            marker={"size": 11, "symbol": "diamond" if kind == "note" else "star",
                    "color": "#9467bd" if kind == "note" else "#d62728"},
            hovertemplate=f"{kind} %{{x:.1f}} s<br>%{{text}}<extra></extra>"), row=row, col=1)


def events_table(cs: CueSet, notes: Iterable[Note] = ()) -> pd.DataFrame:
    """Moments worth a look, by time: interruptions, long pauses and gaps (≥ LONG_PAUSE_S),
    tone shifts, coaching moments, mirroring, head shakes and coach notes.

    Columns ``start_s``, ``end_s``, ``kind``, ``participant``, ``label``.
    """
    segs = cs.segments[cs.segments["kind"].isin(EVENT_KINDS)]
    long_enough = ~segs["kind"].isin(_PAUSE_KINDS) | (segs["end"] - segs["start"] >= LONG_PAUSE_S)
    segs = segs[long_enough]
    rows = pd.DataFrame({"start_s": segs["start"], "end_s": segs["end"], "kind": segs["kind"],
                         "participant": segs["participant"], "label": segs["label"]})
    note_rows = pd.DataFrame([{"start_s": n.t_s, "end_s": n.t_s, "kind": "note",
                               "participant": n.participant, "label": n.text} for n in notes],
                             columns=rows.columns)
    out = pd.concat([rows, note_rows], ignore_index=True) if len(note_rows) else rows
    return out.sort_values("start_s", kind="stable").reset_index(drop=True)


# -- scorecard ----------------------------------------------------------------------------------

def scorecard(cs: CueSet) -> pd.DataFrame:
    """The listening profile: one row per (participant, profile metric of the registry,
    :func:`cuekit.metrics.profile_metrics`) with a value.

    Columns ``participant``, ``indicator``, ``value`` (formatted), ``definition``, ``why``.
    """
    rows = []
    people = cs.summary.get("participants", {})
    for participant in _people(cs):
        values = people.get(participant, {})
        for m in profile_metrics():
            if values.get(m.name) is not None:
                rows.append({"participant": participant, "indicator": m.title,
                             "value": m.format(values[m.name]),
                             "definition": m.definition, "why": m.explanation})
    return pd.DataFrame(rows, columns=["participant", "indicator", "value", "definition", "why"])


def coaching_moments(cs: CueSet) -> pd.DataFrame:
    """Segments of kind ``moment``: columns ``start_s``, ``end_s``, ``participant``, ``label``."""
    m = cs.segments[cs.segments["kind"] == "moment"]
    return pd.DataFrame({"start_s": m["start"], "end_s": m["end"],
                         "participant": m["participant"], "label": m["label"]}
                        ).reset_index(drop=True)


def pair_table(cs: CueSet) -> pd.DataFrame:
    """Per-pair metrics (synchrony and its surrogate baseline, leader, lag) as a table."""
    pairs = cs.summary.get("pairs", {})
    return pd.DataFrame([{"pair": p, **m} for p, m in pairs.items()])


# -- compare ----------------------------------------------------------------------------------

def history_figure(history: pd.DataFrame, metrics: Sequence[str], participant: str) -> go.Figure:
    """Small multiples of one participant's metrics across sessions (x = recording date).

    ``history`` is ``Library.history(participant)``.
    """
    metrics = [m for m in metrics if (history["metric"] == m).any()]
    fig = make_subplots(rows=max(1, len(metrics)), cols=1, shared_xaxes=True,
                        vertical_spacing=0.08,
                        subplot_titles=[title(m) for m in metrics] or [participant])
    for row, metric in enumerate(metrics, start=1):
        h = history[history["metric"] == metric]
        shown = [format_metric(metric, v) for v in h["value"]]
        fig.add_trace(go.Scatter(x=h["recorded_on"], y=h["value"], mode="lines+markers",
                                 name=title(metric), text=h["title"],
                                 customdata=shown, marker={"size": 8},
                                 hovertemplate="%{text}<br>%{x|%Y-%m-%d}: %{customdata}"
                                               "<extra></extra>"),
                      row=row, col=1)
        if (h["value"] >= 0).all():  # counts, rates, shares: no axis below 0
            fig.update_yaxes(rangemode="tozero", row=row, col=1)
        if (m := METRICS.get(metric)) is not None and m.unit == "share":
            fig.update_yaxes(tickformat=".0%", row=row, col=1)
    # Dates, not times of day: a day per tick at least, and some room around a single day.
    fig.update_xaxes(type="date", tickformat="%b %d, %Y", dtick=None)
    days = pd.to_datetime(history["recorded_on"]).dropna()
    if len(days) and days.max() - days.min() < pd.Timedelta(days=2):
        middle = days.min() + (days.max() - days.min()) / 2
        fig.update_xaxes(range=[middle - pd.Timedelta(days=3), middle + pd.Timedelta(days=3)],
                         dtick=86_400_000)
    fig.update_layout(height=160 * max(1, len(metrics)) + 60, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 30, "b": 30},
                      title_text=f"{participant} across sessions")
    return fig


# -- person page ----------------------------------------------------------------------------

def indicator_trend_figure(table: pd.DataFrame, person: str, indicators: Sequence[str]
                           ) -> go.Figure:
    """Small multiples of one person's indicators across sessions (x = recording date), each
    with its target range shaded and the best session ringed (nearest the middle of the range,
    or the highest/lowest when only one side is given or ``better`` says so).

    ``table`` is :func:`cuekit.targets.indicator_table` of the sessions the viewer may see.
    """
    from .targets import INDICATORS

    mine = table[table["participant"] == person]
    keys = [k for k in indicators if (mine["indicator"] == k).any()]
    fig = make_subplots(rows=max(1, len(keys)), cols=1, shared_xaxes=True,
                        vertical_spacing=0.12 / max(1, len(keys)) + 0.03,
                        subplot_titles=[f"{INDICATORS[k].title} ({INDICATORS[k].unit}; target "
                                        f"{INDICATORS[k].target_text()})"
                                        if INDICATORS[k].has_target else
                                        f"{INDICATORS[k].title} ({INDICATORS[k].unit})"
                                        for k in keys] or [person])
    for row, key in enumerate(keys, start=1):
        ind = INDICATORS[key]
        h = mine[mine["indicator"] == key].sort_values("recorded_on")
        shown = [ind.format(v) for v in h["value"]]
        fig.add_trace(go.Scatter(x=h["recorded_on"], y=h["value"], mode="lines+markers",
                                 name=ind.title, text=h["title"], customdata=shown,
                                 marker={"size": 8, "color": "#1f77b4"},
                                 hovertemplate="%{text}<br>%{x|%Y-%m-%d}: %{customdata}"
                                               "<extra></extra>"), row=row, col=1)
        lo, hi = float(h["value"].min()), float(h["value"].max())
        if ind.has_target:  # after the trace: plotly leaves out shapes of empty subplots
            y0 = ind.low if ind.low is not None else min(lo, 0.0)
            y1 = ind.high if ind.high is not None else max(hi, ind.low * 1.5)
            fig.add_hrect(y0=y0, y1=y1, fillcolor="#2ca02c", opacity=0.12, line_width=0,
                          row=row, col=1)
            lo, hi = min(lo, y0), max(hi, y1)
        pad = 0.1 * (hi - lo) or 1.0
        fig.update_yaxes(range=[lo - pad, hi + pad], row=row, col=1)
        best = best_session(h, ind)
        if best is not None:
            fig.add_trace(go.Scatter(x=[best["recorded_on"]], y=[best["value"]], mode="markers",
                                     name="best", text=[best["title"]],
                                     marker={"size": 16, "color": "rgba(0,0,0,0)",
                                             "line": {"color": "#2ca02c", "width": 2}},
                                     hovertemplate="best: %{text}<extra></extra>"),
                          row=row, col=1)
    fig.update_xaxes(type="date", tickformat="%b %d, %Y")
    fig.update_layout(height=170 * max(1, len(keys)) + 60, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 40, "b": 30},
                      title_text=f"{person} across sessions (green: the target range; "
                                 "ringed: the best session)")
    fig.update_annotations(font_size=12)
    return fig


def best_session(history: pd.DataFrame, ind) -> pd.Series | None:
    """The row of ``history`` (one indicator's values) that is best for ``ind``: nearest the
    middle of a two-sided range, else the highest or lowest as ``better`` or the open side
    says; None when nothing says which way is better."""
    if history.empty:
        return None
    v = history["value"]
    if ind.low is not None and ind.high is not None:
        return history.loc[(v - (ind.low + ind.high) / 2).abs().idxmin()]
    if ind.better == "higher" or (ind.low is not None and ind.high is None):
        return history.loc[v.idxmax()]
    if ind.better == "lower" or ind.high is not None:
        return history.loc[v.idxmin()]
    return None


# -- outcomes ---------------------------------------------------------------------------------

def relation_figure(points: pd.DataFrame, ind, outcome: str, rel) -> go.Figure:
    """One point per session (``points``: columns ``x`` the indicator, ``y`` the outcome,
    ``title``, ``recorded_on``, ``who``) with the least-squares line of ``rel``
    (:func:`cuekit.outcomes.relation`); the title says n, the correlation and, below
    :data:`cuekit.outcomes.MIN_SESSIONS`, that there are too few sessions to say."""
    fig = go.Figure()
    shown = [ind.format(v) for v in points["x"]]
    values = set(points["y"].dropna().unique())
    yes_no = bool(values) and values <= {0.0, 1.0}
    # yes/no outcomes: spread the points a little up and down, so equal ones do not hide
    y = points["y"] + (np.sin(np.arange(len(points)) * 2.4) * 0.07 if yes_no else 0.0)
    fig.add_trace(go.Scatter(
        x=points["x"], y=y, mode="markers", name="sessions",
        text=points["title"], customdata=list(zip(
            shown, points["who"], points["recorded_on"].dt.strftime("%Y-%m-%d"),
            [("yes" if v else "no") if yes_no else f"{v:g}" for v in points["y"]], strict=True)),
        marker={"size": 10, "color": "#1f77b4", "opacity": 0.8},
        hovertemplate="%{text} (%{customdata[1]}, %{customdata[2]})<br>"
                      f"{ind.title}: %{{customdata[0]}}<br>{outcome}: %{{customdata[3]}}"
                      "<extra></extra>"))
    if rel.slope is not None:
        xs = np.array([points["x"].min(), points["x"].max()], dtype=float)
        fig.add_trace(go.Scatter(x=xs, y=rel.slope * xs + rel.intercept, mode="lines",
                                 name="trend (least squares)",
                                 line={"color": "#d62728" if not rel.too_few else "#999999",
                                       "dash": "dash" if rel.too_few else "solid"},
                                 hoverinfo="skip"))
    if ind.has_target:
        lo = ind.low if ind.low is not None else min(points["x"].min(), 0.0)
        hi = ind.high if ind.high is not None else max(points["x"].max(), ind.low * 1.5)
        fig.add_vrect(x0=lo, x1=hi, fillcolor="#2ca02c", opacity=0.10, line_width=0)
    r_text = "–" if rel.r is None else f"{rel.r:+.2f}"
    heading = f"{outcome} against {ind.title.lower()}: n = {rel.n} sessions, r = {r_text}"
    if rel.too_few:
        heading += " — too few sessions to say"
    if yes_no:
        fig.update_yaxes(tickvals=[0, 1], ticktext=["no", "yes"], range=[-0.2, 1.2])
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 50, "b": 40},
                      title_text=heading, showlegend=False,
                      xaxis_title=f"{ind.title} ({ind.unit}; green: the target range)",
                      yaxis_title=outcome)
    return fig
