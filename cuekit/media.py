"""The only module that decodes media. Uses PyAV, so no system ffmpeg is needed.

Times are seconds on the media clock, taken from container timestamps (never from
``frame_index / nominal_fps``: phone and browser recordings have a variable frame rate).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import av
import cv2
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


# Tags that are not UTF-8 (some phones, old AVIs) must not stop a recording from opening: PyAV < 19
# raises on them unless told to ignore; PyAV 19 dropped that argument and escapes them instead.
_OPEN_OPTIONS = {"metadata_errors": "ignore"} if int(av.__version__.split(".")[0]) < 19 else {}


def _open(path: str):
    try:
        return av.open(path, **_OPEN_OPTIONS)
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

    Never seeks (~20x slower) and converts to a BGR uint8 array only the frames it yields; see
    :func:`iter_pictures` for which frames are decoded. ``t`` is the frame's container timestamp
    in seconds. ``width`` rescales the output (height follows the aspect ratio); rotation
    recorded by phones is applied so faces stand upright. A damaged tail ends the stream early
    instead of raising, once at least one frame has been produced.
    """
    for t, frame in _sampled(path, step_s, start_s, end_s, skip_unsampled=True):
        yield t, _to_bgr(frame, width)


def frames_near(path: str | os.PathLike, times, *, width: int | None = None,
                max_decode: int = 50) -> list[tuple[float, np.ndarray]]:
    """One frame near each of ``times`` (seconds), found by seeking to the key frame at or
    before the time and decoding on towards it, at most ``max_decode`` frames (so with key
    frames far apart a frame may be from before the time; its own timestamp says when). For a
    cheap look across a whole call (its layout), where :func:`iter_frames` would decode it all.
    Times whose seek or decode fails are skipped; a frame reached twice is given once.
    ``(t, frame)`` pairs in time order, ``t`` the frame's own timestamp."""
    path = _check_path(path)
    out: dict[float, np.ndarray] = {}
    with _open(path) as c:
        vs = _first_decodable(c.streams.video, "video", path)
        if vs.time_base is None:
            return []
        tb = float(vs.time_base)
        start = (vs.start_time or 0) * tb
        for t in sorted(float(x) for x in times):
            last = None
            try:
                c.seek(int(round((t + start) / tb)), stream=vs, backward=True)
                for k, frame in enumerate(c.decode(vs)):
                    if frame.time is not None:
                        last = frame
                    if k + 1 >= max_decode or (last is not None and last.time + 1e-6 >= t):
                        break
            except (av.error.FFmpegError, ValueError):
                pass
            if last is not None and float(last.time) not in out:
                out[float(last.time)] = _to_bgr(last, width)
    return sorted(out.items(), key=lambda kv: kv[0])


def iter_pictures(path: str | os.PathLike, *, step_s: float, start_s: float = 0.0,
                  end_s: float | None = None, skip_unsampled: bool = True,
                  decode_threads: int | None = None, seek: bool = False,
                  ) -> Iterator[tuple[float, Picture]]:
    """Like :func:`iter_frames`, but each frame is a :class:`Picture` whose pixels are converted
    only where they are read: a region's colours, or its grey levels.

    The frame yielded for each step is the first whose timestamp reaches it. Frames that no
    other frame is predicted from and that are not yielded (most B-frames) are not decoded at
    all when ``skip_unsampled``: with 30 fps H.264 (B-frames) sampled at 10 fps a third fewer
    frames are decoded, and the frames yielded are the same as with every frame decoded.

    ``decode_threads``: None lets FFmpeg decode on as many threads as it likes (fastest alone);
    1 decodes on the calling thread only, which costs ~30% less CPU in all (no hand-offs
    between threads): the choice when other threads keep the cores busy anyway.

    ``seek``: start decoding at the last keyframe before ``start_s`` instead of at the start of
    the file (the frames yielded are the same; for a stretch deep into a long call).
    """
    for t, frame in _sampled(path, step_s, start_s, end_s, skip_unsampled=skip_unsampled,
                             threads=decode_threads, seek=seek):
        yield t, Picture.of(frame)


def _sampled(path: str | os.PathLike, step_s: float, start_s: float, end_s: float | None,
             *, skip_unsampled: bool, threads: int | None = None, seek: bool = False,
             ) -> Iterator[tuple[float, av.VideoFrame]]:
    """The decoded frames of the first video track, one every ``step_s`` (0 = every frame),
    decoded on ``threads`` threads (None = FFmpeg's choice)."""
    if not step_s >= 0:
        raise InputError(f"step_s must be >= 0, got {step_s!r}")
    if threads is not None and not (isinstance(threads, int) and threads >= 1):
        raise InputError(f"decode threads must be a whole number >= 1, got {threads!r}")
    path = _check_path(path)
    with _open(path) as c:
        vs = _first_decodable(c.streams.video, "video", path)
        vs.thread_type = "AUTO"  # frames and slices, on FFmpeg's choice of threads or ours
        if threads is not None:
            vs.codec_context.thread_count = threads
        if seek and start_s > 0 and vs.time_base is not None:
            c.seek(int(start_s / float(vs.time_base)), stream=vs, backward=True)
        wanted = _wanted_packets(vs, step_s, start_s) if skip_unsampled else None
        next_t = start_s
        produced = 0
        try:
            for packet in c.demux(vs):
                if wanted is not None:
                    # frame threads copy this setting when the packet is handed to them
                    vs.codec_context.skip_frame = "DEFAULT" if wanted(packet) else "NONREF"
                for frame in vs.codec_context.decode(packet):
                    t = frame.time
                    if t is None or t + 1e-6 < next_t:
                        continue
                    if end_s is not None and t >= end_s:
                        return
                    produced += 1
                    next_t = (np.floor((t - start_s) / step_s + 1e-6) + 1) * step_s + start_s \
                        if step_s > 0 else t
                    yield float(t), frame
        except (av.error.FFmpegError, ValueError) as e:
            if produced == 0:
                raise MediaError(f"cannot decode video of {path} ({_reason(e)})") from None


def _wanted_packets(vs, step_s: float, start_s: float):
    """A test of whether a packet's frame may be the first to reach a sampling step, or None
    (decode all) when every frame is sampled or times are unknown.

    A frame is the first to reach step k when the frame shown before it lies before step k.
    Packets come in decoding order: the frames before a B-frame in display order come before it
    in decoding order too, so the latest of the recent timestamps below its own is the frame
    before it (if that frame comes later, an earlier one is taken, and the frame is decoded)."""
    if step_s <= 0 or vs.time_base is None:
        return None
    tb = float(vs.time_base)
    recent: deque[float] = deque(maxlen=64)

    def step_of(t: float) -> float:
        return np.floor((t - start_s) / step_s + 1e-6)

    def wanted(packet) -> bool:
        if packet.pts is None:
            return True
        t = packet.pts * tb
        before = [r for r in recent if r < t]
        recent.append(t)
        return not before or step_of(max(before)) < step_of(t)
    return wanted


class Picture:
    """One decoded video frame, or a rectangle of it, whose pixels are converted on demand.

    Converting a whole 720p frame to BGR costs ~1.5 ms (FFmpeg's swscale), more than the models
    need of it: a face crop, a shrunken grey tile, a tile now and then for pose. A YUV 4:2:0
    frame (what H.264, VP8/9 and AV1 decode to) is kept as its planes and a region is converted
    with OpenCV's BT.601 I420 conversion, which gives the same pixels for a region as for the whole
    frame cut afterwards. Other pixel formats are converted whole to BGR once.

    Boxes are ``(x, y, w, h)`` in pixels of this picture (clipped to it); ``crop`` gives a
    Picture of a box, sharing the pixels, so a participant's tile is a Picture too.
    """

    def __init__(self, *, planes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 bgr: np.ndarray | None = None,
                 box: tuple[int, int, int, int] | None = None) -> None:
        self._planes, self._bgr = planes, bgr
        full_h, full_w = (planes[0] if planes is not None else bgr).shape[:2]
        self._x, self._y, self.width, self.height = box or (0, 0, full_w, full_h)

    @classmethod
    def of(cls, frame) -> Picture:
        """A Picture of an ``av.VideoFrame``, rotated upright."""
        k = _quarter_turns(frame)
        if frame.format.name != "yuv420p" or frame.width % 2 or frame.height % 2:
            return cls(bgr=_to_bgr(frame, None))
        planes = _plane_views(frame)
        if k:
            planes = tuple(np.ascontiguousarray(np.rot90(p, k)) for p in planes)
        return cls(planes=planes)

    def crop(self, box: tuple[int, int, int, int] | None) -> Picture:
        """The Picture of ``box`` (None = all of this one), sharing the pixels."""
        return Picture(planes=self._planes, bgr=self._bgr, box=self._absolute(box))

    def bgr(self, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """BGR uint8 pixels of ``box`` (None = the whole picture)."""
        return self._colour(box, cv2.COLOR_YUV2BGR_I420)

    def rgb(self, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """RGB uint8 pixels of ``box``, as the MediaPipe models take them."""
        return self._colour(box, cv2.COLOR_YUV2RGB_I420)

    def rgb_square(self, x0: float, y0: float, side: float, out_px: int,
                   angle_rad: float = 0.0) -> np.ndarray:
        """RGB uint8 ``out_px`` x ``out_px`` image of the square whose corner is (``x0``, ``y0``)
        and whose side is ``side`` pixels of this picture (fractions allowed), turned by
        ``angle_rad`` about its centre (clockwise on screen, y pointing down): see
        :meth:`rgb_affine`. Output pixel (i, j) shows the picture at
        ``centre + R(angle) @ ((j, i) * side / out_px - side / 2)``; unturned, at
        (x0 + j * side / out_px, y0 + i * side / out_px)."""
        k = side / out_px
        c, s = np.cos(angle_rad), np.sin(angle_rad)
        a = k * np.array([[c, -s], [s, c]])
        b = np.array([x0, y0]) + side / 2 - a @ np.array([out_px / 2, out_px / 2])
        return self.rgb_affine(np.hstack([a, b[:, None]]), out_px)

    def rgb_affine(self, m: np.ndarray, out_px: int) -> np.ndarray:
        """RGB uint8 ``out_px`` x ``out_px`` image whose pixel (i, j) shows this picture at
        ``m @ (j, i, 1)`` (``m``: 2 x 3, output pixels to picture pixels), resampled bilinearly;
        what lies outside this picture is black.

        A YUV 4:2:0 picture is resampled plane by plane (the chroma planes at half size) and
        only the output is converted: ~0.5 ms for a 256 px crop of a ~600 px square, against
        ~1.4 ms for converting the square's pixels first and resampling after (what pictures
        of other pixel formats do)."""
        a, b = m[:, :2], m[:, 2]
        corners = np.array([[0, 0], [out_px, 0], [0, out_px], [out_px, out_px]]) @ a.T + b
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        # the part of this picture (frame pixels) the output covers, with a margin of 2
        sx = max(self._x, self._x + int(np.floor(lo[0])) - 2)
        sy = max(self._y, self._y + int(np.floor(lo[1])) - 2)
        ex = min(self._x + self.width, self._x + int(np.ceil(hi[0])) + 2)
        ey = min(self._y + self.height, self._y + int(np.ceil(hi[1])) + 2)
        if ex <= sx or ey <= sy:
            return np.zeros((out_px, out_px, 3), np.uint8)
        bf = b + (self._x, self._y)  # output pixel -> frame pixel: a @ o + bf
        if self._planes is None or out_px % 2:
            rgb = self.rgb((sx - self._x, sy - self._y, ex - sx, ey - sy))
            rgb = cv2.warpAffine(rgb, np.hstack([a, (bf - (sx, sy))[:, None]]), (out_px, out_px),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_CONSTANT)
        else:
            rgb = self._planes_affine(a, bf, (sx, sy, ex, ey), out_px)
        if lo.min() >= 0 and hi[0] <= self.width - 1 and hi[1] <= self.height - 1:
            return rgb  # wholly inside (the usual face crop): nothing to black out
        # where the samples lie a pixel or more beyond the picture, chroma (sampled at half
        # the resolution) still fades towards grey: black there, as converting first gives
        pos = np.arange(out_px)
        if a[0, 1] == 0 and a[1, 0] == 0:  # unturned: rows and columns apart
            ys, xs = a[1, 1] * pos + b[1], a[0, 0] * pos + b[0]
            rgb[(ys <= -1) | (ys >= self.height)] = 0
            rgb[:, (xs <= -1) | (xs >= self.width)] = 0
        else:
            px = a[0, 0] * pos[None, :] + a[0, 1] * pos[:, None] + b[0]
            py = a[1, 0] * pos[None, :] + a[1, 1] * pos[:, None] + b[1]
            rgb[(px <= -1) | (px >= self.width) | (py <= -1) | (py >= self.height)] = 0
        return rgb

    def _planes_affine(self, a: np.ndarray, bf: np.ndarray, region: tuple[int, int, int, int],
                       out_px: int) -> np.ndarray:
        """:meth:`rgb_affine` of a YUV 4:2:0 picture, plane by plane within ``region`` (frame
        pixels ``sx, sy, ex, ey``); ``a @ o + bf`` maps an output pixel to a frame pixel."""
        sx, sy, ex, ey = region
        yp, up, vp = self._planes
        inverse = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        m = np.hstack([a, (bf - (sx, sy))[:, None]])
        luma = cv2.warpAffine(yp[sy:ey, sx:ex], m, (out_px, out_px), flags=inverse,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=16)
        # chroma sample c covers luma 2c and 2c + 1 (centre 2c + 0.5), in and out alike:
        # out chroma oc is out luma 2 oc + 0.5, and frame luma f is chroma (f - 0.5) / 2
        csx, csy, cex, cey = sx // 2, sy // 2, (ex + 1) // 2, (ey + 1) // 2
        mc = np.hstack([a, ((a @ (0.5, 0.5) + bf - 0.5) / 2 - (csx, csy))[:, None]])
        half = (out_px // 2, out_px // 2)
        u, v = (cv2.warpAffine(p[csy:cey, csx:cex], mc, half, flags=inverse,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=128)
                for p in (up, vp))
        i420 = np.concatenate([luma.ravel(), u.ravel(), v.ravel()])
        return cv2.cvtColor(i420.reshape(out_px * 3 // 2, out_px), cv2.COLOR_YUV2RGB_I420)

    def gray(self, box: tuple[int, int, int, int] | None = None, *, shrink: int = 1
             ) -> np.ndarray:
        """Grey levels 0..255 of ``box`` (``cv2.COLOR_BGR2GRAY`` of its colours, within a few
        levels): the luma plane stretched from video range (16..235) to full range.

        ``shrink`` > 1: each ``shrink`` x ``shrink`` block averaged into one pixel (the box cut
        down to whole blocks), before the stretch: ~0.4 ms for a 640x720 tile shrunk 4x,
        against ~1 ms for resizing it to a width that is not a whole fraction of its own."""
        x, y, w, h = self._absolute(box)
        if self._planes is None:
            grey = cv2.cvtColor(self._bgr[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
            return shrink_blocks(grey, shrink)
        return cv2.LUT(shrink_blocks(self._planes[0][y:y + h, x:x + w], shrink), _FULL_RANGE)

    def _absolute(self, box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
        if box is None:
            return self._x, self._y, self.width, self.height
        x, y, w, h = (int(v) for v in box)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            raise InputError(f"box {tuple(box)} lies outside the {self.width}x{self.height} picture")
        return self._x + x0, self._y + y0, x1 - x0, y1 - y0

    def _colour(self, box, code: int) -> np.ndarray:
        x, y, w, h = self._absolute(box)
        if self._planes is None:
            out = self._bgr[y:y + h, x:x + w]
            return np.ascontiguousarray(out[..., ::-1]) if code == cv2.COLOR_YUV2RGB_I420 else out
        # 4:2:0 chroma covers 2x2 pixels: convert the even-aligned region around the box
        yp, up, vp = self._planes
        x0, y0 = x - x % 2, y - y % 2
        x1, y1 = min(yp.shape[1], x + w + (x + w) % 2), min(yp.shape[0], y + h + (y + h) % 2)
        cx, cy = slice(x0 // 2, x1 // 2), slice(y0 // 2, y1 // 2)
        i420 = np.concatenate([yp[y0:y1, x0:x1].ravel(), up[cy, cx].ravel(), vp[cy, cx].ravel()])
        out = cv2.cvtColor(i420.reshape((y1 - y0) * 3 // 2, x1 - x0), code)
        return out[y - y0:y - y0 + h, x - x0:x - x0 + w]


def _plane_views(frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes of a YUV 4:2:0 ``av.VideoFrame`` as arrays that view the decoder's
    own buffers (each row padded to the plane's line size; the arrays keep the frame alive):
    copying them, as ``to_ndarray`` does, cost ~0.5 ms a 720p frame."""
    out = []
    for plane in frame.planes:
        if plane.line_size < plane.width:  # a bottom-up frame (negative line size): copy
            i420, h, w = frame.to_ndarray(), frame.height, frame.width
            return (i420[:h], i420[h:h + h // 4].reshape(h // 2, w // 2),
                    i420[h + h // 4:].reshape(h // 2, w // 2))
        rows = np.frombuffer(plane, np.uint8)[:plane.line_size * plane.height]
        out.append(rows.reshape(plane.height, plane.line_size)[:, :plane.width])
    return tuple(out)


def shrink_blocks(img: np.ndarray, k: int) -> np.ndarray:
    """``img`` with each ``k`` x ``k`` block averaged into one pixel (OpenCV's exact whole-factor
    area resize): a side is first cut down to whole blocks; a side shorter than ``k`` is one
    block. ``k`` <= 1 gives ``img`` itself."""
    if k <= 1:
        return img
    h, w = img.shape[:2]
    h, w = (h - h % k if h >= k else h), (w - w % k if w >= k else w)
    return cv2.resize(img[:h, :w], (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)


# video-range luma (16..235) to full-range grey (0..255)
_FULL_RANGE = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)


def _quarter_turns(frame) -> int:
    """Counter-clockwise quarter turns that stand a phone recording's frame upright."""
    rot = int(getattr(frame, "rotation", 0) or 0) % 360
    return {90: 1, 180: 2, 270: 3}.get(rot, 0)


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
    k = _quarter_turns(frame)  # PyAV reports the counter-clockwise turn that displays it upright
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


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
