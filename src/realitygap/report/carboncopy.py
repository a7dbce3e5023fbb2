"""The carbon-copy report: carboncopy.html beside carboncopy.json, with its plots as PNG files.

Plots: the known-answer case (a Gaussian refitted to its own samples: median variance ratio per generation and
regime, 5-95 % band, replace's digamma theory); and the world model's scorecard per generation and regime with
95 % intervals, the shipped checkpoint as a dashed line.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from realitygap.report.downstream import _figure  # one figure writer for the report pages
from realitygap.runtime.atomic import write_bytes_atomic

PAGE = "carboncopy.html"
COLOURS = ("#1f5f99", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#555555")


def _gaussian_plot(gaussian: dict):
    def draw(plt):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        k = np.asarray(gaussian["generation"])
        for colour, (regime, cells) in zip(COLOURS, gaussian["regimes"].items()):
            ax.fill_between(k, cells["q05"], cells["q95"], color=colour, alpha=0.12, lw=0)
            ax.plot(k, cells["median"], color=colour, label=f"{regime} (median of {gaussian['runs']} runs)")
        ax.plot(k, gaussian["replace_theory"], "k--", lw=1, label="replace: theory (digamma drift)")
        ax.set_yscale("log")
        ax.set_xlabel("generation")
        ax.set_ylabel("variance / generation 0's")
        ax.set_title(f"Known answer: a Gaussian refitted to M = {gaussian['samples']} of its own samples")
        ax.legend(fontsize=8)
        return fig
    return draw


def _curves_plot(curves: list[dict]):
    labels = list(dict.fromkeys(c["label"] for c in curves))

    def draw(plt):
        columns = min(3, len(labels))
        rows = math.ceil(len(labels) / columns)
        fig, axes = plt.subplots(rows, columns, figsize=(4.4 * columns, 3.0 * rows), squeeze=False)
        regimes = list(dict.fromkeys(c["regime"] for c in curves))
        for ax, label in zip(axes.flat, labels):
            shipped = None
            for c in (c for c in curves if c["label"] == label):
                colour = COLOURS[regimes.index(c["regime"]) % len(COLOURS)]
                k, v = np.asarray(c["generation"]), np.asarray(c["value"], float)
                low, high = np.asarray(c["ci_low"], float), np.asarray(c["ci_high"], float)
                ok = np.isfinite(low) & np.isfinite(high)
                ax.fill_between(k[ok], low[ok], high[ok], color=colour, alpha=0.15, lw=0)
                ax.plot(k, v, "o-", color=colour, ms=3, label=c["regime"])
                shipped = shipped or c["shipped"]
            if shipped is not None and shipped["value"] is not None and math.isfinite(shipped["value"]):
                ax.axhline(shipped["value"], color="#333", ls="--", lw=1, label="shipped checkpoint")
            ax.set_title(label, fontsize=9)
            ax.set_xlabel("generation")
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(labels):]:
            ax.axis("off")
        return fig
    return draw


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def write_carboncopy_report(document: dict, gaussian: dict, out_dir: Path) -> Path:
    """Write carboncopy.html and its PNG plots into `out_dir`; returns the page."""
    out_dir = Path(out_dir)
    images = [("The known answer: a Gaussian", _figure(out_dir / "carboncopy-gaussian.png", _gaussian_plot(gaussian)))]
    if document["curves"]:
        images.append(("The world model, generation after generation",
                       _figure(out_dir / "carboncopy-curves.png", _curves_plot(document["curves"]))))
    config = document["config"]
    parts = ["<!doctype html><meta charset='utf-8'><title>realitygap carbon copy</title>",
             "<style>body{font:14px system-ui;margin:2em;max-width:1400px}td,th{padding:2px 8px;text-align:right}"
             "th:first-child,td:first-child{text-align:left}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style>",
             "<h1>Carbon copy: world models trained on their own output</h1>",
             f"<p>Regimes {', '.join(config['regimes'])}; {config['generations']} generations after generation 0; "
             f"{config['steps']} fine-tuning steps per generation on {config['train_per_scenario']} training contexts per "
             f"scenario ({', '.join(config['scenarios'])}); scored on {config['eval_per_scenario']} held-out contexts per "
             "scenario. Intervals: " + html.escape(document["intervals"]) + ".</p>",
             "<h2>Generation 0 against the shipped checkpoint</h2><table id='g0'><tr><th>metric</th><th>generation 0</th>"
             "<th>shipped</th><th>within</th></tr>"]
    for c in document["generation_0_vs_shipped"]:
        g0, shipped = c["generation_0"], c["shipped"]
        parts.append(f"<tr><td>{html.escape(c['metric'])}</td><td>{_num(g0['value'])} [{_num(g0['ci_low'])}, "
                     f"{_num(g0['ci_high'])}]</td><td>{_num(shipped['value'])} [{_num(shipped['ci_low'])}, "
                     f"{_num(shipped['ci_high'])}]</td><td>{ {True: 'yes', False: 'no', None: 'no interval'}[c['within']]}</td></tr>")
    parts.append("</table><h2>Curves</h2><table id='curves'><tr><th>metric</th><th>regime</th>"
                 + "".join(f"<th>g{k}</th>" for k in range(config["generations"] + 1)) + "</tr>")
    for c in document["curves"]:
        cells = dict(zip(c["generation"], c["value"]))
        parts.append(f"<tr><td>{html.escape(c['label'])}</td><td>{html.escape(c['regime'])}</td>"
                     + "".join(f"<td>{_num(cells.get(k))}</td>" for k in range(config["generations"] + 1)) + "</tr>")
    parts.append("</table>")
    for title, name in images:
        parts.append(f"<h2>{title}</h2><img src='{name}' alt='{html.escape(title)}' style='max-width:100%'>")
    page = out_dir / PAGE
    write_bytes_atomic(page, "\n".join(parts).encode())
    return page
