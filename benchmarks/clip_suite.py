"""The realistic measure-clip suite (issue 14, deliverable 8): measure-clip on clips a user would bring.

Builds every case of `tests/clip/realistic.py` (a ball dropped, bouncing or swinging in a room, with the
nuisances of real footage: desaturated colours, a dark ball under a lamp, a hand releasing it, a late
entry, tilted, rolled and distorted lenses, rolling shutter, motion blur, noise and heavy compression,
a high-speed clip without metadata, a second ball, a person walking by, a moving camera) in a temporary
folder, runs `measure_clip` on each with only what a user knows (the law, the frame rate where the file
does not say it, one scale), and prints one row per case: truth, measured ± sigma, error, the error a
perfect tracker with the same scale gets (oracle: the camera's own systematic), status (measured /
implausible / refused (InputError) / error (a crash)), pass (measured and within tolerance: g 3 %,
restitution 3 %, period 0.5 %), covered (|value - truth| <= 1.96 sigma), the scale's error against the
true px/m of the ball's plane, the track's median distance from the projected truth (file pixels). Then
the totals of the acceptance: >= 90 % of the cases within tolerance, no silent wrong number (measured and
outside the tolerance), 95 % intervals covering the truth on >= 90 % of the measured cases.

Usage: python benchmarks/clip_suite.py [--case NAME ...] [--keep DIR]
  --case NAME  run only this case (repeatable); the full suite otherwise
  --keep DIR   keep the videos and each case's clip.json (DIR/<case>.mp4, DIR/<case>.clip.json)
Saves benchmarks/results/clip_suite.json (benchmarks/results/clip_suite_cases.json with --case).
One process, OpenCV on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.clip.realistic

from realitygap.runtime.atomic import json_safe  # noqa: E402
from tests.clip.realistic import CASES, build_case, measure_case, summarise, table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", action="append", choices=CASES, help="run only this case (repeatable)")
    parser.add_argument("--keep", type=Path, help="keep the videos and clip.json files in this folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("MUJOCO_GL", "egl")
    cv2.setNumThreads(1)
    names = args.case or list(CASES)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rg-clip-suite-"))
    rows, build_s = [], 0.0
    try:
        for name in names:
            started = time.perf_counter()
            case = build_case(name, folder)
            build_s += time.perf_counter() - started
            row = measure_case(case, keep=args.keep)
            rows.append(row)
            print(f"{name:30} {row['status']:11} {row['error_pct']:+8.2f} %  ({row['seconds']:.1f} s)", file=sys.stderr, flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    totals = summarise(rows)
    print(table(rows, totals))
    print(f"built in {build_s:.1f} s, measured in {sum(r['seconds'] for r in rows):.1f} s")
    result = {"benchmark": "clip_suite", "cases": rows, "totals": totals, "build_s": build_s,
              "tolerance": {"g_m_s2": 0.03, "restitution": 0.03, "period_s": 0.005},
              "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}}
    out = Path(__file__).parent / "results" / ("clip_suite.json" if args.case is None else "clip_suite_cases.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(json_safe(result), indent=2) + "\n")
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
