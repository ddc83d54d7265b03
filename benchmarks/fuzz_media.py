"""Fuzz the probe/decode layer with many mutated recordings and print what happened.

    .venv/bin/python benchmarks/fuzz_media.py [N]

Every input must either decode or raise MediaError with a one-line message; anything else is a
finding and is listed.
"""

import os
import sys
import tempfile
import time
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from mediagen import decode_all, mutate, write_media  # noqa: E402

from cuekit.errors import MediaError  # noqa: E402

KINDS = ["flip", "cut", "insert", "zero"]


def main(n: int) -> None:
    rng = np.random.default_rng(2026)
    tmp = tempfile.mkdtemp()
    seeds = {ext: open(write_media(os.path.join(tmp, f"s.{ext}"), seconds=1.0,
                                   video=ext not in ("wav", "mp3", "flac")), "rb").read()
             for ext in ("mp4", "mkv", "mov", "webm", "avi", "wav", "mp3", "flac")}
    outcomes: Counter = Counter()
    findings = []
    t0 = time.perf_counter()
    for i in range(n):
        ext = list(seeds)[i % len(seeds)]
        muts = [(KINDS[rng.integers(4)], float(rng.random()), int(rng.integers(1, 65)),
                 int(rng.integers(256))) for _ in range(rng.integers(1, 5))]
        path = os.path.join(tmp, f"m.{ext}")
        with open(path, "wb") as f:
            f.write(mutate(seeds[ext], muts))
        try:
            decode_all(path)
            outcomes["decoded"] += 1
        except MediaError as e:
            outcomes["MediaError"] += 1
            if "\n" in str(e):
                findings.append((ext, muts, "multi-line message"))
        except Exception as e:  # a finding
            outcomes[type(e).__name__] += 1
            findings.append((ext, muts, f"{type(e).__name__}: {e}"))
    dt = time.perf_counter() - t0
    print(f"{n} mutated inputs from {len(seeds)} containers in {dt:.1f} s "
          f"({n / dt:.0f}/s): " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    print(f"findings: {len(findings)}")
    for f in findings[:20]:
        print("  ", f)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
