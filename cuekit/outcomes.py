"""Per-session outcomes (satisfaction, resolved on first contact, complaint …) and how a listening
indicator relates to one across sessions. Pure: no database (``cuekit.store`` keeps the values
and applies the team rules), no Streamlit.

An outcome is a number per session: a score as given, a yes/no as 1/0. The relation of an
indicator to an outcome is a least-squares line through one point per session, with the number
of sessions and Pearson's correlation; below :data:`MIN_SESSIONS` sessions it says so rather than
suggest a finding.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError

MIN_SESSIONS = 10  # fewer points than this: "too few sessions to say"
SESSION_COLUMNS = ("session_id", "session", "id", "title")  # the column naming the session
TRUE_WORDS = frozenset({"yes", "y", "true", "t"})
FALSE_WORDS = frozenset({"no", "n", "false", "f"})
MAX_NAME_CHARS = 60
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class OutcomeRow:
    """One data row of an outcomes CSV: its line in the file (the header is line 1), what names
    the session (an id or a title, see :data:`SESSION_COLUMNS`) and its outcomes."""

    line: int
    session: str
    values: dict[str, float]


def parse_value(raw: str) -> float | None:
    """A cell as a number: ``4.5`` → 4.5, ``yes``/``true``/``y`` → 1, ``no``/``false``/``n`` → 0,
    empty → None; ``ValueError`` otherwise."""
    text = raw.strip()
    if not text:
        return None
    if text.lower() in TRUE_WORDS:
        return 1.0
    if text.lower() in FALSE_WORDS:
        return 0.0
    value = float(text)  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def check_name(name: str) -> str:
    """An outcome's name, stripped; ``InputError`` when empty or too long."""
    name = " ".join(str(name).split())
    if not name:
        raise InputError("an outcome needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(f"an outcome's name has at most {MAX_NAME_CHARS} characters: {name!r}")
    return name


def edited_values(rows: Iterable[tuple[object, float | None]]) -> dict[str, float | None]:
    """The outcomes of an edited table, ``(name, value)`` rows: names checked
    (:func:`check_name`), rows without a name skipped, an empty value (None or NaN) kept as
    None (not known)."""
    wanted: dict[str, float | None] = {}
    for name, value in rows:
        if not isinstance(name, str) or not name.strip():
            continue
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        wanted[check_name(name)] = None if missing else float(value)
    return wanted


def changes(stored: dict[str, float], wanted: dict[str, float | None]
            ) -> dict[str, float | None]:
    """What to store so a session's outcomes become ``wanted``: every wanted value, and None
    (remove) for each stored outcome no longer in it."""
    return {**dict.fromkeys(set(stored) - set(wanted)), **wanted}


def parse_csv(data: str | bytes) -> tuple[str, list[OutcomeRow]]:
    """Read an outcomes CSV: a header with one session column (``session_id``, ``session``,
    ``id`` or ``title``) and one column per outcome, then a row per session.

    Returns the session column's name and the rows. Any bad cell, a row of the wrong length, a
    missing session or a session named twice raises one ``InputError`` listing every problem,
    one line each, with its row (line) number: nothing is half-imported.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("the outcomes file is not UTF-8 text (save it as CSV UTF-8)"
                             ) from None
    data = data.removeprefix("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(data[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(data), dialect))
    while lines and not any(c.strip() for c in lines[-1]):
        lines.pop()
    if not lines:
        raise InputError("the outcomes file is empty")
    header = [" ".join(h.split()) for h in lines[0]]
    keys = [i for i, h in enumerate(header) if h.lower() in SESSION_COLUMNS]
    if len(keys) != 1:
        raise InputError("the outcomes file needs exactly one column naming the session "
                         f"({', '.join(SESSION_COLUMNS)}); its header is {', '.join(header)}")
    key = keys[0]
    names = {i: h for i, h in enumerate(header) if i != key}
    errors = [f"row 1: column {i + 1} has no name" for i, h in names.items() if not h]
    errors += [f"row 1: the column name {h!r} is longer than {MAX_NAME_CHARS} characters"
               for h in names.values() if len(h) > MAX_NAME_CHARS]
    if len(set(map(str.lower, names.values()))) != len(names):
        errors.append("row 1: two columns have the same name")
    if not names:
        errors.append("row 1: no outcome columns (e.g. satisfaction, resolved, complaint)")
    rows, seen = [], {}
    for line, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(f"row {line}: {len(cells)} cells, the header has {len(header)}")
            continue
        session = cells[key].strip()
        if not session:
            errors.append(f"row {line}: no {header[key]}")
            continue
        if session in seen:
            errors.append(f"row {line}: {session!r} is already on row {seen[session]}")
            continue
        seen[session] = line
        values = {}
        for i, name in names.items():
            try:
                value = parse_value(cells[i])
            except ValueError:
                errors.append(f"row {line}: {name} is {cells[i].strip()!r}, not a number or "
                              "yes/no")
                continue
            if value is not None:
                values[name] = value
        rows.append(OutcomeRow(line, session, values))
    if errors:
        raise InputError(error_lines("the outcomes file has problems", errors))
    return header[key], rows


def error_lines(heading: str, errors: list[str]) -> str:
    """``heading:`` then one line per error (at most :data:`MAX_ERRORS_SHOWN`)."""
    shown = errors[:MAX_ERRORS_SHOWN]
    more = len(errors) - len(shown)
    return "\n".join([f"{heading}:", *shown, *([f"… and {more} more"] if more else [])])


@dataclass(frozen=True)
class Relation:
    """An indicator against an outcome across sessions: ``n`` sessions, the least-squares line
    ``outcome = slope * indicator + intercept`` and Pearson's ``r`` (None where undefined:
    fewer than 2 sessions, or every value the same)."""

    n: int
    slope: float | None
    intercept: float | None
    r: float | None

    @property
    def too_few(self) -> bool:
        return self.n < MIN_SESSIONS

    def caution(self) -> str:
        """What may be said: a plain sentence for the page."""
        if self.too_few:
            return (f"Only {self.n} session(s): too few sessions to say (at least "
                    f"{MIN_SESSIONS} are needed before reading anything into the line).")
        if self.r is None:
            return "Every session has the same value: no relation can be read."
        strength = ("no clear" if abs(self.r) < 0.1 else "a weak" if abs(self.r) < 0.3
                    else "a moderate" if abs(self.r) < 0.5 else "a strong")
        direction = "" if abs(self.r) < 0.1 else (" positive" if self.r > 0 else " negative")
        return (f"{self.n} sessions, correlation {self.r:+.2f}: {strength}{direction} relation "
                "(an association across sessions, not proof of cause).")


def relation_points(indicator_rows: pd.DataFrame, outcome_table: pd.DataFrame, indicator: str,
                    outcome: str) -> pd.DataFrame:
    """One row per session with both an indicator value (``targets.indicator_table`` rows, of
    the session's agent) and an outcome (``Library.outcome_table``): indexed by ``session_id``,
    with ``x`` (the indicator), ``y`` (the outcome) and ``who`` (the owner's account, else the
    participant), beside the indicator rows' other columns."""
    x = indicator_rows[indicator_rows["indicator"] == indicator].set_index("session_id")
    y = outcome_table[outcome_table["outcome"] == outcome].set_index("session_id")["value"]
    points = x.join(y.rename("y"), how="inner").rename(columns={"value": "x"})
    points["who"] = points["owner"].where(points["owner"] != "", points["participant"])
    return points


def relation(x, y) -> Relation:
    """The least-squares line and correlation of paired values (NaN pairs left out)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(len(x))
    if n < 2 or np.ptp(x) == 0:
        return Relation(n, None, None, None)
    slope, intercept = np.polyfit(x, y, 1)
    r = None if np.ptp(y) == 0 else float(np.corrcoef(x, y)[0, 1])
    return Relation(n, float(slope), float(intercept), r)
