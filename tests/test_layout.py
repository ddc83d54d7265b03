import numpy as np
import pytest

from cuekit import layout
from cuekit.errors import InputError


def test_grid_boxes_cover_the_frame_in_reading_order():
    boxes = layout.grid_boxes("2x2", 1280, 720)
    assert boxes == [(0, 0, 640, 360), (640, 0, 640, 360), (0, 360, 640, 360),
                     (640, 360, 640, 360)]
    assert layout.grid_boxes("2x1", 1280, 720) == [(0, 0, 640, 720), (640, 0, 640, 720)]
    assert layout.grid_boxes("1x2", 640, 720) == [(0, 0, 640, 360), (0, 360, 640, 360)]
    with pytest.raises(InputError, match="unknown layout"):
        layout.grid_boxes("3x3", 100, 100)


def test_explicit_boxes_are_checked_and_sorted():
    boxes = layout.reading_order(layout.parse_boxes("700,0,500,700;0,10,600,690", 1280, 720))
    assert boxes == [(0, 10, 600, 690), (700, 0, 500, 700)]
    with pytest.raises(InputError, match="outside"):
        layout.parse_boxes("0,0,2000,10", 1280, 720)
    with pytest.raises(InputError, match="four integers"):
        layout.parse_boxes("1,2,3", 1280, 720)


def test_names():
    ps = layout.name_participants(layout.grid_boxes("2x1", 100, 50), ["Agent", "Customer"])
    assert [p.name for p in ps] == ["Agent", "Customer"] and ps[1].box == (50, 0, 50, 50)
    assert [p.name for p in layout.channel_participants(3, None)] == ["P1", "P2", "P3"]
    with pytest.raises(InputError, match="2 name"):
        layout.name_participants(layout.grid_boxes("1", 100, 50), ["A", "B"])
    for bad in ("A,,B", "A,A", "A|B,C"):
        with pytest.raises(InputError):
            layout.parse_names(bad)


def _face(size: int) -> np.ndarray:
    skimage = pytest.importorskip("skimage")
    import cv2

    img = skimage.data.astronaut()[20:260, 120:330, ::-1]  # head and shoulders, BGR
    return cv2.resize(img, (size, int(size * img.shape[0] / img.shape[1])))


def _canvas(faces: list[tuple[int, int]], size=(1280, 720), face_px=260) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 30, np.uint8)
    f = _face(face_px)
    for cx, cy in faces:
        x, y = cx - f.shape[1] // 2, cy - f.shape[0] // 2
        img[y:y + f.shape[0], x:x + f.shape[1]] = f
    return img


def test_guess_layout_from_faces():
    assert layout.guess_layout([_canvas([(640, 360)])] * 3) == "1"
    assert layout.guess_layout([_canvas([(320, 360), (960, 360)])] * 3) == "2x1"
    four = _canvas([(320, 180), (960, 180), (320, 540), (960, 540)], face_px=200)
    assert layout.guess_layout([four] * 3) == "2x2"


def test_guess_layout_from_a_tile_border_without_faces():
    rng = np.random.default_rng(0)
    room = rng.integers(40, 200, (720, 1280, 3), dtype=np.uint8)  # textured tile content
    side_by_side = room.copy()
    side_by_side[:, 634:646] = 20
    assert layout.guess_layout([side_by_side]) == "2x1"
    stacked = room.copy()
    stacked[355:365, :] = 20
    assert layout.guess_layout([stacked]) == "1x2"
    assert layout.guess_layout([room]) == "1"
    wall = room.copy()
    wall[:, 400:900] = 120  # a plain wall in the middle of one camera is no border
    assert layout.guess_layout([wall]) == "1"
