"""`realitygap export` on the command line: selection, bad input (one line, exit 2, nothing written), a missing
optional package, and atomicity (an interrupted export leaves nothing under --out)."""

from __future__ import annotations

import json

import pytest

from realitygap.episode.dataset import read_index
from realitygap.episode.export import run as export_run
from tests.helpers import run_cli

pytest.importorskip("foxglove", reason="foxglove-sdk is in the export and test extras")


def test_export_one_episode_of_one_source(export_dataset, tmp_path, capsys):
    index = read_index(export_dataset)
    episode_id = index["episode_id"][0]
    out = tmp_path / "out"
    out.mkdir()  # an empty folder is a free --out
    code, stdout, stderr = run_cli(["export", export_dataset, "--to", "mcap", "--out", out, "--source", "low_gravity",
                                    "--episodes", f" {episode_id},{episode_id}, "], capsys)
    assert code == 0, stderr
    assert stdout.strip() == f"exported 1 episode as mcap into {out}"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        [f"low_gravity/{episode_id}.mcap", "realitygap_export.json"]
    manifest = json.loads((out / "realitygap_export.json").read_text())
    assert manifest["episodes"] == [{"episode_id": episode_id, "source": "low_gravity", "scenario": "drop",
                                     "split": manifest["episodes"][0]["split"]}]


BAD_INPUT = {
    "missing dataset": (lambda d, t: [t / "no-such-dataset", "--to", "mcap", "--out", t / "out"], "does not exist"),
    "not a dataset": (lambda d, t: [t, "--to", "mcap", "--out", t / "out"], "not a realitygap dataset"),
    "unknown format": (lambda d, t: [d, "--to", "rosbag", "--out", t / "out"], "unknown export format 'rosbag'"),
    "out is a file": (lambda d, t: [d, "--to", "mcap", "--out", t / "file.txt"], "is an existing file"),
    "out not empty": (lambda d, t: [d, "--to", "rerun", "--out", t / "full"], "not empty"),
    "unknown episode": (lambda d, t: [d, "--to", "lerobot", "--out", t / "out", "--episodes", "0123456789abcdef"],
                        "unknown episode id(s): 0123456789abcdef"),
    "unknown source": (lambda d, t: [d, "--to", "mcap", "--out", t / "out", "--source", "nope"], "--source 'nope'"),
    "no episode ids": (lambda d, t: [d, "--to", "mcap", "--out", t / "out", "--episodes", " , "], "--episodes expects"),
    "missing --to": (lambda d, t: [d, "--out", t / "out"], "--to"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_one_line_and_writes_nothing(case, export_dataset, tmp_path, capsys):
    arguments, message = BAD_INPUT[case]
    (tmp_path / "file.txt").write_text("keep me")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, stdout, stderr = run_cli(["export", *arguments(export_dataset, tmp_path)], capsys)
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "file.txt").read_text() == "keep me"


def test_a_missing_optional_package_names_the_extra(export_dataset, tmp_path, capsys, monkeypatch):
    target, _, packages = export_run.FORMATS["mcap"]
    monkeypatch.setitem(export_run.FORMATS, "mcap", (target, ("foxglove_not_installed",), packages))
    code, _, stderr = run_cli(["export", export_dataset, "--to", "mcap", "--out", tmp_path / "out"], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert "needs foxglove-sdk" in stderr and "pip install 'realitygap[export]'" in stderr
    assert not (tmp_path / "out").exists()


def test_an_interrupted_export_leaves_nothing_under_out(export_dataset, tmp_path, capsys, monkeypatch):
    """Interrupted after one of four episodes: no --out, no staging folder; a staging folder left by a killed export
    is removed by the next export to the same --out, which then completes."""
    from realitygap.episode.export.to_mcap import McapExport

    add, calls = McapExport.add, []

    def interrupted(self, streams):
        calls.append(streams.episode_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return add(self, streams)

    out = tmp_path / "out"
    monkeypatch.setattr(McapExport, "add", interrupted)
    code, _, _ = run_cli(["export", export_dataset, "--to", "mcap", "--out", out], capsys)
    assert code == 130 and len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    monkeypatch.setattr(McapExport, "add", add)
    stale = tmp_path / ".out.killed.partial"
    (stale / "sim").mkdir(parents=True)
    (stale / "sim" / "half.mcap").write_bytes(b"\x89MCAP0\r\n")
    code, _, stderr = run_cli(["export", export_dataset, "--to", "mcap", "--out", out], capsys)
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert len(list(out.rglob("*.mcap"))) == 4


def test_an_interrupted_command_says_so_in_one_line(export_dataset, tmp_path, capsys, monkeypatch):
    """Ctrl-C (KeyboardInterrupt) in any command: exit 130 and the CLI's one line (typer returns 130 silently)."""
    from realitygap.episode.export.to_mcap import McapExport

    def interrupted(self, streams):
        raise KeyboardInterrupt

    monkeypatch.setattr(McapExport, "add", interrupted)
    code, _, stderr = run_cli(["export", export_dataset, "--to", "mcap", "--out", tmp_path / "out"], capsys)
    assert code == 130 and stderr.strip().splitlines()[-1].startswith("interrupted")
