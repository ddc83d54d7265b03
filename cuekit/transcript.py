"""Transcripts: read WebVTT / SubRip exports of Zoom, Teams and Meet, map speakers to people.

Speaker names come from a ``<v Name>`` voice tag (Teams) or a ``Name: text`` prefix (Zoom,
Meet); cues without either have speaker ``""``. A prefix counts as a speaker only when it looks
like a name (``_name_like``: short, no sentence punctuation, not a label such as "Note") and
recurs in the file: the same prefix opens two or more cues, or most cues open with a name-like
prefix and this one is capitalised like a name. So a Zoom speaker who speaks once counts, while
"Note: meeting recorded" or "Here is the thing: …" stay text. Times are seconds on the media
clock.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from .cues import make_segments
from .errors import InputError

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE_TIMES = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")
_PREFIX = re.compile(r"^\s*([^:\n]{1,40}?):\s+(.+)$", re.S)
_NAME_MAX_WORDS = 4
_NOT_IN_NAMES = re.compile(r"[,;!?\"()\[\]{}…]|\.\S|\.$")  # sentence punctuation
_NAME_PARTICLES = {"al", "bin", "da", "de", "del", "der", "di", "du", "la", "le", "van", "von"}
# caption labels that are never a speaker, however often they recur
_LABELS = {"note", "notes", "nb", "ps", "fyi", "warning", "caution", "important", "reminder",
           "update", "edit", "summary", "agenda", "action", "action item", "action items",
           "todo", "to do", "recording", "transcript", "caption", "captions", "subtitle",
           "disclaimer", "example", "tip", "hint", "source", "link", "url", "time", "date"}


def read_transcript(path: str | os.PathLike) -> list[dict]:
    """Cues of a ``.vtt`` or ``.srt`` file as dicts ``start``, ``end`` (s), ``speaker``, ``text``,
    in file order. Raises :class:`InputError` for a file with no timed cue."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"transcript not found: {path}")
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        blocks = re.split(r"\n\s*\n", f.read().replace("\r\n", "\n").replace("\r", "\n"))
    cues = [c for c in (_parse_block(b) for b in blocks) if c is not None]
    if not cues:
        raise InputError(f"no timed cues ('00:00:01.000 --> 00:00:02.000') in {path}")
    _accept_prefixes(cues)
    return cues


def _parse_block(block: str) -> dict | None:
    lines = block.strip("\n").split("\n")
    for i, line in enumerate(lines):
        m = _CUE_TIMES.match(line)
        if m:
            text = "\n".join(lines[i + 1:]).strip()
            speaker, text = _speaker(text)
            return dict(start=_seconds(m.groups()[:4]), end=_seconds(m.groups()[4:]),
                        speaker=speaker, text=text)
    return None  # header, NOTE, STYLE or REGION block


def _seconds(parts) -> float:
    h, m, s, frac = parts
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _speaker(text: str) -> tuple[str, str]:
    """``(speaker, text)`` from a Teams voice tag; without one, ``("", text)`` (a ``Name:``
    prefix is judged later, over the whole file, by ``_accept_prefixes``)."""
    plain = " ".join(_TAG.sub("", text).split())
    m = _VOICE.search(text)
    return (m.group(1).strip(), plain) if m else ("", plain)


def _name_prefix(text: str) -> tuple[str, str] | None:
    """``(name, rest)`` when ``text`` opens with a name-like ``Name: `` prefix, else None."""
    m = _PREFIX.match(text)
    if m and _name_like(m.group(1).strip()):
        return m.group(1).strip(), m.group(2).strip()
    return None


def _name_like(prefix: str) -> bool:
    """Short (≤ ``_NAME_MAX_WORDS`` words), not a caption label ("Note", "Summary", …) and free
    of sentence punctuation; a full stop only ends an initial or title ("J.", "Dr.")."""
    words = prefix.split()
    if not 1 <= len(words) <= _NAME_MAX_WORDS or " ".join(words).casefold() in _LABELS:
        return False
    return all(not _NOT_IN_NAMES.search(w) or (w.endswith(".") and len(w) <= 4
                                                and not _NOT_IN_NAMES.search(w[:-1]))
               for w in words)


def _capitalised(prefix: str) -> bool:
    """Every word starts with a capital or a digit ("Speaker 2", "Ann van Dijk")."""
    return all(w[0].isupper() or w[0].isdigit() or w.casefold() in _NAME_PARTICLES
               for w in prefix.split())


def _accept_prefixes(cues: list[dict]) -> None:
    """Move recurring name-like ``Name:`` prefixes of untagged cues into ``speaker`` (in place).

    A prefix is a speaker when the same one opens ≥ 2 cues, or when most untagged cues open
    with a name-like prefix (a Zoom or Meet export) and this one is capitalised like a name."""
    untagged = [c for c in cues if not c["speaker"]]
    found = [_name_prefix(c["text"]) for c in untagged]
    counts = Counter(p[0] for p in found if p)
    mostly_prefixed = sum(counts.values()) > len(untagged) / 2
    for c, p in zip(untagged, found, strict=True):
        if p and (counts[p[0]] >= 2 or (mostly_prefixed and _capitalised(p[0]))):
            c["speaker"], c["text"] = p


def map_speakers(cues: list[dict], participants: list[str],
                 speech: pd.DataFrame | None = None) -> dict[str, str]:
    """Transcript speaker → participant name.

    A speaker whose name matches a participant's (case-insensitive; either contains the other)
    maps to it. The rest are matched by the overlap of their cue times with each remaining
    participant's ``speech`` segments (Hungarian assignment); speakers left over map to
    themselves.
    """
    speakers = list(dict.fromkeys(c["speaker"] for c in cues if c["speaker"]))
    mapping: dict[str, str] = {}
    for s in speakers:
        hit = [p for p in participants if _same_name(s, p) and p not in mapping.values()]
        if hit:
            mapping[s] = hit[0]
    rest_s = [s for s in speakers if s not in mapping]
    rest_p = [p for p in participants if p not in mapping.values()]
    if rest_s and rest_p and speech is not None and len(speech):
        overlap = np.array([[_overlap_s(cues, s, speech, p) for p in rest_p] for s in rest_s])
        for r, c in zip(*linear_sum_assignment(-overlap), strict=True):
            if overlap[r, c] > 0:
                mapping[rest_s[r]] = rest_p[c]
    return {s: mapping.get(s, s) for s in speakers}


def _same_name(a: str, b: str) -> bool:
    a, b = a.casefold().strip(), b.casefold().strip()
    return a == b or (len(b) >= 2 and b in a.split()) or (len(a) >= 2 and a in b.split())


def _overlap_s(cues: list[dict], speaker: str, speech: pd.DataFrame, participant: str) -> float:
    seg = speech[(speech["participant"] == participant) & (speech["kind"] == "speech")]
    starts, ends = seg["start"].to_numpy(), seg["end"].to_numpy()
    return float(sum(np.clip(np.minimum(ends, c["end"]) - np.maximum(starts, c["start"]), 0, None)
                     .sum() for c in cues if c["speaker"] == speaker))


def transcript_segments(cues: list[dict], mapping: dict[str, str]) -> pd.DataFrame:
    """Segments of kind ``transcript``: participant = mapped speaker, label = the cue's text."""
    rows = []
    for c in cues:
        who = mapping.get(c["speaker"], c["speaker"])
        rows.append(dict(start=c["start"], end=c["end"], participant=who, kind="transcript",
                         label=c["text"], score=np.nan))
    return make_segments(rows)
