"""The Ray executor against the local pool: the same bytes on disk, results in task order, a task's
InputError re-raised as itself, the environment forwarded to the workers, and a second driver (the CLI)
joining the instance by its address. One local Ray instance on the loopback interface serves the module.

Files compared byte for byte: every file of the datasets (dataset.json, index.parquet, each episode's
episode.json, videos and tables, measurements/, measurements.parquet, error_floor.parquet) except
WALL_CLOCK_FILES, whose content is a wall-clock duration by design (outside the checksums of episode.json).
"""

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'realitygap[ray]'")

from realitygap.core.rig import CameraConfig, RigConfig  # noqa: E402
from realitygap.episode.io import TIMING_JSON  # noqa: E402
from realitygap.measure.pipeline import measure_dataset  # noqa: E402
from realitygap.pipeline import plan_contexts, simulate_dataset  # noqa: E402
from realitygap.runtime.errors import InputError  # noqa: E402
from realitygap.runtime.executor import Executor, run_tasks  # noqa: E402

RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=64, height=64, fps=30))
WALL_CLOCK_FILES = {TIMING_JSON}


def square(x):
    return x * x


def process_id(_):
    return os.getpid()


def refuse_three(x):
    if x == 3:
        raise InputError("three is not allowed")
    return x


@pytest.fixture(scope="module")
def ray_executor():
    """A local Ray instance of 2 CPUs on 127.0.0.1 for the whole module (run_tasks uses the open connection)."""
    executor = Executor(kind="ray", workers=2)
    with executor.session():
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        yield executor


def test_local_pool_and_ray_write_the_same_bytes(tmp_path, ray_executor):
    contexts = plan_contexts("drop", 2, 0, {"height_m": 0.4}, RIG)
    for name, executor in {"serial": 1, "pool": 2, "ray": ray_executor}.items():
        simulate_dataset(contexts, tmp_path / name, workers=executor)
        measure_dataset(tmp_path / name, workers=executor)
    files = {name: _files(tmp_path / name) for name in ("serial", "pool", "ray")}
    assert files["serial"] == files["pool"] == files["ray"]
    assert {"index.parquet", "measurements.parquet", "error_floor.parquet"} <= {p.name for p in files["serial"]}
    assert sum(p.name == "rgb.mkv" for p in files["serial"]) == 2
    compared = [str(p) for p in files["serial"] if p.name not in WALL_CLOCK_FILES]
    for other in ("pool", "ray"):
        _, different, errors = filecmp.cmpfiles(tmp_path / "serial", tmp_path / other, compared, shallow=False)
        assert different == [] and errors == [], other


def test_results_in_task_order_and_on_done_here(ray_executor):
    seen = []
    assert run_tasks(square, list(range(6)), ray_executor, on_done=lambda i, r: seen.append((i, r))) == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == [(i, i * i) for i in range(6)]
    assert os.getpid() not in run_tasks(process_id, [0, 1], ray_executor), "tasks run in Ray's workers"
    assert run_tasks(abs, [-1, 2, -3], ray_executor) == [1, 2, 3], "a builtin as the function"


def test_a_tasks_input_error_is_re_raised_as_itself(ray_executor):
    with pytest.raises(InputError) as error:
        run_tasks(refuse_three, [1, 2, 3, 4], ray_executor)
    assert type(error.value) is InputError and str(error.value) == "three is not allowed"


def test_the_environment_reaches_the_workers(ray_executor, monkeypatch):
    monkeypatch.setenv("REALITYGAP_EXECUTOR_PROBE", "set after the instance started")
    names = ["REALITYGAP_EXECUTOR_PROBE", "MUJOCO_GL", "PYOPENGL_PLATFORM"]
    assert run_tasks(os.getenv, names, ray_executor) == [os.environ[name] for name in names]


def test_relative_paths_mean_the_callers_folder(tmp_path, ray_executor, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the workers were started in another folder
    simulate_dataset(plan_contexts("drop", 1, 0, {"height_m": 0.4}, RIG), Path("relative"), workers=ray_executor)
    assert len(list((tmp_path / "relative" / "episodes" / "sim").glob("*/episode.json"))) == 1


def test_the_cli_joins_the_instance_by_address(tmp_path, ray_executor):
    address = ray.get_runtime_context().gcs_address
    args = ["simulate", "drop", "--n", "2", "--seed", "0", "--param", "height_m=0.4", "--sensors", "rgb,segmentation", "--size", "64"]
    result = subprocess.run([sys.executable, "-m", "realitygap.cli", *args, "--executor", "ray", "--address", address,
                             "--out", str(tmp_path / "cli")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    simulate_dataset(plan_contexts("drop", 2, 0, {"height_m": 0.4}, RIG), tmp_path / "local")
    files = _files(tmp_path / "local")
    assert _files(tmp_path / "cli") == files
    compared = [str(p) for p in files if p.name not in WALL_CLOCK_FILES]
    _, different, errors = filecmp.cmpfiles(tmp_path / "local", tmp_path / "cli", compared, shallow=False)
    assert different == [] and errors == []


def test_a_closed_address_is_one_line_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "realitygap.cli", "simulate", "drop", "--executor", "ray",
                             "--address", "127.0.0.1:1", "--out", str(tmp_path / "d")], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "no Ray cluster answers there" in result.stderr
    assert not (tmp_path / "d").exists()


def _files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
