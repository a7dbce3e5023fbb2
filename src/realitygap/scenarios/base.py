"""Scenario API: everything about one scenario lives in its module, as one `ScenarioSpec` subclass.

A scenario is *what exists* (the MuJoCo world), *what the physics says must happen* (its declared
law), how that is read back (ground truth from the state; its law fit on tracks measured from pixels
and on a clip's plane track) and how people describe it (prompt template, phrases, hints, facts).
Sensors and scoring live elsewhere. Every subclass fills in the fields and overrides `build_mjcf`,
`declared_law`, `law_position`, `duration_s`, `motion_bounds_m`, `measure_state` and
`fit_declared_law`; the other hooks (`scene_options`, `initialize`, `control`, `tracking_plane`,
`position_from_pixels`, `measure_image`, `fit_clip`, ...) have defaults. Validation, sampling and
prompts are shared. docs/architecture.md lists what goes where.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from realitygap.core.fitting import FitResult, MeasuredTrack
from realitygap.core.planefit import ClipFit, PlaneTrack
from realitygap.runtime.errors import InputError
from realitygap.scenarios.hints import Fact, Hint
from realitygap.scenarios.world import WorldOptions

UNIVERSAL_BOUNDS: dict[str, tuple[float, float]] = {"g_m_s2": (0.0, math.inf)}
"""Bounds every scenario shares: gravity pulls down (a positive g along the world's -z)."""

ParamValue = float | str
Params = dict[str, ParamValue]


class Parameter(BaseModel):
    """One dimension of a scenario's domain: a numeric range with a unit, or a set of choices."""

    model_config = ConfigDict(frozen=True)

    name: str
    unit: str
    description: str
    default: ParamValue
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _check_domain(self) -> "Parameter":
        numeric = self.low is not None and self.high is not None
        if numeric == (self.choices is not None):
            raise ValueError(f"parameter {self.name}: give either low/high or choices")
        if numeric and not (self.low < self.high):
            raise ValueError(f"parameter {self.name}: low must be < high")
        self.validate_value(self.default)
        return self

    @property
    def is_numeric(self) -> bool:
        return self.choices is None

    def domain_text(self) -> str:
        if self.is_numeric:
            return f"[{self.low:g}, {self.high:g}] {self.unit}".rstrip()
        return "{" + ", ".join(self.choices or ()) + "}"

    def validate_value(self, value: Any) -> ParamValue:
        """Return `value` converted to the parameter's type, or raise InputError naming the problem."""
        if not self.is_numeric:
            text = str(value).strip().lower()
            if text not in (self.choices or ()):
                raise InputError(
                    f"parameter {self.name}={value!r} is not one of {', '.join(self.choices or ())}"
                )
            return text
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"parameter {self.name}={value!r} is not a number ({self.unit})") from None
        if not math.isfinite(number):
            raise InputError(f"parameter {self.name}={value!r} is not a finite number")
        assert self.low is not None and self.high is not None
        if not (self.low <= number <= self.high):
            raise InputError(
                f"parameter {self.name}={number:g} {self.unit} is outside its domain {self.domain_text()}"
            )
        return number

    def sample(self, rng: np.random.Generator) -> ParamValue:
        """Draw uniformly from the domain (numeric values rounded to 4 significant digits)."""
        if not self.is_numeric:
            choices = self.choices or ()
            return choices[int(rng.integers(len(choices)))]
        assert self.low is not None and self.high is not None
        value = float(rng.uniform(self.low, self.high))
        return float(f"{value:.4g}")


def radius_parameter(default_m: float = 0.1) -> Parameter:
    return Parameter(name="radius_m", unit="m", low=0.04, high=0.15, default=default_m, description="ball radius")


def colour_parameter(default: str, choices: tuple[str, ...], what: str = "ball") -> Parameter:
    return Parameter(name="colour", unit="", choices=choices, default=default, description=f"{what} colour")


class LawQuantity(BaseModel):
    """A measurable quantity with its unit, e.g. the analytic impact time of a drop."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    unit: str
    description: str = ""


class InstanceSpec(BaseModel):
    """A labelled object of the scene: a MuJoCo body that gets an instance id and annotations.

    `temperature_k` and `emissivity` describe its surface for the thermal (long-wave IR) sensor.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    body: str
    class_name: str
    temperature_k: float = 293.15
    emissivity: float = 0.95


class ScenarioSpec(BaseModel):
    """Base of every scenario. Fields describe the domain and the law; methods build the world and state the law."""

    model_config = ConfigDict(frozen=True)

    name: str
    summary: str
    parameters: tuple[Parameter, ...]
    law: str
    prompt_template: str
    instances: tuple[InstanceSpec, ...]
    sensor_body: str
    """Body carrying the IMU and GPS (the moving object)."""
    gravity_m_s2: float = 9.81
    event_margin_s: float = 0.5
    world_changes: dict[str, Any] = {}
    """Changes to this instance's world (`WorldOptions` fields, e.g. {"gravity_m_s2": 5.0} for a negative
    control); the declared law keeps the scenario's own constants."""
    camera_elevation_deg: float = 0.0
    """How far the auto-framed camera looks down (0 = horizontal, along +y); e.g. to see the floor."""
    prompt_phrases: ClassVar[tuple[str, ...]] = ()
    """Paraphrases of the scene, besides `summary` and the prompt template, for choosing the scenario from a prompt."""
    param_hints: ClassVar[Mapping[str, tuple[Hint, ...]]] = {}
    """Per numeric parameter: the keywords that tie a number in a prompt to it (`realitygap.scenarios.hints`)."""
    prompt_facts: ClassVar[tuple[Fact, ...]] = ()
    """Fixed properties the prompt template states (from the module's constants): a prompt may repeat, not change them."""
    physical_bounds: ClassVar[Mapping[str, tuple[float, float]]] = {}
    """Closed range [low, high] outside which a measured law quantity cannot be physically true (e.g. a
    restitution above 1 creates energy); quantities not named here are bounded by `UNIVERSAL_BOUNDS`."""
    recovered_params: ClassVar[Mapping[str, tuple[str, float]]] = {}
    """Parameters that a law fit recovers from pixels: parameter -> (measured quantity, factor to the
    parameter's unit), e.g. bounce's restitution -> ("restitution", 1.0); intentionality compares them
    with what the context requested."""
    clip_min_frames: ClassVar[int] = 0
    """Fewest frames of free motion `fit_clip` needs; 0: no clip fit (`realitygap measure-clip --law` lists the others)."""
    clip_main_quantity: ClassVar[str] = ""
    """The quantity a clip is measured for: when it is refused (metric, no scale), the measurement is refused."""
    clip_motion: ClassVar[str] = ""
    """How the measured object moves, for finding it unaided in a clip (`realitygap.clip.find`):
    'free_flight' (parabolic arcs accelerating down the image), 'oscillation' (a swing back and forth),
    '' (any coherent motion)."""
    clip_rolling_shutter: ClassVar[bool] = False
    """`fit_clip` fits one free-flight parabola: a rolling shutter's readout is estimated from its jerk
    (`realitygap.clip.shutter`) and, where significant, the sample times are corrected."""

    # --- domain -------------------------------------------------------------------------------
    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise InputError(
            f"scenario {self.name} has no parameter {name!r}; it has "
            + ", ".join(p.name for p in self.parameters)
        )

    def resolve_params(self, given: Mapping[str, Any] | None = None) -> Params:
        """Validate `given` against the domain and fill the defaults; unknown names are errors."""
        given = dict(given or {})
        for name in given:
            self.parameter(name)
        params = {p.name: p.validate_value(given.get(p.name, p.default)) for p in self.parameters}
        self.check_combination(params)
        return params

    def check_combination(self, params: Params) -> None:
        """Raise InputError when valid values do not go together (default: any combination is fine)."""

    def sample_params(self, rng: np.random.Generator, fixed: Mapping[str, Any] | None = None,
                      max_tries: int = 100) -> Params:
        """Sample every parameter not in `fixed` uniformly from its domain (one draw per parameter per
        try), redrawing combinations that `check_combination` refuses."""
        error: InputError | None = None
        for _ in range(max_tries):
            sampled = {p.name: p.sample(rng) for p in self.parameters}  # always draw all: stable stream
            try:
                return self.resolve_params({**sampled, **dict(fixed or {})})
            except InputError as refused:
                error = refused
                if fixed and all(p.name in fixed for p in self.parameters):
                    break
        raise error  # type: ignore[misc]

    def prompt(self, params: Mapping[str, Any]) -> str:
        """Natural-language description of the scene for text/image-to-video models."""
        return self.prompt_template.format(**self.resolve_params(params))

    # --- to be provided by each scenario ------------------------------------------------------
    def build_mjcf(self, params: Params, timestep_s: float) -> str:
        """MJCF of the world (no rig): bodies named as in `instances`, plain background.

        `timestep_s` is the physics step the clock chose; contact models calibrated against the
        law (e.g. restitution) depend on it.
        """
        raise NotImplementedError

    def world_options(self, params: Params) -> WorldOptions:
        """The world constants and render options `build_mjcf` uses: `scene_options` with `world_changes` applied."""
        own = self.scene_options(params)
        return WorldOptions.model_validate({**own.model_dump(), **self.world_changes}) if self.world_changes else own

    def scene_options(self, params: Params) -> WorldOptions:
        """The scenario's own world options. Default: its gravity, everything else `WorldOptions`' defaults."""
        return WorldOptions(gravity_m_s2=self.gravity_m_s2)

    def max_timestep_s(self, params: Params) -> float:
        """Largest physics step at which the law holds to its stated tolerance."""
        return 1e-3

    def initialize(self, params: Params, model, data) -> None:
        """Set the initial state (e.g. launch velocities) before the first sample. Default: nothing.

        Called once after MjData is created; the runner then calls mj_forward.
        """

    def motion_plane(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """(point, unit normal) in world metres of the plane that contains the tracked object's centre
        trajectory, for metric back-projection from pixels. Default: the x-z plane through the origin."""
        return np.zeros(3), np.array([0.0, 1.0, 0.0])

    def tracking_plane(self, params: Params, instance: str) -> tuple[np.ndarray, np.ndarray]:
        """(point, unit normal) of the plane on which `instance`'s image-mask centroid lies, for
        back-projecting it to metres. Default: `motion_plane`. A box seen from the side shows mostly
        its near face, so its mask centroid lies on that face, not on the plane of its centre: using
        the centre plane at distance D for a face at D - d scales every distance by D / (D - d)."""
        return self.motion_plane(params)

    def position_from_pixels(self, params: Params, instance: str, centroid_px: np.ndarray, sigma_px: np.ndarray,
                             K: np.ndarray, T_world_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Model-based back-projection of an instance's mask centroids (N, 2) px (NaN when absent) to
        world positions and one-sigma uncertainties (N, 3) m, for objects whose mask centroid is not a
        point of a known plane (e.g. a turning door). Default None: the generic plane back-projection
        on `tracking_plane` is used."""
        return None

    def control(self, params: Params, model, data) -> None:
        """Called by the runner once per base tick, before stepping. Default: nothing.

        A scenario may schedule model parameters here (e.g. per-impact contact damping), never
        the state: the state is the physics' alone.
        """

    def contact_settings(self, params: Params, timestep_s: float) -> dict:
        """MuJoCo contact parameters that make the law hold, recorded in every episode."""
        return {}

    def declared_law(self, params: Params) -> dict[str, LawQuantity]:
        """The declared law: analytic values of the measurable quantities."""
        raise NotImplementedError

    def law_position(self, params: Params, t_s: np.ndarray) -> np.ndarray:
        """Law-predicted world position (N, 3) in metres of the sensor body at times `t_s`."""
        raise NotImplementedError

    def duration_s(self, params: Params) -> float:
        """Episode length: the scenario's event plus `event_margin_s`."""
        raise NotImplementedError

    def motion_bounds_m(self, params: Params) -> tuple[np.ndarray, np.ndarray]:
        """World-frame box (low, high) that contains all motion; the camera is framed on it."""
        raise NotImplementedError

    def measure_state(self, params: Params, state: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Extract the law's quantities from the ground-truth state table (same names as `declared_law`)."""
        raise NotImplementedError

    def fit_declared_law(self, params: Params, tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        """Fit the declared law's form to tracks measured from pixels (world metres, keyed by instance
        name) and return its quantities (names as in `declared_law` / `measure_state`, plus fitted
        constants such as g_m_s2). Reads only the law's form and the known scene geometry, never the
        law's predicted values. Default: no law fit (empty)."""
        return {}

    def measure_image(self, params: Params, rgb: np.ndarray, t_s: np.ndarray, object_mask: np.ndarray, K: np.ndarray,
                      T_world_camera: np.ndarray) -> dict[str, FitResult]:
        """Quantities read from the frames (T, H, W, 3) uint8 themselves rather than from an object's track
        (e.g. a shadow on the floor); `object_mask` (T, H, W) bool marks the tracked objects. Default: none."""
        return {}

    def bounds_of(self, quantity: str) -> tuple[float, float]:
        """[low, high] a measured `quantity` must lie in to be physically possible ((-inf, inf): no bound)."""
        return {**UNIVERSAL_BOUNDS, **self.physical_bounds}.get(quantity, (-math.inf, math.inf))

    def fit_clip(self, track: PlaneTrack, noise: np.ndarray, rng: np.random.Generator, n_boot: int, *,
                 automatic: bool, length_m: float | None = None) -> ClipFit:
        """Fit the law to one object's track in its motion plane from any clip (`realitygap measure-clip`: no
        context, no twin): metres with a scale, pixels without; `noise` (N,) per-axis sigma in the track's
        unit; `automatic` chooses the window (else the whole track); `length_m` the user's length, where the
        law needs one. Quantities that need the scale are marked metric. InputError when not measurable."""
        raise NotImplementedError(f"scenario {self.name} has no clip fit")

    def fit_law(self, params: Mapping[str, Any], tracks: Mapping[str, MeasuredTrack]) -> dict[str, FitResult]:
        """`fit_declared_law` on validated parameters; KeyError when a tracked instance has no track."""
        p = self.resolve_params(params)
        missing = [i.name for i in self.instances if i.name not in tracks]
        if missing:
            raise KeyError(f"scenario {self.name} needs tracks for {', '.join(missing)}")
        return self.fit_declared_law(p, tracks)

    def law_trace(self, params: Params, state: Mapping[str, np.ndarray]) -> dict:
        """The one curve that best shows state against law, for the report.

        Default: the sensor body's coordinate along the world axis it moves most on, with the law's
        `law_position`. Scenarios whose law is about an angle override this.
        Returns {"label": str, "unit": str, "t_s": array, "state": array, "law": array}.
        """
        p = self.resolve_params(params)
        t = body_column(state, self.sensor_body, "t_s")
        position = np.stack([body_column(state, self.sensor_body, f"position_{a}_m") for a in "xyz"], axis=1)
        axis = int(np.argmax(np.ptp(position, axis=0)))
        return {"label": f"{'xyz'[axis]} position of {self.sensor_body}", "unit": "m", "t_s": t,
                "state": position[:, axis], "law": self.law_position(p, t)[:, axis]}


def body_column(state: Mapping[str, np.ndarray], body: str, column: str) -> np.ndarray:
    """One column of the long-format state table, restricted to one body, in time order."""
    rows = np.asarray(state["body"]) == body
    return np.asarray(state[column], dtype=float)[rows]


def first_crossing_time(t_s: np.ndarray, values: np.ndarray, level: float) -> float:
    """Time of the first downward crossing of `level`, linearly interpolated; NaN if none."""
    below = np.flatnonzero(values <= level)
    if below.size == 0 or below[0] == 0:
        return float("nan")
    i = int(below[0])
    v0, v1 = values[i - 1], values[i]
    return float(t_s[i - 1] + (t_s[i] - t_s[i - 1]) * (v0 - level) / (v0 - v1))
