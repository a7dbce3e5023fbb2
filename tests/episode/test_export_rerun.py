"""`realitygap export --to rerun` read back with Rerun's own reader (`rerun.chunk.RrdReader`: the recording's chunks
as Arrow), compared with the episodes as the dataset's own reader gives them.

Tolerances: timeline values (ns), images, depth, segmentation, thermal, IMU and GPS (float64) exact; what Rerun
stores as float32 (transforms, pinhole, points) within float32 rounding: 1e-6 relative (poses, K), and the LiDAR
point distance within 2e-6 of the stored range."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

rerun_chunk = pytest.importorskip("rerun.chunk", reason="rerun-sdk is in the export and test extras")

TIMELINE = "episode_time"


@pytest.fixture(scope="module")
def rerun_export(export_dataset, tmp_path_factory):
    from realitygap.episode.export.run import export_dataset as export

    out = tmp_path_factory.mktemp("rerun") / "out"
    return out, export(export_dataset, "rerun", out)


def read_rrd(path) -> tuple[object, dict[str, dict]]:
    """(the recording's store entry, {entity path: {'t_ns': times or None (static), component: [row values]}}),
    temporal rows sorted by time."""
    reader = rerun_chunk.RrdReader(path)
    (recording,) = reader.recordings()
    entities: dict[str, dict] = {}
    for chunk in reader.stream():
        batch = chunk.to_record_batch()
        path_ = batch.schema.metadata[b"rerun:entity_path"].decode()
        static = TIMELINE not in batch.schema.names
        entity = entities.setdefault(path_ + (":static" if static else ""), {})
        if not static:
            entity.setdefault("t_ns", []).extend(batch.column(TIMELINE).cast(pa.int64()).to_pylist())
        for name in batch.schema.names:
            if ":" in name:
                entity.setdefault(name, []).extend(batch.column(name).to_pylist())
    for entity in entities.values():
        if "t_ns" in entity:
            order = np.argsort(entity["t_ns"], kind="stable")
            for key, values in entity.items():
                entity[key] = [values[i] for i in order] if len(values) == len(order) else values
    return recording, entities


def ns(t_s) -> list[int]:
    return np.round(np.asarray(t_s, float) * 1e9).astype(np.int64).tolist()


def test_one_rrd_per_episode_and_source(rerun_export, export_episodes):
    out, result = rerun_export
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.rrd")) == \
        sorted(f"{source}/{episode_id}.rrd" for source, episode_id in export_episodes)
    assert json.loads((out / "realitygap_export.json").read_text())["timeline"].startswith(TIMELINE)


@pytest.mark.parametrize("key", [0, 3], ids=["episode0", "episode3"])
def test_rerun_round_trip(rerun_export, export_episodes, key):
    out, _ = rerun_export
    (source, episode_id), episode = sorted(export_episodes.items())[key]
    recording, entities = read_rrd(out / source / f"{episode_id}.rrd")
    assert (recording.application_id, recording.recording_id) == ("realitygap", f"{source}/{episode_id}")
    check_images(entities, episode)
    check_camera(entities, episode)
    check_points(entities["/world/lidar/points"], episode.tables["lidar"])
    check_bodies(entities, episode.tables["state"])
    check_imu_and_gps(entities, episode)


def check_images(entities, episode) -> None:
    for name, (archetype, dtype) in {"rgb": ("Image", np.uint8), "depth": ("DepthImage", np.uint16),
                                     "segmentation": ("SegmentationImage", np.uint16), "thermal": ("Image", np.uint16)}.items():
        entity, frames = entities[f"/world/camera/{name}"], episode.videos[name]
        assert entity["t_ns"] == ns(episode.video_t_s[name])
        decoded = np.stack([np.array(buffer[0], np.uint8).view(dtype) for buffer in entity[f"{archetype}:buffer"]])
        np.testing.assert_array_equal(decoded.reshape(frames.shape), frames)
        assert {(f[0]["width"], f[0]["height"]) for f in entity[f"{archetype}:format"]} == {frames.shape[1:3][::-1]}
    assert entities["/world/camera/depth"]["DepthImage:meter"][0] == [1000.0]


def check_camera(entities, episode) -> None:
    camera = episode.meta.calibration.camera
    static = entities["/world/camera:static"]
    K = np.array(static["Pinhole:image_from_camera"][0][0]).reshape(3, 3).T  # Rerun matrices are column-major
    np.testing.assert_allclose(K, camera.K, rtol=1e-6)
    assert static["Pinhole:resolution"][0][0] == [camera.width_px, camera.height_px]
    T = np.array(camera.T_world_camera)
    np.testing.assert_allclose(np.array(static["Transform3D:mat3x3"][0][0]).reshape(3, 3).T, T[:3, :3], atol=1e-7)
    np.testing.assert_allclose(static["Transform3D:translation"][0][0], T[:3, 3], rtol=1e-6)
    lidar = np.array(episode.meta.calibration.lidar.T_world_lidar)
    np.testing.assert_allclose(entities["/world/lidar:static"]["Transform3D:translation"][0][0], lidar[:3, 3], rtol=1e-6)


def check_points(entity, table) -> None:
    scans = np.unique(table["scan"])
    assert entity["t_ns"] == ns([table["t_s"][table["scan"] == s][0] for s in scans])
    for scan, positions, class_ids in zip(scans, entity["Points3D:positions"], entity["Points3D:class_ids"]):
        rows = table["scan"] == scan
        np.testing.assert_allclose(np.linalg.norm(np.array(positions, float), axis=1), table["range_m"][rows], rtol=2e-6)
        assert class_ids == table["instance_id"][rows].tolist()


def check_bodies(entities, state) -> None:
    for body in np.unique(state["body"]):
        rows, entity = state["body"] == body, entities[f"/world/bodies/{body}"]
        assert entity["t_ns"] == ns(state["t_s"][rows])
        position = np.stack([state[f"position_{a}_m"][rows] for a in "xyz"], axis=1)
        quaternion = np.stack([state[f"quaternion_{a}"][rows] for a in "xyzw"], axis=1)
        np.testing.assert_allclose([t[0] for t in entity["Transform3D:translation"]], position, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose([q[0] for q in entity["Transform3D:quaternion"]], quaternion, atol=1e-7)


def check_imu_and_gps(entities, episode) -> None:
    imu, gps = episode.tables["imu"], episode.tables["gps"]
    for path, prefix, unit in (("/imu/specific_force_m_s2", "accel", "m_s2"), ("/imu/angular_rate_rad_s", "gyro", "rad_s")):
        assert entities[path]["t_ns"] == ns(imu["t_s"])
        assert entities[path]["Scalars:scalars"] == np.stack([imu[f"{prefix}_{a}_{unit}"] for a in "xyz"], axis=1).tolist()
    assert entities["/gps/position"]["t_ns"] == ns(gps["t_s"])
    assert [p[0] for p in entities["/gps/position"]["GeoPoints:positions"]] == \
        np.stack([gps["latitude_deg"], gps["longitude_deg"]], axis=1).tolist()
    assert [a[0] for a in entities["/gps/altitude_m"]["Scalars:scalars"]] == gps["altitude_m"].tolist()
