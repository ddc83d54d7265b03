"""Process-wide tuning for an analysis, set by the entry points only: the CLI's ``analyze`` and
``batch``, a batch worker process (local pool or Ray) and the dashboard's job worker. Library
code (``cuekit.session.analyze`` and the stages) leaves process-wide settings as it finds them,
so a program that embeds cuekit keeps its own; such a program may call :func:`tune_for_analysis`
itself, and pass :func:`return_freed_memory` as ``analyze``'s ``between_stages``.
:func:`blas_single_threaded` is the exception: scoped to an analysis, it puts the previous
setting back after."""

from __future__ import annotations

import ctypes
from contextlib import contextmanager


def tune_for_analysis() -> None:
    """Run OpenCV on one thread. The video stage's own threads keep the cores busy, and OpenCV's
    thread pool on top of them costs ~15% more CPU in all (hand-offs) for no gain in time.
    Process-wide; idempotent."""
    import cv2

    cv2.setNumThreads(1)


def return_freed_memory() -> None:
    """Hand the memory a finished stage freed back to the system (``malloc_trim``: glibc keeps
    it for the process's reuse otherwise, so the audio stage's track and scratch would still
    count while the video stage runs). Process-wide; nothing to do without glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


@contextmanager
def blas_single_threaded():
    """numpy's BLAS (OpenBLAS) on one thread while the analysis runs: the stages share the
    cores among threads of their own, and BLAS threads on top of them on the small products
    they compute (the speaker encoder's LSTM steps, 64 x 256 by 256 x 1024) cost 5-7 times the
    CPU for the same numbers (bit for bit), and more wall time on a busy machine. The setting is
    process-wide; the previous one is restored after."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield
