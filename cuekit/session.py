"""Analyse one recording end to end and assemble its :class:`~cuekit.cueset.CueSet`.

The order is fixed and one-way: probe → layout → audio pipeline, then video pipeline (one after
the other, so their memory peaks do not add; each spreads its own work over the cores) → who
speaks when (attribution) → conversation timing → synchrony and listening profile → CueSet.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable

import numpy as np

from . import __version__, layout, media
from .config import AnalysisConfig
from .cues import StreamResult, concat_samples, concat_segments, make_words, series_to_samples
from .cueset import CueSet
from .errors import InputError, MediaError
from .layout import Participant
from .runtime import blas_single_threaded

Hook = Callable[[str, int, int], None]
_LAYOUT_PROBE_S = 20.0  # frames from the first seconds are enough to see the tiles
_LAYOUT_LATER_STEP_S = 30.0  # after them, one key frame this often to catch a later change
_LAYOUT_PROBE_WIDTH = 640  # px: tiles and faces are large enough to see at this width
_CHANNEL_PROBE_S = 120.0  # s of stereo audio compared to tell one mixed track from two voices
_SAME_CHANNEL_CORR = 0.98  # stereo channels this alike are one mixed track copied twice


def analyze(path: str, config: AnalysisConfig | None = None, *, hook: Hook | None = None,
            workers: int | None = None) -> CueSet:
    """Analyse the recording at ``path``. Raises ``MediaError``/``InputError`` on bad input.

    ``workers``: processes the video stage is spread over (a call cut into that many stretches
    of time, see ``cuekit.video.pipeline.analyze_video``; the audio stage then runs beside
    them). Default :func:`default_workers`. The results do not depend on it beyond the face
    model's own noise."""
    with blas_single_threaded():
        return _analyze(path, config, hook, workers)


def _analyze(path: str, config: AnalysisConfig | None, hook: Hook | None,
             workers: int | None) -> CueSet:
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

    participants = _participants(path, info, config, use_video, notes)
    seconds["probe_layout"] = time.perf_counter() - clock

    processes = default_workers() if workers is None else max(1, int(workers))
    video, audio = _run_streams(path, participants, config, hook, seconds, use_video, has_audio,
                                info.duration_s, processes)

    if audio is not None and audio.provenance.get("mixed"):
        participants, audio = _attribute(audio, video, participants, config, info.duration_s)
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
            if "|" in name:
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


def _participants(path: str, info: media.MediaInfo, config: AnalysisConfig, use_video: bool,
                  notes: list[str]) -> list[Participant]:
    names = config.names
    if use_video:
        boxes = _boxes(path, info, config, notes)
        if names is None and len(config.audio_files) == len(boxes):
            names = list(config.audio_files)  # one recording per tile names them, in order
        participants = layout.name_participants(boxes, names)
    elif config.audio_files:
        participants = [Participant(name=n) for n in (names or list(config.audio_files))]
    elif info.audio_channels >= 2 and _channels_distinct(path, config, info.audio_channels):
        participants = layout.channel_participants(info.audio_channels, names)
        notes.append(f"audio-only: one participant per channel ({info.audio_channels} channels)")
    else:
        n = config.speakers or (len(names) if names else 0)
        participants = layout.voice_participants(n, names) if n else []
        notes.append("audio-only, one mixed track: speakers told apart by voice")
    if config.audio_files:
        unknown = set(config.audio_files) - {p.name for p in participants}
        if unknown:
            raise InputError(f"--audio names {sorted(unknown)} match no participant "
                             f"({', '.join(p.name for p in participants)})")
        missing = [p.name for p in participants if p.name not in config.audio_files]
        if missing:
            raise InputError(f"--audio gives no file for {', '.join(missing)}: give every "
                             "participant's own recording, or none")
        participants = [Participant(p.name, p.box, None, config.audio_files.get(p.name))
                        for p in participants]
    return participants


def _boxes(path: str, info: media.MediaInfo, config: AnalysisConfig,
           notes: list[str] | None = None) -> list:
    width = min(info.width, _LAYOUT_PROBE_WIDTH) if info.width else None
    sampled = list(media.iter_frames(path, step_s=4.0, end_s=_LAYOUT_PROBE_S, width=width))
    if not sampled:
        raise MediaError(f"no decodable video frame in {path}")
    h, w = _upright_size(info)
    if "," in config.layout:
        return layout.reading_order(layout.parse_boxes(config.layout, w, h))
    if config.layout != "auto":
        return layout.grid_boxes(config.layout, w, h)
    # the rest of the call, cheaply: the key frame before every _LAYOUT_LATER_STEP_S (one seek
    # and one decode each: 5 s for a 60-minute 30 fps call, against 31 s decoding on to the time)
    later = np.arange(_LAYOUT_PROBE_S + _LAYOUT_LATER_STEP_S / 2, info.duration_s,
                      _LAYOUT_LATER_STEP_S)
    sampled += [(t, f) for t, f in media.frames_near(path, later, width=width, max_decode=1)
                if t > sampled[-1][0] + 1.0 and f.shape == sampled[0][1].shape]
    # found on the small frames, given back in pixels of the full frame
    guess = layout.detect_tiles([f for _, f in sampled], [t for t, _ in sampled], size=(w, h))
    wanted = len(config.names or config.audio_files) or None  # names, or one recording each
    if wanted is not None and wanted != len(guess.boxes) and wanted in (1, 2, 4):
        return layout.grid_boxes({1: "1", 2: "2x1", 4: "2x2"}[wanted], w, h)  # the names win
    if notes is not None:
        notes.extend(f"layout: {n}" for n in guess.notes)
        if len(guess.segments) > 1:
            ends = [b for _, b, _ in guess.segments[:-1]] + [info.duration_s or
                                                             guess.segments[-1][1]]
            stretches = "; ".join(f"{a:.0f}-{b:.0f} s: {spec}"
                                  for (a, _, spec), b in zip(guess.segments, ends, strict=True))
            notes.append(f"layout changes during the call ({stretches}; frames every 4 s of "
                         f"the first {_LAYOUT_PROBE_S:.0f} s, then every "
                         f"{_LAYOUT_LATER_STEP_S:.0f} s); the longest stretch's tiles are "
                         f"used: {guess.layout}")
    return guess.boxes


def _upright_size(info: media.MediaInfo) -> tuple[int, int]:
    """(height, width) of frames as shown: phone videos rotated by 90° swap the two."""
    if info.rotation_deg in (90, 270):
        return info.width, info.height
    return info.height, info.width


def _channels_distinct(path: str, config: AnalysisConfig, channels: int) -> bool:
    # the first minutes tell a copied mono track from two voices; the audio stage decodes it all
    y = media.load_audio(path, sr=config.audio_sr, mono=False, end_s=_CHANNEL_PROBE_S)
    if y.shape[1] < config.audio_sr or y.shape[0] < 2:
        return False
    a, b = y[0], y[1]
    if float(np.std(a)) < 1e-6 or float(np.std(b)) < 1e-6:
        return bool(np.std(a) + np.std(b) > 1e-6)  # one silent channel: they differ
    return float(np.corrcoef(a, b)[0, 1]) < _SAME_CHANNEL_CORR


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
                 duration_s: float, processes: int = 1,
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
        _return_freed_memory()
        return video, audio
    audio = _run_audio(path, participants, config, hook, seconds) if has_audio else None
    _return_freed_memory()
    video = (_run_video(path, participants, config, hook, seconds, duration_s, processes)
             if use_video else None)
    _return_freed_memory()
    return video, audio


def _return_freed_memory() -> None:
    """Hand memory freed by a stage back to the system (glibc keeps it for reuse otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _run_video(path, participants, config, hook, seconds, duration_s: float,
               processes: int = 1) -> StreamResult:
    from .video.pipeline import analyze_video

    return _timed("video", seconds, analyze_video, path, participants,
                  face_fps=config.face_fps, pose_fps=config.pose_fps,
                  expressions=config.expressions, hook=hook,
                  duration_s=duration_s, processes=processes)


def _run_audio(path, participants, config, hook, seconds) -> StreamResult:
    from .audio.pipeline import analyze_audio

    # An audio-only mixed track with no count given: one placeholder whose voices get counted.
    speakers = config.speakers or (len(participants) if participants else None)
    return _timed("audio", seconds, analyze_audio, path, participants or [Participant("P1")],
                  sr=config.audio_sr, speakers=speakers, vad=config.vad, pitch=config.pitch,
                  voice_summary=config.voice, tone_shift=config.tone_shift, hook=hook)


def _silent(samples, participants, audio: StreamResult, duration_s: float) -> list:
    """``voice.active = 0`` series for participants the audio never heard (0 = listened and
    heard nothing, which is a measurement, unlike NaN)."""
    heard = set(samples.loc[samples["cue"] == "voice.active", "participant"])
    grid = np.arange(0.0, max(duration_s, 0.0), float(audio.provenance.get("grid_s", 0.05)))
    return [series_to_samples(grid, p.name, "voice.active", np.zeros(len(grid)))
            for p in participants if p.name not in heard]


def _attribute(audio: StreamResult, video: StreamResult | None, participants: list[Participant],
               config: AnalysisConfig, duration_s: float) -> tuple[list[Participant], StreamResult]:
    """Rename the mixed track's voices (V1, V2 …) to participants; with video, also mark
    overlaps seen on the faces (the track gives each moment to one voice)."""
    from .dynamics.attribution import add_visual_overlaps, attribute_voices, fuse_voices

    fused = fuse_voices(audio, video.samples if video is not None else None, participants)
    audio = fused or audio  # with faces in the tiles, voices split by voice and mouth together
    voices = list(audio.provenance.get("voices", []))
    if not participants:  # audio only, count estimated from the voices (one when none speaks)
        participants = layout.voice_participants(max(1, len(voices)), config.names)
    mapping = {v: v for v in voices} if fused else attribute_voices(
        audio.samples, voices, video.samples if video is not None else None, participants)
    rename = lambda s: s.map(lambda v: mapping.get(v, v))
    samples = audio.samples.assign(participant=rename(audio.samples["participant"]))
    samples = concat_samples([samples, *_silent(samples, participants, audio, duration_s)])
    segments = audio.segments.assign(participant=rename(audio.segments["participant"]))
    summary = {mapping.get(k, k): v for k, v in audio.summary.items()}
    provenance = dict(audio.provenance, voice_map=mapping)
    renamed = StreamResult(samples, segments, provenance, summary)
    if video is None:
        return participants, renamed
    return participants, add_visual_overlaps(renamed, video.samples, [p.name for p in participants])


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
    from .dynamics.verbal import load_phrases, verbal_cues

    t0 = time.perf_counter()
    names = [p.name for p in participants]
    segments = concat_segments([r.segments for r in results.values()])
    speech = segments[(segments["kind"] == "speech") & segments["participant"].isin(names)]
    lines = None
    if config.transcript:
        words, lines, prov = _transcript_words(config.transcript, names, speech)
    else:
        words, prov = _recognised_words(path, config, participants, speech, hook)
    seconds["words"] = time.perf_counter() - t0
    audio = results["audio"]
    speech_s = {n: float(audio.summary.get(n, {}).get("speech_s", 0.0)) for n in names}
    pitch = {}
    for n, g in audio.samples[audio.samples["cue"] == "voice.pitch_st"].groupby("participant"):
        pitch[n] = (g["t"].to_numpy("float64"), g["value"].to_numpy("float64"))
    verbal = _timed("verbal", seconds, verbal_cues, words, names, speech_s=speech_s, pitch=pitch,
                    phrases=load_phrases(config.phrases), lines=lines, params=config.verbal)
    verbal.provenance.update(prov)
    return words, verbal


def _transcript_words(path: str, names: list[str], speech):
    from .dynamics.words import transcript_words
    from .transcript import map_speakers, read_transcript, transcript_segments

    cues = read_transcript(path)
    mapping = map_speakers(cues, names, speech)
    return (transcript_words(cues, mapping), transcript_segments(cues, mapping),
            {"words_from": "transcript", "transcript": {"cues": len(cues), "speakers": mapping}})


def _recognised_words(path: str, config: AnalysisConfig, participants: list[Participant], speech,
                      hook: Hook):
    """Each participant's own track transcribed apart when they have one (the words are
    theirs); a mixed track once, each word then given to whoever's speech covers it. The audio
    is decoded again here (0.05 s a minute of AAC): the audio stage lets its track go before
    the video stage runs, so that the two memory peaks do not add (see ``_run_streams``)."""
    from .audio.pipeline import load_signals
    from .audio.transcribe import WHISPER_SR, Transcriber
    from .dynamics.words import attribute_words

    recogniser = Transcriber(config.whisper_model)
    signals = load_signals(path, participants, sr=WHISPER_SR)
    spans = lambda rows: list(zip(rows["start"].tolist(), rows["end"].tolist(), strict=True))
    if "mix" in signals:
        words = recogniser.words(signals["mix"], speech=spans(speech), hook=hook)
        words = attribute_words(words, speech, [p.name for p in participants])
    else:
        parts = [recogniser.words(y, speech=spans(speech[speech["participant"] == name]),
                                  hook=hook).assign(participant=name)
                 for name, y in signals.items()]
        words = make_words(r for w in parts for r in w.itertuples(index=False))
    return words, {"words_from": f"whisper {recogniser.name} (faster-whisper, int8)",
                   "words_unattributed": int((words["participant"] == "").sum())}


def _run_listening(samples, segments, participants: list[Participant], duration_s: float,
                   seconds: dict, config: AnalysisConfig) -> StreamResult:
    from .dynamics.listening import listening

    return _timed("listening", seconds, listening, samples, segments,
                  [p.name for p in participants], duration_s=float(duration_s),
                  sync=config.sync, params=config.listening)


__all__ = ["Hook", "analyze", "default_workers"]
