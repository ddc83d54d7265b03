"""Display tables of the library for the dashboard (pure: no I/O, no Streamlit).

The dashboard draws what these return; what goes in a row is decided here, with unit tests,
not in ``app.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .export import clock
from .targets import INDICATORS, TREND_MARKS
from .metrics import METRICS, format_metric, title
from .store import SessionInfo, TeamMember

TREND_TEXT = {True: " (better)", False: " (worse)", None: ""}  # towards / away from the target
NO_COACH = "(no coach)"
LIST_METRICS = ("talk_share", "interruptions_made", "eye_contact_listening")  # titles: cuekit.metrics


def key_metrics(metrics: dict[str, dict[str, float]], keys: Sequence[str] = LIST_METRICS) -> str:
    """One line of a session's key metrics, per participant: ``Ann: talk 55%, … · Bob: …``
    (participants without any of ``keys`` left out)."""
    parts = []
    for person, m in metrics.items():
        shown = [f"{METRICS[k].short.rstrip('*')} {format_metric(k, m[k])}" for k in keys if k in m]
        if shown:
            parts.append(f"{person}: " + ", ".join(shown))
    return " · ".join(parts)


def library_table(sessions: Sequence[SessionInfo], *, with_owner: bool) -> pd.DataFrame:
    """The library page's table, a row per session in the order given: date, title, owner (only
    ``with_owner``: an agent's library is all their own), participants, duration (m:ss, empty
    while unknown), status (with the error when failed), key metrics."""
    table = pd.DataFrame([{
        "date": s.recorded_on, "title": s.title, "owner": s.owner,
        "participants": ", ".join(s.participants),
        "duration": clock(s.duration_s) if s.duration_s is not None else "",
        "status": s.status if s.status != "failed" else f"failed: {s.error}",
        "key metrics": key_metrics(s.metrics)} for s in sessions],
        columns=["date", "title", "owner", "participants", "duration", "status", "key metrics"])
    return table if with_owner else table.drop(columns="owner")


def history_table(history: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """A person's metrics over their sessions (``Library.history`` rows), one row per session in
    date order: ``date`` (YYYY-MM-DD), ``session`` (its title), then each of ``metrics`` that
    has a value, by its title, formatted with its unit."""
    wide = history[history["metric"].isin(metrics)].pivot_table(
        index=["recorded_on", "title"], columns="metric", values="value", sort=False)
    table = pd.DataFrame({title(m): [format_metric(m, v) for v in wide[m]]
                          for m in metrics if m in wide})
    table.insert(0, "session", wide.index.get_level_values("title"))
    table.insert(0, "date", wide.index.get_level_values("recorded_on").strftime("%Y-%m-%d"))
    return table


def value_column(indicator: str) -> str:
    """The team table's column of an indicator's latest value: ``Eye contact (%)``."""
    return f"{INDICATORS[indicator].title} ({INDICATORS[indicator].unit})"


def trend_column(indicator: str) -> str:
    """The team table's column of an indicator's trend: ``Eye contact: trend``."""
    return f"{INDICATORS[indicator].title}: trend"


def team_table(members: Sequence[TeamMember], summary: pd.DataFrame, indicators: Sequence[str],
               *, by_coach: bool) -> pd.DataFrame:
    """The team page's table, a row per agent (``summary``: ``targets.team_summary`` indexed by
    agent): ``agent``, ``sessions``, ``latest`` (date, None without sessions), ``latest
    session`` (its title), then per indicator its latest value (:func:`value_column`, None when
    not measured) and its trend (:func:`trend_column`: ↑/↓/→ and better/worse). ``by_coach``
    (an admin's view): a row per coach and agent, sorted by coach then agent, agents without a
    coach under :data:`NO_COACH`."""
    records = []
    for m in members:
        r = summary.loc[m.agent]
        base = {"agent": m.agent, "sessions": int(r["sessions"]),
                "latest": r["latest"].date() if r["sessions"] else None,
                "latest session": r["latest_title"]}
        for k in indicators:
            value = r.get(k)
            base[value_column(k)] = None if pd.isna(value) else value
            trend = r.get(f"{k}:trend")
            base[trend_column(k)] = ("" if not isinstance(trend, str) else
                                     TREND_MARKS[trend] + TREND_TEXT[r.get(f"{k}:better")])
        if by_coach:
            records += [{"coach": c, **base} for c in (m.coaches or (NO_COACH,))]
        else:
            records.append(base)
    table = pd.DataFrame(records)
    if by_coach and not table.empty:
        table = table.sort_values(["coach", "agent"], kind="stable").reset_index(drop=True)
    return table
