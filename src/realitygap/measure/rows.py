"""One measurement row: a quantity measured from an episode, with its ground truth, the declared law's value,
the fit's goodness and how it was measured (the columns of measurements.parquet, `SCHEMA`)."""

from __future__ import annotations

import math

import pyarrow as pa

SCHEMA = pa.schema([
    ("episode_id", pa.string()), ("source", pa.string()), ("scenario", pa.string()), ("quantity", pa.string()),
    ("unit", pa.string()), ("measured", pa.float64()), ("uncertainty", pa.float64()),
    ("ground_truth", pa.float64()), ("law", pa.float64()), ("error", pa.float64()),
    ("residual_rms", pa.float64()), ("residual_unit", pa.string()), ("reduced_chi2", pa.float64()),
    ("method", pa.string()), ("note", pa.string()), ("episode_sha256", pa.string()),
])
"""episode_id, source, scenario and episode_sha256 are added when the episode's rows are written."""


def measurement_row(quantity: str, unit: str, measured: float, uncertainty: float = math.nan, ground_truth: float = 0.0,
                    law: float = 0.0, residual_rms: float = math.nan, residual_unit: str = "", reduced_chi2: float = math.nan,
                    method: str = "", note: str = "") -> dict:
    """A row of `SCHEMA` for one quantity (error = measured - ground_truth; NaN where not measured)."""
    measured, ground_truth = float(measured), float(ground_truth)
    return {"quantity": quantity, "unit": unit, "measured": measured, "uncertainty": float(uncertainty),
            "ground_truth": ground_truth, "law": float(law), "error": measured - ground_truth,
            "residual_rms": float(residual_rms), "residual_unit": residual_unit, "reduced_chi2": float(reduced_chi2),
            "method": method, "note": note}
