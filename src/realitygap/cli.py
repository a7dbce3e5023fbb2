"""`realitygap ...` commands. The CLI only parses options and calls library functions.

Every user-facing problem (bad scenario, parameter, sensor, folder) ends as one line on stderr
and exit code 2; no traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import List, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from realitygap.carboncopy.cli import carboncopy_command
from realitygap.core.rig import SENSOR_NAMES
from realitygap.episode.export.cli import export_command
from realitygap.report.terminal import headline_table, prompt_spec_renderables, ratio_cell
from realitygap.runtime.errors import InputError, RealitygapError, RealitygapWarning, escaping_undecodable_paths, one_line
from realitygap.runtime.executor import executor_from_options
from realitygap.worldmodel.cli import worldmodel_app

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure whether a data source is good enough to train perception models for the physical world.",
)
out = Console()
if not out.is_terminal:
    out.width = 160  # piped or captured output: wide tables rather than wrapped laws
err = Console(stderr=True)

app.add_typer(worldmodel_app, name="worldmodel")
app.command("carboncopy")(carboncopy_command)
app.command("export")(export_command)

DEFAULT_RUN_DIR = Path("realitygap-out")
EXIT_IMPLAUSIBLE = 3
"""Exit codes: 0 done (measure-clip: measured), 2 bad input (one line on stderr), 3 measure-clip's result is
physically implausible (the summary line says why and what to do), 130 interrupted."""


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


EXECUTOR = typer.Option("local", "--executor", help="local: a pool of --workers processes; ray: a local instance of --workers CPUs")
ADDRESS = typer.Option(None, "--address", help="--executor ray: join this cluster instead (HOST:PORT of `ray start --head`, or auto)")


@app.command()
def scenarios() -> None:
    """List the registered scenarios with their parameter domains and declared laws."""
    from realitygap.scenarios import get_scenario, scenario_names

    table = Table(title="realitygap scenarios", show_lines=True)
    table.add_column("scenario", style="bold")
    table.add_column("parameters (domain, default)")
    table.add_column("declared law")
    for name in scenario_names():
        spec = get_scenario(name)
        params = "\n".join(f"{p.name}: {p.domain_text()} (default {p.default})" for p in spec.parameters)
        table.add_row(f"{name}\n[dim]{spec.summary}[/dim]", params, spec.law)
    out.print(table)


@app.command()
def simulate(
    scenario: Optional[str] = typer.Argument(None, help="scenario name (see `realitygap scenarios`); or --prompt"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="describe the scene instead of naming SCENARIO, "
                                         "e.g. 'a red ball dropped from 2 m onto the floor'"),
    n: int = typer.Option(1, "--n", help="number of episodes"),
    seed: int = typer.Option(0, "--seed", min=0, help="dataset seed; episode i is the same for any --n"),
    out_dir: Path = typer.Option(..., "--out", help="dataset folder (created; resumable)"),
    param: List[str] = typer.Option([], "--param", help="fix a parameter: name=value (repeatable)"),
    sensors: str = typer.Option(",".join(SENSOR_NAMES), "--sensors", help="comma-separated sensors"),
    size: int = typer.Option(256, "--size", help="image width and height in pixels"),
    fps: int = typer.Option(30, "--fps", help="camera frame rate"),
    workers: int = typer.Option(1, "--workers", help="local worker processes"),
    executor: str = EXECUTOR, address: Optional[str] = ADDRESS,
) -> None:
    """Simulate N episodes of SCENARIO, or of the scene a --prompt describes (ground truth, source 'sim'), into a
    dataset. A prompt fixes every parameter (what it does not say takes the default); the spec is printed first."""
    from realitygap.pipeline import plan_contexts

    if (scenario is None) == (prompt is None):
        raise InputError("give either a SCENARIO or --prompt TEXT (exactly one of them)")
    rig = rig_from_options(sensors, size, fps)
    runner = executor_from_options(executor, workers, address)
    fixed: dict = parse_params(param)
    setup_timing = None
    if prompt is not None:
        from realitygap.prompts.embed import shared_encoder
        from realitygap.prompts.parse import parse_prompt

        spec = parse_prompt(prompt, shared_encoder()).with_options(fixed)
        for renderable in prompt_spec_renderables(spec):
            out.print(renderable)
        scenario, fixed, setup_timing = spec.scenario, spec.params, spec.setup_timing()
    contexts = plan_contexts(str(scenario), n, seed, fixed, rig, prompt=prompt)
    outcomes = _simulate_with_progress(contexts, out_dir, runner, f"simulate {scenario}", setup_timing)
    skipped = sum(o.skipped for o in outcomes)
    out.print(f"simulated {len(outcomes) - skipped} episodes ({skipped} already complete) into {out_dir}")


@app.command()
def predict(
    source: str = typer.Option(..., "--source", help="source name: sim, a negative control or video (see `realitygap sources`)"),
    contexts: Path = typer.Option(..., "--contexts", help="dataset whose ground-truth contexts are predicted"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="dataset to write into (default: the --contexts dataset)"),
    manifest: Optional[Path] = typer.Option(None, "--manifest", help="video source: CSV/JSON mapping files to episode ids"),
    model: Optional[Path] = typer.Option(None, "--model", help="learned sources: worldmodel checkpoint file (default: the "
                                         "shipped one) or diffusers pipeline folder (local; nothing is downloaded)"),
    workers: int = typer.Option(1, "--workers", help="local worker processes"),
    executor: str = EXECUTOR, address: Optional[str] = ADDRESS,
) -> None:
    """Predict every context of a dataset with a source, into the same episode format."""
    from realitygap.episode.dataset import read_index
    from realitygap.pipeline import predict_dataset
    from realitygap.runtime.progress import progress_bar
    from realitygap.sources.registry import check_source_name

    if source == "video":
        from realitygap.sources.video import import_videos

        if manifest is None:
            raise InputError("--source video needs --manifest FILE (see `realitygap contexts` for a template)")
        ids = import_videos(manifest, contexts, source_name="video", out_root=out_dir)
        out.print(f"imported {len(ids)} videos into {out_dir or contexts} (source video)")
        return
    check_source_name(source)
    runner = executor_from_options(executor, workers, address)
    if model is not None:
        from realitygap.sources.registry import MODEL_ENV

        if source not in MODEL_ENV:
            raise InputError(f"--model applies to the learned sources ({', '.join(MODEL_ENV)}), not {source!r}")
        if not model.exists():
            raise InputError(f"--model {model} does not exist")
        os.environ[MODEL_ENV[source]] = str(model.resolve())
    total = sum(1 for s in read_index(contexts)["source"] if s == "sim")
    with progress_bar(err) as bar:
        task = bar.add_task(f"predict {source}", total=total)
        outcomes = predict_dataset(source, contexts, out_dir, workers=runner, on_done=lambda i, o: bar.advance(task))
    skipped = sum(o.skipped for o in outcomes)
    out.print(f"predicted {len(outcomes) - skipped} episodes with {source} ({skipped} already complete) "
              f"into {out_dir or contexts}")


@app.command()
def sources() -> None:
    """List the sources: the reference twin and the negative controls with their defects."""
    from realitygap.sources.registry import source_descriptions

    table = Table(title="realitygap sources")
    table.add_column("source", style="bold")
    table.add_column("what it is")
    for name, description in source_descriptions().items():
        table.add_row(name, description)
    table.add_row("video", "videos made elsewhere (any text/image-to-video model or a real camera), imported through "
                  "a manifest: `realitygap predict --source video --manifest M --contexts DATASET`")
    out.print(table)


@app.command()
def contexts(
    dataset: Path = typer.Argument(..., help="dataset folder"),
    out_dir: Path = typer.Option(..., "--out", help="folder for prompts.jsonl, first frames and a manifest template"),
) -> None:
    """Export what a user needs to generate matching videos elsewhere: prompts, conditioning frames."""
    from realitygap.sources.video import export_contexts

    path = export_contexts(dataset, out_dir)  # checks the dataset before it makes --out
    out.print(f"contexts: {path}")


@app.command()
def info(dataset: Path = typer.Argument(..., help="dataset folder")) -> None:
    """Summarise a dataset: sources, scenarios, episodes, frames, integrity."""
    from realitygap.report.summary import dataset_summary

    summary = dataset_summary(dataset)
    table = Table(title=f"{dataset}  (format v{summary['format_version']}, realitygap {summary['realitygap_version']})")
    for column in ("source", "scenario", "episodes", "frames", "duration s", "train/test", "verified"):
        table.add_column(column)
    for row in summary["groups"]:
        table.add_row(row["source"], row["scenario"], str(row["episodes"]), str(row["frames"]),
                      f"{row['duration_s']:.1f}", f"{row['train']}/{row['test']}",
                      f"{row['verified']}/{row['episodes']}")
    out.print(table)
    out.print(f"{summary['episodes']} episodes, {summary['bytes'] / 1e6:.1f} MB; sensors: {', '.join(summary['sensors'])}")


@app.command()
def measure(
    dataset: Path = typer.Argument(..., help="dataset folder"),
    workers: int = typer.Option(_default_workers(), "--workers", help="local worker processes"),
    executor: str = EXECUTOR, address: Optional[str] = ADDRESS,
) -> None:
    """Measure every episode from its RGB video (tracks, law fits, permanence, Physics-IQ) against ground
    truth; writes measurements.parquet and error_floor.parquet. Episodes already measured are skipped."""
    import pyarrow.parquet as pq

    from realitygap.measure.pipeline import ERROR_FLOOR_PARQUET, measure_dataset, verify_dataset
    from realitygap.runtime.progress import progress_bar

    runner = executor_from_options(executor, workers, address)
    verify_dataset(dataset)  # one clear error for a folder that is no dataset or a corrupt episode, before any output
    with progress_bar(err) as bar:
        task = bar.add_task("measure", total=None)
        path = measure_dataset(dataset, workers=runner, on_done=lambda i, r: bar.advance(task),
                               on_total=lambda n: bar.update(task, total=n))
    floor = pq.read_table(Path(dataset) / ERROR_FLOOR_PARQUET).to_pylist()
    table = Table(title="error floor (measured from RGB vs ground truth, ground-truth episodes)")
    for column in ("scenario", "quantity", "episodes", "max |error|", "max rel"):
        table.add_column(column)
    for row in floor:
        rel = row["max_rel_error"]
        table.add_row(row["scenario"], row["quantity"], str(row["episodes"]), f"{row['max_abs_error']:.4g} {row['unit']}",
                      "" if rel != rel else f"{100 * rel:.2f} %")
    out.print(table)
    out.print(f"measurements: {path}")


@app.command()
def score(
    dataset: Path = typer.Argument(..., help="measured dataset folder (after `realitygap measure`)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="folder for results.parquet and results.json (default: DATASET)"),
    seed: int = typer.Option(0, "--seed", min=0, help="seed of the bootstrap intervals"),
) -> None:
    """Score every source of a measured dataset against the twin: precision, consistency, explanative value,
    efficiency (and distribution metrics and 3i), with bootstrap intervals; writes results.parquet / results.json."""
    from realitygap.scorecard.score import score_dataset

    card = score_dataset(dataset, out_dir, seed)
    out.print(headline_table(card.rows, card.sources))
    out.print(f"results: {card.parquet} ({len(card.rows)} rows), {card.json}")


@app.command()
def run(
    out_dir: Path = typer.Option(DEFAULT_RUN_DIR, "--out", help="output folder"),
    n: int = typer.Option(2, "--n", help="episodes per scenario"),
    seed: int = typer.Option(0, "--seed", min=0),
    sources: str = typer.Option("worldmodel", "--sources", help="comma-separated sources that predict the same contexts "
                                "and are compared with the twin (e.g. worldmodel,low_gravity; empty: none)"),
    controls: bool = typer.Option(True, "--controls/--no-controls",
                                  help="also predict, with every negative control, one context of a scenario its defect "
                                       "shows on (the report's sanity panel)"),
    workers: int = typer.Option(_default_workers(), "--workers", help="local worker processes"),
    executor: str = EXECUTOR, address: Optional[str] = ADDRESS,
) -> None:
    """The main job on the embedded default: simulate every scenario, predict the same contexts with the other
    sources (default: the built-in world model) and, on a few contexts, with every negative control; measure
    everything from RGB, score every source and write the report, verdict first."""
    from realitygap.pipeline import run_main_job
    from realitygap.runtime.progress import progress_bar

    others = [name.strip() for name in sources.split(",") if name.strip()]
    runner = executor_from_options(executor, workers, address)
    with progress_bar(err) as bar, runner.session():  # Ray: one connection for every stage
        page = run_main_job(out_dir, n, seed, others, runner, progress=bar, controls=controls)
    out.print(f"report: {page.resolve()}")


@app.command()
def downstream(
    dataset: Path = typer.Argument(..., help="dataset folder: the planned contexts are simulated into it when missing (resumable)"),
    sources: str = typer.Option("default", "--sources", help="comma-separated sources to train on (sim = ground truth; "
                                "'default': sim, worldmodel and every negative control; 'sim+CONTROL': half of each)"),
    tasks: str = typer.Option("parameters,localisation,depth_position", "--tasks", help="comma-separated tasks"),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="model seeds per training set (default 3; quick 1)"),
    n_train: Optional[int] = typer.Option(None, "--n-train", help="train contexts per scenario (default 16; quick 4)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="folder for downstream.json/.parquet and the report "
                                           "(default: DATASET/downstream)"),
    curves: str = typer.Option("all", "--curves", help="sources that also get mixes with ground truth and data-size curves: "
                               "'all' (every source but sim), 'none' or a comma-separated list"),
    validity: bool = typer.Option(False, "--validity", help="also score the dataset and correlate the scorecard with the "
                                  "transfer ratios"),
    quick: bool = typer.Option(False, "--quick", help="a small run (drop and slide, 4 train contexts, short training): "
                               "minutes become seconds"),
    seed: int = typer.Option(0, "--seed", min=0, help="dataset seed (contexts) and bootstrap seed"),
    workers: int = typer.Option(_default_workers(), "--workers", help="local worker processes"),
    executor: str = EXECUTOR, address: Optional[str] = ADDRESS,
) -> None:
    """Train small models on each source's episodes, test them on held-out ground truth, and report the transfer
    ratio (and, with --validity, how well the scorecard predicts it)."""
    from realitygap.downstream.plan import DownstreamConfig, default_sources, quick_config
    from realitygap.downstream.run import run_downstream
    from realitygap.report.downstream import write_downstream_report
    from realitygap.runtime.progress import progress_bar

    names = default_sources() if sources.strip() == "default" else tuple(n.strip() for n in sources.split(",") if n.strip())
    fields = {"sources": names, "tasks": tuple(t.strip() for t in tasks.split(",") if t.strip()), "dataset_seed": seed,
              **({"seeds": seeds} if seeds is not None else {}),
              **({} if curves.strip() == "all" else {"curve_sources": () if curves.strip() == "none" else
                                                     tuple(c.strip() for c in curves.split(",") if c.strip())})}
    config = quick_config(**fields) if quick else DownstreamConfig(**fields)
    if n_train is not None:
        config = DownstreamConfig(**{**config.model_dump(), "n_train": n_train})
    out_dir = out_dir or Path(dataset) / "downstream"
    runner = executor_from_options(executor, workers, address)
    with progress_bar(err) as bar, runner.session():
        document = run_downstream(dataset, out_dir, config, workers=runner, progress=bar, validity=validity, seed=seed)
    page = write_downstream_report(document, out_dir)
    table = Table("source", *config.tasks, title="transfer ratio (1 = as good as training on ground truth; 95 % interval)")
    cells = {(r["source"], r["task"]): r for r in document["summary"] if r["kind"] == "transfer"}
    for source in ("sim",) + tuple(s for s in config.sources if s != "sim"):
        table.add_row(source, *[ratio_cell(cells.get((source, t))) for t in config.tasks])
    out.print(table)
    out.print(f"report: {page.resolve()}")


def _simulate_with_progress(contexts, out_dir: Path, workers, label: str, setup_timing: dict | None = None):
    from realitygap.episode.dataset import ensure_writable_dir
    from realitygap.pipeline import simulate_dataset
    from realitygap.runtime.progress import progress_bar

    ensure_writable_dir(out_dir)
    with progress_bar(err) as bar:
        task = bar.add_task(label, total=len(contexts))
        return simulate_dataset(contexts, out_dir, workers=workers, on_done=lambda i, o: bar.advance(task),
                                setup_timing=setup_timing)


@app.command("measure-clip")
def measure_clip(
    video: Optional[Path] = typer.Argument(None, help="video file, or a realitygap episode (folder or its rgb video); "
                                           "with --reference: the generated clip"),
    law: Optional[str] = typer.Option(None, "--law", help="the law: a scenario with a clip fit (drop, projectile, bounce, "
                                      "pendulum, slide); with --pairs: for rows without a law column"),
    out_dir: Path = typer.Option(..., "--out", help="folder for clip.json and clip.html (paired: paired.json, paired.html)"),
    reference: Optional[Path] = typer.Option(None, "--reference", help="paired mode: the real take VIDEO continues (same "
                                             "camera); reports VIDEO's physics as unit-free ratios to it"),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="paired mode for many pairs: CSV (generated,reference[,law]) "
                                         "or JSON list; paths relative to it"),
    fps: Optional[float] = typer.Option(None, "--fps", help="capture rate; wins over the file's timestamps and metadata"),
    scale: Optional[float] = typer.Option(None, "--scale", help="pixels (of the file) per metre at the object's distance"),
    object_diameter: Optional[float] = typer.Option(None, "--object-diameter",
                                                    help="object diameter in metres (scale from its apparent size)"),
    calibration: Optional[Path] = typer.Option(None, "--calibration", help="camera calibration JSON (fx_px .. T_world_camera)"),
    object_spec: str = typer.Option("auto", "--object", help="object colour (name, #rrggbb, r,g,b) or auto (the most coherently moving)"),
    roi: Optional[str] = typer.Option(None, "--roi", help="x,y,w,h region to search, file pixels"),
    frames: Optional[str] = typer.Option(None, "--frames", help="a:b, track and fit frames a..b-1 only (default: all, automatic windows)"),
    length_m: Optional[float] = typer.Option(None, "--length-m", help="pendulum length (pivot to centre of mass) in metres, for g"),
    readout_ms: Optional[float] = typer.Option(None, "--readout-ms", help="rolling-shutter readout, top to bottom row, in ms "
                                               "(0: global shutter); default: estimated from a free flight"),
    max_side: int = typer.Option(960, "--max-side", help="downscale larger frames to this long side while decoding; 0: never"),
) -> None:
    """Measure the physics in any clip: g, restitution, period, friction with uncertainties. With --reference REAL (or
    --pairs FILE): the generated clip's physics against the real take it continues, as unit-free ratios (g ratio,
    restitution, fall time, period) with uncertainties. Exit code 0: measured; 3: implausible (not a physically
    possible result: the line says why and what to do); 2: bad input."""
    from realitygap.clip.measure import ClipOptions, measure_clip_video
    from realitygap.clip.report import write_clip_report
    from realitygap.episode.dataset import ensure_writable_dir

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} is an existing file: give a folder for clip.json and clip.html")
    if reference is not None or pairs is not None:  # paired mode
        from realitygap.clip.paired import measure_pairs
        from realitygap.clip.paired_manifest import pair_specs
        from realitygap.clip.paired_report import write_paired_report

        specs = pair_specs(video, reference, pairs, law)
        ensure_writable_dir(out_dir)
        results = measure_pairs(specs, dict(fps=fps, scale_px_per_m=scale, object_diameter_m=object_diameter,
                                            calibration=calibration, object=object_spec,
                                            roi=_int_tuple(roi, 4, "--roi", "x,y,w,h"),
                                            frames=_int_tuple(frames, 2, "--frames", "a:b"), length_m=length_m,
                                            readout_ms=readout_ms, max_side_px=max_side))
        write_paired_report(results, out_dir)
        for result in results:
            for warning in result.warnings:
                print(f"warning: {result.name + ': ' if result.name else ''}{warning}", file=sys.stderr)
            print(f"{result.name}: {result.summary()}" if result.name else result.summary())
        if any(result.implausible for result in results):
            raise typer.Exit(EXIT_IMPLAUSIBLE)
        return
    if video is None or law is None:
        raise InputError("measure-clip needs VIDEO and --law LAW (or --reference REAL / --pairs FILE for paired mode)")
    from realitygap.clip.report import CLIP_REPORT_FILES

    for name in CLIP_REPORT_FILES:  # before any work: the report must be writable whole
        if (out_dir / name).is_dir():
            raise InputError(f"--out {out_dir}: {name} there is a folder; give a folder without one")

    options = ClipOptions(law=law, fps=fps, scale_px_per_m=scale, object_diameter_m=object_diameter, calibration=calibration,
                          object=object_spec, roi=_int_tuple(roi, 4, "--roi", "x,y,w,h"),
                          frames=_int_tuple(frames, 2, "--frames", "a:b"), length_m=length_m, readout_ms=readout_ms,
                          max_side_px=max_side)
    ensure_writable_dir(out_dir)  # before any work: a folder that cannot be written fails now, in one line
    measurement = measure_clip_video(video, options)
    write_clip_report(measurement, out_dir)
    for warning in measurement.timebase.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(measurement.summary())
    if measurement.implausible:
        raise typer.Exit(EXIT_IMPLAUSIBLE)


MAX_INDEX = 2**31 - 1
"""Largest pixel or frame number --roi and --frames accept."""


def _int_tuple(text: Optional[str], n: int, option: str, form: str):
    if text is None:
        return None
    parts = text.replace(":", ",").split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != n or (n == 2 and not 0 <= values[0] < values[1]):
        raise InputError(f"{option} expects {form} (whole numbers{', a < b' if n == 2 else ''}), got {text!r}")
    if any(abs(v) > MAX_INDEX for v in values):  # a pixel or frame number, not one that overflows a float
        raise InputError(f"{option} {text!r}: pixel and frame numbers must be at most {MAX_INDEX}")
    return values


def parse_params(items: List[str]) -> dict[str, str]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param expects name=value, got {item!r}")
        if name.strip() in params:  # not silently the last one
            raise InputError(f"--param {name.strip()} is given twice ({params[name.strip()]!r} and {value.strip()!r}); give it once")
        params[name.strip()] = value.strip()
    return params


def rig_from_options(sensors: str, size: int, fps: int):
    from realitygap.core.rig import CameraConfig, RigConfig

    names = tuple(s.strip() for s in sensors.split(",") if s.strip())
    return RigConfig(sensors=names, camera=CameraConfig(width=size, height=size, fps=fps))


def _validation_message(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return f"{error.title} {where}: {message}" if where else f"{error.title}: {message}"


def _show_warning(message, category, filename, lineno, file=None, line=None, default=warnings.showwarning) -> None:
    """Our warnings as one 'warning: ...' line on stderr; others as Python shows them."""
    if issubclass(category, RealitygapWarning):
        print(f"warning: {one_line(str(message))}", file=sys.stderr)
    else:
        default(message, category, filename, lineno, file, line)


def main(argv: Optional[list[str]] = None) -> None:
    with warnings.catch_warnings(), escaping_undecodable_paths():
        warnings.showwarning = _show_warning
        _main(sys.argv[1:] if argv is None else argv)


def _main(argv: list[str]) -> None:
    """Run one command; map every user-facing error to one line on stderr and exit code 2."""
    try:
        code = app(args=argv or ["--help"], standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C (KeyboardInterrupt) into this return code, not an exception
            raise KeyboardInterrupt
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: unknown option, missing argument, bad type
        print(f"error: {one_line(error.format_message())}", file=sys.stderr)
        sys.exit(2)
    except ValidationError as error:
        print(f"error: {one_line(_validation_message(error))}", file=sys.stderr)
        sys.exit(2)
    except RealitygapError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # the file system refused a path given: a folder where a file goes, too long a name, full disk
        path = error.filename2 or error.filename  # a rename's target, else the path
        where = f": {path}" if path else ""
        print(f"error: {one_line(f'{error.strerror or error}{where}')}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; finished episodes are kept, unfinished ones were removed", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
