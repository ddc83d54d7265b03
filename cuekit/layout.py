"""Who is where: gallery tiles of a video call, a single camera, or audio channels.

A :class:`Participant` names a person and where their signal lives: a tile box in the frame,
an audio channel, a separate audio file, or none of these (one voice of a mixed audio-only track).
Participants are named ``P1, P2, …`` in reading order (tiles left→right, top→bottom; audio
channels in order) unless names are given.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from .errors import InputError

GRIDS = {"1": (1, 1), "2x1": (2, 1), "1x2": (1, 2), "2x2": (2, 2)}  # name -> (columns, rows)


@dataclass(frozen=True)
class Participant:
    name: str
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in pixels of the upright frame
    audio_channel: int | None = None
    audio_file: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def parse_names(names: str | list[str] | None) -> list[str] | None:
    if names is None:
        return None
    items = names.split(",") if isinstance(names, str) else list(names)
    items = [n.strip() for n in items]
    if any(not n for n in items):
        raise InputError(f"names must be non-empty and comma-separated, got {names!r}")
    if len(set(items)) != len(items):
        raise InputError(f"names must be distinct, got {names!r}")
    if any("|" in n or "/" in n for n in items):
        raise InputError(f"names may not contain '|' or '/', got {names!r}")
    return items


def grid_boxes(layout: str, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Tile boxes of a regular grid (``1``, ``2x1`` side by side, ``1x2`` stacked, ``2x2``)."""
    if layout not in GRIDS:
        raise InputError(f"unknown layout {layout!r}; use one of {', '.join(GRIDS)}, 'auto' "
                         "or explicit boxes 'x,y,w,h;x,y,w,h'")
    cols, rows = GRIDS[layout]
    boxes = []
    for r in range(rows):
        for c in range(cols):
            x0, x1 = round(c * width / cols), round((c + 1) * width / cols)
            y0, y1 = round(r * height / rows), round((r + 1) * height / rows)
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return boxes


def parse_boxes(spec: str, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Explicit boxes ``'x,y,w,h;x,y,w,h'`` in pixels, checked against the frame size."""
    boxes = []
    for part in spec.split(";"):
        nums = re.findall(r"-?\d+", part)
        if len(nums) != 4:
            raise InputError(f"a box needs four integers x,y,w,h, got {part!r}")
        x, y, w, h = (int(n) for n in nums)
        if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > width or y + h > height:
            raise InputError(f"box {part!r} is outside the {width}x{height} frame")
        boxes.append((x, y, w, h))
    return boxes


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Sort boxes top→bottom in rows, then left→right (rows = centres within half a box height)."""
    if not boxes:
        return []
    boxes = sorted(boxes, key=lambda b: b[1] + b[3] / 2)
    rows: list[list] = [[boxes[0]]]
    for b in boxes[1:]:
        last = rows[-1][-1]
        if abs((b[1] + b[3] / 2) - (last[1] + last[3] / 2)) < 0.5 * min(b[3], last[3]):
            rows[-1].append(b)
        else:
            rows.append([b])
    return [b for row in rows for b in sorted(row, key=lambda b: b[0])]


def name_participants(boxes: list, names: list[str] | None) -> list[Participant]:
    names = _names_for(len(boxes), names)
    return [Participant(name=n, box=tuple(int(v) for v in b)) for n, b in zip(names, boxes, strict=True)]


def channel_participants(channels: int, names: list[str] | None) -> list[Participant]:
    names = _names_for(channels, names)
    return [Participant(name=n, audio_channel=i) for i, n in enumerate(names)]


def voice_participants(n: int, names: list[str] | None) -> list[Participant]:
    """Participants of one mixed audio-only track, told apart by voice (order of first speech)."""
    return [Participant(name=nm) for nm in _names_for(n, names)]


def _names_for(n: int, names: list[str] | None) -> list[str]:
    if names is None:
        return [f"P{i + 1}" for i in range(n)]
    if len(names) != n:
        raise InputError(f"{len(names)} name(s) given ({', '.join(names)}) but the layout has {n} "
                         "participant(s); pass --layout to say how many there are")
    return list(names)


_CASCADE = None


def _faces(img: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Frontal faces by OpenCV's bundled Haar cascade (cheap; used only to guess the layout)."""
    global _CASCADE
    if _CASCADE is None:
        _CASCADE = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    min_side = max(24, min(gray.shape) // 12)
    found = _CASCADE.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5,
                                      minSize=(min_side, min_side))
    return [tuple(int(v) for v in f) for f in found]


def has_divider(img: np.ndarray, axis: int) -> bool:
    """Whether a tile border runs across the middle fifth of the frame: a narrow run of lines
    (along ``axis``: 1 = vertical lines, 0 = horizontal) each uniform end to end, between
    lines that are not (tile content)."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype("float32")
    if axis == 0:
        gray = gray.T
    w = gray.shape[1]
    flat = gray.std(axis=0) < 6.0  # a column the same from top to bottom
    lo, hi = int(0.4 * w), int(0.6 * w)
    run_start = None
    for x in range(lo, hi + 1):
        if flat[x] and run_start is None:
            run_start = x
        elif not flat[x] and run_start is not None:
            width = x - run_start
            if 1 <= width <= 0.08 * w and run_start > 0 and not flat[run_start - 1]:
                return True
            run_start = None
    return False


def guess_layout(frames: list[np.ndarray]) -> str:
    """Guess ``1``, ``2x1``, ``1x2`` or ``2x2`` from a few frames, by where faces appear and
    whether the frame has tile borders down or across its middle."""
    if not frames:
        return "1"
    h, w = frames[0].shape[:2]
    two_cols = two_rows = 0
    for img in frames:
        cells = {(int((x + fw / 2) * 2 // w), int((y + fh / 2) * 2 // h))
                 for (x, y, fw, fh) in _faces(img)}
        # Faces in both halves of the same frame: one moving face cannot do that.
        two_cols += len({c for c, _ in cells}) == 2
        two_rows += len({r for _, r in cells}) == 2
    v_div = sum(has_divider(f, 1) for f in frames) > len(frames) / 2
    h_div = sum(has_divider(f, 0) for f in frames) > len(frames) / 2
    cols = two_cols >= len(frames) / 3 or v_div
    rows = two_rows >= len(frames) / 3 or h_div
    if cols and rows:
        return "2x2"
    if cols:
        return "2x1"
    if rows:
        return "1x2"
    return "1"
