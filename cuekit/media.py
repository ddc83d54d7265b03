"""The only module that decodes media. Uses PyAV, so no system ffmpeg is needed.

Times are seconds on the media clock, taken from container timestamps (never from
``frame_index / nominal_fps``: phone and browser recordings have a variable frame rate).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import av
import numpy as np

from .errors import InputError, MediaError

VIDEO_EXTENSIONS = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac"}
_VFR_PACKETS = 600  # packets read by probe() to judge whether the frame rate varies


@dataclass(frozen=True)
class MediaInfo:
    """What ``probe`` learns about a file without decoding it."""

    path: str
    format: str
    duration_s: float
    size_bytes: int
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps_avg: float = 0.0
    fps_variable: bool = False
    rotation_deg: int = 0
    audio_streams: int = 0
    audio_sample_rate: int = 0
    audio_channels: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _check_path(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MediaError(f"no such file: {path}")
    if os.path.isdir(path):
        raise MediaError(f"is a directory, not a media file: {path}")
    if os.path.getsize(path) == 0:
        raise MediaError(f"empty file (0 bytes): {path}")
    return path


def _open(path: str):
    try:
        return av.open(path, metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise MediaError(f"cannot read {path}: not a recording, or damaged ({_reason(e)})") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise MediaError(f"cannot read {path}: not a recording, or damaged ({e})") from None


def _reason(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return msg.split(":")[0].strip() if msg else type(e).__name__


def probe(path: str | os.PathLike) -> MediaInfo:
    """Describe a media file: duration, video size and frame rate, audio rate and channels.

    Reads packets of the first seconds but decodes at most one video frame (for its rotation).
    Raises :class:`MediaError` for a missing, empty or unreadable file, or one with neither an
    audio nor a video track.
    """
    path = _check_path(path)
    with _open(path) as c:
        # a stream whose codec FFmpeg does not know has no codec context: it is unusable
        videos = [v for v in c.streams.video if v.codec_context is not None]
        aus = [a for a in c.streams.audio if a.codec_context is not None]
        vs = videos[0] if videos else None
        if vs is None and not aus:
            raise MediaError(f"no audio or video track in {path} (truncated, or not a recording?)")
        info = {"path": path, "format": c.format.name, "duration_s": _duration_s(c),
                "size_bytes": os.path.getsize(path), "has_video": vs is not None,
                "has_audio": bool(aus), "audio_streams": len(aus)}
        if aus:
            a = aus[0]
            info.update(audio_sample_rate=int(a.codec_context.sample_rate or a.rate or 0),
                        audio_channels=int(a.codec_context.channels or 0))
        if vs is not None:
            cc = vs.codec_context
            if not (cc.width and cc.height):
                raise MediaError(f"video track of {path} has no frame size (damaged header?)")
            fps_avg, variable, rotation = _scan_video(c, vs)
            info.update(width=int(cc.width), height=int(cc.height), fps_avg=fps_avg,
                        fps_variable=variable, rotation_deg=rotation)
    return MediaInfo(**info)


def _duration_s(c) -> float:
    if c.duration is not None and c.duration > 0:
        return float(c.duration / av.time_base)
    best = 0.0
    for s in c.streams:
        if s.duration is not None and s.time_base is not None:
            best = max(best, float(s.duration * s.time_base))
    return best


def _scan_video(c, vs) -> tuple[float, bool, int]:
    """Average fps, whether frame intervals vary, and the display rotation (degrees), from the
    first packets' timestamps and the first decodable frame. Never seeks (damaged files may not
    allow it); a damaged stretch ends the scan."""
    pts: list[int] = []
    rotation = None
    try:
        for pkt in c.demux(vs):
            if pkt.pts is not None:
                pts.append(pkt.pts)
            if rotation is None and pkt.size:
                for frame in vs.codec_context.decode(pkt):
                    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                    break
            if len(pts) >= _VFR_PACKETS:
                break
    except (av.error.FFmpegError, ValueError):
        pass
    fps, variable = _frame_rate(pts, vs)
    return fps, variable, rotation or 0


def _frame_rate(pts: list[int], vs) -> tuple[float, bool]:
    if len(pts) >= 3 and vs.time_base is not None:
        t = np.sort(np.asarray(pts, dtype="float64")) * float(vs.time_base)
        d = np.diff(t)
        d = d[d > 0]
        if len(d):
            med = float(np.median(d))
            variable = bool(np.mean(np.abs(d - med) > 0.25 * med) > 0.05)
            return round(1.0 / float(np.mean(d)), 3), variable
    rate = vs.average_rate or vs.base_rate
    return (float(rate) if rate else 0.0), False


def iter_frames(path: str | os.PathLike, *, step_s: float, width: int | None = None,
                start_s: float = 0.0, end_s: float | None = None,
                ) -> Iterator[tuple[float, np.ndarray]]:
    """Stream ``(t, frame)`` pairs, one frame every ``step_s`` seconds of media time.

    Decodes every frame once (no seeking, which is ~20x slower) but converts to a BGR uint8
    array only the frames it yields. ``t`` is the frame's container timestamp in seconds.
    ``width`` rescales the output (height follows the aspect ratio); rotation recorded by
    phones is applied so faces stand upright. A damaged tail ends the stream early instead of
    raising, once at least one frame has been produced.
    """
    if not step_s >= 0:
        raise InputError(f"step_s must be >= 0, got {step_s!r}")
    path = _check_path(path)
    with _open(path) as c:
        vs = _first_decodable(c.streams.video, "video", path)
        vs.thread_type = "AUTO"
        next_t = start_s
        produced = 0
        try:
            for frame in c.decode(vs):
                t = frame.time
                if t is None:
                    continue
                if end_s is not None and t >= end_s:
                    break
                if t + 1e-6 < next_t:
                    continue
                img = _to_bgr(frame, width)
                produced += 1
                next_t = (np.floor((t - start_s) / step_s + 1e-6) + 1) * step_s + start_s \
                    if step_s > 0 else t
                yield float(t), img
        except (av.error.FFmpegError, ValueError) as e:
            if produced == 0:
                raise MediaError(f"cannot decode video of {path} ({_reason(e)})") from None


def _first_decodable(streams, kind: str, path: str):
    """The first stream of ``kind`` whose codec FFmpeg knows (others have no codec context)."""
    for st in streams:
        if st.codec_context is not None:
            return st
    raise MediaError(f"no {kind} track in {path}")


def _to_bgr(frame, width: int | None) -> np.ndarray:
    if width:
        height = int(round(frame.height * width / frame.width / 2)) * 2
        img = frame.to_ndarray(format="bgr24", width=int(width), height=height)
    else:
        img = frame.to_ndarray(format="bgr24")
    rot = int(getattr(frame, "rotation", 0) or 0) % 360
    if rot:
        # PyAV reports the counter-clockwise rotation needed to display the frame upright.
        k = {90: 1, 180: 2, 270: 3}.get(rot, 0)
        img = np.ascontiguousarray(np.rot90(img, k))
    return img


_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _layout_name(layout, channels: int) -> str:
    """The stream's own channel layout, or a standard one with as many channels."""
    if layout is not None and getattr(layout, "nb_channels", 0) == channels:
        return layout.name
    if channels not in _LAYOUTS:
        raise MediaError(f"audio with {channels} channels is not supported")
    return _LAYOUTS[channels]


def load_audio(path: str | os.PathLike, *, sr: int, mono: bool = True,
               end_s: float | None = None) -> np.ndarray:
    """Decode the first audio track to float32 at ``sr`` Hz (up to about ``end_s`` seconds of
    media time when given: decoding stops at the first frame past it).

    Returns shape ``(n,)`` when ``mono`` else ``(channels, n)``. Sample ``i`` is at media time
    ``i / sr``: a track that starts late is padded with zeros at the front. A damaged tail ends
    the audio early instead of raising, once some audio was decoded.
    """
    if not (isinstance(sr, int) and 1000 <= sr <= 192000):
        raise InputError(f"sr must be an integer sample rate in 1000..192000 Hz, got {sr!r}")
    path = _check_path(path)
    with _open(path) as c:
        st = _first_decodable(c.streams.audio, "audio", path)
        channels = max(1, int(st.codec_context.channels or 1))
        layout = "mono" if mono else _layout_name(st.codec_context.layout, channels)
        resampler, fmt = None, None
        duration_s = _duration_s(c) if end_s is None else min(_duration_s(c), end_s)
        out = _AudioBuffer(1 if mono else channels,
                           _plausible_samples(duration_s, os.path.getsize(path), sr))
        try:
            for frame in c.decode(st):
                if end_s is not None and frame.time is not None and frame.time > end_s:
                    break
                if out.start_s is None and frame.time is not None:
                    out.start_at(float(frame.time), sr)
                key = (frame.format.name, frame.layout.name, frame.sample_rate)
                if key != fmt:  # a stream whose format changes midway (damaged or spliced)
                    if resampler is not None:
                        out.extend(resampler.resample(None))
                    resampler, fmt = av.AudioResampler(format="fltp", layout=layout, rate=sr), key
                out.extend(resampler.resample(frame))
        except (av.error.FFmpegError, ValueError) as e:
            if not out.n:
                raise MediaError(f"cannot decode audio of {path} ({_reason(e)})") from None
        if resampler is not None:
            try:
                out.extend(resampler.resample(None))
            except (av.error.FFmpegError, ValueError):
                pass
    y = out.samples()
    return y[0] if mono else y


def _plausible_samples(duration_s: float, size_bytes: int, sr: int) -> int:
    """Samples to reserve: the header's duration, but no more than the file could hold at
    500 bytes a second (4 kbit/s, below any real speech codec), so a header claiming hours over
    a few kilobytes reserves seconds, not gigabytes."""
    return int(min(max(duration_s, 1.0), size_bytes / 500.0) * sr) + sr


class _AudioBuffer:
    """Decoded audio gathered in one preallocated float32 array (growing by half when the
    header's length was short), so a long call needs its audio's size once, not twice.
    Sample ``i`` is at media time ``i / sr``: a late first frame leaves zeros in front."""

    def __init__(self, channels: int, capacity: int):
        self.buf = np.zeros((channels, max(capacity, 1)), dtype="float32")
        self.n = 0
        self.skip = 0  # samples before media time 0 (a negative first timestamp) to drop
        self.start_s = None

    def start_at(self, t_s: float, sr: int) -> None:
        """Place the first decoded sample at media time ``t_s`` (once, before any sample)."""
        self.start_s = t_s
        if self.n:
            return
        offset = int(round(t_s * sr))
        self.n, self.skip = max(offset, 0), max(-offset, 0)
        self._reserve(self.n)

    def extend(self, frames) -> None:
        for f in frames:
            a = f.to_ndarray()
            drop = min(self.skip, a.shape[1])
            a, self.skip = a[:, drop:], self.skip - drop
            self._reserve(self.n + a.shape[1])
            self.buf[:, self.n:self.n + a.shape[1]] = a
            self.n += a.shape[1]

    def _reserve(self, n: int) -> None:
        if n > self.buf.shape[1]:
            grown = np.zeros((self.buf.shape[0], max(n, self.buf.shape[1] * 3 // 2)),
                             dtype="float32")
            grown[:, :self.n] = self.buf[:, :self.n]
            self.buf = grown

    def samples(self) -> np.ndarray:
        if self.n == self.buf.shape[1]:
            return self.buf
        return self.buf[:, :self.n].copy() if self.n < self.buf.shape[1] // 2 else \
            self.buf[:, :self.n]
