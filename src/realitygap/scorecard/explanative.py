"""Explanative value: what a source delivers beyond pixels, and how accurate it is.

Per source: which streams and annotations its episodes carry (rgb, depth, segmentation, thermal,
lidar, radar, imu, gps, state, annotations) and which context parameters they record, against what
the ground truth delivers; the share delivered (delivered / ground truth's, over the union of the
source's episodes: a stream counts when every episode has it). Where delivered, label accuracy from the
measurement (`label_*` rows: mask IoU, box IoU, depth error against the ground-truth episode); for
sources that deliver RGB only, the accuracy of the labels realitygap derives from their pixels
(`label_derived_*` rows), reported as derived.

Where it can be fooled: a stream counts as delivered whatever its quality; its accuracy rows say how good.
"""

from __future__ import annotations

import numpy as np

from realitygap.scorecard.data import ScoreInputs, finite
from realitygap.scorecard.results import ALL_SCENARIOS, result
from realitygap.scorecard.stats import finite_median, stratified_bootstrap

AXIS = "explanative"
STREAMS = ("rgb", "depth", "segmentation", "thermal", "lidar", "radar", "imu", "gps", "state", "annotations")


def delivered_streams(inputs: ScoreInputs, source: str) -> dict[str, bool]:
    """Stream -> whether every episode of `source` carries it."""
    episodes = list(inputs.episodes[source].values())
    return {stream: bool(episodes) and all(stream in e.meta.streams for e in episodes) for stream in STREAMS}


def explanative_results(inputs: ScoreInputs, seed: int) -> list[dict]:
    """Results rows of the explanative axis for every source (see the module docstring)."""
    reference = delivered_streams(inputs, inputs.reference)
    wanted = [s for s in STREAMS if reference[s]]
    rows = []
    for source in inputs.sources:
        delivered = delivered_streams(inputs, source)
        share = sum(delivered[s] for s in wanted) / len(wanted) if wanted else float("nan")
        rows.append(result(source, ALL_SCENARIOS, AXIS, "streams_delivered", "share", share, n=len(inputs.episodes[source]),
                           higher_is_better=True, note="delivered: " + (", ".join(s for s in wanted if delivered[s]) or "none")))
        for stream in STREAMS:
            rows.append(result(source, ALL_SCENARIOS, AXIS, f"delivers:{stream}", "value", float(delivered[stream]),
                               n=len(inputs.episodes[source]), higher_is_better=True))
        params = all(e.meta.context.params for e in inputs.episodes[source].values())
        rows.append(result(source, ALL_SCENARIOS, AXIS, "delivers:parameters", "value", float(params),
                           n=len(inputs.episodes[source]), higher_is_better=True,
                           note="the context's parameters are recorded with every episode"))
        rows += _label_rows(inputs, source, seed)
    return rows


def _label_rows(inputs: ScoreInputs, source: str, seed: int) -> list[dict]:
    """Median of every `label_*` measurement row over the source's episodes, per scenario and overall."""
    records = list(inputs.episodes[source].values())
    names = sorted({q for r in records for q in r.rows if q.startswith("label_")})
    rows = []
    for name in names:
        for scenario in [ALL_SCENARIOS] + sorted({r.scenario for r in records}):
            found = [(r.scenario, r.rows[name]) for r in records
                     if scenario in (ALL_SCENARIOS, r.scenario) and name in r.rows and finite(r.rows[name]["measured"])]
            if not found:
                continue
            value, low, high = stratified_bootstrap([np.array([row["measured"]]) for _, row in found], [s for s, _ in found],
                                                    finite_median, seed=seed)
            unit = found[0][1]["unit"]
            rows.append(result(source, scenario, AXIS, name, "median", value, (low, high), n=len(found), unit=unit,
                               higher_is_better=not name.endswith(("_error_m", "_error_px")),
                               note="derived by realitygap from the source's pixels" if "derived" in name else ""))
    return rows
