"""One face track per participant tile: find the face, follow it from frame to frame.

As MediaPipe's Face Landmarker does: the full-range detector seeds a region of interest (the
face box x 1.5, turned level with the eyes); the landmark model reads that region, and its
landmarks give the next frame's region, so the detector runs only when the face is lost. A
tile's face can be small (a ~60 px face in a gallery view): the region is cut out of the tile at
the model's own resolution, whatever the face's size. Identity is the tile: a track never looks
outside its own tile, so faces cannot swap between participants; when the detector finds several
faces, the one nearest to where the participant was last seen is taken.
"""

from __future__ import annotations

import numpy as np

from ..media import Picture
from .landmarks import FaceDetector, FaceLandmarker, FaceLandmarks, Roi, face_roi_from_detection


class FaceTrack:
    """Follows one participant's face in their tile (a :class:`~cuekit.media.Picture`; points
    in tile pixels)."""

    def __init__(self, landmarker: FaceLandmarker, detector: FaceDetector) -> None:
        self.landmarker = landmarker
        self.detector = detector
        self.roi: Roi | None = None
        self.last_centre: tuple[float, float] | None = None

    def step(self, tile: Picture) -> FaceLandmarks | None:
        """Landmarks in tile pixels, or None when there is no face in the tile."""
        if self.roi is not None:
            found = self._landmarks(tile)
            if found is not None:
                return found
        self.roi = self._seed(tile)
        if self.roi is None:
            return None
        return self._landmarks(tile)

    def _landmarks(self, tile: Picture) -> FaceLandmarks | None:
        found = self.landmarker.detect(tile, self.roi)
        if found is None:
            self.roi = None
            return None
        self.roi = self.landmarker.roi(found.points)
        self.last_centre = (self.roi.cx, self.roi.cy)
        return found

    def _seed(self, tile: Picture) -> Roi | None:
        faces = self.detector.detect(tile.rgb())
        if not faces:
            return None
        if self.last_centre is not None:
            lx, ly = self.last_centre
            faces = sorted(faces, key=lambda f: np.hypot(f[0] + f[2] / 2 - lx, f[1] + f[3] / 2 - ly))
        x, y, w, h, _, angle = faces[0]
        return face_roi_from_detection(x, y, w, h, angle)

    def close(self) -> None:
        self.landmarker.close()
