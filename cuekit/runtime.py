"""Process-wide tuning for an analysis, set by the entry points only: the CLI's ``analyze`` and
``batch``, a batch worker process (local pool or Ray) and the dashboard's job worker. Library
code (``cuekit.session.analyze`` and the stages) leaves process-wide settings as it finds them,
so a program that embeds cuekit keeps its own; such a program may call :func:`tune_for_analysis`
itself."""

from __future__ import annotations


def tune_for_analysis() -> None:
    """Run OpenCV on one thread. The video stage's own threads keep the cores busy, and OpenCV's
    thread pool on top of them costs ~15% more CPU in all (hand-offs) for no gain in time.
    Process-wide; idempotent."""
    import cv2

    cv2.setNumThreads(1)
