"""Background analysis: a worker process drains the library's queue, one session at a time.

The app only queues a session (``Library.add_session``) and calls :func:`ensure_worker`; the
worker runs in its own process (``python -m cuekit.jobs HOME``), so a browser reload, a second
upload or a Streamlit rerun cannot lose an analysis. Progress goes to the library, where any page
reads it. One worker at a time holds ``worker.lock`` (an OS file lock, released by the kernel if
the worker dies), which is also how a crashed analysis is told apart from a running one.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import AnalysisConfig
from .cueset import CueSet
from .errors import CuekitError
from .store import Library

LOCK_NAME = "worker.lock"
LOG_NAME = "worker.log"
PROGRESS_INTERVAL_S = 0.5  # fewer database writes than the pipelines' hook calls

Analyze = Callable[..., CueSet]  # like cuekit.session.analyze(path, config, hook=...)


@contextmanager
def _worker_lock(home: Path) -> Iterator[bool]:
    """Try to become the worker: yields True when the lock was taken (held until exit)."""
    with open(home / LOCK_NAME, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def worker_alive(library: Library) -> bool:
    """Whether some process holds the worker lock right now."""
    with _worker_lock(library.home) as taken:
        return not taken


def ensure_worker(library: Library) -> bool:
    """Fail sessions whose worker died, and start a worker when sessions wait in the queue.

    Safe to call on every page run. Returns True when a worker process was started.
    """
    sessions = library.sessions()
    if not any(s.status in ("queued", "running") for s in sessions) or worker_alive(library):
        return False
    for s in sessions:
        if s.status == "running":  # nobody holds the lock, so its worker is gone
            library.fail(s.id, "the analysis stopped unexpectedly (worker exited); "
                               f"see {library.home / LOG_NAME}")
    if not any(s.status == "queued" for s in sessions):
        return False
    with open(library.home / LOG_NAME, "ab") as log:
        subprocess.Popen([sys.executable, "-m", "cuekit.jobs", str(library.home)],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    return True


def run_queue(library: Library, analyze: Analyze | None = None) -> int:
    """Analyse queued sessions until none is left; returns how many were processed.

    Returns 0 at once when another worker holds the lock (it will pick the queue up).
    """
    if analyze is None:
        from .session import analyze
    done = 0
    while True:
        with _worker_lock(library.home) as taken:
            if not taken:
                return done
            while (info := library.claim_next()) is not None:
                _run_one(library, info.id, info.media_path, info.config, analyze)
                done += 1
        # A session queued between the last claim and the unlock found the lock taken and
        # started no worker: look once more after letting go.
        if not any(s.status == "queued" for s in library.sessions()):
            return done


def _run_one(library: Library, session_id: str, media_path: Path, config: dict,
             analyze: Analyze) -> None:
    last_write_s = 0.0

    def hook(stage: str, done: int, total: int) -> None:
        nonlocal last_write_s
        now = time.monotonic()
        if now - last_write_s >= PROGRESS_INTERVAL_S or done >= total:
            library.set_progress(session_id, stage, done / total if total else 0.0)
            last_write_s = now

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
