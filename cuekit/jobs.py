"""Background analysis: a worker process drains the library's queue, one session at a time.

The app only queues a session (``Library.add_session``) and calls :func:`ensure_worker`; the
worker runs in its own process (``python -m cuekit.jobs HOME``), so a browser reload, a second
upload or a Streamlit rerun cannot lose an analysis. Progress goes to the library, where any page
reads it. One worker at a time holds ``worker.lock`` (an OS file lock, released by the kernel if
the worker dies), which is also how a crashed analysis is told apart from a running one.

Each analysis runs in a child process of the worker, which kills it past its time limit
(:func:`time_limit_s`) and marks the session failed; the child dies with the worker. A crash
or a kill leaves the session *failed* with nothing half-written (``Library.fail``), ready for
*Retry*.
"""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from . import media
from .config import AnalysisConfig
from .cueset import CueSet
from .errors import CuekitError
from .runtime import return_freed_memory, tune_for_analysis
from .store import Library

LOCK_NAME = "worker.lock"
LOG_NAME = "worker.log"
PROGRESS_INTERVAL_S = 0.5  # fewer database writes than the pipelines' hook calls
MIN_TIME_LIMIT_S = 600.0  # an analysis may always take 10 min …
TIME_LIMIT_PER_MEDIA_S = 3.0  # … or 3 s per second of recording when that is longer
WATCH_INTERVAL_S = 0.2  # how often the worker looks at a running analysis
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal for the child when its parent dies

Analyze = Callable[..., CueSet]  # like cuekit.session.analyze(path, config, hook=...)


def time_limit_s(duration_s: float | None, min_limit_s: float = MIN_TIME_LIMIT_S) -> float:
    """How long the analysis of a recording of ``duration_s`` may take (unknown: the minimum)."""
    return max(min_limit_s, TIME_LIMIT_PER_MEDIA_S * (duration_s or 0.0))


@contextmanager
def _worker_lock(home: Path) -> Iterator[bool]:
    """Try to become the worker: yields True when the lock was taken (held until exit).
    The lock file then holds the worker's process id."""
    with open(home / LOCK_NAME, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            f.truncate(0)
            f.write(str(os.getpid()))
            f.flush()
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def worker_alive(library: Library) -> bool:
    """Whether some process holds the worker lock right now."""
    with _worker_lock(library.home) as taken:
        return not taken


def ensure_worker(library: Library) -> bool:
    """Fail sessions whose worker died, and start a worker when sessions wait in the queue.

    Safe to call on every page run (from any account: it shows no session). Returns True when
    a worker process was started.
    """
    if not library.statuses() & {"queued", "running"}:
        return False
    with _worker_lock(library.home) as taken:
        if not taken:
            return False  # a worker runs and drains the queue
        # While this holds the lock no worker can start a session: a running one is orphaned.
        library.fail_running("the analysis stopped unexpectedly (worker exited); "
                             f"see {library.home / LOG_NAME}")
        queued = "queued" in library.statuses()
    if not queued:
        return False
    with open(library.home / LOG_NAME, "ab") as log:
        subprocess.Popen([sys.executable, "-m", "cuekit.jobs", str(library.home)],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    return True


def run_queue(library: Library, analyze: Analyze | None = None, *,
              min_time_limit_s: float = MIN_TIME_LIMIT_S) -> int:
    """Analyse queued sessions until none is left; returns how many were processed.

    Returns 0 at once when another worker holds the lock (it will pick the queue up). Each
    analysis runs in a forked child process, stopped after :func:`time_limit_s`.
    """
    # here, before any child is forked: the children inherit the setting. A forked child must
    # not change OpenCV's thread count: if the parent had used OpenCV's thread pool, it hangs.
    tune_for_analysis()
    done = 0
    while True:
        with _worker_lock(library.home) as taken:
            if not taken:
                return done
            library.sweep()
            while (info := library.claim_next()) is not None:
                _supervise(library, info.id, info.media_path, info.analysis_args(), analyze,
                           min_time_limit_s)
                done += 1
        # A session queued between the last claim and the unlock found the lock taken and
        # started no worker: look once more after letting go.
        if "queued" not in library.statuses():
            return done


def _supervise(library: Library, session_id: str, media_path: Path, config: dict,
               analyze: Analyze | None, min_time_limit_s: float) -> None:
    """Run one analysis in a child process; kill it past its time limit or fail it when it
    dies without a result."""
    child = multiprocessing.get_context("fork").Process(
        target=_run_one, args=(library, session_id, media_path, config, analyze, os.getpid()),
        name=f"cuekit-analysis-{session_id}")
    started_s = time.monotonic()
    child.start()
    while child.is_alive():
        child.join(WATCH_INTERVAL_S)
        limit_s = time_limit_s(library.duration_s(session_id), min_time_limit_s)
        if child.is_alive() and time.monotonic() - started_s > limit_s:
            child.kill()
            child.join()
            library.fail(session_id, f"the analysis took longer than its time limit "
                                     f"({limit_s:.0f} s) and was stopped; the recording may be "
                                     "damaged or unusual")
            return
    if library.status(session_id) == "running":  # the child died before writing an outcome
        library.fail(session_id, f"the analysis process stopped unexpectedly "
                                 f"(exit code {child.exitcode}); see {library.home / LOG_NAME}")


def _run_one(library: Library, session_id: str, media_path: Path, config: dict,
             analyze: Analyze | None, worker_pid: int) -> None:
    """The analysis child: dies with the worker, records the recording's length (for the time
    limit), analyses, and stores the result or the reason it failed."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != worker_pid:  # the worker died before prctl took effect
        os._exit(1)
    if analyze is None:
        from .session import analyze as analyze_session

        analyze = partial(analyze_session, between_stages=return_freed_memory)
    last_write_s = 0.0

    def hook(stage: str, done: int, total: int) -> None:
        nonlocal last_write_s
        now = time.monotonic()
        if now - last_write_s >= PROGRESS_INTERVAL_S or done >= total:
            library.set_progress(session_id, stage, done / total if total else 0.0)
            last_write_s = now

    with suppress(CuekitError):  # the analysis itself says what is wrong with the file
        library.set_duration(session_id, media.probe(media_path).duration_s)
    try:
        result = analyze(str(media_path), AnalysisConfig(**config), hook=hook)
        library.finish(session_id, result)
    except CuekitError as e:
        library.fail(session_id, str(e))
    except Exception as e:  # one bad recording must not stop the queue
        traceback.print_exc()
        library.fail(session_id, f"internal error: {type(e).__name__}: {e}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m cuekit.jobs CUEKIT_HOME", file=sys.stderr)
        return 2
    run_queue(Library(args[0]))
    return 0


if __name__ == "__main__":
    os.nice(5)  # keep the dashboard responsive on a small machine
    sys.exit(main())
