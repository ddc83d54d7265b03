"""Analyse one recording end to end and assemble its :class:`~cuekit.cueset.CueSet`.

This module only orders the stages and passes their results on; each stage's work is in its own
module. The order is fixed and one-way: probe → participants (:mod:`cuekit.participants`) →
audio pipeline, then video pipeline (one after the other, so their memory peaks do not add; each
spreads its own work over the cores) → a mixed track's voices given to the participants
(:mod:`cuekit.dynamics.mixed_track`) → conversation timing → words and verbal cues → synchrony
and listening profile → CueSet. No stage changes another's result: one that combines them
returns a new one. Process-wide settings are the entry points' (:mod:`cuekit.runtime`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from . import __version__, media
from .config import AnalysisConfig
from .cues import StreamResult, concat_samples, concat_segments, is_pair, make_words
from .cueset import CueSet
from .errors import MediaError
from .layout import Participant
from .participants import find_participants, voice_count
from .runtime import blas_single_threaded

Hook = Callable[[str, int, int], None]


def analyze(path: str, config: AnalysisConfig | None = None, *, hook: Hook | None = None,
            workers: int | None = None,
            between_stages: Callable[[], None] | None = None) -> CueSet:
    """Analyse the recording at ``path``. Raises ``MediaError``/``InputError`` on bad input.

    ``workers``: processes the video stage is spread over (a call cut into that many stretches
    of time, see ``cuekit.video.pipeline.analyze_video``; the audio stage then runs beside
    them). Default :func:`default_workers`. The results do not depend on it beyond the face
    model's own noise. ``between_stages``: called after the audio and after the video stage,
    for an entry point to act on the process between them (the CLI and the workers hand freed
    memory back to the system: :func:`cuekit.runtime.return_freed_memory`)."""
    with blas_single_threaded():
        return _analyze(path, config, hook, workers, between_stages or (lambda: None))


def _analyze(path: str, config: AnalysisConfig | None, hook: Hook | None,
             workers: int | None, between_stages: Callable[[], None]) -> CueSet:
    config = config or AnalysisConfig()
    hook = hook or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    notes: list[str] = []
    clock = time.perf_counter()

    info = media.probe(path)
    if info.duration_s <= 0 and not info.has_audio:
        raise MediaError(f"{path} has no duration and no audio: nothing to analyse")
    use_video = info.has_video and config.layout != "audio"
    has_audio = info.has_audio or bool(config.audio_files)
    if not info.has_video:
        notes.append("no video track: face, gaze and posture cues are skipped")
    if not has_audio:
        notes.append("no audio track: voice, timing and turn-taking cues are skipped")

    participants = find_participants(path, info, config, use_video, notes)
    seconds["probe_layout"] = time.perf_counter() - clock

    processes = default_workers() if workers is None else max(1, int(workers))
    video, audio = _run_streams(path, participants, config, hook, seconds, use_video, has_audio,
                                info.duration_s, processes, between_stages)

    if audio is not None and audio.provenance.get("mixed"):
        participants, audio = _run_attribution(audio, video, participants, config,
                                               info.duration_s, seconds)
    results = {name: r for name, r in (("video", video), ("audio", audio)) if r is not None}
    if audio is not None:
        results["conversation"] = _run_conversation(audio, participants, info.duration_s,
                                                    seconds, config)
    words = None
    if audio is not None and (config.transcript or config.transcribe):
        words, results["words"] = _run_words(path, config, participants, results, hook, seconds)

    # one table of every stream's samples, built once: the listening stage reads it and the
    # CueSet is it plus the listening stage's own rows (the same rows and order as concatenating
    # every stream at the end: keys are unique, later streams win, the sort is stable)
    samples = concat_samples([r.samples for r in results.values()])
    segments = concat_segments([r.segments for r in results.values()])
    for r in results.values():  # the streams' own copies are no longer needed
        r.samples = r.samples.iloc[:0]
    hook("listening", 0, 1)
    results["listening"] = _run_listening(samples, segments, participants, info.duration_s,
                                          seconds, config)
    hook("listening", 1, 1)

    samples = concat_samples([samples, results["listening"].samples])
    segments = concat_segments([segments, results["listening"].segments])
    summary = {"participants": {p.name: {} for p in participants}, "pairs": {}}
    for r in results.values():
        for name, metrics in r.summary.items():
            if is_pair(name):
                summary["pairs"].setdefault(name, {}).update(metrics)
            else:
                summary["participants"].setdefault(name, {}).update(metrics)

    session = {
        "media": info.to_dict(),
        "layout": {"participants": [p.to_dict() for p in participants],
                   "layout": config.layout},
        "config": config.to_dict(),
        "notes": notes,
        "provenance": {
            "cuekit_version": __version__,
            "backends": {k: v for r in results.values() for k, v in r.provenance.items()
                         if k.endswith("backend")},
            "stages": {name: {k: v for k, v in r.provenance.items() if not k.endswith("backend")}
                       for name, r in results.items()},
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "seconds_total": round(time.perf_counter() - clock, 3),
        },
    }
    return CueSet(samples=samples, segments=segments, summary=summary, session=session,
                  words=words if words is not None else make_words([]))


def _timed(stage: str, seconds: dict, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds[stage] = time.perf_counter() - t0
    return out


def default_workers() -> int:
    """Processes for the video stage by default: one per two cores (each process keeps two
    cores busy with its decoder and model threads), so 1 on a two-core machine."""
    return max(1, (os.cpu_count() or 1) // 2)


def _run_streams(path, participants, config, hook, seconds, use_video: bool, has_audio: bool,
                 duration_s: float, processes: int, between_stages: Callable[[], None],
                 ) -> tuple[StreamResult | None, StreamResult | None]:
    """The audio pipeline, then the video pipeline. One after the other, not at once: the audio
    stage holds the whole track (3.8 MB per minute at 16 kHz) and its scratch while it runs,
    the video stage its models (~450 MB) for as long as it runs; at once, the two peaks add
    (~1 GB for a 60-minute call), in turn the higher one is the peak. The video stage keeps both
    cores busy on its own; the audio stage shares its VAD and pitch work among them.

    With ``processes`` > 1 the video stage works in processes of its own, and the audio stage
    runs in this one meanwhile (more cores than one process keeps busy)."""
    if processes > 1 and use_video and has_audio:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:  # waits on the video processes
            pending = pool.submit(_run_video, path, participants, config, hook, seconds,
                                  duration_s, processes)
            audio = _run_audio(path, participants, config, hook, seconds)
            video = pending.result()
        between_stages()
        return video, audio
    audio = _run_audio(path, participants, config, hook, seconds) if has_audio else None
    between_stages()
    video = (_run_video(path, participants, config, hook, seconds, duration_s, processes)
             if use_video else None)
    between_stages()
    return video, audio


def _run_video(path, participants, config, hook, seconds, duration_s: float,
               processes: int = 1) -> StreamResult:
    from .video.pipeline import analyze_video

    return _timed("video", seconds, analyze_video, path, participants,
                  face_fps=config.face_fps, pose_fps=config.pose_fps,
                  expressions=config.expressions, hook=hook,
                  duration_s=duration_s, processes=processes)


def _run_audio(path, participants, config, hook, seconds) -> StreamResult:
    from .audio.pipeline import analyze_audio

    # a mixed track of unknown speakers: one placeholder participant, whose voices get counted
    return _timed("audio", seconds, analyze_audio, path, participants or [Participant("P1")],
                  sr=config.audio_sr, speakers=voice_count(config, participants),
                  vad=config.vad, pitch=config.pitch, voice_summary=config.voice, overlap=config.overlap,
                  tone_shift=config.tone_shift, hook=hook)


def _run_attribution(audio: StreamResult, video: StreamResult | None,
                     participants: list[Participant], config: AnalysisConfig, duration_s: float,
                     seconds: dict) -> tuple[list[Participant], StreamResult]:
    from .dynamics.mixed_track import attribute_mixed_track

    return _timed("attribution", seconds, attribute_mixed_track, audio, video, participants,
                  names=config.names, duration_s=duration_s)


def _run_conversation(audio: StreamResult, participants, duration_s, seconds,
                      config: AnalysisConfig) -> StreamResult:
    from .dynamics.turns import conversation

    active = audio.samples[audio.samples["cue"] == "voice.active"]
    names = [p.name for p in participants]
    return _timed("conversation", seconds, conversation, active, names,
                  duration_s=float(duration_s), params=config.turns)


def _run_words(path: str, config: AnalysisConfig, participants: list[Participant],
               results: dict[str, StreamResult], hook: Hook, seconds: dict):
    """The words (the uploaded transcript's, else the recogniser's) and the verbal cues."""
    from .dynamics.spoken_words import call_verbal_cues, call_words

    names = [p.name for p in participants]
    segments = concat_segments([r.segments for r in results.values()])
    speech = segments[(segments["kind"] == "speech") & segments["participant"].isin(names)]
    words, lines, prov = _timed("words", seconds, call_words, path, participants, speech,
                                transcript=config.transcript,
                                whisper_model=config.whisper_model, hook=hook)
    verbal = _timed("verbal", seconds, call_verbal_cues, words, lines, names, results["audio"],
                    phrases=config.phrases, params=config.verbal)
    verbal.provenance.update(prov)
    return words, verbal


def _run_listening(samples, segments, participants: list[Participant], duration_s: float,
                   seconds: dict, config: AnalysisConfig) -> StreamResult:
    from .dynamics.listening import listening

    return _timed("listening", seconds, listening, samples, segments,
                  [p.name for p in participants], duration_s=float(duration_s),
                  sync=config.sync, params=config.listening)


__all__ = ["Hook", "analyze", "default_workers"]
