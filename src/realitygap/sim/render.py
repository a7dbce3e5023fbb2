"""The camera sensor and its offscreen rendering with MuJoCo's low-level API (one GL context per episode).

Compared with `mujoco.Renderer` this reads depth and segmentation from one render pass and
decodes segmentation straight into instance ids: two passes per frame instead of three.

Two render contexts share one GL context: the RGB pass multisamples (`rgb_samples`, anti-aliased
edges as a real sensor integrates over a pixel), the segmentation/depth pass does not, because
resolving a multisampled ID-colour buffer blends the colours of neighbouring geoms into the ID of
a third one at every edge.

Depth: reversed-Z buffer value b in [0, 1] (1 = near, 0 = far) -> camera-z distance d / (b + c), with the
glFrustum coefficients of the model's near and far planes (computed in float32, as MuJoCo does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

from realitygap.core.camera import T_world_camera_from_mujoco, intrinsics_from_fovy
from realitygap.core.mj import mujoco
from realitygap.core.rig import RigConfig
from realitygap.sim.annotate import Annotator
from realitygap.sim.rig import CAMERA_NAME, wide_view_px
from realitygap.sim.sensor import SceneInstances

if TYPE_CHECKING:
    from realitygap.episode.io import EpisodeWriter

CAMERA_VIDEOS = ("rgb", "depth", "segmentation")
"""The camera's video streams, each written when enabled in the rig."""

RgbFilter = Callable[[int, np.ndarray], np.ndarray]
"""(frame index, rendered RGB frame) -> the frame written: how a perturbed twin corrupts its video."""

_GL_CONTEXTS: dict[tuple[int, int], "mujoco.GLContext"] = {}
"""Per-process pool of EGL contexts by framebuffer size. Creating and warming up a context costs more
than rendering many frames (docs/twins.md), so a worker reuses one across episodes. This is the only
process-wide state in the package; it holds no configuration and no randomness."""


def shared_gl_context(width: int, height: int) -> "mujoco.GLContext":
    key = (int(width), int(height))
    if key not in _GL_CONTEXTS:
        _GL_CONTEXTS[key] = mujoco.GLContext(*key)
    return _GL_CONTEXTS[key]


class SceneRenderer:
    """Renders RGB + depth and instance-id images from named cameras of one model."""

    def __init__(self, model: "mujoco.MjModel", max_width: int, max_height: int, rgb_samples: int = 4):
        self._model = model
        self._gl = shared_gl_context(max_width, max_height)
        self._gl.make_current()
        self._rgb_context = self._make_context(model, rgb_samples)
        self._context = self._make_context(model, 0)
        self._scene = mujoco.MjvScene(model, maxgeom=1000)
        self._camera = mujoco.MjvCamera()
        self._camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self._default_option = mujoco.MjvOption()
        self._perturb = mujoco.MjvPerturb()
        near = np.float32(model.vis.map.znear * model.stat.extent)
        far = np.float32(model.vis.map.zfar * model.stat.extent)
        c = -(far + near) / (far - near)
        d = -(np.float32(2) * far * near) / (far - near)
        self._c, self._d = np.float32(-0.5) * c - np.float32(0.5), np.float32(-0.5) * d
        self.far_m = float(far)

    @staticmethod
    def _make_context(model, samples: int) -> "mujoco.MjrContext":
        original = model.vis.quality.offsamples
        model.vis.quality.offsamples = samples
        try:
            context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        finally:
            model.vis.quality.offsamples = original
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, context)
        context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR  # reversed Z: 0 = far plane
        return context

    def close(self) -> None:
        self._rgb_context.free()
        self._context.free()

    def __enter__(self) -> "SceneRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _draw(self, data, camera_id: int, width: int, height: int, option, segment: bool) -> "mujoco.MjrRect":
        self._camera.fixedcamid = camera_id
        mujoco.mjv_updateScene(self._model, data, option or self._default_option, self._perturb, self._camera,
                               mujoco.mjtCatBit.mjCAT_ALL.value, self._scene)
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = segment
        self._scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = segment
        rect = mujoco.MjrRect(0, 0, width, height)
        context = self._context if segment else self._rgb_context
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, context)  # bind this context's FBO
        mujoco.mjr_render(rect, self._scene, context)
        return rect

    def rgb(self, data, camera_id: int, width: int, height: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB image."""
        rect = self._draw(data, camera_id, width, height, None, segment=False)
        rgb = np.empty((height, width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, rect, self._rgb_context)
        return np.flipud(rgb)

    def geoms_depth(self, data, camera_id: int, width: int, height: int, option=None, want_depth: bool = True
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(H, W) int32 geom ids (-1 = nothing) and (H, W) float32 camera-z depth in metres (the far
        plane where nothing was hit), from one segmentation pass.

        Depth is read from the segmentation pass, as mujoco.Renderer does: the lit pass draws the
        skybox and uses other clip planes, so its depth buffer is not the scene's.
        """
        rect = self._draw(data, camera_id, width, height, option, segment=True)
        rgb = np.empty((height, width, 3), np.uint8)
        raw = np.empty((height, width), np.float32) if want_depth else None
        mujoco.mjr_readPixels(rgb, raw, rect, self._context)
        ids = np.flipud(self._decode_geoms(rgb))
        depth = None
        if raw is not None:
            depth = np.flipud(self._d / (raw.astype(np.float64) + self._c)).astype(np.float32)
        return ids, depth

    def geoms_region(self, data, camera_id: int, width: int, height: int, rows: tuple[int, int],
                     cols: tuple[int, int], option=None) -> np.ndarray:
        """Geom ids (-1 = nothing) of the image region rows [r0, r1), cols [c0, c1) only (top-left origin).

        Reading a small region instead of the whole frame saves most of the read-back on a software GL.
        """
        self._draw(data, camera_id, width, height, option, segment=True)
        (r0, r1), (c0, c1) = rows, cols
        rgb = np.empty((r1 - r0, c1 - c0, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, mujoco.MjrRect(c0, height - r1, c1 - c0, r1 - r0), self._context)
        return np.flipud(self._decode_geoms(rgb))

    def _decode_geoms(self, rgb: np.ndarray) -> np.ndarray:
        """ID-colour pixels -> model geom ids (-1 for background and non-geom objects)."""
        segid = rgb[..., 0].astype(np.int32) | (rgb[..., 1].astype(np.int32) << 8) | (rgb[..., 2].astype(np.int32) << 16)
        lookup = np.full(self._scene.ngeom + 1, -1, np.int32)
        for geom in self._scene.geoms[: self._scene.ngeom]:
            if geom.segid >= 0 and geom.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lookup[geom.segid + 1] = geom.objid
        return lookup[np.minimum(segid, self._scene.ngeom)]


class CameraSensor:
    """The camera (OpenCV frame, intrinsics from the rig's vertical field of view), always sampling.

    Per frame one segmentation pass gives geom ids and depth: the `depth` and `segmentation` videos, the
    annotations (and the thermal image, see ThermalCamera); an RGB pass gives the `rgb` video, passed
    through `rgb_filter` when a negative control corrupts it. Videos are written when enabled in the rig.
    """

    name = "camera"

    def __init__(self, model: "mujoco.MjModel", rig: RigConfig, scene: SceneInstances, renderer: SceneRenderer,
                 writer: "EpisodeWriter", rgb_filter: RgbFilter | None = None):
        cam = self.config = rig.camera
        self.rate_hz = cam.fps
        self.K = intrinsics_from_fovy(cam.fovy_deg, cam.width, cam.height)
        self.camera_id = model.camera(CAMERA_NAME).id
        self.scene, self.renderer, self.rgb_filter = scene, renderer, rgb_filter
        self.videos = {name: writer.open_video(name, cam.width, cam.height, cam.fps)
                       for name in CAMERA_VIDEOS if name in rig.sensors}
        self.annotator = Annotator(model, scene, self.K, renderer, wide_view_px(cam))
        self.counts = {"frames": 0, "renders": 0}
        self.frame = -1
        """Index of the last frame sampled; `geoms` (H, W) int32 are its geom ids (-1 = nothing)."""
        self.geoms: np.ndarray | None = None
        self.T_world_camera: np.ndarray | None = None

    def sample(self, data: "mujoco.MjData", t_s: float, index: int) -> None:
        """Frame `index`, stamped index / fps exactly."""
        cam, renderer = self.config, self.renderer
        self.T_world_camera = T_world_camera_from_mujoco(data.cam_xpos[self.camera_id], data.cam_xmat[self.camera_id])
        self.geoms, depth_m = renderer.geoms_depth(data, self.camera_id, cam.width, cam.height)
        self.frame = index
        ids = self.scene.ids_of_geoms(self.geoms)
        self.counts["renders"] += 1
        if "rgb" in self.videos:
            rgb = renderer.rgb(data, self.camera_id, cam.width, cam.height)
            self.videos["rgb"].write(self.rgb_filter(index, rgb) if self.rgb_filter else rgb)
            self.counts["renders"] += 1
        if "depth" in self.videos:
            self.videos["depth"].write(depth_to_mm(depth_m, renderer.far_m))
        if "segmentation" in self.videos:
            self.videos["segmentation"].write(ids)
        self.counts["renders"] += self.annotator.annotate(data, index / cam.fps, index, ids, depth_m, self.T_world_camera)
        self.counts["frames"] += 1

    def finish(self, writer: "EpisodeWriter") -> None:
        """The annotations table (the videos are complete when the writer closes them)."""
        writer.write_table("annotations", self.annotator.table())

    def calibration(self, data: "mujoco.MjData") -> dict:
        """Pinhole intrinsics (px) and the pose at the last frame."""
        K, cam = self.K, self.config
        return {"model": "pinhole", "fx_px": K[0, 0], "fy_px": K[1, 1], "cx_px": K[0, 2], "cy_px": K[1, 2],
                "width_px": cam.width, "height_px": cam.height, "distortion": [0.0, 0.0, 0.0, 0.0, 0.0],
                "T_world_camera": np.asarray(self.T_world_camera).tolist()}


def depth_to_mm(depth_m: np.ndarray, far_m: float) -> np.ndarray:
    """Camera-z depth in metres -> uint16 millimetres; 0 marks no surface (background or > 65.5 m)."""
    mm = np.rint(depth_m * 1000.0)
    mm[(depth_m >= 0.999 * far_m) | (mm > 65535)] = 0
    return mm.astype(np.uint16)
