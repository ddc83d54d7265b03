"""`cuekit batch --engine ray` on a real two-node Ray cluster on this machine.

A head node and a worker node are started with `ray start`, each with one CPU, its own temp dir
and its own session (setsid); they announce 127.0.0.1 (Ray turns a 127.0.0.1 bootstrap address
into this machine's own address), so nothing leaves the machine. The batch runs from the
command line as a separate driver process. Once the worker node has finished one recording and
started another, every process of its session (raylet, agents, the worker process analysing the
recording) is killed with SIGKILL at once, as if the machine had died. The batch must still
finish with every recording analysed exactly once: one result folder each, none half-written,
the killed recording run a second time on the head node. Teardown kills the two nodes' sessions
the same way (not `ray stop`, which would stop every Ray node on the machine, other people's too).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pandas as pd
import pytest
from mediagen import write_media

from cuekit import batch, cli, cueset

pytest.importorskip("ray", reason="needs Ray (pip install -e '.[test]' installs it)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(batch.__file__)))
N_RECORDINGS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_cmd() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "ray")
    if os.path.exists(exe):
        return [exe]
    return [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def _node_ports() -> list[str]:
    """Every port a node opens, chosen free, so the test does not meet another Ray on the
    machine at Ray's default ports."""
    return ["--node-manager-port", str(_free_port()), "--object-manager-port", str(_free_port()),
            "--dashboard-agent-listen-port", str(_free_port()),
            "--dashboard-agent-grpc-port", str(_free_port()),
            "--runtime-env-agent-port", str(_free_port()),
            "--metrics-export-port", str(_free_port())]


def _start_node(args: list[str], env: dict, log: str) -> int:
    """`ray start ...` in a new session; returns the session id, which every process of the
    node has (Ray gives each worker process a process group of its own, in that session)."""
    with open(log, "w") as out:
        p = subprocess.Popen([*_ray_cmd(), "start", *args], env=env, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        code = p.wait(timeout=180)
    if code != 0:
        with open(log) as f:
            pytest.fail(f"ray start {' '.join(args)} failed ({code}):\n{f.read()[-3000:]}")
    return p.pid  # start_new_session: the session of `ray start`, which its daemons keep


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _kill_session(sid: int) -> int:
    """SIGKILL every process of the session ``sid`` at once, as if its machine had died;
    returns how many there were."""
    if os.path.isdir("/proc"):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    else:
        ps = subprocess.run(["ps", "-A", "-o", "pid="], capture_output=True, text=True)
        pids = [int(p) for p in ps.stdout.split()]
    victims = [p for p in pids if p != os.getpid() and _session(p) == sid]
    for p in victims:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(victims)


@pytest.fixture
def cluster():
    # a short temp dir: Ray's Unix sockets live under it and their paths are limited to 107 bytes
    tmp = tempfile.mkdtemp(prefix="ck-ray-", dir="/tmp" if os.path.isdir("/tmp") else None)
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_USAGE_STATS_ENABLED": "0",
           # the worker processes import this checkout's cuekit
           "PYTHONPATH": os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))}
    common = ["--num-cpus", "1", "--object-store-memory", str(100 * 1024 * 1024),
              "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    # Ray Client's server runs only where ray[client] is installed (the test extra has plain ray)
    client_port = ["--ray-client-server-port", str(_free_port())] \
        if importlib.util.find_spec("grpc") else []
    groups = []
    try:
        groups.append(_start_node(
            ["--head", "--port", str(port), "--temp-dir", os.path.join(tmp, "head"),
             "--include-dashboard=false", "--dashboard-port", str(_free_port()),
             *common, *_node_ports(), *client_port],
            env, os.path.join(tmp, "head.log")))
        groups.append(_start_node(
            ["--address", f"127.0.0.1:{port}", "--temp-dir", os.path.join(tmp, "worker"),
             "--resources", '{"worker_node": 1}', *common, *_node_ports()],
            env, os.path.join(tmp, "worker.log")))
        yield {"address": f"127.0.0.1:{port}", "env": env, "head_sid": groups[0],
               "worker_sid": groups[1]}
    finally:
        for sid in groups:
            _kill_session(sid)
        shutil.rmtree(tmp, ignore_errors=True)


def _attempts(out: str) -> list[tuple[int, str, int, int]]:
    """(recording index, node id, pid, start time in ns) of every attempt started so far, read
    from the batch's run folder while it runs."""
    found = []
    for path in glob.glob(os.path.join(out, batch.RUN_DIR_PREFIX + "*", "*", "*")):
        node, pid, ns = os.path.basename(path).rsplit("-", 2)
        found.append((int(os.path.basename(os.path.dirname(path))), node, int(pid), int(ns)))
    return found


def test_batch_survives_a_worker_node_dying(cluster, tmp_path):
    t0 = time.monotonic()
    src = tmp_path / "in"
    src.mkdir()
    # 18-21 s calls: each analysis takes a few seconds, so the kill lands mid-analysis
    names = [f"call{i}.mp4" for i in range(N_RECORDINGS)]
    for i, name in enumerate(names):
        write_media(str(src / name), seconds=18 + i % 4)
    out = str(tmp_path / "out")
    driver_log = tmp_path / "driver.err"
    with open(tmp_path / "driver.out", "w") as so, open(driver_log, "w") as se:
        driver = subprocess.Popen(
            [sys.executable, "-m", "cuekit", "batch", str(src), "-o", out, "--engine", "ray",
             "--ray-address", cluster["address"]],
            env=cluster["env"], stdout=so, stderr=se, stdin=subprocess.DEVNULL)
    try:
        # wait until the worker node has finished one recording and is analysing its second
        worker_node = killed = None
        deadline = time.monotonic() + 240
        while killed is None:
            assert driver.poll() is None, \
                f"the batch ended before the worker node took a second recording:\n" \
                f"{(tmp_path / 'driver.out').read_text()}{driver_log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the worker node never took a second recording"
            on_worker = [a for a in _attempts(out)
                         if a[1] == worker_node or _session(a[2]) == cluster["worker_sid"]]
            if on_worker:
                worker_node = on_worker[0][1]
            if len(on_worker) >= 2:
                killed = max(on_worker, key=lambda a: a[3])[0]  # the one it is working on
                assert _kill_session(cluster["worker_sid"]) >= 2  # its raylet, the analysis, ...
                killed_at = time.monotonic() - t0
            time.sleep(0.05)
        code = driver.wait(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    stdout, stderr = (tmp_path / "driver.out").read_text(), driver_log.read_text()
    assert code == 0, stdout + stderr[-3000:]
    assert f"{N_RECORDINGS} recording(s): {N_RECORDINGS} analysed, 0 already done, 0 failed" \
        in stdout
    assert f"ray: {names[killed]} took 2 attempts (a node or worker process was lost)" \
        in stderr  # the progress note, as it happened
    assert f"1 recording(s) run again after a node or worker was lost: {names[killed]} " \
           "(2 attempts)" in stdout

    table = pd.read_csv(os.path.join(out, "batch_summary.csv"))
    assert not table.duplicated(["path", "participant"]).any()
    per_file = table.drop_duplicates("path")
    per_file.index = per_file["path"].map(os.path.basename)
    assert sorted(per_file.index) == names  # one row per recording, each analysed ...
    assert set(per_file["status"]) == {"done"}  # ... here, in this batch (not "skipped")
    attempts = per_file["attempts"].to_dict()
    assert attempts == {n: 2 if n == names[killed] else 1 for n in names}
    nodes = per_file["node"].to_dict()
    assert worker_node in nodes.values(), "no result was made on the worker node"
    assert len(set(nodes.values())) == 2, "the results were not made on both nodes"
    assert nodes[names[killed]] != worker_node, "the killed recording was not run elsewhere"

    # on disk: one whole result folder per recording, nothing half-written, no run folder left
    result_dirs = sorted(os.path.basename(d) for d in per_file["out_dir"])
    assert sorted(os.listdir(out)) == sorted([*result_dirs, "batch_summary.csv",
                                              "batch_summary.parquet"])
    for name, row in per_file.iterrows():
        with open(os.path.join(row["out_dir"], batch.KEY_FILE)) as f:
            assert f.read() == row["key"]
        assert len(cueset.read(row["out_dir"]).samples) > 0, name
    print(f"\n{N_RECORDINGS} recordings on 2 nodes; worker node killed at {killed_at:.1f}s "
          f"while analysing {names[killed]}; batch done at {time.monotonic() - t0:.1f}s; "
          f"attempts {sum(attempts.values())}")


def test_unreachable_cluster_is_one_line(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_media(str(src / "a.wav"), video=False, seconds=1.0)
    port = _free_port()  # nothing listens there
    t = time.monotonic()
    code = cli.main(["batch", str(src), "-o", str(tmp_path / "o"), "--engine", "ray",
                     "--ray-address", f"127.0.0.1:{port}", "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.splitlines() == [f"cuekit: error: cannot reach the Ray cluster at 127.0.0.1:{port}:"
                                " Connection refused"]
    assert time.monotonic() - t < 30
