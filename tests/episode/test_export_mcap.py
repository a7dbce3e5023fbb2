"""`realitygap export --to mcap` read back with the `mcap` reader and its protobuf decoder (a library independent
of the foxglove-sdk writer), compared with the episodes as the dataset's own reader gives them.

Tolerances: timestamps, images, depth, IMU, GPS, body poses, calibration exact; LiDAR points are float32 in the
message (|p| within 2e-6 relative of the stored range); the camera's rotation within 1e-12 (a quaternion)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

mcap_reader = pytest.importorskip("mcap.reader", reason="the mcap reader is in the test extra")
mcap_protobuf = pytest.importorskip("mcap_protobuf.decoder", reason="mcap-protobuf-support is in the test extra")
pytest.importorskip("foxglove", reason="foxglove-sdk is in the export extra")

EXPECTED_SCHEMAS = {
    "/camera/rgb": "foxglove.RawImage", "/camera/depth": "foxglove.RawImage", "/camera/segmentation": "foxglove.RawImage",
    "/camera/thermal": "foxglove.RawImage", "/camera/calibration": "foxglove.CameraCalibration",
    "/lidar/points": "foxglove.PointCloud", "/imu": "realitygap.Imu", "/gps": "foxglove.LocationFix",
    "/tf_static": "foxglove.FrameTransform", "/tf": "foxglove.FrameTransform",
}
NUMERIC_TYPES = {1: "u1", 2: "i1", 3: "u2", 4: "i2", 5: "u4", 6: "i4", 7: "f4", 8: "f8"}
"""foxglove.PackedElementField.NumericType -> numpy (little-endian)."""


@pytest.fixture(scope="module")
def mcap_export(export_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("mcap") / "out"
    from realitygap.episode.export.run import export_dataset as export

    result = export(export_dataset, "mcap", out)
    return out, result


def read_mcap(path):
    """{topic: [(log_time, publish_time, schema name, decoded message)]}, metadata and attachments."""
    from mcap.decoder import DecoderFactory

    class JsonDecoder(DecoderFactory):
        def decoder_for(self, message_encoding, schema):
            return json.loads if message_encoding == "json" else None

    topics: dict[str, list] = {}
    with open(path, "rb") as handle:
        reader = mcap_reader.make_reader(handle, decoder_factories=[mcap_protobuf.DecoderFactory(), JsonDecoder()])
        for schema, channel, message, decoded in reader.iter_decoded_messages(log_time_order=True):
            topics.setdefault(channel.topic, []).append((message.log_time, message.publish_time, schema.name, decoded))
        metadata = {m.name: m.metadata for m in reader.iter_metadata()}
        attachments = {a.name: a.data for a in reader.iter_attachments()}
    return topics, metadata, attachments


def ns(t_s) -> np.ndarray:
    return np.round(np.asarray(t_s, float) * 1e9).astype(np.int64)


def stamp_ns(message) -> int:
    return message.timestamp.seconds * 1_000_000_000 + message.timestamp.nanos


def test_one_mcap_file_per_episode_and_source(mcap_export, export_episodes):
    out, result = mcap_export
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mcap")) == \
        sorted(f"{source}/{episode_id}.mcap" for source, episode_id in export_episodes)
    assert result.episodes == len(export_episodes) == 4
    manifest = json.loads((out / "realitygap_export.json").read_text())
    assert manifest["format"] == "mcap" and manifest["epoch_offset_ns"] == 0 and len(manifest["episodes"]) == 4


@pytest.mark.parametrize("key", [0, 1, 2, 3], ids=lambda k: f"episode{k}")
def test_mcap_round_trip(mcap_export, export_episodes, key):
    out, _ = mcap_export
    (source, episode_id), episode = sorted(export_episodes.items())[key]
    topics, metadata, attachments = read_mcap(out / source / f"{episode_id}.mcap")
    assert {topic: messages[0][2] for topic, messages in topics.items()} == EXPECTED_SCHEMAS
    assert metadata["realitygap"]["episode_id"] == episode_id and metadata["realitygap"]["epoch_offset_ns"] == "0"
    assert json.loads(attachments["episode.json"])["episode_id"] == episode_id
    for messages in topics.values():  # header stamp = log time = publish time, for every message
        assert all(log == publish == (stamp_ns(m) if not isinstance(m, dict) else
                                      m["timestamp"]["sec"] * 1_000_000_000 + m["timestamp"]["nsec"])
                   for log, publish, _, m in messages)
    check_images(topics, episode)
    check_calibration(topics, episode)
    check_lidar(topics["/lidar/points"], episode.tables["lidar"])
    check_imu(topics["/imu"], episode.tables["imu"])
    check_gps(topics["/gps"], episode)
    check_transforms(topics, episode)


def check_images(topics, episode) -> None:
    for name, (encoding, dtype) in {"rgb": ("rgb8", np.uint8), "depth": ("16UC1", "<u2"),
                                    "segmentation": ("mono16", "<u2"), "thermal": ("mono16", "<u2")}.items():
        frames, messages = episode.videos[name], topics[f"/camera/{name}"]
        assert [log for log, *_ in messages] == ns(episode.video_t_s[name]).tolist()
        decoded = np.stack([np.frombuffer(m.data, dtype).reshape(m.height, m.width, -1) for *_, m in messages])
        assert {m.encoding for *_, m in messages} == {encoding}
        np.testing.assert_array_equal(decoded.reshape(frames.shape), frames)


def check_calibration(topics, episode) -> None:
    camera = episode.meta.calibration.camera
    messages = topics["/camera/calibration"]
    assert [log for log, *_ in messages] == ns(episode.video_t_s["rgb"]).tolist()
    for *_, m in messages:
        assert list(m.K) == camera.K.ravel().tolist() and list(m.D) == camera.distortion
        assert (m.width, m.height, m.distortion_model, m.frame_id) == (camera.width_px, camera.height_px, "plumb_bob", "camera")
        assert list(m.P) == np.hstack([camera.K, np.zeros((3, 1))]).ravel().tolist()


def check_lidar(messages, table) -> None:
    scans = np.unique(table["scan"])
    assert [log for log, *_ in messages] == ns([table["t_s"][table["scan"] == s][0] for s in scans]).tolist()
    for scan, (*_, m) in zip(scans, messages):
        dtype = np.dtype({"names": [f.name for f in m.fields], "formats": ["<" + NUMERIC_TYPES[f.type] for f in m.fields],
                          "offsets": [f.offset for f in m.fields], "itemsize": m.point_stride})
        points = np.frombuffer(m.data, dtype)
        rows = table["scan"] == scan
        assert m.frame_id == "lidar" and len(points) == rows.sum()
        np.testing.assert_array_equal(points["ring"], table["ring"][rows])
        np.testing.assert_array_equal(points["instance_id"], table["instance_id"][rows])
        xyz = np.stack([points["x"], points["y"], points["z"]], axis=1).astype(float)
        distance = np.linalg.norm(xyz, axis=1)
        np.testing.assert_allclose(distance, table["range_m"][rows], rtol=2e-6)
        np.testing.assert_allclose(np.arctan2(xyz[:, 1], xyz[:, 0]), table["azimuth_rad"][rows], atol=1e-5)


def check_imu(messages, table) -> None:
    assert [log for log, *_ in messages] == ns(table["t_s"]).tolist()
    for axis in "xyz":
        assert [m["specific_force_m_s2"][axis] for *_, m in messages] == table[f"accel_{axis}_m_s2"].tolist()
        assert [m["angular_velocity_rad_s"][axis] for *_, m in messages] == table[f"gyro_{axis}_rad_s"].tolist()


def check_gps(messages, episode) -> None:
    table, config = episode.tables["gps"], episode.meta.context.rig.gps
    assert [log for log, *_ in messages] == ns(table["t_s"]).tolist()
    assert [(m.latitude, m.longitude, m.altitude) for *_, m in messages] == \
        list(zip(table["latitude_deg"], table["longitude_deg"], table["altitude_m"]))
    h2, v2 = config.horizontal_noise_std_m ** 2, config.vertical_noise_std_m ** 2
    assert all(list(m.position_covariance) == [h2, 0, 0, 0, h2, 0, 0, 0, v2] and m.position_covariance_type == 2
               for *_, m in messages)


def check_transforms(topics, episode) -> None:
    calibration = episode.meta.calibration
    static = {m.child_frame_id: (log, m) for log, _, _, m in topics["/tf_static"]}
    expected = {"camera": ("world", calibration.camera.T_world_camera), "lidar": ("world", calibration.lidar.T_world_lidar),
                "imu": (calibration.imu.body, calibration.imu.T_body_imu)}
    assert set(static) == set(expected)
    for child, (parent, T) in expected.items():
        log, m = static[child]
        T = np.array(T)
        assert log == 0 and m.parent_frame_id == parent
        assert [m.translation.x, m.translation.y, m.translation.z] == T[:3, 3].tolist()
        R = Rotation.from_quat([m.rotation.x, m.rotation.y, m.rotation.z, m.rotation.w]).as_matrix()
        np.testing.assert_allclose(R, T[:3, :3], atol=1e-12)
    state = episode.tables["state"]
    for body in np.unique(state["body"]):
        rows = state["body"] == body
        messages = [(log, m) for log, _, _, m in topics["/tf"] if m.child_frame_id == body]
        assert [log for log, _ in messages] == ns(state["t_s"][rows]).tolist()
        assert {m.parent_frame_id for _, m in messages} == {"world"}
        assert [[m.translation.x, m.translation.y, m.translation.z] for _, m in messages] == \
            np.stack([state[f"position_{a}_m"][rows] for a in "xyz"], axis=1).tolist()
        assert [[m.rotation.x, m.rotation.y, m.rotation.z, m.rotation.w] for _, m in messages] == \
            np.stack([state[f"quaternion_{a}"][rows] for a in "xyzw"], axis=1).tolist()
