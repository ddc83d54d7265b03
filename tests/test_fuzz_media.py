"""Fuzz the probe/decode layer: mutated recordings give a result or a MediaError, nothing else.

A longer run with a count of what it tried and found: ``python benchmarks/fuzz_media.py``.
"""

import pytest
from mediagen import decode_all, mutate, write_media

from cuekit.errors import MediaError

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    d = tmp_path_factory.mktemp("seeds")
    return {ext: open(write_media(str(d / f"s.{ext}"), seconds=1.0,
                                  video=ext not in ("wav", "mp3")), "rb").read()
            for ext in ("mp4", "mkv", "wav", "mp3", "webm")}


mutation = st.tuples(st.sampled_from(["flip", "cut", "insert", "zero"]),
                     st.floats(0, 1), st.integers(1, 64), st.integers(0, 255))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ext=st.sampled_from(["mp4", "mkv", "wav", "mp3", "webm"]),
       mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_never_crash(seeds, tmp_path, ext, mutations):
    data = mutate(seeds[ext], mutations)
    path = tmp_path / f"m.{ext}"
    path.write_bytes(bytes(data))
    try:
        decode_all(str(path))
    except MediaError as e:
        assert str(e) and "\n" not in str(e)


def test_fixed_seed_mutations(seeds, tmp_path):
    """400 reproducible mutations (the run that first found seek, codec-less stream and
    mid-stream layout-change crashes)."""
    import numpy as np

    rng = np.random.default_rng(2026)
    kinds = ["flip", "cut", "insert", "zero"]
    for i in range(400):
        ext = sorted(seeds)[i % len(seeds)]
        muts = [(kinds[rng.integers(4)], float(rng.random()), int(rng.integers(1, 65)),
                 int(rng.integers(256))) for _ in range(rng.integers(1, 5))]
        path = tmp_path / f"m{i}.{ext}"
        path.write_bytes(mutate(seeds[ext], muts))
        try:
            decode_all(str(path))
        except MediaError as e:
            assert str(e) and "\n" not in str(e)
