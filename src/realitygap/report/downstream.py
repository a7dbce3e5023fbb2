"""The downstream report: downstream.html beside downstream.json, with its plots as PNG files.

Plots: transfer ratio per source and task with 95 % intervals (log axis, 1 = as good as ground truth);
mixes (error relative to ground truth alone vs the extra share of source episodes); data-size curves
(test error vs train episodes, ground truth and each curve source); and, where predictive validity was
computed, the scorecard's 3i value and each axis against downstream quality.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from realitygap.measure.pipeline import REFERENCE_SOURCE
from realitygap.runtime.atomic import write_bytes_atomic

PAGE = "downstream.html"


def _figure(path: Path, draw) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path.name


def _transfer_plot(summary: list[dict], tasks: list[str]):
    rows = [r for r in summary if r["kind"] == "transfer" and r["source"] != REFERENCE_SOURCE]
    sources = sorted({r["source"] for r in rows})

    def draw(plt):
        fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 0.35 * len(sources) + 1.6), squeeze=False)
        for ax, task in zip(axes[0], tasks):
            cells = {r["source"]: r for r in rows if r["task"] == task}
            y = np.arange(len(sources))
            ratio, low, high = (np.array([_value(cells.get(s), key) for s in sources]) for key in ("ratio", "ratio_low", "ratio_high"))
            ok = np.isfinite(ratio)
            ax.errorbar(ratio[ok], y[ok], xerr=[ratio[ok] - low[ok], high[ok] - ratio[ok]], fmt="o", color="#1f5f99", capsize=3)
            ax.axvline(1.0, color="#555", lw=1, ls="--")
            _ratio_axis(ax)
            ax.set_yticks(y, sources if ax is axes[0][0] else [""] * len(sources))
            ax.set_title(task)
            ax.set_xlabel("transfer ratio (test error vs train-on-GT)")
            ax.invert_yaxis()
        return fig
    return draw


def _curve_plot(summary: list[dict], tasks: list[str], kind: str):
    def draw(plt):
        fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.2), squeeze=False)
        for ax, task in zip(axes[0], tasks):
            if kind == "mix":
                for source in sorted({r["source"] for r in summary if r["kind"] == "mix" and r["task"] == task}):
                    pts = _points(summary, "mix", source, task, "ratio")
                    ax.plot([0.0] + [p[0] * 100 for p in pts], [1.0] + [p[1] for p in pts], "o-", label=source)
                ax.axhline(1.0, color="#555", lw=1, ls="--")
                ax.set_xlabel("extra source episodes (% of the GT train set)")
                ax.set_ylabel("error / error of GT alone")
            else:
                for source in sorted({r["source"] for r in summary if r["kind"] == "size" and r["task"] == task}):
                    pts = _points(summary, "size", source, task, "error")
                    full = [r["error"] for r in summary if r["kind"] == "transfer" and r["source"] == source and r["task"] == task]
                    ax.plot([p[0] for p in pts] + [1.0], [p[1] for p in pts] + full[:1], "o-", label=source)
                _ratio_axis(ax, (0.125, 0.25, 0.5, 0.75, 1))
                ax.set_xlabel("fraction of the train episodes")
                ax.set_ylabel("test error on ground truth")
            ax.set_title(task)
            ax.legend(fontsize=7)
        return fig
    return draw


def _validity_plot(validity: dict):
    names = list(validity["all_sources"])

    def draw(plt):
        columns = 4
        rows = -(-len(names) // columns)
        fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), squeeze=False)
        quality = validity["quality"]
        for ax in axes.ravel()[len(names):]:
            ax.set_visible(False)
        for ax, name in zip(axes.ravel(), names):
            xs = [validity["scores"][s][name] for s in validity["sources"]]
            ys = [quality[s] for s in validity["sources"]]
            ax.scatter(xs, ys, s=14, color="#1f5f99")
            for s, x, y in zip(validity["sources"], xs, ys):
                if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                    ax.annotate(s, (x, y), fontsize=5, alpha=0.7)
            c = validity["all_sources"][name]
            ax.set_title(f"{name}\nrho={_num(c.get('spearman'))} r={_num(c.get('pearson'))}", fontsize=8)
            ax.set_xlabel("scorecard value", fontsize=7)
        for row in axes:
            row[0].set_ylabel("downstream quality\n(1 / transfer ratio)", fontsize=7)
        return fig
    return draw


def _ratio_axis(ax, candidates: tuple[float, ...] = (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 16, 32)) -> None:
    """A log x axis labelled in plain numbers (those of `candidates` in view)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    ax.set_xscale("log")
    low, high = ax.get_xlim()
    ticks = [t for t in candidates if low <= t <= high] or [1]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _value(row: dict | None, key: str) -> float:
    return float(row[key]) if row is not None and row.get(key) is not None else np.nan


def _points(summary: list[dict], kind: str, source: str, task: str, key: str) -> list[tuple[float, float]]:
    return sorted((r["amount"], r[key]) for r in summary if r["kind"] == kind and r["source"] == source and r["task"] == task)


def _num(value, digits: int = 2) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{float(value):.{digits}f}"


def write_downstream_report(document: dict, out_dir: Path) -> Path:
    """Write downstream.html and its PNG plots into `out_dir`; returns the page."""
    out_dir = Path(out_dir)
    summary, tasks = document["summary"], list(document["tasks"])
    images = [("Transfer ratio", _figure(out_dir / "downstream-transfer.png", _transfer_plot(summary, tasks)))]
    if any(r["kind"] == "mix" for r in summary):
        mixes = _figure(out_dir / "downstream-mixes.png", _curve_plot(summary, tasks, "mix"))
        images.append(("Mixes: ground truth plus source episodes", mixes))
    if any(r["kind"] == "size" for r in summary):
        images.append(("Data-size curves", _figure(out_dir / "downstream-sizes.png", _curve_plot(summary, tasks, "size"))))
    if document.get("validity"):
        scatter = _figure(out_dir / "downstream-validity.png", _validity_plot(document["validity"]))
        images.append(("Does the scorecard predict it? (every family source)", scatter))
    parts = ["<!doctype html><meta charset='utf-8'><title>realitygap downstream</title>",
             "<style>body{font:14px system-ui;margin:2em;max-width:1400px}td,th{padding:2px 8px;text-align:right}"
             "th:first-child,td:first-child{text-align:left}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style>",
             "<h1>Downstream: trained on the source, tested on ground truth</h1>",
             "<p>Transfer ratio = test error of models trained on the source / test error of models trained on ground truth "
             "(same tasks, seeds, test episodes); 1 is as good as ground truth; 95 % intervals over model seeds and test episodes.</p>",
             "<h2>Tasks</h2><table id='tasks'><tr><th>task</th><th>what is learned</th><th>labels</th>"
             "<th>error unit</th><th>scenarios</th></tr>"]
    for name, task in document["tasks"].items():
        parts.append(f"<tr><td>{name}</td><td>{html.escape(task['description'])}</td><td>{html.escape(task['labels'])}</td>"
                     f"<td>{html.escape(task['error_unit'])}</td><td>{', '.join(task['scenarios'])}</td></tr>")
    parts.append("</table><h2>Transfer ratio</h2><table id='transfer'><tr><th>source</th>"
                 + "".join(f"<th>{t}</th>" for t in tasks) + "</tr>")
    cells = {(r["source"], r["task"]): r for r in summary if r["kind"] == "transfer"}
    for source in sorted({r["source"] for r in summary if r["kind"] == "transfer"}, key=lambda s: (s != REFERENCE_SOURCE, s)):
        row = [f"<td>{html.escape(source)}</td>"]
        for task in tasks:
            c = cells.get((source, task))
            if c is None or c["ratio"] is None or not math.isfinite(c["ratio"]):
                row.append("<td>n/a</td>")
                continue
            row.append(f"<td>{_num(c['ratio'])} [{_num(c['ratio_low'])}, {_num(c['ratio_high'])}]"
                       f"<br><small>error {_num(c['error'], 3)}</small></td>")
        parts.append("<tr>" + "".join(row) + "</tr>")
    parts.append("</table>")
    if document.get("exchange_rates"):
        parts.append("<h2>Exchange rate</h2><p>Source episodes needed to match the model trained on all N ground-truth "
                     "episodes, over N.</p><table id='exchange'><tr><th>source</th><th>task</th><th>rate</th></tr>")
        for r in document["exchange_rates"]:
            sign = {"lower": "&gt; ", "upper": "&le; "}.get(r["bound"], "")
            parts.append(f"<tr><td>{html.escape(r['source'])}</td><td>{r['task']}</td><td>{sign}{_num(r['rate'])}</td></tr>")
        parts.append("</table>")
    if document.get("validity"):
        parts.append(_validity_table(document["validity"]))
    for title, name in images:
        parts.append(f"<h2>{title}</h2><img src='{name}' alt='{html.escape(title)}' style='max-width:100%'>")
    page = out_dir / PAGE
    write_bytes_atomic(page, "\n".join(parts).encode())
    return page


def _with_interval(c: dict, name: str) -> str:
    low, high = c.get(f"{name}_interval") or (None, None)
    return f"{_num(c.get(name))} [{_num(low)}, {_num(high)}]"


def _validity_table(validity: dict) -> str:
    rows = ["<h2>Predictive validity of the scorecard</h2><p>" + html.escape(validity["definition"]) + "</p>",
            "<table id='validity'><tr><th>axis</th><th>Spearman (all)</th><th>Pearson (all)</th>"
            "<th>Spearman (held out)</th><th>Pearson (held out)</th></tr>"]
    held = validity["held_out"]
    for name, c in validity["all_sources"].items():
        h = held["axes"].get(name, {})
        rows.append(f"<tr><td>{name}</td><td>{_with_interval(c, 'spearman')}</td><td>{_with_interval(c, 'pearson')}</td>"
                    f"<td>{_with_interval(h, 'spearman')}</td><td>{_with_interval(h, 'pearson')}</td></tr>")
    if "combined" in held:
        c = held["combined"]
        rows.append(f"<tr><td>ridge fit on {len(held['fit_sources'])} sources</td><td colspan=2>fitted half</td>"
                    f"<td>{_with_interval(c, 'spearman')}</td><td>{_with_interval(c, 'pearson')}</td></tr>")
    rows.append("</table><p>Held out: " + html.escape(", ".join(held["held_out_sources"])) + "</p>")
    return "\n".join(rows)
