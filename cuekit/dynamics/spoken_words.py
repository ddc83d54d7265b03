"""The words stage: the words of a call (an uploaded transcript's, else the recogniser's) with
who said each, and the verbal cues over them.

An uploaded transcript's speakers are matched to the participants by their speech
(:func:`cuekit.transcript.map_speakers`). The recogniser transcribes each participant's own
track apart when they have one (the words are theirs), else the mixed track once, each word then
given to whoever's speech covers it (:func:`cuekit.dynamics.words.attribute_words`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..cues import StreamResult, make_words
from ..layout import Participant
from ..params import VERBAL, VerbalParams


def call_words(path: str, participants: list[Participant], speech: pd.DataFrame, *,
               transcript: str | None, whisper_model: str | None,
               hook: Callable[[str, int, int], None] | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """``(words, lines, provenance)``: the words table, the transcript's lines (its cues, as
    ``transcript`` segments; None for recognised words) and how the words were found.
    ``speech``: the participants' ``speech`` segments (who speaks when)."""
    names = [p.name for p in participants]
    if transcript:
        return _transcript_words(transcript, names, speech)
    words, prov = _recognised_words(path, participants, speech, whisper_model, hook)
    return words, None, prov


def _transcript_words(path: str, names: list[str], speech: pd.DataFrame):
    from ..transcript import map_speakers, read_transcript, transcript_segments
    from .words import transcript_words

    cues = read_transcript(path)
    mapping = map_speakers(cues, names, speech)
    return (transcript_words(cues, mapping), transcript_segments(cues, mapping),
            {"words_from": "transcript", "transcript": {"cues": len(cues), "speakers": mapping}})


def _recognised_words(path: str, participants: list[Participant], speech: pd.DataFrame,
                      whisper_model: str | None, hook) -> tuple[pd.DataFrame, dict]:
    """The audio is decoded again here (0.05 s a minute of AAC): the audio stage lets its
    track go before the video stage runs, so that the two memory peaks do not add (see
    ``cuekit.session``)."""
    from ..audio.pipeline import load_signals
    from ..audio.transcribe import WHISPER_SR, Transcriber
    from .words import attribute_words

    recogniser = Transcriber(whisper_model)
    signals = load_signals(path, participants, sr=WHISPER_SR)
    spans = lambda rows: rows[["start", "end"]].to_numpy("float64")  # noqa: E731
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


def call_verbal_cues(words: pd.DataFrame, lines: pd.DataFrame | None, names: list[str],
                     audio: StreamResult, *, phrases: str | None = None,
                     params: VerbalParams = VERBAL) -> StreamResult:
    """:func:`cuekit.dynamics.verbal.verbal_cues` of the call's words, with each participant's
    speech time and pitch track read from the audio stage's result; ``phrases`` a phrase file
    (None: the bundled one)."""
    from .verbal import load_phrases, verbal_cues

    speech_s = {n: float(audio.summary.get(n, {}).get("speech_s", 0.0)) for n in names}
    pitch = {}
    for n, g in audio.samples[audio.samples["cue"] == "voice.pitch_st"].groupby("participant"):
        pitch[n] = (g["t"].to_numpy("float64"), g["value"].to_numpy("float64"))
    return verbal_cues(words, names, speech_s=speech_s, pitch=pitch,
                       phrases=load_phrases(phrases), lines=lines, params=params)


__all__ = ["call_verbal_cues", "call_words"]
