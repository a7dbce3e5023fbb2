"""Video io with PyAV: our streams written lossless and byte-reproducible, any video scanned once.

Writing: RGB as libx264rgb at qp 0 (lossless, preset ultrafast: faster than FFV1 and smaller files),
depth, segmentation and thermal as FFV1 gray16le (16 bit), in Matroska. The muxer runs with the
bitexact flag and the encoders with one thread, so the same frames give the same bytes.
Reading: facts about a file (size, aspect, codec, rate, frame count, timestamps, display rotation)
are probed from it by decoding, not trusted from a config; `scan_video` does it in one decode for
the video import and for measure-clip, and `frame_times` is their one rule for a file's time base.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from realitygap.runtime.errors import InputError, one_line

PIXEL_FORMATS = {"rgb": ("rgb24", "rgb24"), "gray16": ("gray16le", "gray16le")}
CODECS = {"rgb": ("libx264rgb", {"preset": "ultrafast", "qp": "0"}), "gray16": ("ffv1", {})}


class VideoWriter:
    """Write frames one by one; `kind` is 'rgb' ((H, W, 3) uint8) or 'gray16' ((H, W) uint16)."""

    def __init__(self, path: Path, width: int, height: int, fps: int, kind: str):
        self.path, self.kind, self.shape = Path(path), kind, (height, width)
        self._in_format, pix_fmt = PIXEL_FORMATS[kind]
        self._container = av.open(str(path), "w", format="matroska", container_options={"fflags": "+bitexact"})
        codec, options = CODECS[kind]
        self._stream = self._container.add_stream(codec, rate=fps, options=options)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, pix_fmt
        self._stream.thread_count = 1
        self._stream.codec_context.time_base = Fraction(1, fps)
        self._stream.codec_context.flags |= av.codec.context.Flags.bitexact
        self._fps, self._count = fps, 0

    def write(self, frame: np.ndarray) -> None:
        if frame.shape[:2] != self.shape:
            raise ValueError(f"frame shape {frame.shape} does not match video size {self.shape}")
        video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=self._in_format)
        video_frame.pts, video_frame.time_base = self._count, Fraction(1, self._fps)
        self._container.mux(self._stream.encode(video_frame))
        self._count += 1

    def close(self) -> int:
        """Flush and close; returns the number of frames written."""
        self._container.mux(self._stream.encode(None))
        self._container.close()
        return self._count


def read_video(path: Path, kind: str, max_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Decode a video (the first `max_frames` frames, or all): (frames, timestamps in seconds from the container)."""
    out_format = PIXEL_FORMATS[kind][0]
    try:
        with av.open(str(path)) as container:
            frames, times = [], []
            for frame in container.decode(video=0):
                if max_frames is not None and len(frames) >= max_frames:
                    break
                frames.append(frame.to_ndarray(format=out_format))
                times.append(float(frame.time) if frame.time is not None else np.nan)
    except (av.FFmpegError, OSError) as error:
        raise InputError(f"cannot decode video {path}: {error}") from None
    if not frames:
        raise InputError(f"video {path} has no frames")
    return np.stack(frames), np.array(times)


@dataclass(frozen=True)
class VideoProbe:
    """Facts probed from a video file by decoding every frame."""

    width: int
    height: int
    sample_aspect_ratio: Fraction
    codec: str
    pix_fmt: str
    container: str
    container_fps: float | None
    n_frames: int
    t_s: np.ndarray
    """Presentation time of each decoded frame in seconds, NaN where the file gives none."""


def scan_video(path: Path, keep_frames: bool = False, max_side_px: int | None = None
               ) -> tuple[VideoProbe, np.ndarray | None, dict[str, str], int, int]:
    """Decode every frame of `path` once: (probe, frames, metadata, rotation_deg, header_frames).

    frames: (T, H, W, 3) uint8 RGB when `keep_frames` (scaled so the long side is at most `max_side_px`,
    even sizes, INTER_AREA; not rotated), else None. metadata: container and stream tags. rotation_deg:
    the display rotation of the first frame (0, 90, 180, 270). header_frames: the frame count the
    container declares (0: none). Problems raise InputError without the file name (callers add it).
    """
    frames, times, size, rotation, out_size = [], [], None, 0, None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError("no video stream (not a video file?)")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            header_frames = int(stream.frames or 0)
            metadata = {**{str(k): str(v) for k, v in container.metadata.items()},
                        **{str(k): str(v) for k, v in stream.metadata.items()}}
            for frame in container.decode(stream):
                if size is None:
                    size = (frame.width, frame.height)
                    rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                    out_size = _target_size(size, max_side_px)
                elif (frame.width, frame.height) != size:
                    raise InputError(f"frame size changes mid-stream ({size[0]}x{size[1]} -> {frame.width}x{frame.height})")
                if keep_frames:
                    if out_size != size:
                        frame = frame.reformat(width=out_size[0], height=out_size[1], format="rgb24", interpolation="AREA")
                    frames.append(frame.to_ndarray(format="rgb24"))
                times.append(float(frame.time) if frame.time is not None else math.nan)
            codec = stream.codec_context.name
            pix_fmt = stream.codec_context.pix_fmt or ""
            sar = stream.sample_aspect_ratio
            rate = stream.average_rate or stream.guessed_rate
            container_name = container.format.name
    except InputError:
        raise
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise InputError(f"corrupt or undecodable video ({decode_error_reason(error)})") from None
    if not times:
        raise InputError("no frames could be decoded (corrupt or empty video)")
    sar = Fraction(sar) if sar and sar > 0 else Fraction(1)
    probe = VideoProbe(width=size[0], height=size[1], sample_aspect_ratio=sar, codec=codec, pix_fmt=pix_fmt,
                       container=container_name, container_fps=float(rate) if rate else None, n_frames=len(times),
                       t_s=np.array(times))
    return probe, (np.stack(frames) if keep_frames else None), metadata, rotation, header_frames


def frame_times(probe: VideoProbe, fps: float | None) -> tuple[np.ndarray, dict]:
    """Frame times from 0 (s) and how they were found: the manifest's fps, else the container's
    timestamps, else the container's declared rate."""
    t = probe.t_s
    stamped = bool(np.all(np.isfinite(t))) and (len(t) == 1 or bool(np.all(np.diff(t) > 0)))
    measured_fps = (len(t) - 1) / (t[-1] - t[0]) if stamped and len(t) > 1 else None
    info = {"start_offset_s": float(t[0]) if stamped else None, "fps_from_timestamps": measured_fps,
            "fps_container": probe.container_fps}
    if fps is not None:
        times, info["fps_used"], info["times_from"] = np.arange(len(t)) / fps, fps, "manifest fps (i / fps)"
    elif stamped:
        times, info["fps_used"], info["times_from"] = t - t[0], measured_fps, "container timestamps (pts)"
    elif probe.container_fps:
        times, info["fps_used"] = np.arange(len(t)) / probe.container_fps, probe.container_fps
        info["times_from"] = "container frame rate (timestamps missing or not increasing)"
    else:
        raise InputError("no usable timestamps or frame rate in the file: give an fps column in the manifest")
    info["period_s"] = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    return times, info


def decode_error_reason(error: Exception) -> str:
    """FFmpeg's reason without the errno and path PyAV adds."""
    return one_line(getattr(error, "strerror", None) or str(error))


def _target_size(size: tuple[int, int], max_side_px: int | None) -> tuple[int, int]:
    """(width, height) scaled so the long side is at most `max_side_px` (even sizes), else `size`."""
    w, h = size
    if not max_side_px or max(w, h) <= max_side_px:
        return size
    f = max_side_px / max(w, h)
    return max(2, int(round(w * f / 2)) * 2), max(2, int(round(h * f / 2)) * 2)
