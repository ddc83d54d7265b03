"""Who is where: gallery tiles of a video call, a single camera, or audio channels.

A :class:`Participant` names a person and where their signal lives: a tile box in the frame,
an audio channel, a separate audio file, or none of these (one voice of a mixed audio-only track).
Participants are named ``P1, P2, …`` in reading order (tiles left→right, top→bottom; audio
channels in order) unless names are given.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import asdict, dataclass

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


# ---------------------------------------------------------------------------------------------
# Finding the tiles: borders first, then faces.
#
# 1. Tile borders are lines of the picture that are one colour end to end (a divider, the gap of a
#    gallery, the frame round a thumbnail strip), narrow, and between lines that are not: the frame
#    is cut along them again and again (an XY-cut) until no border crosses a piece. A line counts
#    as one colour when most of it is (``_FLAT_SHARE``), so a clock, a logo or a caption bar drawn
#    over a divider does not hide it; a border never runs through a face. Of two such runs side by
#    side (a gap beside a tile's blurred room) the flatter is the border: a UI draws it in one
#    colour.
# 2. A piece is a participant's tile when a face is in it in a good share of the frames
#    (``_PRESENT``): empty gallery cells and camera-off tiles are dropped. A face-free strip much
#    thinner than its neighbours (a lower-third caption, a letterbox bar) is no tile: the border
#    beside it is ignored, so it stays part of the tile it is drawn over.
# 3. A piece with two or more people in it is either a picture-in-picture (a small face inside a
#    rectangle of straight edges: the inset is a tile of its own over the main one) or one camera
#    filming several people, which is split halfway between the faces (see ``_split_between``).
#    A second face counts only when seen in most frames and apart from the first (``_people``).
# 4. The tile borders are compared frame by frame: where they change (a call that switches from
#    side by side to speaker view) each stretch gets its own tiles, and the longest stretch's
#    tiles are the answer; the stretches are reported as ``segments``.
# ---------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]

_FLAT_TOL = 10.0  # grey levels: a pixel this close to its line's median is the line's colour
_RUN_TOL = 4.0  # grey levels: lines of one border have the same colour (a UI draws it)
_FLAT_SHARE = 0.8  # a line is one colour when this share of it is (overlays may cross the rest)
_BORDER_MAX = 0.08  # a tile border is at most this share of the piece it cuts
_SLIVER = 0.03  # pieces thinner than this share (or 8 px) are no tiles: their border is ignored
_OVERLAY_MAX = 0.3  # a face-free strip thinner than this share of its piece is an overlay, not a tile
_PRESENT = 0.4  # a tile is a participant's when a face is in it in this share of the frames
_PERSON = 0.6  # a second person in one piece: a face seen at one place in this share of them
_FACE_WIDTH = 640  # px: faces are looked for at this width (borders at the frames' own)
_EDGE = 40.0  # Sobel response (4x a step of grey levels) of an inset's straight edge


@dataclass(frozen=True)
class TileGuess:
    """The participants' tiles found in a few frames of a call.

    ``boxes``: the tiles (x, y, w, h) in reading order, in pixels of ``size``; a regular grid
    (``layout`` one of :data:`GRIDS`) gives the grid's cells. ``layout``: the grid's name or the
    boxes as ``'x,y,w,h;…'`` (what ``--layout`` accepts). ``segments``: ``(start_s, end_s,
    layout)`` for each stretch of the frames with its own tiles (one item when the layout does
    not change); ``boxes`` are the longest stretch's. ``notes``: how unusual tiles were found.
    """

    boxes: list[Box]
    layout: str
    segments: list[tuple[float, float, str]]
    notes: list[str]


def guess_layout(frames: list[np.ndarray], times: list[float] | None = None) -> str:
    """The layout of a few frames as ``--layout`` takes it: a grid name (``1``, ``2x1``, ``1x2``,
    ``2x2``) or explicit boxes ``'x,y,w,h;…'`` in the frames' pixels. See :func:`detect_tiles`."""
    return detect_tiles(frames, times).layout


def detect_tiles(frames: list[np.ndarray], times: list[float] | None = None,
                 size: tuple[int, int] | None = None) -> TileGuess:
    """The tiles of the participants seen in ``frames`` (BGR, all one size; ``times`` their
    seconds, default 0, 1, 2, …), as boxes in pixels of ``size`` (width, height; default the
    frames' own): tile borders from lines of one colour, participants from faces; see the notes
    above. With no face in any frame, every piece the borders make is a tile."""
    import cv2  # here, not at import: the CLI and config load this module

    if not frames:
        return TileGuess([], "1", [], [])
    h, w = frames[0].shape[:2]
    W, H = size or (w, h)
    times = [float(t) for t in times] if times is not None else [float(i) for i in range(len(frames))]
    # grey levels kept as uint8 (a quarter of float32: 125 probe frames of a 60-minute 720p call)
    # and taken as float32 a box at a time where they are used
    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    faces = [_faces(f) for f in frames]
    whole = (0, 0, w, h)

    # stretches of frames whose tile borders agree (a lone odd frame joins the stretch before it)
    keys = [_cut(whole, [g], [ff] if any(faces) else None) for g, ff in zip(grays, faces, strict=True)]
    stretches: list[list[int]] = []
    for i, key in enumerate(keys):
        if stretches and _same_boxes(keys[stretches[-1][0]], key, w, h):
            stretches[-1].append(i)
        else:
            stretches.append([i])
    stretches = _absorb_lone_frames(stretches, lambda i, j: _same_boxes(keys[i], keys[j], w, h))

    found = []  # (frame indices, boxes, notes), consecutive stretches with the same tiles joined
    for idx in stretches:
        if found and _same_people(_people(whole, [faces[i] for i in found[-1][0]]),
                                  _people(whole, [faces[i] for i in idx])):
            idx = found.pop()[0] + idx  # the borders of a few frames differ, nobody moved
        boxes, notes = _tiles([frames[i] for i in idx], [grays[i] for i in idx],
                              [faces[i] for i in idx], w, h)
        if found and _similar_boxes(found[-1][1], boxes):
            found[-1] = (found[-1][0] + idx, found[-1][1], found[-1][2])
        else:
            found.append((idx, boxes, notes))

    step = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    segments, best, best_len = [], None, -1.0
    for k, (idx, boxes, notes) in enumerate(found):
        start = times[idx[0]]
        end = times[found[k + 1][0][0]] if k + 1 < len(found) else times[idx[-1]] + step
        scaled = [_scale(b, w, h, W, H) for b in reading_order(boxes)]
        spec = _spec(scaled, W, H)
        if spec in GRIDS:
            scaled = grid_boxes(spec, W, H)
        segments.append((start, end, spec))
        if end - start > best_len:
            best, best_len = (scaled, spec, notes), end - start
    assert best is not None
    return TileGuess(best[0], best[1], segments, best[2])


@functools.cache
def _cascade():
    """The face cascade, loaded once (a file read and parse), on first use."""
    import cv2

    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def _faces(img: np.ndarray) -> list[Box]:
    """Frontal faces by OpenCV's bundled Haar cascade (cheap; used only to find the tiles),
    looked for in a copy at most ``_FACE_WIDTH`` wide, given in pixels of ``img``."""
    import cv2  # here, not at import: the CLI and config load this module

    scale = min(1.0, _FACE_WIDTH / img.shape[1])
    if scale < 1.0:
        img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    min_side = max(20, min(gray.shape) // 18)  # thumbnails of a speaker view have small faces
    found = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                        minSize=(min_side, min_side))
    return [tuple(int(round(v / scale)) for v in f) for f in found]


def _tiles(frames: list[np.ndarray], grays: list[np.ndarray], faces: list[list[Box]], w: int,
           h: int) -> tuple[list[Box], list[str]]:
    """The participants' tiles of one stretch of frames (BGR, and their grey levels; pixels of
    the frames)."""
    any_face = any(faces)
    tiles: list[Box] = []
    notes: list[str] = []
    for leaf in _cut((0, 0, w, h), grays, faces if any_face else None):
        if leaf[2] <= 0 or leaf[3] <= 0:
            continue
        if not any_face:
            tiles.append(leaf)
            continue
        people = _people(leaf, faces)
        if len(people) == 1:
            tiles.append(leaf)
        elif len(people) > 1:
            inset = _inset(leaf, people, frames)
            if inset is not None:
                tiles += [leaf, inset]
                notes.append("picture-in-picture: the inset tile lies over the main one")
            else:
                tiles += _split_between(leaf, people)
                notes.append(f"{len(people)} people in one picture: split halfway between "
                             "their faces")
    return tiles, notes


def _cut(box: Box, grays: list[np.ndarray], faces: list[list[Box]] | None,
         gap: tuple[float, int, int] | None = None) -> list[Box]:
    """The pieces (x, y, w, h) the tile borders cut ``box`` into (an XY-cut: cut along every
    border that crosses the whole piece, in the direction with more of them, and cut again).
    With ``faces`` (per frame), borders of thin face-free strips (overlays) are ignored. ``gap``:
    (grey level, width, axis) of the borders that cut ``box`` off; its margins of that colour at
    the borders' ends are trimmed (a gallery's edge, the background either side of a centred
    strip of thumbnails); the whole frame keeps its margins."""
    if gap is not None:
        box = _trim(box, grays, *gap)
    best: list[Box] = []
    best_gap = None
    for axis in (1, 0):  # 1: borders up and down (columns), 0: across (rows)
        parts, part_gap = _parts(box, grays, faces, axis)
        if len(parts) > len(best):
            best, best_gap = parts, (*part_gap, axis)
    if len(best) <= 1:
        return [box]
    return [leaf for part in best for leaf in _cut(part, grays, faces, best_gap)]


def _trim(box: Box, grays: list[np.ndarray], gap: float, width: int, axis: int) -> Box:
    """``box`` without the margins of grey level ``gap`` at the ends of borders along ``axis``
    (1: vertical borders, so the top and bottom margins): lines all of that colour, when they
    are about as wide as the borders (``width``, a gallery's edge) or wide, 8-40 % of ``box``
    (beside a strip of thumbnails); not in between: a dark suit or dark hair at a tile's edge
    continues a margin by a few lines and is kept."""
    x, y, w, h = box

    def drawn(g: np.ndarray) -> np.ndarray:  # one frame: which lines are drawn like the gap
        lines = g[y:y + h, x:x + w].astype(np.float32)
        if axis == 0:
            lines = lines.T  # the margins to trim are rows below
        return (np.abs(lines - gap) < _RUN_TOL).mean(axis=1) >= 0.97

    like_gap = np.stack([drawn(g) for g in grays])  # (frames, lines from the first edge)
    n = like_gap.shape[1]

    def margin(like: np.ndarray) -> int:  # like: (frames, lines from the edge inwards)
        same = like.sum(axis=0) * 2 > len(grays)
        k = int(np.argmin(same)) if not same.all() else len(same)
        return k if k <= 1.5 * width or 0.08 * n <= k <= 0.4 * n else 0

    lo, hi = margin(like_gap), margin(like_gap[:, ::-1])
    if axis == 1:
        return x, y + lo, w, h - lo - hi
    return x + lo, y, w - lo - hi, h


def _parts(box: Box, grays: list[np.ndarray], faces: list[list[Box]] | None, axis: int
           ) -> tuple[list[Box], tuple[float, int]]:
    """``box`` cut along its tile borders running along ``axis`` (1: vertical lines), and the
    borders' grey level and width. A piece too thin to be a tile, or a face-free strip (an
    overlay), joins the neighbour with a face, across the border least like a drawn one (the
    edge of a blurred room, not the gallery's gap beside it), else the bigger neighbour."""
    x, y, bw, bh = box
    n = bw if axis == 1 else bh
    borders = _borders(box, grays, faces, axis)
    if not borders:
        return [box], (0.0, 0)
    gap = (float(np.median([c for _, _, c, _ in borders])), max(b - a for a, b, _, _ in borders))
    # pieces between the borders, as (start, end) along the cut direction; seams[k]: the spread
    # of the border between pieces k and k + 1
    pieces, seams = [], [round(s) for _, _, _, s in borders]
    start = 0
    for a, b, _, _ in borders:
        pieces.append([start, a])
        start = b
    pieces.append([start, n])

    def face_in(p) -> bool:
        if faces is None:
            return True
        sub = (x + p[0], y, p[1] - p[0], bh) if axis == 1 else (x, y + p[0], bw, p[1] - p[0])
        return _presence(sub, faces) >= _PRESENT

    changed = True
    while changed and len(pieces) > 1:
        changed = False
        biggest = max(p[1] - p[0] for p in pieces)
        for i, p in enumerate(pieces):
            size = p[1] - p[0]
            sliver = size < max(8, _SLIVER * n)
            overlay = faces is not None and size < _OVERLAY_MAX * n and size < 0.5 * biggest \
                and not face_in(p)
            if sliver or overlay:
                nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(pieces)]
                j = max(nbrs, key=lambda j: (face_in(pieces[j]), seams[min(i, j)],
                                             pieces[j][1] - pieces[j][0]))
                lo, hi = min(i, j), max(i, j)
                pieces[lo:hi + 1] = [[pieces[lo][0], pieces[hi][1]]]
                del seams[lo]
                changed = True
                break
    if axis == 1:
        return [(x + a, y, b - a, bh) for a, b in pieces], gap
    return [(x, y + a, bw, b - a) for a, b in pieces], gap


def _borders(box: Box, grays: list[np.ndarray], faces: list[list[Box]] | None, axis: int
             ) -> list[tuple[int, int, float, float]]:
    """Tile borders crossing the whole of ``box`` along ``axis``, as (start, end, grey level,
    spread) offsets (spread: mean grey levels off the border's colour, at most ``_FLAT_TOL`` a
    pixel, so an overlay across it counts little; a drawn gap's is near 0): narrow
    runs of lines each of one colour in most frames, between lines that are not of that colour,
    not at the edge of ``box`` (a margin is no border) and through no face. Of two such runs side
    by side (a gallery's gap beside a tile's blurred room, or a dark suit at its edge) the border
    is the one closer to a single colour: a drawn gap is exactly one, a picture is not."""
    x, y, bw, bh = box
    votes = None
    colours, spreads, subs = [], [], []
    for g in grays:
        sub = g[y:y + bh, x:x + bw]
        if axis == 0:
            sub = sub.T  # rows become columns: lines are always columns below
        subs.append(sub)  # uint8 views: no float copy of every frame is kept
        sub = sub.astype(np.float32)
        med = np.median(sub, axis=0)
        off = np.abs(sub - med)
        flat = (off < _FLAT_TOL).mean(axis=0) >= _FLAT_SHARE
        votes = flat.astype(np.int32) if votes is None else votes + flat
        colours.append(med)
        spreads.append(np.minimum(off, _FLAT_TOL).mean(axis=0))
    flat = votes * 2 > len(grays)
    colour = np.median(np.stack(colours), axis=0)
    spread = np.median(np.stack(spreads), axis=0)  # grey levels off the line's colour
    n = len(flat)
    blocked = np.zeros(n, bool)  # lines through a face (its middle: Haar boxes are loose)
    for frame_faces in faces or []:
        for fx, fy, fw, fh in frame_faces:
            lo, hi, olo, ohi = (fx, fx + fw, fy, fy + fh) if axis == 1 else (fy, fy + fh, fx, fx + fw)
            off, oext = (x, y) if axis == 1 else (y, x)
            oext_hi = oext + (bh if axis == 1 else bw)
            if ohi > oext and olo < oext_hi:
                a, b = lo - off + (hi - lo) // 5, hi - off - (hi - lo) // 5
                blocked[max(0, a):max(0, min(n, b))] = True
    out = []
    i = 0
    while i < n:
        if not flat[i]:
            i += 1
            continue
        j = i + 1
        while j < n and flat[j] and abs(colour[j] - colour[j - 1]) < _RUN_TOL \
                and abs(colour[j] - colour[i]) < _RUN_TOL:
            j += 1
        if i > 0 and j < n and j - i <= max(2, _BORDER_MAX * n) and not blocked[i:j].any() \
                and _stands_out(subs, colour[i:j].mean(), max(0, i - 2), min(n - 1, j + 1)):
            run = (i, j, float(colour[i:j].mean()), float(spread[i:j].mean()))
            if out and out[-1][1] == i:  # two colours side by side: the flatter is the border
                if run[3] < out[-1][3]:
                    out[-1] = run
            else:
                out.append(run)
        i = j
    return out


def _stands_out(subs: list[np.ndarray], colour: float, before: int, after: int) -> bool:
    """Whether the lines on one side or the other of a run of ``colour`` are mostly of other
    colours (a border between tiles, not a line where a picture happens to be as dark as the
    background round it; one side may be as dark as a gap: a dark suit at a tile's edge)."""
    votes = sum(min((np.abs(s[:, k].astype(np.float32) - colour) < _FLAT_TOL).mean()
                    for k in (before, after)) < 0.5 for s in subs)
    return votes * 2 > len(subs)


def _presence(box: Box, faces: list[list[Box]]) -> float:
    """Share of the frames with a face centred in ``box``."""
    x, y, w, h = box
    hits = sum(any(x <= fx + fw / 2 < x + w and y <= fy + fh / 2 < y + h for fx, fy, fw, fh in ff)
               for ff in faces)
    return hits / max(1, len(faces))


def _people(box: Box, faces: list[list[Box]]) -> list[Box]:
    """The people in ``box``: faces seen at about the same place, as their mean face box. The
    one seen most must be seen in ``_PRESENT`` of the frames, any other in most of them (the Haar
    cascade finds the odd face in a flag or a shirt in two frames of five), and not beside or
    just below a larger face (a second box on one head, a shirt under it): see ``_same_person``."""
    x, y, w, h = box
    groups: list[tuple[list[Box], set[int]]] = []
    for t, ff in enumerate(faces):
        for f in ff:
            cx, cy = f[0] + f[2] / 2, f[1] + f[3] / 2
            if not (x <= cx < x + w and y <= cy < y + h):
                continue
            for boxes, seen in groups:
                m = np.mean(boxes, axis=0)
                if np.hypot(cx - m[0] - m[2] / 2, cy - m[1] - m[3] / 2) < 0.5 * max(m[2], f[2]):
                    boxes.append(f)
                    seen.add(t)
                    break
            else:
                groups.append(([f], {t}))
    groups.sort(key=lambda g: (len(g[1]), np.mean(g[0], axis=0)[2]), reverse=True)
    out: list[Box] = []
    for k, (boxes, seen) in enumerate(groups):
        f = tuple(int(v) for v in np.mean(boxes, axis=0))
        if len(seen) >= (_PRESENT if k == 0 else _PERSON) * len(faces) \
                and not any(_same_person(f, p) for p in out):
            out.append(f)
    return out


def _same_person(a: Box, b: Box) -> bool:
    """Whether faces ``a`` and ``b`` are one person's: the smaller one's centre within the larger
    one's width beside it and 1.3 of its height above or below it (two people's faces, even
    cheek to cheek or one above the other in a merged column of a gallery, are further apart)."""
    big, small = (a, b) if a[2] >= b[2] else (b, a)
    dx = abs(small[0] + small[2] / 2 - big[0] - big[2] / 2)
    dy = abs(small[1] + small[3] / 2 - big[1] - big[3] / 2)
    return dx < big[2] and dy < 1.3 * big[3]


def _same_people(a: list[Box], b: list[Box]) -> bool:
    """Whether two stretches show the same faces at the same places and sizes (half a face
    apart at most): a layout that changes moves or resizes the tiles and so the faces in them;
    borders that differ under unmoved faces are noise (a blurred room's edge in a few frames)."""
    if not a or len(a) != len(b):
        return False
    for fa in a:
        if not any(np.hypot(fa[0] + fa[2] / 2 - fb[0] - fb[2] / 2, fa[1] + fa[3] / 2 - fb[1] - fb[3] / 2)
                   < 0.5 * fa[2] and 0.75 <= fb[2] / fa[2] <= 1.33 for fb in b):
            return False
    return True


def _inset(box: Box, people: list[Box], frames: list[np.ndarray]) -> Box | None:
    """A picture-in-picture inset in ``box`` of ``frames`` (BGR): the smallest face inside a
    rectangle of straight edges that do not move, much smaller than the piece and not round the
    largest face. Edges are steps in any colour channel: a light-blue shirt beside a light-grey
    wall is a step of hue, hardly of grey level."""
    import cv2  # here, not at import: the CLI and config load this module

    big = max(people, key=lambda f: f[2])
    small = min(people, key=lambda f: f[2])
    if small[2] > 0.6 * big[2]:
        return None  # faces of about one size: people side by side, not an inset
    x, y, w, h = box
    sub = [f[y:y + h, x:x + w].astype(np.float32) for f in frames]

    def step(dx: int, dy: int) -> np.ndarray:  # in every frame: the inset's frame stays put
        return np.min([np.abs(cv2.Sobel(s, cv2.CV_32F, dx, dy, ksize=3)).max(axis=2)
                       for s in sub], axis=0) > _EDGE

    ev, eh = step(1, 0), step(0, 1)
    fx, fy, fw, fh = small[0] - x, small[1] - y, small[2], small[3]

    def lines(edges, lo, hi, positions, edge):
        """From the face outwards, the first few straight edges beside it (along the face and
        half a face either side: the inset's edge may be weak just beside dark hair), and the
        piece's edge."""
        pad = (hi - lo) // 2
        lo, hi = max(0, lo - pad), hi + pad
        found = [p for p in positions if edges[lo:hi, p].mean() >= 0.6][:8]
        return found + [edge]

    lefts = lines(ev, fy, fy + fh, range(fx - 1, 0, -1), 0)
    rights = [r + 1 for r in lines(ev, fy, fy + fh, range(fx + fw, w - 1), w - 1)]
    tops = lines(eh.T, fx, fx + fw, range(fy - 1, 0, -1), 0)
    bottoms = [b + 1 for b in lines(eh.T, fx, fx + fw, range(fy + fh, h - 1), h - 1)]
    bx, by = big[0] - x + big[2] / 2, big[1] - y + big[3] / 2
    best = None
    for left, right, top, bottom in itertools.product(lefts, rights, tops, bottoms):
        area = (right - left) * (bottom - top)
        if area > 0.35 * w * h or (left <= bx < right and top <= by < bottom):
            continue
        sides = [ev[top:bottom, left].mean() if left > 0 else None,
                 ev[top:bottom, right - 1].mean() if right < w else None,
                 eh[top, left:right].mean() if top > 0 else None,
                 eh[bottom - 1, left:right].mean() if bottom < h else None]
        real = [v for v in sides if v is not None]
        if len(real) >= 2 and min(real) >= 0.75 and (best is None or area < best[0]):
            best = (area, (x + left, y + top, right - left, bottom - top))
    return None if best is None else best[1]


def _split_between(box: Box, people: list[Box]) -> list[Box]:
    """One tile per person of a picture with several people and no border between them.

    The video cues follow one face per tile, so each person needs a tile of their own; the frame
    is cut halfway between neighbouring faces (along the wider gap, then within each side
    again), which keeps each face and most of its body in its own tile whatever the spacing."""
    if len(people) <= 1:
        return [box]
    x, y, w, h = box
    cx = sorted(f[0] + f[2] / 2 for f in people)
    cy = sorted(f[1] + f[3] / 2 for f in people)
    gx = max((b - a, (a + b) / 2) for a, b in zip(cx, cx[1:], strict=False))
    gy = max((b - a, (a + b) / 2) for a, b in zip(cy, cy[1:], strict=False))
    if gx[0] / w >= gy[0] / h:
        cut = int(round(gx[1]))
        first = [f for f in people if f[0] + f[2] / 2 < cut]
        second = [f for f in people if f[0] + f[2] / 2 >= cut]
        return _split_between((x, y, cut - x, h), first) + \
            _split_between((cut, y, x + w - cut, h), second)
    cut = int(round(gy[1]))
    first = [f for f in people if f[1] + f[3] / 2 < cut]
    second = [f for f in people if f[1] + f[3] / 2 >= cut]
    return _split_between((x, y, w, cut - y), first) + \
        _split_between((x, cut, w, y + h - cut), second)


def _same_boxes(a: list[Box], b: list[Box], w: int, h: int, tol: float = 0.03) -> bool:
    if len(a) != len(b):
        return False
    return all(abs(p[0] - q[0]) <= tol * w and abs(p[2] - q[2]) <= tol * w
               and abs(p[1] - q[1]) <= tol * h and abs(p[3] - q[3]) <= tol * h
               for p, q in zip(reading_order(a), reading_order(b), strict=True))


def _absorb_lone_frames(stretches: list[list[int]], same) -> list[list[int]]:
    """A stretch of one frame between two stretches of one layout (``same(i, j)``: frames
    ``i`` and ``j`` have the same borders) is noise in the borders, not a new layout: it joins
    the stretch before it; a lone first frame (an intro) joins the stretch after it. Other lone
    frames are kept: with frames far apart (the probe across a long call) one frame may be all
    that is seen of a layout; a stretch whose tiles turn out like its neighbour's is joined to
    it later."""
    out: list[list[int]] = []
    for i, s in enumerate(stretches):
        if out and len(s) == 1 and i + 1 < len(stretches) \
                and same(stretches[i - 1][-1], stretches[i + 1][0]):
            out[-1] = out[-1] + s
        elif len(out) == 1 and len(out[0]) == 1:  # a lone first frame (an intro) joins the next
            out[0] = out[0] + s
        else:
            out.append(list(s))
    return out


def _similar_boxes(a: list[Box], b: list[Box], min_iou: float = 0.6) -> bool:
    """As many tiles, each overlapping its counterpart (reading order) by ``min_iou``: one
    layout whose thinner borders (a thumbnail strip's) were found a little apart."""
    if len(a) != len(b):
        return False
    for (ax, ay, aw, ah), (bx, by, bw, bh) in zip(reading_order(a), reading_order(b), strict=True):
        iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
        ih = max(0, min(ay + ah, by + bh) - max(ay, by))
        union = aw * ah + bw * bh - iw * ih
        if union <= 0 or iw * ih / union < min_iou:
            return False
    return True


def _scale(b: Box, w: int, h: int, W: int, H: int) -> Box:
    x0, y0 = round(b[0] * W / w), round(b[1] * H / h)
    x1, y1 = min(W, round((b[0] + b[2]) * W / w)), min(H, round((b[1] + b[3]) * H / h))
    return x0, y0, x1 - x0, y1 - y0


def _spec(boxes: list[Box], w: int, h: int, tol: float = 0.05) -> str:
    """The grid's name when ``boxes`` (reading order) are its cells to within ``tol`` of the
    frame, else the boxes as ``'x,y,w,h;…'``."""
    for name in GRIDS:
        cells = grid_boxes(name, w, h)
        if len(cells) == len(boxes) and _same_boxes(cells, boxes, w, h, tol):
            return name
    return ";".join(",".join(str(v) for v in b) for b in boxes) or "1"
