"""Manifests and videos of `realitygap predict --source video`, fuzzed (issue 16, deliverable 3): every manifest is
read or refused in one InputError, no path leaves the manifest's folder, and an import either writes complete,
verified episodes or nothing at all.

- `test_any_manifest_is_read_or_refused` (1,000 generated manifests and the examples): CSV and JSON manifests
  with malformed rows, missing, unknown and repeated columns, wrong types, hostile paths ('..', absolute, drive
  and UNC paths, symlinks out of the folder or in a loop), files that do not exist, duplicate episode ids,
  broken CSV quoting, bytes that are not UTF-8, NUL, deep JSON nesting, through `read_manifest`. Oracle: a
  manifest whose every row is valid is read with exactly those rows; one with a hostile path, a bad episode id,
  a bad number or a repeated id is refused.
- `test_any_video_is_imported_or_refused` (400): `import_videos` (what the command calls) of truncated,
  byte-flipped, garbage, zero-frame, one-frame, odd-size and wrong-aspect files (measure-clip's generators,
  tests/clip/test_measure_clip_fuzz.py) and of square clips that fit the context, mutated the same ways, with
  an fps column, a calibration and positions sometimes. Checked: on success every episode verifies against its
  checksums and is in the index; on refusal the dataset is byte-for-byte what it was.
- `test_video_import_on_the_command_line` (100): manifests and videos together through `realitygap predict
  --source video`, the contract of tests/fuzzing.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.dataset import episode_dir, read_index
from realitygap.episode.io import verify_episode
from realitygap.runtime.errors import InputError, one_line
from realitygap.sources.manifest import MANIFEST_FIELDS, read_manifest
from tests.clip.test_measure_clip_fuzz import (
    NUMBER_TEXTS,
    corpus,  # noqa: F401 (its fixture: measure-clip's template files)
    file_recipes,
    make_input,
    weird_text,
)
from tests.fuzzing import FUZZ, Counter, case_folder, check_outcome, run_realitygap, scaled

EPISODE_ID = re.compile(r"^[0-9a-f]{16}$")
GOOD_ID, OTHER_ID = "0123456789abcdef", "fedcba9876543210"

# --------------------------------------------------------------------------------------------------
# Manifests: the folder they point into, and rows as (value, verdict) pairs

GOOD_PATHS = ("a.mp4", "sub/b.mp4", "./a.mp4", "sub//b.mp4", "in.mp4", "sub/./b.mp4", " a.mp4 ", "missing.mp4", "dir.mp4",
              "ß 球.mp4", "sub")
"""Paths that stay inside the folder (existing or not: `read_manifest` only locates files)."""
HOSTILE_PATHS = ("../x.mp4", "sub/../a.mp4", "..", "../", "/etc/passwd", "/abs.mp4", "//server/x.mp4", "C:\\x.mp4", "c:x.mp4",
                 "\\\\server\\share\\x.mp4", "\\x.mp4", "out.mp4", "outdir/x.mp4", "outdir", "sub\\..\\..\\x.mp4", "..\\x.mp4",
                 "loop.mp4")
"""Paths that leave the folder: '..', absolute, drive or UNC, a symlink out, a symlink loop (resolves to nothing)."""


def make_manifest_folder(root: Path) -> Path:
    """The folder manifests are read in: files, a sub-folder, a folder named like a video, symlinks in, out and
    in a loop, and a file outside it."""
    folder = root / "clips"
    (folder / "sub").mkdir(parents=True)
    (folder / "dir.mp4").mkdir()
    for name in ("a.mp4", "sub/b.mp4", "calib.json", "pos.csv", "ß 球.mp4"):
        (folder / name).write_bytes(b"not read here")
    (root / "outside.mp4").write_bytes(b"outside")
    (folder / "in.mp4").symlink_to(folder / "a.mp4")
    (folder / "out.mp4").symlink_to(root / "outside.mp4")
    (folder / "outdir").symlink_to(root)
    (folder / "loop.mp4").symlink_to(folder / "loop.mp4")
    return folder


paths_good = st.sampled_from(GOOD_PATHS).map(lambda p: (p, "good"))
ids_good = st.sampled_from((GOOD_ID, OTHER_ID, "00000000000000ff", "0000000000000000")).map(lambda i: (i, "good"))
numbers_good = st.one_of(st.sampled_from(("30", "29.97", "1", "0.5", "1e3", " 60 ")),
                         st.floats(1e-3, 1e4).map(repr)).map(lambda v: (v, "good"))
paths = st.one_of(paths_good, st.sampled_from(HOSTILE_PATHS).map(lambda p: (p, "bad")),
                  weird_text.map(lambda p: (p, "either")), st.sampled_from(("", " ")).map(lambda p: (p, "missing")))
ids = st.one_of(ids_good,
                st.sampled_from(("0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "xyz", "0x0123456789abcd",
                                 "0123456789abcdeg", "٠١٢٣٤٥٦٧٨٩abcdef")).map(lambda i: (i, "bad")),
                st.sampled_from(("", " ")).map(lambda i: (i, "missing")), weird_text.map(lambda i: (i, "either")))
numbers = st.one_of(numbers_good,
                    st.sampled_from(("0", "-30", "nan", "inf", "-inf", "1e400", "abc", "1,5", "30fps")).map(lambda v: (v, "bad")),
                    st.sampled_from(NUMBER_TEXTS).map(lambda v: (v, "either")), weird_text.map(lambda v: (v, "either")))
json_values = st.sampled_from((None, True, False, 0, -1, 1e308, 30, 1.5, [], {}, [1], {"a": 1}, 10**30)).map(lambda v: (v, "either"))
EXTRA_FIELDS = ("fsp", "File", " file", "episode id", "", "球", "file\x00", "notes")


@st.composite
def manifest_rows(draw, json_format: bool, faults: int | None) -> list[dict]:
    """Rows as {field: (value, verdict)}: the required fields and some optional ones, valid but for `faults` of
    them (None: any number, and fields left out, unknown fields, a repeated episode id)."""
    good = {"file": paths_good, "episode_id": ids_good, "fps": numbers_good, "prediction_wall_s": numbers_good,
            "calibration": paths_good, "positions_csv": paths_good}
    fuzzed = {"file": paths, "episode_id": ids, "fps": numbers, "prediction_wall_s": numbers, "calibration": paths,
              "positions_csv": paths}
    rows, used = [], set()
    for _ in range(draw(st.integers(0 if faults is None else 1, 4))):
        row = {}
        for field in MANIFEST_FIELDS:
            if field not in ("file", "episode_id") and draw(st.integers(0, 2)) != 0:
                continue
            if faults is None and field in ("file", "episode_id") and draw(st.integers(0, 9)) == 0:
                continue  # a required field left out of this row
            strategy = fuzzed[field] if faults is None else good[field]
            if faults is None and json_format and draw(st.integers(0, 4)) == 0:
                strategy = json_values
            row[field] = draw(strategy)
        if faults is not None:
            row["episode_id"] = draw(ids_good.filter(lambda pair: pair[0] not in used))
            used.add(row["episode_id"][0])
        elif draw(st.integers(0, 9)) == 0:
            row[draw(st.sampled_from(EXTRA_FIELDS))] = ("x", "bad")
        rows.append(row)
    for _ in range(faults or 0):
        row = draw(st.sampled_from(rows))
        field = draw(st.sampled_from(tuple(row)))
        row[field] = draw(st.one_of(fuzzed[field], json_values) if json_format else fuzzed[field])
    if faults is None and len(rows) > 1 and draw(st.integers(0, 4)) == 0:  # the same episode id twice
        rows[-1]["episode_id"] = rows[0].get("episode_id", (GOOD_ID, "good"))
        rows[-1]["duplicate"] = True
    return rows


@st.composite
def manifests(draw) -> dict:
    """A manifest recipe: format, how it is written, its rows. A third are valid, a third have one fault in one
    row, a third anything."""
    json_format = draw(st.booleans())
    kind = draw(st.sampled_from(("valid", "one_fault", "wild")))
    rows = draw(manifest_rows(json_format, {"valid": 0, "one_fault": 1, "wild": None}[kind]))
    if kind != "wild":
        return {"json": json_format, "rows": rows, "suffix": ".json" if json_format else ".csv", "style": "proper",
                "header": "union"}
    suffix = draw(st.sampled_from((".json", ".json", ".JSON", ".txt", "", ".json.bak") if json_format else
                                  (".csv", ".csv", ".CSV", ".txt", "", ".tsv")))
    style = draw(st.sampled_from(("proper", "proper", "proper", "raw", "bom", "crlf", "nul", "latin1", "broken")))
    return {"json": json_format, "rows": rows, "suffix": suffix, "style": style,
            "header": draw(st.sampled_from(("union", "union", "union", "required_only", "shuffled", "none")))}


def write_manifest(recipe: dict, folder: Path, name: str = "manifest") -> Path:
    """The manifest file of a recipe, in `folder`."""
    rows = [{k: v[0] for k, v in row.items() if k != "duplicate"} for row in recipe["rows"]]
    path = folder / f"{name}{recipe['suffix']}"
    style = recipe["style"]
    if recipe["json"]:
        text = json.dumps(rows) if style != "broken" else json.dumps(rows)[:-1]
    else:
        fields = list(dict.fromkeys(k for row in rows for k in row))
        if recipe["header"] == "required_only":
            fields = ["file", "episode_id"]
        elif recipe["header"] == "shuffled":
            fields = fields[::-1]
        buffer = io.StringIO()
        if style == "raw":  # joined by hand: commas, quotes and newlines in values break the columns
            lines = [",".join(fields)] + [",".join(str(row.get(f, "")) for f in fields) for row in rows]
            buffer.write("\n".join(lines) + "\n")
        else:
            writer = csv.writer(buffer, lineterminator="\r\n" if style == "crlf" else "\n")
            if recipe["header"] != "none":
                writer.writerow(fields)
            for row in rows:
                writer.writerow([row.get(f, "") for f in fields] + (["extra"] if style == "broken" else []))
        text = buffer.getvalue()
    if style == "bom":
        text = "\ufeff" + text
    if style == "nul":
        text = text.replace(",", ",\x00", 1) if "," in text else "\x00" + text
    data = text.encode("latin-1", "replace") if style == "latin1" else text.encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    return path


def expected_verdict(recipe: dict) -> str:
    """'good' (must be read, row for row), 'bad' (must be refused) or 'either'."""
    suffix, rows = recipe["suffix"].lower(), recipe["rows"]
    if suffix not in (".csv", ".json") or not rows:
        return "bad"
    proper = recipe["style"] in ("proper", "bom", "crlf") and (recipe["json"] or recipe["header"] in ("union", "shuffled"))
    verdicts = [v for row in rows for k, (_, v) in ((k, v) for k, v in row.items() if k != "duplicate")]
    missing = any(k not in row or row[k][1] == "missing" for row in rows for k in ("file", "episode_id"))
    given = [row["episode_id"][0] for row in rows if "episode_id" in row and isinstance(row["episode_id"][0], str)]
    duplicate = len({i.strip() for i in given}) < len(given)
    if proper and ("bad" in verdicts or missing or duplicate):
        return "bad"
    if proper and set(verdicts) <= {"good"}:
        return "good"
    return "either"


def check_entries(entries, recipe: dict, folder: Path) -> None:
    """What a manifest that was read must give: its rows, located inside the folder, with valid fields."""
    real = folder.resolve()
    assert len(entries) == len(recipe["rows"]) or expected_verdict(recipe) != "good"
    assert len({e.episode_id for e in entries}) == len(entries)
    for entry in entries:
        assert EPISODE_ID.match(entry.episode_id)
        for path in (entry.file, entry.calibration, entry.positions_csv):
            if path is not None:
                assert path == real or real in path.parents, f"{path} is outside {real}"
        for number in (entry.fps, entry.prediction_wall_s):
            assert number is None or (np.isfinite(number) and number >= 0)
        assert entry.fps is None or entry.fps > 0


def check_refusal(error: InputError) -> None:
    assert one_line(str(error)).strip()


def test_any_manifest_is_read_or_refused(tmp_path):
    """1,000 generated manifests (and the examples below) through `read_manifest`."""
    folder, count = make_manifest_folder(tmp_path), Counter()
    good_row = {"file": ("a.mp4", "good"), "episode_id": (GOOD_ID, "good")}

    @settings(FUZZ, max_examples=scaled(1000))
    @given(recipe=manifests())
    @example(recipe={"json": True, "rows": [good_row], "suffix": ".json", "style": "proper", "header": "union"})
    @example(recipe={"json": False, "rows": [good_row], "suffix": ".csv", "style": "proper", "header": "union"})
    @example(recipe={"json": False, "rows": [{**good_row, "file": ("out.mp4", "bad")}], "suffix": ".csv", "style": "proper",
                     "header": "union"})
    @example(recipe={"json": True, "rows": [{**good_row, "file": ("loop.mp4", "bad")}], "suffix": ".json", "style": "proper",
                     "header": "union"})
    @example(recipe={"json": True, "rows": [{**good_row, "fps": (True, "bad")}], "suffix": ".json", "style": "proper",
                     "header": "union"})
    @example(recipe={"json": False, "rows": [good_row, {**good_row, "duplicate": True}], "suffix": ".csv", "style": "proper",
                     "header": "union"})
    def one_case(recipe):
        count()
        path = write_manifest(recipe, folder, f"m{count.n}")
        verdict = expected_verdict(recipe)
        try:
            try:
                entries = read_manifest(path)
            except InputError as error:
                assert verdict != "good", f"refused a valid manifest: {error}"
                check_refusal(error)
                count.ended(f"refused ({verdict})")
                return
            count.ended(f"read ({verdict})")
            assert verdict != "bad", f"read a manifest that must be refused: {path.read_bytes()[:300]!r}"
            check_entries(entries, recipe, folder)
        finally:
            path.unlink()

    one_case()
    print(f"manifests read or refused: {count}")
    assert count.n >= scaled(1000)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '[{"file": "a.mp4", "episode_id": "%s"}' % GOOD_ID + "]" * 50,
                                  "[NaN]", '[{"file": "a.mp4", "file": "../x.mp4", "episode_id": "%s"}]' % GOOD_ID, "\ufeff[]", "",
                                  '{"file": "a.mp4"}', '[{"file": "a.mp4", "episode_id": "%s", "fps": NaN}]' % GOOD_ID,
                                  '[{"file": "a.mp4", "episode_id": "%s", "fps": 1e999}]' % GOOD_ID])
def test_odd_json_manifests_are_refused(tmp_path, text):
    """JSON that parses to something odd or not at all (deep nesting, NaN, a repeated key whose last value leaves the
    folder): one InputError."""
    folder = make_manifest_folder(tmp_path)
    (folder / "m.json").write_text(text)
    with pytest.raises(InputError) as error:
        read_manifest(folder / "m.json")
    check_refusal(error.value)


def test_manifest_paths_that_are_not_files(tmp_path):
    folder = make_manifest_folder(tmp_path)
    for path in (folder / "dir.mp4", folder / "nope.csv", folder / "loop.mp4", Path("/dev/null")):
        with pytest.raises(InputError):
            read_manifest(path)


# --------------------------------------------------------------------------------------------------
# Videos imported into a dataset

FPS = 10
SIZE = 32


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A dataset with one drop context (32 px, 10 fps, rgb) and square clips that fit it: its own video, H.264 at
    48 px, 20 fps, 2 frames (too short) and 48x32 (another aspect)."""
    from realitygap.pipeline import plan_contexts, simulate_dataset
    from tests.helpers import write_mp4

    base = tmp_path_factory.mktemp("fuzz-import")
    dataset = base / "data"
    rig = RigConfig(sensors=("rgb",), camera=CameraConfig(width=SIZE, height=SIZE, fps=FPS))
    (context,) = plan_contexts("drop", 1, 0, {"height_m": 0.5}, rig)
    simulate_dataset([context], dataset)
    own = episode_dir(dataset, "sim", context.episode_id) / "rgb.mkv"
    with av.open(str(own)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    squares = base / "squares"
    squares.mkdir()
    templates = {"own.mkv": Path(shutil.copyfile(own, squares / "own.mkv")),
                 "sq48.mp4": write_mp4(squares / "sq48.mp4", frames, FPS, size=(48, 48)),
                 "sq20.mp4": write_mp4(squares / "sq20.mp4", np.repeat(frames, 2, axis=0), 2 * FPS),
                 "short.mp4": write_mp4(squares / "short.mp4", frames[:2], FPS),
                 "wide.mp4": write_mp4(squares / "wide.mp4", frames, FPS, size=(48, 32))}
    calibration = {"fx_px": 40.0, "fy_px": 40.0, "cx_px": 16.0, "cy_px": 16.0, "width_px": 32, "height_px": 32}
    (squares / "calib.json").write_text(json.dumps(calibration))
    (squares / "pos.csv").write_text("t_s,x_m,y_m,z_m\n0,0,0,1\n0.1,0,0,0.95\n")
    (squares / "deep.json").write_text("[" * 100_000 + "]" * 100_000)  # a RecursionError in json
    return {"dataset": dataset, "id": context.episode_id, "templates": templates, "squares": squares, "n_frames": len(frames),
            "root": base}


SQUARES = ("own.mkv", "sq48.mp4", "sq20.mp4", "short.mp4", "wide.mp4")
square_recipes = st.one_of(
    st.tuples(st.just("copy"), st.sampled_from(SQUARES), st.sampled_from((".mkv", ".mp4", ".mov", ".avi", ""))),
    st.tuples(st.just("truncate"), st.sampled_from(SQUARES), st.floats(0.0, 1.0), st.sampled_from((".mp4", ".mkv"))),
    st.tuples(st.just("flip"), st.sampled_from(SQUARES),
              st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4)),
)
"""measure-clip's copy, truncate and flip recipes (its `make_input`) on clips of the context's shape."""
fitting_clips = st.tuples(st.just("copy"), st.sampled_from(("own.mkv", "sq48.mp4", "sq20.mp4")), st.just(".mp4"))
video_recipes = st.one_of(fitting_clips, square_recipes, square_recipes, file_recipes)
"""A quarter are clips that import, half the context's shape mutated, a quarter measure-clip's files."""
extras = st.just({}) | st.fixed_dictionaries({}, optional={
    "fps": st.sampled_from(("10", "20", "5", "0", "-1", "nan", "1e-300", "1e300", "abc")),
    "calibration": st.sampled_from(("calib.json", "missing.json", "clip.mp4", "../calib.json", "deep.json")),
    "positions_csv": st.sampled_from(("pos.csv", "calib.json", "missing.csv")),
    "prediction_wall_s": st.sampled_from(("12.5", "0", "-1", "inf")),
    "episode_id": st.sampled_from(("unknown", "upper", "twice")),
})


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_import_case(world: dict, templates: dict, recipe: tuple, extra: dict, where: Path) -> tuple[Path, list[dict]]:
    """The video of `recipe` in `where` (the manifest's folder) and a CSV manifest of one row for it (two when
    the episode id is given twice)."""
    for name in ("calib.json", "pos.csv", "deep.json"):
        shutil.copyfile(world["squares"] / name, where / name)
    video = make_input(recipe, {**templates, **world["templates"]}, where)
    row = {"file": os.path.relpath(video, where), "episode_id": world["id"]}
    row.update({k: v for k, v in extra.items() if k != "episode_id"})
    kind = extra.get("episode_id")
    if kind == "unknown":
        row["episode_id"] = OTHER_ID
    elif kind == "upper":
        row["episode_id"] = world["id"].upper()
    rows = [row, dict(row)] if kind == "twice" else [row]
    fields = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(fields)] + [",".join(f'"{r.get(f, "")}"' for f in fields) for r in rows]
    (where / "manifest.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))
    return where / "manifest.csv", rows


def check_import(world: dict, target: Path, before: dict, outcome: list[str] | InputError) -> None:
    """Imported: complete, verified episodes in the index. Refused: one line, and the dataset unchanged."""
    if isinstance(outcome, InputError):
        check_refusal(outcome)
        assert snapshot(target) == before if target.exists() else True, "a refused import changed the dataset"
        return
    assert outcome == [world["id"]]
    folder = episode_dir(target, "video", world["id"])
    assert verify_episode(folder), "an imported episode does not verify"
    index = read_index(target)
    assert world["id"] in {str(e) for e, s in zip(index["episode_id"], index["source"]) if s == "video"}
    meta = json.loads((folder / "episode.json").read_text())
    assert 2 * meta["n_frames"] >= world["n_frames"]  # at least half of the context's frames


def test_any_video_is_imported_or_refused(world, corpus):  # noqa: F811 (the fixture imported above)
    """400 generated videos (and the examples below) in one-row manifests, imported with `import_videos`."""
    from realitygap.sources.video import import_videos

    folders, count = [0], Counter()

    @settings(FUZZ, max_examples=scaled(400))
    @given(recipe=video_recipes, extra=extras, into_dataset=st.booleans())
    @example(recipe=("copy", "own.mkv", ".mkv"), extra={}, into_dataset=True)
    @example(recipe=("copy", "sq48.mp4", ".mp4"), extra={"calibration": "calib.json", "positions_csv": "pos.csv"},
             into_dataset=False)
    @example(recipe=("copy", "sq20.mp4", ".mp4"), extra={"fps": "20"}, into_dataset=True)
    @example(recipe=("copy", "zero_frames.mkv", ".mkv"), extra={}, into_dataset=True)
    @example(recipe=("copy", "one_frame.mp4", ".mp4"), extra={}, into_dataset=True)
    @example(recipe=("truncate", "own.mkv", 0.5, ".mkv"), extra={}, into_dataset=True)
    @example(recipe=("copy", "own.mkv", ".mkv"), extra={"fps": "1e-300"}, into_dataset=True)
    @example(recipe=("copy", "own.mkv", ".mkv"), extra={"fps": "1e300"}, into_dataset=True)
    @example(recipe=("odd_name", b"\xff"), extra={}, into_dataset=False)
    @example(recipe=("copy", "own.mkv", ".mkv"), extra={"calibration": "deep.json"}, into_dataset=True)  # RecursionError
    def one_case(recipe, extra, into_dataset):
        count()
        with case_folder(world["root"], folders) as where:
            clips = where / "clips"
            clips.mkdir()
            manifest, _ = make_import_case(world, corpus, recipe, extra, clips)
            if into_dataset:
                target = Path(shutil.copytree(world["dataset"], where / "data"))
                out_root = None
            else:
                target = out_root = where / "out"
            before = snapshot(target) if target.exists() else {}
            try:
                outcome = import_videos(manifest, target if into_dataset else world["dataset"], out_root=out_root)
            except InputError as error:
                outcome = error
            count.ended("refused" if isinstance(outcome, InputError) else "imported")
            check_import(world, target, before, outcome)
            if not into_dataset and isinstance(outcome, InputError):
                assert not out_root.exists(), "a refused import created --out"
            assert snapshot(world["dataset"]) == world.setdefault("pristine", snapshot(world["dataset"]))

    one_case()
    print(f"videos imported or refused: {count}")
    assert count.n >= scaled(400)


def test_video_import_on_the_command_line(world, corpus):  # noqa: F811
    """100 generated `realitygap predict --source video --manifest M` command lines (and the examples below)."""
    folders, count = [0], Counter()

    @settings(FUZZ, max_examples=scaled(100))
    @given(recipe=st.one_of(fitting_clips, video_recipes), extra=st.one_of(st.just({}), extras),
           manifest_kind=st.sampled_from(("one_row", "one_row", "fuzzed", "folder", "missing")),
           fuzzed=manifests(), out=st.sampled_from(("none", "fresh", "file", "junk")))
    @example(recipe=("copy", "own.mkv", ".mkv"), extra={}, manifest_kind="one_row",
             fuzzed={"json": True, "rows": [], "suffix": ".json", "style": "proper", "header": "union"}, out="fresh")
    def one_case(recipe, extra, manifest_kind, fuzzed, out):
        count()
        with case_folder(world["root"], folders) as where:
            clips = where / "clips"
            clips.mkdir()
            manifest, _ = make_import_case(world, corpus, recipe, extra, clips)
            if manifest_kind == "fuzzed":
                shutil.rmtree(clips)
                manifest = write_manifest(fuzzed, make_manifest_folder(where))
            elif manifest_kind == "folder":
                manifest = clips
            elif manifest_kind == "missing":
                manifest = clips / "nope.csv"
            dataset = Path(shutil.copytree(world["dataset"], where / "data"))
            before = snapshot(dataset)
            out_args, out_dir = [], None
            if out != "none":
                out_dir = where / "out"
                if out == "file":
                    out_dir.write_text("a file")
                elif out == "junk":
                    out_dir.mkdir()
                    (out_dir / "notes.txt").write_text("not a dataset")
                out_args = ["--out", out_dir]
            outcome = run_realitygap(["predict", "--source", "video", "--contexts", dataset, "--manifest", manifest, *out_args],
                                     where)
            count.ended(outcome.how)
            check_outcome(outcome, roots=[where], new_outs=[out_dir] if out == "fresh" else [])
            target = out_dir if out_dir is not None else dataset
            if outcome.code == 2 and out_dir is None:
                assert snapshot(dataset) == before, "a refused import changed the dataset"
            if outcome.code == 0:
                assert verify_episode(episode_dir(target, "video", world["id"]))

    one_case()
    print(f"predict --source video command lines: {count}")
    assert count.n >= scaled(100)


def test_an_episode_video_resampled_in_time_is_imported(world, tmp_path):
    """The fuzz's valid path works at all: the context's own video at twice its rate, with fps given."""
    from realitygap.sources.video import import_videos

    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copyfile(world["templates"]["sq20.mp4"], clips / "v.mp4")
    (clips / "m.json").write_text(json.dumps([{"file": "v.mp4", "episode_id": world["id"], "fps": 20}]))
    assert import_videos(clips / "m.json", world["dataset"], out_root=tmp_path / "out") == [world["id"]]
    assert verify_episode(episode_dir(tmp_path / "out", "video", world["id"]))
    meta = json.loads((episode_dir(tmp_path / "out", "video", world["id"]) / "episode.json").read_text())
    assert meta["rates_hz"]["camera"] == FPS and meta["import"]["original"]["fps_manifest"] == 20
