"""The CueSet: everything one analysis produced, and its on-disk exchange format.

A folder with ``samples.parquet``, ``segments.parquet``, ``words.parquet``, ``summary.json`` and
``session.json`` (see the README's "Exchange format"); a result written before words existed has
no ``words.parquet`` and reads with an empty words table. Writing is atomic: the folder is built
under a temporary name beside the target and renamed into place, so a crash never leaves a
half-written result; an earlier result there is swapped out in one step where the kernel can
(Linux's renameat2), elsewhere in two renames that put it back if the second fails.
:func:`write_file` does the same for one file.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cues import SAMPLE_COLUMNS, SEGMENT_COLUMNS, WORD_COLUMNS, empty_samples, make_words
from .errors import MediaError

FILES = ("samples.parquet", "segments.parquet", "words.parquet", "summary.json", "session.json")
REQUIRED_FILES = tuple(f for f in FILES if f != "words.parquet")  # words came later


@dataclass
class CueSet:
    samples: pd.DataFrame
    segments: pd.DataFrame
    summary: dict = field(default_factory=lambda: {"participants": {}, "pairs": {}})
    session: dict = field(default_factory=dict)  # media, layout, config, provenance
    words: pd.DataFrame = field(default_factory=lambda: make_words([]))

    @property
    def participants(self) -> list[str]:
        return [p["name"] for p in self.session.get("layout", {}).get("participants", [])]


def clean_json(obj):
    """JSON has no NaN: write null instead, and plain Python numbers for numpy ones."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def temp_prefix(out_dir: str | os.PathLike) -> str:
    """The name with which :func:`write`'s temporary folders for ``out_dir`` begin (beside it),
    so that what a killed writer left can be told apart and removed."""
    return f".cuekit-{os.path.basename(os.path.abspath(os.fspath(out_dir)))[:100]}-"


def write_file(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to the file ``path`` whole or not at all: to a temporary file beside it,
    flushed to disk, then renamed over ``path`` (one atomic rename; readers see the old file
    or the new one, never a part)."""
    path = os.path.abspath(os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)[:100]}-", suffix=".tmp",
                               dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write(cueset: CueSet, out_dir: str | os.PathLike, *,
          extra_files: dict[str, str] | None = None) -> str:
    """Write ``cueset`` to ``out_dir`` atomically (replacing an earlier result there).
    ``extra_files``: more text files (name: content) put in the folder before it is renamed
    into place, so they appear together with the result or not at all."""
    out_dir = os.path.abspath(os.fspath(out_dir))
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=temp_prefix(out_dir), dir=parent)
    try:
        for name, text in (extra_files or {}).items():
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write(text)
        samples = cueset.samples[SAMPLE_COLUMNS].astype(
            {"t": "float64", "value": "float64", "confidence": "float32"})
        samples.to_parquet(os.path.join(tmp, "samples.parquet"), index=False)
        cueset.segments[SEGMENT_COLUMNS].to_parquet(os.path.join(tmp, "segments.parquet"),
                                                     index=False)
        cueset.words[WORD_COLUMNS].astype(
            {"start": "float64", "end": "float64", "probability": "float32"}).to_parquet(
            os.path.join(tmp, "words.parquet"), index=False)
        for name, obj in (("summary.json", cueset.summary), ("session.json", cueset.session)):
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                json.dump(clean_json(obj), f, indent=2, allow_nan=False)
        old = _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def _swap_in(new: str, out_dir: str) -> str | None:
    """Put the folder ``new`` at ``out_dir``; returns where the earlier result now is (to be
    deleted), or None. Where the kernel can (Linux's renameat2), the two folders trade places
    in one step, so ``out_dir`` is never missing; elsewhere the old folder is moved aside first
    and moved back if the new one cannot take its place, so it is never lost."""
    if not os.path.exists(out_dir):
        os.replace(new, out_dir)
        return None
    if _exchange(new, out_dir):
        return new
    old = tempfile.mkdtemp(prefix=".cuekit-old-", dir=os.path.dirname(out_dir))
    os.rmdir(old)
    os.replace(out_dir, old)
    try:
        os.replace(new, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    return old


def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically with ``renameat2(RENAME_EXCHANGE)``; False where that is not
    available (not Linux, an old C library, a file system without it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def read_session(in_dir: str | os.PathLike) -> dict:
    """Only ``session.json`` of a folder written by :func:`write` (media, layout, provenance)."""
    with open(os.path.join(in_dir, "session.json"), encoding="utf-8") as f:
        return json.load(f)


def read(in_dir: str | os.PathLike, *, cues: Collection[str] | None = None) -> CueSet:
    """Load a folder written by :func:`write`; with ``cues``, only those cues' samples
    (pyarrow skips the other rows while reading, so a long session opens fast; no cues: no
    samples, the file is not read)."""
    in_dir = os.fspath(in_dir)
    missing = [f for f in REQUIRED_FILES if not os.path.isfile(os.path.join(in_dir, f))]
    if missing:
        raise MediaError(f"{in_dir} is not a cuekit result folder (missing {', '.join(missing)})")
    if cues is not None and not cues:
        samples = empty_samples()
    else:
        filters = None if cues is None else [("cue", "in", sorted(cues))]
        samples = pd.read_parquet(os.path.join(in_dir, "samples.parquet"), filters=filters)
    segments = pd.read_parquet(os.path.join(in_dir, "segments.parquet"))
    with open(os.path.join(in_dir, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    session = read_session(in_dir)
    words_file = os.path.join(in_dir, "words.parquet")
    words = pd.read_parquet(words_file) if os.path.isfile(words_file) else make_words([])
    return CueSet(samples=samples, segments=segments, summary=summary, session=session,
                  words=words)
