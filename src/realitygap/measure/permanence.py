"""Object permanence from tracks: objects that vanish while they should be seen, objects from nowhere.

Inputs: the tracks of `realitygap.measure.tracking.track_objects` (per frame GONE / LOST /
PRESENT), an expected-visibility array (n_objects, T) bool in the tracks' order, and the
spontaneous-object events of `find_spontaneous_objects`. The expectation comes from the caller:
for ground truth from the annotations (`expected_visible_from_annotations`: visible fraction >
0), for a source from the scenario's law and occlusion geometry.

Definitions (frames are indices into the video; ranges are inclusive):

- vanishing event of object k: a maximal run of frames with expected_visible[k, t] and
  state[k, t] in `absent_states` (default GONE only: no pixel of the object's colour anywhere),
  at least `min_frames` long. LOST frames (colour evidence without a confident blob: slivers at an
  occluder's edge, smudges) are counted, not flagged: they are where expectation and
  measurement legitimately disagree by a pixel or two.
- unexpected-visibility event: a run of >= `min_frames` frames with the object PRESENT where it is
  expected hidden (seen through an occluder); reported, not counted as a permanence violation.
- spontaneous event: each event of `find_spontaneous_objects` (a compact blob that appears
  after frame 0 and matches no track for >= its own min_frames).

    n_violations = sum_k n_vanishing_k + n_spontaneous;  permanence_ok = n_violations == 0.

Example:
    >>> import numpy as np
    >>> from realitygap.measure.tracking import ObjectTrack
    >>> T = 6; state = np.array([2, 2, 0, 0, 0, 2], np.int8)
    >>> tr = ObjectTrack("ball", np.arange(T) / 30, state, np.zeros((T, 2)), np.ones(T), np.zeros((T, 4)),
    ...                  np.ones(T), np.ones(T), np.ones(T))
    >>> r = permanence_report([tr], np.ones((1, T), bool), [], min_frames=2)
    >>> r["objects"]["ball"]["vanishing_events"][0]["start_frame"], r["n_violations"]
    (2, 1)
"""

from __future__ import annotations

import numpy as np

from realitygap.measure.spontaneous import SpontaneousEvent
from realitygap.measure.tracking import GONE, PRESENT, ObjectTrack


def permanence_report(tracks: list[ObjectTrack], expected_visible: np.ndarray,
                      spontaneous_events: list[SpontaneousEvent], min_frames: int = 2,
                      absent_states: tuple[int, ...] = (GONE,)) -> dict:
    """Vanishing and spontaneous-appearance events with frame ranges (see the module docstring).

    Returns a JSON-ready dict: n_frames, min_frames, objects {name: {vanishing_events: [{start_frame,
    end_frame, n_frames, start_s, end_s}], n_vanishing, unexpected_visible_events, frames_expected_visible,
    frames_present, frames_lost_while_expected, frames_gone_while_expected}}, spontaneous_events
    [{start_frame, end_frame, n_frames, start_s, centroid_px, area_px, kind}], n_vanishing_events,
    n_spontaneous_events, n_violations, permanence_ok.
    """
    expected = np.asarray(expected_visible, bool)
    if expected.ndim != 2 or expected.shape[0] != len(tracks):
        raise ValueError(f"expected_visible must be (n_objects={len(tracks)}, T), got {expected.shape}")
    if min_frames < 1:
        raise ValueError("min_frames must be >= 1")
    T = expected.shape[1]
    t_s = tracks[0].t_s if tracks else np.arange(T, dtype=float)
    objects = {}
    for k, track in enumerate(tracks):
        if len(track.state) != T:
            raise ValueError(f"track {track.name} has {len(track.state)} frames, expected_visible {T}")
        state = np.asarray(track.state)
        absent = np.isin(state, absent_states)
        vanish = [_event(a, b, track.t_s) for a, b in runs(expected[k] & absent) if b - a + 1 >= min_frames]
        seen_hidden = [_event(a, b, track.t_s) for a, b in runs(~expected[k] & (state == PRESENT))
                       if b - a + 1 >= min_frames]
        objects[track.name] = {
            "vanishing_events": vanish,
            "n_vanishing": len(vanish),
            "unexpected_visible_events": seen_hidden,
            "frames_expected_visible": int(expected[k].sum()),
            "frames_present": int((state == PRESENT).sum()),
            "frames_lost_while_expected": int((expected[k] & (state != PRESENT) & (state != GONE)).sum()),
            "frames_gone_while_expected": int((expected[k] & (state == GONE)).sum()),
        }
    spontaneous = [{**_event(e.start_frame, e.end_frame, t_s), "centroid_px": [float(v) for v in e.centroid_px],
                    "area_px": float(e.area_px), "kind": e.kind} for e in spontaneous_events]
    n_vanishing = sum(o["n_vanishing"] for o in objects.values())
    return {
        "n_frames": int(T),
        "min_frames": int(min_frames),
        "objects": objects,
        "spontaneous_events": spontaneous,
        "n_vanishing_events": int(n_vanishing),
        "n_spontaneous_events": len(spontaneous),
        "n_violations": int(n_vanishing + len(spontaneous)),
        "permanence_ok": bool(n_vanishing + len(spontaneous) == 0),
    }


def expected_visible_from_annotations(episode, names: list[str] | None = None, min_fraction: float = 0.0) -> np.ndarray:
    """(n_objects, T) bool: annotation visible_fraction > `min_fraction`, per instance in
    `names` order (default: episode.meta.instances order), per video frame."""
    table = episode.tables["annotations"]
    frame = np.asarray(table["frame"])
    name_col = np.asarray(table["name"])
    fraction = np.asarray(table["visible_fraction"], float)
    T = int(frame.max()) + 1
    names = [inst.name for inst in episode.meta.instances] if names is None else names
    out = np.zeros((len(names), T), bool)
    for k, name in enumerate(names):
        sel = name_col == name
        out[k, frame[sel]] = fraction[sel] > min_fraction
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True in a 1-D bool array, as inclusive (start, end) index pairs."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def _event(start: int, end: int, t_s: np.ndarray) -> dict:
    return {"start_frame": int(start), "end_frame": int(end), "n_frames": int(end - start + 1),
            "start_s": float(t_s[start]), "end_s": float(t_s[end])}
