"""Every case of the bad-input corpus gives a clear error or a correct degraded result, never a
crash or a hang (issue 9)."""

import signal

import numpy as np
import pytest

from cuekit import session
from cuekit.errors import CuekitError

badcorpus = pytest.importorskip("badcorpus")
pytest.importorskip("skimage")

CASE_LIMIT_S = 120


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return {name: (path, expect)
            for name, path, expect in badcorpus.build(str(tmp_path_factory.mktemp("bad")))}


def _hang(signum, frame):
    raise TimeoutError(f"analysis took more than {CASE_LIMIT_S} s")


def test_corpus_has_at_least_30_cases(corpus):
    assert len(corpus) >= 30


def test_every_case_errors_clearly_or_degrades(corpus):
    failures = []
    old = signal.signal(signal.SIGALRM, _hang)
    try:
        for name, (path, expect) in corpus.items():
            signal.alarm(CASE_LIMIT_S)
            try:
                result = session.analyze(path)
                got, detail = "ok", result
            except CuekitError as e:
                got, detail = "error", str(e)
            except Exception as e:  # a crash: the test fails, listing it
                failures.append(f"{name}: crashed with {type(e).__name__}: {e}")
                continue
            finally:
                signal.alarm(0)
            if got == "error":
                if "\n" in detail or not detail:
                    failures.append(f"{name}: error message is not one line: {detail!r}")
            if got != expect:
                failures.append(f"{name}: expected {expect}, got {got} ({detail if got == 'error' else ''})")
            if got == "ok":
                s = detail.samples
                if len(s) and not np.isfinite(s["t"]).all():
                    failures.append(f"{name}: non-finite times")
    finally:
        signal.signal(signal.SIGALRM, old)
    assert not failures, "\n".join(failures)


def test_degraded_results_are_correct(corpus):
    r = session.analyze(corpus["wav header claiming 3 hours, 1 s of data"][0])
    active = r.samples[r.samples["cue"] == "voice.active"]
    assert active["t"].max() < 1.5  # the data, not the header, sets the length
    for name, length_s in (("wav truncated at 2%", 0.058), ("wav truncated at 50%", 1.499)):
        r = session.analyze(corpus[name][0])  # the audio up to the cut, and no more
        assert r.session["media"]["duration_s"] == pytest.approx(length_s, abs=0.002)
        assert r.samples["t"].max() <= length_s
    r = session.analyze(corpus["pure silence wav"][0])
    assert not (r.samples.query("cue == 'voice.active'")["value"] > 0).any()
    assert not (r.segments["kind"] == "speech").any()
    r = session.analyze(corpus["no faces (moving square)"][0])
    present = r.samples.query("cue == 'face.present'")["value"]
    assert len(present) and (present == 0).all()
    head = r.samples.query("cue == 'head.yaw_deg'")["value"]
    assert head.isna().all()  # no face: NaN, never 0
    r = session.analyze(corpus["stereo, different channels"][0])
    assert r.participants == ["P1", "P2"]
