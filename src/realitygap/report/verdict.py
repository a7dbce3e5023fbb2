"""The verdict at the top of the report: the headline table (sources x axes, coloured by how far each
source is from the twin, intervals in the cell), the control matrix, the cost ledger, and the
per-scenario and per-metric breakdowns. Every number shown carries the key of its results.parquet row
(source, scenario, metric, statistic) in its title, so it can be traced."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq

from realitygap.measure.pipeline import REFERENCE_SOURCE
from realitygap.scorecard.controls import control_matrix
from realitygap.scorecard.results import ALL_SCENARIOS, RESULTS_JSON, RESULTS_PARQUET, lookup
from realitygap.scorecard.score import HEADLINE

REFERENCE = REFERENCE_SOURCE


def verdict_context(dataset_root: Path) -> dict | None:
    """What the verdict template needs, from the dataset's results.parquet (None when it was not scored)."""
    path = Path(dataset_root) / RESULTS_PARQUET
    if not path.is_file():
        return None
    rows = pq.read_table(path).to_pylist()
    header = json.loads((Path(dataset_root) / RESULTS_JSON).read_text()) if (Path(dataset_root) / RESULTS_JSON).is_file() else {}
    sources = header.get("sources") or sorted({r["source"] for r in rows})
    scenarios = header.get("scenarios") or sorted({r["scenario"] for r in rows} - {ALL_SCENARIOS})
    return {
        "axes": [{"axis": axis, "label": label} for axis, _, _, label in HEADLINE],
        "headline": [{"source": s, "cells": [cell(rows, s, ALL_SCENARIOS, m, st) for _, m, st, _ in HEADLINE]} for s in sources],
        "controls": [{"control": c.control, "target": c.target, "metric": c.metric, "caught": c.caught,
                      "control_cell": cell(rows, c.control, ALL_SCENARIOS, c.metric, "share"),
                      "twin_cell": cell(rows, REFERENCE, ALL_SCENARIOS, c.metric, "share")}
                     for c in control_matrix(rows, sources)],
        "ledger": _ledger(rows, sources),
        "threei": [{"source": s, "bars": _threei_bars(rows, s)} for s in sources],
        "by_scenario": [{"axis": axis, "label": label, "rows": [
            {"source": s, "cells": [cell(rows, s, sc, m, st) for sc in scenarios]} for s in sources]}
            for axis, m, st, label in HEADLINE[:2]],
        "scenarios": scenarios,
        "checks": _check_table(rows, sources),
        "per_metric": _per_metric(rows, sources, scenarios),
        "header": header,
    }


def cell(rows: list[dict], source: str, scenario: str, metric: str, statistic: str) -> dict:
    """A table cell: text, interval text, a class for its colour (twin / close / worse / far), and the row key."""
    row = lookup(rows, source, scenario, metric, statistic)
    key = f"results.parquet: source={source}, scenario={scenario}, metric={metric}, statistic={statistic}"
    if row is None or not math.isfinite(row["value"]):
        return {"text": "–", "interval": "", "cls": "none", "key": key}
    twin = lookup(rows, REFERENCE, scenario, metric, statistic)
    return {"text": _format(row["value"], row), "interval": _interval(row), "key": key,
            "cls": "twin" if source == REFERENCE else _distance_class(row, twin)}


def _distance_class(row: dict, twin: dict | None) -> str:
    """'close' when the row's interval reaches the twin's value, 'worse' when only its point estimate is
    worse, 'far' when its whole interval is worse than the twin's interval (a value without an interval is
    its own interval); costs by their ratio to the twin's; 'none' without a direction."""
    better = row["higher_is_better"]
    if twin is None or better is None or not math.isfinite(twin["value"]):
        return "none"
    if row["axis"] == "efficiency":  # a cost: within 25 % of the twin's is close, beyond twice it is far
        ratio = row["value"] / twin["value"] if twin["value"] > 0 else math.inf
        return "close" if ratio <= 1.25 else "worse" if ratio <= 2.0 else "far"
    low, high = (row["ci_low"], row["ci_high"]) if math.isfinite(row["ci_low"]) else (row["value"], row["value"])
    twin_low, twin_high = (twin["ci_low"], twin["ci_high"]) if math.isfinite(twin["ci_low"]) else (twin["value"], twin["value"])
    if better:
        return "close" if high >= twin["value"] else "far" if high < twin_low else "worse"
    return "close" if low <= twin["value"] else "far" if low > twin_high else "worse"


def _format(value: float, row: dict) -> str:
    if row["statistic"] == "share":
        return f"{100 * value:.0f} %"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {row['unit']}".strip()


def _interval(row: dict) -> str:
    if not row or not (math.isfinite(row["ci_low"]) and math.isfinite(row["ci_high"])):
        return ""
    scale, unit = (100, " %") if row["statistic"] == "share" else (1, f" {row['unit']}" if row["unit"] else "")
    return f"[{scale * row['ci_low']:.3g}, {scale * row['ci_high']:.3g}]{unit}"


def _threei_bars(rows: list[dict], source: str) -> list[dict]:
    """The three 3i criteria of a source as bars (width in % of 1), each with its ingredients in the title."""
    bars = []
    for metric, statistic in (("indistinguishability", "value"), ("information_richness", "value"), ("intentionality", "share")):
        row = lookup(rows, source, ALL_SCENARIOS, metric, statistic)
        value = row["value"] if row is not None and math.isfinite(row["value"]) else math.nan
        parts = [f"{r['metric'].split(':', 1)[1]} = {r['value']:.3f}" for r in rows
                 if r["source"] == source and r["scenario"] == ALL_SCENARIOS and r["metric"].startswith(metric + ":")]
        bars.append({"name": metric.replace("_", " "), "value": value, "width": 0 if value != value else round(100 * value, 1),
                     "text": "–" if value != value else f"{value:.2f}",
                     "title": f"results.parquet: source={source}, metric={metric}; " + ("; ".join(parts) or _interval(row or {}))})
    return bars


def _ledger(rows: list[dict], sources: list[str]) -> list[dict]:
    metrics = [("prediction_per_frame", "prediction ms/frame"), ("prediction_per_episode", "s/episode"),
               ("setup_training_cpu", "training CPU s"), ("setup_training_episodes", "training episodes"),
               ("context_spec_bytes", "spec bytes"), ("context_prompt_chars", "prompt chars")]
    out = []
    for source in sources:
        driven = lookup(rows, source, ALL_SCENARIOS, "driven_by", "value")
        out.append({"source": source, "driven_by": driven["note"] if driven else "",
                    "cells": [cell(rows, source, ALL_SCENARIOS, m, "median") for m, _ in metrics]})
    return [{"labels": [label for _, label in metrics], "rows": out}]


def _per_metric(rows: list[dict], sources: list[str], scenarios: list[str]) -> list[dict]:
    """Tables of metrics x sources: the Physics-IQ metrics (all scenarios), and per scenario and law quantity the
    median |error| of each source beside the ground truth's floor."""
    iq = sorted({r["metric"] for r in rows if r["metric"].startswith("physics_iq:")})
    tables = [{"title": "Physics-IQ (motion masks against the ground truth's video), all scenarios", "columns": sources,
               "rows": [{"label": m.split(":", 1)[1], "cells": [cell(rows, s, ALL_SCENARIOS, m, "median") for s in sources]}
                        for m in iq]}]
    quantity_rows = []
    for scenario in scenarios:
        names = sorted({r["metric"].split(":", 1)[1] for r in rows if r["scenario"] == scenario and r["metric"].startswith("abs_error:")})
        for name in names:
            floor = lookup(rows, REFERENCE, scenario, f"floor:{name}", "max")
            quantity_rows.append({"label": f"{scenario}: {name}" + (f" (floor {floor['value']:.3g} {floor['unit']})".rstrip()
                                                                      if floor else ""),
                                  "cells": [cell(rows, s, scenario, f"abs_error:{name}", "median") for s in sources]})
    tables.append({"title": "Precision per law quantity: median |error| against the ground-truth state", "columns": sources,
                   "rows": quantity_rows})
    return tables


def _check_table(rows: list[dict], sources: list[str]) -> dict:
    """Consistency checks x sources: the share of episodes passing each check, over all scenarios."""
    names = sorted({r["metric"][:-len(":passed")] for r in rows if r["axis"] == "consistency" and r["metric"].endswith(":passed")})
    return {"names": names, "rows": [{"source": s, "cells": [cell(rows, s, ALL_SCENARIOS, f"{n}:passed", "share") for n in names]}
                                     for s in sources]}
