"""The realistic measure-clip suite: clips a user would bring, with known truth (issue 14, deliverable 8).

Each case renders, with the small analytic compositor below (exact truth, fast), one ball moving by a
law -- drop, bounce or pendulum -- in a room that looks nothing like realitygap's renders, adds one or a
few nuisances of real footage, and writes an H.264 MP4 (`tests.helpers.write_mp4`). `build_case(name,
folder)` returns a `RealisticCase`; `CASES` lists the names; `benchmarks/clip_suite.py` scores
`measure_clip` on them and `tests/clip/test_realistic_suite.py` asserts the acceptance.

World and camera
- World Z up, metres, seconds. The ball's centre moves in the motion plane y = 0, in front of a back
  wall (plane y = `Room.wall_y_m`) and above a wooden floor (z = 0). g = 9.81 m/s^2 straight down.
- Pinhole camera in the OpenCV convention (x right, y down, z forward), square pixels, f from the
  horizontal field of view, principal point at the image centre ((W - 1) / 2, (H - 1) / 2: pixel
  centres at integers). Pose: position, look-at point and roll; a tilted camera looks down at its
  target. Optional radial distortion k1 on normalised coordinates (x_d = x_u (1 + k1 r_u^2)), optional
  rolling shutter (row v of frame k is exposed at t_k + readout (v / H - 1/2)), optional pan and shake.
- Frame k shows the instant t_k = k / fps (the content's capture rate), or the mean of `blur`
  sub-frames spread over `exposure` of the frame period centred on t_k (motion blur).
- The ball is ray-cast (a sphere of radius R, 4 x 4 samples per pixel): Lambert + ambient + a Phong
  highlight, a soft contact shadow on the floor. Hands, a person, a second ball, a string are painted
  with the same supersampled coverage. Then the camera: optical blur, vignetting, white balance,
  saturation, exposure, noise, 8 bits, H.264.

Truth and what the user knows
- `truth`: drop {g_m_s2}; bounce {restitution, g_m_s2} (the rebound / impact ratio of the vertical
  speed at every impact, constant; the horizontal speed is kept through impacts, then the ball rolls to
  rest when a hop would be lower than 4 mm); pendulum {period_s}: the bob's centre moves as a point
  pendulum of length L released from rest at theta0, theta(t) = 2 asin(k sn(K - w0 t | k^2)), k =
  sin(theta0 / 2), w0 = sqrt(g / L): period 4 K(k^2) / w0 exactly. The scored quantity is the law's
  main one (`MAIN`); g of a bounce is shown but not scored.
- `options` (the `ClipOptions` fields a user would give): the law; `fps` only where the file's rate is
  wrong (a high-speed capture stored at 30 fps without capture-rate metadata); exactly one scale:
  `object_diameter_m` (the ball's true diameter, 2 R) or `scale_px_per_m` = `truth_px_per_m` (what a
  ruler held in the motion plane where the ball moves, facing the camera, reads: f / Z); the object's
  colour only where a user would name it ('blue'), else auto.
- `truth_px_per_m`: f / Z in the file's pixels, Z the depth of the ball's centre, median over the frames
  of the measured motion (drop: release to first impact; bounce: release to rest; pendulum: after
  release). A tilted camera foreshortens the vertical by cos(pitch): a fall measured with f / Z alone
  reads g cos(pitch) -- the ball's apparent size changes along the fall, which tells the tilt.
- `truth_track_px`: the projected centre of the ball per frame in the file's pixels (rolling shutter
  included), NaN where the centre is outside the image.
- `oracle`: the main quantity a perfect tracker gets from `truth_track_px` with the user's px/m (or
  `truth_px_per_m`) and a flat image of uniform scale: the camera's own systematic error (tilt, lens,
  rolling shutter). Drop: parabola per image axis over the free-fall frames, g = |2 c2| / scale; bounce:
  sqrt(sum of apex heights 1..2 / 0..1) in image rows; pendulum: the truth (any static mapping of a
  periodic motion keeps its period).
- `expect`: 'measured' (a user would expect a number), or 'implausible_or_refused' (a moving camera:
  no number is also a right answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from scipy.special import ellipj, ellipk

from tests.helpers import write_mp4

G = 9.81
MAIN = {"drop": "g_m_s2", "bounce": "restitution", "pendulum": "period_s"}
"""The quantity each law is scored on."""
TOLERANCE = {"g_m_s2": 0.03, "restitution": 0.03, "period_s": 0.005}
"""Relative tolerance of the acceptance (issue 14)."""
SUPERSAMPLE = 4
"""Samples per pixel side for the ball (painted shapes: signed-distance coverage)."""


@dataclass
class RealisticCase:
    """One clip of the suite and what is known about it (module docstring)."""

    name: str
    law: str
    video_path: Path
    options: dict
    """`ClipOptions` fields: what a user knows."""
    truth: dict
    """Quantity name -> true value (SI)."""
    nuisances: list[str]
    expect: str = "measured"
    """'measured' or 'implausible_or_refused' (no number is also a right answer)."""
    truth_px_per_m: float = math.nan
    """f / Z of the ball's centre in the file's pixels, median over the measured motion."""
    oracle: dict = field(default_factory=dict)
    """Quantity -> what a perfect tracker with the user's scale and a flat image gets (empty: moving camera)."""
    truth_track_px: np.ndarray | None = None
    """(T, 2) projected centre of the ball per frame, file pixels, NaN outside the image."""
    content_fps: float = math.nan
    """Capture rate of the content (frames per second)."""
    file_fps: float = math.nan
    """Rate the file plays at."""

    @property
    def main(self) -> str:
        return MAIN[self.law]


def build_case(name: str, folder: Path) -> RealisticCase:
    """Render case `name` into `folder/<name>.mp4` (deterministic) and return it."""
    if name not in _RECIPES:
        raise KeyError(f"unknown realistic case {name!r}; choose one of {', '.join(CASES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _RECIPES[name](name, folder)


def build_all(folder: Path) -> list[RealisticCase]:
    return [build_case(name, folder) for name in CASES]


# --------------------------------------------------------------------------------------------------
# Motion: exact laws


@dataclass(frozen=True)
class Flight:
    """Held at `p0` until `t_release_s`, then free flight with `v0` (g down), bouncing on the floor with
    restitution `e` on the vertical speed (horizontal speed kept); once a hop would be lower than
    `min_hop_m` the ball rolls, its horizontal speed decaying at `roll_decel_m_s2` to rest."""

    p0: tuple[float, float, float]
    radius_m: float
    t_release_s: float = 0.0
    v0: tuple[float, float, float] = (0.0, 0.0, 0.0)
    e: float = 0.4
    g: float = G
    min_hop_m: float = 0.004
    roll_decel_m_s2: float = 0.5

    def arcs(self) -> list[tuple[float, float, float]]:
        """(start time, start height, start vertical speed) of every airborne arc, and the time rolling
        starts as a last entry (start time, R, 0)."""
        out, t, z, vz = [], self.t_release_s, self.p0[2], self.v0[2]
        R, g = self.radius_m, self.g
        for _ in range(400):
            out.append((t, z, vz))
            tau = (vz + math.sqrt(vz * vz + 2 * g * (z - R))) / g
            t, z, vz = t + tau, R, self.e * (g * tau - vz)
            if vz * vz / (2 * g) < self.min_hop_m:
                break
        out.append((t, R, 0.0))
        return out

    def impact_times(self) -> list[float]:
        return [a[0] for a in self.arcs()[1:]]

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t_s, float))
        arcs = self.arcs()
        starts = np.array([a[0] for a in arcs])
        k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(arcs) - 1)
        t0, z0, vz0 = (np.array([a[i] for a in arcs])[k] for i in range(3))
        tau = np.maximum(t - t0, 0.0)
        z = np.where(k < len(arcs) - 1, z0 + vz0 * tau - 0.5 * self.g * tau**2, self.radius_m)
        z = np.maximum(z, self.radius_m)
        t_roll = starts[-1]
        xy = []
        for axis in (0, 1):
            v = self.v0[axis]
            fly = np.clip(t, self.t_release_s, t_roll) - self.t_release_s
            roll = np.maximum(t - t_roll, 0.0)
            stop = abs(v) / self.roll_decel_m_s2 if v else 0.0
            roll = np.minimum(roll, stop)
            xy.append(self.p0[axis] + v * fly + v * roll - 0.5 * math.copysign(self.roll_decel_m_s2, v) * roll**2 * (v != 0))
        z = np.where(t < self.t_release_s, self.p0[2], z)
        return np.stack([xy[0], xy[1], z], axis=-1)

    def measured_span(self) -> tuple[float, float]:
        return self.t_release_s, self.impact_times()[0]


@dataclass(frozen=True)
class Swing:
    """A point pendulum: pivot, length L (pivot to the bob's centre), released from rest at `theta0_deg`
    (towards +x) at `t_release_s`; exact finite-amplitude motion (module docstring)."""

    pivot: tuple[float, float, float]
    length_m: float
    theta0_deg: float
    t_release_s: float = 0.0
    g: float = G

    @property
    def period_s(self) -> float:
        m = math.sin(math.radians(self.theta0_deg) / 2) ** 2
        return 4 * float(ellipk(m)) / math.sqrt(self.g / self.length_m)

    def theta(self, t_s: np.ndarray) -> np.ndarray:
        t = np.maximum(np.atleast_1d(np.asarray(t_s, float)) - self.t_release_s, 0.0)
        th0 = math.radians(self.theta0_deg)
        k = math.sin(th0 / 2)
        K = float(ellipk(k * k))
        sn, *_ = ellipj(K - math.sqrt(self.g / self.length_m) * t, k * k)
        return 2 * np.arcsin(np.clip(k * sn, -1, 1))

    def __call__(self, t_s: np.ndarray) -> np.ndarray:
        th = self.theta(t_s)
        p = np.asarray(self.pivot, float)
        return np.stack([p[0] + self.length_m * np.sin(th), np.full_like(th, p[1]), p[2] - self.length_m * np.cos(th)], axis=-1)

    def measured_span(self) -> tuple[float, float]:
        return self.t_release_s, math.inf


# --------------------------------------------------------------------------------------------------
# Camera


@dataclass(frozen=True)
class View:
    """The camera at one instant: centre C (3,), R_world_camera (3, 3) (columns: camera x, y, z in the
    world), focal length and principal point (px), k1, size."""

    C: np.ndarray
    R: np.ndarray
    f: float
    cx: float
    cy: float
    k1: float
    width: int
    height: int

    def project(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) -> pixels (..., 2) and depth (...)."""
        Xc = (np.asarray(X, float) - self.C) @ self.R
        z = Xc[..., 2]
        x, y = Xc[..., 0] / z, Xc[..., 1] / z
        d = 1 + self.k1 * (x * x + y * y)
        return np.stack([self.f * x * d + self.cx, self.f * y * d + self.cy], axis=-1), z

    def rays(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """World directions (..., 3) (camera z component 1) of pixels (u, v): the distortion inverted by
        fixed-point iteration."""
        xd, yd = (u - self.cx) / self.f, (v - self.cy) / self.f
        xu, yu = xd, yd
        if self.k1:
            for _ in range(12):
                d = 1 + self.k1 * (xu * xu + yu * yu)
                xu, yu = xd / d, yd / d
        return xu[..., None] * self.R[:, 0] + yu[..., None] * self.R[:, 1] + self.R[:, 2]


@dataclass(frozen=True)
class Camera:
    """Pinhole camera (module docstring); `pan_deg_s` turns it about the world vertical, `shake_deg` adds a
    seeded hand tremor (sum of sinusoids, 1.3-6 Hz) about its own axes."""

    width: int = 640
    height: int = 360
    hfov_deg: float = 66.0
    position: tuple[float, float, float] = (0.0, -2.4, 0.75)
    look_at: tuple[float, float, float] = (0.0, 0.0, 0.75)
    roll_deg: float = 0.0
    k1: float = 0.0
    readout_s: float = 0.0
    pan_deg_s: float = 0.0
    shake_deg: float = 0.0
    seed: int = 0

    @property
    def f_px(self) -> float:
        return 0.5 * self.width / math.tan(math.radians(self.hfov_deg) / 2)

    @property
    def static(self) -> bool:
        return self.pan_deg_s == 0 and self.shake_deg == 0

    def view(self, t_s: float = 0.0) -> View:
        C = np.asarray(self.position, float)
        z = np.asarray(self.look_at, float) - C
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        r = math.radians(self.roll_deg)
        x, y = math.cos(r) * x + math.sin(r) * y, -math.sin(r) * x + math.cos(r) * y
        R = np.stack([x, y, z], axis=1)
        if not self.static:
            R = _rot_z(math.radians(self.pan_deg_s * t_s)) @ R @ self._shake(t_s)
        return View(C, R, self.f_px, (self.width - 1) / 2, (self.height - 1) / 2, self.k1, self.width, self.height)

    def _shake(self, t_s: float) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        freq, phase = rng.uniform(1.3, 6.0, (3, 3)), rng.uniform(0, 2 * np.pi, (3, 3))
        a = math.radians(self.shake_deg) * (np.sin(2 * np.pi * freq * t_s + phase).sum(axis=1) / 3)
        return _rot_x(a[0]) @ _rot_y(a[1]) @ _rot_z(a[2])


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


# --------------------------------------------------------------------------------------------------
# Scene


@dataclass(frozen=True)
class Panel:
    """A flat rectangle x0..x1, z0..z1 in the plane y = `y_m` facing the camera: 'ruler' (yellow, black
    ticks every 5 cm, longer every 10 cm), 'bar' (dark metal), 'picture' (a framed two-tone print), 'switch'
    (plain)."""

    kind: str
    x0: float
    x1: float
    z0: float
    z1: float
    y_m: float = 0.0
    rgb: tuple[float, float, float] = (0.2, 0.2, 0.22)


@dataclass(frozen=True)
class Room:
    """Back wall and floor, textures seeded by `seed`; a lamp fixture (x, z, radius m) on the wall."""

    wall_y_m: float = 1.5
    wall_rgb: tuple[float, float, float] = (0.80, 0.76, 0.68)
    floor_rgb: tuple[float, float, float] = (0.55, 0.38, 0.24)
    light: float = 1.0
    lamp: tuple[float, float, float] | None = None
    lamp_power: float = 1.0
    panels: tuple[Panel, ...] = ()
    decor: bool = True
    """A seeded picture and light switch on the wall, away from the middle of the image."""
    key_light: tuple[float, float, float] = (-0.45, -0.6, 0.8)
    """Direction towards the light the ball is shaded by (world)."""
    ambient: float = 0.28
    seed: int = 0


@dataclass(frozen=True)
class Ball:
    path: Callable[[np.ndarray], np.ndarray]
    radius_m: float
    rgb: tuple[float, float, float]
    specular: float = 0.35
    shininess: float = 30.0


@dataclass(frozen=True)
class Look:
    """The camera's processing: optical blur (px), vignetting, white-balance gains, saturation (1: as is),
    exposure gain, noise (8-bit levels at mid grey, signal-dependent)."""

    psf_px: float = 0.6
    vignette: float = 0.25
    wb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    saturation: float = 1.0
    gain: float = 1.0
    noise: float = 1.5


@dataclass(frozen=True)
class Shot:
    camera: Camera
    room: Room
    balls: tuple[Ball, ...]
    """The measured ball first."""
    duration_s: float
    fps: float
    behind: tuple = ()
    """Painters (view, t) -> shapes drawn between the room and the balls."""
    front: tuple = ()
    """... and over the balls."""
    blur: int = 1
    exposure: float = 0.5
    look: Look = Look()
    file_fps: float | None = None
    file_size: tuple[int, int] | None = None
    crf: int = 19
    seed: int = 0


def render_shot(shot: Shot) -> np.ndarray:
    """Frames (T, H, W, 3) uint8 of `shot` at its content rate."""
    cam, n = shot.camera, int(round(shot.duration_s * shot.fps))
    rng = np.random.default_rng(shot.seed)
    room = _StaticRoom(cam, shot.room) if cam.static else _TurningRoom(cam, shot.room)
    vignette = _vignette(cam.width, cam.height, shot.look.vignette)
    frames = np.empty((n, cam.height, cam.width, 3), np.uint8)
    for k in range(n):
        t_k = k / shot.fps
        acc = np.zeros((cam.height, cam.width, 3), np.float32)
        for j in range(shot.blur):
            t = t_k + shot.exposure / shot.fps * ((j + 0.5) / shot.blur - 0.5) if shot.blur > 1 else t_k
            acc += _render_instant(shot, t, room)
        frames[k] = _develop(acc / shot.blur, shot.look, vignette, rng)
    return frames


def _render_instant(shot: Shot, t: float, room) -> np.ndarray:
    view = shot.camera.view(t)
    rgb, floor_xy, floor_idx = room.at(view)
    img = rgb.copy()
    flat = img.reshape(-1, 3)
    for ball in shot.balls:
        p = ball.path(np.array([t]))[0]
        _shadow(flat, floor_xy, floor_idx, p, ball.radius_m)
    for painter in shot.behind:
        _paint(img, painter(view, t))
    order = sorted(shot.balls, key=lambda b: -float(view.project(b.path(np.array([t])))[1][0]))
    for ball in order:
        _draw_ball(img, view, ball, t, shot.camera.readout_s, shot.room)
    for painter in shot.front:
        _paint(img, painter(view, t))
    return img


def _vignette(W: int, H: int, strength: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    r2 = ((xx - (W - 1) / 2) ** 2 + (yy - (H - 1) / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2)
    return (1 - strength * r2)[..., None].astype(np.float32)


def _develop(img: np.ndarray, look: Look, vignette: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if look.psf_px > 0:
        img = cv2.GaussianBlur(img, (0, 0), look.psf_px)
    img = img * vignette * np.asarray(look.wb, np.float32)
    if look.saturation != 1.0:
        luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
        img = luma[..., None] + look.saturation * (img - luma[..., None])
    img = np.clip(img * look.gain, 0, 1) * np.float32(255.0)
    if look.noise > 0:
        noise = np.empty_like(img)
        cv2.setRNGSeed(int(rng.integers(2**31 - 1)))  # seeded here from the shot's generator: deterministic
        cv2.randn(noise, 0.0, look.noise)
        img += noise * cv2.sqrt(img * np.float32(1 / 180.0) + np.float32(0.3))
    return cv2.convertScaleAbs(np.clip(img, 0, 255, out=img))


class _StaticRoom:
    """The room seen from a fixed camera: rendered once."""

    def __init__(self, camera: Camera, room: Room):
        rgb, xy, mask = _room_image(camera.view(0.0), room)
        idx = np.flatnonzero(mask)
        self.cached = (rgb, xy.reshape(-1, 2)[idx], idx)

    def at(self, view: View):
        return self.cached


class _TurningRoom:
    """The room seen from a camera that only turns about its centre (pan, shake; no distortion): rendered
    once by a wider reference camera, then each frame is the homography K R_ref^T R_t K^-1 of it."""

    MARGIN = 1.6

    def __init__(self, camera: Camera, room: Room):
        if camera.k1:
            raise ValueError("a turning camera is rendered without lens distortion")
        base = replace(camera, pan_deg_s=0.0, shake_deg=0.0).view(0.0)
        W, H = int(camera.width * self.MARGIN), int(camera.height * self.MARGIN)
        self.ref = View(base.C, base.R, base.f, (W - 1) / 2, (H - 1) / 2, 0.0, W, H)
        rgb, xy, mask = _room_image(self.ref, room)
        self.layers = np.concatenate([rgb, xy.astype(np.float32), mask[..., None].astype(np.float32)], axis=2)

    def at(self, view: View):
        K = np.array([[view.f, 0, view.cx], [0, view.f, view.cy], [0, 0, 1]])
        K_ref = np.array([[self.ref.f, 0, self.ref.cx], [0, self.ref.f, self.ref.cy], [0, 0, 1]])
        M = K_ref @ self.ref.R.T @ view.R @ np.linalg.inv(K)
        out = cv2.warpPerspective(self.layers, M, (view.width, view.height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
        idx = np.flatnonzero(out[..., 5] > 0.5)
        return np.ascontiguousarray(out[..., :3]), out[..., 3:5].reshape(-1, 2)[idx].astype(np.float64), idx


# --------------------------------------------------------------------------------------------------
# The room: ray-cast wall, floor and panels, procedural textures


class _ValueNoise:
    """Smooth value noise in [0, 1] from a seeded 256 x 256 lattice (wraps)."""

    def __init__(self, seed: int):
        self.grid = np.random.default_rng(seed).random((256, 256)).astype(np.float32)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        xi, yi = np.floor(x), np.floor(y)
        fx, fy = x - xi, y - yi
        fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
        xi, yi = xi.astype(np.int64) % 256, yi.astype(np.int64) % 256
        x1, y1 = (xi + 1) % 256, (yi + 1) % 256
        g = self.grid
        top = g[yi, xi] * (1 - fx) + g[yi, x1] * fx
        bottom = g[y1, xi] * (1 - fx) + g[y1, x1] * fx
        return top * (1 - fy) + bottom * fy


def _room_image(view: View, room: Room) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rgb (H, W, 3) float32, world x, y (H, W, 2) of the ray's hit, floor mask (H, W))."""
    H, W = view.height, view.width
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    d = view.rays(u, v)
    C = view.C
    with np.errstate(divide="ignore", invalid="ignore"):
        s_wall = np.where(d[..., 1] > 1e-9, (room.wall_y_m - C[1]) / d[..., 1], np.inf)
        s_floor = np.where(d[..., 2] < -1e-9, -C[2] / d[..., 2], np.inf)
    floor = s_floor < s_wall
    s = np.where(floor, s_floor, s_wall)
    s = np.where(np.isfinite(s), s, 50.0)
    P = C + s[..., None] * d
    noise = _ValueNoise(room.seed)
    rgb = np.where(floor[..., None], _floor_rgb(room, P[..., 0], P[..., 1], noise), _wall_rgb(room, P[..., 0], P[..., 2], noise))
    for panel in room.panels + _decor(room):
        with np.errstate(divide="ignore", invalid="ignore"):
            sp = (panel.y_m - C[1]) / d[..., 1]
        Pp = C + sp[..., None] * d
        x, z = Pp[..., 0], Pp[..., 2]
        hit = (sp > 0) & (sp < s) & (x >= panel.x0) & (x <= panel.x1) & (z >= panel.z0) & (z <= panel.z1)
        rgb = np.where(hit[..., None], _panel_rgb(panel, x, z, room), rgb)
    rgb = rgb * room.light
    return rgb.astype(np.float32), P[..., :2], floor


def _decor(room: Room) -> tuple[Panel, ...]:
    if not room.decor:
        return ()
    rng = np.random.default_rng(room.seed + 1000)
    side = 1.0 if rng.random() < 0.5 else -1.0
    x = side * rng.uniform(0.75, 1.1)
    w, h, z = rng.uniform(0.35, 0.55), rng.uniform(0.3, 0.45), rng.uniform(0.85, 1.15)
    tint = tuple(float(c) for c in rng.uniform(0.3, 0.75, 3))
    y = room.wall_y_m - 0.002
    return (Panel("picture", x - w / 2, x + w / 2, z, z + h, y, tint),
            Panel("switch", -x - 0.04, -x + 0.04, 1.05, 1.13, y, (0.93, 0.92, 0.88)))


def _wall_rgb(room: Room, x: np.ndarray, z: np.ndarray, noise: _ValueNoise) -> np.ndarray:
    plaster = 0.92 + 0.06 * noise(x / 0.03, z / 0.03) + 0.07 * noise(x / 0.35 + 50, z / 0.35)
    lx, lz = (room.lamp[0], room.lamp[1]) if room.lamp else (-0.8, 2.2)
    light = 0.72 + 0.28 * np.exp(-((x - lx) ** 2 + (z - lz) ** 2) / (2 * 1.3**2))
    out = np.asarray(room.wall_rgb) * (plaster * light)[..., None]
    skirting = (z < 0.09)[..., None]
    board = np.clip(1.12 * np.asarray(room.wall_rgb) + 0.05, 0, 0.9)
    out = np.where(skirting, board * light[..., None] * (0.9 + 0.1 * (z > 0.085))[..., None], out)
    if room.lamp is not None:
        lx, lz, lr = room.lamp
        dist = np.hypot(x - lx, z - lz)
        glow = room.lamp_power * (0.9 * np.exp(-(dist**2) / (2 * (2.5 * lr) ** 2)) + 0.25 * np.exp(-(dist**2) / (2 * (7 * lr) ** 2)))
        out = out + glow[..., None] * np.array([1.0, 0.93, 0.8])
        disc = (dist < lr)[..., None]
        rim = ((dist >= lr) & (dist < 1.12 * lr))[..., None]
        out = np.where(disc, np.array([1.6, 1.55, 1.45]) * room.lamp_power, out)
        out = np.where(rim, np.array([0.75, 0.73, 0.7]), out)
    return out


def _floor_rgb(room: Room, x: np.ndarray, y: np.ndarray, noise: _ValueNoise) -> np.ndarray:
    plank = np.floor(y / 0.13)
    tone = 0.82 + 0.3 * noise(plank * 7.3 + 3.1, plank * 1.7 + 9.2)
    grain = 0.9 + 0.1 * noise(x / 0.25 + plank * 13.0, (y % 0.13) / 0.01)
    gap = (np.abs((y + 0.0015) % 0.13) < 0.003)
    light = 0.8 + 0.2 * np.exp(-(x**2 + (y - 0.3) ** 2) / 3.0)
    out = np.asarray(room.floor_rgb) * (tone * grain * light)[..., None]
    return np.where(gap[..., None], out * 0.45, out)


def _panel_rgb(panel: Panel, x: np.ndarray, z: np.ndarray, room: Room) -> np.ndarray:
    if panel.kind == "ruler":
        out = np.broadcast_to(np.array([0.93, 0.8, 0.2]), (*x.shape, 3)).copy()
        rel = z - panel.z0
        tick = np.abs(rel - np.round(rel / 0.05) * 0.05) < 0.0035
        long_tick = np.abs(rel - np.round(rel / 0.1) * 0.1) < 0.0035
        width = panel.x1 - panel.x0
        mark = (tick & (x < panel.x0 + 0.45 * width)) | (long_tick & (x < panel.x0 + 0.8 * width))
        return np.where(mark[..., None], np.array([0.08, 0.08, 0.08]), out)
    if panel.kind == "picture":
        inner = (x > panel.x0 + 0.04) & (x < panel.x1 - 0.04) & (z > panel.z0 + 0.04) & (z < panel.z1 - 0.04)
        split = z < panel.z0 + 0.45 * (panel.z1 - panel.z0)
        print_rgb = np.where(split[..., None], np.array([0.35, 0.45, 0.3]), np.array(panel.rgb))
        return np.where(inner[..., None], print_rgb, np.array([0.15, 0.12, 0.1]))
    return np.broadcast_to(np.array(panel.rgb), (*x.shape, 3))


def _shadow(flat: np.ndarray, floor_xy: np.ndarray, floor_idx: np.ndarray, p: np.ndarray, radius_m: float) -> None:
    """Darken the floor under a ball at p: soft, wider and lighter with height."""
    if len(floor_idx) == 0:
        return
    h = max(float(p[2]) - radius_m, 0.0)
    sigma = 0.45 * radius_m + 0.12 * h
    strength = 0.6 / (1 + (h / (4 * radius_m)) ** 2)
    d2 = (floor_xy[:, 0] - p[0]) ** 2 + (floor_xy[:, 1] - p[1]) ** 2
    near = d2 < (4 * sigma) ** 2
    if near.any():
        idx = floor_idx[near]
        flat[idx] *= (1 - strength * np.exp(-d2[near] / (2 * sigma**2)))[:, None].astype(np.float32)


# --------------------------------------------------------------------------------------------------
# The ball: ray-cast sphere, rolling shutter per sample row


def _draw_ball(img: np.ndarray, view: View, ball: Ball, t: float, readout_s: float, room: Room) -> None:
    drawn = ball_layer(view, ball, t, readout_s, room)
    if drawn is None:
        return
    (x0, y0), alpha, premult = drawn
    patch = img[y0:y0 + alpha.shape[0], x0:x0 + alpha.shape[1]]
    patch[:] = patch * (1 - alpha[..., None]) + premult


def ball_layer(view: View, ball: Ball, t: float, readout_s: float, room: Room):
    """((x0, y0), coverage alpha (h, w), premultiplied colour (h, w, 3)) of the ball at time t in its
    bounding box at column x0, row y0; None when it is out of the image."""
    W, H = view.width, view.height
    times = np.array([t - readout_s / 2, t, t + readout_s / 2])
    uv, z = view.project(ball.path(times))
    if np.any(z <= ball.radius_m):
        return None
    r_px = view.f * ball.radius_m / z.min() * 1.25 + 3
    x0, x1 = int(math.floor(uv[:, 0].min() - r_px)), int(math.ceil(uv[:, 0].max() + r_px))
    y0, y1 = int(math.floor(uv[:, 1].min() - r_px)), int(math.ceil(uv[:, 1].max() + r_px))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W - 1), min(y1, H - 1)
    if x1 < x0 or y1 < y0:
        return None
    S = SUPERSAMPLE
    us = x0 - 0.5 + (np.arange((x1 - x0 + 1) * S) + 0.5) / S
    vs = y0 - 0.5 + (np.arange((y1 - y0 + 1) * S) + 0.5) / S
    centres = ball.path(t + readout_s * (vs / H - 0.5)) if readout_s else np.repeat(ball.path(np.array([t])), len(vs), 0)
    uu, vv = np.meshgrid(us, vs)
    d = view.rays(uu, vv)
    oc = view.C - centres[:, None, :]
    a = np.einsum("ijk,ijk->ij", d, d)
    b = 2 * (d * oc).sum(axis=-1)
    c = np.einsum("ij,ij->i", oc[:, 0], oc[:, 0])[:, None] - ball.radius_m**2
    disc = b * b - 4 * a * c
    hit = disc > 0
    s = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
    P = view.C + s[..., None] * d
    n = (P - centres[:, None, :]) / ball.radius_m
    L = np.asarray(room.key_light, float)
    L /= np.linalg.norm(L)
    V = view.C - P
    V /= np.linalg.norm(V, axis=-1, keepdims=True)
    Hv = V + L
    Hv /= np.linalg.norm(Hv, axis=-1, keepdims=True)
    diffuse = np.clip(n @ L, 0, None)
    spec = np.clip(np.einsum("ijk,ijk->ij", n, Hv), 0, None) ** ball.shininess
    bounce = 0.12 * (1 - room.ambient) * np.clip(-n[..., 2], 0, None)  # light from the floor
    albedo = np.asarray(ball.rgb, float)
    shade = albedo * (room.ambient + (1 - room.ambient) * diffuse + bounce)[..., None] * room.light
    shade = shade + ball.specular * spec[..., None] * np.array([1.0, 0.97, 0.92]) * room.light
    h, w = (y1 - y0 + 1), (x1 - x0 + 1)
    alpha = hit.reshape(h, S, w, S).mean(axis=(1, 3))
    premult = (shade * hit[..., None]).reshape(h, S, w, S, 3).mean(axis=(1, 3))
    return (x0, y0), alpha, premult


# --------------------------------------------------------------------------------------------------
# Painted shapes: ellipses and capsules in the image, supersampled coverage


@dataclass(frozen=True)
class Shape:
    """'ellipse' (centre p0, semi-axes (a, b) px, angle rad) or 'capsule' (p0, p1, radius px), one colour;
    `shade` darkens it towards its lower edge (light from above)."""

    kind: str
    p0: tuple[float, float]
    p1: tuple[float, float]
    size: float | tuple[float, float]
    rgb: tuple[float, float, float]
    angle: float = 0.0
    shade: float = 0.15


def _paint(img: np.ndarray, shapes: list[Shape]) -> None:
    """Composite `shapes` in order; coverage from the signed distance at the pixel centre (alpha = 1/2 - d,
    clipped: a one-pixel anti-aliased edge)."""
    H, W = img.shape[:2]
    for sh in shapes:
        if sh.kind == "ellipse":
            a, b = sh.size
            ext = max(a, b)
            lo, hi = np.array(sh.p0) - ext - 1, np.array(sh.p0) + ext + 1
        else:
            lo = np.minimum(sh.p0, sh.p1) - sh.size - 1
            hi = np.maximum(sh.p0, sh.p1) + sh.size + 1
        x0, y0 = max(int(math.floor(lo[0])), 0), max(int(math.floor(lo[1])), 0)
        x1, y1 = min(int(math.ceil(hi[0])), W - 1), min(int(math.ceil(hi[1])), H - 1)
        if x1 < x0 or y1 < y0:
            continue
        vv, uu = np.mgrid[y0:y1 + 1, x0:x1 + 1].astype(np.float64)
        if sh.kind == "ellipse":
            c, s = math.cos(sh.angle), math.sin(sh.angle)
            dx, dy = uu - sh.p0[0], vv - sh.p0[1]
            ex, ey = (c * dx + s * dy) / a, (-s * dx + c * dy) / b
            sdf = (ex * ex + ey * ey - 1) / (2 * np.sqrt((ex / a) ** 2 + (ey / b) ** 2) + 1e-9)
            rel = np.clip(ey, -1, 1)
        else:
            p0, p1 = np.asarray(sh.p0, float), np.asarray(sh.p1, float)
            seg = p1 - p0
            tt = np.clip(((uu - p0[0]) * seg[0] + (vv - p0[1]) * seg[1]) / max(seg @ seg, 1e-9), 0, 1)
            dx, dy = uu - (p0[0] + tt * seg[0]), vv - (p0[1] + tt * seg[1])
            sdf = np.sqrt(dx * dx + dy * dy) - sh.size
            rel = np.clip(dy / max(sh.size, 1e-6), -1, 1)
        alpha = np.clip(0.5 - sdf, 0, 1)[..., None].astype(np.float32)
        colour = np.asarray(sh.rgb, np.float32) * (1 - sh.shade * (rel[..., None] + 1) / 2).astype(np.float32)
        patch = img[y0:y1 + 1, x0:x1 + 1]
        patch[:] = patch * (1 - alpha) + colour * alpha


SKIN = (0.86, 0.64, 0.5)
SLEEVE = (0.28, 0.31, 0.38)


def hand_painter(anchor: Callable[[float], np.ndarray | None], ball_radius_m: float) -> Callable:
    """A right hand holding a ball from above at `anchor(t)` (the ball's centre; None: no hand), in front of
    it: palm above the ball, four fingers over its upper half, thumb at its side, forearm and sleeve
    rising to the upper right."""
    R = ball_radius_m

    def paint(view: View, t: float) -> list[Shape]:
        a = anchor(t)
        if a is None:
            return []
        ax, ay, az = a
        y = ay - R - 0.015
        palm = np.array([ax, y, az + R + 0.03])

        def px(p):
            uv, z = view.project(np.asarray(p, float))
            return (float(uv[0]), float(uv[1])), float(z)

        def rad(r, z):
            return view.f * r / z

        shapes = []
        elbow = palm + np.array([0.22, 0.0, 0.5])
        shoulder = palm + np.array([0.45, 0.0, 1.2])
        (e_uv, ez), (s_uv, _) = px(elbow), px(shoulder)
        (p_uv, pz) = px(palm)
        shapes.append(Shape("capsule", e_uv, s_uv, rad(0.05, ez), SLEEVE, shade=0.1))
        shapes.append(Shape("capsule", p_uv, e_uv, rad(0.034, pz), tuple(0.97 * c for c in SKIN)))
        shapes.append(Shape("ellipse", p_uv, p_uv, (rad(0.048, pz), rad(0.042, pz)), SKIN, shade=0.2))
        for i, dx in enumerate((-0.03, -0.01, 0.01, 0.03)):
            top, tip = px((ax + dx, y, az + R)), px((ax + 1.1 * dx, y, az + 0.15 * R))
            shapes.append(Shape("capsule", top[0], tip[0], rad(0.0095, pz), tuple((0.93 + 0.02 * (i % 2)) * c for c in SKIN)))
        root, tip = px((ax + 0.045, y, az + R)), px((ax + R + 0.012, y, az - 0.1 * R))
        shapes.append(Shape("capsule", root[0], tip[0], rad(0.011, pz), tuple(0.9 * c for c in SKIN)))
        return shapes

    return paint


def person_painter(x_start_m: float, speed_m_s: float, y_m: float, t_start_s: float,
                   shirt: tuple[float, float, float] = (0.33, 0.42, 0.34)) -> Callable:
    """A person 1.75 m tall walking along x at `speed_m_s` in the plane y = `y_m` (behind the ball), legs
    and arms swinging at 0.9 Hz."""

    def paint(view: View, t: float) -> list[Shape]:
        x = x_start_m + speed_m_s * (t - t_start_s)
        phase = math.sin(2 * math.pi * 0.9 * (t - t_start_s))

        def px(dx, z):
            uv, depth = view.project(np.array([x + dx, y_m, z]))
            return (float(uv[0]), float(uv[1])), float(depth)

        def rad(r, z):
            return view.f * r / z

        (hip, hz), (neck, _), (head, _) = px(0, 0.95), px(0, 1.42), px(0, 1.63)
        jeans, skin = (0.2, 0.24, 0.38), SKIN
        shapes = [Shape("capsule", hip, px(0.28 * phase, 0.09)[0], rad(0.075, hz), jeans),
                  Shape("capsule", hip, px(-0.28 * phase, 0.09)[0], rad(0.075, hz), tuple(0.85 * c for c in jeans)),
                  Shape("capsule", px(0, 1.02)[0], px(0, 1.38)[0], rad(0.16, hz), shirt, shade=0.2),
                  Shape("capsule", neck, px(-0.22 * phase, 0.95)[0], rad(0.045, hz), tuple(0.9 * c for c in shirt)),
                  Shape("capsule", neck, px(0.22 * phase, 0.95)[0], rad(0.045, hz), shirt),
                  Shape("ellipse", head, head, (rad(0.085, hz), rad(0.11, hz)), skin),
                  Shape("ellipse", px(0, 1.69)[0], px(0, 1.69)[0], (rad(0.088, hz), rad(0.06, hz)), (0.12, 0.09, 0.07))]
        return shapes

    return paint


def string_painter(pivot: tuple[float, float, float], swing: Swing) -> Callable:
    """The pendulum's string: a thin dark line from the pivot to the bob, drawn behind the bob."""

    def paint(view: View, t: float) -> list[Shape]:
        (p, _), (b, z) = (view.project(np.asarray(pivot, float)), view.project(swing(np.array([t]))[0]))
        return [Shape("capsule", (float(p[0]), float(p[1])), (float(b[0]), float(b[1])), max(view.f * 0.0012 / z, 0.3),
                      (0.12, 0.12, 0.12), shade=0.0)]

    return paint


# --------------------------------------------------------------------------------------------------
# From a shot to a case: write the file, compute the truth's image track and the oracle


def _finish(name: str, law: str, folder: Path, shot: Shot, *, scale: str, truth: dict, nuisances: list[str],
            object_colour: str | None = None, tell_fps: bool = False, expect: str = "measured") -> RealisticCase:
    frames = render_shot(shot)
    file_fps = shot.file_fps or shot.fps
    path = write_mp4(folder / f"{name}.mp4", frames, file_fps, size=shot.file_size, crf=shot.crf)
    W, H = shot.camera.width, shot.camera.height
    sx, sy = (shot.file_size[0] / W, shot.file_size[1] / H) if shot.file_size else (1.0, 1.0)
    track, depth = _truth_track(shot, len(frames))
    track_file = np.stack([(track[:, 0] + 0.5) * sx - 0.5, (track[:, 1] + 0.5) * sy - 0.5], axis=1)
    t = np.arange(len(frames)) / shot.fps
    path_fn = shot.balls[0].path
    span = path_fn.measured_span()
    in_span = (t >= span[0]) & (t <= span[1]) & np.isfinite(track[:, 0])
    if law == "bounce":
        in_span = (t >= span[0]) & (t <= path_fn.arcs()[-1][0]) & np.isfinite(track[:, 0])
    truth_px_per_m = float(np.median(shot.camera.f_px / depth[in_span])) * sy if in_span.any() else math.nan
    options: dict = {"law": law}
    if tell_fps:
        options["fps"] = float(shot.fps)
    if scale == "diameter":
        options["object_diameter_m"] = 2 * shot.balls[0].radius_m
    else:
        options["scale_px_per_m"] = round(truth_px_per_m, 3)
    if object_colour:
        options["object"] = object_colour
    case = RealisticCase(name, law, path, options, truth, nuisances, expect, truth_px_per_m, {}, track_file, shot.fps, file_fps)
    case.oracle = _oracle(case, shot, t, track_file, in_span)
    return case


def _truth_track(shot: Shot, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Projected centre (px, content size) and depth of the measured ball per frame (rolling shutter: the
    row's own time, by fixed-point iteration); NaN outside the image."""
    cam, ball = shot.camera, shot.balls[0]
    uv, depth = np.full((n, 2), np.nan), np.full(n, np.nan)
    for k in range(n):
        t = k / shot.fps
        view = cam.view(t)
        tt = t
        for _ in range(4):
            p, z = view.project(ball.path(np.array([tt]))[0])
            tt = t + cam.readout_s * (p[1] / cam.height - 0.5)
        if -0.5 <= p[0] <= cam.width - 0.5 and -0.5 <= p[1] <= cam.height - 0.5:
            uv[k], depth[k] = p, z
    return uv, depth


def _oracle(case: RealisticCase, shot: Shot, t: np.ndarray, track: np.ndarray, in_span: np.ndarray) -> dict:
    if not shot.camera.static:
        return {}
    px_per_m = case.options.get("scale_px_per_m", case.truth_px_per_m)
    path = shot.balls[0].path
    if case.law == "drop":
        t0, t1 = path.measured_span()
        use = (t > t0 + 0.5 / shot.fps) & (t < t1) & np.isfinite(track[:, 0])
        if use.sum() < 5:
            return {}
        c2 = [np.polyfit(t[use], track[use, i], 2)[0] for i in (0, 1)]
        return {"g_m_s2": 2 * math.hypot(*c2) / px_per_m}
    if case.law == "bounce":
        arcs = path.arcs()
        view = shot.camera.view(0.0)
        v_at = [float(view.project(path(np.array([tt]))[0])[0][1]) for tt in
                [arcs[0][0]] + [a[0] + a[2] / path.g for a in arcs[1:3]] + [a[0] for a in arcs[1:4]]]
        apex, contact = v_at[:3], v_at[3:]
        heights = [contact[i] - apex[i] for i in range(3)]
        return {"restitution": math.sqrt((heights[1] + heights[2]) / (heights[0] + heights[1])),
                "g_m_s2": G * case.truth_px_per_m / px_per_m}
    return {"period_s": case.truth["period_s"]}


# --------------------------------------------------------------------------------------------------
# The cases


_RECIPES: dict[str, Callable[[str, Path], RealisticCase]] = {}


def _case(fn):
    _RECIPES[fn.__name__.lstrip("_")] = fn
    return fn


ORANGE, BLUE, TENNIS, RED, DARK = (0.95, 0.42, 0.08), (0.1, 0.26, 0.78), (0.78, 0.88, 0.22), (0.8, 0.1, 0.1), (0.05, 0.05, 0.055)


def _drop(x=0.0, z0=1.25, R=0.05, t_release=0.3, e_after=0.35, vx=0.0) -> Flight:
    return Flight((x, 0.0, z0), R, t_release, (vx, 0.0, 0.0), e=e_after)


@_case
def _drop_baseline(name, folder):
    ball = Ball(_drop(), 0.05, ORANGE)
    shot = Shot(Camera(), Room(), (ball,), 1.4, 60, seed=1)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G}, nuisances=["none (clean)"])


@_case
def _drop_desaturated_blue(name, folder):
    ball = Ball(_drop(R=0.06, x=0.15), 0.06, BLUE)
    look = Look(wb=(1.12, 1.0, 0.8), saturation=0.35, gain=0.92, noise=2.0)
    shot = Shot(Camera(), Room(seed=2, wall_rgb=(0.74, 0.74, 0.72)), (ball,), 1.4, 30, look=look, seed=2)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G}, object_colour="blue",
                   nuisances=["desaturated colours", "white-balance shift (warm)", "object named 'blue' reads grey-blue"])


@_case
def _drop_dark_ball_lamp(name, folder):
    ball = Ball(_drop(x=-0.1, R=0.06), 0.06, DARK, specular=0.9, shininess=60)
    room = Room(seed=3, wall_rgb=(0.2, 0.2, 0.23), floor_rgb=(0.2, 0.15, 0.12), lamp=(-0.45, 1.35, 0.09), lamp_power=1.0, decor=False,
                key_light=(-0.3, -0.5, 0.6), ambient=0.2)
    shot = Shot(Camera(), room, (ball,), 1.4, 60, look=Look(noise=2.5), seed=3)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["dark ball", "bright specular highlight", "dark background", "bright lamp fixture in frame"])


@_case
def _drop_hand_release(name, folder):
    R, t_release = 0.0335, 0.45
    path = _drop(x=-0.05, z0=1.1, R=R, t_release=t_release, e_after=0.55)
    hold = np.array(path.p0)

    def anchor(t):
        if t < t_release + 0.03:
            return hold
        if t > 1.25:
            rest = path(np.array([t]))[0]
            return rest + np.array([min(-1.0 + 2.2 * (t - 1.25), 0.0), 0.0, 0.0])
        tau = t - t_release - 0.03
        return hold + np.array([0.5 * tau + 1.5 * tau**2, 0.0, 0.6 * tau + 3.0 * tau**2])

    cam = Camera(position=(0.0, -1.9, 0.65), look_at=(0.0, 0.0, 0.65))
    shot = Shot(cam, Room(seed=4), (Ball(path, R, TENNIS),), 1.6, 60, front=(hand_painter(anchor, R),), seed=4)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["hand holds the ball (occludes its top) and releases it", "hand moves away",
                              "hand re-enters at the end", "small ball (tennis)"])


@_case
def _drop_enters_late(name, folder):
    path = Flight((0.1, 0.0, 2.3), 0.05, -0.15, (0.0, 0.0, 0.0), e=0.4)
    shot = Shot(Camera(), Room(seed=5), (Ball(path, 0.05, ORANGE),), 1.1, 60, seed=5)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["object not in frame 0: dropped from above the frame, enters falling"])


@_case
def _drop_tilted_camera(name, folder):
    pitch = math.radians(25)
    cam = Camera(position=(0.0, -1.9, 0.75 + 1.9 * math.tan(pitch)), look_at=(0.0, 0.0, 0.75))
    path = _drop(z0=1.2, R=0.05)
    shot = Shot(cam, Room(seed=6), (Ball(path, 0.05, ORANGE),), 1.4, 60, seed=6)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["camera pitched down 25 deg (depth changes along the fall; vertical foreshortened)"])


@_case
def _drop_rolled_camera(name, folder):
    cam = Camera(roll_deg=8.0)
    shot = Shot(cam, Room(seed=7, panels=(Panel("picture", 0.5, 1.0, 0.9, 1.4, 1.49, (0.7, 0.55, 0.3)),)),
                (Ball(_drop(x=-0.2), 0.05, RED),), 1.4, 60, seed=7)
    return _finish(name, "drop", folder, shot, scale="px_per_m", truth={"g_m_s2": G},
                   nuisances=["camera rolled 8 deg", "picture on the wall"])


@_case
def _drop_lens_distortion(name, folder):
    cam = Camera(hfov_deg=84.0, position=(0.0, -1.6, 0.75), k1=-0.12)
    shot = Shot(cam, Room(seed=8), (Ball(_drop(x=-0.45, R=0.06), 0.06, ORANGE),), 1.4, 60, seed=8)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["wide lens, barrel distortion k1 = -0.12", "fall off the image centre"])


@_case
def _drop_rolling_shutter(name, folder):
    cam = Camera(readout_s=0.016)
    shot = Shot(cam, Room(seed=9), (Ball(_drop(R=0.06), 0.06, BLUE),), 1.4, 30, seed=9)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["rolling shutter (16 ms readout, top to bottom)", "30 fps"])


@_case
def _drop_motion_blur(name, folder):
    shot = Shot(Camera(), Room(seed=10), (Ball(_drop(R=0.06, x=0.1), 0.06, ORANGE),), 1.4, 30, blur=8, exposure=1.0, seed=10)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["motion blur: exposure of the whole frame period (8 sub-frames averaged)", "30 fps"])


@_case
def _drop_noise_compression(name, folder):
    shot = Shot(Camera(), Room(seed=11), (Ball(_drop(R=0.06), 0.06, ORANGE),), 1.4, 30, look=Look(noise=7.0, gain=0.85),
                file_size=(320, 180), crf=35, seed=11)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["sensor noise (7 levels)", "heavy H.264 compression (crf 35)", "small file (320x180)"])


@_case
def _drop_high_speed_no_metadata(name, folder):
    cam = Camera(width=480, height=270)
    shot = Shot(cam, Room(seed=12), (Ball(_drop(R=0.06, t_release=0.15), 0.06, TENNIS),), 0.8, 240, exposure=0.5,
                file_fps=30, seed=12)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G}, tell_fps=True,
                   nuisances=["high-speed capture (240 fps) stored at 30 fps without capture-rate metadata (user gives --fps 240)"])


@_case
def _drop_extra_ball(name, folder):
    rolling = Flight((1.6, 0.3, 0.04), 0.04, 0.0, (-1.3, 0.0, 0.0), e=0.0, min_hop_m=1.0, roll_decel_m_s2=0.6)
    shot = Shot(Camera(), Room(seed=13), (Ball(_drop(R=0.05), 0.05, BLUE), Ball(rolling, 0.04, RED)), 1.4, 60, seed=13)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["a second (red) ball rolls in along the floor during the fall"])


@_case
def _drop_person_walking(name, folder):
    shot = Shot(Camera(), Room(seed=14), (Ball(_drop(R=0.06, x=0.1), 0.06, ORANGE),), 1.4, 30,
                behind=(person_painter(-1.2, 1.5, 0.8, 0.0),), seed=14)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G},
                   nuisances=["a person walks across the background during the fall"])


@_case
def _drop_moving_camera(name, folder):
    cam = Camera(pan_deg_s=6.0, shake_deg=0.5, seed=15)
    shot = Shot(cam, Room(seed=15, panels=(Panel("picture", -0.9, -0.4, 0.8, 1.3, 1.49, (0.6, 0.3, 0.25)),)),
                (Ball(_drop(R=0.06), 0.06, ORANGE),), 1.3, 30, seed=15)
    return _finish(name, "drop", folder, shot, scale="diameter", truth={"g_m_s2": G}, expect="implausible_or_refused",
                   nuisances=["hand-held camera: slow pan (6 deg/s) and shake (0.5 deg)"])


@_case
def _drop_ruler_scale(name, folder):
    room = Room(seed=16, panels=(Panel("ruler", 0.3, 0.34, 0.1, 1.1, 0.0),))
    shot = Shot(Camera(), room, (Ball(_drop(R=0.04, x=-0.05), 0.04, RED),), 1.4, 60, seed=16)
    return _finish(name, "drop", folder, shot, scale="px_per_m", truth={"g_m_s2": G},
                   nuisances=["scale from a 1 m ruler standing in the motion plane (user gives px/m)"])


@_case
def _bounce_rolling_end(name, folder):
    path = Flight((-0.3, 0.0, 0.95), 0.06, 0.2, (0.25, 0.0, 0.0), e=0.6)
    shot = Shot(Camera(), Room(seed=17), (Ball(path, 0.06, ORANGE),), 2.6, 60, seed=17)
    return _finish(name, "bounce", folder, shot, scale="diameter", truth={"restitution": 0.6, "g_m_s2": G},
                   nuisances=["rolling phase and rest at the end", "horizontal drift"])


@_case
def _bounce_tilted_camera(name, folder):
    pitch = math.radians(20)
    cam = Camera(position=(0.0, -2.0, 0.6 + 2.0 * math.tan(pitch)), look_at=(0.0, 0.0, 0.6))
    path = Flight((0.0, 0.0, 1.0), 0.06, 0.2, (0.05, 0.0, 0.0), e=0.75)
    shot = Shot(cam, Room(seed=18), (Ball(path, 0.06, BLUE),), 2.2, 60, seed=18)
    return _finish(name, "bounce", folder, shot, scale="diameter", truth={"restitution": 0.75, "g_m_s2": G},
                   nuisances=["camera pitched down 20 deg"])


@_case
def _bounce_30fps_blur_noise(name, folder):
    path = Flight((0.1, 0.0, 1.1), 0.07, 0.25, (-0.1, 0.0, 0.0), e=0.7)
    shot = Shot(Camera(), Room(seed=19), (Ball(path, 0.07, RED),), 2.8, 30, blur=4, exposure=0.5, look=Look(noise=4.0),
                crf=28, seed=19)
    return _finish(name, "bounce", folder, shot, scale="diameter", truth={"restitution": 0.7, "g_m_s2": G},
                   nuisances=["30 fps", "motion blur (1/60 s exposure)", "noise", "compression (crf 28)"])


@_case
def _bounce_hand_release(name, folder):
    R, t_release = 0.0335, 0.4
    path = Flight((0.0, 0.0, 1.0), R, t_release, (0.0, 0.0, 0.0), e=0.65)
    hold = np.array(path.p0)

    def anchor(t):
        if t < t_release + 0.03:
            return hold
        tau = t - t_release - 0.03
        return hold + np.array([0.4 * tau + 1.2 * tau**2, 0.0, 0.5 * tau + 3.0 * tau**2])

    cam = Camera(position=(0.0, -1.9, 0.62), look_at=(0.0, 0.0, 0.62))
    shot = Shot(cam, Room(seed=20), (Ball(path, R, TENNIS),), 2.4, 60, front=(hand_painter(anchor, R),), seed=20)
    return _finish(name, "bounce", folder, shot, scale="diameter", truth={"restitution": 0.65, "g_m_s2": G},
                   nuisances=["hand holds and releases the ball", "small ball (tennis)"])


def _pendulum_shot(swing: Swing, R: float, rgb, duration_s: float, fps: float, seed: int, camera: Camera | None = None,
                   look: Look = Look(), front=(), crf: int = 19) -> Shot:
    bar = Panel("bar", swing.pivot[0] - 0.3, swing.pivot[0] + 0.3, swing.pivot[2], swing.pivot[2] + 0.03, 0.0, (0.25, 0.25, 0.27))
    cam = camera or Camera(position=(0.0, -2.3, 1.05), look_at=(0.0, 0.0, 1.05))
    return Shot(cam, Room(seed=seed, panels=(bar,)), (Ball(swing, R, rgb),), duration_s, fps,
                behind=(string_painter(swing.pivot, swing),), front=front, look=look, crf=crf, seed=seed)


@_case
def _pendulum_small_noise(name, folder):
    swing = Swing((0.0, 0.0, 1.55), 0.8, 6.0)
    shot = _pendulum_shot(swing, 0.04, BLUE, 4.5, 30, 21, look=Look(noise=6.0), crf=30)
    return _finish(name, "pendulum", folder, shot, scale="diameter", truth={"period_s": swing.period_s},
                   nuisances=["small amplitude (6 deg)", "sensor noise (6 levels)", "compression (crf 30)", "string drawn"])


@_case
def _pendulum_large_amplitude(name, folder):
    swing = Swing((0.0, 0.0, 1.55), 0.8, 50.0)
    shot = _pendulum_shot(swing, 0.05, ORANGE, 4.5, 30, 22)
    return _finish(name, "pendulum", folder, shot, scale="diameter", truth={"period_s": swing.period_s},
                   nuisances=["large amplitude (50 deg: period 4.9 % above the small-angle one)", "string drawn"])


@_case
def _pendulum_hand_release(name, folder):
    R, t_release = 0.045, 0.6
    swing = Swing((0.0, 0.0, 1.55), 0.8, 20.0, t_release)
    hold = swing(np.array([0.0]))[0]

    def anchor(t):
        if t < t_release + 0.03:
            return hold
        tau = t - t_release - 0.03
        return hold + np.array([0.8 * tau + 2.0 * tau**2, 0.0, 0.3 * tau + 2.0 * tau**2])

    shot = _pendulum_shot(swing, R, RED, 4.6, 30, 23, front=(hand_painter(anchor, R),))
    return _finish(name, "pendulum", folder, shot, scale="diameter", truth={"period_s": swing.period_s},
                   nuisances=["hand holds the bob then releases it and withdraws", "20 deg amplitude"])


@_case
def _pendulum_rolled_distorted(name, folder):
    swing = Swing((0.0, 0.0, 1.55), 0.6, 15.0)
    cam = Camera(hfov_deg=80.0, position=(0.25, -1.7, 1.15), look_at=(0.25, 0.0, 1.15), roll_deg=6.0, k1=-0.1)
    shot = _pendulum_shot(swing, 0.04, TENNIS, 3.5, 60, 24, camera=cam, look=Look(noise=3.0))
    return _finish(name, "pendulum", folder, shot, scale="diameter", truth={"period_s": swing.period_s},
                   nuisances=["camera rolled 6 deg", "barrel distortion k1 = -0.1", "60 fps"])


CASES: tuple[str, ...] = tuple(_RECIPES)
"""Every case name, in suite order."""



# --------------------------------------------------------------------------------------------------
# Scoring (benchmarks/clip_suite.py, tests/clip/test_realistic_suite.py)


def measure_case(case: RealisticCase, keep: Path | None = None) -> dict:
    """Run `measure_clip` on `case` and score its main quantity: status 'measured' | 'implausible' |
    'refused' (InputError) | 'error' (any other exception); pass = measured and within `TOLERANCE`;
    silent_wrong = measured and outside it (or without the quantity); covered = |value - truth| <= 1.96
    sigma. Diagnostics: the scale it used against `truth_px_per_m`, the track against `truth_track_px`
    (median and 90th percentile distance, file pixels), the fitted window. With `keep`, clip.json of the
    measurement is written to keep/<name>.clip.json."""
    import json
    import time

    from realitygap.clip.measure import ClipOptions, measure_clip
    from realitygap.runtime.atomic import json_safe
    from realitygap.runtime.errors import InputError

    main, truth = case.main, case.truth[case.main]
    row = {"name": case.name, "law": case.law, "quantity": main, "truth": truth, "value": math.nan, "sigma": math.nan,
           "error_pct": math.nan, "status": "", "pass": False, "covered": False, "silent_wrong": False, "expect": case.expect,
           "nuisances": case.nuisances, "options": case.options, "oracle": case.oracle.get(main, math.nan),
           "truth_px_per_m": case.truth_px_per_m, "scale_px_per_m": math.nan, "scale_error_pct": math.nan,
           "track_error_px": math.nan, "track_error_p90_px": math.nan, "track_frames": 0, "truth_frames": 0,
           "object_method": "", "window": None, "reason": "", "summary": "", "other": {}, "seconds": math.nan}
    started = time.perf_counter()
    try:
        m = measure_clip(case.video_path, ClipOptions(**case.options))
    except InputError as error:
        row.update(status="refused", reason=str(error), seconds=time.perf_counter() - started)
        return row
    except Exception as error:  # a crash is scored, not raised: the suite reports every case
        row.update(status="error", reason=f"{type(error).__name__}: {error}", seconds=time.perf_counter() - started)
        return row
    row["seconds"] = time.perf_counter() - started
    row["status"], row["summary"], row["window"], row["object_method"] = m.status, m.summary(), m.fit.window, m.object_method
    row["reason"] = " | ".join(i.line() for i in m.implausible)
    q = m.fit.quantities.get(main)
    if q is not None:
        row["value"], row["sigma"] = float(q.value), float(q.uncertainty)
        row["error_pct"] = 100 * (row["value"] / truth - 1)
        within = abs(row["value"] / truth - 1) <= TOLERANCE[main]
        row["pass"] = bool(m.status == "measured" and within)
        row["covered"] = bool(math.isfinite(row["sigma"]) and abs(row["value"] - truth) <= 1.96 * row["sigma"])
    row["silent_wrong"] = bool(m.status == "measured" and not row["pass"])
    row["other"] = {k: float(v.value) for k, v in m.fit.quantities.items() if k != main and k in case.truth}
    scale = m.scale.px_per_m
    if scale is not None:
        row["scale_px_per_m"] = scale / m.timebase.processed_scale
        row["scale_error_pct"] = 100 * (row["scale_px_per_m"] / case.truth_px_per_m - 1)
    if case.truth_track_px is not None:
        measured = m.track.centroid_px / m.timebase.processed_scale
        n = min(len(measured), len(case.truth_track_px))
        both = m.track.present[:n] & np.isfinite(case.truth_track_px[:n, 0])
        row["track_frames"], row["truth_frames"] = int(m.track.present.sum()), int(np.isfinite(case.truth_track_px[:, 0]).sum())
        if both.any():
            d = np.hypot(*(measured[:n][both] - case.truth_track_px[:n][both]).T)
            row["track_error_px"], row["track_error_p90_px"] = float(np.median(d)), float(np.percentile(d, 90))
    if keep is not None:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / f"{case.name}.clip.json").write_text(json.dumps(json_safe(m.to_json()), indent=1) + "\n")
    return row


def summarise(rows: list[dict]) -> dict:
    """Totals of the acceptance: fraction within tolerance (of all cases), silent wrong (measured, outside the
    tolerance: must be 0), coverage of the 95 % intervals (of the measured cases), crashes."""
    n = len(rows)
    measured = [r for r in rows if r["status"] == "measured"]
    out = {"cases": n, "within": sum(r["pass"] for r in rows), "silent_wrong": sum(r["silent_wrong"] for r in rows),
           "implausible": sum(r["status"] == "implausible" for r in rows), "refused": sum(r["status"] == "refused" for r in rows),
           "errors": sum(r["status"] == "error" for r in rows), "measured": len(measured),
           "covered": sum(r["covered"] for r in measured)}
    out["within_fraction"] = out["within"] / n if n else math.nan
    out["silent_wrong_fraction"] = out["silent_wrong"] / n if n else math.nan
    out["coverage"] = out["covered"] / len(measured) if measured else math.nan
    out["acceptance"] = {"within >= 90 %": out["within_fraction"] >= 0.9, "no silent wrong": out["silent_wrong"] == 0,
                         "coverage >= 90 %": bool(out["coverage"] >= 0.9), "no crash": out["errors"] == 0}
    out["accepted"] = all(out["acceptance"].values())
    return out


def table(rows: list[dict], totals: dict) -> str:
    """One line per case, then the totals."""
    head = (f"{'case':30} {'law':8} {'truth':>8} {'measured':>18} {'err %':>7} {'oracle%':>7} {'status':11} {'pass':4} "
            f"{'cov':3} {'scale%':>7} {'trk px':>6}  note")
    lines = [head, "-" * len(head)]
    for r in rows:
        t = r["truth"]
        measured = f"{r['value']:.4g} ± {r['sigma']:.2g}" if math.isfinite(r["value"]) else "-"
        oracle = 100 * (r["oracle"] / t - 1) if math.isfinite(r["oracle"]) else math.nan
        note = r["reason"] if r["status"] != "measured" else ("SILENT WRONG" if r["silent_wrong"] else "")
        if "g_m_s2" in r["other"]:
            note = f"g {r['other']['g_m_s2']:.3g}; " + note
        lines.append(f"{r['name']:30} {r['law']:8} {t:8.4g} {measured:>18} {_pct(r['error_pct'])} {_pct(oracle)} "
                     f"{r['status']:11} {'yes' if r['pass'] else 'no':4} {'yes' if r['covered'] else 'no':3} "
                     f"{_pct(r['scale_error_pct'])} {_num(r['track_error_px'])}  {note[:110]}")
    lines.append("-" * len(head))
    lines.append(f"within tolerance {totals['within']}/{totals['cases']} ({100 * totals['within_fraction']:.0f} %, need >= 90 %); "
                 f"silent wrong {totals['silent_wrong']} (need 0); implausible {totals['implausible']}, refused {totals['refused']}, "
                 f"crashed {totals['errors']}; 95 % intervals cover the truth {totals['covered']}/{totals['measured']} measured "
                 f"({100 * totals['coverage']:.0f} %, need >= 90 %); accepted: {'yes' if totals['accepted'] else 'no'}")
    return "\n".join(lines)


def _pct(v: float) -> str:
    return f"{v:+7.2f}" if math.isfinite(v) else f"{'-':>7}"


def _num(v: float) -> str:
    return f"{v:6.2f}" if math.isfinite(v) else f"{'-':>6}"
