"""The code base stays ruff-clean (the rules in pyproject.toml), checked in CI with the tests."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is in the test extra: pip install -e '.[test]')")
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_process_wide_settings_are_made_by_the_entry_points_only():
    """Library code leaves process-wide state as it finds it (issue #15): OpenCV's thread count
    and the C heap are set in cuekit/runtime.py, and only the entry points (the CLI, the batch
    worker, the dashboard's job worker) call those functions. BLAS's thread count is the
    exception: scoped to an analysis and restored after (``blas_single_threaded``)."""
    import re

    settings = re.compile(r"setNumThreads|malloc_trim|mallopt|threadpool_limits\(")
    imports = re.compile(r"from \.+runtime import (.+)")
    made, tuned_in = [], set()
    for path in sorted((ROOT / "cuekit").rglob("*.py")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if path.name != "runtime.py" and settings.search(line):
                made.append(f"{path.relative_to(ROOT)}:{i}")
            m = imports.search(line)
            if m and set(m.group(1).replace(" ", "").split(",")) - {"blas_single_threaded"}:
                tuned_in.add(path.name)
    assert made == []
    assert tuned_in == {"cli.py", "batch.py", "jobs.py"}
