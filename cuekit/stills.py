"""Stills of a recording: one frame at a moment, cut into each participant's tile, as JPEG.

The coaching-moment cards show what each person looked like at that moment. Unlike
:func:`cuekit.media.iter_frames` (which never seeks, for analysis), a still seeks to the key
frame before the moment and decodes from there: an hour-long call costs the same as a short one.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from . import media
from .errors import MediaError

STILL_WIDTH_PX = 200
WHOLE_FRAME = "call"  # the name of a still of the whole frame


def frame_at(path: str | os.PathLike, t_s: float) -> np.ndarray:
    """The BGR frame shown at ``t_s`` (the first whose timestamp reaches it; the last frame
    when ``t_s`` lies past the end). ``MediaError`` without a decodable video track."""
    found = media.frames_near(path, [max(0.0, t_s)], max_decode=10**9)
    if not found:
        raise MediaError(f"no frame at {t_s:.1f} s in {path}")
    return found[-1][1]


def tiles(frame: np.ndarray, boxes: list[tuple[int, int, int, int] | None], *,
          width_px: int = STILL_WIDTH_PX) -> list[bytes]:
    """JPEG bytes of each box ``(x, y, w, h)`` of ``frame`` (None: the whole frame), scaled to
    ``width_px`` wide."""
    out = []
    h_img, w_img = frame.shape[:2]
    for box in boxes:
        if box is None:
            crop = frame
        else:
            x, y, w, h = (int(v) for v in box)
            crop = frame[max(0, y):min(h_img, y + h), max(0, x):min(w_img, x + w)]
            if crop.size == 0:
                crop = frame
        scale = width_px / crop.shape[1]
        small = cv2.resize(crop, (width_px, max(1, int(round(crop.shape[0] * scale)))),
                           interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
        out.append(jpeg.tobytes() if ok else b"")
    return out


def participant_boxes(session: dict) -> dict[str, tuple[int, int, int, int] | None]:
    """Each participant's tile in the frame (``session.json``'s layout), None when not known."""
    return {p["name"]: (tuple(p["box"]) if p.get("box") else None)
            for p in session.get("layout", {}).get("participants", [])}


def still_names(session: dict) -> list[str]:
    """The names :func:`stills` gives its pictures: each participant with a tile, or ``call``
    (the whole frame) when the layout has no boxes."""
    boxes = participant_boxes(session)
    return list(boxes) if any(b is not None for b in boxes.values()) else [WHOLE_FRAME]


def stills(path: str | os.PathLike, t_s: float, session: dict, *,
           width_px: int = STILL_WIDTH_PX) -> dict[str, bytes]:
    """A JPEG of each participant's tile at ``t_s`` (one of the whole frame when the layout has
    no boxes); {} for a recording without video."""
    try:
        frame = frame_at(path, t_s)
    except MediaError:
        return {}
    names = still_names(session)
    boxes = participant_boxes(session)
    return dict(zip(names, tiles(frame, [boxes.get(n) for n in names], width_px=width_px),
                    strict=True))
