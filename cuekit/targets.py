"""The coach's indicators and their reference ranges: the one table the session review, the person
and team pages read (next to the metric registry, :mod:`cuekit.metrics`, whose summary metrics
they show).

Each :class:`Indicator` reads one summary metric of a participant and shows it in a unit a coach
reads (%, per minute, per 10 minutes, seconds, words per minute), tied to the active-listening
technique it measures, with a target range and where that range comes from. Where no published
norm exists the range is cuekit's own and says so; some indicators have no range at all and are
read against the person's own usual value only. docs/dashboard.md lists the sources in full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .metrics import METRICS

TECHNIQUES = {
    "attention": "Paying attention",
    "engagement": "Showing engagement",
    "not_interrupting": "Not interrupting",
    "silence": "Using silence",
    "reading_cues": "Reading the other's cues",
    "paraphrasing": "Paraphrasing and clarifying",
    "empathy": "Acknowledging feelings",
    "mirroring": "Mirroring",
    "room": "Leaving room to talk",
    "questions": "Asking questions",
    "pace": "Pace",
}

ARGYLE = ("Argyle & Cook 1976, Gaze and Mutual Gaze (listeners look at the speaker about 75 % of "
          "the time, speakers about 40 %); cuekit's band starts at 60 % because a video call's "
          "'on screen' is not eye contact")
GONG_TALK = ("Gong Labs, 'The talk-to-listen ratio' (2016, updated 2025; 25,537 B2B sales calls: "
             "top performers talk 43 % of the time, average reps 65–75 %, and talking more than "
             "65 % goes with fewer wins)")
TURN_TIMING = ("Stivers et al. 2009, PNAS 106(26) (10 languages: answers start within about "
               "0–200 ms of the other's end, language means 7–469 ms); Heldner & Edlund 2010, "
               "J. Phonetics 38 (most gaps between speakers are under ~700 ms). A listener who "
               "lets the other finish takes a beat: 0.2–0.7 s")
NCVS_PACE = ("National Center for Voice and Speech: conversation runs at about 110–150 words a "
             "minute; cuekit allows up to 165")
GONG_QUESTIONS = ("Gong Labs, 'The science of asking questions' (519,000 discovery calls: top "
                  "performers ask 11–14 questions a call, about 2–3 per 10 minutes of a "
                  "45–60-minute call); a service call may need fewer")
CUEKIT_OWN = "cuekit's own reference (no published norm): compare with the person's usual value"


@dataclass(frozen=True)
class Indicator:
    """One first-screen indicator.

    ``key`` its name (the summary metric, or ``<metric>_per_10min`` for a count scaled to the
    call's length) · ``metric`` the summary metric read · ``title`` for people · ``technique``
    a key of :data:`TECHNIQUES` · ``unit`` ``%``, ``/min``, ``per 10 min``, ``s``, ``wpm``, ``count`` ·
    ``low``/``high`` the target range in that unit (None: open on that side; both None: no
    target) · ``better`` ``higher``/``lower``/``""`` (inside the range is best) · ``source``
    where the range comes from.
    """

    key: str
    metric: str
    title: str
    technique: str
    unit: str
    low: float | None
    high: float | None
    source: str
    better: str = ""
    digits: int = 0

    def __post_init__(self) -> None:
        if self.metric not in METRICS or self.technique not in TECHNIQUES:
            raise ValueError(f"indicator {self.key!r}: unknown metric or technique")

    @property
    def has_target(self) -> bool:
        return self.low is not None or self.high is not None

    def value(self, metrics: dict, duration_s: float | None) -> float | None:
        """This indicator from one participant's summary metrics (None when missing)."""
        v = metrics.get(self.metric)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) \
                or not math.isfinite(v):
            return None
        if self.unit == "%":
            return 100.0 * v
        if self.unit == "per 10 min":
            if not duration_s or duration_s <= 0:
                return None
            return v * 600.0 / duration_s
        return float(v)

    def format(self, value: float | None) -> str:
        if value is None or not math.isfinite(value):
            return "–"
        if self.unit == "%":
            return f"{value:.0f}%"
        if self.unit in ("/min", "per 10 min"):
            return f"{value:.1f} {self.unit}".replace(" /min", "/min")
        if self.unit == "wpm":
            return f"{value:.0f} wpm"
        if self.unit == "count":
            return f"{value:.0f}"
        return f"{value:.{self.digits}f} s"

    def target_text(self) -> str:
        """The range for people: "35–55%", "at least 60%", "at most 1.0 per 10 min", or ""."""
        if self.low is not None and self.high is not None:
            low, high = self.format(self.low), self.format(self.high)
            unit = high.split(" ", 1)[1] if " " in high else ""
            low = low.removesuffix(" " + unit).removesuffix("%")
            return f"{low}–{high}"
        if self.low is not None:
            return f"at least {self.format(self.low)}"
        if self.high is not None:
            return f"at most {self.format(self.high)}"
        return ""

    def status(self, value: float | None) -> str:
        """``in`` the range, ``low`` or ``high`` of it, or ``""`` (no value or no target)."""
        if value is None or not self.has_target:
            return ""
        value = round(value, max(self.digits, 1))  # as shown: 55.000001% is in a 35–55% range
        if self.low is not None and value < self.low:
            return "low"
        if self.high is not None and value > self.high:
            return "high"
        return "in"


INDICATORS: dict[str, Indicator] = {i.key: i for i in [
    Indicator("eye_contact_listening", "eye_contact_listening", "Eye contact while listening",
              "attention", "%", 60, None, ARGYLE, better="higher"),
    Indicator("nods_per_min_listening", "nods_per_min_listening", "Nods while listening",
              "engagement", "/min", None, None, CUEKIT_OWN, better="higher", digits=1),
    Indicator("backchannels_per_min_listening", "backchannels_per_min_listening",
              "'Mm-hm's while listening", "engagement", "/min", None, None, CUEKIT_OWN,
              better="higher", digits=1),
    Indicator("interruptions_made_per_10min", "interruptions_made", "Interruptions",
              "not_interrupting", "per 10 min", None, 1.0, CUEKIT_OWN, better="lower", digits=1),
    Indicator("response_latency_s", "response_latency_s", "Pause before answering", "silence",
              "s", 0.2, 0.7, TURN_TIMING, digits=1),
    Indicator("talk_share", "talk_share", "Talk share", "room", "%", 35, 55, GONG_TALK),
    Indicator("longest_monologue_s", "longest_monologue_s", "Longest monologue", "room", "s",
              None, 60, "cuekit's own reference: a turn of a minute or more is a coaching moment",
              better="lower"),
    Indicator("questions_per_10min", "questions", "Questions asked", "questions", "per 10 min",
              2, 4, GONG_QUESTIONS, digits=1),
    Indicator("paraphrases", "paraphrases", "Paraphrases", "paraphrasing", "count", None, None,
              CUEKIT_OWN, better="higher"),
    Indicator("empathy_statements", "empathy_statements", "Empathy statements", "empathy",
              "count", None, None, CUEKIT_OWN, better="higher"),
    Indicator("words_per_min", "words_per_min", "Speech rate", "pace", "wpm", 110, 165,
              NCVS_PACE),
]}


def indicator_values(metrics: dict, duration_s: float | None) -> dict[str, float]:
    """Every indicator with a value for one participant's summary metrics."""
    out = {}
    for key, ind in INDICATORS.items():
        v = ind.value(metrics, duration_s)
        if v is not None:
            out[key] = v
    return out


INDICATOR_COLUMNS = ["session_id", "title", "recorded_on", "owner", "participant", "slot",
                     "indicator", "value"]


def indicator_table(metric_rows: pd.DataFrame) -> pd.DataFrame:
    """The indicators of every (session, participant) of ``Library.metric_table``'s rows: columns
    :data:`INDICATOR_COLUMNS`, in the rows' order."""
    records = []
    keys = ["session_id", "title", "recorded_on", "owner", "participant", "slot"]
    for group, g in metric_rows.groupby(keys, sort=False, dropna=False):
        duration_s = g["duration_s"].iloc[0]
        values = indicator_values(dict(zip(g["metric"], g["value"], strict=True)),
                                  None if pd.isna(duration_s) else float(duration_s))
        base = dict(zip(keys, group, strict=True))
        records += [{**base, "indicator": k, "value": v} for k, v in values.items()]
    return pd.DataFrame(records, columns=INDICATOR_COLUMNS)


def references(table: pd.DataFrame, session_id: str, person: str, slot: int, *,
               with_team: bool) -> dict[str, dict]:
    """For each indicator: the person's usual value (mean over their *other* sessions, by name)
    and, ``with_team``, the team's (mean over the other sessions in ``table`` of whoever sits in
    the same ``slot`` of the reading order, e.g. the agent). ``table``: :func:`indicator_table`
    of what the viewer may see. Values: ``{"usual", "usual_n", "team", "team_n"}`` (None/0)."""
    others = table[table["session_id"] != session_id]
    own = others[others["participant"] == person].groupby("indicator")["value"]
    out: dict[str, dict] = {k: {"usual": None, "usual_n": 0, "team": None, "team_n": 0}
                            for k in INDICATORS}
    for k, mean in own.mean().items():
        out[k].update(usual=float(mean), usual_n=int(own.size()[k]))
    if with_team:
        team = others[others["slot"] == slot].groupby("indicator")["value"]
        for k, mean in team.mean().items():
            out[k].update(team=float(mean), team_n=int(team.size()[k]))
    return out


def versus_usual(ind: Indicator, value: float | None, usual: float | None) -> str:
    """"higher than usual" / "lower than usual" / "as usual" (within 10 % of the usual value or
    of the target's width), or "" without both values."""
    if value is None or usual is None:
        return ""
    width = (ind.high - ind.low) if ind.low is not None and ind.high is not None else None
    tolerance = max(0.1 * abs(usual), 0.25 * width if width else 0.0, 1e-9)
    if abs(value - usual) <= tolerance:
        return "as usual"
    return "higher than usual" if value > usual else "lower than usual"


def change(ind: Indicator, before: float | None, now: float | None) -> str:
    """The direction from ``before`` to ``now``: ``up``, ``down``, ``same`` (within the
    tolerance of :func:`versus_usual`) or ``""`` without both."""
    said = versus_usual(ind, now, before)
    return {"higher than usual": "up", "lower than usual": "down", "as usual": "same"}.get(said,
                                                                                          "")


def is_better(ind: Indicator, before: float, now: float) -> bool | None:
    """Whether moving from ``before`` to ``now`` is an improvement: towards (or into) the target
    range, or in the ``better`` direction; None when nothing says (no target and no direction,
    or both inside the range)."""
    if ind.low is not None and ind.high is not None:
        def off(v: float) -> float:
            return max(ind.low - v, v - ind.high, 0.0)
        if off(before) == off(now):
            return None
        return off(now) < off(before)
    if ind.better == "higher" or (ind.better == "" and ind.low is not None):
        return now > before if now != before else None
    if ind.better == "lower" or (ind.better == "" and ind.high is not None):
        return now < before if now != before else None
    return None


TREND_MARKS = {"up": "↑", "down": "↓", "same": "→", "": ""}


def team_summary(table: pd.DataFrame, agents: list[str]) -> pd.DataFrame:
    """One row per agent of ``agents`` (in that order) from :func:`indicator_table` of their
    sessions (``owner`` = the agent): ``agent``, ``sessions``, ``latest`` (date),
    ``latest_title``, ``latest_session_id``, and per indicator ``<key>`` (the latest session's
    value), ``<key>:trend`` (``up``/``down``/``same`` against the mean of the agent's earlier
    sessions, ``""`` without them) and ``<key>:better`` (True/False/None, :func:`is_better`).
    Agents without a session have a row with 0 sessions."""
    records = []
    for agent in agents:
        mine = table[table["owner"] == agent]
        order = mine.drop_duplicates("session_id")[["session_id", "title", "recorded_on"]]
        order = order.sort_values("recorded_on", kind="stable")
        row: dict = {"agent": agent, "sessions": len(order), "latest": None,
                     "latest_title": "", "latest_session_id": ""}
        if len(order):
            last = order.iloc[-1]
            row.update(latest=last["recorded_on"], latest_title=last["title"],
                       latest_session_id=last["session_id"])
            earlier = mine[mine["session_id"] != last["session_id"]]
            now = mine[mine["session_id"] == last["session_id"]].set_index("indicator")["value"]
            before = earlier.groupby("indicator")["value"].mean()
            for key, ind in INDICATORS.items():
                if key not in now:
                    continue
                v, b = float(now[key]), before.get(key)
                row[key] = v
                row[f"{key}:trend"] = change(ind, None if b is None else float(b), v)
                row[f"{key}:better"] = None if b is None else is_better(ind, float(b), v)
        records.append(row)
    return pd.DataFrame(records)
