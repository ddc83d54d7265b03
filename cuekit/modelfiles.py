"""The model files shipped inside the package (``cuekit/models``): where they are, their
checksums, and one clear error when one is missing or damaged. The face and pose models
(``video.landmarks``) and the speaker encoder (``audio.embeddings``) are found through here;
``models/fetch_models.py`` in the source tree shows where each byte came from."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import CuekitError

MODELS_DIR = Path(__file__).resolve().parent / "models"


class ModelError(CuekitError, OSError):
    """A model file of the cuekit install is missing or damaged (reinstall cuekit)."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def shipped_models() -> dict[str, str]:
    """Model file name -> expected sha256, from ``SHA256SUMS`` (the licence text left out)."""
    sums = {}
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            if name.lstrip("*") != "LICENSE":
                sums[name.lstrip("*")] = digest
    return sums


def model_path(filename: str, *, verify: bool = False) -> Path:
    """The path of a shipped model file; :class:`ModelError` when it is missing or, with
    ``verify``, when its sha256 is not the listed one (for files read as data rather than by a
    runtime that would reject a damaged model itself)."""
    path = MODELS_DIR / filename
    if not path.is_file():
        raise ModelError(f"model file {filename} is missing from {MODELS_DIR}: reinstall cuekit")
    if verify and file_sha256(path) != shipped_models().get(filename):
        raise ModelError(f"model file {path} is damaged (sha256 differs): reinstall cuekit")
    return path


def describe_models() -> str:
    """Text for ``cuekit models``: the shipped model files, each present and intact or not."""
    lines = [f"Model files in {MODELS_DIR} (nothing is downloaded):"]
    for name, digest in shipped_models().items():
        path = MODELS_DIR / name
        state = ("ok" if path.is_file() and file_sha256(path) == digest
                 else "DAMAGED" if path.is_file() else "MISSING")
        lines.append(f"  [{state}] {name}  sha256 {digest[:16]}…")
    lines += ["", "Licence: Apache-2.0 (Google MediaPipe; Resemblyzer's speaker encoder); see "
              "LICENSE and README.md there."]
    return "\n".join(lines)
