import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "sample_media"))

SAMPLE_CALL = os.path.join(ROOT, "sample_media", "sample_call.mp4")
SAMPLE_TRUTH = os.path.join(ROOT, "sample_media", "sample_call.truth.json")
# the first bytes of an mp4: enough for the library's content sniffing (no decodable media)
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(32)


def shared_path(*parts: str) -> str:
    """A file under ../shared, or skip the test (a user's clone has no ../shared)."""
    path = os.path.join(SHARED, *parts)
    if not os.path.exists(path):
        pytest.skip(f"{path} not present (../shared is only beside the project's own checkout)")
    return path


@pytest.fixture(scope="session")
def sample_result():
    """The sample call analysed once per test run (about half a minute), with its transcript and
    names, shared by every test that checks the whole path."""
    from cuekit import session
    from cuekit.config import AnalysisConfig

    config = AnalysisConfig(names=["Agent", "Customer"],
                            transcript=os.path.join(ROOT, "sample_media", "sample_call.vtt"))
    return session.analyze(SAMPLE_CALL, config)


@pytest.fixture(scope="session")
def sample_truth():
    import json

    with open(SAMPLE_TRUTH, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def library(tmp_path):
    """An empty dashboard library in a temporary CUEKIT_HOME."""
    from cuekit import store

    return store.Library(tmp_path / "home")


@pytest.fixture
def recording(tmp_path):
    """A file the library accepts as an mp4 upload."""
    path = tmp_path / "call.mp4"
    path.write_bytes(MP4_HEAD + bytes(1000))
    return path
