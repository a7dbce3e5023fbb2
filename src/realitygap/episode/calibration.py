"""A camera calibration file given with a video (a real capture, or a generator's known camera).

JSON with fx_px, fy_px, cx_px, cy_px, width_px, height_px (the pixels it describes, usually the
file's) and optionally T_world_camera (4x4 rigid pose, OpenCV camera convention), distortion (all
zero: undistort the video first) and model ("pinhole"). Read and checked in one place for the video
import (`realitygap predict --source video`) and for `realitygap measure-clip --calibration`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from realitygap.runtime.errors import InputError, one_line

CALIBRATION_KEYS = ("fx_px", "fy_px", "cx_px", "cy_px", "width_px", "height_px")
OPTIONAL_CALIBRATION_KEYS = ("T_world_camera", "distortion", "model")


def read_calibration(path: Path) -> dict:
    """The checked content of a calibration file (see the module docstring); InputError names each problem."""
    name = path.name
    if not path.is_file():
        raise InputError(f"calibration file {name} not found")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise InputError(f"calibration {name} is not valid JSON: {one_line(str(error))}") from None
    if not isinstance(data, dict):
        raise InputError(f"calibration {name} must be a JSON object with {', '.join(CALIBRATION_KEYS)}")
    unknown = sorted(set(data) - set(CALIBRATION_KEYS) - set(OPTIONAL_CALIBRATION_KEYS))
    missing = [k for k in CALIBRATION_KEYS if k not in data]
    if unknown or missing:
        raise InputError(f"calibration {name}: " + (f"missing {', '.join(missing)} " if missing else "")
                         + (f"unknown key(s) {', '.join(unknown)} " if unknown else "")
                         + f"(keys: {', '.join(CALIBRATION_KEYS + OPTIONAL_CALIBRATION_KEYS)})")
    for key in CALIBRATION_KEYS:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"calibration {name}: {key} must be a finite number, got {value!r}")
    for key in ("fx_px", "fy_px", "width_px", "height_px"):
        if data[key] <= 0:
            raise InputError(f"calibration {name}: {key} must be positive, got {data[key]!r}")
    for key in ("width_px", "height_px"):
        if float(data[key]) != int(data[key]):
            raise InputError(f"calibration {name}: {key} must be a whole number of pixels, got {data[key]!r}")
    if data.get("model", "pinhole") != "pinhole":
        raise InputError(f"calibration {name}: only the pinhole model is supported, got {data['model']!r}")
    if "distortion" in data:
        distortion = np.asarray(data["distortion"], float) if isinstance(data["distortion"], list) else None
        if distortion is None or distortion.ndim != 1 or np.any(distortion != 0):
            raise InputError(f"calibration {name}: lens distortion is not supported; undistort the video and give zeros")
    if "T_world_camera" in data:
        try:
            T = np.asarray(data["T_world_camera"], float)
        except (TypeError, ValueError):
            T = None
        if T is None or T.shape != (4, 4) or not np.all(np.isfinite(T)):
            raise InputError(f"calibration {name}: T_world_camera must be a 4x4 matrix of numbers")
        R = T[:3, :3]
        if not np.allclose(T[3], [0, 0, 0, 1], atol=1e-9) or not np.allclose(R.T @ R, np.eye(3), atol=1e-4) \
                or np.linalg.det(R) < 0:
            raise InputError(f"calibration {name}: T_world_camera is not a rigid pose (rotation + translation, last row 0 0 0 1)")
    return data
