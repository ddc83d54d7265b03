"""Composite call frames with known tiles, made from real faces (tests only).

Every case is a few small frames (640x360 by default) and the truth: the tiles that show a person
(``people``), the tiles that are empty (``empty``) and, for a layout that changes mid-call, the
stretches ``(start_s, end_s, people)``. The faces are real photographs: ``skimage.data.astronaut()``
(always there in the test environment) and the photos of ``../shared/images`` when present. Each
frame moves every picture by a few pixels, as a live camera would, so nothing in a tile is
pixel-still; the layout's borders and overlays stay put.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

SIZE = (640, 360)  # width, height
Box = tuple[int, int, int, int]

# face boxes (x, y, w, h) in the original photos of ../shared/images (Haar, checked by eye)
_SHARED_FACES = {"chris_pratt_ccby2.jpeg": (127, 123, 284, 284),
                 "grace_hopper.jpg": (156, 106, 224, 224),
                 "luciano_cc0.png": (117, 52, 168, 168),
                 "paul_rudd_smile_ccbysa2.jpeg": (61, 161, 324, 324),
                 "paul_rudd_turned_ccbysa2.jpeg": (53, 211, 353, 353)}


@dataclass
class Person:
    img: np.ndarray  # BGR photo
    face: Box  # the face in it


@dataclass
class Case:
    name: str
    frames: list[np.ndarray]
    times: list[float]
    people: list[Box]  # tiles showing a person (the layout of the longest stretch)
    empty: list[Box] = field(default_factory=list)  # tiles with nobody in them
    segments: list[tuple[float, float, list[Box]]] = field(default_factory=list)


def astronaut() -> Person:
    from skimage import data

    img = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    return Person(img, (175, 45, 110, 130))


def people(shared_images: str | None = None) -> list[Person]:
    """The astronaut, then the photos of ``shared_images`` (``../shared/images``) if given."""
    out = [astronaut()]
    if shared_images:
        for path in sorted(glob.glob(os.path.join(shared_images, "*"))):
            face = _SHARED_FACES.get(os.path.basename(path))
            img = cv2.imread(path)
            if face is not None and img is not None:
                out.append(Person(img, face))
    return out


def person_tile(p: Person, w: int, h: int, rng: np.random.Generator, face_frac: float = 0.5
                ) -> np.ndarray:
    """``p`` framed in a ``w`` x ``h`` tile as a webcam would: face ``face_frac`` of the tile's
    height, centred, a little above the middle, moved by a few random pixels."""
    fx, fy, fw, fh = p.face
    s = face_frac * h / fh
    s = min(s, 0.8 * w / fw)  # a narrow tile: the face still fits across
    dx, dy = rng.uniform(-0.02, 0.02, 2) * (w, h)
    m = np.float32([[s, 0, w / 2 + dx - s * (fx + fw / 2)], [0, s, 0.42 * h + dy - s * (fy + fh / 2)]])
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    sharp = cv2.warpAffine(p.img, m, (w, h), flags=interp, borderMode=cv2.BORDER_CONSTANT)
    inside = cv2.warpAffine(np.full(p.img.shape[:2], 255, np.uint8), m, (w, h), flags=cv2.INTER_NEAREST)
    # where the photo does not reach: the room, out of focus (the photo stretched and blurred)
    ph, pw = p.img.shape[:2]
    room = cv2.resize(p.img[ph // 20:ph // 4, pw // 20:-pw // 20 or None], (w, h))
    room = cv2.GaussianBlur(room, (0, 0), max(3.0, w / 25))
    return np.where(inside[..., None] > 0, sharp, room)


def _text(img, text, org, scale=0.5, colour=(255, 255, 255), thick=1):
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thick, cv2.LINE_AA)


def _empty_tile(img, box: Box, name: str) -> None:
    x, y, w, h = box
    img[y:y + h, x:x + w] = (48, 46, 44)
    (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    _text(img, name, (x + (w - tw) // 2, y + (h + th) // 2))


def _times(n: int, step_s: float = 2.0) -> list[float]:
    return [i * step_s for i in range(n)]


def broadcast(ps: list[Person], *, n: int = 4, divider: int = 4, seed: int = 0,
              size=SIZE, overlays: bool = True) -> Case:
    """A TV split-screen debate: two tiles side by side, a thin divider and (``overlays``) a
    channel logo top-left, a clock top-right and a lower-third caption bar across the bottom,
    over both tiles."""
    rng = np.random.default_rng(seed)
    W, H = size
    lw = (W - divider) // 2
    left, right = (0, 0, lw, H), (lw + divider, 0, W - lw - divider, H)
    frames = []
    for i in range(n):
        img = np.zeros((H, W, 3), np.uint8)
        img[:, lw:lw + divider] = (235, 235, 235)
        for (x, y, w, h), p in zip((left, right), (ps[0], ps[1 % len(ps)]), strict=True):
            img[y:y + h, x:x + w] = person_tile(p, w, h, rng, face_frac=0.42)
        if overlays:
            _overlays(img, i)
        frames.append(img)
    return Case("broadcast", frames, _times(n), [left, right])


def _overlays(img: np.ndarray, i: int) -> None:
    """A channel logo, a clock showing minute ``i`` and a lower-third caption bar."""
    H, W = img.shape[:2]
    cv2.rectangle(img, (10, 10), (84, 38), (40, 40, 200), -1)  # logo
    _text(img, "NEWS 7", (16, 30), 0.5, (255, 255, 255), 2)
    cv2.rectangle(img, (W - 86, 10), (W - 10, 36), (20, 20, 20), -1)  # clock
    _text(img, f"21:{14 + i:02d}", (W - 78, 30), 0.55)
    by = int(0.83 * H)
    img[by:by + int(0.11 * H), :] = (120, 40, 10)  # lower third, across both tiles
    _text(img, "DEBATE: WHO PAYS FOR THE NEW BRIDGE?", (14, by + 26), 0.6, (255, 255, 255), 1)


def gallery(ps: list[Person], cols: int, rows: int, filled: list[int], *, n: int = 3,
            gap: int = 6, seed: int = 0, size=SIZE) -> Case:
    """A video-call gallery: ``cols`` x ``rows`` tiles on black with ``gap`` px between and
    around them; the cells listed in ``filled`` (reading order) show a person, the others are
    camera-off tiles (dark grey with a name in the middle)."""
    rng = np.random.default_rng(seed)
    W, H = size
    cw, ch = (W - (cols + 1) * gap) // cols, (H - (rows + 1) * gap) // rows
    ox, oy = (W - cols * cw - (cols - 1) * gap) // 2, (H - rows * ch - (rows - 1) * gap) // 2
    cells = [(ox + c * (cw + gap), oy + r * (ch + gap), cw, ch) for r in range(rows)
             for c in range(cols)]
    full = [cells[i] for i in filled]
    empty = [c for i, c in enumerate(cells) if i not in filled]
    frames = []
    for _ in range(n):
        img = np.full((H, W, 3), 18, np.uint8)
        for k, (x, y, w, h) in enumerate(full):
            img[y:y + h, x:x + w] = person_tile(ps[k % len(ps)], w, h, rng)
        for k, box in enumerate(empty):
            _empty_tile(img, box, f"Guest {k + 1}")
        frames.append(img)
    return Case(f"gallery{cols}x{rows}", frames, _times(n), full, empty)


def speaker(ps: list[Person], *, strip: str = "bottom", thumbs: int = 3, n: int = 3,
            gap: int = 4, seed: int = 0, size=SIZE) -> Case:
    """Speaker view: one large tile and ``thumbs`` small tiles in a strip at the bottom or right."""
    rng = np.random.default_rng(seed)
    W, H = size
    if strip == "bottom":
        th = H // 4
        tw = th * 16 // 9
        big = (gap, gap, W - 2 * gap, H - th - 3 * gap)
        x0 = (W - thumbs * tw - (thumbs - 1) * gap) // 2
        small = [(x0 + k * (tw + gap), H - th - gap, tw, th) for k in range(thumbs)]
    else:
        tw = W // 4
        th = (H - (thumbs + 1) * gap) // thumbs
        big = (gap, gap, W - tw - 3 * gap, H - 2 * gap)
        small = [(W - tw - gap, gap + k * (th + gap), tw, th) for k in range(thumbs)]
    frames = []
    for _ in range(n):
        img = np.full((H, W, 3), 18, np.uint8)
        for k, (x, y, w, h) in enumerate([big, *small]):
            img[y:y + h, x:x + w] = person_tile(ps[k % len(ps)], w, h, rng,
                                                face_frac=0.45 if k == 0 else 0.55)
        frames.append(img)
    return Case(f"speaker_{strip}", frames, _times(n), [big, *small])


def pip(ps: list[Person], *, n: int = 3, border: int = 0, seed: int = 0, size=SIZE) -> Case:
    """Picture-in-picture: one person fills the frame, another is a small inset at bottom right
    (with a ``border`` px white frame, or none)."""
    rng = np.random.default_rng(seed)
    W, H = size
    iw, ih = W // 4, H // 4
    inset = (W - iw - 16, H - ih - 16, iw, ih)
    frames = []
    for _ in range(n):
        img = person_tile(ps[0], W, H, rng, face_frac=0.4).copy()
        x, y, w, h = inset
        if border:
            img[y - border:y + h + border, x - border:x + w + border] = 255
        img[y:y + h, x:x + w] = person_tile(ps[1 % len(ps)], w, h, rng, face_frac=0.6)
        frames.append(img)
    return Case("pip", frames, _times(n), [(0, 0, W, H), inset])


def one_camera(ps: list[Person], *, n: int = 3, seed: int = 0, size=SIZE) -> Case:
    """One camera, two people in it (no tile border): two head-and-shoulders blended with soft
    edges into one room. The truth tiles split the frame halfway between the two faces."""
    rng = np.random.default_rng(seed)
    W, H = size
    room = cv2.GaussianBlur(rng.integers(60, 200, (H // 20, W // 20, 3)).astype(np.uint8), (3, 3), 0)
    room = cv2.resize(room, (W, H), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    frames = []
    centres = (int(0.27 * W), int(0.73 * W))
    for _ in range(n):
        img = room.astype(np.float32)
        for k, cx in enumerate(centres):
            pw = W // 2
            tile = person_tile(ps[k % len(ps)], pw, H, rng, face_frac=0.36).astype(np.float32)
            canvas = np.zeros_like(img)
            x0 = cx - pw // 2
            canvas[:, x0:x0 + pw] = tile
            # head and shoulders: an ellipse on top of a wider one, soft edged
            mask = (((xx - cx) / (0.17 * W)) ** 2 + ((yy - 0.42 * H) / (0.3 * H)) ** 2 < 1) | \
                (((xx - cx) / (0.22 * W)) ** 2 + ((yy - 1.0 * H) / (0.4 * H)) ** 2 < 1)
            alpha = cv2.GaussianBlur(mask.astype(np.float32), (31, 31), 0)[..., None]
            img = img * (1 - alpha) + canvas * alpha
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    mid = (centres[0] + centres[1]) // 2
    return Case("one_camera", frames, _times(n), [(0, 0, mid, H), (mid, 0, W - mid, H)])


def switch(ps: list[Person], *, before: int = 3, after: int = 5, size=SIZE) -> Case:
    """A two-person call side by side (2x1 with a divider) that switches to speaker view (one
    large tile, three thumbnails at the bottom) after ``before`` frames."""
    W, H = size
    a = gallery(ps, 2, 1, [0, 1], n=before, gap=6, seed=1, size=size)
    b = speaker(ps, strip="bottom", thumbs=3, n=after, seed=2, size=size)
    times = _times(before + after)
    t_switch, t_end = times[before], times[-1] + (times[1] - times[0])
    return Case("switch", a.frames + b.frames, times, b.people,
                segments=[(0.0, t_switch, a.people), (t_switch, t_end, b.people)])


def write_clip(case: Case, path: str, fps: int = 5) -> str:
    """``case`` as an H.264 mp4 with a silent track: each frame held until the next one's time."""
    import synth

    step = case.times[1] - case.times[0] if len(case.times) > 1 else 1.0
    ends = case.times[1:] + [case.times[-1] + step]
    frames = [img for img, t0, t1 in zip(case.frames, case.times, ends, strict=True)
              for _ in range(round((t1 - t0) * fps))]
    synth.write_av(path, frames, fps, np.zeros(int(len(frames) / fps * 16000), np.float32), 16000)
    return path
