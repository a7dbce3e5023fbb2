"""The carbon-copy curves: the scorecard's rows of every generation, per regime.

carboncopy.parquet holds, per regime, generation and scorecard row (scenario 'all' and per scenario; every
axis but efficiency, whose wall-clock figures depend on the machine's load): value and its 95 % interval (the
scorecard's bootstrap over held-out episodes). Generation 0 (shared) appears under every regime, and the
shipped checkpoint under generation -1 ('shipped'). carboncopy.json holds the configuration, each generation's
record (training ledger, data), the plotted curves and the comparison of generation 0 with the shipped
checkpoint.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa

from realitygap.runtime.atomic import json_safe, write_bytes_atomic, write_parquet_atomic

CURVES_JSON = "carboncopy.json"
CURVES_PARQUET = "carboncopy.parquet"
SHIPPED_GENERATION = -1
PHYSICS = (("drop", "g_m_s2"), ("projectile", "g_m_s2"), ("bounce", "restitution"), ("pendulum", "period_s"),
           ("slide", "stopping_distance_m"))
"""(scenario, quantity) of the measured physics followed per generation: the relative error of the value measured
from the generated pixels against the context's ground truth, per episode."""
PERMANENCE = ("vanishing_events", "spontaneous_events")
BOOT = 1000
PLOTTED = (
    ("physics", "rel_error:g_m_s2", "median", "g: relative error (drop, projectile)"),
    ("physics", "rel_error:restitution", "median", "restitution: relative error (bounce)"),
    ("physics", "rel_error:period_s", "median", "period: relative error (pendulum)"),
    ("physics", "rel_error:stopping_distance_m", "median", "stopping distance: relative error (slide)"),
    ("physics", "permanence_violations", "mean", "vanishing + spontaneous objects per episode"),
    ("precision", "within_floor", "share", "law quantities within the ground truth's floor (share)"),
    ("precision", "physics_iq:physics_iq_score", "median", "Physics-IQ score (median)"),
    ("consistency", "checks_passed", "share", "consistency checks passed (share)"),
    ("distribution", "recall:pixel-stats-v1", "value", "recall of the ground truth's frames (PRDC)"),
    ("distribution", "coverage:pixel-stats-v1", "value", "coverage of the ground truth's frames (PRDC)"),
    ("3i", "indistinguishability", "value", "indistinguishability (3i)"),
    ("3i", "information_richness", "value", "information richness (3i)"),
    ("3i", "intentionality", "share", "intentionality (3i)"),
)
"""(axis, metric, statistic, label) of the curves drawn and summarised (the parquet file has every row)."""
SCHEMA = pa.schema([("regime", pa.string()), ("generation", pa.int64()), ("source", pa.string()), ("scenario", pa.string()),
                    ("axis", pa.string()), ("metric", pa.string()), ("statistic", pa.string()), ("value", pa.float64()),
                    ("ci_low", pa.float64()), ("ci_high", pa.float64()), ("n", pa.int64()), ("unit", pa.string())])


def physics_rows(measurements: list[dict], seed: int) -> list[dict]:
    """Scorecard-shaped rows (axis 'physics', scenario 'all') per source: the median relative error of each `PHYSICS`
    quantity (|measured - ground truth| / ground truth, episodes where both are finite) and the mean count of
    `PERMANENCE` events per episode, with 95 % percentile-bootstrap intervals over episodes (seeded)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    errors: dict[tuple[str, str], list[float]] = {}
    events: dict[str, dict[str, float]] = {}
    wanted = {q for _, q in PHYSICS}
    for row in measurements:
        source, quantity = row["source"], row["quantity"]
        if (row["scenario"], quantity) in PHYSICS and quantity in wanted:
            measured, truth = row["measured"], row["ground_truth"]
            if measured is not None and truth and math.isfinite(measured) and math.isfinite(truth):
                errors.setdefault((source, quantity), []).append(abs(measured - truth) / abs(truth))
        if quantity in PERMANENCE and row["measured"] is not None and math.isfinite(row["measured"]):
            events.setdefault(source, {}).setdefault(row["episode_id"], 0.0)
            events[source][row["episode_id"]] += row["measured"]
    out = []

    def add(source, metric, statistic, values, reduce):
        values = np.asarray(values, float)
        boot = [reduce(values[rng.integers(len(values), size=len(values))]) for _ in range(BOOT)] if len(values) > 1 else []
        low, high = (np.quantile(boot, [0.025, 0.975]) if boot else (math.nan, math.nan))
        out.append({"source": source, "scenario": "all", "axis": "physics", "metric": metric, "statistic": statistic,
                    "value": float(reduce(values)), "ci_low": float(low), "ci_high": float(high), "n": int(len(values)), "unit": ""})

    for (source, quantity), values in sorted(errors.items()):
        add(source, f"rel_error:{quantity}", "median", values, np.median)
    for source, per_episode in sorted(events.items()):
        add(source, "permanence_violations", "mean", [per_episode[e] for e in sorted(per_episode)], np.mean)
    return out


def curve_rows(results: list[dict], regimes: tuple[str, ...], generations: int, tag_of, source_of,
               shipped: str) -> list[dict]:
    """Long-format rows (SCHEMA) from the scorecard's `results` rows: every regime's generations 0..generations,
    and the shipped checkpoint as generation `SHIPPED_GENERATION` of every regime."""
    by_source: dict[str, list[dict]] = {}
    for row in results:
        if row["axis"] != "efficiency":
            by_source.setdefault(row["source"], []).append(row)
    out = []
    for regime in regimes:
        members = [(SHIPPED_GENERATION, shipped)] + [(k, source_of(tag_of(regime, k))) for k in range(generations + 1)]
        for generation, source in members:
            for row in by_source.get(source, []):
                out.append({"regime": regime, "generation": generation, "source": source,
                            **{key: row[key] for key in ("scenario", "axis", "metric", "statistic", "value", "ci_low", "ci_high",
                                                         "n", "unit")}})
    out.sort(key=lambda r: (r["regime"], r["generation"], r["scenario"], r["axis"], r["metric"], r["statistic"]))
    return out


def plotted_curves(rows: list[dict], regimes: tuple[str, ...]) -> list[dict]:
    """Per `PLOTTED` metric and regime: generations, values and intervals (scenario 'all'), shipped separately."""
    curves = []
    for axis, metric, statistic, label in PLOTTED:
        for regime in regimes:
            cells = {r["generation"]: r for r in rows if (r["regime"], r["scenario"], r["axis"], r["metric"], r["statistic"])
                     == (regime, "all", axis, metric, statistic)}
            generations = sorted(g for g in cells if g != SHIPPED_GENERATION)
            if not generations:
                continue
            shipped = cells.get(SHIPPED_GENERATION)
            curves.append({"axis": axis, "metric": metric, "statistic": statistic, "label": label, "regime": regime,
                           "generation": generations, "value": [cells[g]["value"] for g in generations],
                           "ci_low": [cells[g]["ci_low"] for g in generations], "ci_high": [cells[g]["ci_high"] for g in generations],
                           "shipped": None if shipped is None else {k: shipped[k] for k in ("value", "ci_low", "ci_high")}})
    return curves


def generation_zero_check(curves: list[dict]) -> list[dict]:
    """Per plotted metric: generation 0's value against the shipped checkpoint's: `within` when either lies in the
    other's 95 % interval; None (not compared) when neither has an interval (the scorecard bootstraps only its
    per-episode metrics, not the distribution and 3i set comparisons)."""
    out, seen = [], set()
    for curve in curves:
        key = (curve["metric"], curve["statistic"])
        if key in seen or curve["shipped"] is None or 0 not in curve["generation"]:
            continue
        seen.add(key)
        i = curve["generation"].index(0)
        g0 = {"value": curve["value"][i], "ci_low": curve["ci_low"][i], "ci_high": curve["ci_high"][i]}
        shipped = curve["shipped"]
        bounded = [c for c in (g0, shipped) if math.isfinite(c["ci_low"]) and math.isfinite(c["ci_high"])]
        within = any(_inside(other["value"], c) for c in bounded for other in (g0, shipped) if other is not c) if bounded else None
        out.append({"metric": curve["metric"], "statistic": curve["statistic"], "generation_0": g0, "shipped": shipped,
                    "within": within})
    return out


def _inside(value: float, cell: dict) -> bool:
    return cell["ci_low"] - 1e-12 <= value <= cell["ci_high"] + 1e-12


def write_curves(out: Path, config, records: dict) -> dict:
    """Read the held-out scorecard (eval/results.json), write carboncopy.parquet and carboncopy.json; return the document."""
    import pyarrow.parquet as pq

    from realitygap.carboncopy.experiment import SHIPPED_SOURCE, generation_tag, source_of

    results = json.loads((Path(out) / "eval" / "results.json").read_text())["rows"]
    results = [{**r, **{k: (math.nan if r[k] is None else r[k]) for k in ("value", "ci_low", "ci_high")}} for r in results]
    results += physics_rows(pq.read_table(Path(out) / "eval" / "measurements.parquet").to_pylist(), config.seed)
    rows = curve_rows(results, config.regimes, config.generations, generation_tag, source_of, SHIPPED_SOURCE)
    write_parquet_atomic(Path(out) / CURVES_PARQUET, pa.Table.from_pylist(rows, schema=SCHEMA))
    curves = plotted_curves(rows, config.regimes)
    document = {"config": config.model_dump(mode="json"), "generations": records, "curves": curves,
                "generation_0_vs_shipped": generation_zero_check(curves),
                "intervals": "95 % bootstrap intervals over held-out episodes (the scorecard's), per generation"}
    write_bytes_atomic(Path(out) / CURVES_JSON, (json.dumps(json_safe(document), indent=1) + "\n").encode())
    return document
