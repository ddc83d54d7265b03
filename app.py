"""cuekit dashboard: upload a call, analyse it in the background, review, annotate, export, compare.

A thin layer: widgets here, everything else in ``cuekit`` (store, jobs, charts, export).
Run with ``cuekit serve`` or ``streamlit run app.py``; the library lives in ``$CUEKIT_HOME``.
In team mode (docs/teams.md) a sign-in page comes first, and every library call carries the
signed-in account: the library, not this page, decides what that account may see.
"""

from __future__ import annotations

import json
import time
from datetime import date
from functools import partial
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from cuekit import auth, charts, cues, export, jobs, outcomes, stills, store, tables, targets, web
from cuekit.store import access, intake
from cuekit import review as listening_review
from cuekit.audio.transcribe import EXTRA as WORDS_EXTRA
from cuekit.audio.transcribe import words_available
from cuekit.metrics import order, title
from cuekit.targets import INDICATORS, TECHNIQUES
from cuekit.auth import User
from cuekit.cli import SAMPLE_CALL
from cuekit.config import LAYOUTS
from cuekit.cueset import CueSet
from cuekit.errors import CuekitError

TEAM_DEFAULT = ("eye_contact_listening", "talk_share", "interruptions_made_per_10min",
                "response_latency_s")
EVERYONE = "(everyone)"
COMPARE_DEFAULT = ("talk_share", "interruptions_made", "eye_contact_listening",
                   "nods_per_min_listening", "response_latency_s")
PERSON_DEFAULT = TEAM_DEFAULT  # the same indicators open a person's page and the team's
POLL_INTERVAL_S = 1.0
WHOLE_CALL = "(whole call)"
SAMPLE_TRANSCRIPT = SAMPLE_CALL.with_suffix(".vtt")
SAMPLE_NAMES = "Agent, Customer"  # the sample call's tiles, left to right (its transcript's names)
# The page's link to the player (components v2: runs in the page, no iframe). It seeks the player
# when asked (data.seek_id is new: a click on an event, the timeline or a transcript line) and
# reports the player's position to Python when it is paused or sought (or on its button), so a
# new coach note defaults to the moment on screen (not while the timeline is being dragged). It
# listens on the document in the capture phase because media events do not bubble.
VIDEO_CLOCK_JS = """
export default function ({ parentElement, data, setTriggerValue }) {
  const player = () => document.querySelector('video, audio');
  if (data && data.seek_id && window.cuekitSeekId !== data.seek_id) {
    window.cuekitSeekId = data.seek_id;
    const m = player();
    if (m) { m.currentTime = data.seek_s; m.play().catch(() => {}); }
  }
  const report = () => {
    const m = player();
    if (m) setTriggerValue('time', Math.round(m.currentTime * 10) / 10);
  };
  const onMediaEvent = (e) => { if (e.target === player() && !window.cuekitScrubbing) report(); };
  document.addEventListener('pause', onMediaEvent, true);
  document.addEventListener('seeked', onMediaEvent, true);
  parentElement.querySelector('button').onclick = report;
  return () => {
    document.removeEventListener('pause', onMediaEvent, true);
    document.removeEventListener('seeked', onMediaEvent, true);
  };
}
"""
VIDEO_CLOCK_HTML = ('<button type="button" title="Set the note\'s time to where the player is '
                    'now (pausing the player does this too)">Use the player\'s time</button>')
VIDEO_CLOCK_CSS = """
button { font: inherit; font-size: 0.85rem; padding: 0.2rem 0.6rem; cursor: pointer;
         border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: white;
         color: rgb(49, 51, 63); }
button:hover { border-color: rgb(255, 75, 75); color: rgb(255, 75, 75); }
"""

# Play buttons for moments: pure browser side (no rerun): a click moves the player there and
# plays; the player's 'seeked' event then reaches the clock above, which moves the note's time.
MOMENTS_JS = """
export default function ({ parentElement, data }) {
  const box = parentElement.querySelector('.moments');
  box.replaceChildren();
  for (const m of (data && data.moments) || []) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'cuekit-play';
    b.dataset.t = m.t;
    b.title = 'Play from ' + m.clock + ': ' + m.label;
    b.textContent = '\u25B6 ' + m.clock + (m.label ? ' \u00B7 ' + m.label : '');
    b.onclick = () => {
      const v = document.querySelector('video, audio');
      if (!v) return;
      v.currentTime = m.t;
      v.play().catch(() => {});
      const r = v.getBoundingClientRect();
      if (r.bottom < 0 || r.top > window.innerHeight) v.scrollIntoView({block: 'center'});
    };
    box.appendChild(b);
  }
}
"""
MOMENTS_HTML = '<div class="moments"></div>'
MOMENTS_CSS = """
.moments { display: flex; flex-wrap: wrap; gap: 0.3rem; }
button { font: inherit; font-size: 0.8rem; padding: 0.1rem 0.5rem; cursor: pointer;
         border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 1rem; background: white;
         color: rgb(49, 51, 63); max-width: 100%; overflow: hidden; text-overflow: ellipsis;
         white-space: nowrap; text-align: left; }
button:hover { border-color: rgb(255, 75, 75); color: rgb(255, 75, 75); }
"""
# The timeline (components v2: runs in the page, no iframe): lanes drawn as SVG from
# charts.timeline_lanes, a playhead that follows the player, a click or a drag on the lanes seeks
# the player (in the browser, no page run), "1 min" zooms to the minute around the playhead (and
# pages along while the call plays), "Whole call" zooms back. While a drag scrubs,
# window.cuekitScrubbing tells the player clock not to report every step (each report is a page
# run); the drag's last seek is reported. The zoom is kept per session across page runs.
TIMELINE_JS = """
const LABEL_PX = 150, BAR_PX = 14, LINE_PX = 44, NOTE_PX = 18, MIN_BAR_PX = 2, MINUTE_S = 60;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;',
                                                         '"': '&quot;'}[c]));
const clock = (s) => { s = Math.max(0, Math.floor(s)); const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60, r = String(s % 60).padStart(2, '0');
  return h ? h + ':' + String(m).padStart(2, '0') + ':' + r : m + ':' + r; };
const player = () => document.querySelector('video, audio');

function rowHtml(lane, row, i) {
  const h = lane.kind === 'lines' ? LINE_PX : lane.kind === 'notes' ? NOTE_PX : BAR_PX;
  return '<div class="row"><div class="name" title="' + esc(row) + '">' + esc(row) +
    '</div><svg class="plot" data-lane-row="' + i + '" height="' + h + '"></svg></div>';
}

function build(root, data) {
  let html = '<div class="tools"><button type="button" data-zoom="minute" title="Show the ' +
    'minute around the playhead">1 min</button><button type="button" data-zoom="whole" ' +
    'title="Show the whole call">Whole call</button><span class="range"></span>' +
    '<span class="legend">' + Object.entries(data.people).map(([n, c]) =>
      '<span><i style="background:' + c + '"></i>' + esc(n) + '</span>').join('') +
    '</span></div><div class="lanes"><div class="row axis-row"><div class="name"></div>' +
    '<svg class="plot axis" height="18"></svg></div>';
  for (const lane of data.lanes) {
    html += '<div class="lane" data-lane="' + lane.key + '"><div class="title">' +
      esc(lane.title) + '</div>';
    if (lane.kind === 'bars') lane.rows.forEach((r, i) => { html += rowHtml(lane, r.name, i); });
    else if (lane.kind === 'lines') html += rowHtml(lane, lane.unit, 0);
    else html += rowHtml(lane, lane.notes.length ? 'coach notes' : 'none yet', 0);
    html += '</div>';
  }
  html += '<div class="playhead" data-playhead><span></span></div></div>';
  root.innerHTML = html;
}

function ticks(v0, v1, w) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const step = steps.find((s) => (v1 - v0) / s <= w / 70) || 3600;
  let out = '';
  for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
    const x = (t - v0) / (v1 - v0) * w;
    out += '<line x1="' + x + '" x2="' + x + '" y1="12" y2="18"></line><text x="' + x +
      '" y="10">' + clock(t) + '</text>';
  }
  return out;
}

function drawRow(svg, lane, i, v0, v1, w) {
  const x = (t) => (t - v0) / (v1 - v0) * w;
  let out = '';
  if (lane.kind === 'bars') {
    const row = lane.rows[i];
    for (const [s, e, label] of row.bars) {
      if (e <= v0 || s >= v1) continue;
      const x0 = Math.max(x(s), 0), x1 = Math.min(x(e), w);
      out += '<rect x="' + x0 + '" y="1" width="' + Math.max(x1 - x0, MIN_BAR_PX) +
        '" height="' + (BAR_PX - 2) + '" fill="' + row.color + '"><title>' + esc(row.name) +
        ' ' + clock(s) + '\u2013' + clock(e) + (label ? ': ' + esc(label) : '') +
        '</title></rect>';
    }
  } else if (lane.kind === 'lines') {
    const [lo, hi] = lane.range, span = (hi - lo) || 1;
    const y = (v) => LINE_PX - 3 - (v - lo) / span * (LINE_PX - 6);
    for (const s of lane.series) {
      let pts = [];
      const flush = () => { if (pts.length > 1) out += '<polyline points="' + pts.join(' ') +
        '" stroke="' + s.color + '"></polyline>'; pts = []; };
      s.v.forEach((v, k) => {
        const t = s.t ? s.t[k] : s.t0 + k * s.dt;
        if (v === null || t < v0 - (s.dt || 1) || t > v1 + (s.dt || 1)) { flush(); return; }
        pts.push(x(t).toFixed(1) + ',' + y(v).toFixed(1));
      });
      flush();
    }
  } else {
    for (const [t, about, text] of lane.notes) {
      if (t < v0 || t > v1) continue;
      const cx = x(t);
      out += '<g class="note" data-note-t="' + t + '"><title>' + clock(t) + ' ' +
        (about ? esc(about) + ': ' : '') + esc(text) + '</title><path d="M' + cx + ' 2 L' +
        (cx + 7) + ' 9 L' + cx + ' 16 L' + (cx - 7) + ' 9 Z"></path></g>';
    }
  }
  svg.innerHTML = out;
}

export default function ({ parentElement, data }) {
  if (parentElement.cuekitCleanup) parentElement.cuekitCleanup();
  const root = parentElement.querySelector('.cuekit-timeline');
  if (!data || !root) return;
  const dur = Math.max(data.duration_s, 0.1);
  if (root.dataset.rev !== data.rev) {
    build(root, data);
    root.dataset.rev = data.rev;
    root.cuekitDrag = {on: false};  // kept across page runs that leave the lanes in place
    window.cuekitScrubbing = false;
  }
  const drag = root.cuekitDrag;
  const saved = window.cuekitTimelineViews = window.cuekitTimelineViews || {};
  let view = saved[data.id] || {start: 0, end: dur, minute: false};
  if (!view.minute) view = {start: 0, end: dur, minute: false};  // the call's length may change
  const lanes = root.querySelector('.lanes'), head = root.querySelector('[data-playhead]');
  const width = () => Math.max(lanes.clientWidth - LABEL_PX, 10);
  const draw = () => {
    const w = width();
    root.dataset.viewStartS = view.start.toFixed(2);
    root.dataset.viewEndS = view.end.toFixed(2);
    root.dataset.durationS = dur;
    root.querySelector('.range').textContent = clock(view.start) + '\u2013' + clock(view.end) +
      ' of ' + clock(dur);
    root.querySelector('[data-zoom=minute]').classList.toggle('on', view.minute);
    root.querySelector('[data-zoom=whole]').classList.toggle('on', !view.minute);
    const axis = root.querySelector('.axis');
    axis.setAttribute('width', w);
    axis.innerHTML = ticks(view.start, view.end, w);
    root.querySelectorAll('.lane').forEach((el, k) => {
      el.querySelectorAll('svg.plot').forEach((svg) => {
        svg.setAttribute('width', w);
        drawRow(svg, data.lanes[k], +svg.dataset.laneRow, view.start, view.end, w);
      });
    });
    place(shown);
  };
  const minuteAround = (t) => {
    if (dur <= MINUTE_S) return {start: 0, end: dur, minute: true};
    const start = Math.min(Math.max(t - MINUTE_S / 2, 0), dur - MINUTE_S);
    return {start, end: start + MINUTE_S, minute: true};
  };
  const setView = (v) => { view = v; saved[data.id] = v; draw(); };
  let shown = player() ? player().currentTime : 0;
  function place(t) {
    shown = t;
    if (view.minute && (t < view.start || t > view.end) && dur > MINUTE_S) {
      setView(minuteAround(t));  // keep the playhead in sight while the call plays
      return;
    }
    const x = (t - view.start) / (view.end - view.start) * width();
    head.style.display = t < view.start || t > view.end ? 'none' : 'block';
    head.style.left = (LABEL_PX + x) + 'px';
    head.dataset.tS = t.toFixed(2);
    head.firstChild.textContent = clock(t);
  }
  const timeAt = (clientX) => {
    const box = lanes.getBoundingClientRect();
    const f = Math.min(Math.max((clientX - box.left - LABEL_PX) / width(), 0), 1);
    return view.start + f * (view.end - view.start);
  };
  const seek = (t) => { const m = player(); if (m) m.currentTime = t; place(t); };
  const down = (e) => {
    const box = lanes.getBoundingClientRect();
    if (e.button !== 0 || e.clientX < box.left + LABEL_PX) return;
    drag.on = true;
    window.cuekitScrubbing = true;
    lanes.setPointerCapture(e.pointerId);
    seek(timeAt(e.clientX));
    e.preventDefault();
  };
  const move = (e) => { if (drag.on) seek(timeAt(e.clientX)); };
  const up = (e) => {
    if (!drag.on) return;
    drag.on = false;
    window.cuekitScrubbing = false;  // the last seek is reported (a page run sets the note time)
    seek(timeAt(e.clientX));
  };
  const lost = () => { if (drag.on) { drag.on = false; window.cuekitScrubbing = false;
                                      seek(shown); } };  // ended without a pointerup
  lanes.addEventListener('pointerdown', down);
  lanes.addEventListener('pointermove', move);
  lanes.addEventListener('pointerup', up);
  lanes.addEventListener('pointercancel', up);
  lanes.addEventListener('lostpointercapture', lost);
  root.querySelector('[data-zoom=minute]').onclick = () => setView(minuteAround(shown));
  root.querySelector('[data-zoom=whole]').onclick = () => setView({start: 0, end: dur,
                                                                   minute: false});
  let frame = 0;
  const follow = () => {
    const m = player();
    if (m && !drag.on && Math.abs(m.currentTime - shown) > 0.01) place(m.currentTime);
    frame = requestAnimationFrame(follow);
  };
  const onTime = (e) => { if (e.target === player() && !drag.on) place(e.target.currentTime); };
  document.addEventListener('timeupdate', onTime, true);
  document.addEventListener('seeked', onTime, true);
  const resized = new ResizeObserver(() => draw());
  resized.observe(lanes);
  draw();
  frame = requestAnimationFrame(follow);
  const cleanup = () => {
    parentElement.cuekitCleanup = null;
    cancelAnimationFrame(frame);
    resized.disconnect();
    document.removeEventListener('timeupdate', onTime, true);
    document.removeEventListener('seeked', onTime, true);
    lanes.removeEventListener('pointerdown', down);
    lanes.removeEventListener('pointermove', move);
    lanes.removeEventListener('pointerup', up);
    lanes.removeEventListener('pointercancel', up);
    lanes.removeEventListener('lostpointercapture', lost);
  };
  parentElement.cuekitCleanup = cleanup;
  return cleanup;
}
"""
TIMELINE_HTML = '<div class="cuekit-timeline"></div>'
TIMELINE_CSS = """
.cuekit-timeline { font-size: 0.8rem; color: rgb(49, 51, 63); user-select: none;
                   padding-right: 16px; }
.tools { display: flex; align-items: center; gap: 0.4rem; margin-bottom: 0.3rem;
         flex-wrap: wrap; }
.tools button { font: inherit; padding: 0.15rem 0.6rem; cursor: pointer; background: white;
                border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
                color: inherit; }
.tools button:hover { border-color: rgb(255, 75, 75); color: rgb(255, 75, 75); }
.tools button.on { background: rgba(49, 51, 63, 0.08); }
.range { margin-left: 0.4rem; color: rgba(49, 51, 63, 0.7); }
.legend { margin-left: auto; display: flex; gap: 0.8rem; }
.legend i { display: inline-block; width: 0.8rem; height: 0.5rem; margin-right: 0.3rem;
            border-radius: 2px; }
.lanes { position: relative; cursor: col-resize; touch-action: none; }
.lane { border-top: 1px solid rgba(49, 51, 63, 0.1); padding: 2px 0 3px; }
.title { font-weight: 600; margin: 1px 0 1px; }
.row { display: flex; align-items: center; }
.name { width: 150px; flex: none; overflow: hidden; white-space: nowrap;
        text-overflow: ellipsis; color: rgba(49, 51, 63, 0.75); padding-right: 6px;
        box-sizing: border-box; cursor: default; }
svg.plot { display: block; overflow: visible; }
svg.plot rect { opacity: 0.85; }
svg.plot polyline { fill: none; stroke-width: 1.5; }
svg.axis text { font-size: 10px; fill: rgba(49, 51, 63, 0.7); text-anchor: middle; }
svg.axis line { stroke: rgba(49, 51, 63, 0.4); }
.note path { fill: #9467bd; stroke: white; }
.playhead { position: absolute; top: 0; bottom: 0; width: 0;
            border-left: 2px solid rgb(255, 75, 75); pointer-events: none; }
.playhead span { position: absolute; top: 0; transform: translateX(-50%); font-size: 10px;
                 padding: 0 3px;
                 background: rgb(255, 75, 75); color: white; border-radius: 2px; }
"""
MAX_CARDS = 6
STATUS_MARKS = {"in": "✓ within", "low": "↓ below", "high": "↑ above", "": ""}


@st.cache_resource
def _library(home: str) -> store.Library:
    return store.Library(home)


def library() -> store.Library:
    return _library(str(store.default_home()))


@st.cache_resource(max_entries=4, show_spinner="Loading the analysis…")
def load_view(home: str, session_id: str, user: User | None, raw: bool = False) -> CueSet:
    """What the session view draws (shared, read-only: a finished result never changes; notes
    live elsewhere): segments, summary and no samples, or with ``raw`` the sample cues of the
    timeline's raw lanes too (read when the coach asks for them: an hour's are ~0.8 M rows).
    Exports read the full result when asked. Keyed on the account too, so a cached view is
    only handed to someone the library let read it."""
    return _library(home).load_cueset(session_id, cues=charts.LANE_CUES if raw else (),
                                      user=user)


def open_session(session_id: str) -> None:
    """Show a session on the next run (the page radio cannot change after it is drawn)."""
    st.session_state.goto_page = "Session"
    st.query_params["session"] = session_id


# -- sidebar: upload, sample call, running analyses ----------------------------------------------

def sidebar(lib: store.Library, user: User | None) -> None:
    with st.sidebar:
        if user is not None:
            name_col, out_col = st.columns([3, 2])
            name_col.markdown(f"Signed in as **{user.name}** ({user.role})")
            out_col.button("Sign out", on_click=sign_out)
        st.radio("Page", access.pages(user), key="page", horizontal=True)
        with st.form("upload", clear_on_submit=True):
            st.subheader("New analysis")
            upload = st.file_uploader("Recording (video or audio)",
                                      max_upload_size=intake.max_upload_mb(),
                                      help="mp4, mov, mkv, webm, avi, m4a, wav, mp3, ogg or flac; "
                                           "the type is checked from the content")
            transcript = st.file_uploader(
                "Transcript (optional)", type=intake.TRANSCRIPT_SUFFIXES,
                max_upload_size=intake.MAX_TRANSCRIPT_MB,
                help="WebVTT (.vtt) or SubRip (.srt), e.g. the Zoom, Teams or Meet export: adds "
                     "the transcript lane and words per minute")
            transcribe = st.checkbox(
                "Transcribe the words", value=words_available(), disabled=not words_available(),
                help="without a transcript, write one on this computer (Whisper tiny.en): the "
                     "words on the timeline, questions, paraphrases, empathy, fillers. Adds "
                     "about 3 minutes per hour of speech on two cores. "
                     + ("" if words_available() else f"Needs: {WORDS_EXTRA}"))
            title = st.text_input("Title", placeholder="e.g. Renewal call with ACME")
            names = st.text_input("Participants (reading order)", placeholder="Agent, Customer")
            layout = st.selectbox("Layout", list(LAYOUTS), format_func=LAYOUTS.get)
            recorded_on = st.date_input("Recorded on", value=date.today())
            submitted = st.form_submit_button("Analyse", type="primary")
        if submitted:
            if upload is None:
                st.error("Choose a recording first.")
            else:
                queue(lib, user, upload, title=title, media_name=upload.name, names=names,
                      layout=layout, recorded_on=recorded_on, transcript=transcript,
                      transcript_name=transcript.name if transcript is not None else "",
                      transcribe=transcribe)
        sample_button(lib, user, key="sample_sidebar")
        progress_panel(lib, user)


def queue(lib: store.Library, user: User | None, media, *, media_name: str, title: str = "",
          names: str = "", layout: str = "auto", recorded_on: date | None = None,
          transcript=None, transcript_name: str = "", transcribe: bool = False) -> None:
    try:
        session_id = lib.add_session(media, title=title, media_name=media_name,
                                     names=intake.participant_names(names), layout=layout,
                                     recorded_on=recorded_on,
                                     transcript=transcript, transcript_name=transcript_name,
                                     transcribe=transcribe,
                                     user=user)
    except CuekitError as e:
        st.error(str(e))
        return
    jobs.ensure_worker(lib)
    st.session_state.watch = session_id
    # The progress panel was drawn before this (sidebar) without polling: run the page again so
    # it shows the new analysis and opens the session when done.
    st.rerun()


def sample_button(lib: store.Library, user: User | None, *, key: str,
                  primary: bool = False) -> None:
    if not SAMPLE_CALL.is_file():
        return
    if st.button("Analyse the sample call", key=key, type="primary" if primary else "secondary",
                 help="a 60-second two-person call (with its transcript) that ships with "
                      "cuekit"):
        transcript = SAMPLE_TRANSCRIPT if SAMPLE_TRANSCRIPT.is_file() else None
        queue(lib, user, SAMPLE_CALL, title="Sample call", media_name=SAMPLE_CALL.name,
              names=SAMPLE_NAMES, transcript=transcript,
              transcript_name=SAMPLE_TRANSCRIPT.name if transcript else "")


def progress_panel(lib: store.Library, user: User | None) -> None:
    """The account's analyses in progress, polled while any runs; opens the one started here
    when done."""
    busy = any(s.status in ("queued", "running") for s in lib.sessions(user=user))
    st.fragment(run_every=POLL_INTERVAL_S if busy else None)(_progress)(lib, user, busy)


def _progress(lib: store.Library, user: User | None, was_busy: bool) -> None:
    jobs.ensure_worker(lib)
    sessions = lib.sessions(user=user)
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

def library_page(lib: store.Library, user: User | None) -> None:
    sessions = lib.sessions(user=user)
    if not sessions:
        st.info("No sessions yet. Upload a recording in the sidebar, or start with the sample "
                "call: a full analysis in about a minute.")
        sample_button(lib, user, key="sample_welcome", primary=True)
        return
    table = tables.library_table(sessions, with_owner=access.may_see_team(user))
    picked = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                          key="library_table",
                          column_config={"key metrics": st.column_config.TextColumn(
                              width="large")})
    rows = picked.selection.rows
    if not rows:
        st.caption("Select a session to open, rename or delete it.")
        return
    session_actions(lib, user, sessions[rows[0]])


def session_actions(lib: store.Library, user: User | None, info: store.SessionInfo) -> None:
    """Open, retry, rename and delete, each offered as :mod:`cuekit.store.access` allows."""
    may_rename = access.may_rename(user, info.owner_id)
    open_col, rename_col, delete_col = st.columns([1, 2, 2])
    with open_col:
        if info.status == "failed":
            if st.button("Retry", key=f"retry_{info.id}",
                         disabled=not access.may_retry(user, info.owner_id, info.status)):
                lib.requeue(info.id, user=user)
                jobs.ensure_worker(lib)
                st.rerun()
        elif st.button("Open", type="primary", disabled=info.status != "done",
                       key=f"open_{info.id}"):
            open_session(info.id)
            st.rerun()
    with rename_col:
        new_title = st.text_input("Title", value=info.title, key=f"title_{info.id}",
                                  disabled=not may_rename)
        if st.button("Rename", key=f"rename_{info.id}", disabled=not may_rename) \
                and new_title != info.title:
            try:
                lib.rename(info.id, new_title, user=user)
            except CuekitError as e:
                st.error(str(e))
            else:
                st.rerun()
    with delete_col:
        sure = st.checkbox("Delete the recording, its cues and notes", key=f"sure_{info.id}",
                           disabled=not access.may_delete(user, info.owner_id, info.status))
        if st.button("Delete", disabled=not sure, key=f"delete_{info.id}"):
            lib.delete(info.id, user=user)
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


def _on_event_click(session_id: str) -> None:
    rows = st.session_state.events.selection.rows
    if rows:
        _seek_to(session_id, st.session_state.event_times_s[rows[0]])


def _on_transcript_click(session_id: str) -> None:
    rows = st.session_state.transcript.selection.rows
    if rows:
        _seek_to(session_id, st.session_state.transcript_times_s[rows[0]])


def player_clock(session_id: str, seek_s: float | None) -> None:
    """Mount the link to the player: it moves the player to ``seek_s`` (when not None) and
    reports the player's position. When it reports (the player was paused or sought in the
    browser, or its button clicked) the position and a new note's time follow; the player is
    not moved again (it is already there).

    ``st.video`` is drawn once per full run and never re-positioned from Python (it reads the
    whole file on every call): clicks rerun only the review fragment and seek in the browser."""
    data = {"seek_s": round(seek_s, 3), "seek_id": time.time_ns()} if seek_s is not None else None
    reported = _video_clock()(key="video_clock", data=data, on_time_change=lambda: None).time
    if isinstance(reported, (int, float)) and reported >= 0:
        st.session_state.seek = (session_id, float(reported))
        st.session_state.note_t_s = round(float(reported), 1)


def _video_clock():
    """The player-position component (registering the same definition again is a no-op)."""
    return st.components.v2.component("cuekit_video_clock", html=VIDEO_CLOCK_HTML,
                                      css=VIDEO_CLOCK_CSS, js=VIDEO_CLOCK_JS)


def session_page(lib: store.Library, user: User | None) -> None:
    session_id = st.query_params.get("session")
    if not session_id:
        st.info("Open a session from the library.")
        return
    try:
        info = lib.session(session_id, user=user)
    except CuekitError as e:
        st.error(str(e))
        return
    st.header(info.title)
    if info.status != "done":
        st.info(f"This session is {info.status}. {info.error}")
        return
    cs = load_view(str(lib.home), session_id, user)
    st.caption(f"{info.recorded_on} · {', '.join(info.participants)} · "
               f"{export.clock(info.duration_s or 0)} · {info.media_name}"
               + (" · with transcript" if info.transcript_path else ""))
    people = [p for p in cs.participants if p in cs.summary.get("participants", {})] \
        or list(cs.summary.get("participants", {}))
    person = st.columns([1, 3])[0].selectbox("Review of", people, key=f"person_{session_id}",
                          help="the person coached; the summary, indicators and moments are "
                               "about them") if people else None
    player_col, summary_col = st.columns(2)
    with player_col:
        # Drawn once per full run and never re-positioned from Python: st.video reads the whole
        # file on every call, so clicks seek it in the browser instead (see player_clock).
        play = st.video if info.has_video else st.audio
        play(media_source(lib, user, info), format=info.media_type)
    with summary_col:
        if person is not None:
            summary_section(cs, person)
    if person is not None:
        indicators_section(lib, user, info, cs, person)
    st.fragment(moment_cards)(lib, user, info, cs, person)
    st.fragment(review)(lib, user, session_id, cs)
    details_tab, outcomes_tab, export_tab = st.tabs(["All metrics (details)", "Outcomes",
                                                     "Exports"])
    with details_tab:
        scorecard_section(cs)
    with outcomes_tab:
        session_outcomes(lib, user, info)
    with export_tab:
        export_section(lib, user, info)


def session_links(lib: store.Library, user: User | None,
                  info: store.SessionInfo) -> web.SessionLinks | None:
    """The session's recording, stills and exports as served by ``cuekit serve`` (cuekit.web):
    short-lived links made for this account and this browser only, asked of the library after
    it let the account open the session (renewed at a page run when half their time is gone; a
    new link would restart the player, so it is kept until then). None under plain
    ``streamlit run app.py`` (no guarded routes)."""
    browser = st.context.cookies.get(web.BROWSER_COOKIE) if web.mounted() else None
    origin = urlsplit(st.context.url or "")
    if not browser or not origin.netloc:
        return None
    tokens = st.session_state.setdefault("media_tokens", {})
    key = (info.id, user.id if user is not None else 0)
    token, expires = tokens.get(key, ("", 0.0))
    if expires - time.time() < store.MEDIA_TOKEN_TTL_S / 2:
        token = lib.media_token(info.id, browser, user=user)
        expires = time.time() + store.MEDIA_TOKEN_TTL_S
        tokens[key] = (token, expires)
    return web.SessionLinks(f"{origin.scheme}://{origin.netloc}", info.id, token)


def media_source(lib: store.Library, user: User | None, info: store.SessionInfo) -> str:
    """What the player plays: the guarded link (:func:`session_links`), else the file itself,
    through Streamlit's media endpoint (any browser with its URL can fetch it)."""
    links = session_links(lib, user, info)
    if links is not None:
        return links.media()
    if user is not None:
        st.caption("Started without cuekit's media guard (`cuekit serve` has it): the links to "
                   "this recording, its stills and its exports are not tied to your account.")
    return str(info.media_path)


def play_buttons(moments, key: str) -> None:
    """A play button per moment (``(start_s, label)`` pairs): one click plays it, in the
    browser (no rerun)."""
    data = {"moments": [{"t": round(float(t), 2), "clock": export.clock(t), "label": label}
                        for t, label in moments]}
    st.components.v2.component("cuekit_moments", html=MOMENTS_HTML, css=MOMENTS_CSS,
                               js=MOMENTS_JS)(key=key, data=data)


def summary_section(cs: CueSet, person: str) -> None:
    """What went well and what to work on, each tied to a listening technique, with the
    moments that show it one click from playing (rules: cuekit.review)."""
    r = listening_review.review(cs, person)
    st.subheader(f"{person}: the call in brief")
    for heading, found, empty, box in (
            ("What went well", r.strengths, "Nothing stood out as a strength this time.",
             "review_strengths"),
            ("What to work on", r.work_on, "Nothing stood out to work on.", "review_work_on")):
        with st.container(key=box):
            st.markdown(f"**{heading}**")
            if not found:
                st.caption(empty)
            for i, f in enumerate(found):
                st.markdown(f"**{f.technique_title}** — {f.text}  \n"
                            f"<small>{f.evidence}</small>", unsafe_allow_html=True)
                if f.moments:
                    play_buttons([(m.start_s, m.label) for m in f.moments],
                                 key=f"{box}_{i}_{person}")
    if not r.words_known:
        st.caption("Without the words (upload a transcript or tick *Transcribe the words*) "
                   "paraphrases, clarifying questions and empathy are not assessed.")


def _indicator_rows(home: str, user: User | None) -> pd.DataFrame:
    """Every indicator of every session the account may see (for the usual and team values),
    read each run (one query; 50 sessions take a few ms), so a new analysis shows at once."""
    return targets.indicator_table(_library(home).metric_table(user=user))


def indicators_section(lib: store.Library, user: User | None, info: store.SessionInfo,
                       cs: CueSet, person: str) -> None:
    """Each indicator against its target range (with its source), the person's usual value and
    the team's (team mode, coaches and admins)."""
    metrics = cs.summary.get("participants", {}).get(person, {})
    duration_s = info.duration_s or cs.session.get("media", {}).get("duration_s")
    values = targets.indicator_values(metrics, duration_s)
    slot = info.participants.index(person) if person in info.participants else -1
    with_team = access.may_see_team(user)
    refs = targets.references(_indicator_rows(str(lib.home), user), info.id, person, slot,
                              with_team=with_team)
    rows = []
    for key, ind in INDICATORS.items():
        if key not in values:
            continue
        v, ref = values[key], refs[key]
        row = {"technique": TECHNIQUES[ind.technique], "indicator": ind.title,
               "this call": ind.format(v), "target": ind.target_text() or "–",
               "vs target": STATUS_MARKS[ind.status(v)],
               f"usual for {person}": (f"{ind.format(ref['usual'])} ({ref['usual_n']})"
                                       if ref["usual"] is not None else "–"),
               "vs usual": targets.versus_usual(ind, v, ref["usual"]) or "–"}
        if with_team:
            row["team"] = (f"{ind.format(ref['team'])} ({ref['team_n']})"
                           if ref["team"] is not None else "–")
        rows.append(row)
    st.subheader("Indicators")
    if not rows:
        st.caption("No listening indicators in this analysis.")
        return
    st.container(key="indicators").dataframe(pd.DataFrame(rows), hide_index=True,
                                             height=38 + 35 * len(rows),
                 column_config={"target": st.column_config.TextColumn(
                     help="the reference range; where it comes from: below")})
    st.caption("In brackets: the number of other sessions behind the usual value"
               + (" and the team's (whoever sits in the same place of the reading order in "
                  "the sessions you can see)" if with_team else "") + ".")
    with st.expander("Where the targets come from"):
        for ind in INDICATORS.values():
            st.markdown(f"- **{ind.title}** ({ind.target_text() or 'no range'}): {ind.source}")


def _moment_rows(cs: CueSet) -> pd.DataFrame:
    m = cs.segments[cs.segments["kind"] == "moment"]
    return m.sort_values(["score", "start"], ascending=[False, True]).reset_index(drop=True)


@st.cache_data(max_entries=256, show_spinner=False)
def _stills(media_path: str, t_s: float, layout_json: str) -> dict[str, bytes]:
    return stills.stills(media_path, t_s, {"layout": json.loads(layout_json)})


def moment_cards(lib: store.Library, user: User | None, info: store.SessionInfo, cs: CueSet,
                 person: str | None) -> None:
    """The coaching moments as cards: a still of each participant, what happened, play, add a
    note, mark for the coaching conversation (stored)."""
    moments = _moment_rows(cs)
    marks = {(round(m.start_s, 3), m.label) for m in lib.marks(info.id, user=user)}
    st.subheader("Coaching moments")
    if moments.empty:
        st.caption("None found in this call.")
        return
    st.caption(f"{len(moments)} moment(s), the clearest first"
               + (f"; {len(marks)} marked for the coaching conversation" if marks else "") + ".")
    show_all = len(moments) > MAX_CARDS and st.toggle(f"Show all {len(moments)}",
                                                      key="all_moments")
    shown = moments if show_all else moments.head(MAX_CARDS)
    layout_json = json.dumps(cs.session.get("layout", {}), sort_keys=True)
    links = session_links(lib, user, info)
    for i, m in enumerate(shown.itertuples()):
        who = cues.shown_name(m.participant)
        with st.container(border=True, key=f"moment_card_{i}"):
            pics_col, text_col = st.columns([2, 3], vertical_alignment="center")
            with pics_col:
                pics = {}
                if info.has_video and links is not None:  # the browser fetches them, guarded
                    pics = {name: links.still(float(m.start), name)
                            for name in stills.still_names(cs.session)}
                elif info.has_video:
                    pics = _stills(str(info.media_path), round(float(m.start), 2), layout_json)
                if pics:
                    for col, (name, picture) in zip(st.columns(len(pics)), pics.items(),
                                                    strict=True):
                        if picture:
                            col.image(picture, caption=name, use_container_width=True)
            with text_col:
                st.markdown(f"**{export.clock(m.start)}–{export.clock(m.end)}** · {who}  \n"
                            f"{m.label}")
                play_buttons([(m.start, "play")], key=f"moment_play_{i}")
                mark_col, note_col = st.columns(2)
                key = (round(float(m.start), 3), m.label)
                marked = mark_col.checkbox("Mark for the coaching conversation",
                                           value=key in marks, key=f"mark_{info.id}_{i}")
                if marked != (key in marks):
                    lib.set_mark(info.id, store.Mark(float(m.start), float(m.end),
                                                     m.participant, m.label), marked, user=user)
                with note_col.popover("Add a note"), st.form(f"moment_note_{i}",
                                                             clear_on_submit=True):
                    text = st.text_area("Note on this moment", key=f"moment_note_text_{i}",
                                        placeholder="what to say about this moment")
                    if st.form_submit_button("Save the note"):
                        _add_moment_note(lib, user, info.id, float(m.start), text,
                                         m.participant)


def _add_moment_note(lib: store.Library, user: User | None, session_id: str, t_s: float,
                     text: str, participant: str) -> None:
    try:
        lib.add_note(session_id, t_s, text, "" if cues.is_pair(participant) else participant,
                     user=user)
    except CuekitError as e:
        st.error(str(e))
    else:
        st.rerun()  # the notes list and the timeline show it


def review(lib: store.Library, user: User | None, session_id: str, cs: CueSet) -> None:
    """Events, coach notes and the timeline; a click here reruns only this part."""
    notes = lib.notes(session_id, user=user)
    position_col, clock_col = st.columns([4, 1], vertical_alignment="center")
    with clock_col:  # first: it may move the position shown beside it
        pending = st.session_state.pop("seek_pending", False)
        player_clock(session_id, _seek_s(session_id) if pending else None)
    seek_s = _seek_s(session_id)
    position_col.caption(f"Position {export.clock(seek_s)} — click an event or a transcript line "
                         "to play the call from there, click or drag on the timeline to move "
                         "the player; pause the player to note that moment.")
    events_col, notes_col = st.columns([3, 2])
    with events_col:
        events = charts.events_table(cs, notes)
        st.session_state.event_times_s = events["start_s"].tolist()
        st.container(key="events_table").dataframe(
            _clock_columns(events), hide_index=True, height=320, key="events",
            on_select=partial(_on_event_click, session_id), selection_mode="single-row",
            column_config={"label": st.column_config.TextColumn(width="large")})
    with notes_col:
        notes_section(lib, user, session_id, notes, cs.participants)
    raw = st.toggle("Show the raw signals too (eye contact, smile intensity, posture, pitch, "
                    "loudness, pace, synchrony)", key="raw_lanes")
    st.components.v2.component("cuekit_timeline", html=TIMELINE_HTML, css=TIMELINE_CSS,
                               js=TIMELINE_JS)(
        key="timeline", data=timeline(str(lib.home), session_id, tuple(notes), user, raw))
    transcript_section(session_id, cs)


def transcript_section(session_id: str, cs: CueSet) -> None:
    """The transcript's lines, clickable like the events (only when the analysis had one)."""
    lines = cs.segments[cs.segments["kind"] == "transcript"]
    if lines.empty:
        return
    st.session_state.transcript_times_s = lines["start"].tolist()
    table = pd.DataFrame({"at": lines["start"].map(export.clock), "who": lines["participant"],
                          "text": lines["label"]})
    with st.expander(f"Transcript ({len(table)} lines)", expanded=True):
        st.dataframe(table, hide_index=True, height=min(36 + 35 * len(table), 320),
                     key="transcript", on_select=partial(_on_transcript_click, session_id),
                     selection_mode="single-row",
                     column_config={"text": st.column_config.TextColumn(width="large")})


@st.cache_resource(max_entries=8, show_spinner=False)
def timeline(home: str, session_id: str, notes: tuple[store.Note, ...], user: User | None,
             raw: bool = False) -> dict:
    """The timeline component's data: :func:`cuekit.charts.timeline_lanes`, with the session
    (``id``: the zoom is kept per session) and a revision (``rev``: the browser redraws the
    lanes only when it changes)."""
    lanes = charts.timeline_lanes(load_view(home, session_id, user, raw), notes, raw=raw)
    return {**lanes, "id": session_id, "rev": f"{session_id}:{hash((notes, raw)):x}"}


def _clock_columns(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"at": events["start_s"].map(export.clock),
                         "for (s)": (events["end_s"] - events["start_s"]).round(1),
                         "kind": events["kind"],
                         "who": events["participant"].map(cues.shown_name),
                         "label": events["label"]})


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
    st.subheader("Coaching moments (table)")
    moments = charts.coaching_moments(cs)
    if moments.empty:
        st.caption("None found.")
    else:
        st.dataframe(moments.assign(start_s=moments["start_s"].map(export.clock)),
                     hide_index=True)
    pairs = charts.pair_table(cs)
    if not pairs.empty:
        st.subheader("Synchrony")
        st.dataframe(pairs.rename(columns=title), hide_index=True)


def notes_section(lib: store.Library, user: User | None, session_id: str,
                  notes: list[store.Note], participants: list[str]) -> None:
    with st.form("add_note"):
        t_col, who_col = st.columns(2)
        t_col.number_input("At (s)", min_value=0.0, step=1.0, format="%.1f", key="note_t_s",
                           help="Follows the player: pause it, or click an event, and a new "
                                "note goes to that moment.")
        who_col.selectbox("About", [WHOLE_CALL, *participants], key="note_about")
        st.text_area("Note", placeholder="e.g. good open question here", key="note_text")
        st.form_submit_button("Add note", on_click=partial(_add_note, lib, user, session_id))
    if error := st.session_state.pop("note_error", None):
        st.error(error)
    for note in notes:
        text_col, delete_col = st.columns([5, 2])
        text_col.markdown(f"**{export.clock(note.t_s)}** {note.participant} — {note.text}")
        if access.may_delete_note(user, note.author_id):
            delete_col.button("Delete", key=f"note_{note.id}",
                              on_click=partial(lib.delete_note, note.id, user=user))


def _add_note(lib: store.Library, user: User | None, session_id: str) -> None:
    who = st.session_state.note_about
    try:
        lib.add_note(session_id, st.session_state.note_t_s, st.session_state.note_text,
                     "" if who == WHOLE_CALL else who, user=user)
    except CuekitError as e:
        st.session_state.note_error = str(e)
    else:
        st.session_state.note_text = ""


def export_section(lib: store.Library, user: User | None, info: store.SessionInfo) -> None:
    """A button per export (:data:`cuekit.export.EXPORTS`): a guarded link under ``cuekit
    serve``, else a download built when clicked (callables run on a side thread)."""
    links = session_links(lib, user, info)
    stem = export.file_stem(info.title, info.id)
    for col, (kind, ex) in zip(st.columns(4) * 2, export.EXPORTS.items(), strict=False):
        if links is not None:
            col.link_button(ex.label, links.export(kind))
        else:
            col.download_button(ex.label, data=partial(_export_bytes, lib, user, info, kind),
                                file_name=f"{stem}_{kind}", mime=ex.mime, on_click="ignore")


def _export_bytes(lib: store.Library, user: User | None, info: store.SessionInfo,
                  kind: str) -> bytes:
    """One export, read when built (notes change meanwhile) with the same access checks, from
    the whole result (the view holds only the drawn cues)."""
    return export.export_bytes(kind, lib.load_cueset(info.id, user=user),
                               lib.notes(info.id, user=user), title=info.title,
                               media_path=str(info.media_path))


# -- compare -----------------------------------------------------------------------------------------

def compare_page(lib: store.Library, user: User | None) -> None:
    names = lib.participant_names(user=user)
    if not names:
        st.info("Compare needs at least one analysed session.")
        return
    trend = _indicator_rows(str(lib.home), user)
    owners = sorted(set(trend["owner"]) - {""})
    owner = EVERYONE
    if access.may_see_team(user) and owners:
        if st.session_state.get("compare_owner") not in (EVERYONE, *owners):
            st.session_state.pop("compare_owner", None)
        owner = st.selectbox("Sessions of", [EVERYONE, *owners], key="compare_owner",
                             help="only the sessions this account uploaded (an agent's own "
                                  "calls), e.g. when several agents appear as 'Agent'")
    if owner != EVERYONE:
        trend = trend[trend["owner"] == owner]
        names = [n for n in names if (trend["participant"] == n).any()]
    if not names:
        st.info(f"{owner} has no analysed session yet.")
        return
    if st.session_state.get("compare_person") not in names:
        st.session_state.pop("compare_person", None)
    person = st.selectbox("Participant", names, key="compare_person")
    mine = trend[trend["participant"] == person]
    if not mine.empty:
        st.subheader(f"{owner}'s listening indicators (as {person})" if owner != EVERYONE
                     else f"{person}'s listening indicators")
        shown = [k for k in INDICATORS if (mine["indicator"] == k).any()]
        picked = st.multiselect("Indicators", shown, default=[k for k in PERSON_DEFAULT
                                                              if k in shown],
                                format_func=lambda k: INDICATORS[k].title)
        st.container(key="person_trend").plotly_chart(
            charts.indicator_trend_figure(trend, person, picked), key="person_trend_chart")
        best = [f"{INDICATORS[k].title}: {b['title']} ({b['recorded_on']:%Y-%m-%d}, "
                f"{INDICATORS[k].format(b['value'])})"
                for k in picked
                if (b := charts.best_session(mine[mine["indicator"] == k],
                                             INDICATORS[k])) is not None]
        if best:
            st.caption("Best sessions — " + " · ".join(best))
    st.subheader("All metrics")
    history = lib.history(person, user=user)
    if owner != EVERYONE:
        history = history[history["session_id"].isin(set(trend["session_id"]))]
    available = order(history["metric"])
    metrics = st.multiselect("Metrics", available, format_func=title,
                             default=[m for m in COMPARE_DEFAULT if m in available])
    st.plotly_chart(charts.history_figure(history, metrics, person))
    if history["session_id"].nunique() < 2:
        st.caption(f"{person} is in one analysed session so far: the lines over time start "
                   "with the second.")
    st.dataframe(tables.history_table(history, metrics), hide_index=True)


# -- team (coaches and admins) ---------------------------------------------------------------

NUMBER_FORMATS = {"%": "%.0f%%", "/min": "%.1f/min", "per 10 min": "%.1f", "s": "%.1f s",
                  "wpm": "%.0f wpm", "count": "%.0f"}


def team_page(lib: store.Library, user: User | None) -> None:
    """A coach's agents (an admin: every agent, by coach) with their latest indicators and the
    trend against their earlier sessions; a row opens the agent's person page. The library
    refuses agents (and this page is not in their menu)."""
    started = time.perf_counter()
    try:
        members = lib.team(user=user)
        rows = targets.indicator_table(lib.team_metric_table(user=user))
    except CuekitError as e:
        st.error(str(e))
        return
    admin = user is not None and user.is_admin
    st.subheader("All teams" if admin else "Your team")
    if not members:
        st.info("No agents are assigned to you yet: an admin assigns them on the Accounts page.")
        return
    shown = [k for k in INDICATORS if (rows["indicator"] == k).any()]
    picked = st.multiselect("Indicators", shown, format_func=lambda k: INDICATORS[k].title,
                            default=[k for k in TEAM_DEFAULT if k in shown], key="team_indicators")
    summary = targets.team_summary(rows, [m.agent for m in members]).set_index("agent")
    table = tables.team_table(members, summary, picked, by_coach=admin)
    config = {tables.value_column(k): st.column_config.NumberColumn(
                  format=NUMBER_FORMATS.get(INDICATORS[k].unit, "%.1f"),
                  help=f"the latest session's value; target {INDICATORS[k].target_text() or '–'}")
              for k in picked}
    config.update({tables.trend_column(k): st.column_config.TextColumn(
                       "trend", width="small",
                       help=f"{INDICATORS[k].title}: the latest session against the mean of "
                            "the agent's earlier ones")
                   for k in picked})
    config["latest session"] = None  # the date says it; the title is one click away
    config["latest"] = st.column_config.DateColumn(format="YYYY-MM-DD")
    picked_rows = st.container(key="team_table").dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="team_grid",
        column_config=config).selection.rows
    st.caption("Click a column's title to sort. ↑/↓: the latest session against the mean of "
               "the agent's earlier sessions (→ about the same); better/worse: towards or away "
               "from the target range. Select a row to open the agent's person page. "
               f"Ready in {time.perf_counter() - started:.2f} s.")
    if picked_rows:
        agent = table.iloc[picked_rows[0]]["agent"]
        latest = summary.loc[agent]
        person_col, session_col = st.columns([1, 1])
        person_col.button(f"Open {agent}'s person page", type="primary", key="team_open_person",
                          on_click=partial(_open_person, agent, rows))
        if latest["latest_session_id"]:
            session_col.button(f"Open {agent}'s latest session", key="team_open_session",
                               on_click=open_session, args=(latest["latest_session_id"],))


def _open_person(agent: str, rows: pd.DataFrame) -> None:
    """The person page of an agent: their sessions (by owner) and their participant name in
    the latest one."""
    mine = rows[rows["owner"] == agent]
    st.session_state.goto_page = "Compare"
    st.session_state.compare_owner = agent
    if not mine.empty:
        st.session_state.compare_person = mine.sort_values("recorded_on")["participant"].iloc[-1]


# -- outcomes ---------------------------------------------------------------------------------

OUTCOMES_EXAMPLE = "session,satisfaction,resolved,complaint\nRenewal call with ACME,4.5,yes,no"


def outcomes_page(lib: store.Library, user: User | None) -> None:
    """Import outcomes from CSV (coaches and admins) and see how a listening indicator relates to
    an outcome across the sessions the account may see."""
    may_record = access.may_record_outcomes(user)
    if may_record:
        with st.expander("Import outcomes from CSV", expanded=st.session_state.get(
                "outcomes_open", False)):
            st.caption("One row per session: a column `session` (the session's id or its title) "
                       "and one column per outcome, a number or yes/no, e.g.")
            st.code(OUTCOMES_EXAMPLE, language="text")
            upload = st.file_uploader("Outcomes (CSV)", type=["csv", "txt"],
                                      key="outcomes_csv")
            skip = st.checkbox("Import the rest when a row names no session of the library "
                               "(those rows are listed)", key="outcomes_skip")
            if st.button("Import", type="primary", disabled=upload is None,
                         key="outcomes_import"):
                st.session_state.outcomes_open = True
                try:
                    done = lib.import_outcomes(upload.getvalue(), user=user, skip_unknown=skip)
                except CuekitError as e:
                    st.error(str(e).replace("\n", "  \n"))
                else:
                    st.success(f"Imported {done.values} value(s) for {done.sessions} "
                               "session(s).")
                    if done.skipped:
                        st.warning("Skipped:  \n" + "  \n".join(done.skipped))
    table = lib.outcome_table(user=user)
    if table.empty:
        st.info("No outcomes yet: import a CSV"
                + (" above" if may_record else " (a coach or an admin does)")
                + " or enter them on a session's page.")
        return
    relation_section(lib, user, table)


def relation_section(lib: store.Library, user: User | None, table: pd.DataFrame) -> None:
    st.subheader("Listening and outcomes")
    rows = store.agent_rows(lib.metric_table(user=user))
    ind_rows = targets.indicator_table(rows)
    shown = [k for k in INDICATORS if (ind_rows["indicator"] == k).any()]
    names = sorted(set(table["outcome"]))
    if not shown:
        st.info("No analysed sessions with indicators yet.")
        return
    ind_col, out_col = st.columns(2)
    key = ind_col.selectbox("Indicator", shown, format_func=lambda k: INDICATORS[k].title,
                            key="relation_indicator")
    outcome = out_col.selectbox("Outcome", names, key="relation_outcome")
    points = outcomes.relation_points(ind_rows, table, key, outcome)
    rel = outcomes.relation(points["x"], points["y"])
    ind = INDICATORS[key]
    st.container(key="relation_chart").plotly_chart(
        charts.relation_figure(points, ind, outcome, rel), key="relation_figure",
        config={"displaylogo": False})
    (st.warning if rel.too_few else st.caption)(rel.caution())
    st.caption("One point per session with both values: the indicator of the session's agent "
               "(the participant named like the account that uploaded it, else the first in "
               "the reading order).")


def session_outcomes(lib: store.Library, user: User | None, info: store.SessionInfo) -> None:
    """The session's outcomes: shown to whoever sees the session, edited by coaches and admins."""
    values = lib.outcomes(info.id, user=user)
    may_record = access.may_record_outcomes(user)
    st.subheader("Outcomes")
    if not may_record:
        st.caption(", ".join(f"{k}: {v:g}" for k, v in values.items()) or "None recorded.")
        return
    known = sorted(set(lib.outcome_table(user=user)["outcome"]) | set(values))
    editor = pd.DataFrame({"outcome": pd.Series(known, dtype="string"),
                           "value": pd.Series([values.get(k) for k in known], dtype="float")})
    edited = st.data_editor(
        editor, num_rows="dynamic", hide_index=True, key=f"outcomes_{info.id}",
        column_config={"outcome": st.column_config.TextColumn(
                           help="e.g. satisfaction, resolved, complaint"),
                       "value": st.column_config.NumberColumn(
                           help="a score, or 1 for yes and 0 for no; empty: not known")})
    if st.button("Save the outcomes", key=f"save_outcomes_{info.id}"):
        try:
            wanted = outcomes.edited_values(zip(edited["outcome"], edited["value"], strict=True))
            for name, value in outcomes.changes(values, wanted).items():
                lib.set_outcome(info.id, name, value, user=user)
        except CuekitError as e:
            st.error(str(e))
        else:
            st.success("Saved.")


# -- accounts (team mode) ---------------------------------------------------------------------

def signed_in_user(lib: store.Library) -> User | None:
    """None without team mode. In team mode the signed-in account as stored now (a deleted
    account is signed out), or the sign-in page and nothing else."""
    if not lib.team_mode:
        return None
    user_id = st.session_state.get("user_id")
    user = lib.user(user_id) if user_id is not None else None
    if user is None:
        sign_in_page(lib)
        st.stop()
    return user


def sign_in_page(lib: store.Library) -> None:
    _, middle, _ = st.columns([1, 1, 1])
    with middle:
        st.title("cuekit")
        st.caption("Active listening review. Sign in to see your calls.")
        with st.form("sign_in"):
            name = st.text_input("Name", autocomplete="username")
            password = st.text_input("Password", type="password",
                                     autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            try:
                st.session_state.user_id = lib.sign_in(name, password).id
            except CuekitError as e:
                st.error(str(e))
            else:
                st.rerun()
        st.caption("No account yet? Ask your cuekit admin.")


def sign_out() -> None:
    """Forget everything of this browser session, the open session in the URL too."""
    for key in list(st.session_state):
        del st.session_state[key]
    st.query_params.clear()


def accounts_page(lib: store.Library, user: User) -> None:
    """Accounts and coaching assignments (admins only; the library refuses anyone else)."""
    if message := st.session_state.pop("team_message", None):
        st.success(message)
    users = lib.users(by=user)
    agents = [u.name for u in users if u.role == auth.AGENT]
    st.subheader("Accounts")
    st.dataframe(pd.DataFrame([{"name": u.name, "role": u.role,
                                "agents coached": ", ".join(lib.agents_of(u.name))
                                if u.role == auth.COACH else ""} for u in users]),
                 hide_index=True)
    add_col, manage_col = st.columns(2)
    with add_col, st.form("add_user", clear_on_submit=True):
        st.markdown("**New account**")
        name = st.text_input("Name", key="new_user_name")
        role = st.selectbox("Role", auth.ROLES, index=auth.ROLES.index(auth.AGENT))
        password = st.text_input(f"Password (at least {auth.MIN_PASSWORD_CHARS} characters)",
                                 type="password", key="new_user_password")
        if st.form_submit_button("Add account"):
            _team_action(lambda: lib.add_user(name, role, password, by=user),
                         f"Added {name.strip()} ({role}).")
    with manage_col:
        st.markdown("**Manage an account**")
        name = st.selectbox("Account", [u.name for u in users], key="managed_user")
        password = st.text_input("New password", type="password", key="reset_password")
        if st.button("Set password", disabled=not password):
            _team_action(lambda: lib.set_password(name, password, by=user),
                         f"New password set for {name}.")
        sure = st.checkbox(f"Delete the account {name}", key="sure_delete_user")
        if st.button("Delete account", disabled=not sure):
            _team_action(lambda: lib.delete_user(name, by=user), f"Deleted {name}.")
    st.subheader("Coaching")
    st.caption("A coach sees and annotates the sessions of the agents assigned here.")
    for coach in (u.name for u in users if u.role == auth.COACH):
        picked_col, save_col = st.columns([4, 1], vertical_alignment="bottom")
        picked = picked_col.multiselect(f"Agents coached by {coach}", agents,
                                        default=lib.agents_of(coach), key=f"agents_{coach}")
        if save_col.button("Save", key=f"save_agents_{coach}"):
            _team_action(lambda c=coach, a=picked: lib.set_agents(c, a, by=user),
                         f"Saved the agents of {coach}.")


def _team_action(action, done: str) -> None:
    try:
        action()
    except CuekitError as e:
        st.error(str(e))
    else:
        st.session_state.team_message = done
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="cuekit — active listening review", page_icon="🎧",
                       layout="wide")
    lib = library()
    user = signed_in_user(lib)
    pages = access.pages(user)
    if "goto_page" in st.session_state:
        st.session_state.page = st.session_state.pop("goto_page")
    elif st.session_state.get("page") not in pages:  # a reload keeps the session in the URL
        st.session_state.page = "Session" if st.query_params.get("session") else "Library"
    sidebar(lib, user)
    st.title("cuekit")
    st.caption("Non-verbal cues of recorded calls — gaze, nods, expression, tone, pauses, "
               "interruptions, mirroring — for reviewing active listening.")
    {"Library": library_page, "Session": session_page, "Compare": compare_page,
     "Outcomes": outcomes_page, "Team": team_page, "Accounts": accounts_page}[
        st.session_state.page](lib, user)


main()
