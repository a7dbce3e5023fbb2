"""Episode format: determinism, checksums, atomic writes, lossless video, stable ids."""

import filecmp

import numpy as np
import pytest

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode import io as episode_io
from realitygap.episode.io import TIMING_JSON, read_meta, verify_episode
from realitygap.episode.types import Context, episode_id
from realitygap.episode.video import VideoWriter, read_video
from realitygap.scenarios import get_scenario
from realitygap.sim.runner import simulate_episode

SMALL_RIG = RigConfig(camera=CameraConfig(width=64, height=64))


def _context(seed=3, **params):
    spec = get_scenario("drop")
    resolved = spec.resolve_params({"height_m": 0.5, **params})
    return spec, Context(scenario="drop", params=resolved, seed=seed, rig=SMALL_RIG, prompt=spec.prompt(resolved))


def test_same_context_twice_gives_byte_identical_files(tmp_path):
    spec, context = _context()
    a, b = tmp_path / "a", tmp_path / "b"
    simulate_episode(context, spec, a)
    simulate_episode(context, spec, b)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {"rgb.mkv", "depth.mkv", "segmentation.mkv", "state.parquet", "annotations.parquet", "imu.parquet",
            "gps.parquet", "lidar.parquet", "episode.json"} <= set(names)
    same, different, errors = filecmp.cmpfiles(a, b, [n for n in names if n != TIMING_JSON], shallow=False)
    assert different == [] and errors == []


def test_checksums_detect_corruption(tmp_path):
    spec, context = _context()
    out = tmp_path / "ep"
    meta = simulate_episode(context, spec, out)
    assert verify_episode(out)
    assert set(meta.files) == {p.name for p in out.iterdir()} - {"episode.json", TIMING_JSON}
    data = bytearray((out / "imu.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (out / "imu.parquet").write_bytes(bytes(data))
    assert not verify_episode(out)


def test_failure_mid_episode_leaves_nothing_behind(tmp_path, monkeypatch):
    spec, context = _context()

    def broken(self, name, columns):
        raise RuntimeError("disk full")

    monkeypatch.setattr(episode_io.EpisodeWriter, "write_table", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        simulate_episode(context, spec, tmp_path / "ep")
    assert list(tmp_path.iterdir()) == []


def test_episode_json_is_written_last_and_describes_itself(tmp_path):
    spec, context = _context()
    out = tmp_path / "ep"
    simulate_episode(context, spec, out)
    meta = read_meta(out)
    assert meta.episode_id == context.episode_id
    assert meta.streams["depth"].unit == "mm"
    assert meta.context.rig.imu.rate_hz == 200
    assert meta.physics.contact["ball_floor"]["solref"][0] < 0
    newest = max(out.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert newest.name == "episode.json"


def test_episode_id_is_stable_and_sensitive():
    rig = RigConfig()
    base = episode_id("drop", {"height_m": 1.0, "colour": "red"}, 0, rig)
    assert base == episode_id("drop", {"colour": "red", "height_m": 1.0}, 0, rig)
    assert len(base) == 16 and int(base, 16) >= 0
    assert base != episode_id("drop", {"height_m": 1.0, "colour": "red"}, 1, rig)
    assert base != episode_id("drop", {"height_m": 1.0001, "colour": "red"}, 0, rig)
    assert base != episode_id("drop", {"height_m": 1.0, "colour": "red"}, 0, RigConfig(sensors=("rgb",)))
    round_trip = Context.model_validate_json(Context(scenario="drop", params={"height_m": 1.0}, seed=0).model_dump_json())
    assert round_trip.episode_id == episode_id("drop", {"height_m": 1.0}, 0, RigConfig())


@pytest.mark.parametrize("kind, shape, dtype", [("rgb", (5, 24, 32, 3), np.uint8), ("gray16", (5, 24, 32), np.uint16)])
def test_video_is_lossless(tmp_path, kind, shape, dtype):
    frames = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)
    writer = VideoWriter(tmp_path / "v.mkv", shape[2], shape[1], 30, kind)
    for frame in frames:
        writer.write(frame)
    assert writer.close() == 5
    decoded, t = read_video(tmp_path / "v.mkv", kind)
    assert np.array_equal(decoded, frames)
    assert np.allclose(t, np.arange(5) / 30, atol=1e-3)
