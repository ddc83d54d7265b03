"""Known-answer tests of the tile finder on composite call frames made from real faces
(``layoutgen``) and on a real broadcast split-screen interview."""


import numpy as np
import pytest
from conftest import shared_path

from cuekit import layout, media

pytest.importorskip("skimage")
import layoutgen as gen  # noqa: E402  (needs skimage)

TOL = 0.05  # of the true tile's width / height


@pytest.fixture(scope="module")
def people():
    return gen.people(shared_path("images"))


def _check(case: gen.Case, found: list) -> None:
    truth = layout.reading_order(case.people)
    assert len(found) == len(truth), (case.name, found, truth)
    for box, tile in zip(found, truth, strict=True):
        assert all(abs(box[k] - tile[k]) <= TOL * tile[2 if k % 2 == 0 else 3] for k in range(4)), \
            (case.name, box, tile)
    for cell in case.empty:  # no empty cell is a participant's tile
        cx, cy = cell[0] + cell[2] / 2, cell[1] + cell[3] / 2
        assert not any(x <= cx < x + w and y <= cy < y + h for x, y, w, h in found), (case.name, cell)


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: gen.broadcast(ps, divider=4), id="broadcast-split-screen"),
    pytest.param(lambda ps: gen.broadcast(ps, divider=2, seed=3), id="broadcast-2px-divider"),
    pytest.param(lambda ps: gen.gallery(ps, 2, 2, [0, 1, 3]), id="gallery-2x2-one-empty"),
    pytest.param(lambda ps: gen.gallery(ps, 3, 3, [0, 1, 2, 3, 4]), id="gallery-3x3-four-empty"),
    pytest.param(lambda ps: gen.speaker(ps, strip="bottom"), id="speaker-strip-bottom"),
    pytest.param(lambda ps: gen.speaker(ps, strip="right"), id="speaker-strip-right"),
    pytest.param(lambda ps: gen.pip(ps), id="picture-in-picture"),
    pytest.param(lambda ps: gen.pip(ps, border=2), id="picture-in-picture-framed"),
    pytest.param(lambda ps: gen.one_camera(ps), id="one-camera-two-people"),
])
def test_composite_tiles(people, make):
    case = make(people)
    guess = layout.detect_tiles(case.frames, case.times)
    _check(case, guess.boxes)
    assert len(guess.segments) == 1
    # what --layout takes, and the layout stage reads back, gives the same tiles
    w, h = gen.SIZE
    spec = guess.layout
    back = layout.grid_boxes(spec, w, h) if spec in layout.GRIDS else \
        layout.reading_order(layout.parse_boxes(spec, w, h))
    assert back == guess.boxes


def test_broadcast_with_the_astronaut_only():
    """Runs without ../shared: the same face twice, with divider, logo, clock and caption."""
    case = gen.broadcast([gen.astronaut()], divider=3)
    assert layout.guess_layout(case.frames) == "2x1"
    _check(case, layout.detect_tiles(case.frames).boxes)


def test_boxes_are_given_in_the_full_frame(people):
    case = gen.gallery(people, 2, 2, [0, 1, 3])
    guess = layout.detect_tiles(case.frames, size=(1280, 720))
    small = layout.detect_tiles(case.frames).boxes
    assert len(guess.boxes) == 3
    for big, b in zip(guess.boxes, small, strict=True):
        assert all(abs(u - 2 * v) <= 2 for u, v in zip(big, b, strict=True))


def test_a_layout_change_mid_call_is_reported(people):
    case = gen.switch(people)
    guess = layout.detect_tiles(case.frames, case.times)
    _check(case, guess.boxes)  # the longest stretch: speaker view
    assert [spec for _, _, spec in guess.segments][0] == "2x1"
    assert len(guess.segments) == 2
    for (start, end, _), (t0, t1, _) in zip(guess.segments, case.segments, strict=True):
        assert start == pytest.approx(t0) and end == pytest.approx(t1)


def test_session_notes_a_layout_change(people, tmp_path):
    """Through the layout stage's probe (frames every 4 s of the first 20 s of a clip)."""
    from cuekit import participants
    from cuekit.config import AnalysisConfig

    case = gen.switch(people, before=2, after=3)  # 0-4 s side by side, 4-10 s speaker view
    case.times = [4.0 * i for i in range(len(case.frames))]
    path = gen.write_clip(case, str(tmp_path / "switch.mp4"), fps=2)
    info = media.probe(path)
    notes: list[str] = []
    boxes = participants.tile_boxes(path, info, AnalysisConfig(), notes)
    _check(case, boxes)
    assert any("layout changes" in n and "2x1" in n for n in notes), notes


def test_session_notes_a_layout_change_after_the_first_probe(people, tmp_path):
    """A change long after the first 20 s (side by side for 60 s, then speaker view to 120 s)
    is seen by the probe across the whole call and named in the notes; the tiles kept are the
    longest stretch's."""
    from cuekit import participants
    from cuekit.config import AnalysisConfig

    case = gen.switch(people, before=2, after=2)
    case.times = [0.0, 40.0, 60.0, 80.0]  # each frame held to the next: 2x1 0-60 s, then speaker
    path = gen.write_clip(case, str(tmp_path / "late_switch.mp4"), fps=2)
    info = media.probe(path)
    notes: list[str] = []
    boxes = participants.tile_boxes(path, info, AnalysisConfig(), notes)
    changes = [n for n in notes if "layout changes" in n]
    assert len(changes) == 1, notes
    stretches = changes[0].split("(")[1].split("; frames")[0].split("; ")
    assert len(stretches) == 2 and stretches[0].endswith("s: 2x1"), changes[0]
    start, end = (float(x) for x in stretches[1].split(" s:")[0].split("-"))
    assert 55 <= start <= 70 and end == 120, changes[0]  # speaker view from ~60 s to the end
    assert "2x1" not in stretches[1]
    assert len(boxes) == 2  # 2x1 lasted longest in what the probe saw


def test_real_split_screen_interview():
    path = shared_path("validation", "video", "interview_splitscreen.mp4")
    sampled = list(media.iter_frames(path, step_s=4.0, width=640))
    frames = [f for _, f in sampled]
    h, w = frames[0].shape[:2]
    guess = layout.detect_tiles(frames, [t for t, _ in sampled])
    assert len(guess.boxes) == 2 and len(guess.segments) == 1
    left, right = guess.boxes
    # the left and right halves, each holding one of the two people
    assert left[0] + left[2] <= 0.55 * w and right[0] >= 0.45 * w
    assert left[2] >= 0.3 * w and right[2] >= 0.3 * w and left[3] >= 0.9 * h and right[3] >= 0.9 * h


def _turn(people: list, k: int) -> list:
    """The faces starting from the ``k``-th (cases of ``benchmarks/layout_family.py``)."""
    k %= len(people)
    return people[k:] + people[:k]


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: gen.speaker(_turn(ps, 2), strip="bottom", gap=4, n=5, seed=2,
                                        size=(1920, 1080)), id="speaker-1920-thin-gaps"),
    pytest.param(lambda ps: gen.speaker(_turn(ps, 3), strip="right", gap=6, n=5, seed=3,
                                        size=(1280, 720)), id="speaker-blurred-room-by-the-gap"),
    pytest.param(lambda ps: gen.pip(_turn(ps, 3), n=5, seed=3, size=(1280, 720)),
                 id="pip-light-shirt-by-a-light-wall"),
    pytest.param(lambda ps: gen.speaker(_turn(ps, 4), strip="bottom", n=5, seed=2),
                 id="speaker-thumbnails-blurred-rooms"),
])
def test_family_cases_at_the_probe_width(people, make):
    """Cases of the layout family that once failed, on frames as the layout stage sees them
    (``LAYOUT_PROBE_WIDTH`` wide), the tiles given in pixels of the full frame: thin gaps of a
    1920-px call, a tile's blurred room beside the gap or a strip's, an inset's edge that is a
    step of hue."""
    import cv2

    from cuekit.participants import LAYOUT_PROBE_WIDTH

    case = make(people)
    H, W = case.frames[0].shape[:2]
    w = min(W, LAYOUT_PROBE_WIDTH)
    small = [cv2.resize(f, (w, round(H * w / W)), interpolation=cv2.INTER_AREA) for f in case.frames]
    guess = layout.detect_tiles(small, case.times, size=(W, H))
    _check(case, guess.boxes)
    assert len(guess.segments) == 1


def test_stray_faces_are_nobody():
    """Haar boxes as found on real decoded frames: a stray face in 2 of 5 frames (a flag), a
    second box on a shirt just below a face in 3 of 5: one person; a face beside it in every
    frame: two."""
    face, shirt, stray, other = (100, 100, 80, 80), (105, 190, 70, 70), (300, 40, 90, 90), \
        (420, 100, 80, 80)
    faces = [[face, stray, shirt], [face, stray, shirt], [face, shirt], [face], [face]]
    piece = (0, 0, 640, 360)
    assert layout._people(piece, faces) == [face]
    assert sorted(layout._people(piece, [ff + [other] for ff in faces])) == [face, other]


def test_a_dark_room_at_a_cells_edge_is_no_margin():
    """A 3x2 gallery on a background of grey level 18 whose last cell ends in a dark wall (grey
    26, close to the gap's colour but not it; 15 % of the cell): the cell keeps it; only lines
    of the gap's own colour are a margin."""
    rng = np.random.default_rng(0)
    W, H, gap = 640, 360, 6
    img = np.full((H, W, 3), 18, np.uint8)
    cw, ch = (W - 4 * gap) // 3, (H - 3 * gap) // 2
    cells = [(gap + c * (cw + gap), gap + r * (ch + gap), cw, ch) for r in range(2) for c in range(3)]
    for x, y, w, h in cells:
        img[y:y + h, x:x + w] = rng.integers(40, 200, (h, w, 1), dtype=np.uint8)
    x, y, w, h = cells[-1]
    img[y:y + h, x + w - round(0.15 * w):x + w] = 26
    found = layout.detect_tiles([img]).boxes
    assert len(found) == 6
    assert all(abs(a - b) <= 2 for a, b in zip(found[-1], cells[-1], strict=True)), (found, cells)


def test_borders_that_differ_under_unmoved_faces_are_no_layout_change(people):
    """Speaker view whose gap beside the big tile is smeared over in the first two frames (as a
    coarse encoder does): those frames' borders differ, nobody moved, so there is one layout,
    its tiles found in all the frames."""
    case = gen.speaker(people, strip="right", n=5, seed=7)
    x, y, w, h = case.people[0]
    right = case.people[1][0]
    for img in case.frames[:2]:
        img[:, x + w:right] = img[:, x + w - 1:x + w]
    guess = layout.detect_tiles(case.frames, case.times)
    assert len(guess.segments) == 1, guess.segments
    _check(case, guess.boxes)
