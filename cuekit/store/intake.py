"""Uploads into the library: the size limit, the container sniffed from the content, copying
with the limit checked on the way, and transcripts checked before they are kept.

Everything here writes into a folder the caller made (``sessions/.incoming-<id>``); the
session's row and the rename into place are :meth:`cuekit.store.Library.add_session`'s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError

MAX_UPLOAD_ENV = "CUEKIT_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 2000
MAX_TRANSCRIPT_MB = 20  # an hour of captions is well under 1 MB
TRANSCRIPT_SUFFIXES = ("vtt", "srt")  # what the upload form offers; the content decides
INCOMING_PREFIX = ".incoming-"  # an upload being copied, renamed to its session id when whole
# Every container sniff_media names, with its MIME type (the player's and the HTTP route's).
MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".m4a": "audio/mp4",
               ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
               ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".flac": "audio/flac"}
AUDIO_ONLY = frozenset({".m4a", ".wav", ".mp3", ".ogg", ".flac"})  # no picture to show
_SNIFF_BYTES = 64
_COPY_CHUNK_BYTES = 8 << 20


def max_upload_mb() -> int:
    """Largest accepted upload in MB: ``$CUEKIT_MAX_UPLOAD_MB`` or 2000."""
    raw = os.environ.get(MAX_UPLOAD_ENV, str(DEFAULT_MAX_UPLOAD_MB))
    try:
        mb = int(raw)
    except ValueError:
        raise InputError(f"{MAX_UPLOAD_ENV} must be a whole number of MB, got {raw!r}") from None
    if mb < 1:
        raise InputError(f"{MAX_UPLOAD_ENV} must be at least 1 MB, got {mb}")
    return mb


def sniff_media(head: bytes) -> str:
    """The container of a recording from its first bytes, as a file extension (``.mp4`` …).

    Checks the content, not the name, so a renamed text file is refused before any decoding.
    Raises ``InputError`` for anything that is not a recording cuekit reads.
    """
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return {b"qt  ": ".mov", b"M4A ": ".m4a"}.get(brand, ".mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM
        return ".webm" if b"webm" in head[:_SNIFF_BYTES] else ".mkv"
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return ".wav" if head[8:12] == b"WAVE" else ".avi"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3"
    if head[:4] == b"OggS":
        return ".ogg"
    if head[:4] == b"fLaC":
        return ".flac"
    raise InputError("not a recording cuekit can read (expected mp4, mov, m4a, mkv, webm, avi, "
                     f"wav, mp3, ogg or flac content; the file starts with {head[:12]!r})")


def participant_names(text: str) -> list[str] | None:
    """The participants typed as one comma-separated line (reading order), None when empty."""
    return [n.strip() for n in text.split(",") if n.strip()] or None


def receive_recording(src: BinaryIO, folder: Path) -> str:
    """Copy a recording into ``folder`` as ``media<ext>`` (the container sniffed from its
    content, the size checked against :func:`max_upload_mb` while copying); returns the name."""
    ext = sniff_media(src.read(_SNIFF_BYTES))
    src.seek(0)
    name = f"media{ext}"
    copy_at_most(src, folder / name, max_upload_mb() << 20)
    return name


def receive_transcript(transcript: str | os.PathLike | BinaryIO, shown_name: str,
                       folder: Path) -> str:
    """Copy a transcript into ``folder`` as ``transcript.vtt`` or ``.srt`` (WebVTT files start
    with ``WEBVTT``), check that it has timed cues, and return the file name."""
    from ..transcript import read_transcript

    shown = shown_name or (os.path.basename(transcript)
                           if isinstance(transcript, (str, os.PathLike)) else "the transcript")
    staged = folder / "transcript.tmp"
    with open_binary(transcript, "transcript") as src:
        copy_at_most(src, staged, MAX_TRANSCRIPT_MB << 20, what="transcript",
                     limit_name="cuekit's transcript limit")
    with open(staged, "rb") as f:
        head = f.read(16).removeprefix(b"\xef\xbb\xbf").lstrip()
    name = "transcript.vtt" if head.startswith(b"WEBVTT") else "transcript.srt"
    try:
        read_transcript(staged)
    except InputError:
        raise InputError(f"{shown} is not a transcript cuekit can read: no timed lines such as "
                         "'00:00:01.000 --> 00:00:02.000' (expected WebVTT .vtt or SubRip "
                         ".srt)") from None
    staged.rename(folder / name)
    return name


def copy_at_most(src: BinaryIO, dst_path: Path, limit_bytes: int, *, what: str = "recording",
                 limit_name: str = MAX_UPLOAD_ENV) -> None:
    """Copy ``src`` to a new file, refusing (``InputError``) past ``limit_bytes``."""
    copied_bytes = 0
    with open(dst_path, "wb") as dst:
        while chunk := src.read(_COPY_CHUNK_BYTES):
            copied_bytes += len(chunk)
            if copied_bytes > limit_bytes:
                raise InputError(f"the {what} is larger than the upload limit of "
                                 f"{limit_bytes >> 20} MB ({limit_name})")
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


@contextmanager
def open_binary(media: str | os.PathLike | BinaryIO, what: str = "recording"
                ) -> Iterator[BinaryIO]:
    """A path opened for reading, or a file object as it is (``InputError`` for a missing
    path)."""
    if isinstance(media, (str, os.PathLike)):
        if not os.path.isfile(media):
            raise InputError(f"{what} not found: {media}")
        with open(media, "rb") as f:
            yield f
    else:
        yield media
