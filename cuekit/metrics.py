"""The metric registry: the single place that defines the summary metrics (``summary.json``).

Each :class:`Metric` names one summary key and says what it is for people (title, a short column
heading, a plain explanation), how to read it (unit, digits, whether higher is better) and how it
is computed (the definition, its numbers taken from the parameters it uses, :mod:`cuekit.params`).
The dashboard's scorecard, tooltips and compare page, the HTML report, the CLI's table and the
batch summary's column order all read it; nothing guesses a unit from a name.

Adding a metric is one entry in :data:`METRICS` (the stage that computes it adds the key to its
summary; ``tests/test_metrics.py`` checks every key a full analysis writes is registered).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .params import LISTENING, SYNC, TONE_SHIFT, TURNS, VERBAL, VOICE

UNITS = ("share", "count", "per_min", "s", "st", "Hz", "dB", "syl/s", "words/min", "0/1", "z",
         "p", "name", "")
BETTER = ("higher", "lower", "")  # "": neither, it depends on the call and the role
STAGES = ("audio", "video", "turns", "words", "listening")


@dataclass(frozen=True)
class Metric:
    """One summary metric.

    ``name`` the summary key · ``title`` for people · ``short`` a table heading (a trailing
    ``*`` = while the other person speaks) · ``unit`` one of :data:`UNITS` (``share`` is 0..1
    shown as %, ``per_min`` a rate per minute, ``0/1`` a yes/no flag, ``name`` a participant
    name) · ``definition`` how it is computed · ``explanation`` what it means for listening ·
    ``better`` ``higher``/``lower``/``""`` · ``stage`` who computes it · ``scope``
    ``participant`` or ``pair`` · ``digits`` after the point · ``in_profile`` shown in the
    listening profile (the dashboard's scorecard and the report).
    """

    name: str
    title: str
    short: str
    unit: str
    definition: str
    explanation: str
    better: str
    stage: str
    scope: str = "participant"
    digits: int = 1
    in_profile: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNITS or self.better not in BETTER or self.stage not in STAGES \
                or self.scope not in ("participant", "pair"):
            raise ValueError(f"metric {self.name!r}: bad unit, better, stage or scope")

    def format(self, value) -> str:
        """``value`` for people: shares as %, counts as integers, rates as /min, else with the
        unit; "–" when missing (None or NaN)."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        if self.unit == "name":
            return str(value)
        if self.unit == "share":
            return f"{value:.0%}"
        if self.unit == "count":
            return f"{value:.0f}"
        if self.unit == "0/1":
            return "yes" if value else "no"
        if self.unit == "per_min":
            return f"{value:.{self.digits}f}/min"
        return f"{value:.{self.digits}f} {self.unit}".rstrip()


_TS = TONE_SHIFT
_RAISED = (f"a stretch of at least {_TS.min_s:g} s in which the speaker's running median pitch "
           f"over {_TS.median_window_s:g} s is more than {_TS.pitch_rise_st:g} st above their "
           f"whole-call median, or their loudness more than {_TS.loudness_rise_db:g} dB above "
           f"theirs (stretches under {_TS.bridge_s:g} s apart are one)")
_TURN = (f"a turn runs from its holder's first solo speech to their last before someone else's "
         f"solo speech of at least {TURNS.keep_floor_s:g} s takes the floor; pauses and others' "
         "speech that does not take the floor stay inside it")
_PER_LISTENING = (f"per minute of listening time with the face seen; NaN below "
                  f"{LISTENING.min_listening_s:g} s of it")
_SYNC = (f"windowed lagged cross-correlation of motion energy, head movement and smile "
         f"({SYNC.window_s:g} s windows every {SYNC.win_step_s:g} s, lags up to "
         f"±{SYNC.lag_max_s:g} s)")

METRICS: dict[str, Metric] = {m.name: m for m in [
    # -- the listening profile (cuekit.dynamics.profile)
    Metric("listening_s", "Time listening", "listening s", "s",
           "Seconds during which someone else speaks and this participant does not "
           "(speech segments).",
           "How long you were in the listener's seat.", "", "listening", in_profile=True),
    Metric("eye_contact_listening", "Eye contact while listening", "eye contact*", "share",
           "Share of the observed gaze.on_screen samples inside listening time that are 1.",
           "How much you looked at the screen while the other was talking.", "higher",
           "listening", in_profile=True),
    Metric("nods_per_min_listening", "Nods while listening", "nods/min*", "per_min",
           f"Nod segments starting inside listening time, {_PER_LISTENING}.",
           "How often you nodded while the other talked.", "higher", "listening",
           in_profile=True),
    Metric("smiles_per_min_listening", "Smiles while listening", "smiles/min*", "per_min",
           f"Smile segments (the video stage's) starting inside listening time, {_PER_LISTENING}.",
           "How often you smiled while the other talked.", "higher", "listening",
           in_profile=True),
    Metric("backchannels_per_min_listening", "Backchannels while listening", "backch./min*",
           "per_min",
           f"Backchannel segments (overlaps shorter than {TURNS.backchannel_max_s:g} s after "
           "which the floor holder keeps the floor) starting inside another's speech, per "
           f"minute of listening; NaN below {LISTENING.min_listening_s:g} s of it.",
           "How often you said 'mm-hm', 'yes' and the like without taking over.", "higher",
           "listening", in_profile=True),
    Metric("interruptions_made", "Interruptions made", "interrupts", "count",
           "Overlaps this participant started after which they held the floor "
           f"(turn-taking: {_TURN}).",
           "How often you cut in and took over.", "lower", "turns", in_profile=True),
    Metric("interruptions_suffered", "Interruptions suffered", "cut off", "count",
           "Overlaps someone else started while this participant held the floor, after which "
           "the other held it.",
           "How often you were cut off.", "", "turns", in_profile=True),
    Metric("response_latency_s", "Response latency", "latency", "s",
           "Median floor-transfer offset when this participant takes the floor from someone "
           "else (Heldner & Edlund 2010): start of their turn minus the end of the other's "
           "speech; + = a silent gap, - = they started before the other stopped.",
           "How long you usually let a silence last before answering (below 0: you started "
           "while the other was still talking).", "", "turns", digits=2, in_profile=True),
    Metric("pause_median_s", "Pauses within own turns", "pause s", "s",
           "Median length of the silences inside this participant's own turns (pause "
           "segments).",
           "How long you pause while you have the floor.", "", "listening", in_profile=True),
    Metric("synchrony_with_others", "Movement synchrony", "synchrony", "z",
           f"Mean over this participant's pairs of the pair synchrony (Fisher z of peak |r|, "
           f"{_SYNC}).",
           "How much your movements went together with the other's.", "higher", "listening",
           digits=2, in_profile=True),
    Metric("follows_by_s", "Leading or following", "follows s", "s",
           "Mean over pairs of the lag of above-chance synchrony from this participant's side: "
           "+ = they trail the other (follow), - = the other trails them (lead).",
           "Whether you tended to mirror the other (+) or they mirrored you (-).", "",
           "listening", in_profile=True),
    Metric("mirror_answers", "Mirroring answers", "mirrors", "count",
           "Mirror segments in which this participant is the one who answered (followed a "
           "movement, posture or smile, or nodded along).",
           "How often you echoed the other's posture, smile or movement.", "higher",
           "listening", in_profile=True),
    Metric("other_raised_tone_episodes", "Others' raised tone", "others raised", "count",
           f"The others' tone_shift segments (raised voice: {_RAISED}), overlapping ones "
           "counted once.",
           "How often the other's voice rose.", "", "listening", in_profile=True),
    Metric("tone_shifts_under_pressure", "Tone under pressure", "own raised", "count",
           "This participant's tone_shift segments starting during, or within "
           f"{LISTENING.tone_response_s:g} s after, another's.",
           "How often your own tone changed while the other's was rising.", "lower",
           "listening", in_profile=True),
    Metric("pace_difference_syl_s", "Pace difference", "pace diff", "syl/s",
           "This participant's mean voice.syllable_rate over their speech minus the mean of "
           "the others'; + = faster.",
           "How much faster (+) or slower (-) you spoke than the other.", "", "listening",
           in_profile=True),
    # -- turn-taking (cuekit.dynamics.turns)
    Metric("talk_share", "Talk share", "talk", "share",
           "This participant's speech time over everyone's.",
           "A listener who speaks well under half the time leaves room for the other.", "",
           "turns", in_profile=True),
    Metric("turns", "Turns", "turns", "count",
           f"Times this participant took the floor ({_TURN}).",
           "Many short turns mean a lively exchange; few long ones, a monologue.", "", "turns",
           in_profile=True),
    Metric("longest_monologue_s", "Longest monologue", "longest s", "s",
           f"Length of this participant's longest turn ({_TURN}); the coaching moments' "
           "monologues are the long turns.",
           "Long monologues turn a conversation into a presentation.", "lower", "turns",
           in_profile=True),
    Metric("backchannels", "Backchannels", "backch.", "count",
           f"Overlaps shorter than {TURNS.backchannel_max_s:g} s this participant started "
           "after which the floor holder kept the floor.",
           "Short 'mm-hm's that show you follow.", "higher", "turns"),
    # -- voice (cuekit.audio.pipeline)
    Metric("speech_s", "Speech time", "speech s", "s",
           "Seconds of this participant's speech segments.",
           "How long you spoke.", "", "audio"),
    Metric("syllables", "Syllables", "syllables", "count",
           "Syllable nuclei (intensity peaks in voiced stretches, de Jong & Wempe 2009) in "
           "this participant's speech.",
           "How much you said, without a transcript.", "", "audio"),
    Metric("pitch_median_hz", "Median pitch", "pitch", "Hz",
           "Median F0 of this participant's voiced speech; NaN below 1 s of voiced frames.",
           "Where your voice sits.", "", "audio", digits=0),
    Metric("pitch_range_st", "Pitch range", "pitch range", "st",
           "5th to 95th percentile of this participant's F0, in semitones.",
           "A narrow range sounds monotone and disengaged.", "higher", "audio",
           in_profile=True),
    Metric("pitch_variability_st", "Pitch variability", "pitch SD", "st",
           "Standard deviation of this participant's F0 in semitones.",
           "How much your pitch moves.", "higher", "audio"),
    Metric("monotone", "Monotone", "monotone", "0/1",
           f"1 when pitch_variability_st is below {VOICE.monotone_max_st:g} st.",
           "A flat voice can sound disengaged.", "lower", "audio"),
    Metric("syllable_rate", "Pace", "syl/s", "syl/s",
           "Syllables per second of speech, pauses left out (articulation rate).",
           "A calm pace is easier to follow; rushing can sound impatient.", "", "audio",
           in_profile=True),
    Metric("speech_rate", "Speech rate", "speech rate", "syl/s",
           f"Syllables per second with the pauses shorter than {VOICE.max_pause_in_turn_s:g} s "
           "inside this participant's turns counted in (never above syllable_rate).",
           "Your pace including short pauses.", "", "audio"),
    Metric("loudness_median_db", "Median loudness", "loudness", "dB",
           "Median RMS level of this participant's speech, dB re full scale.",
           "How loud you were on the recording.", "", "audio"),
    # -- face and body (cuekit.video): rates per minute of face time
    Metric("face_present_share", "Face seen", "face seen", "share",
           "Share of the sampled frames in which this participant's face was found.",
           "How much of the call your face was visible.", "higher", "video"),
    Metric("gaze_on_screen_share", "Looking at the screen", "on screen", "share",
           "Mean of gaze.on_screen over the frames with a face.",
           "How much you looked at the screen overall.", "higher", "video"),
    Metric("blinks", "Blinks", "blinks", "count", "Blink segments.", "Blinks seen.", "",
           "video"),
    Metric("blinks_per_min", "Blink rate", "blinks/min", "per_min",
           "Blink segments per minute of face time.", "Blinks per minute.", "", "video"),
    Metric("smiles", "Smiles", "smiles", "count", "Smile segments (the video stage's).",
           "Smiles seen.", "higher", "video"),
    Metric("smiles_per_min", "Smiles", "smiles/min", "per_min",
           "Smile segments (the video stage's) per minute of face time.",
           "Warmth invites the other to keep talking.", "higher", "video", in_profile=True),
    Metric("nods", "Nods", "nods", "count", "Nod segments (head pitch oscillations).",
           "Nods seen.", "higher", "video"),
    Metric("nods_per_min", "Nod rate", "nods/min", "per_min",
           "Nod segments per minute of face time.", "How often you nodded overall.", "higher",
           "video"),
    Metric("shakes", "Head shakes", "shakes", "count",
           "Head-shake segments (head yaw oscillations).", "Head shakes seen.", "", "video"),
    Metric("shakes_per_min", "Head-shake rate", "shakes/min", "per_min",
           "Head-shake segments per minute of face time.", "How often you shook your head.", "",
           "video"),
    Metric("gaze_aways", "Looking away", "look-aways", "count",
           "gaze_away segments (the video stage's).", "How often you looked away.", "lower",
           "video"),
    Metric("smile_mean", "Mean smile", "smile", "",
           "Mean of expr.smile (0..1 over the person's own baseline).",
           "How much you smiled on average.", "higher", "video", digits=2),
    Metric("motion_energy_mean", "Mean motion", "motion", "",
           "Mean of body.motion_energy (share of changed pixels in the participant's region).",
           "How much you moved.", "", "video", digits=3),
    # -- words (cuekit.dynamics.verbal; an uploaded transcript or --transcribe)
    Metric("words", "Words spoken", "words", "count",
           "Words attributed to this participant (transcript or speech recogniser).",
           "How much you said.", "", "words", digits=0),
    Metric("words_per_min", "Words per minute", "words/min", "words/min",
           "Words attributed to this participant per minute of their speech time; NaN when "
           "none of their words is known.",
           "Your pace in words.", "", "words", digits=0),
    Metric("fillers_per_min", "Fillers per minute", "fillers/min", "per_min",
           "Filler words and phrases (phrases.toml: um, uh, you know, I mean …) per minute of "
           "own speech. The recogniser leaves many fillers out: a floor, not a count.",
           "How often you filled a pause with um or uh.", "lower", "words"),
    Metric("questions", "Questions asked", "questions", "count",
           f"Sentences ending with '?', or with a final pitch rise of at least "
           f"{VERBAL.question_rise_st:g} st that open like a question.",
           "How often you asked.", "", "words", digits=0),
    Metric("open_questions", "Open questions", "open q", "count",
           "Questions opening with what, how, why, tell me … (phrases.toml), not clarifying.",
           "Questions that invite the other to talk.", "higher", "words", digits=0,
           in_profile=True),
    Metric("clarifying_questions", "Clarifying questions", "clarifying q", "count",
           f"Questions with a clarifying phrase, or sharing at least {VERBAL.clarify_shared} "
           "content words with the other's previous turn.",
           "Asking before assuming: checking what the other meant.", "higher", "words",
           digits=0, in_profile=True),
    Metric("paraphrases", "Paraphrases", "paraphrases", "count",
           f"Sentences (not questions) sharing at least {VERBAL.paraphrase_shared} content-word "
           f"stems with the other's previous turn, opening with a paraphrase opener or taking "
           f"{VERBAL.paraphrase_share:.0%} of their own content from it.",
           "Restating what the other said, so they know they were heard.", "higher", "words",
           digits=0, in_profile=True),
    Metric("empathy_statements", "Empathy and acknowledgement", "empathy", "count",
           "Sentences with an empathy or acknowledgement phrase (phrases.toml).",
           "Naming the other's situation or feelings.", "higher", "words", digits=0,
           in_profile=True),
    Metric("longest_monologue_words", "Longest monologue in words", "monologue words", "count",
           f"Most words in a row with no utterance of the other's of {VERBAL.talk_over_min_words} "
           "words or more between them.",
           "The longest stretch you talked without the other saying more than a backchannel.",
           "lower", "words", digits=0),
    Metric("talk_over_words", "Words over the other", "talk-over words", "count",
           f"Words of utterances of {VERBAL.talk_over_min_words} or more words that lie inside "
           "the other's utterance (did not take the floor).",
           "Talking while the other held the floor.", "lower", "words", digits=0),
    Metric("sentiment_mean", "Sentiment of the words", "sentiment", "",
           "Mean VADER compound score of this participant's utterances (-1 negative … +1 "
           "positive). The tone of the words, not empathy.",
           "How positive your words were.", "", "words", digits=2),
    # -- per pair (cuekit.dynamics.listening)
    Metric("synchrony", "Synchrony", "synchrony", "z",
           f"Mean Fisher z of peak |r| over matched segments, all modalities ({_SYNC}).",
           "How much the two moved together.", "higher", "listening", scope="pair", digits=2),
    Metric("synchrony_surrogate", "Synchrony by chance", "chance", "z",
           f"The same over {SYNC.n_surrogates} segment-shuffled surrogates (mean).",
           "What synchrony looks like by chance.", "", "listening", scope="pair", digits=2),
    Metric("synchrony_surrogate_p95", "Synchrony by chance (95th percentile)", "chance p95", "z",
           "95th percentile of the surrogates' synchrony.",
           "Synchrony above this is unlikely by chance.", "", "listening", scope="pair",
           digits=2),
    Metric("synchrony_p", "Synchrony p", "p", "p",
           "Share of surrogates at least as synchronous as the real pair.",
           "Below 0.05: more synchrony than chance.", "lower", "listening", scope="pair",
           digits=3),
    Metric("leader", "Leader", "leader", "name",
           "The participant the other trails (from the lag of above-chance synchrony); none "
           "when nobody leads.", "Who set the movement.", "", "listening", scope="pair"),
    Metric("lag_s", "Lag", "lag", "s",
           "How long the follower trails the leader.", "How quickly one mirrored the other.", "",
           "listening", scope="pair"),
    *[Metric(f"synchrony_{m}", f"Synchrony of {what}", f"sync {m}", "z",
             f"As synchrony, {what} only.", f"How much your {what} went together.", "higher",
             "listening", scope="pair", digits=2)
      for m, what in (("motion", "motion"), ("head", "head movement"), ("smile", "smiles"))],
    *[Metric(f"synchrony_{m}_p", f"Synchrony of {what}: p", f"sync {m} p", "p",
             f"As synchrony_p, {what} only.", "Below 0.05: more than chance.", "lower",
             "listening", scope="pair", digits=3)
      for m, what in (("motion", "motion"), ("head", "head movement"), ("smile", "smiles"))],
]}


def metric(name: str) -> Metric | None:
    return METRICS.get(name)


def title(name: str) -> str:
    """The metric's title, or its key when it is not registered."""
    m = METRICS.get(name)
    return m.title if m else name


def format_metric(name: str, value) -> str:
    """``value`` of metric ``name`` for people (:meth:`Metric.format`); a key not in the
    registry is shown as a plain number."""
    m = METRICS.get(name)
    if m is not None:
        return m.format(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.3g}" if isinstance(value, (int, float)) else str(value)


def profile_metrics() -> list[Metric]:
    """The metrics of the listening profile (scorecard), in registry order."""
    return [m for m in METRICS.values() if m.in_profile]


def order(names) -> list[str]:
    """``names`` in registry order, unregistered ones after them in their own order."""
    rank = {n: i for i, n in enumerate(METRICS)}
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), names.index(n)))
