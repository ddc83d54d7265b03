"""Tiny media files with known content, written with PyAV (tests only)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from cuekit import media

VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx",
                ".avi": "mjpeg"}
AUDIO_CODECS = {".mp4": "aac", ".mov": "aac", ".mkv": "aac", ".webm": "libopus", ".avi": "mp3",
                ".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".m4a": "aac",
                ".ogg": "libopus"}


def tone(seconds: float, sr: int, freq_hz: float = 220.0, channels: int = 1) -> np.ndarray:
    """A sine at ``freq_hz``, shape (channels, n), float32, amplitude 0.3."""
    t = np.arange(int(seconds * sr)) / sr
    y = (0.3 * np.sin(2 * np.pi * freq_hz * t)).astype("float32")
    return np.repeat(y[None, :], channels, axis=0)


def frame_at(i: int, size=(160, 120)) -> np.ndarray:
    """A grey frame with a white square whose x position encodes the frame index."""
    w, h = size
    img = np.full((h, w, 3), 60, np.uint8)
    x = (i * 4) % (w - 20)
    img[40:60, x:x + 20] = 255
    return img


def write_media(path: str, *, seconds: float = 2.0, fps: int = 10, size=(160, 120),
                video: bool = True, audio: bool = True, sr: int = 16000, channels: int = 1,
                frame_times_s: list[float] | None = None, audio_data: np.ndarray | None = None,
                rotation_deg: int = 0) -> str:
    """Write a small file. ``frame_times_s`` gives explicit (variable) frame timestamps."""
    ext = "." + path.rsplit(".", 1)[-1]
    with av.open(path, "w") as c:
        vs = as_ = None
        if video:
            vs = c.add_stream(VIDEO_CODECS[ext], rate=fps)
            vs.width, vs.height = size
            vs.pix_fmt = "yuvj420p" if ext == ".avi" else "yuv420p"
            if frame_times_s is not None:
                vs.time_base = Fraction(1, 1000)
                vs.codec_context.time_base = Fraction(1, 1000)
            if rotation_deg:
                vs.set_display_rotation(rotation_deg)
        if audio:
            as_ = c.add_stream(AUDIO_CODECS[ext], rate=sr,
                               layout="mono" if channels == 1 else
                               {2: "stereo", 6: "5.1"}[channels])
        if vs is not None:
            times = frame_times_s if frame_times_s is not None else \
                [i / fps for i in range(int(seconds * fps))]
            for i, t in enumerate(times):
                f = av.VideoFrame.from_ndarray(frame_at(i, size), format="bgr24")
                if frame_times_s is not None:
                    f.pts = int(round(t * 1000))
                    f.time_base = Fraction(1, 1000)
                else:
                    f.pts = i
                    f.time_base = Fraction(1, fps)
                for pkt in vs.encode(f):
                    c.mux(pkt)
            for pkt in vs.encode():
                c.mux(pkt)
        if as_ is not None:
            y = audio_data if audio_data is not None else tone(seconds, sr, channels=channels)
            _write_audio(c, as_, y, sr)
    return path


def _write_audio(c, stream, y: np.ndarray, sr: int) -> None:
    y = np.atleast_2d(y).astype("float32")
    frame_size = stream.codec_context.frame_size or 1024
    layout = stream.layout.name
    pts = 0
    for start in range(0, y.shape[1], frame_size):
        chunk = np.ascontiguousarray(y[:, start:start + frame_size])
        f = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        f.sample_rate = sr
        f.pts = pts
        pts += chunk.shape[1]
        for pkt in stream.encode(f):
            c.mux(pkt)
    for pkt in stream.encode():
        c.mux(pkt)


def mutate(data: bytes, mutations: list[tuple[str, float, int, int]]) -> bytes:
    """Apply (kind, where 0..1, length, byte) mutations: flip, cut, insert or zero bytes."""
    out = bytearray(data)
    for kind, where, n, byte in mutations:
        i = int(where * max(len(out) - 1, 0))
        if kind == "flip":
            for k in range(i, min(i + n, len(out))):
                out[k] ^= byte or 0xFF
        elif kind == "cut":
            out = out[:i]
        elif kind == "insert":
            out[i:i] = bytes([byte]) * n
        else:
            out[i:i + n] = bytes(min(n, len(out) - i))
    return bytes(out)


def decode_all(path: str) -> None:
    """What analysis does with a file: probe, then read every frame and all audio."""
    info = media.probe(path)
    if info.has_video:
        for _ in media.iter_frames(path, step_s=0.1):
            pass
    if info.has_audio:
        media.load_audio(path, sr=16000)
