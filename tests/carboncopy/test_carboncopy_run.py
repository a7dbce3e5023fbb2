"""`realitygap carboncopy --quick` end to end: every generation trained, predicted, measured and scored; the same
seed gives the same curves; a run killed (SIGKILL of its process group) in the middle of generation 1 resumes to
the same bytes, with no temporary file left; bad settings are one line, exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from realitygap.carboncopy.experiment import quick_config, run_carboncopy
from tests.helpers import run_cli

KILL_WHEN = "eval/episodes/worldmodel@cc-replace-g1"
"""The killed run is stopped once generation 1 has started predicting (its training done, its predictions partial)."""


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("cc_whole")
    document = run_carboncopy(out, quick_config(), workers=1)
    return out, document


def test_every_generation_is_trained_predicted_and_scored(uninterrupted):
    out, document = uninterrupted
    assert set(document["generations"]) == {"cc-g0", "cc-replace-g1", "cc-replace-g2"}
    for tag, record in document["generations"].items():
        assert (out / "checkpoints" / f"{tag}.pt").is_file()
        assert record["training"]["steps"] == quick_config().steps and record["training"]["stopped_by"] == "max_steps"
    assert document["generations"]["cc-g0"]["trained_on"]["per_source"] == {"sim": 2}
    assert document["generations"]["cc-replace-g2"]["trained_on"]["per_source"] == {"worldmodel@cc-replace-g1": 2}
    assert document["generations"]["cc-replace-g1"]["training"]["initialised_from"]["checkpoint"] == "cc-g0.pt"
    rows = pq.read_table(out / "carboncopy.parquet").to_pylist()
    sources = {r["source"] for r in rows}
    assert sources == {"worldmodel", "worldmodel@cc-g0", "worldmodel@cc-replace-g1", "worldmodel@cc-replace-g2"}
    g = {r["generation"]: r["value"] for r in rows if r["metric"] == "rel_error:g_m_s2"}
    assert set(g) == {-1, 0, 1, 2} and all(v >= 0 for v in g.values())
    labels = {c["label"] for c in document["curves"]}
    assert "consistency checks passed (share)" in labels and "g: relative error (drop, projectile)" in labels
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*.partial")) and not list((out / "training").glob("*.pt"))


def test_a_killed_run_resumes_to_the_same_curves(uninterrupted, tmp_path):
    whole, _ = uninterrupted
    out = tmp_path / "cc"
    command = [sys.executable, "-c", "from realitygap.cli import main; main()", "carboncopy", "--quick", "--workers", "1",
               "--out", str(out)]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl"})
    try:
        deadline = time.monotonic() + 300
        while not (out / KILL_WHEN).is_dir() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (out / "carboncopy.parquet").exists()
    run_carboncopy(out, quick_config(), workers=1)
    assert (out / "carboncopy.parquet").read_bytes() == (whole / "carboncopy.parquet").read_bytes()
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*.partial"))
    whole_doc, resumed_doc = (json.loads((p / "carboncopy.json").read_text()) for p in (whole, out))
    assert resumed_doc["curves"] == whole_doc["curves"]


@pytest.mark.parametrize("args, message", [
    (["--regime", "copy"], "regime"),
    (["--regime", "fresh:-0.5"], "regime"),
    (["--generations", "0"], "generations"),
    (["--steps", "-3"], "steps"),
    (["--workers", "0"], "--workers"),
])
def test_bad_settings_are_one_line(args, message, tmp_path, capsys):
    code, _, err = run_cli(["carboncopy", "--quick", "--out", tmp_path / "cc", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "cc").exists()


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = run_cli(["carboncopy", "--quick", "--out", target], capsys)
    assert code == 2 and "existing file" in err


def test_a_run_with_other_settings_in_the_same_folder_is_refused(uninterrupted, capsys):
    out, _ = uninterrupted
    code, _, err = run_cli(["carboncopy", "--quick", "--steps", "11", "--out", out], capsys)
    assert code == 2 and "other settings (steps)" in err
