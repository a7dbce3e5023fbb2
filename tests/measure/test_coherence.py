"""Coherence and label rows on simulated episodes: the ground truth is coherent and labels itself perfectly,
`wrong_intrinsics` is incoherent beyond the ground truth's spread (projection, depth vs LiDAR), `teleport` breaks
the IMU against its positions, and a source that delivers RGB only gets "not delivered" rows and derived labels."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.dataset import episode_dir
from realitygap.episode.io import read_episode
from realitygap.measure.coherence import REFERENCE_STREAMS, STREAMS, coherence_rows
from realitygap.measure.pipeline import SCHEMA, measure_dataset, measure_video
from realitygap.pipeline import plan_contexts, predict_dataset, simulate_dataset

RIG = RigConfig(camera=CameraConfig(width=96, height=96))
SCENARIOS = ("drop", "slide", "collision")
CONTROLS = ("wrong_intrinsics", "teleport")
COHERENCE = ("coherence_depth_lidar_m", "coherence_depth_lidar_outliers", "coherence_projection_px",
             "coherence_imu_gps_m_s2", "coherence_imu_state_m_s2", "coherence_radar_velocity_m_s")
LABELS = ("label_mask_iou", "label_box_iou", "label_depth_error_m")


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """source -> scenario -> [rows by quantity] for two episodes of each scenario, full rig at 96x96."""
    root = tmp_path_factory.mktemp("coherence")
    simulate_dataset([c for name in SCENARIOS for c in plan_contexts(name, 2, 7, {}, RIG)], root)
    for control in CONTROLS:
        predict_dataset(control, root)
    table: dict[str, dict[str, list[dict]]] = {}
    episodes: dict[tuple[str, str], dict] = {}
    for row in pq.read_table(measure_dataset(root)).to_pylist():
        episodes.setdefault((row["source"], row["episode_id"]), {"scenario": row["scenario"]})[row["quantity"]] = row
    for (source, _), rows in sorted(episodes.items()):
        table.setdefault(source, {}).setdefault(rows.pop("scenario"), []).append(rows)
    return root, table


def values(table, source: str, quantity: str, scenario: str | None = None) -> np.ndarray:
    return np.array([ep[quantity]["measured"] for name, eps in table[source].items() if scenario in (None, name)
                     for ep in eps])


def test_ground_truth_is_coherent_and_labels_itself(measured):
    """Sim reads its sensors' noise: depth vs LiDAR at the LiDAR's 1 cm (median |N(0, 1 cm)| = 6.7 mm, more at
    grazing floors), projection well under a pixel, IMU vs GPS at the level the declared GPS noise gives, IMU vs
    its own track and radar vs track at their declared noise; its labels are its own (IoU 1, depth error 0)."""
    _, table = measured
    assert np.all(values(table, "sim", "coherence_depth_lidar_m") < 0.02)
    assert np.all(values(table, "sim", "coherence_projection_px") < 0.5)
    for episodes in table["sim"].values():
        for ep in episodes:
            gps = ep["coherence_imu_gps_m_s2"]
            assert gps["measured"] < 2 * gps["uncertainty"], gps
            assert ep["coherence_imu_state_m_s2"]["measured"] < 1.5  # impacts inside IMU periods: < 1.5 m/s^2
            assert ep["coherence_radar_velocity_m_s"]["measured"] < 3 * ep["coherence_radar_velocity_m_s"]["uncertainty"]
            assert (ep["label_mask_iou"]["measured"], ep["label_box_iou"]["measured"], ep["label_depth_error_m"]["measured"]) \
                == (1.0, 1.0, 0.0)
            assert ep["label_derived_mask_iou"]["measured"] > 0.75
            assert "derived by realitygap" in ep["label_derived_mask_iou"]["method"]


def test_wrong_intrinsics_are_incoherent_beyond_the_ground_truths_spread(measured):
    """Rendered with 1.2x the recorded focal length: every episode's projection and depth-vs-LiDAR residuals lie
    above the largest of sim in the same scenario (by > 5x for depth, > 3x for projection); the IMU and radar,
    which do not see the lens, read as sim does."""
    _, table = measured
    for scenario in SCENARIOS:
        for quantity, factor in (("coherence_depth_lidar_m", 5.0), ("coherence_depth_lidar_outliers", 3.0),
                                 ("coherence_projection_px", 3.0)):
            control = values(table, "wrong_intrinsics", quantity, scenario)
            assert control.min() > factor * values(table, "sim", quantity, scenario).max(), (scenario, quantity, control)
        for quantity in ("coherence_imu_gps_m_s2", "coherence_radar_velocity_m_s"):
            np.testing.assert_allclose(values(table, "wrong_intrinsics", quantity, scenario),
                                       values(table, "sim", quantity, scenario))


def test_teleport_breaks_the_imu_against_the_positions(measured):
    """A 0.3 m jump of the positions the IMU never felt: IMU vs state > 10x sim's largest, IMU vs GPS above sim's
    largest; the radar (velocities, kept by the jump) cannot see it."""
    _, table = measured
    for scenario in SCENARIOS:
        state = values(table, "teleport", "coherence_imu_state_m_s2", scenario)
        assert state.min() > 10 * values(table, "sim", "coherence_imu_state_m_s2", scenario).max()
        gps = values(table, "teleport", "coherence_imu_gps_m_s2", scenario)
        assert gps.min() > values(table, "sim", "coherence_imu_gps_m_s2", scenario).max()
        np.testing.assert_allclose(values(table, "teleport", "coherence_radar_velocity_m_s", scenario),
                                   values(table, "sim", "coherence_radar_velocity_m_s", scenario), rtol=0.05)


def test_controls_labels_are_measured_against_the_ground_truth(measured):
    _, table = measured
    for control in CONTROLS:
        assert np.all(values(table, control, "label_mask_iou") < 0.9)
        assert np.all(values(table, control, "label_depth_error_m") > 0.001)


def test_rgb_only_source_is_not_delivered_and_gets_derived_labels(measured):
    """The same episode with its RGB alone (as a video generator delivers it): every coherence and label row NaN,
    noted 'not delivered: <streams>', never 0; the derived mask IoU is the tracker's on those pixels."""
    root, _ = measured
    eid = plan_contexts("drop", 2, 7, {}, RIG)[0].episode_id
    path = episode_dir(root, "sim", eid)
    rgb_only = read_episode(path, streams=("rgb",))
    reference = read_episode(path, streams=("rgb", "segmentation", "annotations", "state", *REFERENCE_STREAMS))
    tracks: list = []
    measure_video(rgb_only.videos["rgb"], rgb_only.video_t_s["rgb"], rgb_only.K, rgb_only.T_world_camera, reference,
                  pixel_tracks_out=tracks)
    rows = {r["quantity"]: r for r in coherence_rows(rgb_only, reference, tracks, rgb_only.videos["rgb"].shape[1:3])}
    assert set(rows) == set(COHERENCE) | set(LABELS) | {"label_derived_mask_iou"}
    for quantity in COHERENCE + LABELS:
        assert math.isnan(rows[quantity]["measured"]), rows[quantity]
        assert rows[quantity]["note"].startswith("not delivered: "), rows[quantity]
    assert "lidar" in rows["coherence_depth_lidar_m"]["note"] and "imu" in rows["coherence_imu_gps_m_s2"]["note"]
    derived = rows["label_derived_mask_iou"]
    assert 0.75 < derived["measured"] <= 1.0 and "derived by realitygap" in derived["note"]
    pa.Table.from_pylist([{**r, "episode_id": eid, "source": "video", "scenario": "drop", "episode_sha256": ""}
                          for r in rows.values()], schema=SCHEMA)


def test_streams_not_in_the_rig_say_so(tmp_path):
    """A rig without LiDAR, IMU and GPS: their rows say 'not delivered' and that the context did not ask for them."""
    rig = RigConfig(sensors=("rgb", "segmentation", "depth"), camera=CameraConfig(width=64, height=64))
    simulate_dataset(plan_contexts("drop", 1, 0, {}, rig), tmp_path)
    eid = plan_contexts("drop", 1, 0, {}, rig)[0].episode_id
    episode = read_episode(episode_dir(tmp_path, "sim", eid), streams=STREAMS + ("rgb",))
    rows = {r["quantity"]: r for r in coherence_rows(episode, episode)}
    assert rows["coherence_depth_lidar_m"]["note"] == "not delivered: lidar (not in the context's rig: lidar)"
    assert math.isnan(rows["coherence_imu_gps_m_s2"]["measured"])
    assert np.isfinite(rows["coherence_projection_px"]["measured"]) and rows["label_depth_error_m"]["measured"] == 0.0
    assert math.isnan(rows["label_derived_mask_iou"]["measured"])  # no tracks given
