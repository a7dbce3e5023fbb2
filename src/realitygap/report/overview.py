"""The report page: the verdict first (the scorecard of every source against the twin, `report.verdict`),
then every ground-truth episode with a frame strip, its law check and a trajectory plot, then every
other source of the dataset against the twin."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from realitygap import __version__
from realitygap.episode.dataset import read_index
from realitygap.episode.io import read_episode
from realitygap.report.sources import REFERENCE, compare_sources, prediction_cost, source_descriptions_of
from realitygap.report.summary import dataset_summary
from realitygap.report.verdict import verdict_context
from realitygap.scenarios import get_scenario

STRIP_FRAMES = 8
STRIP_HEIGHT_PX = 128


def write_overview(dataset_root: Path, report_dir: Path) -> Path:
    """Write report_dir/index.html (+ assets/) for the dataset; returns the page path."""
    report_dir = Path(report_dir)
    assets = report_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    index = read_index(dataset_root)
    rows = _measurement_rows(Path(dataset_root))
    from_rgb = {(r["episode_id"], r["quantity"]): r for r in rows if r["source"] == REFERENCE}
    sections: dict[str, list[dict]] = {}
    strips: dict[tuple[str, str], str] = {}
    for i in range(len(index["episode_id"])):
        source, scenario = str(index["source"][i]), get_scenario(str(index["scenario"][i]))
        folder = Path(dataset_root) / str(index["episode_dir"][i])
        if source == REFERENCE:
            episode = read_episode(folder, streams=("rgb", "state"))
            sections.setdefault(scenario.name, []).append(_episode_card(episode, scenario, assets, from_rgb))
        elif (source, scenario.name) not in strips:  # one strip per other source and scenario
            episode = read_episode(folder, streams=("rgb",))
            name = f"{source}_{episode.episode_id}_strip.png"
            cv2.imwrite(str(assets / name), cv2.cvtColor(frame_strip(episode.videos["rgb"]), cv2.COLOR_RGB2BGR))
            strips[(source, scenario.name)] = f"assets/{name}"
    comparison = compare_sources(rows, _floors(Path(dataset_root)))
    sources = {}
    if strips:
        cost = prediction_cost(Path(dataset_root))
        descriptions = source_descriptions_of(Path(dataset_root))
        for (source, scenario_name), strip in sorted(strips.items()):
            entry = sources.setdefault(source, {"description": descriptions.get(source, ""), "cost": cost.get(source, {}),
                                                "strips": [], "rows": [r for r in comparison if r["source"] == source]})
            sim_card = next(iter(sections.get(scenario_name, [])), None)
            entry["strips"].append({"scenario": scenario_name, "strip": strip, "sim_strip": sim_card["strip"] if sim_card else ""})
        sources = {"sim_cost": cost.get(REFERENCE, {}), "by_source": sources}
    env = Environment(loader=PackageLoader("realitygap", "report/templates"), autoescape=select_autoescape())
    page = report_dir / "index.html"
    page.write_text(env.get_template("overview.html.j2").render(
        version=__version__, dataset=str(Path(dataset_root).resolve()), summary=dataset_summary(dataset_root),
        sections=sections, scenarios={name: get_scenario(name) for name in sections}, sources=sources,
        verdict=verdict_context(dataset_root)))
    return page


def _measurement_rows(dataset_root: Path) -> list[dict]:
    """Rows of measurements.parquet, when `realitygap measure` has run on the dataset."""
    import pyarrow.parquet as pq

    from realitygap.measure.pipeline import MEASUREMENTS_PARQUET

    path = dataset_root / MEASUREMENTS_PARQUET
    return pq.read_table(path).to_pylist() if path.is_file() else []


def _floors(dataset_root: Path) -> dict[tuple[str, str], float]:
    """(scenario, quantity) -> the twin's max |error| measuring itself from RGB (error_floor.parquet)."""
    import pyarrow.parquet as pq

    from realitygap.measure.pipeline import ERROR_FLOOR_PARQUET

    path = dataset_root / ERROR_FLOOR_PARQUET
    if not path.is_file():
        return {}
    return {(r["scenario"], r["quantity"]): r["max_abs_error"] for r in pq.read_table(path).to_pylist()}


def _episode_card(episode, scenario, assets: Path, from_rgb: dict) -> dict:
    params = episode.meta.context.params
    eid = episode.episode_id
    cv2.imwrite(str(assets / f"{eid}_strip.png"), cv2.cvtColor(frame_strip(episode.videos["rgb"]), cv2.COLOR_RGB2BGR))
    _trajectory_plot(episode, scenario, params, assets / f"{eid}_trajectory.png")
    measured = scenario.measure_state(params, episode.tables["state"])
    law_rows = []
    for name, quantity in scenario.declared_law(params).items():
        value = measured.get(name, float("nan"))
        rel = abs(value - quantity.value) / abs(quantity.value) if quantity.value else float("nan")
        pixel = from_rgb.get((eid, name))
        law_rows.append({"name": name, "unit": quantity.unit, "law": quantity.value, "state": value,
                         "rel_error_pct": 100 * rel,
                         "rgb": pixel["measured"] if pixel else float("nan"),
                         "rgb_sigma": pixel["uncertainty"] if pixel else float("nan")})
    return {"episode_id": eid, "params": json.dumps(params), "prompt": episode.meta.context.prompt,
            "n_frames": episode.meta.n_frames, "duration_s": episode.meta.duration_s,
            "strip": f"assets/{eid}_strip.png", "plot": f"assets/{eid}_trajectory.png", "law_rows": law_rows}


def frame_strip(frames: np.ndarray, count: int = STRIP_FRAMES, height_px: int = STRIP_HEIGHT_PX) -> np.ndarray:
    """`count` evenly spaced frames side by side, each scaled to `height_px`, with 2 px white gaps."""
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    h, w = frames.shape[1:3]
    width_px = max(1, round(w * height_px / h))
    tiles = []
    for k in picks:
        tiles.append(cv2.resize(frames[k], (width_px, height_px), interpolation=cv2.INTER_AREA))
        tiles.append(np.full((height_px, 2, 3), 255, np.uint8))
    return np.concatenate(tiles[:-1], axis=1)


def _trajectory_plot(episode, scenario, params, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trace = scenario.law_trace(params, episode.tables["state"])
    t, measured, law = trace["t_s"], np.asarray(trace["state"]), np.asarray(trace["law"])
    fig, (ax, ax_res) = plt.subplots(2, 1, figsize=(4.2, 3.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot(t, law, color="0.6", lw=3, label="declared law")
    ax.plot(t, measured, color="C3", lw=1.2, label="ground-truth state")
    ax.set_ylabel(f"{trace['label']} ({trace['unit']})", fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    ax_res.plot(t, measured - law, color="C0", lw=1)
    ax_res.set_ylabel(f"state - law\n({trace['unit']})", fontsize=7)
    ax_res.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
