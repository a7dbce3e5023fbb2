"""Validation of realitygap.measure.permanence: analytic cases on synthetic tracks, then negative
controls on tracked ground-truth episodes (a ball blanked out for ten frames, a ball pasted in from
nowhere) and the legitimate hiding of the occlusion scenario."""

from __future__ import annotations

import numpy as np
import pytest

from realitygap.measure.permanence import expected_visible_from_annotations, permanence_report, runs
from realitygap.measure.spontaneous import SpontaneousEvent, find_spontaneous_objects
from realitygap.measure.tracking import GONE, LOST, PRESENT, ObjectTrack, seeds_from_episode, track_objects
from tests.helpers import TRACKING_SCENARIOS, blank_object, ground_truth_episode, paste_object


def synthetic_track(name: str, state, fps: float = 30.0) -> ObjectTrack:
    state = np.asarray(state, np.int8)
    T = len(state)
    present = state == PRESENT
    centroid = np.where(present[:, None], 10.0, np.nan) * np.ones((T, 2))
    return ObjectTrack(name=name, t_s=np.arange(T) / fps, state=state, centroid_px=centroid,
                       area_px=np.where(present, 50.0, 0.0), bbox_px=np.full((T, 4), -1),
                       radius_px=np.where(present, 4.0, np.nan), sigma_px=np.where(present, 0.1, np.nan),
                       visible_fraction=np.where(present, 1.0, np.nan))


def test_runs():
    assert runs(np.array([], bool)) == []
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], bool)) == [(1, 2), (4, 4), (7, 9)]
    assert runs(np.ones(4, bool)) == [(0, 3)]


def test_report_on_synthetic_tracks():
    """Hand-counted events: vanishing runs >= min_frames only where expected visible; LOST frames
    counted but not flagged (unless absent_states includes LOST); seen while expected hidden."""
    P, L, G = PRESENT, LOST, GONE
    a = synthetic_track("a", [P, P, G, G, G, P, G, P, P, P])   # run 2..4 (3 frames), frame 6 alone
    b = synthetic_track("b", [P, L, L, L, P, P, P, P, G, G])   # lost 1..3; gone 8..9 while hidden
    c = synthetic_track("c", [G, G, G, P, P, P, G, G, G, G])   # seen 3..5 while expected hidden
    expected = np.array([np.ones(10, bool),
                         np.r_[np.ones(8, bool), np.zeros(2, bool)],
                         np.zeros(10, bool)])
    spont = [SpontaneousEvent(4, 9, (5.0, 6.0), 40.0, "colour")]
    r = permanence_report([a, b, c], expected, spont, min_frames=2)
    assert [(e["start_frame"], e["end_frame"], e["n_frames"]) for e in r["objects"]["a"]["vanishing_events"]] == [(2, 4, 3)]
    assert r["objects"]["a"]["vanishing_events"][0]["start_s"] == pytest.approx(2 / 30)
    assert r["objects"]["a"]["frames_gone_while_expected"] == 4
    assert r["objects"]["b"]["n_vanishing"] == 0 and r["objects"]["b"]["frames_lost_while_expected"] == 3
    assert r["objects"]["c"]["n_vanishing"] == 0
    assert [(e["start_frame"], e["end_frame"]) for e in r["objects"]["c"]["unexpected_visible_events"]] == [(3, 5)]
    assert r["spontaneous_events"] == [{"start_frame": 4, "end_frame": 9, "n_frames": 6, "start_s": pytest.approx(4 / 30),
                                        "end_s": pytest.approx(9 / 30), "centroid_px": [5.0, 6.0], "area_px": 40.0,
                                        "kind": "colour"}]
    assert (r["n_vanishing_events"], r["n_spontaneous_events"], r["n_violations"], r["permanence_ok"]) == (1, 1, 2, False)
    r1 = permanence_report([a, b, c], expected, [], min_frames=1)
    assert r1["objects"]["a"]["n_vanishing"] == 2
    strict = permanence_report([a, b, c], expected, [], min_frames=2, absent_states=(GONE, LOST))
    assert [(e["start_frame"], e["end_frame"]) for e in strict["objects"]["b"]["vanishing_events"]] == [(1, 3)]
    assert permanence_report([synthetic_track("d", [P] * 5)], np.ones((1, 5), bool), [])["permanence_ok"]
    with pytest.raises(ValueError):
        permanence_report([a], np.ones((2, 10), bool), [])
    with pytest.raises(ValueError):
        permanence_report([a], np.ones((1, 9), bool), [])


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    return {name: ground_truth_episode(tmp_path_factory, name) for name in TRACKING_SCENARIOS}


def measure(frames, episode) -> dict:
    tracks = track_objects(frames, episode.video_t_s["rgb"], seeds_from_episode(episode))
    return permanence_report(tracks, expected_visible_from_annotations(episode),
                             find_spontaneous_objects(frames, tracks), min_frames=2)


@pytest.mark.parametrize("name", TRACKING_SCENARIOS)
def test_ground_truth_keeps_permanence(episodes, name):
    """The pipeline's error floor: no violation on any ground-truth episode."""
    r = measure(episodes[name].videos["rgb"], episodes[name])
    assert r["permanence_ok"], r
    assert r["n_frames"] == len(episodes[name].videos["rgb"])


def test_vanishing_ball_is_one_event_of_the_right_length(episodes):
    """Negative control: the bounce ball blanked out of frames 20..29 (replaced by the background of
    another frame) is one vanishing event, frames 20..29, 10 frames; nothing spontaneous when it returns."""
    ep = episodes["bounce"]
    frames = blank_object(ep.videos["rgb"], ep.videos["segmentation"], 1, range(20, 30))
    r = measure(frames, ep)
    events = r["objects"]["ball"]["vanishing_events"]
    assert [(e["start_frame"], e["end_frame"], e["n_frames"]) for e in events] == [(20, 29, 10)]
    assert (r["n_vanishing_events"], r["n_spontaneous_events"], r["n_violations"]) == (1, 0, 1)


def test_ball_from_nowhere_is_spontaneous(episodes):
    """Negative control: a copy of the ball pasted into frames 30..T-1 at +70 px is one spontaneous
    event over those frames; the real ball does not vanish."""
    ep = episodes["bounce"]
    T = len(ep.videos["rgb"])
    frames, pasted = paste_object(ep.videos["rgb"], ep.videos["segmentation"], 1, range(30, T), (70, 0))
    r = measure(frames, ep)
    assert (r["n_vanishing_events"], r["n_spontaneous_events"]) == (0, 1)
    event = r["spontaneous_events"][0]
    assert (event["start_frame"], event["end_frame"], event["n_frames"]) == (30, T - 1, T - 30)
    assert np.hypot(event["centroid_px"][0] - pasted[0], event["centroid_px"][1] - pasted[1]) < 1.0


def test_hiding_behind_the_wall_is_not_a_violation(episodes):
    """The occlusion ball is GONE while behind the wall; with the annotations' expectation that is
    no violation. With a naive 'always visible' expectation the same tracks give one vanishing
    event over exactly the hidden frames (the check has teeth)."""
    ep = episodes["occlusion"]
    rgb = ep.videos["rgb"]
    tracks = track_objects(rgb, ep.video_t_s["rgb"], seeds_from_episode(ep))
    spont = find_spontaneous_objects(rgb, tracks)
    expected = expected_visible_from_annotations(ep)
    assert expected.shape == (1, len(rgb)) and (~expected).sum() >= 5
    r = permanence_report(tracks, expected, spont)
    assert r["permanence_ok"] and r["objects"]["ball"]["frames_gone_while_expected"] == 0
    naive = permanence_report(tracks, np.ones_like(expected), spont)
    hidden = runs(~expected[0])
    assert len(hidden) == 1
    assert [(e["start_frame"], e["end_frame"]) for e in naive["objects"]["ball"]["vanishing_events"]] == hidden
