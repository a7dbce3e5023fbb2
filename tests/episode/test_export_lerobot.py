"""`realitygap export --to lerobot` read back twice: against LeRobot's documented v2.1 layout with pyarrow, PyAV and
OpenCV (LeRobot's own package cannot be installed here: `lerobot` pulls a CUDA torch and torchvision,
`lerobot-dataset` downgrades av, numpy and opencv), and with Rerun's LeRobot reader
(`rerun.experimental.LeRobotReader`, an independent implementation of the format).

Tolerances: timestamps exact in float32 (and within LeRobot's 1e-4 s of frame_index / fps), indices exact, state
and IMU exact in float32, GPS exact (float64), depth / segmentation / thermal exact (16-bit PNG); the H.264 RGB
video (lossy, 4:2:0 chroma): PSNR >= 30 dB and mean |error| <= 3 levels in every frame, frame times within 1 us."""

from __future__ import annotations

import dataclasses
import json

import av
import cv2
import numpy as np
import pyarrow.parquet as pq
import pytest

from realitygap.episode.dataset import read_index
from realitygap.runtime.errors import InputError

MIN_PSNR_DB = 30.0
MAX_MEAN_ABS_ERROR = 3.0


@pytest.fixture(scope="module")
def lerobot_export(export_dataset, tmp_path_factory):
    from realitygap.episode.export.run import export_dataset as export

    out = tmp_path_factory.mktemp("lerobot") / "out"
    return out, export(export_dataset, "lerobot", out)


@pytest.fixture(scope="module")
def exported_order(export_dataset, export_episodes):
    """The source episodes in the order of the export (the index's)."""
    index = read_index(export_dataset)
    return [export_episodes[(s, i)] for s, i in zip(index["source"], index["episode_id"])]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lerobot_metadata(lerobot_export, exported_order):
    out, _ = lerobot_export
    info = json.loads((out / "meta/info.json").read_text())
    lengths = [len(e.videos["rgb"]) for e in exported_order]
    assert info["codebase_version"] == "v2.1" and info["fps"] == 10
    assert (info["total_episodes"], info["total_frames"], info["total_videos"]) == (4, sum(lengths), 4)
    assert info["data_path"] == "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
    assert info["video_path"] == "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
    features = info["features"]
    assert features["observation.images.rgb"]["dtype"] == "video"
    assert features["observation.images.rgb"]["info"]["video.codec"] == "h264"
    assert {features[f"observation.images.{n}"]["dtype"] for n in ("depth", "segmentation", "thermal")} == {"image"}
    assert features["observation.state"]["shape"] == [13] and features["observation.state"]["names"][0] == "ball.position_x_m"
    episodes = read_jsonl(out / "meta/episodes.jsonl")
    assert [e["episode_index"] for e in episodes] == [0, 1, 2, 3] and [e["length"] for e in episodes] == lengths
    assert [(e["realitygap_source"], e["realitygap_episode_id"]) for e in episodes] == \
        [(x.meta.source, x.episode_id) for x in exported_order]
    tasks = {t["task_index"]: t["task"] for t in read_jsonl(out / "meta/tasks.jsonl")}
    assert [tasks_of[0] for tasks_of in (e["tasks"] for e in episodes)] == [x.context.prompt for x in exported_order]
    assert set(tasks.values()) == {x.context.prompt for x in exported_order}
    stats = read_jsonl(out / "meta/episodes_stats.jsonl")
    assert [s["stats"]["frame_index"]["count"] for s in stats] == [[n] for n in lengths]
    assert np.array(stats[0]["stats"]["observation.images.rgb"]["mean"]).shape == (3, 1, 1)


@pytest.mark.parametrize("episode_index", [0, 3])
def test_lerobot_round_trip(lerobot_export, exported_order, episode_index):
    out, _ = lerobot_export
    episode = exported_order[episode_index]
    info = json.loads((out / "meta/info.json").read_text())
    data = pq.read_table(out / info["data_path"].format(episode_chunk=0, episode_index=episode_index)).to_pydict()
    t_s, n, fps = episode.video_t_s["rgb"], len(episode.videos["rgb"]), info["fps"]
    first = sum(len(e.videos["rgb"]) for e in exported_order[:episode_index])
    assert data["frame_index"] == list(range(n)) and data["index"] == list(range(first, first + n))
    assert data["episode_index"] == [episode_index] * n
    assert np.array_equal(np.array(data["timestamp"], np.float32), t_s.astype(np.float32))
    assert np.max(np.abs(np.array(data["timestamp"]) - np.arange(n) / fps)) < 1e-4  # LeRobot's own check
    tasks = {t["task_index"]: t["task"] for t in read_jsonl(out / "meta/tasks.jsonl")}
    assert {tasks[i] for i in data["task_index"]} == {episode.context.prompt}
    check_vectors(data, episode, t_s)
    for name in ("depth", "segmentation", "thermal"):
        decoded = np.stack([cv2.imdecode(np.frombuffer(cell["bytes"], np.uint8), cv2.IMREAD_UNCHANGED)
                            for cell in data[f"observation.images.{name}"]])
        assert decoded.dtype == np.uint16
        np.testing.assert_array_equal(decoded, episode.videos[name])
    video = out / info["video_path"].format(episode_chunk=0, video_key="observation.images.rgb", episode_index=episode_index)
    check_video(video, episode.videos["rgb"], fps)


def check_vectors(data, episode, t_s) -> None:
    """State at the frame times (the state clock has them), IMU and GPS: the latest sample at or before each frame."""
    state = episode.tables["state"]
    rows = [int(np.argmin(np.abs(state["t_s"] - t))) for t in t_s]
    assert np.max(np.abs(state["t_s"][rows] - t_s)) < 1e-9
    columns = [f"position_{a}_m" for a in "xyz"] + [f"quaternion_{a}" for a in "wxyz"] + \
        [f"velocity_{a}_m_s" for a in "xyz"] + [f"angular_velocity_{a}_rad_s" for a in "xyz"]
    expected = np.stack([state[c][rows] for c in columns], axis=1).astype(np.float32)
    np.testing.assert_array_equal(np.array(data["observation.state"], np.float32), expected)
    imu, gps = episode.tables["imu"], episode.tables["gps"]
    held = [int(np.flatnonzero(imu["t_s"] <= t + 1e-9)[-1]) for t in t_s]
    expected = np.stack([imu[f"accel_{a}_m_s2"] for a in "xyz"] + [imu[f"gyro_{a}_rad_s"] for a in "xyz"], axis=1)[held]
    np.testing.assert_array_equal(np.array(data["observation.imu"], np.float32), expected.astype(np.float32))
    held = [int(np.flatnonzero(gps["t_s"] <= t + 1e-9)[-1]) for t in t_s]
    expected = np.stack([gps["latitude_deg"], gps["longitude_deg"], gps["altitude_m"]], axis=1)[held]
    assert data["observation.gps"] == expected.tolist()


def check_video(path, frames, fps) -> None:
    with av.open(str(path)) as container:
        decoded = [(f.to_ndarray(format="rgb24"), f.time) for f in container.decode(video=0)]
    assert len(decoded) == len(frames)
    np.testing.assert_allclose([t for _, t in decoded], np.arange(len(frames)) / fps, atol=1e-6)
    error = np.stack([d for d, _ in decoded]).astype(float) - frames
    psnr_db = 10 * np.log10(255.0 ** 2 / np.maximum(np.mean(error ** 2, axis=(1, 2, 3)), 1e-12))
    assert psnr_db.min() >= MIN_PSNR_DB, psnr_db
    assert np.abs(error).mean(axis=(1, 2, 3)).max() <= MAX_MEAN_ABS_ERROR


def test_rerun_lerobot_reader_reads_the_export(lerobot_export, exported_order):
    """Rerun's implementation of the LeRobot format finds every episode, the state rows, the video samples, the
    lossless depth and the task."""
    experimental = pytest.importorskip("rerun.experimental", reason="rerun-sdk is in the test extra")
    out, _ = lerobot_export
    reader = experimental.LeRobotReader(out)
    assert reader.episodes() == [0, 1, 2, 3]
    episode = exported_order[1]
    entities: dict[str, dict] = {}
    for chunk in reader.stream(1):
        batch = chunk.to_record_batch()
        entity = entities.setdefault(batch.schema.metadata[b"rerun:entity_path"].decode(), {})
        for name in batch.schema.names:
            if ":" in name or name == "frame_index":
                entity.setdefault(name, []).extend(batch.column(name).to_pylist())
    data = pq.read_table(out / "data/chunk-000/episode_000001.parquet").to_pydict()
    state = entities["/observation.state"]
    assert state["frame_index"] == data["frame_index"]
    np.testing.assert_array_equal(np.array(state["Scalars:scalars"]), np.array(data["observation.state"], np.float32))
    assert len(entities["/observation.images.rgb"]["VideoStream:sample"]) == len(episode.videos["rgb"])
    depth = [cv2.imdecode(np.array(blob[0], np.uint8), cv2.IMREAD_UNCHANGED)
             for blob in entities["/observation.images.depth"]["EncodedDepthImage:blob"]]
    np.testing.assert_array_equal(np.stack(depth), episode.videos["depth"])
    assert {text[0] for text in entities["/task"]["TextDocument:text"]} == {episode.context.prompt}


def test_lerobot_refuses_episodes_of_another_shape(export_dataset, tmp_path):
    """LeRobot holds one fps and one shape per feature: an episode that differs is refused in one line."""
    from realitygap.episode.export.streams import read_streams
    from realitygap.episode.export.to_lerobot import LeRobotExport

    index = read_index(export_dataset)
    streams = read_streams(export_dataset / index["episode_dir"][0])
    writer = LeRobotExport(tmp_path)
    writer.add(streams)
    cropped = {name: dataclasses.replace(image, frames=image.frames[:, :16]) for name, image in streams.images.items()}
    with pytest.raises(InputError, match="one shape per feature.*observation.images"):
        writer.add(dataclasses.replace(streams, images=cropped))
