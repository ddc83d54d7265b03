"""Batch analysis of many recordings: a local process pool by default, Ray for a cluster.

Both engines run the same per-recording function, :func:`analyze_one`. Work is resumable and
idempotent: each result folder is named after the recording and a key made of the file's content
hash and the settings; a folder whose key matches is skipped. A failing recording is recorded with
its error and does not stop the others. At the end ``batch_summary.csv`` / ``.parquet`` list every
recording with its status and summary metrics.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import pandas as pd

from .config import AnalysisConfig
from .errors import CuekitError, InputError
from .media import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from .metrics import order

KEY_FILE = "batch_key.txt"
IMPORTED_FILE = "imported.json"  # batch keys already imported, per library folder
SUMMARY_NAME = "batch_summary"
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class BatchItem:
    """One recording to analyse, with the settings a manifest row may override."""

    path: str
    names: list[str] | None = None
    layout: str | None = None
    audio_files: dict[str, str] = field(default_factory=dict)


def read_input(input_path: str) -> list[BatchItem]:
    """A folder (every media file in it, recursively, sorted) or a CSV manifest with columns
    ``path`` and optionally ``names`` ("Agent,Customer"), ``layout``, ``audio`` ("P1=a.wav;P2=b.wav").
    Relative paths in a manifest are relative to the manifest's folder."""
    if os.path.isdir(input_path):
        exts = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
        items = [BatchItem(os.path.join(root, f))
                 for root, _, files in os.walk(input_path) for f in files
                 if os.path.splitext(f)[1].lower() in exts]
        return sorted(items, key=lambda i: i.path)
    if not os.path.isfile(input_path):
        raise InputError(f"batch input not found: {input_path}")
    if not input_path.lower().endswith(".csv"):
        raise InputError(f"batch input must be a folder or a .csv manifest, got {input_path}")
    base = os.path.dirname(os.path.abspath(input_path))
    with open(input_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and "path" not in rows[0]:
        raise InputError(f"manifest {input_path} needs a 'path' column (has {list(rows[0])})")
    items = []
    for n, row in enumerate(rows, start=2):
        if not (row.get("path") or "").strip():
            raise InputError(f"manifest {input_path} line {n}: empty path")
        audio = {}
        for part in filter(None, (row.get("audio") or "").split(";")):
            name, sep, p = part.partition("=")
            if not sep:
                raise InputError(f"manifest line {n}: audio wants NAME=FILE, got {part!r}")
            audio[name.strip()] = os.path.join(base, p.strip())
        names = (row.get("names") or "").strip()
        items.append(BatchItem(path=os.path.join(base, row["path"].strip()),
                               names=[s.strip() for s in names.split(",")] if names else None,
                               layout=(row.get("layout") or "").strip() or None,
                               audio_files=audio))
    return items


def item_config(item: BatchItem, config: AnalysisConfig) -> AnalysisConfig:
    overrides = {"names": item.names or config.names, "layout": item.layout or config.layout,
                 "audio_files": item.audio_files or config.audio_files}
    return AnalysisConfig(**{**config.to_dict(), **overrides})


def content_key(item: BatchItem, config: AnalysisConfig) -> str:
    """sha256 of the recording's bytes (and per-participant audio) plus the settings."""
    h = hashlib.sha256()
    for path in [item.path, *sorted(item.audio_files.values())]:
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            h.update(f"unreadable:{path}".encode())
    settings = item_config(item, config).to_dict()
    settings.pop("audio_files")  # already hashed by content
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:16]


def result_dir(out_root: str, item: BatchItem, key: str) -> str:
    stem = os.path.splitext(os.path.basename(item.path))[0]
    return os.path.join(out_root, f"{stem}-{key}")


def analyze_one(item: dict, config: dict, out_root: str) -> dict:
    """Analyse one recording into ``out_root``; never raises for a bad recording.

    Takes and returns plain dicts so it crosses process and cluster boundaries unchanged.
    """
    from . import cueset, session

    it = BatchItem(**item)
    cfg = AnalysisConfig(**config)
    row = {"path": it.path, "status": "", "error": "", "seconds": 0.0, "out_dir": ""}
    t0 = time.perf_counter()
    try:
        key = content_key(it, cfg)
        out = result_dir(out_root, it, key)
        row.update(key=key, out_dir=out)
        if _done(out, key):
            row["status"] = "skipped"
            result = cueset.read(out)
        else:
            result = session.analyze(it.path, item_config(it, cfg))
            cueset.write(result, out)
            with open(os.path.join(out, KEY_FILE), "w", encoding="utf-8") as f:
                f.write(key)
            row["status"] = "done"
        row["duration_s"] = result.session.get("media", {}).get("duration_s")
        row["metrics"] = result.summary.get("participants", {})
    except CuekitError as e:
        row.update(status="failed", error=str(e))
    except Exception as e:  # a bug must not stop the batch; it is reported with its type
        row.update(status="failed", error=f"{type(e).__name__}: {e}")
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _done(out: str, key: str) -> bool:
    try:
        with open(os.path.join(out, KEY_FILE), encoding="utf-8") as f:
            return f.read().strip() == key
    except OSError:
        return False


def run_batch(items: list[BatchItem], out_root: str, *, config: AnalysisConfig,
              workers: int = 2, engine: str = "local", ray_address: str | None = None,
              on_result: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """Analyse ``items`` into ``out_root`` and write the batch summary table there."""
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    os.makedirs(out_root, exist_ok=True)
    jobs = [(asdict(i), config.to_dict(), os.path.abspath(out_root)) for i in items]
    run = _run_ray if engine == "ray" else _run_local
    rows = []
    for row in run(jobs, workers, ray_address):
        rows.append(row)
        if on_result:
            on_result(row)
    table = summary_table(rows)
    table.to_csv(os.path.join(out_root, f"{SUMMARY_NAME}.csv"), index=False)
    table.to_parquet(os.path.join(out_root, f"{SUMMARY_NAME}.parquet"), index=False)
    return table


def _run_local(jobs, workers, _address) -> Iterable[dict]:
    if workers == 1:
        for job in jobs:
            yield analyze_one(*job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: MediaPipe's threads do not survive a fork
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(analyze_one, *job) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()


def _run_ray(jobs, workers, address) -> Iterable[dict]:
    try:
        import ray
    except ImportError:
        raise InputError('the Ray engine needs the extra: pip install "cuekit[ray]"') from None
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(num_cpus=1)(analyze_one)
        pending = [remote.remote(*job) for job in jobs]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started:
            ray.shutdown()


def summary_table(rows: list[dict]) -> pd.DataFrame:
    """One row per (recording, participant) with status and that participant's metrics
    (columns in the metric registry's order, :data:`cuekit.metrics.METRICS`); a failed
    recording has one row with its error."""
    out = []
    for r in sorted(rows, key=lambda r: r["path"]):
        base = {k: r.get(k) for k in ("path", "status", "error", "seconds", "duration_s",
                                      "key", "out_dir")}
        metrics = r.get("metrics") or {}
        if not metrics:
            out.append(base)
        for name, m in metrics.items():
            out.append({**base, "participant": name, **m})
    df = pd.DataFrame(out)
    if "participant" not in df:
        df["participant"] = None
    base = ["path", "status", "error", "seconds", "duration_s", "key", "out_dir", "participant"]
    fixed = [c for c in base if c in df]
    return df[fixed + order(c for c in df.columns if c not in fixed)]


def import_into_library(table: pd.DataFrame, out_root: str, library, *, owner=None) -> int:
    """Add every analysed recording of a batch summary ``table`` to a dashboard library
    (:class:`cuekit.store.Library`) with its result; returns how many were added. Recordings
    imported into the same library before (by batch key) are skipped, so a re-run adds only new
    ones. ``owner``: the account the sessions belong to in team mode."""
    from . import cueset

    ledger_path = os.path.join(out_root, IMPORTED_FILE)
    try:
        with open(ledger_path, encoding="utf-8") as f:
            ledger = json.load(f)
    except (OSError, ValueError):
        ledger = {}
    done = set(ledger.get(str(library.home), []))
    added = 0
    for _, row in table.drop_duplicates("path").iterrows():
        if row["status"] not in ("done", "skipped") or row["key"] in done:
            continue
        result = cueset.read(row["out_dir"])
        names = result.participants or None
        library.add_session(row["path"], title=os.path.basename(row["path"]),
                            media_name=os.path.basename(row["path"]), names=names,
                            user=owner, analysed=result)
        done.add(row["key"])
        added += 1
    ledger[str(library.home)] = sorted(done)
    with open(ledger_path, "w", encoding="utf-8") as f:
        json.dump(ledger, f, indent=1)
    return added
