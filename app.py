"""cuekit dashboard: upload a call, analyse it in the background, review, annotate, export, compare.

A thin layer: widgets here, everything else in ``cuekit`` (store, jobs, charts, export).
Run with ``cuekit serve`` or ``streamlit run app.py``; the library lives in ``$CUEKIT_HOME``.
"""

from __future__ import annotations

import time
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from cuekit import charts, export, jobs, store
from cuekit.cli import SAMPLE_CALL
from cuekit.cueset import CueSet
from cuekit.errors import CuekitError
from cuekit.layout import GRIDS

PAGES = ("Library", "Session", "Compare")
LAYOUTS = {"auto": "detect automatically", "1": "one camera", "2x1": "two tiles side by side",
           "1x2": "two tiles stacked", "2x2": "four tiles", "audio": "audio only (ignore video)"}
LAYOUTS.update({g: g for g in GRIDS if g not in LAYOUTS})
AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".ogg", ".flac")
LIST_METRICS = (("talk_share", "talk"), ("interruptions_made", "interrupts"),
                ("eye_contact_listening", "eye contact"))
COMPARE_DEFAULT = ("talk_share", "interruptions_made", "eye_contact_listening",
                   "nods_per_min_listening", "response_latency_s")
QUICK_METRICS = ("talk_share", "eye_contact_listening", "interruptions_made",
                 "response_latency_s")
POLL_INTERVAL_S = 1.0
WHOLE_CALL = "(whole call)"


@st.cache_resource
def _library(home: str) -> store.Library:
    return store.Library(home)


def library() -> store.Library:
    return _library(str(store.default_home()))


@st.cache_resource(max_entries=4, show_spinner="Loading the analysis…")
def load_view(home: str, session_id: str) -> CueSet:
    """The cues the session view draws (shared, read-only: a finished result never changes;
    notes live elsewhere). Exports read the full result when asked."""
    return _library(home).load_cueset(session_id, cues=charts.LANE_CUES)


def open_session(session_id: str) -> None:
    """Show a session on the next run (the page radio cannot change after it is drawn)."""
    st.session_state.goto_page = "Session"
    st.query_params["session"] = session_id


# -- sidebar: upload, sample call, running analyses ----------------------------------------------

def sidebar(lib: store.Library) -> None:
    with st.sidebar:
        st.radio("Page", PAGES, key="page", horizontal=True)
        with st.form("upload", clear_on_submit=True):
            st.subheader("New analysis")
            upload = st.file_uploader("Recording (video or audio)",
                                      max_upload_size=store.max_upload_mb(),
                                      help="mp4, mov, mkv, webm, avi, m4a, wav, mp3, ogg or flac; "
                                           "the type is checked from the content")
            title = st.text_input("Title", placeholder="e.g. Renewal call with ACME")
            names = st.text_input("Participants (reading order)", placeholder="Agent, Customer")
            layout = st.selectbox("Layout", list(LAYOUTS), format_func=LAYOUTS.get)
            recorded_on = st.date_input("Recorded on", value=date.today())
            submitted = st.form_submit_button("Analyse", type="primary")
        if submitted:
            if upload is None:
                st.error("Choose a recording first.")
            else:
                queue(lib, upload, title=title, media_name=upload.name, names=names,
                      layout=layout, recorded_on=recorded_on)
        sample_button(lib, key="sample_sidebar")
        progress_panel(lib)


def queue(lib: store.Library, media, *, media_name: str, title: str = "", names: str = "",
          layout: str = "auto", recorded_on: date | None = None) -> None:
    names_list = [n.strip() for n in names.split(",") if n.strip()] or None
    try:
        session_id = lib.add_session(media, title=title, media_name=media_name,
                                     names=names_list, layout=layout, recorded_on=recorded_on)
    except CuekitError as e:
        st.error(str(e))
        return
    jobs.ensure_worker(lib)
    st.session_state.watch = session_id


def sample_button(lib: store.Library, *, key: str, primary: bool = False) -> None:
    if not SAMPLE_CALL.is_file():
        return
    if st.button("Analyse the sample call", key=key, type="primary" if primary else "secondary",
                 help="a 60-second two-person call that ships with cuekit"):
        queue(lib, SAMPLE_CALL, title="Sample call", media_name=SAMPLE_CALL.name)


def progress_panel(lib: store.Library) -> None:
    """Analyses in progress, polled while any runs; opens the one started here when done."""
    busy = any(s.status in ("queued", "running") for s in lib.sessions())
    st.fragment(run_every=POLL_INTERVAL_S if busy else None)(_progress)(lib, busy)


def _progress(lib: store.Library, was_busy: bool) -> None:
    jobs.ensure_worker(lib)
    sessions = lib.sessions()
    for s in sessions:
        if s.status in ("queued", "running"):
            stage = s.stage or "waiting in the queue"
            st.progress(s.progress, text=f"{s.title} — {stage} {s.progress:.0%}")
    watched = st.session_state.get("watch")
    finished = {s.id: s for s in sessions if s.status in ("done", "failed")}
    if watched in finished:
        st.session_state.watch = None
        if finished[watched].status == "done":
            open_session(watched)
        st.rerun()
    if was_busy and not any(s.status in ("queued", "running") for s in sessions):
        st.rerun()  # refresh the library list and stop polling


# -- library --------------------------------------------------------------------------------------

def _key_metrics(info: store.SessionInfo) -> str:
    parts = []
    for person, m in info.metrics.items():
        shown = [f"{label} {charts.format_metric(k, m[k])}" for k, label in LIST_METRICS if k in m]
        if shown:
            parts.append(f"{person}: " + ", ".join(shown))
    return " · ".join(parts)


def library_page(lib: store.Library) -> None:
    sessions = lib.sessions()
    if not sessions:
        st.info("No sessions yet. Upload a recording in the sidebar, or start with the sample "
                "call: a full analysis in about a minute.")
        sample_button(lib, key="sample_welcome", primary=True)
        return
    table = pd.DataFrame([{
        "date": s.recorded_on, "title": s.title, "participants": ", ".join(s.participants),
        "duration": export.clock(s.duration_s) if s.duration_s is not None else "",
        "status": s.status if s.status != "failed" else f"failed: {s.error}",
        "key metrics": _key_metrics(s)} for s in sessions])
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="library_table")
    rows = picked.selection.rows
    if not rows:
        st.caption("Select a session to open, rename or delete it.")
        return
    session_actions(lib, sessions[rows[0]])


def session_actions(lib: store.Library, info: store.SessionInfo) -> None:
    open_col, rename_col, delete_col = st.columns([1, 2, 2])
    with open_col:
        if info.status == "failed":
            if st.button("Retry", key=f"retry_{info.id}"):
                lib.requeue(info.id)
                jobs.ensure_worker(lib)
                st.rerun()
        elif st.button("Open", type="primary", disabled=info.status != "done",
                       key=f"open_{info.id}"):
            open_session(info.id)
            st.rerun()
    with rename_col:
        new_title = st.text_input("Title", value=info.title, key=f"title_{info.id}")
        if st.button("Rename", key=f"rename_{info.id}") and new_title != info.title:
            try:
                lib.rename(info.id, new_title)
            except CuekitError as e:
                st.error(str(e))
            else:
                st.rerun()
    with delete_col:
        sure = st.checkbox("Delete the recording, its cues and notes",
                           key=f"sure_{info.id}", disabled=info.status == "running")
        if st.button("Delete", disabled=not sure, key=f"delete_{info.id}"):
            lib.delete(info.id)
            if st.query_params.get("session") == info.id:
                del st.query_params["session"]
            st.rerun()


# -- session view -----------------------------------------------------------------------------------

def _seek_s(session_id: str) -> float:
    sid, t_s = st.session_state.get("seek", (None, 0.0))
    return t_s if sid == session_id else 0.0


def _seek_to(session_id: str, t_s: float) -> None:
    st.session_state.seek = (session_id, max(0.0, float(t_s)))
    st.session_state.seek_pending = True
    st.session_state.note_t_s = round(float(t_s), 1)  # a new note goes where the call plays


def _on_chart_click(session_id: str) -> None:
    points = st.session_state.timeline.selection.points
    if points:
        _seek_to(session_id, points[0]["x"])


def _on_event_click(session_id: str) -> None:
    rows = st.session_state.events.selection.rows
    if rows:
        _seek_to(session_id, st.session_state.event_times_s[rows[0]])


def session_page(lib: store.Library) -> None:
    session_id = st.query_params.get("session")
    if not session_id:
        st.info("Open a session from the library.")
        return
    try:
        info = lib.session(session_id)
    except CuekitError as e:
        st.error(str(e))
        return
    st.header(info.title)
    if info.status != "done":
        st.info(f"This session is {info.status}. {info.error}")
        return
    cs = load_view(str(lib.home), session_id)
    st.caption(f"{info.recorded_on} · {', '.join(info.participants)} · "
               f"{export.clock(info.duration_s or 0)} · {info.media_name}")
    player_col, summary_col = st.columns(2)
    with player_col:
        # Drawn once per full run and never re-positioned from Python: st.video reads the whole
        # file on every call, so clicks seek it in the browser instead (see _seek_in_browser).
        play = st.audio if info.media_path.suffix in AUDIO_EXTENSIONS else st.video
        play(str(info.media_path), format=export.MIME_TYPES.get(info.media_path.suffix,
                                                                 "video/mp4"))
    with summary_col:
        quick_scorecard(cs)
    st.fragment(review)(lib, session_id, cs)
    score_tab, export_tab = st.tabs(["Listening profile", "Exports"])
    with score_tab:
        scorecard_section(cs)
    with export_tab:
        export_section(lib, cs, info)


def review(lib: store.Library, session_id: str, cs: CueSet) -> None:
    """Events, coach notes and the timeline; a click here reruns only this part."""
    notes = lib.notes(session_id)
    seek_s = _seek_s(session_id)
    if st.session_state.pop("seek_pending", False):
        _seek_in_browser(seek_s)
    st.caption(f"Position {export.clock(seek_s)} — click an event or a point of the timeline "
               "to play the call from there.")
    events_col, notes_col = st.columns([3, 2])
    with events_col:
        events = charts.events_table(cs, notes)
        st.session_state.event_times_s = events["start_s"].tolist()
        st.dataframe(_clock_columns(events), hide_index=True, height=320, key="events",
                     on_select=partial(_on_event_click, session_id), selection_mode="single-row",
                     column_config={"label": st.column_config.TextColumn(width="large")})
    with notes_col:
        notes_section(lib, session_id, notes, cs.participants)
    st.plotly_chart(timeline(str(lib.home), session_id, tuple(notes)), key="timeline",
                    on_select=partial(_on_chart_click, session_id), selection_mode="points",
                    config={"displaylogo": False})


@st.cache_resource(max_entries=8, show_spinner=False)
def timeline(home: str, session_id: str, notes: tuple[store.Note, ...]):
    return charts.timeline_figure(load_view(home, session_id), notes)


def _seek_in_browser(t_s: float) -> None:
    """Move the page's player to ``t_s`` and play (a zero-height component with a script)."""
    components.html(
        f"<script>/* {time.time_ns()} */ const m = window.parent.document.querySelector("
        f"'video, audio'); if (m) {{ m.currentTime = {t_s:.3f}; m.play().catch(() => {{}}); }}"
        "</script>", height=0)


def _clock_columns(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"at": events["start_s"].map(export.clock),
                         "s": (events["end_s"] - events["start_s"]).round(1),
                         "kind": events["kind"], "who": events["participant"],
                         "label": events["label"]})


def quick_scorecard(cs: CueSet) -> None:
    """A few headline indicators per participant beside the video."""
    people = cs.summary.get("participants", {})
    titles = {i.key: i.title for i in charts.indicators()}
    for col, (person, metrics) in zip(st.columns(max(1, len(people))), people.items(),
                                      strict=False):
        with col:
            st.markdown(f"**{person}**")
            for key in QUICK_METRICS:
                if metrics.get(key) is not None:
                    st.metric(titles.get(key, key), charts.format_metric(key, metrics[key]))
    moments = charts.coaching_moments(cs)
    st.caption(f"{len(moments)} coaching moment(s) — see the events list and the listening "
               "profile below.")


def scorecard_section(cs: CueSet) -> None:
    card = charts.scorecard(cs)
    if card.empty:
        st.info("No listening metrics in this analysis.")
    people = list(dict.fromkeys(card["participant"]))
    for col, person in zip(st.columns(max(1, len(people))), people, strict=False):
        with col:
            st.subheader(person)
            mine = card[card["participant"] == person]
            for row in mine.itertuples():
                st.metric(row.indicator, row.value, help=f"{row.definition}. {row.why}")
    st.subheader("Coaching moments")
    moments = charts.coaching_moments(cs)
    if moments.empty:
        st.caption("None found.")
    else:
        st.dataframe(moments.assign(start_s=moments["start_s"].map(export.clock)),
                     hide_index=True)
    pairs = charts.pair_table(cs)
    if not pairs.empty:
        st.subheader("Synchrony")
        st.dataframe(pairs, hide_index=True)


def notes_section(lib: store.Library, session_id: str, notes: list[store.Note],
                  participants: list[str]) -> None:
    with st.form("add_note"):
        t_col, who_col = st.columns(2)
        t_col.number_input("At (s)", min_value=0.0, step=1.0, key="note_t_s")
        who_col.selectbox("About", [WHOLE_CALL, *participants], key="note_about")
        st.text_area("Note", placeholder="e.g. good open question here", key="note_text")
        st.form_submit_button("Add note", on_click=partial(_add_note, lib, session_id))
    if error := st.session_state.pop("note_error", None):
        st.error(error)
    for note in notes:
        text_col, delete_col = st.columns([5, 2])
        text_col.markdown(f"**{export.clock(note.t_s)}** {note.participant} — {note.text}")
        delete_col.button("Delete", key=f"note_{note.id}",
                          on_click=partial(lib.delete_note, note.id))


def _add_note(lib: store.Library, session_id: str) -> None:
    who = st.session_state.note_about
    try:
        lib.add_note(session_id, st.session_state.note_t_s, st.session_state.note_text,
                     "" if who == WHOLE_CALL else who)
    except CuekitError as e:
        st.session_state.note_error = str(e)
    else:
        st.session_state.note_text = ""


def export_section(lib: store.Library, cs: CueSet, info: store.SessionInfo) -> None:
    stem = "".join(c if c.isalnum() else "_" for c in info.title).strip("_") or info.id
    notes = partial(lib.notes, info.id)  # read when a file is built: notes change meanwhile
    full = partial(lib.load_cueset, info.id)  # the view holds only the cues it draws
    # Each file is built only when its button is clicked (callables run on a side thread).
    files = [
        ("Cues (CSV)", f"{stem}_samples.csv", "text/csv",
         lambda: export.samples_csv_bytes(full())),
        ("Events and segments (CSV)", f"{stem}_segments.csv", "text/csv",
         lambda: export.segments_csv_bytes(export.with_notes(cs, notes()))),
        ("Cues (Parquet)", f"{stem}_samples.parquet", "application/octet-stream",
         lambda: export.samples_parquet_bytes(full())),
        ("Events and segments (Parquet)", f"{stem}_segments.parquet",
         "application/octet-stream",
         lambda: export.segments_parquet_bytes(export.with_notes(cs, notes()))),
        ("Summary (JSON)", f"{stem}_summary.json", "application/json",
         lambda: export.summary_json_bytes(cs, notes(), title=info.title)),
        ("ELAN (.eaf)", f"{stem}.eaf", "application/xml",
         lambda: export.eaf_bytes(cs, notes(), media_path=str(info.media_path))),
        ("Report (HTML)", f"{stem}_report.html", "text/html",
         lambda: export.html_report_bytes(cs, notes(), title=info.title)),
    ]
    for col, (label, name, mime, build) in zip(st.columns(4) * 2, files, strict=False):
        col.download_button(label, data=build, file_name=name, mime=mime, on_click="ignore")


# -- compare -----------------------------------------------------------------------------------------

def compare_page(lib: store.Library) -> None:
    names = lib.participant_names()
    if not names:
        st.info("Compare needs at least one analysed session.")
        return
    person = st.selectbox("Participant", names)
    history = lib.history(person)
    titles = {i.key: i.title for i in charts.indicators()}
    available = list(dict.fromkeys(history["metric"]))
    metrics = st.multiselect("Metrics", available, format_func=lambda k: titles.get(k, k),
                             default=[m for m in COMPARE_DEFAULT if m in available])
    st.plotly_chart(charts.history_figure(history, metrics, person))
    wide = history[history["metric"].isin(metrics)].pivot_table(
        index=["recorded_on", "title"], columns="metric", values="value")
    st.dataframe(wide.rename(columns=titles))


def main() -> None:
    st.set_page_config(page_title="cuekit — active listening review", page_icon="🎧",
                       layout="wide")
    if "goto_page" in st.session_state:
        st.session_state.page = st.session_state.pop("goto_page")
    elif "page" not in st.session_state:  # a reload keeps the open session in the URL
        st.session_state.page = "Session" if st.query_params.get("session") else "Library"
    lib = library()
    sidebar(lib)
    st.title("cuekit")
    st.caption("Non-verbal cues of recorded calls — gaze, nods, expression, tone, pauses, "
               "interruptions, mirroring — for reviewing active listening.")
    {"Library": library_page, "Session": session_page, "Compare": compare_page}[
        st.session_state.page](lib)


main()
