"""Shared by the input fuzz tests (issue 16, deliverable 3): the hypothesis settings, one CLI call in this
process with its streams captured, the contract every case must meet, and a switch that stops a command where
its real work (simulating, predicting, measuring, training) would begin.

The contract of one `realitygap ...` call (`check_outcome`):
- it ends in exit code 0 (a valid input, done), or 2 with exactly one non-blank line on stderr, starting
  'error: ' (bad input), or, under `stop_before_work`, by reaching the work with no error printed;
- no exception escapes `realitygap.cli.main` and no 'Traceback' is printed;
- nothing partial is left on disk (`partial_files`): no `*.partial` staging folder, no `.NAME.*.tmp` file, no
  `.import-*` folder, no episode folder without its episode.json; and a refused command does not create the
  --out folder it was given.

Counts: each fuzz test counts its cases with a `Counter`, prints the count and asserts the number it promises.
REALITYGAP_FUZZ_SCALE=0.05 runs a twentieth of every count (a quick look while developing; the asserted counts
scale with it).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from unittest import mock

import typer
from hypothesis import HealthCheck, settings

FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])
"""Reproducible in CI (derandomized, no example database), no per-case deadline."""


def scaled(n: int) -> int:
    """`n` cases, times REALITYGAP_FUZZ_SCALE (default 1)."""
    return max(1, round(n * float(os.environ.get("REALITYGAP_FUZZ_SCALE", "1"))))


class StopBeforeWork(BaseException):
    """Raised by `stop_before_work` where a command's real work would begin: its input was accepted. A
    BaseException, so that the CLI's error handling lets it through as it would let the work run."""


def _stop(*_args, **_kwargs):
    raise StopBeforeWork


@contextlib.contextmanager
def stop_before_work() -> Iterator[None]:
    """Every command stops where its work would begin (the per-episode tasks, the world model's training, the
    carbon-copy generations, the export's writing, the scorecard's rows), after all of its own checks of the input.
    Ray sessions are not opened (the executor's own checks, Ray installed and --address answering, still run)."""
    targets = ("realitygap.pipeline.run_tasks", "realitygap.measure.pipeline.run_tasks",
               "realitygap.downstream.experiment.run_tasks", "realitygap.worldmodel.train.train",
               "realitygap.carboncopy.experiment.run_carboncopy", "realitygap.episode.export.run.run_export",
               "realitygap.scorecard.score.score_rows")
    with contextlib.ExitStack() as stack:
        for target in targets:
            stack.enter_context(mock.patch(target, _stop))
        stack.enter_context(mock.patch("realitygap.runtime.executor.Executor.session",
                                       lambda self: contextlib.nullcontext()))
        yield


@dataclass(frozen=True)
class Outcome:
    code: int | None
    """Exit code; None when the command reached its work under `stop_before_work`."""
    out: str
    err: str

    @property
    def how(self) -> str:
        return "accepted (stopped before work)" if self.code is None else f"exit {self.code}"


def run_realitygap(args: list, cwd: Path) -> Outcome:
    """`realitygap ARGS` through `realitygap.cli.main` in `cwd` (relative paths land there), with Python's
    default warning filters (as in a fresh process). stdout is strict UTF-8 and stderr backslash-replacing, as in
    a UTF-8 terminal. Any exception but SystemExit and StopBeforeWork escapes (and fails the case)."""
    from realitygap import cli

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", errors="backslashreplace", write_through=True)
    before, environment = os.getcwd(), dict(os.environ)  # `predict --model` sets a variable for its workers
    os.chdir(cwd)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.resetwarnings()
            warnings.simplefilter("default")
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.filterwarnings("ignore", category=category)
            warnings._showwarnmsg_impl = _print_warning  # not pytest's recorder: shown on stderr, as in a process
            try:
                with mock.patch.object(cli, "app", _click_command()):
                    cli.main([str(a) for a in args])
                code: int | None = 0
            except SystemExit as done:
                code = 0 if done.code is None else done.code
            except StopBeforeWork:
                code = None
    finally:
        os.chdir(before)
        os.environ.clear()
        os.environ.update(environment)
    return Outcome(code, out_bytes.getvalue().decode("utf-8"), err_bytes.getvalue().decode("utf-8"))


@functools.lru_cache(maxsize=1)
def _click_command():
    """The click command typer makes of `realitygap.cli.app`, made once: typer makes it anew on every call (13 ms,
    most of a refused case), and calls it just so."""
    from realitygap.cli import app

    return typer.main.get_command(app)


def _print_warning(message: warnings.WarningMessage) -> None:
    (message.file or sys.stderr).write(warnings.formatwarning(message.message, message.category, message.filename,
                                                              message.lineno, message.line))


def check_outcome(outcome: Outcome, roots: list[Path] = (), new_outs: list[Path] = ()) -> None:
    """The contract of one call (module docstring). `roots`: folders searched for partial files; `new_outs`: the
    --out folders that did not exist before the call (a refused call must not create them)."""
    code, out, err = outcome.code, outcome.out, outcome.err
    assert code in (0, 2, None), f"undocumented exit code {code!r}; stderr: {err!r}"
    assert "Traceback" not in out + err, err
    err_lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        assert len(err_lines) == 1 and err_lines[0].startswith("error: "), f"not one error line: {err!r}"
        for path in new_outs:
            assert not path_exists(path), f"refused, but created {path}"
    else:
        assert all(line.startswith("warning: ") for line in err_lines), f"stderr beyond warnings: {err!r}"
    for root in roots:
        leftovers = partial_files(root)
        assert not leftovers, f"partial files left: {leftovers}"


def partial_files(root: Path) -> list[str]:
    """What an interrupted or refused write leaves under `root`: staging folders, temporary files, episode
    folders without episode.json."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in dirs + files:
            if name.endswith((".partial", ".replaced")) or name.startswith(".import-") or (
                    name.startswith(".") and name.endswith(".tmp")):
                found.append(str(here / name))
        if here.parent.parent.name == "episodes" and not here.name.startswith(".") and not (here / "episode.json").is_file():
            found.append(f"{here} (no episode.json)")
    return found


def path_exists(path: Path) -> bool:
    """Whether `path` exists (or is a dangling symlink); False for a name the file system refuses (too long)."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:  # too long a name
        return False


class Counter:
    """How many cases a fuzz test ran (hypothesis' generated ones and its explicit examples), and how each ended."""

    def __init__(self) -> None:
        self.n = 0
        self.ends: dict[str, int] = {}

    def __call__(self) -> None:
        self.n += 1

    def ended(self, how: str) -> None:
        """Record how the current case ended ('accepted', 'refused', ...)."""
        self.ends[how] = self.ends.get(how, 0) + 1

    def __str__(self) -> str:
        return f"{self.n} cases ({', '.join(f'{n} {how}' for how, n in sorted(self.ends.items()))})"


@contextlib.contextmanager
def case_folder(root: Path, count: list[int]) -> Iterator[Path]:
    """A fresh folder per case under `root`, removed afterwards (read-only folders made by a case included)."""
    import shutil

    count[0] += 1
    folder = root / f"case{count[0]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
