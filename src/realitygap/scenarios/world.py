"""Shared MJCF pieces: plain background, floor, lights and coloured objects.

Every scenario renders its moving objects in a saturated colour against a light, flat
background and a mid-grey floor, so that physics can later be measured from RGB pixels alone.
Shadows are off, since shadow maps make rendering many times slower; the `shadow` scenario turns
them on itself. Render costs measured during development: docs/twins.md.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

COLOURS_RGBA: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.08, 0.08, 1.0),
    "blue": (0.08, 0.22, 0.9, 1.0),
    "green": (0.08, 0.65, 0.18, 1.0),
    "yellow": (0.95, 0.8, 0.05, 1.0),
    "orange": (1.0, 0.45, 0.0, 1.0),
}
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS_RGBA)

BACKGROUND_RGB = (0.88, 0.88, 0.9)
FLOOR_RGBA = (0.42, 0.42, 0.44, 1.0)


def rgba(colour: str) -> str:
    """MJCF rgba attribute text for a named colour."""
    return " ".join(f"{c:g}" for c in COLOURS_RGBA[colour])


def ball_body_mjcf(name: str, centre_m: tuple[float, float, float], radius_m: float, colour: str,
                   solref: tuple[float, float], solimp: tuple[float, ...], density_kg_m3: float = 500.0) -> str:
    """A free ball body `name` (joint `<name>_free`, geom `<name>_geom`) whose contact parameters win
    (priority 1) over the surface it touches."""
    pos = " ".join(f"{v:.6f}" for v in centre_m)
    ref = " ".join(f"{v:.8g}" for v in solref)
    imp = " ".join(f"{v:g}" for v in solimp)
    return (
        f'    <body name="{name}" pos="{pos}">\n'
        f'      <freejoint name="{name}_free"/>\n'
        f'      <geom name="{name}_geom" type="sphere" size="{radius_m:.6f}" density="{density_kg_m3:g}" '
        f'rgba="{rgba(colour)}" priority="1" solref="{ref}" solimp="{imp}"/>\n'
        f"    </body>"
    )


def vertical_motion_bounds(radius_m: float, height_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Box swept by a ball of `radius_m` moving vertically between the floor and `height_m` (lowest point)."""
    return np.array([-radius_m, -radius_m, 0.0]), np.array([radius_m, radius_m, height_m + 2 * radius_m])


class WorldOptions(BaseModel):
    """Everything of a scenario's MJCF outside its own bodies, as data: the world constants and the
    render options. A scenario states its own (`ScenarioSpec.scene_options`); a negative control
    changes them through `ScenarioSpec.world_changes` (e.g. gravity), never by editing MJCF text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gravity_m_s2: float = Field(9.81, gt=0.0, allow_inf_nan=False)
    """Magnitude of gravity along world -z."""
    solver_attrs: str = ""
    """Extra <option> attributes, e.g. 'cone="elliptic" impratio="1"'."""
    shadows: bool = False
    """Lights cast shadows (many times slower rendering; only the `shadow` scenario needs them)."""
    shadow_map_size: int | None = Field(None, ge=0)
    """<quality shadowsize> in texels; None: 4096 with shadows, 0 without."""
    sun: bool = True
    """The directional light; False for scenarios that place their own lights."""
    floor_texture: bool = True
    """The faint neutral speckle on the floor (features for geometric consistency); False: uniform grey."""
    floor_grid_m: float = Field(4.0, gt=0.0)
    """The floor plane's render-grid spacing in metres (its third size): lighting is interpolated per vertex."""
    sphere_slices: int | None = Field(None, ge=3)
    """<quality numslices> (sphere tessellation); None: MuJoCo's default."""
    sphere_stacks: int | None = Field(None, ge=3)
    """<quality numstacks>; None: MuJoCo's default."""
    extra_bodies_xml: str = ""
    """Bodies added to the worldbody after the scenario's own (e.g. a negative control's extra object)."""


def world_mjcf(model_name: str, bodies_xml: str, options: WorldOptions, floor_contact_xml: str = "",
               extra_xml: str = "") -> str:
    """A complete MJCF document: flat background, floor plane at z = 0, lights, then `bodies_xml`.

    The floor carries a faint random speckle (20 % of texels a lighter grey, 512 px texture repeated
    4x4 over the 80 m plane): a plain floor gives too few SIFT keypoints per frame for the
    geometric-consistency measurement; the speckle gives enough and stays neutral (no saturated
    colour), so objects remain distinct. `options.floor_texture=False` keeps it uniform (scenarios
    whose law is about floor brightness, e.g. `shadow`).
    `bodies_xml` goes inside <worldbody> (bodies, static geoms, extra lights), then
    `options.extra_bodies_xml`; `extra_xml` after the worldbody (e.g. <actuator>, <contact>; <default>
    is not supported here). The rig (camera, sensors, timestep) is attached later by
    `realitygap.sim.rig.attach_rig`.
    """
    bg = " ".join(f"{c:g}" for c in BACKGROUND_RGB)
    floor = " ".join(f"{c:g}" for c in FLOOR_RGBA)
    floor_rgb = " ".join(f"{c:g}" for c in FLOOR_RGBA[:3])
    floor_look = 'material="floor_mat"' if options.floor_texture else f'rgba="{floor}"'
    floor_geom = (f'    <geom name="floor" type="plane" size="40 40 {options.floor_grid_m:g}" {floor_look} '
                  f'{floor_contact_xml}/>')
    shadow_size = options.shadow_map_size if options.shadow_map_size is not None else 4096 if options.shadows else 0
    quality = f'shadowsize="{shadow_size}"' + "".join(
        f' {name}="{value}"' for name, value in (("numslices", options.sphere_slices), ("numstacks", options.sphere_stacks))
        if value is not None)
    sun_xml = (f'    <light name="sun" directional="true" pos="0 -2 6" dir="0.2 0.4 -1" diffuse="0.55 0.55 0.55" '
               f'specular="0.1 0.1 0.1" castshadow="{cast_shadow(options)}"/>') if options.sun else ""
    return f"""<mujoco model="{model_name}">
  <compiler angle="radian"/>
  <option gravity="0 0 {-options.gravity_m_s2!r}" density="0" viscosity="0" {options.solver_attrs}/>
  <visual>
    <quality {quality}/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.45 0.45 0.45" specular="0 0 0"/>
    <rgba haze="{bg} 1"/>
    <map znear="0.001" zfar="10"/>
  </visual>
  <statistic extent="10" center="0 0 1"/>
  <asset>
    <texture name="sky" type="skybox" builtin="flat" rgb1="{bg}" rgb2="{bg}" width="16" height="16"/>
    <texture name="floor_tex" type="2d" builtin="flat" rgb1="{floor_rgb}" rgb2="{floor_rgb}"
             mark="random" random="0.2" markrgb="0.62 0.62 0.64" width="512" height="512"/>
    <material name="floor_mat" texture="floor_tex" texrepeat="4 4" rgba="1 1 1 1"/>
  </asset>
  <worldbody>
{sun_xml}
    {floor_geom}
{bodies_xml}
{options.extra_bodies_xml}
  </worldbody>
{extra_xml}
</mujoco>
"""


def cast_shadow(options: WorldOptions) -> str:
    """MJCF castshadow attribute text for the lights of a world with `options`."""
    return "true" if options.shadows else "false"
