"""The control matrix: does the scorecard see each negative control's defect on the axis it breaks?

Every perturbed twin declares what its defect must lower (`TwinSource.breaks`): 'precision' (the share of
law quantities within the error floor) or 'consistency:<check>' (the share of episodes passing that
consistency check; 'consistency:coherence' = any cross-sensor coherence check). A control is *caught*
when, over all scenarios, its share's interval lies entirely below the twin's (ci_high < the twin's
ci_low; when the twin's interval is a point, its value). A metric that cannot tell a control from the
twin is broken, or the control's defect does not show on these contexts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from realitygap.measure.pipeline import REFERENCE_SOURCE
from realitygap.scorecard.results import ALL_SCENARIOS, lookup
from realitygap.sources.twins import TWINS


@dataclass(frozen=True)
class ControlCheck:
    control: str
    target: str
    metric: str
    control_row: dict | None
    reference_row: dict | None
    caught: bool


def control_matrix(rows: list[dict], sources: list[str], reference: str = REFERENCE_SOURCE) -> list[ControlCheck]:
    """One entry per (negative control present in `sources`, axis or check its defect breaks)."""
    out = []
    for source in sources:
        twin = TWINS.get(source)
        if twin is None or source == reference:
            continue
        for target in twin.breaks:
            for metric in _metrics_for(rows, target, reference):
                control_row = lookup(rows, source, ALL_SCENARIOS, metric, "share")
                reference_row = lookup(rows, reference, ALL_SCENARIOS, metric, "share")
                out.append(ControlCheck(source, target, metric, control_row, reference_row, _below(control_row, reference_row)))
    return out


def _metrics_for(rows: list[dict], target: str, reference: str) -> list[str]:
    if target == "precision":
        return ["within_floor"]
    check = target.split(":", 1)[1]
    if check == "coherence":
        found = sorted({r["metric"] for r in rows if r["source"] == reference and r["metric"].startswith("coherence:")
                        and r["metric"].endswith(":passed")})
        return found or ["coherence:passed"]
    return [f"{check}:passed"]


def _below(row: dict | None, reference: dict | None) -> bool:
    if row is None or reference is None:
        return False
    ceiling = reference["ci_low"] if math.isfinite(reference["ci_low"]) else reference["value"]
    high = row["ci_high"] if math.isfinite(row["ci_high"]) else row["value"]
    return bool(math.isfinite(high) and math.isfinite(ceiling) and high < ceiling)
