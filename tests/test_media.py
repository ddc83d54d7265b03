import numpy as np
import pytest
from mediagen import frame_at, tone, write_media

from cuekit import media
from cuekit.errors import InputError, MediaError

VIDEO_EXTS = ["mp4", "mov", "mkv", "webm", "avi"]
AUDIO_EXTS = ["wav", "flac", "mp3", "m4a", "ogg"]


def _square_x(img: np.ndarray) -> int:
    """x of the white square drawn by mediagen.frame_at (its left edge)."""
    cols = np.flatnonzero(img[50, :, 0] > 200)
    return int(cols[0]) if len(cols) else -1


@pytest.mark.parametrize("ext", VIDEO_EXTS)
def test_video_containers_probe_frames_and_audio(tmp_path, ext):
    path = write_media(str(tmp_path / f"a.{ext}"), seconds=2.0, fps=10)
    info = media.probe(path)
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (160, 120)
    assert info.duration_s == pytest.approx(2.0, abs=0.15)
    assert info.fps_avg == pytest.approx(10.0, rel=0.1)
    frames = list(media.iter_frames(path, step_s=0.1))
    assert len(frames) == 20
    times = [t for t, _ in frames]
    assert times == sorted(times) and times[0] == pytest.approx(0.0, abs=0.01)
    # the frame yielded at t shows the square drawn for frame index round(t * fps); PyAV's AVI
    # muxer leaves an empty slot after the first frame when writing, so AVI is checked by count
    for t, img in (frames[::5] if ext != "avi" else []):
        assert abs(_square_x(img) - _square_x(frame_at(round(t * 10)))) <= 2
    y = media.load_audio(path, sr=16000)
    assert y.dtype == np.float32 and abs(len(y) / 16000 - 2.0) < 0.1


@pytest.mark.parametrize("ext", AUDIO_EXTS)
def test_audio_only_files(tmp_path, ext):
    sr = 48000 if ext == "ogg" else 16000
    path = write_media(str(tmp_path / f"a.{ext}"), video=False, sr=sr)
    info = media.probe(path)
    assert info.has_audio and not info.has_video and info.duration_s == pytest.approx(2.0, abs=0.1)
    y = media.load_audio(path, sr=16000)
    assert abs(len(y) / 16000 - 2.0) < 0.1
    with pytest.raises(MediaError, match="no video track"):
        next(media.iter_frames(path, step_s=0.1))


@pytest.mark.parametrize("sr_in", [8000, 11025, 22050, 44100, 48000])
def test_odd_sample_rates_resample_to_the_right_pitch(tmp_path, sr_in):
    path = write_media(str(tmp_path / "a.wav"), video=False, sr=sr_in,
                       audio_data=tone(2.0, sr_in, freq_hz=440.0))
    y = media.load_audio(path, sr=16000)
    assert abs(len(y) - 32000) <= 16
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / 16000)[np.argmax(spectrum)] == pytest.approx(440, abs=2)


def test_stereo_channels_kept_apart(tmp_path):
    y = np.stack([tone(1.0, 16000, 200)[0], tone(1.0, 16000, 300)[0]])
    path = write_media(str(tmp_path / "s.wav"), video=False, channels=2, audio_data=y)
    assert media.probe(path).audio_channels == 2
    out = media.load_audio(path, sr=16000, mono=False)
    assert out.shape[0] == 2
    peaks = [np.fft.rfftfreq(out.shape[1], 1 / 16000)[np.argmax(np.abs(np.fft.rfft(c)))]
             for c in out]
    assert peaks == [pytest.approx(200, abs=2), pytest.approx(300, abs=2)]


def test_variable_frame_rate_uses_container_timestamps(tmp_path):
    gaps = np.where(np.arange(59) % 2, 0.02, 0.08)  # alternating 20 ms / 80 ms frames
    times = list(np.round(np.cumsum(np.r_[0.0, gaps]), 3))
    path = write_media(str(tmp_path / "vfr.mp4"), frame_times_s=times)
    info = media.probe(path)
    assert info.fps_variable
    out = [t for t, _ in media.iter_frames(path, step_s=0.0)]
    assert np.allclose(out, times, atol=0.002)
    # index/nominal-fps would drift: the last frame is at 2.9 s, not 59/20 = 2.95 s
    assert out[-1] == pytest.approx(times[-1], abs=0.002)


def test_step_and_width(tmp_path):
    path = write_media(str(tmp_path / "a.mp4"), seconds=3.0, fps=10)
    frames = list(media.iter_frames(path, step_s=0.5, width=80))
    assert len(frames) == 6
    assert frames[0][1].shape == (60, 80, 3)
    assert [round(t, 2) for t, _ in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_rotation_is_applied(tmp_path):
    path = write_media(str(tmp_path / "r.mp4"), rotation_deg=90)
    assert media.probe(path).rotation_deg in (90, 270)
    _, img = next(media.iter_frames(path, step_s=1.0))
    assert img.shape[:2] == (160, 120)


def test_tags_that_are_not_utf8_do_not_stop_a_file_from_opening(tmp_path):
    """Some recorders write tags in another encoding: PyAV < 19 raises on them unless told to
    ignore them, PyAV 19 has no such option (and does not raise)."""
    import av

    good = tmp_path / "tagged.mkv"
    with av.open(str(good), "w") as c:
        c.metadata["title"] = "TITLETAG"
        vs = c.add_stream("mpeg4", rate=10)
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        vs.metadata["comment"] = "STREAMTG"
        for i in range(10):
            for packet in vs.encode(av.VideoFrame.from_ndarray(frame_at(i), format="rgb24")):
                c.mux(packet)
        c.mux(vs.encode())
    data = good.read_bytes()
    assert data.count(b"TITLETAG") == 1 and data.count(b"STREAMTG") == 1
    bad = tmp_path / "latin1.mkv"
    latin1 = b"\xe9t\xe9\xff\xfeABC"  # same length as the tags it replaces
    bad.write_bytes(data.replace(b"TITLETAG", latin1).replace(b"STREAMTG", latin1))
    info = media.probe(bad)
    assert info.has_video and (info.width, info.height) == (160, 120)
    assert len(list(media.iter_pictures(bad, step_s=0.1))) == 10


def test_bad_arguments():
    with pytest.raises(InputError, match="sr must be"):
        media.load_audio(__file__, sr=0)
    with pytest.raises(InputError, match="step_s"):
        next(media.iter_frames(__file__, step_s=-1))


def test_audio_is_placed_on_the_media_clock_and_sized_by_its_data(tmp_path):
    import struct

    # a WAV header claiming 3 hours over 1 s of samples: 1 s comes back, nothing huge reserved
    data = (tone(1.0, 16000)[0] * 32767).astype("<i2").tobytes()
    claimed = 16000 * 2 * 3600 * 3
    header = (b"RIFF" + struct.pack("<I", claimed + 36) + b"WAVE" + b"fmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data"
              + struct.pack("<I", claimed))
    p = tmp_path / "claims.wav"
    p.write_bytes(header + data)
    assert abs(len(media.load_audio(str(p), sr=16000)) - 16000) < 200
    assert media._plausible_samples(10800.0, len(header + data), 16000) < 16000 * 100


def test_load_audio_can_stop_early(tmp_path):
    path = write_media(str(tmp_path / "long.wav"), video=False, seconds=5.0)
    y = media.load_audio(path, sr=16000, end_s=1.0)
    assert 16000 <= len(y) < 16000 * 1.2


def test_picture_regions_are_the_whole_frame_converted_then_cut():
    from conftest import SAMPLE_CALL
    import cv2

    _, pic = next(media.iter_pictures(SAMPLE_CALL, step_s=1.0, start_s=10.0))
    whole = pic.bgr()
    assert whole.shape == (pic.height, pic.width, 3)
    for box in [(0, 0, 640, 720), (641, 3, 101, 99), (1275, 715, 50, 50), (-7, -3, 20, 20)]:
        x0, y0 = max(0, box[0]), max(0, box[1])
        want = whole[y0:box[1] + box[3], x0:box[0] + box[2]]
        np.testing.assert_array_equal(pic.bgr(box), want)
        np.testing.assert_array_equal(pic.rgb(box), want[..., ::-1])
    tile = pic.crop((640, 0, 640, 720))
    assert (tile.width, tile.height) == (640, 720)
    np.testing.assert_array_equal(tile.rgb((10, 20, 30, 40)), whole[20:60, 650:680, ::-1])
    grey = cv2.cvtColor(whole, cv2.COLOR_BGR2GRAY).astype(int)
    diff = np.abs(pic.gray().astype(int) - grey)
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 2
    with pytest.raises(InputError, match="outside"):
        pic.bgr((2000, 0, 10, 10))


def test_picture_of_other_pixel_formats_and_rotated_frames(tmp_path):
    mjpeg = write_media(str(tmp_path / "a.avi"), seconds=1.0, fps=10)  # full-range yuvj420p
    for (_, pic), (_, bgr) in zip(media.iter_pictures(mjpeg, step_s=0.5),
                                  media.iter_frames(mjpeg, step_s=0.5), strict=True):
        np.testing.assert_array_equal(pic.bgr(), bgr)
        np.testing.assert_array_equal(pic.rgb((5, 5, 20, 10)), bgr[5:15, 5:25, ::-1])
    rotated = write_media(str(tmp_path / "r.mp4"), rotation_deg=90)
    (_, pic), (_, bgr) = next(media.iter_pictures(rotated, step_s=1.0)), \
        next(media.iter_frames(rotated, step_s=1.0))
    assert (pic.height, pic.width) == bgr.shape[:2] == (160, 120)
    assert np.abs(pic.bgr().astype(int) - bgr).mean() < 3   # OpenCV's and FFmpeg's conversions


def test_unsampled_frames_are_not_decoded_and_the_sampled_ones_are_the_same():
    import av
    from conftest import SAMPLE_CALL

    plain = list(media.iter_pictures(SAMPLE_CALL, step_s=0.1, end_s=20.0, skip_unsampled=False))
    fast = list(media.iter_pictures(SAMPLE_CALL, step_s=0.1, end_s=20.0))
    assert [t for t, _ in fast] == [t for t, _ in plain] and len(fast) == 200
    for (_, a), (_, b) in zip(fast[::20], plain[::20], strict=True):
        np.testing.assert_array_equal(a.bgr(), b.bgr())
    decoded = {}
    for skip in (False, True):  # count the frames FFmpeg decodes, as _sampled drives it
        with av.open(SAMPLE_CALL) as c:
            vs = c.streams.video[0]
            wanted = media._wanted_packets(vs, 0.1, 0.0)
            n = 0
            for packet in c.demux(vs):
                vs.codec_context.skip_frame = "NONREF" if skip and not wanted(packet) else "DEFAULT"
                n += len(vs.codec_context.decode(packet))
        decoded[skip] = n
    assert decoded[True] < 0.8 * decoded[False]   # the sample call: 1068 of 1488


def test_skipping_frames_of_a_variable_rate_video_keeps_times_near(tmp_path):
    gaps = np.where(np.arange(59) % 3, 0.02, 0.09)
    times = list(np.round(np.cumsum(np.r_[0.0, gaps]), 3))
    path = write_media(str(tmp_path / "vfr.mp4"), frame_times_s=times)
    plain = [t for t, _ in media.iter_pictures(path, step_s=0.1, skip_unsampled=False)]
    fast = [t for t, _ in media.iter_pictures(path, step_s=0.1)]
    assert len(fast) == len(plain)
    assert np.max(np.abs(np.subtract(fast, plain))) <= 0.09 + 1e-6   # at most the next frame


def test_square_crops_resampled_from_the_planes_match_converting_first():
    """A face crop resampled plane by plane (then converted) shows what converting the pixels
    first and resampling after shows: same place, colours within a grey level on average,
    black outside the picture, nothing from beyond a tile's edge."""
    from conftest import SAMPLE_CALL

    _, pic = next(media.iter_pictures(SAMPLE_CALL, step_s=1.0, start_s=12.0))
    whole = media.Picture(bgr=pic.bgr())
    for box, (x0, y0, side) in [((8, 8, 628, 704), (20.3, -5.7, 594.2)),
                                ((644, 8, 628, 704), (400.5, 300.2, 300.0)),
                                ((644, 8, 628, 704), (150.25, 200.75, 90.0))]:
        planes = pic.crop(box).rgb_square(x0, y0, side, 256)
        converted = whole.crop(box).rgb_square(x0, y0, side, 256)
        assert planes.shape == converted.shape == (256, 256, 3)
        diff = np.abs(planes.astype(int) - converted.astype(int))
        assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 12, (box, diff.mean())
        # the same place: shifting either by half a pixel makes them differ more
        grey = lambda rgb: rgb.astype(float).mean(axis=2)[8:-8, 8:-8]
        shifted = pic.crop(box).rgb_square(x0 + 0.5, y0, side, 256)
        assert np.abs(grey(shifted) - grey(converted)).mean() > 3 * np.abs(
            grey(planes) - grey(converted)).mean()
    # a square reaching past the left tile's right edge: black there, not the other tile
    left = pic.crop((0, 0, 640, 720)).rgb_square(400.0, 100.0, 400.0, 256)
    assert left[:, 160:].max() == 0 and left[:, :140].max() > 0
    # a square wholly outside is black; an odd size is converted first, the same picture
    assert pic.crop((0, 0, 640, 720)).rgb_square(700.0, 0.0, 50.0, 64).max() == 0
    odd = pic.rgb_square(100.0, 100.0, 200.0, 255)
    assert odd.shape == (255, 255, 3) and np.abs(odd.astype(int) - whole.rgb_square(
        100.0, 100.0, 200.0, 255).astype(int)).max() == 0


def test_turned_square_crops_show_the_turned_square():
    """A square turned by an angle about its centre shows what turning the whole picture about
    that centre, then cutting the square upright, shows (plane by plane and converted first
    alike); outside the picture is black; a quarter turn shows the upright crop turned a
    quarter the other way."""
    import cv2
    from conftest import SAMPLE_CALL

    _, pic = next(media.iter_pictures(SAMPLE_CALL, step_s=1.0, start_s=12.0))
    whole = media.Picture(bgr=pic.bgr())
    cx, cy, side, out = 320.0, 300.0, 300.0, 256
    for deg in (-25.0, 10.0, 40.0):
        # reference: rotate the whole picture by -deg about the centre (cv2 angles are
        # counter-clockwise on screen), then the upright square
        m = cv2.getRotationMatrix2D((cx, cy), deg, 1.0)
        turned = cv2.warpAffine(pic.rgb(), m, (pic.width, pic.height), flags=cv2.INTER_LINEAR)
        want = media.Picture(bgr=turned[:, :, ::-1].copy()).rgb_square(cx - side / 2, cy - side / 2,
                                                                      side, out)
        for source in (pic, whole):
            got = source.rgb_square(cx - side / 2, cy - side / 2, side, out, np.deg2rad(deg))
            diff = np.abs(got.astype(int) - want.astype(int))[8:-8, 8:-8]
            assert diff.mean() < 2.0, (deg, diff.mean())
        wrong = pic.rgb_square(cx - side / 2, cy - side / 2, side, out, np.deg2rad(-deg))
        assert np.abs(wrong.astype(int) - want.astype(int))[8:-8, 8:-8].mean() > 10
    quarter = pic.rgb_square(100.0, 100.0, 200.0, 128, np.pi / 2)
    upright = pic.rgb_square(100.0, 100.0, 200.0, 128)
    # output pixel j samples the picture at j * side / out from the corner (not at the pixel's
    # centre), so a quarter turn lands one output pixel over: compare with that shift
    assert np.abs(quarter[1:].astype(int) - np.rot90(upright, 1)[:-1].astype(int))[
        4:-4, 4:-4].mean() < 2.0
    corner = pic.crop((0, 0, 640, 720)).rgb_square(-150.0, -150.0, 300.0, 128, 0.3)
    assert corner[:20, :20].max() == 0 and corner[100:, 100:].max() > 0


def test_grey_shrunk_by_whole_blocks():
    from conftest import SAMPLE_CALL

    _, pic = next(media.iter_pictures(SAMPLE_CALL, step_s=1.0, start_s=12.0))
    full = pic.gray((8, 8, 628, 704)).astype(float)
    small = pic.gray((8, 8, 628, 704), shrink=4)
    assert small.shape == (176, 157)
    blocks = full[:704, :628].reshape(176, 4, 157, 4).mean(axis=(1, 3))
    err = np.abs(small - blocks)   # stretched (x255/219, clipped) after averaging, not before
    assert err.mean() < 0.5 and err.max() <= 3
    assert pic.gray(shrink=1).shape == (720, 1280)


def test_decoding_on_one_thread_gives_the_same_frames():
    from conftest import SAMPLE_CALL

    many = list(media.iter_pictures(SAMPLE_CALL, step_s=0.5, end_s=10.0))
    one = list(media.iter_pictures(SAMPLE_CALL, step_s=0.5, end_s=10.0, decode_threads=1))
    assert [t for t, _ in one] == [t for t, _ in many] and len(one) == 20
    for (_, a), (_, b) in zip(one, many, strict=True):
        np.testing.assert_array_equal(a.gray(), b.gray())
    with pytest.raises(InputError, match="decode threads"):
        next(media.iter_pictures(SAMPLE_CALL, step_s=0.5, decode_threads=0))


def test_square_crops_of_synthetic_planes_are_exact_where_converting_first_is():
    """Known planes: smooth colour ramps and a saturated edge. Inside, the plane path is within
    a grey level or two of converting first (chroma resampled at half size); a pixel or more
    beyond the picture's edge it is black, as converting first gives, without a coloured
    fringe."""
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w]
    luma = (40 + 1.5 * xx + yy).astype(np.uint8)
    u = np.full((h // 2, w // 2), 110, np.uint8) + np.arange(w // 2, dtype=np.uint8)[None, :] // 2
    v = np.full((h // 2, w // 2), 150, np.uint8) - np.arange(h // 2, dtype=np.uint8)[:, None]
    pic = media.Picture(planes=(luma, u, v))
    whole = media.Picture(bgr=pic.bgr())
    for box, square in [((0, 0, 96, 64), (10.25, 5.5, 40.0)), ((0, 0, 52, 64), (40.0, 10.0, 16.0)),
                        ((20, 6, 50, 40), (-7.5, -3.0, 30.0))]:
        a = pic.crop(box).rgb_square(*square, 128).astype(int)
        b = whole.crop(box).rgb_square(*square, 128).astype(int)
        diff = np.abs(a - b)
        x0, y0, side = square
        pos = np.arange(128) * side / 128
        inner = (((y0 + pos >= 1) & (y0 + pos <= box[3] - 2))[:, None]
                 & ((x0 + pos >= 1) & (x0 + pos <= box[2] - 2))[None, :])
        assert diff.mean() < 1.0 and diff[inner].max() <= 3, (box, diff.mean(), diff[inner].max())
        cols = (x0 + pos >= box[2]) | (x0 + pos <= -1)
        rows = (y0 + pos >= box[3]) | (y0 + pos <= -1)
        assert a[:, cols].max(initial=0) == 0 and a[rows].max(initial=0) == 0
        assert b[:, cols].max(initial=0) == 0 and b[rows].max(initial=0) == 0
    assert pic.gray((0, 0, 3, 3), shrink=4).shape == (1, 1)   # never reads past the box
    assert abs(int(pic.gray((0, 0, 3, 3), shrink=4)[0, 0]) - int(pic.gray((0, 0, 3, 3)).mean())) <= 1


def test_frames_near_seeks_to_each_time_and_gives_that_frame(tmp_path):
    path = write_media(str(tmp_path / "long.mp4"), seconds=12.0, fps=10, audio=False)
    got = media.frames_near(path, [1.0, 6.3, 11.0, 50.0])
    times = [t for t, _ in got]
    assert len(times) == len(set(times)) and times == sorted(times)
    every = dict(media.iter_frames(path, step_s=0))
    for t, img in got:  # each is the frame decoded at its own timestamp
        assert np.abs(img.astype(int) - every[t].astype(int)).mean() < 1.0
    # key frames here are 3.5 s apart (35 frames), within max_decode: each time inside the
    # clip gets the first frame at or after it; past the end, the last frame (given once)
    assert times == pytest.approx([1.0, 6.3, 11.0, 11.9])
    # with fewer frames allowed than a key-frame interval, the frame is from before the time
    short = media.frames_near(path, [6.3], max_decode=5)
    assert short[0][0] == pytest.approx(7.0 - 3.5 + 0.4)
    assert media.frames_near(path, []) == []


def test_pictures_view_the_decoded_planes_padded_rows_included(tmp_path):
    """A Picture holds the decoder's own Y, U, V buffers (no copy); where FFmpeg pads each row
    (a width of 170 px is stored in rows of 192 or more), the padding is not part of the
    picture: its pixels and grey levels are those of the copied planes."""
    import av

    path = write_media(str(tmp_path / "odd.mp4"), seconds=1.0, size=(170, 96), audio=False)
    with av.open(path) as c:
        frames = list(c.decode(c.streams.video[0]))
    assert frames[0].planes[0].line_size > 170
    for frame in frames[:3]:
        pic = media.Picture.of(frame)
        i420 = frame.to_ndarray()
        copied = media.Picture(planes=(i420[:96], i420[96:120].reshape(48, 85),
                                       i420[120:].reshape(48, 85)))
        assert (pic.width, pic.height) == (170, 96)
        np.testing.assert_array_equal(pic.bgr(), copied.bgr())
        np.testing.assert_array_equal(pic.gray(shrink=2), copied.gray(shrink=2))
        np.testing.assert_array_equal(pic.rgb_square(10.5, 3.0, 80.0, 64, 0.2),
                                      copied.rgb_square(10.5, 3.0, 80.0, 64, 0.2))
