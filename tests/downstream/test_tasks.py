"""Examples and labels of the downstream tasks, on synthetic arrays with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realitygap.downstream.examples import TRACK_GRID_S, EpisodeExamples, measured_track
from realitygap.downstream.plan import DownstreamConfig, episode_source, generators, mix_parts, subset
from realitygap.downstream.tasks import (
    REPORT_IMAGE_PX,
    depth_position_examples,
    localisation_error,
    localisation_examples,
    parameter_error,
    parameter_examples,
)
from realitygap.scenarios import get_scenario


def _episode(scenario="drop", n=30, fps=30.0, **extra) -> EpisodeExamples:
    t = np.arange(n) / fps
    centre = np.stack([np.full(n, 0.5), 0.1 + 0.02 * np.arange(n)], axis=1)
    fields = dict(source="sim", episode_id="0123456789abcdef", scenario=scenario, params={"height_m": 1.0, "radius_m": 0.1},
                  t_s=t, frames=np.zeros((n, 32, 32, 3), np.uint8), centre=centre, box=np.full((n, 2), 0.06),
                  label_provenance="annotations", track=np.zeros((len(TRACK_GRID_S), 4)))
    fields.update(extra)
    return EpisodeExamples(**fields)


def test_parameter_targets_are_in_units_of_the_declared_range():
    ep = _episode(track=np.ones((len(TRACK_GRID_S), 4)))
    x, y = parameter_examples(ep)
    height = next(p for p in get_scenario("drop").parameters if p.name == "height_m")
    assert y[0, 0] == pytest.approx((1.0 - height.low) / (height.high - height.low))
    assert x.shape == (1, len(TRACK_GRID_S) * 4)
    assert parameter_examples(_episode()) is None  # nothing was seen: no example


def test_parameter_error_clips_predictions_to_the_declared_domain():
    assert parameter_error(np.array([[1.7, -0.4]]), np.array([[0.9, 0.1]])) == pytest.approx((0.1 + 0.1) / 2)


def test_localisation_forecast_is_the_centre_0_2_s_later():
    ep = _episode(n=30, fps=30.0)
    x, y = localisation_examples(ep)
    assert x.shape == (29, 6, 32, 32)  # frames t-1 and t stacked
    first = 1  # example 0 is frame 1
    assert y[0, 4:6] == pytest.approx(ep.centre[first + 6])  # 0.2 s at 30 fps = 6 frames
    assert np.isnan(y[-1, 4:6]).all()  # no frame 0.2 s after the last one


def test_localisation_error_is_stated_in_pixels_of_a_256_px_image():
    target = np.zeros((4, 6))
    predicted = np.zeros((4, 6))
    predicted[:, 0] = 0.1  # 0.1 of the width now, exact forecast
    assert localisation_error(predicted, target) == pytest.approx(0.1 * REPORT_IMAGE_PX / 2)


def test_depth_task_needs_depth_and_state():
    assert depth_position_examples(_episode()) is None
    ep = _episode(depth_m=np.ones((30, 32, 32), np.float32), position_camera_m=np.zeros((30, 3)))
    x, y = depth_position_examples(ep)
    assert x.shape == (30, 4, 32, 32) and y.shape == (30, 3)


def test_measured_track_is_resampled_on_the_fixed_clock_and_flags_unseen_time():
    t = np.arange(0, 1.0, 1 / 30)
    tracks = {"instance": np.array(["ball"] * len(t)), "t_s": t, "present": t < 0.5,
              "x_m": 2 * t, "y_m": np.zeros_like(t), "z_m": 1 - t}
    track = measured_track(tracks, "ball")
    early = TRACK_GRID_S < 0.45
    assert track[early, 0] == pytest.approx(2 * TRACK_GRID_S[early])
    assert track[early, 3].all() and not track[TRACK_GRID_S > 0.6, 3].any()
    assert not measured_track(tracks, "other").any()


def test_mixes_take_half_of_the_contexts_from_the_control_and_subsets_grow_by_adding():
    ids = [f"{i:016x}" for i in range(0, 4000, 97)]
    picked = [episode_source("sim+teleport", e) for e in ids]
    assert set(picked) == {"sim", "teleport"} and 0.3 < picked.count("teleport") / len(ids) < 0.7
    assert mix_parts("worldmodel") is None and generators(("sim", "sim+teleport", "teleport")) == ["teleport"]
    assert subset(ids, 0.5) == ids[:len(subset(ids, 0.5))] and subset(ids, 0.5) == subset(ids, 1.0)[:len(subset(ids, 0.5))]
    assert len(subset(ids, 0.0)) == 1


def test_config_refuses_unknown_tasks():
    with pytest.raises(ValueError, match="unknown task"):
        DownstreamConfig(sources=("sim",), tasks=("parameters", "telepathy"))
    assert math.isclose(DownstreamConfig(sources=("sim",)).mixes[-1], 1.0)


def test_planned_contexts_use_the_configured_camera_and_the_dataset_split():
    from realitygap.downstream.experiment import plan_episodes
    from realitygap.episode.dataset import split_of

    contexts, train, test = plan_episodes(DownstreamConfig(sources=("sim",), scenarios=("drop",), n_train=3, n_test=2, size_px=64))
    assert {(c.rig.camera.width, c.rig.camera.height) for c in contexts} == {(64, 64)}
    assert len(train["drop"]) == 3 and len(test["drop"]) == 2
    assert {split_of(e) for e in train["drop"]} == {"train"} and {split_of(e) for e in test["drop"]} == {"test"}
