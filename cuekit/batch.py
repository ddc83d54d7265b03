"""Batch analysis of many recordings: a local process pool by default, Ray for a cluster.

Both engines run the same per-recording function, :func:`analyze_one`. Work is resumable and
idempotent: each result folder is named after the recording and a key made of the file's content
hash and the settings; a folder whose key matches is skipped. A failing recording is recorded with
its error and does not stop the others. At the end ``batch_summary.csv`` / ``.parquet`` list every
recording with its status and summary metrics.

On Ray a recording whose node dies mid-analysis is run again on another node (up to
``RAY_MAX_RETRIES`` times). A result folder appears whole or not at all (see ``cueset.write``), so
a retried recording still has exactly one result, and the batch cleans up what a killed attempt
left half-written.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import pandas as pd

from .config import AnalysisConfig
from .cueset import write_file
from .errors import CuekitError, InputError
from .media import AUDIO_EXTENSIONS, VIDEO_EXTENSIONS
from .metrics import order
from .runtime import return_freed_memory, tune_for_analysis

KEY_FILE = "batch_key.txt"
IMPORTED_FILE = "imported.json"  # batch keys already imported, per library folder
SUMMARY_NAME = "batch_summary"
ENGINES = ("local", "ray")
RAY_MAX_RETRIES = 3  # times a recording is run again when its node or worker process dies
RUN_DIR_PREFIX = ".batch-run-"  # per run, in the output folder: which node started which attempt


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

    tune_for_analysis()  # each worker process, local or on Ray
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
            # the batch spreads recordings over the cores: one process for each one's video
            result = session.analyze(it.path, item_config(it, cfg), workers=1,
                                     between_stages=return_freed_memory)
            # the key file goes in with the result in one rename: a folder with a key is whole
            cueset.write(result, out, extra_files={KEY_FILE: key})
            row["status"] = "done"
        row["duration_s"] = result.session.get("media", {}).get("duration_s")
        row["metrics"] = result.summary.get("participants", {})
        row["pair_metrics"] = result.summary.get("pairs", {})
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
              on_result: Callable[[dict], None] | None = None,
              on_note: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Analyse ``items`` into ``out_root`` and write the batch summary table there.
    ``on_result`` is called with each recording's row as it finishes, ``on_note`` with a line
    about the cluster (a node lost, its recordings retried)."""
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    os.makedirs(out_root, exist_ok=True)
    jobs = [(asdict(i), config.to_dict(), os.path.abspath(out_root)) for i in items]
    rows = []
    if engine == "ray":
        run = _run_ray(jobs, workers, ray_address, os.path.abspath(out_root), on_note)
    else:
        run = _run_local(jobs, workers)
    for row in run:
        rows.append(row)
        if on_result:
            on_result(row)
    _remove_partial_writes(out_root, rows)
    table = summary_table(rows)
    write_file(os.path.join(out_root, f"{SUMMARY_NAME}.csv"),
               table.to_csv(index=False).encode())
    write_file(os.path.join(out_root, f"{SUMMARY_NAME}.parquet"),
               table.to_parquet(index=False))
    return table


def _remove_partial_writes(out_root: str, rows: list[dict]) -> None:
    """Remove the temporary folders of result writes that were killed midway (a node or worker
    process lost while writing); every recording of the batch has finished by now."""
    from .cueset import temp_prefix

    for row in rows:
        if row.get("out_dir"):
            pattern = os.path.join(glob.escape(out_root),
                                   glob.escape(temp_prefix(row["out_dir"])) + "*")
            for path in glob.glob(pattern):
                shutil.rmtree(path, ignore_errors=True)


def _run_local(jobs, workers) -> Iterable[dict]:
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


def _ray_attempt(attempts_dir: str, item: dict, config: dict, out_root: str) -> dict:
    """One attempt at one recording on a Ray node: notes the attempt (node, process) in the run
    folder on the shared output storage, then :func:`analyze_one`. The row says on which node
    the result was made and how many attempts the recording took."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    if not os.path.isdir(os.path.dirname(attempts_dir)):
        return {"path": item["path"], "status": "failed", "seconds": 0.0, "out_dir": "",
                "node": node, "attempts": 1,
                "error": f"the output folder {out_root} is not visible on node "
                         f"{ray.util.get_node_ip_address()}: on a cluster it must be on storage "
                         "shared by every node, at the same path"}
    os.makedirs(attempts_dir, exist_ok=True)
    with open(os.path.join(attempts_dir, f"{node}-{os.getpid()}-{time.time_ns()}"), "x"):
        pass
    row = analyze_one(item, config, out_root)
    row.update(node=node, attempts=len(os.listdir(attempts_dir)))
    return row


def _run_ray(jobs, workers, address, out_root, on_note=None) -> Iterable[dict]:
    try:
        import ray
    except ImportError:
        raise InputError('the Ray engine needs the extra: pip install "cuekit[ray]"') from None
    if not jobs:
        return
    started = False
    if not ray.is_initialized():
        if address:
            _connect(ray, address)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    run_dir = tempfile.mkdtemp(prefix=RUN_DIR_PREFIX, dir=out_root)
    try:
        # max_retries: a task whose node or worker process dies is run again elsewhere;
        # analyze_one reports a bad recording in its row and never raises, so exceptions are
        # not retried (that would only repeat the same failure)
        remote = ray.remote(num_cpus=1, max_retries=RAY_MAX_RETRIES,
                            retry_exceptions=False)(_ray_attempt)
        refs = {remote.remote(os.path.join(run_dir, str(n)), *job): job
                for n, job in enumerate(jobs)}
        pending = list(refs)
        alive = _alive_nodes(ray)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=2.0)
            for ref in ready:
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as e:  # e.g. lost more than RAY_MAX_RETRIES times
                    first = (str(e).strip().splitlines() or [""])[0]
                    row = {"path": refs[ref][0]["path"], "status": "failed", "seconds": 0.0,
                           "out_dir": "", "error": f"{type(e).__name__}: {first}"}
                if on_note and row.get("attempts", 1) > 1:
                    on_note(f"ray: {os.path.basename(row['path'])} took {row['attempts']} "
                            "attempts (a node or worker process was lost)")
                yield row
            now = _alive_nodes(ray)
            for node_id in sorted(set(alive) - set(now)):
                if on_note:
                    on_note(f"ray: node {alive[node_id]} ({node_id[:8]}) left the cluster; "
                            "its recordings are run again on the other nodes")
            alive = now
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if started:
            ray.shutdown()


def _alive_nodes(ray) -> dict[str, str]:
    """node id -> address of the live nodes."""
    try:
        return {n["NodeID"]: n.get("NodeManagerAddress", "?") for n in ray.nodes() if n["Alive"]}
    except Exception:  # only for the notes: never fail the batch over it
        return {}


def _connect(ray, address: str) -> None:
    """Join the cluster at ``address``, or fail with one line. Ray itself waits a minute or two
    before giving up on an address where nothing answers, so that is checked first."""
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if sep and port.isdigit() and host:
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
        except OSError as e:
            raise InputError(f"cannot reach the Ray cluster at {address}: "
                             f"{e.strerror or e}") from None
    try:
        ray.init(address=address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError, ray.exceptions.RayError, SystemExit) as e:
        first = "no answer" if isinstance(e, SystemExit) else \
            (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(f"cannot join the Ray cluster at {address}: {first} (is a Ray head "
                         "there, and the cluster's token in RAY_AUTH_TOKEN or ~/.ray/auth_token "
                         "here?)") from None


def summary_table(rows: list[dict]) -> pd.DataFrame:
    """One row per (recording, participant) with status and that participant's metrics, then
    one per (recording, pair) with the pair's metrics (``participant`` is ``"A|B"``, as in
    ``segments``): every summary metric, columns in the metric registry's order
    (:data:`cuekit.metrics.METRICS`). A failed recording has one row with its error."""
    out = []
    for r in sorted(rows, key=lambda r: r["path"]):
        base = {k: r.get(k) for k in ("path", "status", "error", "seconds", "duration_s",
                                      "key", "out_dir")}
        base.update({k: r[k] for k in ("node", "attempts") if k in r})  # Ray only
        metrics = {**(r.get("metrics") or {}), **(r.get("pair_metrics") or {})}
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
    write_file(ledger_path, json.dumps(ledger, indent=1).encode())
    return added
