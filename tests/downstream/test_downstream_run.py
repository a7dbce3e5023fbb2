"""The downstream experiment end to end on a reduced budget: sim transfers exactly, each negative control is
measurably worse on the task its defect affects, the run is deterministic and resumable, and the CLI
refuses bad input with one line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from realitygap.downstream.experiment import examples_current
from realitygap.downstream.models import TrainSettings
from realitygap.downstream.plan import DownstreamConfig
from realitygap.downstream.run import DOWNSTREAM_JSON, DOWNSTREAM_PARQUET, run_downstream
from tests.helpers import run_cli

CONTROLS = ("low_gravity", "plausible_imprecise", "teleport", "vanishing_object", "wrong_intrinsics")
REDUCED = DownstreamConfig(sources=("sim",) + CONTROLS, scenarios=("drop", "bounce"), n_train=12, n_test=8, seeds=3,
                           curve_sources=(), bootstrap=400,
                           train={"parameters": TrainSettings(steps=300, batch_size=32, hidden=32, weight_decay=0.05),
                                  "localisation": TrainSettings(steps=300, batch_size=32, hidden=32),
                                  "depth_position": TrainSettings(steps=300, batch_size=32, hidden=32)})


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("downstream")
    document = run_downstream(folder / "data", folder / "out", REDUCED, workers=2)
    return {(r["source"], r["task"]): r for r in document["summary"] if r["kind"] == "transfer"}


def test_training_on_sim_is_training_on_ground_truth(reduced):
    for task in REDUCED.tasks:
        row = reduced[("sim", task)]
        assert (row["ratio"], row["ratio_low"], row["ratio_high"]) == (1.0, 1.0, 1.0)
        assert row["error"] > 0 and row["n_seeds"] == REDUCED.seeds and row["n_test_episodes"] == 2 * REDUCED.n_test


@pytest.mark.parametrize("control, task, scenario", [
    ("low_gravity", "parameters", None),  # the motion is slower than the parameters say
    ("teleport", "localisation", None),  # the 0.2 s forecast crosses the jump
    ("wrong_intrinsics", "depth_position", None),  # image and depth through a lens 1.2x narrower than recorded
    # frames without the object, labelled with its position; on drop, where the defect shows (TwinSource.shows_on):
    # its 10 hidden frames are a third of a drop episode and a sixth of a bounce episode
    ("vanishing_object", "localisation", "drop"),
])
def test_each_control_is_measurably_worse_on_the_task_its_defect_affects(reduced, control, task, scenario):
    row = reduced[(control, task)]
    low = row["ratio_low"] if scenario is None else row["by_scenario"][scenario]["ratio_low"]
    assert low > 1.0, row


@pytest.mark.xfail(strict=True, reason="label noise of +-15 % of each parameter is below the parameter model's own "
                   "error on bounce at this budget (docs/downstream.md)")
def test_imprecise_parameters_are_measurably_worse_on_parameter_regression(reduced):
    assert reduced[("plausible_imprecise", "parameters")]["ratio_low"] > 1.0


def test_quick_cli_run_is_deterministic_resumable_and_reports(tmp_path, capsys):
    data = tmp_path / "data"
    code, stdout, stderr = run_cli(["downstream", data, "--quick", "--sources", "sim,teleport", "--out", tmp_path / "a",
                                    "--workers", "2"], capsys)
    assert code == 0, stderr
    assert "transfer ratio" in stdout and "teleport" in stdout
    code, _, stderr = run_cli(["downstream", data, "--quick", "--sources", "sim,teleport", "--out", tmp_path / "b",
                               "--workers", "1"], capsys)
    assert code == 0, stderr
    assert (tmp_path / "a" / DOWNSTREAM_PARQUET).read_bytes() == (tmp_path / "b" / DOWNSTREAM_PARQUET).read_bytes()
    errors = pq.read_table(tmp_path / "a" / DOWNSTREAM_PARQUET).column("error").to_numpy()
    assert np.isfinite(errors).all()  # rows only where the task applies (no image task on slide: no ball)
    a, b = (json.loads((tmp_path / d / DOWNSTREAM_JSON).read_text()) for d in "ab")
    assert a["summary"] == b["summary"]
    cached = next((tmp_path / "a" / "examples" / "sim").glob("*.npz"))
    assert examples_current(data, tmp_path / "a", "sim", cached.stem)
    with np.load(cached) as arrays:
        stale = {**dict(arrays), "episode_sha256": np.array(["0" * 64])}
    np.savez_compressed(cached, **stale)
    assert not examples_current(data, tmp_path / "a", "sim", cached.stem)  # an episode that changed is extracted again
    assert (tmp_path / "a" / "downstream.html").is_file() and (tmp_path / "a" / "downstream-transfer.png").is_file()
    assert "id='transfer'" in (tmp_path / "a" / "downstream.html").read_text()


@pytest.mark.parametrize("arguments, message", [
    (["--sources", "sim,nonsense"], "unknown source"),
    (["--tasks", "parameters,telepathy"], "unknown task"),
    (["--seeds", "0"], "seeds"),
    (["--sources", "worldmodel@../../etc"], "checkpoint tag"),
])
def test_bad_options_get_one_line_and_exit_2(tmp_path, capsys, arguments, message):
    code, _, stderr = run_cli(["downstream", tmp_path / "data", "--quick", *arguments], capsys)
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("episode.json"))
