"""paired.json and paired.html of `realitygap measure-clip GENERATED --reference REAL` (or `--pairs FILE`)."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, select_autoescape

from realitygap import __version__
from realitygap.clip.paired import PairedMeasurement
from realitygap.runtime.atomic import write_bytes_atomic

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>realitygap measure-clip, paired</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.warn{color:#a50}.dim{color:#777}</style></head>
<body>
<h1>Generated against reference: {{ pairs|length }} pair{{ '' if pairs|length == 1 else 's' }}</h1>
<p>Ratios generated / reference in the shared camera's pixels and the clips' own frames: no scale, no frame rate
needed. Uncertainties: one sigma, the two fits' bootstrap sigmas in quadrature.</p>
{% for p in pairs %}
<section id="pair-{{ loop.index0 }}">
<h2>{% if p.name %}{{ p.name }}: {% endif %}{{ p.law }}, {{ p.generated.video|basename }} against {{ p.reference.video|basename }}</h2>
<p class="{{ 'warn' if p.status == 'implausible' else '' }}"><b>{{ p.summary }}</b></p>
{% for w in p.warnings %}<p class="warn">warning: {{ w }}</p>{% endfor %}
{% if p.status == 'implausible' %}<p class="warn">Implausible: the ratios below are for diagnosis only, not a result.</p>{% endif %}
<table><tr><th>ratio</th><th>generated</th><th>reference</th><th>unit</th><th>generated / reference (1 sigma)</th></tr>
{% for r in p.ratios %}<tr><td>{{ r.label }}</td><td>{{ fmt(r.generated) }}</td><td>{{ fmt(r.reference) }}</td><td>{{ r.unit }}</td>
<td>{% if r.value is none %}<span class="dim">not formed: {{ r.reason }}</span>
{% else %}{{ fmt(r.value) }} ± {{ sig(r.uncertainty) }}{% endif %}</td></tr>
{% endfor %}</table>
{% if p.law_checks %}<table><tr><th>law check (no scale)</th><th>law</th><th>left</th><th>right</th><th>implied</th><th>verdict</th></tr>
{% for c in p.law_checks %}<tr><td>{{ c.name }}</td><td>{{ c.law }}</td>
<td>{% if c.left %}{{ fmt(c.left[0]) }} ± {{ sig(c.left[1]) }}{% endif %}</td>
<td>{% if c.right %}{{ fmt(c.right[0]) }} ± {{ sig(c.right[1]) }}{% endif %}</td>
<td>{% if c.implied_value %}{{ c.implied }} {{ fmt(c.implied_value[0]) }} ± {{ sig(c.implied_value[1]) }}{% endif %}</td>
<td>{% if c.holds is none %}<span class="dim">not checked: {{ c.reason }}</span>
{% elif c.holds %}holds{% else %}<b>fails</b>{% endif %}</td></tr>
{% endfor %}</table>{% endif %}
<table><tr><th>clip</th><th>video</th><th>status</th><th>time base</th><th>size</th><th>fit window</th><th>consistency</th></tr>
{% for role in ('generated', 'reference') %}{% set c = p[role] %}<tr><td>{{ role }}</td><td>{{ c.video }}</td>
<td>{{ c.status }}{% for i in c.implausible %}: {{ i.reason }}{% endfor %}</td><td>{{ c.fps_used }} fps from {{ c.rate_from }}</td>
<td>{{ c.size_px[0] }}x{{ c.size_px[1] }}{% if c.px_factor != 1 %} (x{{ fmt(c.px_factor) }}){% endif %}</td>
<td>frames {{ c.window.first_frame }}-{{ c.window.last_frame }} ({{ c.window.ended }})</td>
<td>{{ c.consistency.frozen_frames }} frozen, camera {{ c.consistency.camera_motion_px }} px,
 {{ c.consistency.vanishing_events|length }} vanishing, {{ c.consistency.spontaneous_objects|length }} spontaneous</td></tr>
{% endfor %}</table>
{% for role in ('generated', 'reference') %}{% for name, why in p[role].not_measured.items() %}
<p class="dim">{{ role }}: {{ name }} not measured: {{ why }}</p>{% endfor %}{% endfor %}
</section>
{% endfor %}
<p><small>realitygap {{ version }}</small></p>
</body></html>
"""


def write_paired_report(pairs: list[PairedMeasurement], out_dir: Path) -> tuple[Path, Path]:
    """Write OUT/paired.json ({'pairs': [...]}, one entry per pair) and OUT/paired.html; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {"realitygap_version": __version__, "status": "implausible" if any(p.implausible for p in pairs) else "measured",
            "pairs": [p.to_json() for p in pairs]}
    json_path, html_path = out_dir / "paired.json", out_dir / "paired.html"
    write_bytes_atomic(json_path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())
    env = Environment(autoescape=select_autoescape(default=True))
    env.filters["basename"] = lambda path: Path(str(path)).name
    page = env.from_string(PAGE).render(pairs=data["pairs"], version=__version__,
                                        fmt=lambda v: "" if v is None else f"{v:.5g}",
                                        sig=lambda v: "" if v is None else f"{v:.2g}")
    write_bytes_atomic(html_path, page.encode())
    return json_path, html_path
