"""The typed episode metadata (episode.json): one validated, versioned object that explains the files.

Every source writes it through `episode_meta` and `EpisodeWriter.finish`; every reader gets it from
`read_meta` as an `EpisodeMeta`, so `meta.calibration.camera.fx_px` or `meta.context.rig.thermal.ambient_k`
replace nested dict lookups. Blocks accept keys they do not know (a newer minor version may add some;
a source may add its own block, e.g. `import` or `generator`), and write back exactly what they hold.

Versioning: a reader refuses another major format version (one InputError line) and warns on another
minor one. Poses are 4x4 nested lists `T_world_<frame>` (metres); intrinsics in pixels (OpenCV).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from realitygap.episode.types import Context, context_setup_cost
from realitygap.runtime.errors import InputError, RealitygapWarning

FORMAT_VERSION = (1, 0)
"""(major, minor) of episode.json. Written as the integer major while the minor is 0 (as every file so
far), else as the string 'major.minor'."""


class FormatVersionWarning(RealitygapWarning):
    """A file of another minor format version: it is read, but fields may be missing or ignored."""


class _Block(BaseModel):
    """A metadata block: validated on construction, unknown keys kept (and written back) as they are."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CameraCalibration(_Block):
    """Pinhole camera, OpenCV convention (x right, y down, z forward); intrinsics in pixels."""

    model: str = "pinhole"
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float
    width_px: int
    height_px: int
    distortion: list[float] = Field(default_factory=lambda: [0.0] * 5)
    T_world_camera: list[list[float]]
    """4x4 pose of the camera frame in the world, metres."""

    @property
    def K(self) -> np.ndarray:
        """3x3 intrinsics matrix (pixels)."""
        return np.array([[self.fx_px, 0, self.cx_px], [0, self.fy_px, self.cy_px], [0, 0, 1]], float)


class LidarCalibration(_Block):
    T_world_lidar: list[list[float]]
    frame: str


class RadarCalibration(_Block):
    T_world_radar: list[list[float]]
    frame: str


class ThermalCalibration(_Block):
    """Radiance (W m^-2 sr^-1) = stored counts * `scale_w_m2_sr`; the camera is the RGB camera's."""

    camera: str
    scale_w_m2_sr: float
    radiance_w_m2_sr_by_instance: dict[str, float]
    background_radiance_w_m2_sr: float


class ImuCalibration(_Block):
    body: str
    T_body_imu: list[list[float]]


class EnuOrigin(_Block):
    """WGS84 origin of the world's ENU frame (x east, y north, z up): degrees and ellipsoidal metres."""

    lat_deg: float
    lon_deg: float
    alt_m: float


class GpsCalibration(_Block):
    antenna_body: str
    enu_origin: EnuOrigin


class Calibration(_Block):
    """Per sensor of the rig its intrinsics and mounting; sources that predict only RGB have `camera` alone."""

    camera: CameraCalibration
    lidar: LidarCalibration | None = None
    radar: RadarCalibration | None = None
    thermal: ThermalCalibration | None = None
    imu: ImuCalibration | None = None
    gps: GpsCalibration | None = None


class InstanceInfo(_Block):
    """A labelled object: its id in segmentation and annotations, its MuJoCo body."""

    id: int
    name: str
    class_name: str = Field(alias="class")
    body: str


class LawValue(_Block):
    """A quantity of the scenario's declared law for this episode's parameters."""

    name: str
    value: float
    unit: str
    description: str = ""


class Physics(_Block):
    """How the physics was stepped: timestep (s), physics and base-tick rates (Hz), gravity (m/s^2)."""

    timestep_s: float
    rate_hz: int
    base_tick_hz: int
    integrator: str
    gravity_m_s2: list[float]
    contact: dict[str, Any]


class EpisodeCost(_Block):
    """The cost ledger: `prediction` (work and time of this episode), `context_setup` (size of the spec)."""

    prediction: dict[str, Any] = Field(default_factory=dict)
    context_setup: dict[str, int] | None = None


class StreamInfo(_Block):
    """A recorded stream: its file, unit, frame and clock (plus codec, dtype, shape... for videos)."""

    file: str
    unit: str
    frame: str
    clock: str
    frames: int | None = None


class FileInfo(_Block):
    sha256: str
    bytes: int


class EpisodeMeta(_Block):
    """episode.json: context, calibration, rates, law, cost ledger; the writer adds format, streams, files, versions."""

    episode_id: str
    source: str
    context: Context
    calibration: Calibration
    rates_hz: dict[str, int]
    """Samples per second of every clocked stream ('camera' = frames per second)."""
    n_frames: int
    duration_s: float
    instances: list[InstanceInfo]
    law: dict[str, LawValue]
    cost: EpisodeCost
    physics: Physics | None = None
    imported: dict[str, Any] | None = Field(None, alias="import")
    """Imported videos: file, original properties, resampling (sources/video.py)."""
    generator: dict[str, Any] | None = None
    """Generated videos: pipeline, settings, resampling (learned sources)."""
    format_version: int | str | None = None
    streams: dict[str, StreamInfo] = Field(default_factory=dict)
    files: dict[str, FileInfo] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to episode.json (aliases as keys, absent blocks left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def instance(self, body: str) -> InstanceInfo | None:
        """The instance whose MuJoCo body is `body`, if any."""
        return next((inst for inst in self.instances if inst.body == body), None)


def episode_meta(context: Context, source: str, calibration: Calibration | dict, rates_hz: dict[str, int],
                 n_frames: int, duration_s: float, instances: list, law: dict, cost: dict[str, Any],
                 physics: Physics | dict | None = None, **blocks: Any) -> EpisodeMeta:
    """The metadata of an episode predicted for `context` by `source`, before the writer adds format,
    streams, files and versions. `cost` holds the ledger's `prediction` (and e.g. `setup`) entries, to
    which the context's setup cost is added; `blocks` are a source's own blocks (e.g. `generator=...`)."""
    return EpisodeMeta(
        episode_id=context.episode_id, source=source, context=context, calibration=calibration, rates_hz=rates_hz,
        n_frames=n_frames, duration_s=duration_s, instances=instances, law=law, physics=physics,
        cost={**cost, "context_setup": context_setup_cost(context)}, **blocks)


def parse_meta(data: dict, where: str) -> EpisodeMeta:
    """Validate an episode.json object read from `where`: InputError for another major format version or
    a malformed file, FormatVersionWarning for another minor version."""
    check_format_version(data.get("format_version"), FORMAT_VERSION, f"{where}")
    try:
        return EpisodeMeta.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        raise InputError(f"{where} is not a valid episode.json: {field}: {first.get('msg', 'invalid')}") from None


def written_format_version(version: tuple[int, int] = FORMAT_VERSION) -> int | str:
    """The `format_version` value written for (major, minor): the integer major when minor is 0."""
    major, minor = version
    return major if minor == 0 else f"{major}.{minor}"


def check_format_version(found: Any, supported: tuple[int, int], where: str) -> None:
    """InputError when `found` (int major or 'major.minor') is missing or of another major version than
    `supported`; FormatVersionWarning when only the minor version differs."""
    parsed = _parse_version(found)
    ours = ".".join(map(str, supported))
    if parsed is None:
        raise InputError(f"{where} has no valid format_version (got {found!r}); this realitygap reads format {ours}")
    if parsed[0] != supported[0]:
        raise InputError(f"{where} is format {found}, this realitygap reads format {supported[0]}.x: "
                         f"use a realitygap release of format {parsed[0]}, or recreate the data")
    if parsed[1] != supported[1]:
        warnings.warn(f"format {parsed[0]}.{parsed[1]} read by a realitygap of format {ours}: fields it does not "
                      "know are kept but not used", FormatVersionWarning, stacklevel=3)


def _parse_version(found: Any) -> tuple[int, int] | None:
    if isinstance(found, bool):
        return None
    if isinstance(found, int):
        return found, 0
    if isinstance(found, str):
        major, dot, minor = found.partition(".")
        if major.isdigit() and (not dot or minor.isdigit()):
            return int(major), int(minor or 0)
    return None
