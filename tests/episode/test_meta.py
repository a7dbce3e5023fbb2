"""Typed episode metadata: what is written is what is read back, and the format version is checked."""

import json

import pytest

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.dataset import DATASET_JSON, open_dataset
from realitygap.episode.io import EPISODE_JSON, read_episode, read_meta, verify_episode
from realitygap.episode.meta import EpisodeMeta, FormatVersionWarning
from realitygap.episode.types import Context
from realitygap.runtime.errors import InputError
from realitygap.scenarios import get_scenario
from realitygap.sim.runner import simulate_episode

TINY_RIG = RigConfig(sensors=("rgb", "imu"), camera=CameraConfig(width=32, height=32, fps=10))


@pytest.fixture(scope="module")
def episode_folder(tmp_path_factory):
    spec = get_scenario("drop")
    params = spec.resolve_params({"height_m": 0.4})
    out = tmp_path_factory.mktemp("meta") / "ep"
    simulate_episode(Context(scenario="drop", params=params, seed=1, rig=TINY_RIG), spec, out)
    return out


def _with_version(folder, tmp_path, version):
    copy = tmp_path / "ep"
    copy.mkdir()
    data = json.loads((folder / EPISODE_JSON).read_text())
    (copy / EPISODE_JSON).write_text(json.dumps({**data, "format_version": version}))
    return copy


def test_written_metadata_reads_back_typed_and_unchanged(episode_folder):
    meta = read_meta(episode_folder)
    assert isinstance(meta, EpisodeMeta)
    assert meta.to_json() == json.loads((episode_folder / EPISODE_JSON).read_text())
    assert meta.context.rig == TINY_RIG and meta.instances[0].class_name == "ball"
    assert meta.calibration.camera.width_px == 32 and meta.calibration.lidar is not None  # the rig is mounted whole
    assert meta.rates_hz == {"camera": 10, "state": 1200, "imu": 200}
    assert set(meta.streams) == {"rgb", "state", "annotations", "imu"}
    episode = read_episode(episode_folder, streams=())
    assert episode.K[0, 0] == meta.calibration.camera.fx_px and episode.context == meta.context


def test_another_major_format_version_is_one_clear_error(episode_folder, tmp_path):
    copy = _with_version(episode_folder, tmp_path, 2)
    with pytest.raises(InputError, match="is format 2, this realitygap reads format 1.x") as error:
        read_meta(copy)
    assert len(str(error.value).splitlines()) == 1
    assert not verify_episode(copy)


def test_another_minor_format_version_is_read_with_a_warning(episode_folder, tmp_path):
    copy = _with_version(episode_folder, tmp_path, "1.3")
    with pytest.warns(FormatVersionWarning, match="format 1.3"):
        meta = read_meta(copy)
    assert meta.episode_id == read_meta(episode_folder).episode_id


@pytest.mark.parametrize("version", [None, "one", True])
def test_missing_or_malformed_version_is_an_error(episode_folder, tmp_path, version):
    with pytest.raises(InputError, match="no valid format_version"):
        read_meta(_with_version(episode_folder, tmp_path, version))


def test_malformed_metadata_names_the_field(episode_folder, tmp_path):
    copy = tmp_path / "ep"
    copy.mkdir()
    data = json.loads((episode_folder / EPISODE_JSON).read_text())
    del data["calibration"]["camera"]["fx_px"]
    (copy / EPISODE_JSON).write_text(json.dumps(data))
    with pytest.raises(InputError, match="calibration.camera.fx_px"):
        read_meta(copy)


def test_dataset_of_another_major_version_is_refused(tmp_path):
    open_dataset(tmp_path)
    data = json.loads((tmp_path / DATASET_JSON).read_text())
    (tmp_path / DATASET_JSON).write_text(json.dumps({**data, "format_version": 7}))
    with pytest.raises(InputError, match="is format 7"):
        open_dataset(tmp_path)
