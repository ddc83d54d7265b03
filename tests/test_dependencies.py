"""The runtime dependencies in pyproject.toml, with the words extra, install from wheels on current
CPython.

pip resolves the whole `[project] dependencies` list and the `words` extra (read from
pyproject.toml, not copied here) for
CPython 3.13 and 3.14 on Linux x86-64, macOS arm64 and Windows amd64, binary wheels only, without
installing anything (`pip install --dry-run --report`). The six resolutions run at once, in one
fixture, so the module takes about as long as the slowest of them.

Needs the package registry: skipped, saying so, when it cannot be reached. A resolution that fails
with the registry reachable is a failure (a dependency without a wheel for that platform, a
conflict between pins).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[1]
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")

# a glibc 2.28 Linux (Debian 10+, RHEL 8+) takes every manylinux tag up to 2_28
LINUX = [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
PLATFORMS = {
    "linux-x86_64": (LINUX, {"sys_platform": "linux", "platform_system": "Linux",
                             "platform_machine": "x86_64", "os_name": "posix"}),
    # pip also takes older macOS versions and universal2 wheels for this tag
    "macos-arm64": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                            "platform_machine": "arm64", "os_name": "posix"}),
    "windows-amd64": (["win_amd64"], {"sys_platform": "win32", "platform_system": "Windows",
                                      "platform_machine": "AMD64", "os_name": "nt"}),
}
PYTHONS = ["3.13", "3.14"]
CASES = [(py, plat) for plat in PLATFORMS for py in PYTHONS]

# what pip prints when it could not talk to the registry (as opposed to a resolution failure)
NETWORK_ERRORS = ("NewConnectionError", "Max retries exceeded", "Temporary failure in name resolution",
                  "Name or service not known", "ConnectTimeout", "ReadTimeoutError",
                  "Network is unreachable", "Connection refused", "ProxyError")


def runtime_requirements() -> list[str]:
    """The runtime dependencies and the ``words`` extra's (what ``pip install "cuekit[words]"``
    installs: the transcription stack must install wherever cuekit does)."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return project["dependencies"] + project["optional-dependencies"]["words"]


def _registry_unreachable() -> str | None:
    """Why the registry cannot be reached, or None when it answers (any HTTP status)."""
    ctx = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
    try:
        urllib.request.urlopen(f"{INDEX}/pip/", timeout=15, context=ctx).close()
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError) as e:
        return f"package registry {INDEX} cannot be reached: {getattr(e, 'reason', e)}"
    return None


def _pip_command(py: str, platform: str, target: str, report: str) -> list[str]:
    tags = [a for tag in PLATFORMS[platform][0] for a in ("--platform", tag)]
    # --isolated: this machine's pip config (local wheel folders, constraints) is not what a user
    # installing from the registry has; the registry and its certificate are passed on explicitly.
    extra = ["--index-url", INDEX]
    if os.environ.get("PIP_CERT"):
        extra += ["--cert", os.environ["PIP_CERT"]]
    return [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "install",
            "--dry-run", "--ignore-installed", "--only-binary=:all:", "--progress-bar=off",
            "--python-version", py, "--implementation", "cp", *tags,
            # pip before 24 wants --target with any platform option, even on a dry run
            "--target", target, "--report", report, "--timeout", "30", *extra,
            *runtime_requirements()]


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """Every case's (returncode, stderr, report or None), the pip runs started together."""
    why = _registry_unreachable()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("resolve")
    procs = {}
    for py, plat in CASES:
        report = tmp / f"{plat}-{py}.json"
        procs[py, plat] = (report, subprocess.Popen(
            _pip_command(py, plat, str(tmp / "target"), str(report)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tempfile.gettempdir()))
    results = {}
    for case, (report, proc) in procs.items():
        try:
            _, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            err += "\n(pip killed after 300 s)"
        data = json.loads(report.read_text()) if proc.returncode == 0 and report.exists() else None
        results[case] = (proc.returncode, err, data)
    return results


@pytest.mark.parametrize(("py", "platform"), CASES, ids=[f"cp{p.replace('.', '')}-{pl}" for p, pl in CASES])
def test_runtime_dependencies_resolve_to_wheels(resolutions, py, platform):
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    code, err, report = resolutions[py, platform]
    if code != 0:
        lost = [m for m in NETWORK_ERRORS if m in err]
        if lost:
            pytest.skip(f"package registry lost during resolution ({', '.join(lost)})")
        pytest.fail(f"pip could not resolve the runtime dependencies for CPython {py} on {platform}:\n"
                    + "\n".join(err.strip().splitlines()[-25:]))

    installed = {canonicalize_name(i["metadata"]["name"]): i for i in report["install"]}
    not_wheels = [i["download_info"]["url"] for i in installed.values()
                  if not i["download_info"]["url"].split("#")[0].endswith(".whl")]
    assert not not_wheels, f"not wheels: {not_wheels}"

    env = {"python_version": py, "python_full_version": f"{py}.0", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", **PLATFORMS[platform][1]}
    for line in runtime_requirements():
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        got = installed.get(canonicalize_name(req.name))
        assert got is not None, f"{req.name} is missing from the resolution"
        assert req.specifier.contains(got["metadata"]["version"], prereleases=True), (
            f"{req.name} {got['metadata']['version']} does not satisfy {req}")

    print(f"CPython {py} {platform}: {len(installed)} wheels; "
          + ", ".join(f"{n} {installed[canonicalize_name(Requirement(r).name)]['metadata']['version']}"
                      for r in runtime_requirements()
                      for n in [Requirement(r).name] if canonicalize_name(n) in installed))
