"""Display tables of the library for the dashboard (pure: no I/O, no Streamlit).

The dashboard draws what these return; what goes in a row is decided here, with unit tests,
not in ``app.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .export import clock
from .metrics import METRICS, format_metric
from .store import SessionInfo

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
