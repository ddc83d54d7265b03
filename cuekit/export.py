"""Exports of one analysed session: CSV, Parquet, JSON summary, ELAN ``.eaf``, HTML report.

Each ``*_bytes`` function returns the file's content (for a download button);
:func:`write_all` writes them all into a folder. Coach notes travel with every export as
segments of kind ``note``.
"""

from __future__ import annotations

import html
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import __version__, charts
from .cues import SEGMENT_COLUMNS, concat_segments, make_segments
from .cueset import CueSet, clean_json, write_file
from .errors import InputError

if TYPE_CHECKING:  # only a type here: figures and exports need no database
    from .store import Note

EAF_MIN_ANNOTATION_MS = 100  # ELAN refuses zero-length annotations; notes are points in time
NOTE_PARTICIPANT = "coach"  # whose tier a note about the whole call goes to
MIME_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".m4a": "audio/mp4",
         ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
         ".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".flac": "audio/flac"}


def with_notes(cs: CueSet, notes: Iterable[Note]) -> CueSet:
    """The CueSet with coach notes added as ``note`` segments (start = end = the note's time)."""
    rows = [{"start": n.t_s, "end": n.t_s, "participant": n.participant or NOTE_PARTICIPANT,
             "kind": "note", "label": n.text} for n in notes]
    if not rows:
        return cs
    return replace(cs, segments=concat_segments([cs.segments, make_segments(rows)]))


def samples_csv_bytes(cs: CueSet) -> bytes:
    return cs.samples.to_csv(index=False).encode()


def segments_csv_bytes(cs: CueSet) -> bytes:
    return cs.segments[SEGMENT_COLUMNS].to_csv(index=False).encode()


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def samples_parquet_bytes(cs: CueSet) -> bytes:
    return _parquet_bytes(cs.samples)


def segments_parquet_bytes(cs: CueSet) -> bytes:
    return _parquet_bytes(cs.segments[SEGMENT_COLUMNS])


def summary_json_bytes(cs: CueSet, notes: Iterable[Note] = (), *, title: str = "") -> bytes:
    """``summary.json`` plus the session's title, media, coach notes and coaching moments."""
    doc = {"title": title, "media": cs.session.get("media", {}),
           "participants": cs.summary.get("participants", {}),
           "pairs": cs.summary.get("pairs", {}),
           "coaching_moments": charts.coaching_moments(cs).to_dict("records"),
           "notes": [{"t_s": n.t_s, "participant": n.participant, "text": n.text,
                      "created_at": n.created_at} for n in notes]}
    return json.dumps(clean_json(doc), indent=2, allow_nan=False).encode()


def eaf_bytes(cs: CueSet, notes: Iterable[Note] = (), *, media_path: str | None = None) -> bytes:
    """ELAN annotation file (EAF 3.0): one tier per participant and segment kind, named
    ``"<participant> <kind>"``, with the segment's label (or kind) as the annotation value."""
    import pympi

    eaf = pympi.Elan.Eaf(author=f"cuekit {__version__}")
    eaf.remove_tier("default")
    if media_path:
        eaf.add_linked_file(Path(media_path).resolve().as_uri(),
                            mimetype=MIME_TYPES.get(Path(media_path).suffix.lower(), "video/mp4"))
    segs = with_notes(cs, notes).segments
    for (participant, kind), g in segs.groupby(["participant", "kind"], sort=True):
        tier = f"{participant} {kind}"
        eaf.add_tier(tier, part=participant)
        for start, end, label in zip(g["start"], g["end"], g["label"], strict=True):
            start_ms = int(round(start * 1000))
            end_ms = max(int(round(end * 1000)), start_ms + EAF_MIN_ANNOTATION_MS)
            eaf.add_annotation(tier, start_ms, end_ms, label or kind)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "session.eaf")
        pympi.Elan.to_eaf(path, eaf)
        with open(path, "rb") as f:
            return f.read()


def html_report_bytes(cs: CueSet, notes: Iterable[Note] = (), *, title: str = "") -> bytes:
    """A standalone HTML page (plotly.js inlined, works offline) to share with a client:
    the timeline, the listening profile, coaching moments, events and coach notes."""
    notes = list(notes)
    media = cs.session.get("media", {})
    heading = title or os.path.basename(media.get("path", "")) or "cuekit session"
    figure = charts.timeline_figure(cs, notes).to_html(full_html=False, include_plotlyjs=True)
    sections = [
        ("Listening profile", _table(charts.scorecard(cs))),
        ("Coaching moments", _table(_with_clock(charts.coaching_moments(cs)))),
        ("Coach notes", _table(_with_clock(pd.DataFrame(
            [{"start_s": n.t_s, "participant": n.participant, "note": n.text} for n in notes],
            columns=["start_s", "participant", "note"])))),
        ("Synchrony", _table(charts.pair_table(cs))),
        ("Events", _table(_with_clock(charts.events_table(cs)))),
    ]
    body = "".join(f"<h2>{html.escape(name)}</h2>{content}" for name, content in sections)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)} — cuekit</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}
table{{border-collapse:collapse;margin-bottom:1em}}td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}}th{{background:#f3f3f3}}</style></head><body>
<h1>{html.escape(heading)}</h1>
<p>{media.get('duration_s', 0):.0f} s · {', '.join(map(html.escape, cs.participants))} ·
report by cuekit {__version__}, {when}</p>
{figure}{body}</body></html>"""
    return page.encode()


def _with_clock(df: pd.DataFrame) -> pd.DataFrame:
    """Replace ``start_s``/``end_s`` by m:ss clock strings for reading."""
    out = df.copy()
    for col in ("start_s", "end_s"):
        if col in out:
            out[col.replace("_s", "")] = out.pop(col).map(clock)
    lead = [c for c in ("start", "end") if c in out]
    return out[lead + [c for c in out.columns if c not in lead]]


def clock(t_s: float) -> str:
    """Seconds as ``m:ss`` (or ``h:mm:ss``) for people."""
    total = int(t_s)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p>none</p>"
    return df.to_html(index=False, escape=True, na_rep="–", float_format=lambda v: f"{v:.3g}")


@dataclass(frozen=True)
class ExportKind:
    """One file a session exports (named ``<stem>_<its key in EXPORTS>``): its button's label
    and its type."""

    label: str
    mime: str


EXPORTS = {
    "samples.csv": ExportKind("Cues (CSV)", "text/csv"),
    "segments.csv": ExportKind("Events and segments (CSV)", "text/csv"),
    "samples.parquet": ExportKind("Cues (Parquet)", "application/octet-stream"),
    "segments.parquet": ExportKind("Events and segments (Parquet)", "application/octet-stream"),
    "summary.json": ExportKind("Summary (JSON)", "application/json"),
    "session.eaf": ExportKind("ELAN (.eaf)", "application/xml"),
    "report.html": ExportKind("Report (HTML)", "text/html"),
}


def export_bytes(kind: str, cs: CueSet, notes: Iterable[Note] = (), *, title: str = "",
                 media_path: str | None = None) -> bytes:
    """The content of one of :data:`EXPORTS` (``InputError`` for another name). ``cs`` must
    hold every cue for the samples files (a dashboard view holds only the drawn ones)."""
    if kind not in EXPORTS:
        raise InputError(f"no export called {kind!r}; use one of {', '.join(EXPORTS)}")
    notes = list(notes)
    build = {
        "samples.csv": lambda: samples_csv_bytes(cs),
        "segments.csv": lambda: segments_csv_bytes(with_notes(cs, notes)),
        "samples.parquet": lambda: samples_parquet_bytes(cs),
        "segments.parquet": lambda: segments_parquet_bytes(with_notes(cs, notes)),
        "summary.json": lambda: summary_json_bytes(cs, notes, title=title),
        "session.eaf": lambda: eaf_bytes(cs, notes, media_path=media_path),
        "report.html": lambda: html_report_bytes(cs, notes, title=title),
    }[kind]
    return build()


def file_stem(title: str, fallback: str) -> str:
    """A session's title as the start of a file name (letters and digits kept, the rest ``_``),
    ``fallback`` (its id) when nothing is left."""
    return "".join(c if c.isalnum() else "_" for c in title).strip("_") or fallback


def write_all(cs: CueSet, notes: Iterable[Note], out_dir: str | os.PathLike, *,
              title: str = "", media_path: str | None = None) -> list[Path]:
    """Write every export (:data:`EXPORTS`) into ``out_dir``; returns the paths written."""
    notes = list(notes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for kind in EXPORTS:  # each file whole or not at all
        write_file(out / kind, export_bytes(kind, cs, notes, title=title, media_path=media_path))
    return [out / kind for kind in EXPORTS]
