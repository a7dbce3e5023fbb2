"""results.parquet / results.json: one row per source x scenario x metric x statistic.

Columns: source, scenario ('all' for the whole dataset), axis (precision, consistency, explanative,
efficiency, distribution, 3i), metric, statistic (e.g. 'median', 'share', 'value'), value, ci_low,
ci_high (the seeded bootstrap's 95 % interval over episodes, NaN where not bootstrapped), n (episodes
or samples behind the value), unit, higher_is_better (null where neither), note. Rows are sorted, so
the same dataset and seed give the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa

from realitygap.runtime.atomic import json_safe, write_bytes_atomic, write_parquet_atomic

ALL_SCENARIOS = "all"
AXES = ("precision", "consistency", "explanative", "efficiency", "distribution", "3i")
SCHEMA = pa.schema([
    ("source", pa.string()), ("scenario", pa.string()), ("axis", pa.string()), ("metric", pa.string()),
    ("statistic", pa.string()), ("value", pa.float64()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
    ("n", pa.int64()), ("unit", pa.string()), ("higher_is_better", pa.bool_()), ("note", pa.string()),
])
RESULTS_PARQUET = "results.parquet"
RESULTS_JSON = "results.json"


def result(source: str, scenario: str, axis: str, metric: str, statistic: str, value: float,
           interval: tuple[float, float] = (math.nan, math.nan), n: int = 0, unit: str = "",
           higher_is_better: bool | None = None, note: str = "") -> dict:
    """One results row (see the module docstring)."""
    if axis not in AXES:
        raise ValueError(f"unknown axis {axis!r}")
    return {"source": source, "scenario": scenario, "axis": axis, "metric": metric, "statistic": statistic,
            "value": float(value), "ci_low": float(interval[0]), "ci_high": float(interval[1]), "n": int(n),
            "unit": unit, "higher_is_better": higher_is_better, "note": note}


def write_results(rows: list[dict], out_dir: Path, header: dict) -> tuple[Path, Path]:
    """Write results.parquet and results.json (header + rows, NaN as null) into `out_dir`, atomically."""
    order = {axis: i for i, axis in enumerate(AXES)}
    rows = sorted(rows, key=lambda r: (r["source"], r["scenario"] != ALL_SCENARIOS, r["scenario"], order[r["axis"]],
                                       r["metric"], r["statistic"]))
    out_dir = Path(out_dir)
    parquet = out_dir / RESULTS_PARQUET
    write_parquet_atomic(parquet, pa.Table.from_pylist(rows, schema=SCHEMA))
    document = {**header, "columns": SCHEMA.names, "rows": json_safe(rows)}
    path = out_dir / RESULTS_JSON
    write_bytes_atomic(path, (json.dumps(document, indent=1, sort_keys=False, allow_nan=False) + "\n").encode())
    return parquet, path


def lookup(rows: list[dict], source: str, scenario: str, metric: str, statistic: str) -> dict | None:
    """The row with these keys, or None."""
    return next((r for r in rows if (r["source"], r["scenario"], r["metric"], r["statistic"]) ==
                 (source, scenario, metric, statistic)), None)
