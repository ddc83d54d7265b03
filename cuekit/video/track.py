"""One face track per participant tile: find the face, follow it, crop around it.

A tile's face can be small (a ~60 px face in a gallery view): the landmark models' own detectors
(short range) miss faces under ~15% of their input. So the track keeps a square region of
interest around the face, crops it out of the tile and rescales it to ``CROP_PX`` before the
landmarker sees it; when the face is lost, the full-range detector re-seeds the region, picking
the face nearest to where the participant was last seen. Identity is the tile: a track never looks
outside its own tile, so faces cannot swap between participants.
"""

from __future__ import annotations

import numpy as np

from ..media import Picture
from .landmarks import FaceDetector, FaceLandmarks, Landmarker

CROP_PX = 256          # side of the square the landmarker sees
ROI_PER_FACE = 2.2     # side of the region of interest in face widths (face bbox max side)


def crop_square(tile: Picture, cx: float, cy: float, side: float, out_px: int,
                ) -> tuple[np.ndarray, float]:
    """RGB square of ``side`` pixels centred on (cx, cy), resized to ``out_px``; areas outside
    the tile are black. Returns (crop, scale) with crop pixel = (tile pixel - corner) * scale."""
    return tile.rgb_square(cx - side / 2, cy - side / 2, side, out_px), out_px / side


class FaceTrack:
    """Follows one participant's face in their tile (a :class:`~cuekit.media.Picture`; points
    in tile pixels)."""

    def __init__(self, landmarker: Landmarker, detector: FaceDetector) -> None:
        self.landmarker = landmarker
        self.detector = detector
        self.roi: tuple[float, float, float] | None = None  # cx, cy, side in tile px
        self.last_centre: tuple[float, float] | None = None

    def step(self, tile: Picture, t_ms: int) -> FaceLandmarks | None:
        """Landmarks in tile pixels, or None when there is no face in the tile."""
        if self.roi is not None:
            found = self._landmarks(tile, t_ms)
            if found is not None:
                return found
        self.roi = self._seed(tile)
        if self.roi is None:
            return None
        return self._landmarks(tile, t_ms)

    def _landmarks(self, tile: Picture, t_ms: int) -> FaceLandmarks | None:
        cx, cy, side = self.roi
        crop, scale = crop_square(tile, cx, cy, side, CROP_PX)
        found = self.landmarker.detect(crop, t_ms)
        if found is None:
            self.roi = None
            return None
        pts = found.points / scale
        pts[:, 0] += cx - side / 2
        pts[:, 1] += cy - side / 2
        found.points = pts
        lo, hi = pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)
        centre = 0.5 * (lo + hi)
        self.roi = (float(centre[0]), float(centre[1]), float(ROI_PER_FACE * max(hi - lo)))
        self.last_centre = (float(centre[0]), float(centre[1]))
        return found

    def _seed(self, tile: Picture) -> tuple[float, float, float] | None:
        faces = self.detector.detect(tile.rgb())
        if not faces:
            return None
        if self.last_centre is not None:
            lx, ly = self.last_centre
            faces = sorted(faces, key=lambda f: np.hypot(f[0] + f[2] / 2 - lx, f[1] + f[3] / 2 - ly))
        x, y, w, h, _ = faces[0]
        return (x + w / 2, y + h / 2, ROI_PER_FACE * 1.1 * max(w, h))

    def close(self) -> None:
        self.landmarker.close()
