"""Telling voices apart in one mixed track: speaker embeddings of sliding windows, clustered.

Speech is covered by windows of ``WINDOW_S`` every ``HOP_S`` (a stretch of speech shorter than
a window, but at least ``MIN_WINDOW_S``, is one window of its own length). Each window becomes a
GE2E speaker embedding (:mod:`cuekit.audio.embeddings`); windows are clustered by average
linkage on cosine distance into N voices — N given, or every merge closer than
``ESTIMATE_DISTANCE`` made — and each window then goes to the voice whose centroid it is nearest
(twice), so a voice is not split by the order in which the tree merged. A moment of speech takes
the voice most of its windows vote for, smoothed over ``SMOOTH_S``: a change of speaker inside
continuous speech lands within about a hop of the real one. Voices are numbered in order of
first speech.

Measured against MFCC statistics clustered by Ward's method (what this replaced) on the real
recordings of ``../shared/validation`` with the speaker count given: AMI excerpts pooled DER
0.58 -> 0.46, pyAudioAnalysis examples 0.07 / 0.22 -> 0.04 / 0.07, a phone call mixed to mono
0.12 -> 0.04; both single-voice clips (JFK, LJ001-0001) now come out as one voice, not two.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ..errors import InputError
from ..intervals import true_runs
from .segmentation import ACTIVE_CLASSES, ALONE_CLASSES, FRAME_HOP, FRAME_SPAN, LocalSpeakers
from .segmentation import SAMPLE_RATE as MODEL_SR

WINDOW_S = 1.5            # long enough for a stable embedding, short enough for a backchannel
HOP_S = 0.5
MIN_WINDOW_S = 0.4        # shorter stretches of speech are not embedded (they keep no voice)
ESTIMATE_DISTANCE = 0.35  # cosine distance: clusters of windows nearer than this are one voice
SMOOTH_S = 0.5
UNSURE_MARGIN = 0.05      # a window this little nearer its own voice than another could be either
REFINE_ROUNDS = 2
MIN_VOICE_S = 3.0         # an estimated voice holds at least this much speech (windows x HOP_S)
LOCAL_ALONE_S = 1.0       # a local speaker of the segmentation model heard alone this long in
LOCAL_SHARE = 0.1         # this share of its 10-s windows is a person (see estimate_voice_count)
SNAP_S = 0.75             # a change of voice moves at most this far to a brief silence (about
                          # half a window plus the vote smoothing: how far the votes misplace it)
MIN_DIP_S = 0.06          # ... of at least this length (cuekit.audio.voice.cut_to_level's dips)
TREE_WINDOWS = 2000       # most windows the average-linkage tree is built on (its distance
                          # matrix: n^2 / 2 float64, 16 MB here, 315 MB for a 2-hour call's 8 900)


def voice_windows(speech: np.ndarray, *, window_s: float = WINDOW_S,
                  hop_s: float = HOP_S, min_window_s: float = MIN_WINDOW_S) -> np.ndarray:
    """Analysis windows ``(start_s, end_s)``, shape ``(n, 2)``: each interval of ``speech`` (an
    interval set, :mod:`cuekit.intervals`) tiled with
    windows of ``window_s`` every ``hop_s`` (the last one ending at the interval's end);
    intervals shorter than ``window_s`` (but at least ``min_window_s``) give one window of their
    own length."""
    out: list[tuple[float, float]] = []
    for a, b in speech:
        if b - a < min_window_s:
            continue
        if b - a <= window_s:
            out.append((a, b))
            continue
        starts = list(np.arange(a, b - window_s + 1e-9, hop_s))
        if starts[-1] + window_s < b - 1e-6:
            starts.append(b - window_s)
        out.extend((s, s + window_s) for s in starts)
    return np.asarray(out, dtype="float64").reshape(-1, 2)


def cluster_embeddings(emb: np.ndarray, *, speakers: int | None,
                       max_distance: float = ESTIMATE_DISTANCE,
                       tree_windows: int = TREE_WINDOWS) -> np.ndarray:
    """Voice label per row of ``emb`` (unit vectors, ``(n, d)``), 0..N-1 in row order of first
    appearance. ``speakers`` fixes N; ``None`` keeps apart only clusters whose average cosine
    distance is at least ``max_distance``.

    The tree is built on at most ``tree_windows`` rows, evenly spread over ``emb`` (all of them
    up to that: about 27 minutes of speech), so its memory and time stop growing with the call;
    every row then goes to the nearest centroid of those clusters, and the refinement runs on
    all rows as it does below the cap."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if speakers is not None and speakers < 1:
        raise InputError(f"speakers must be >= 1, got {speakers!r}")
    n = len(emb)
    if n < 2:
        return np.zeros(n, dtype=int)
    rows = np.unique(np.linspace(0, n - 1, min(n, max(2, tree_windows))).round().astype(int))
    tree = linkage(emb[rows].astype("float64"), method="average", metric="cosine")
    labels = (fcluster(tree, min(speakers, len(rows)), "maxclust") if speakers is not None
              else fcluster(tree, max_distance, "distance")) - 1
    if len(rows) < n:
        ids, centroids = _centroids(emb[rows], labels)
        labels = ids[(emb @ centroids.T).argmax(axis=1)]
    for _ in range(REFINE_ROUNDS):
        ids, centroids = _centroids(emb, labels)
        labels = ids[(emb @ centroids.T).argmax(axis=1)]
    return _first_appearance_order(labels)


def estimate_voice_count(emb: np.ndarray, *, alone_s: np.ndarray | None = None,
                         max_distance: float = ESTIMATE_DISTANCE, min_voice_s: float = MIN_VOICE_S,
                         local_alone_s: float = LOCAL_ALONE_S, local_share: float = LOCAL_SHARE
                         ) -> int:
    """How many voices the windows' embeddings ``emb`` hold, when no one says: the clusters that
    :func:`cluster_embeddings` keeps apart at ``max_distance`` and that hold at least
    ``min_voice_s`` of speech (their windows times ``HOP_S``: a few stray windows are not a
    person), but never fewer than the most local speakers that the segmentation model hears
    alone for ``local_alone_s`` each inside one window, in at least ``local_share`` of its
    windows (``alone_s``, ``(windows, 3)`` seconds,
    :meth:`cuekit.audio.segmentation.LocalSpeakers.alone_s`): the model tells two voices apart
    within 10 s where the embeddings of two similar voices merge, and asking for a share of the
    windows keeps a long one-voice recording's few stray ones (1-6 % on a real phone channel)
    from making a second person. At least 1."""
    n = 1
    if len(emb) >= 2:
        secs = np.bincount(cluster_embeddings(emb, speakers=None, max_distance=max_distance)) * HOP_S
        n = max(1, int(np.sum(secs >= min_voice_s)))
    if alone_s is not None and len(alone_s):
        heard = (np.asarray(alone_s) >= local_alone_s).sum(axis=1)
        n = max([n] + [c for c in (2, 3) if np.mean(heard >= c) >= local_share])
    return n


def separation(emb: np.ndarray, labels: np.ndarray) -> float:
    """How far apart the voices are: the smallest cosine distance between two voices'
    centroids (NaN for one voice). On the validation recordings it ran 0.10-0.48 and did not
    predict the confusion by itself: read it with :func:`window_margins`."""
    ids, c = _centroids(emb, labels)
    if len(ids) < 2:
        return float("nan")
    sim = c @ c.T
    return float(1.0 - sim[~np.eye(len(ids), dtype=bool)].max())


def window_margins(emb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per window, how much nearer it is to its own voice than to the next: the cosine
    similarity to its voice's centroid minus that to the nearest other voice's (``(n,)``,
    -1..1; all NaN with one voice). A margin, not a probability: windows of clearly different
    voices sit 0.2-0.5 apart; under ~0.05 the window could be either."""
    ids, c = _centroids(emb, labels)
    if len(ids) < 2:
        return np.full(len(emb), np.nan)
    sim = emb @ c.T
    own = np.searchsorted(ids, labels)
    mine = sim[np.arange(len(emb)), own]
    sim[np.arange(len(emb)), own] = -np.inf
    return mine - sim.max(axis=1)


def _centroids(emb: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(voice ids, their centroids as unit vectors ``(k, d)``)."""
    ids = np.unique(labels)
    c = np.stack([emb[labels == i].mean(axis=0) for i in ids])
    return ids, c / np.linalg.norm(c, axis=1, keepdims=True)


def _first_appearance_order(labels: np.ndarray) -> np.ndarray:
    order = {lab: i for i, lab in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[lab] for lab in labels.tolist()], dtype=int)


def label_frames(t: np.ndarray, windows: np.ndarray, labels: np.ndarray, *, n_voices: int,
                 smooth_s: float = SMOOTH_S) -> np.ndarray:
    """Voice label at each time ``t`` (-1 outside every window): the majority of the windows
    covering it, smoothed by a running vote over ``smooth_s`` seconds."""
    votes = np.zeros((len(t), max(n_voices, 1)))
    # t is sorted: [a, b) is one slice of it (linear time in the call's length, not quadratic)
    i0, i1 = np.searchsorted(t, windows[:, 0]), np.searchsorted(t, windows[:, 1])
    for a, b, lab in zip(i0.tolist(), i1.tolist(), np.asarray(labels).tolist(), strict=True):
        votes[a:b, lab] += 1
    inside = votes.sum(axis=1) > 0
    if len(t) > 1:
        # a running vote over smooth_s: a mode filter, so three or more voices stay categorical
        width = max(1, int(round(smooth_s / (t[1] - t[0]))))
        votes = uniform_filter1d(votes / np.maximum(votes.sum(axis=1, keepdims=True), 1), width,
                                 axis=0, mode="nearest")
    return np.where(inside, votes.argmax(axis=1), -1)


def second_voice_in_time(lab: np.ndarray) -> np.ndarray:
    """Per frame of voice labels ``lab`` (-1: none), the nearest other voice in time: the voice
    of the closest frame before or after whose voice differs (-1 where there is none or ``lab``
    is -1). Overlapped speech mostly sits where the floor changes hands, so the voice talking
    just before or after is the likely second one."""
    lab = np.asarray(lab)
    out = np.full(len(lab), -1)
    idx = np.flatnonzero(lab >= 0)
    if not len(idx):
        return out
    labels = lab[idx]
    change = np.flatnonzero(np.diff(labels) != 0) + 1            # runs of one voice, gaps skipped
    run_start = np.r_[0, change]
    run_end = np.r_[change, len(idx)]                            # exclusive, in positions of idx
    run_lab = labels[run_start]
    run_of = np.repeat(np.arange(len(run_start)), run_end - run_start)
    prev_t = np.where(run_of > 0, idx[run_start[run_of] - 1], -np.inf)   # last frame of the run before
    next_pos = run_end[run_of]
    next_t = np.where(next_pos < len(idx), idx[np.minimum(next_pos, len(idx) - 1)], np.inf)
    take_prev = (idx - prev_t) <= (next_t - idx)
    prev_lab = run_lab[np.maximum(run_of - 1, 0)]
    next_lab = run_lab[np.minimum(run_of + 1, len(run_lab) - 1)]
    has = np.isfinite(np.where(take_prev, prev_t, next_t))
    out[idx] = np.where(has, np.where(take_prev, prev_lab, next_lab), -1)
    return out


# ------------------------------------------------------------------ voices and mouths together
#
# Two voices of one base voice model (or two similar real voices) can sit closer in the speaker
# embedding than one voice's windows sit to each other: clustering alone then merges them. With
# video the count is known (the tiles with faces) and the mouths say who speaks; the embeddings
# still say who speaks where a mouth is hidden or a listener moves theirs. Both go into one
# classifier of the windows, trained on the call itself.

FUSE_ROUNDS = 8
FUSE_MIN_SEEN = 0.5       # each face must be seen in this share of the windows to take part
FUSE_MIN_SEEDS = 3        # … and be the clearly moving mouth in this many windows
FUSE_SEED_RATIO = 1.5     # clearly moving: this many times the next mouth's movement (each
                          # scaled to its own 90th percentile; the real interview's guest moves
                          # her mouth listening too, and never reaches 2x)
FUSE_FLOOR = 0.05         # movement (relative to the person's 90th percentile) added before log


def snap_changes(lab: np.ndarray, heard: np.ndarray, dips: np.ndarray, *, max_shift: int,
                 both: np.ndarray | None = None, heard_change: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Voice labels and speech frames with each change of voice inside continuous speech moved
    into a brief silence (``dips``) at most ``max_shift`` frames away, which becomes a gap
    between the two (bool/int arrays of one length; ``lab`` -1 where no window votes). Of the
    dips in reach, one where the segmentation model hears a change of speaker
    (``heard_change``) first, then the longest, then the nearest: a comma's pause in the next
    sentence can be longer than the gap between two people. A change with overlapped speech
    (``both``) within ``max_shift`` is left: there the second voice starts while the first goes
    on.

    Window votes put a change of speaker up to about half a window late or early; two people
    who answer each other with hardly a gap (under the shortest pause) leave a dip in the
    level there, not a silence the VAD keeps."""
    lab, heard = np.asarray(lab).copy(), np.asarray(heard, dtype=bool).copy()
    runs = np.array(true_runs(dips), dtype=int).reshape(-1, 2)
    if not len(runs):
        return lab, heard
    changes = np.flatnonzero(heard[1:] & heard[:-1] & (lab[1:] != lab[:-1])
                             & (lab[1:] >= 0) & (lab[:-1] >= 0)) + 1
    if both is not None and np.any(both):
        busy = np.convolve(np.asarray(both, dtype=float), np.ones(2 * max_shift + 1), "same") > 0
        changes = changes[~busy[changes]]
    used: set[int] = set()  # a dip takes one change: two would remove the stretch between them
    for i in changes:
        before, after = lab[i - 1], lab[i]
        dist = np.maximum(runs[:, 0] - i, i - runs[:, 1])
        near = np.flatnonzero(dist <= max_shift)
        best = None
        for k in near:
            if k in used:
                continue
            a, b = runs[k]
            # the frames it would move across: the later voice's (dip after the change) or
            # the earlier one's (dip before), all heard — never across another change
            between, own = (slice(i, a), after) if a > i else (slice(b, i), before)
            if not heard[between].all() or not np.all(lab[between] == own):
                continue
            key = (heard_change is not None and bool(heard_change[a:b].any()), b - a,
                   -max(0, dist[k]))
            if best is None or key > best[0]:
                best = (key, k)
        if best is None:
            continue
        a, b = runs[best[1]]
        used.add(best[1])
        lab[min(a, i):a] = before  # the first voice runs on to the dip ...
        lab[b:max(b, i)] = after   # ... the second starts after it
        heard[a:b] = False
    return lab, heard


def join_overlap(own: np.ndarray, second: np.ndarray, heard: np.ndarray, *,
                 max_gap: int) -> np.ndarray:
    """One voice's frames: its own (``own``) and those given to it as the second voice of
    overlapped speech (``second``), with a gap of at most ``max_gap`` frames between the two
    filled where someone is ``heard`` all through it (bool arrays of one length).

    Inside overlapped speech the window votes put the change from one voice to the other up
    to about a window early or late, so the voice that was talking seems to stop, then to come
    back as the second voice: a pause it never made, which would make it the one who cuts in."""
    mask = own | second
    out = mask.copy()
    for a, b in true_runs(~mask):
        if a == 0 or b == len(mask) or b - a > max_gap or not heard[a:b].all():
            continue
        if (own[a - 1] and second[b]) or (second[a - 1] and own[b]):
            out[a:b] = True
    return out


def fuse_with_mouths(emb: np.ndarray, movement: np.ndarray, *, rounds: int = FUSE_ROUNDS
                     ) -> tuple[np.ndarray | None, dict]:
    """Participant index per window (``(n,)``, 0..k-1), or None when the mouths cannot tell,
    with a dict of how it went.

    ``emb``: unit speaker embeddings of the windows ``(n, d)``; ``movement``: each
    participant's mouth movement averaged over each window ``(n, k)``, NaN where their face is
    not seen. Movement is scaled by each person's own 90th percentile (faces differ in size and
    in how far their mouth opens) and taken as a log. Windows start with the participant whose
    mouth moves most; then, ``rounds`` times, every window gets a feature vector — its cosine
    similarity to each participant's voice centroid (of the windows given to them), and the k
    log movements — and goes to the participant under whose Gaussian (per-participant means,
    one diagonal variance shared by all) it is likeliest, NaN features left out. The variances
    are learnt on the call: when two voices are alike their similarity features barely differ
    between participants and the mouths decide; a mouth that moves when its person listens
    (chewing, smiling) is outweighed by a voice that differs."""
    n, k = movement.shape
    seen = np.isfinite(movement)
    if k < 2 or n < 2 * FUSE_MIN_SEEDS or (seen.mean(axis=0) < FUSE_MIN_SEEN).any():
        return None, {"fused": False, "why": "a face is not seen often enough"}
    scale = np.nanpercentile(movement, 90, axis=0)
    if not (np.isfinite(scale) & (scale > 0)).all():
        return None, {"fused": False, "why": "a mouth never moves"}
    vis = np.log(movement / scale + FUSE_FLOOR)
    filled = np.where(seen, vis, -np.inf)
    top = np.argsort(-filled, axis=1)
    first, second = filled[np.arange(n), top[:, 0]], filled[np.arange(n), top[:, 1]]
    clear = np.isfinite(first) & (first - np.where(np.isfinite(second), second, -np.inf)
                                  >= np.log(FUSE_SEED_RATIO))
    seeds = np.bincount(top[clear, 0], minlength=k)
    if (seeds < FUSE_MIN_SEEDS).any():
        return None, {"fused": False, "why": "a mouth is never clearly the one moving"}
    labels = top[:, 0].copy()
    for _ in range(rounds + 1):
        if (np.bincount(labels, minlength=k) < 2).any():
            return None, {"fused": False, "why": "a participant lost every window"}
        x, mu, var = _fused_features(emb, vis, labels, k)
        ok = np.isfinite(x)
        z = np.where(ok[:, None, :], (x[:, None, :] - mu[None]) ** 2 / var, 0.0)
        new = np.nan_to_num(z, nan=0.0).sum(axis=2).argmin(axis=1)
        if (new == labels).all() or _ == rounds:
            break
        labels = new
    # how far apart the participants are by each kind of feature (squared difference of the
    # means over the shared variance, averaged): which of voice and mouth did the telling
    spread = np.ptp(mu, axis=0) ** 2 / var
    return labels, {"fused": True, "windows_by_mouth_first": int(clear.sum()),
                    "separation_by_voice": round(float(spread[:k].mean()), 2),
                    "separation_by_mouth": round(float(spread[k:].mean()), 2)}


def _fused_features(emb: np.ndarray, vis: np.ndarray, labels: np.ndarray, k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: cosine similarity to each participant's voice centroid and the log mouth
    movements ``(n, 2k)``; each participant's mean ``(k, 2k)`` and the shared variance
    ``(2k,)`` under ``labels`` (NaN features left out)."""
    _, cent = _centroids(emb, labels)
    x = np.hstack([emb @ cent.T, vis])
    masked = np.where(np.isfinite(x), x, np.nan)
    mu = np.stack([np.nanmean(masked[labels == j], axis=0) for j in range(k)])
    var = np.nanmean((masked - mu[labels]) ** 2, axis=0) + 1e-6
    return x, np.nan_to_num(mu, nan=0.0), np.nan_to_num(var, nan=1.0)


# ------------------------------------------------------------ the segmentation model's speakers
#
# The speaker windows are 1.5 s long and vote every 0.5 s: next to overlapped speech a window
# hears both voices, so the stretch an interrupter speaks alone after the overlap (or the one
# who was talking before it) takes the other's voice. The segmentation model follows up to
# three local speakers frame by frame (17 ms) through each 10-s window, overlaps included. Each
# local speaker takes the voice that the window labels give most of its frames heard alone (two
# heard at once are two people); its frames then vote for that voice, and near overlapped
# speech, where most windows hear another voice than the label's, the label follows them.
# Generated calls (benchmarks/call_family.py, with the join guard in the pipeline): right
# interrupters 33 -> 38 of 39, mean frame error 0.035 -> 0.030; the validation recordings
# unchanged to 0.1 points (benchmarks/validate.py).

LOCAL_MIN_ALONE_S = 0.5   # a local speaker heard alone at least this long (in speech) is mapped
LOCAL_MIN_AGREE = 0.8     # ... to the voice that holds at least this share of those frames
LOCAL_MIN_SHARE = 0.5     # a frame's label changes when this share of its windows hear another
LOCAL_MIN_TOGETHER_S = 0.3  # two local speakers heard at once this long are two people
LOCAL_MIN_RUN_S = 0.25    # ... unless it would make an island of another voice shorter than this
LOCAL_NEAR_S = WINDOW_S   # ... and only this close to overlapped speech (where a speaker window
# hears both voices): elsewhere a clean window's embedding tells voices apart better than the
# model, which can hear two alike voices as one local speaker (a stitched six-voice file lost
# 2.3 points when a change was moved everywhere)


def _local_voices(cls: np.ndarray, lab: np.ndarray, heard: np.ndarray, *, n_voices: int,
                  step_s: float) -> dict[int, int]:
    """The voice of each local speaker of one window (``{local: voice}``; ``cls``: the model's
    class, ``lab``: the voice labels and ``heard``: speech, per frame of the window's span).

    A local speaker heard alone for at least ``LOCAL_MIN_ALONE_S`` takes the voice that holds
    at least ``LOCAL_MIN_AGREE`` of those frames. Two local speakers heard at once for at least
    ``LOCAL_MIN_TOGETHER_S`` are two people: when both took one voice, the one heard alone less
    takes the next voice of its frames (with two voices: the other one), or none."""
    alone: dict[int, np.ndarray] = {}
    out: dict[int, int] = {}
    for j, alone_c in enumerate(ALONE_CLASSES):
        own = lab[(cls == alone_c) & heard & (lab >= 0)]
        if len(own) * step_s < LOCAL_MIN_ALONE_S:
            continue
        alone[j] = np.bincount(own, minlength=n_voices)
        if alone[j].max() >= LOCAL_MIN_AGREE * len(own):
            out[j] = int(alone[j].argmax())
    for j, k in combinations(sorted(out), 2):
        if j not in out or k not in out or out[j] != out[k]:
            continue
        together = set(ACTIVE_CLASSES[j]) & set(ACTIVE_CLASSES[k])
        if np.isin(cls, list(together)).sum() * step_s < LOCAL_MIN_TOGETHER_S:
            continue
        weaker = j if alone[j].sum() < alone[k].sum() else k
        rest = alone[weaker].copy()
        rest[out[weaker]] = 0
        if rest.any():
            out[weaker] = int(rest.argmax())
        elif n_voices == 2:
            out[weaker] = 1 - out[weaker]
        else:
            del out[weaker]
    return out


def follow_local_speakers(t: np.ndarray, lab: np.ndarray, heard: np.ndarray,
                          local: LocalSpeakers, *, n_voices: int, near: np.ndarray | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Voice labels ``lab`` (per time ``t``, -1: none) corrected by the segmentation model's
    local speakers ``local`` (see the comment above).

    ``heard``: speech frames (bool, like ``t``). Changes only frames that are ``heard``,
    ``near`` (bool like ``t``; None: everywhere), and where at least ``LOCAL_MIN_SHARE`` of the
    windows covering them hear another voice and fewer hear the label's own; never into an
    island of a voice shorter than ``LOCAL_MIN_RUN_S``.

    Returns the labels and, per voice and frame, the share of the windows covering the frame
    that hear that voice there (``(n_voices, len(t))``; 0 where no window could tell)."""
    lab = np.asarray(lab).copy()
    heard = np.asarray(heard, dtype=bool)
    best = local.best
    if n_voices < 2 or not len(t) or not len(best):
        return lab, np.zeros((max(n_voices, 1), len(t)))
    step = float(t[1] - t[0]) if len(t) > 1 else 0.01
    n_frames = best.shape[1]
    frame_hop_s = FRAME_HOP / MODEL_SR
    votes = np.zeros((n_voices, len(t)))
    cover = np.zeros(len(t))
    for start, cls_w in zip(local.start_s.tolist(), best, strict=True):
        first = start + FRAME_SPAN / 2 / MODEL_SR  # centre of the window's first frame
        i0, i1 = np.searchsorted(t, [first - frame_hop_s / 2,
                                     first + (n_frames - 0.5) * frame_hop_s])
        if i1 <= i0:
            continue
        k = np.clip(np.round((t[i0:i1] - first) / frame_hop_s).astype(int), 0, n_frames - 1)
        cls = cls_w[k]
        cover[i0:i1] += 1
        mapped = _local_voices(cls, lab[i0:i1], heard[i0:i1], n_voices=n_voices, step_s=step)
        # a window whose local speakers all take one voice may have heard two alike as one
        if len(set(mapped.values())) < 2:
            continue
        for j, voice_k in mapped.items():
            votes[voice_k, i0:i1] += np.isin(cls, ACTIVE_CLASSES[j])
    share = votes / np.maximum(cover, 1.0)
    top = share.argmax(axis=0)
    own_share = np.where(lab >= 0, share[np.maximum(lab, 0), np.arange(len(t))], 0.0)
    move = heard & (share.max(axis=0) >= LOCAL_MIN_SHARE) & (own_share < LOCAL_MIN_SHARE)
    if near is not None:
        move &= np.asarray(near, dtype=bool)
    out = lab.copy()
    min_run = int(round(LOCAL_MIN_RUN_S / step))
    for v in range(n_voices):
        for a, b in true_runs(move & (top == v)):
            joins = (a > 0 and lab[a - 1] == v) or (b < len(lab) and lab[b] == v)
            if b - a >= min_run or joins:
                out[a:b] = v
    return out, share
