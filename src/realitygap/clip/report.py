"""clip.json and clip.html (with clip_track.png: the track over a few frames, clip_fit.png: the law fit)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from jinja2 import Environment, select_autoescape

from realitygap import __version__
from realitygap.clip.measure import ClipMeasurement
from realitygap.runtime.atomic import write_bytes_atomic

TRACK_FRAMES = 4
TILE_HEIGHT_PX = 240

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>realitygap measure-clip: {{ m.video.name }}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.warn{color:#a50}img{max-width:100%}</style></head>
<body>
<h1>{{ m.fit.law }} measured in {{ m.video.name }}</h1>
<p id="status" class="{{ 'warn' if m.implausible else '' }}"><b>{{ summary }}</b></p>
{% if m.implausible %}<h2>Implausible: not a result</h2><table id="implausible"><tr><th>check</th><th>why it cannot be true</th>
<th>likely cause</th><th>what to do</th></tr>
{% for i in m.implausible %}<tr><td>{{ i.quantity }}</td><td>{{ i.reason }}</td><td>{{ i.likely_cause }}</td><td>{{ i.fix }}</td></tr>
{% endfor %}</table>{% endif %}
<h2>{{ 'Fitted values (implausible: for diagnosis only)' if m.implausible else 'Quantities' }}</h2>
<table><tr><th>quantity</th><th>value</th><th>uncertainty (1 sigma)</th><th>unit</th><th>note</th></tr>
{% for name, q in data.quantities.items() %}<tr><td>{{ name }}</td><td>{{ fmt(q.value) }}</td><td>{{ fmt(q.uncertainty) }}</td>
<td>{{ q.unit }}</td><td>{{ q.note }}</td></tr>{% endfor %}
{% for name, why in data.refused.items() %}<tr><td>{{ name }}</td><td colspan="3">refused</td><td>{{ why }}</td></tr>{% endfor %}
</table>
<h2>How</h2>
<ul>
{% set tb = data.time_base %}
<li>time base: {{ tb.fps_used|round(4) }} fps from {{ tb.rate_from }} (container {{ tb.container_fps }} fps,
 capture-rate metadata {{ tb.capture_fps }}{% if tb.capture_key %} ({{ tb.capture_key }}){% endif %},
 rotation {{ tb.rotation_deg }} deg, {{ tb.n_frames }} frames {{ tb.width_px }}x{{ tb.height_px }},
 processed at {{ (100 * tb.processed_scale)|round(1) }} %)</li>
<li>object: {{ data.object.method }}; seen in {{ data.object.present_frames }} frames</li>
<li>scale: {{ data.scale.origin }}{% if data.scale.px_per_m_file %} ({{ data.scale.px_per_m_file|round(2) }} px/m
 in the file){% endif %}</li>
<li>fit window: frames {{ data.window.first_frame }}-{{ data.window.last_frame }} ({{ data.window.frames_used }} used;
 {{ data.window.ended }})</li>
<li>uncertainty: {{ data.uncertainty_method }}</li>
</ul>
{% for w in data.warnings %}<p class="warn">warning: {{ w }}</p>{% endfor %}
{% for n in data.notes %}<p class="warn">note: {{ n }}</p>{% endfor %}
<h2>Track</h2><img src="clip_track.png" alt="track over frames">
<h2>Law fit</h2><img src="clip_fit.png" alt="law fit">
<p><small>realitygap {{ version }}</small></p>
</body></html>
"""


CLIP_REPORT_FILES = ("clip.json", "clip.html", "clip_track.png", "clip_fit.png")


def write_clip_report(measurement: ClipMeasurement, out_dir: Path) -> tuple[Path, Path]:
    """Write OUT/clip.json, OUT/clip.html, OUT/clip_track.png and OUT/clip_fit.png; returns (json, html)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = measurement.to_json()
    json_path, html_path = out_dir / "clip.json", out_dir / "clip.html"
    write_bytes_atomic(json_path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())
    ok, png = cv2.imencode(".png", cv2.cvtColor(track_strip(measurement), cv2.COLOR_RGB2BGR))
    if ok:
        write_bytes_atomic(out_dir / "clip_track.png", png.tobytes())
    _fit_plot(measurement, out_dir / "clip_fit.png")
    env = Environment(autoescape=select_autoescape(default=True))
    page = env.from_string(PAGE).render(m=measurement, data=data, summary=measurement.summary(), version=__version__,
                                        fmt=lambda v: "" if v is None else f"{v:.5g}")
    write_bytes_atomic(html_path, page.encode("utf-8", "surrogateescape"))  # a file name that is not UTF-8 keeps its bytes
    return json_path, html_path


def track_strip(measurement: ClipMeasurement, count: int = TRACK_FRAMES) -> np.ndarray:
    """`count` frames across the fit window side by side, each with the whole track (grey), the frames
    used by the fit (green) and the object's position in that frame (red circle)."""
    frames, track = measurement.frames, measurement.track
    used = measurement.fit.used_frames
    span = (int(used[0]), int(used[-1])) if len(used) else (0, len(frames) - 1)
    picks = np.linspace(span[0], span[1], count).round().astype(int)
    roi = measurement.options.roi
    offset = np.zeros(2) if roi is None else np.array(roi[:2], float) * measurement.timebase.processed_scale
    present = np.flatnonzero(track.present)
    points = track.centroid_px[present] - offset
    fit_points = track.centroid_px[used] - offset if len(used) else np.zeros((0, 2))
    tiles = []
    for k in picks:
        tile = frames[k].copy()
        cv2.polylines(tile, [np.round(points * 4).astype(np.int32)], False, (150, 150, 150), 1, cv2.LINE_AA, shift=2)
        for p in fit_points:
            cv2.circle(tile, tuple(int(v) for v in np.round(p * 4)), 3, (0, 170, 0), -1, cv2.LINE_AA, shift=2)
        if track.present[k]:
            r = max(3.0, float(track.radius_px[k]))
            cv2.circle(tile, tuple(int(v) for v in np.round((track.centroid_px[k] - offset) * 4)), int(r * 4),
                       (220, 0, 0), 1, cv2.LINE_AA, shift=2)
        h, w = tile.shape[:2]
        width = max(1, round(w * TILE_HEIGHT_PX / h))
        tiles.append(cv2.resize(tile, (width, TILE_HEIGHT_PX), interpolation=cv2.INTER_AREA))
        tiles.append(np.full((TILE_HEIGHT_PX, 4, 3), 255, np.uint8))
    return np.concatenate(tiles[:-1], axis=1)


def _fit_plot(measurement: ClipMeasurement, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plane, fit = measurement.plane, measurement.fit
    unit = plane.unit
    used = np.isin(plane.frame, fit.used_frames)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, axis, label in ((axes[0], 1, "up"), (axes[1], 0, "horizontal")):
        ax.plot(plane.t_s[~used], plane.xy[~used, axis], ".", color="0.6", label="not used")
        ax.plot(plane.t_s[used], plane.xy[used, axis], ".", color="tab:green", label="fitted frames")
        if len(fit.model_t_s):
            ax.plot(fit.model_t_s, fit.model_xy[:, axis], "-", color="tab:red", lw=1, label=f"{fit.law} law")
        ax.set_xlabel("t (s)")
        ax.set_ylabel(f"{label} ({unit})")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(measurement.summary(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
