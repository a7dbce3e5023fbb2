"""The CLI: listing, simulating, resuming, determinism, and one-line errors with exit code 2."""

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from realitygap.episode.dataset import read_index
from tests.helpers import run_cli

FAST = ["--size", "48", "--sensors", "rgb,segmentation,imu"]


def test_scenarios_lists_domains_and_laws(capsys):
    code, out, _ = run_cli(["scenarios"], capsys)
    assert code == 0
    for text in ("drop", "bounce", "height_m", "restitution", "sqrt(2 h / g)", "e^2"):
        assert text in out


def test_simulate_twice_is_byte_identical_and_resumes(tmp_path, capsys):
    args = ["simulate", "drop", "--n", "2", "--seed", "5", "--param", "height_m=0.4", *FAST]
    code, out, _ = run_cli([*args, "--out", tmp_path / "a"], capsys)
    assert code == 0 and "simulated 2 episodes (0 already complete)" in out
    code, _, _ = run_cli([*args, "--out", tmp_path / "b"], capsys)
    assert code == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 10
    compared = [str(p) for p in files_a if p.name != "timing.json"]
    _, different, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", compared, shallow=False)
    assert different == [] and errors == []
    index = read_index(tmp_path / "a")
    assert len(index["episode_id"]) == 2 and set(index["status"]) == {"complete"}
    assert all('"height_m": 0.4' in p for p in index["params_json"])
    code, out, _ = run_cli([*args, "--n", "3", "--out", tmp_path / "a"], capsys)
    assert code == 0 and "simulated 1 episodes (2 already complete)" in out


def test_info_summarises(tmp_path, capsys):
    run_cli(["simulate", "bounce", "--n", "1", "--out", tmp_path, *FAST], capsys)
    code, out, _ = run_cli(["info", tmp_path], capsys)
    assert code == 0 and "bounce" in out and "1/1" in out


@pytest.mark.parametrize("args, fragment", [
    (["simulate", "fly", "--out", "{tmp}/d"], "unknown scenario 'fly'"),
    (["simulate", "drop", "--param", "height_m=50", "--out", "{tmp}/d"], "outside its domain"),
    (["simulate", "drop", "--param", "height_m=nan", "--out", "{tmp}/d"], "not a finite number"),
    (["simulate", "drop", "--param", "height_m", "--out", "{tmp}/d"], "expects name=value"),
    (["simulate", "drop", "--sensors", "rgb,sonar", "--out", "{tmp}/d"], "unknown sensor 'sonar'"),
    (["simulate", "drop", "--size", "4", "--out", "{tmp}/d"], "CameraConfig width: Input should be greater than or equal to 16"),
    (["simulate", "drop", "--out", "{tmp}/file/d"], "not writable"),
    (["simulate", "drop", "--bogus", "--out", "{tmp}/d"], "No such option"),
    (["info", "{tmp}"], "not a realitygap dataset"),
    (["run", "--sources", "sim", "--out", "{tmp}/d"], "'sim' is the twin itself"),
    (["run", "--sources", "worldmodel,nope", "--out", "{tmp}/d"], "unknown source 'nope'"),
    (["run", "--workers", "0", "--out", "{tmp}/d"], "--workers must be at least 1"),
    (["simulate", "drop", "--executor", "dask", "--out", "{tmp}/d"], "--executor must be one of local, ray, got 'dask'"),
    (["measure", "{tmp}", "--address", "10.0.0.5:6379"], "--address applies to --executor ray only"),
    (["score", "{tmp}/none"], "is not a dataset folder"),
    (["score", "{tmp}"], "has no measurements.parquet: run `realitygap measure"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, fragment):
    (tmp_path / "file").write_text("a file, not a folder")
    code, out, err = run_cli([a.replace("{tmp}", str(tmp_path)) for a in args], capsys)
    assert code == 2
    assert fragment in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "d").exists()


def test_console_script_exit_code_and_single_line():
    result = subprocess.run([sys.executable, "-m", "realitygap.cli", "simulate", "drop", "--param", "height_m=-1",
                             "--out", "/nonexistent-realitygap-test"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: parameter height_m=-1 m is outside its domain [0.3, 3] m"]
    assert not Path("/nonexistent-realitygap-test").exists()


def test_predict_with_a_negative_control_and_unknown_source(tmp_path, capsys):
    run_cli(["simulate", "drop", "--n", "1", "--out", tmp_path, *FAST], capsys)
    code, out, _ = run_cli(["predict", "--source", "low_gravity", "--contexts", tmp_path], capsys)
    assert code == 0 and "predicted 1 episodes with low_gravity" in out
    index = read_index(tmp_path)
    assert sorted(index["source"]) == ["low_gravity", "sim"]
    code, _, err = run_cli(["predict", "--source", "dream", "--contexts", tmp_path], capsys)
    assert code == 2 and "unknown source 'dream'" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run_cli(["sources"], capsys)
    assert code == 0 and "teleport" in out and "vanishing_object" in out


def test_contexts_export_and_video_import_through_the_cli(tmp_path, capsys):
    import shutil

    run_cli(["simulate", "drop", "--n", "1", "--out", tmp_path / "data", *FAST], capsys)
    code, out, _ = run_cli(["contexts", tmp_path / "data", "--out", tmp_path / "ctx"], capsys)
    assert code == 0 and (tmp_path / "ctx" / "prompts.jsonl").is_file()
    eid = read_index(tmp_path / "data")["episode_id"][0]
    shutil.copy(next((tmp_path / "data").glob(f"episodes/sim/{eid}/rgb.mkv")), tmp_path / "ctx" / "clip.mkv")
    (tmp_path / "ctx" / "m.csv").write_text(f"file,episode_id\nclip.mkv,{eid}\n")
    code, out, _ = run_cli(["predict", "--source", "video", "--manifest", tmp_path / "ctx" / "m.csv",
                            "--contexts", tmp_path / "data"], capsys)
    assert code == 0 and "imported 1 videos" in out
    assert sorted(read_index(tmp_path / "data")["source"]) == ["sim", "video"]
    code, _, err = run_cli(["predict", "--source", "video", "--contexts", tmp_path / "data"], capsys)
    assert code == 2 and "needs --manifest" in err
