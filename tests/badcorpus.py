"""A corpus of bad and unusual recordings, generated on the fly (issue 9).

Each case is ``(name, path, expect)`` where ``expect`` is ``"error"`` (a one-line CuekitError)
or ``"ok"`` (a correct, perhaps degraded, result): each case has one right outcome.
"""

from __future__ import annotations

import os
import struct

import numpy as np
from mediagen import tone, write_media


def _wav_bytes(y: np.ndarray, sr: int, *, claimed_data_bytes: int | None = None,
               fmt_float: bool = False) -> bytes:
    y = np.atleast_2d(y)
    ch, n = y.shape
    if fmt_float:
        data = y.T.astype("<f4").tobytes()
        fmt_tag, bits = 3, 32
    else:
        data = (np.clip(y.T, -1, 1) * 32767).astype("<i2").tobytes()
        fmt_tag, bits = 1, 16
    size = claimed_data_bytes if claimed_data_bytes is not None else len(data)
    header = b"RIFF" + struct.pack("<I", min(size + 36, 0xFFFFFFFF)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, fmt_tag, ch, sr, sr * ch * bits // 8,
                                    ch * bits // 8, bits)
    header += b"data" + struct.pack("<I", min(size, 0xFFFFFFFF))
    return header + data


def _faces_video(path: str, n_faces: int, seconds: float = 1.0) -> str:
    import av
    import cv2
    from skimage import data

    head = data.astronaut()[20:260, 120:330, ::-1]
    cols = 3 if n_faces > 4 else 2
    rows = int(np.ceil(n_faces / cols))
    tile = cv2.resize(head, (213, 240))
    canvas = np.full((rows * 240, cols * 213, 3), 40, np.uint8)
    for i in range(n_faces):
        r, c = divmod(i, cols)
        canvas[r * 240:(r + 1) * 240, c * 213:(c + 1) * 213] = tile
    canvas = canvas[: canvas.shape[0] // 2 * 2, : canvas.shape[1] // 2 * 2]
    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = canvas.shape[1], canvas.shape[0], "yuv420p"
        for _ in range(int(seconds * 10)):
            for pkt in s.encode(av.VideoFrame.from_ndarray(canvas, format="bgr24")):
                out.mux(pkt)
        for pkt in s.encode():
            out.mux(pkt)
    return path


def build(folder: str) -> list[tuple[str, str, str]]:
    """Write every case into ``folder`` and return the list of cases."""
    os.makedirs(folder, exist_ok=True)
    p = lambda name: os.path.join(folder, name)  # noqa: E731
    cases: list[tuple[str, str, str]] = []

    def add(name, path, expect):
        cases.append((name, path, expect))

    good = write_media(p("good.mp4"), seconds=3.0)
    good_bytes = open(good, "rb").read()
    good_wav = write_media(p("good.wav"), video=False, seconds=3.0)
    wav_bytes = open(good_wav, "rb").read()

    for name, data in (("zero.mp4", b""), ("zero.wav", b"")):
        open(p(name), "wb").write(data)
        add(f"zero bytes {name}", p(name), "error")
    # the mp4 is written with its index (moov) at the end, as recorders do without faststart:
    # cut anywhere, the index is gone and no frame can be found, so the one right answer is an
    # error; a wav's samples follow its header, so a cut wav is the audio up to the cut
    assert good_bytes.find(b"moov") > good_bytes.find(b"mdat") > 0
    for frac in (0.01, 0.1, 0.5, 0.9):
        name = f"cut{int(frac * 100)}.mp4"
        open(p(name), "wb").write(good_bytes[: int(len(good_bytes) * frac)])
        add(f"mp4 truncated at {frac:.0%}", p(name), "error")
    for frac in (0.02, 0.5):
        name = f"cut{int(frac * 100)}.wav"
        open(p(name), "wb").write(wav_bytes[: max(44, int(len(wav_bytes) * frac))])
        add(f"wav truncated at {frac:.0%}", p(name), "ok")
    rng = np.random.default_rng(7)
    for ext in ("mp4", "wav", "mkv", "mp3", "webm", "mov"):
        name = f"random.{ext}"
        open(p(name), "wb").write(rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())
        add(f"random bytes .{ext}", p(name), "error")
    open(p("text.mp4"), "w").write("hello\n" * 500)
    add("text named .mp4", p("text.mp4"), "error")
    open(p("header_only.mp4"), "wb").write(good_bytes[:64])
    add("first 64 bytes of an mp4", p("header_only.mp4"), "error")

    add("audio only .m4a", write_media(p("audio.m4a"), video=False), "ok")
    add("video only .mp4", write_media(p("video_only.mp4"), audio=False), "ok")
    add("one frame", write_media(p("one_frame.mp4"), frame_times_s=[0.0], audio=False), "ok")
    gaps = np.where(np.arange(40) % 3, 0.03, 0.12)
    add("variable frame rate",
        write_media(p("vfr.mp4"), frame_times_s=list(np.round(np.cumsum(np.r_[0, gaps]), 3))),
        "ok")
    add("rotated phone video", write_media(p("rotated.mp4"), rotation_deg=90, size=(320, 240)),
        "ok")
    add("4K video", write_media(p("4k.mp4"), seconds=0.5, fps=4, size=(3840, 2160)), "ok")
    add("8 kHz mono", write_media(p("8k.wav"), video=False, sr=8000), "ok")
    add("6-channel audio", write_media(p("six.wav"), video=False, channels=6), "ok")
    add("stereo, different channels",
        write_media(p("stereo.wav"), video=False, channels=2,
                    audio_data=np.stack([tone(2, 16000, 200)[0], tone(2, 16000, 330)[0] * 0.5])),
        "ok")
    silent = np.zeros((1, 32000), np.float32)
    add("pure silence wav", write_media(p("silence.wav"), video=False, audio_data=silent), "ok")
    add("silence with video", write_media(p("silence.mp4"), audio_data=silent), "ok")
    add("0.1 s of audio", write_media(p("short.wav"), video=False, seconds=0.1), "ok")
    open(p("nan.wav"), "wb").write(_wav_bytes(
        np.where(np.arange(32000) % 100 == 0, np.nan, 0.1).astype("float32"), 16000,
        fmt_float=True))
    add("float wav with NaN samples", p("nan.wav"), "ok")
    open(p("claims_hours.wav"), "wb").write(_wav_bytes(tone(1.0, 16000)[0], 16000,
                                                      claimed_data_bytes=16000 * 2 * 3600 * 3))
    add("wav header claiming 3 hours, 1 s of data", p("claims_hours.wav"), "ok")
    add("11025 Hz audio", write_media(p("odd_rate.wav"), video=False, sr=11025), "ok")
    add("no faces (moving square)", good, "ok")
    add("six faces", _faces_video(p("six_faces.mp4"), 6), "ok")
    add("name with spaces and ünïcode", write_media(p("call ünïcode 1.mp4"), seconds=1.0), "ok")
    return cases
