"""Read a clip and decide its time base: probed from the file, not trusted.

`read_clip(path, fps=None, max_side_px=None)` decodes every frame (PyAV), honours the display
rotation (display matrix, `VideoFrame.rotation`, counter-clockwise degrees), optionally downscales
while decoding (libswscale, area averaging) and returns frames (T, H, W, 3) uint8 RGB, frame times
t_s (T,) seconds from the first frame, and a `Timebase` that records which rate was used and why.

Time base, in order of precedence:

1. `--fps F` (explicit): t_i = i / F.
2. capture-rate metadata (slow-motion recordings: the container plays at e.g. 30 fps, the frames
   were captured at 120 or 240 fps). Keys read from the container and stream metadata: any whose
   name ends in `capture.fps`, `capture_fps`, `capture-fps` or `capturefps` (Android writes
   `com.android.capture.fps`). When it differs from the container's rate by more than 1 %, the
   container times are rescaled by container_fps / capture_fps (dropped frames keep their gaps); t_i =
   i / capture_fps when the timestamps are unusable.
3. container timestamps (pts), shifted to start at 0, when they are finite and strictly increasing.
   A variable frame rate (periods spread by more than `VFR_TOLERANCE`) is kept -- the timestamps are
   the best record of when each frame was taken -- and reported with a warning.
4. frame index / container rate, with a warning, when timestamps are missing, repeated or out of order.

The shared decision between 3 and 4 is `realitygap.episode.video.frame_times` (the video import
uses the same rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realitygap.episode.video import VideoProbe, frame_times, scan_video
from realitygap.runtime.errors import InputError

CAPTURE_RATE_SUFFIXES = ("capture.fps", "capture_fps", "capture-fps", "capturefps")
"""Metadata keys (lower-case suffixes) that carry the real capture rate of a slow-motion recording."""
CAPTURE_RATE_MISMATCH = 0.01
"""A capture rate within this fraction of the container's rate is no slow motion: the container's times are used."""
VFR_TOLERANCE = 0.05
"""Frame periods spread by more than this fraction of the median period are a variable frame rate."""
FPS_RANGE = (1e-4, 1e7)
"""Frame rates (fps) a camera can have: one frame in ~3 hours (time-lapse) to 10 million per second (the fastest
high-speed cameras). `--fps` outside is bad input; capture-rate metadata outside is ignored (not a capture rate).
Beyond it the frame times or the fitted quantities leave the floating-point range."""


@dataclass
class Timebase:
    """How a clip's frame times were decided (all rates in frames per second)."""

    fps_used: float
    rate_from: str
    """'--fps', 'capture-rate metadata <key>', 'container timestamps' or 'frame index / container rate'."""
    container_fps: float | None
    timestamp_fps: float | None
    capture_fps: float | None
    capture_key: str | None
    rotation_deg: int
    n_frames: int
    width_px: int
    height_px: int
    """Displayed (rotated) size of the file's frames, before any internal downscaling."""
    processed_scale: float = 1.0
    """Processed pixels per file pixel (< 1 when downscaled while decoding)."""
    codec: str = ""
    container: str = ""
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """e.g. '120 fps from capture-rate metadata com.android.capture.fps'."""
        return f"{self.fps_used:.4g} fps from {self.rate_from}"


def read_clip(path: Path, fps: float | None = None, max_side_px: int | None = None) -> tuple[np.ndarray, np.ndarray, Timebase]:
    """Frames (T, H, W, 3) uint8 RGB (rotation applied, downscaled to at most `max_side_px` on the long
    side), frame times t_s (T,) s from 0, and the `Timebase`. InputError for anything unreadable."""
    path = Path(path)
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise InputError(f"--fps must be a positive number, got {fps}")
    if fps is not None and not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise InputError(f"--fps {fps:g} is no camera's frame rate: give one between {FPS_RANGE[0]:g} and {FPS_RANGE[1]:g}")
    if not path.is_file():
        raise InputError(f"video {path} not found" if not path.exists() else f"{path} is not a file")
    frames, probe, meta, rotation = _decode(path, max_side_px)
    if len(frames) < 2:
        raise InputError(f"{path} holds {'a still image' if len(frames) == 1 else 'no frames'} ({probe.codec}): "
                         "measure-clip needs a video of the motion")
    times, info = _times(probe, fps)
    capture_key, capture_fps = capture_rate(meta)
    warnings = list(info.pop("warnings"))
    rate_from, used = info["rate_from"], info["fps_used"]
    if fps is not None:
        rate_from, used = "--fps", fps
        if capture_fps:
            warnings.append(f"--fps {fps:g} overrides the capture rate {capture_fps:g} fps in the metadata ({capture_key})")
    elif capture_fps and (used is None or abs(capture_fps / used - 1) > CAPTURE_RATE_MISMATCH):
        if rate_from == "container timestamps" and used:
            times = times * used / capture_fps
        else:
            times = np.arange(len(times)) / capture_fps
        rate_from, used = f"capture-rate metadata {capture_key}", capture_fps
        warnings.append(f"slow motion: the container plays at {info['fps_container'] or info['fps_used']:.4g} fps, "
                        f"the frames were captured at {capture_fps:.4g} fps ({capture_key}): measured on the capture rate")
    if used is None or not (math.isfinite(used) and used > 0):
        raise InputError(f"{path} gives no frame rate (no timestamps, container rate or capture-rate metadata): give "
                         "the capture rate with --fps")
    if not FPS_RANGE[0] <= used <= FPS_RANGE[1]:
        raise InputError(f"{path}: {used:g} fps (from the {rate_from}) is no camera's frame rate: give the capture rate "
                         "with --fps")
    h, w = frames.shape[1:3]
    full_w, full_h = (probe.height, probe.width) if rotation % 180 else (probe.width, probe.height)
    timebase = Timebase(fps_used=float(used), rate_from=rate_from, container_fps=info["fps_container"],
                        timestamp_fps=info["fps_from_timestamps"], capture_fps=capture_fps, capture_key=capture_key,
                        rotation_deg=rotation, n_frames=len(frames), width_px=full_w, height_px=full_h,
                        processed_scale=w / full_w, codec=probe.codec, container=probe.container, warnings=warnings)
    return frames, np.asarray(times, float), timebase


def capture_rate(metadata: dict[str, str]) -> tuple[str | None, float | None]:
    """(key, rate) of the first capture-rate tag in `metadata` with a value in `FPS_RANGE`, else (None, None)."""
    for key, value in metadata.items():
        if key.lower().endswith(CAPTURE_RATE_SUFFIXES):
            try:
                rate = float(str(value).strip())
            except ValueError:
                continue
            if FPS_RANGE[0] <= rate <= FPS_RANGE[1]:
                return key, rate
    return None, None


def _times(probe: VideoProbe, fps: float | None) -> tuple[np.ndarray, dict]:
    """Container times via the shared rule, with the clip's wording and warnings."""
    warnings = []
    try:
        times, info = frame_times(probe, fps)
    except InputError:
        raise InputError("no usable timestamps or frame rate in the file: give --fps") from None
    if fps is None:
        if info["times_from"].startswith("container timestamps"):
            info["rate_from"] = "container timestamps"
            periods = np.diff(times)
            if len(periods) > 1:
                spread = (periods.max() - periods.min()) / float(np.median(periods))
                if spread > VFR_TOLERANCE:
                    warnings.append(f"variable frame rate (frame periods {1000 * periods.min():.1f}-{1000 * periods.max():.1f} ms): "
                                    "using the per-frame timestamps")
        else:
            info["rate_from"] = "frame index / container rate"
            warnings.append("timestamps missing, repeated or out of order: frame times are frame index / container rate "
                            f"({info['fps_used']:.4g} fps)")
    else:
        info["rate_from"] = "--fps"
    info["warnings"] = warnings
    return times, info


def _decode(path: Path, max_side_px: int | None) -> tuple[np.ndarray, VideoProbe, dict, int]:
    """Frames (rotated upright), probe, metadata tags and display rotation of `path` (one decode)."""
    try:
        probe, video, meta, rotation, _ = scan_video(path, keep_frames=True, max_side_px=max_side_px)
    except InputError as error:
        raise InputError(f"{path.name}: {error}") from None
    if rotation:
        video = np.ascontiguousarray(np.rot90(video, k=rotation // 90, axes=(1, 2)))
    return video, probe, meta, rotation


