"""Offscreen rendering of the camera streams with MuJoCo's low-level API (one GL context per episode).

Compared with `mujoco.Renderer` this reads depth and segmentation from one render pass and
decodes segmentation straight into instance ids: two passes per frame instead of three.

Depth: reversed-Z buffer value b in [0, 1] (1 = near, 0 = far) -> camera-z distance d / (b + c), with the
glFrustum coefficients of the model's near and far planes (computed in float32, as MuJoCo does).
"""

from __future__ import annotations

import numpy as np

from realitygap.sim.mj import mujoco


class SceneRenderer:
    """Renders RGB + depth and instance-id images from named cameras of one model."""

    def __init__(self, model: "mujoco.MjModel", max_width: int, max_height: int, geom_instance: np.ndarray):
        self._model = model
        self._geom_instance = geom_instance
        self._gl = mujoco.GLContext(max_width, max_height)
        self._gl.make_current()
        self._context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self._context)
        self._context.readDepthMap = mujoco.mjtDepthMap.mjDEPTH_ZEROFAR  # reversed Z: 0 = far plane
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

    def close(self) -> None:
        self._context.free()
        self._gl.free()

    def _draw(self, data, camera_id: int, width: int, height: int, option, segment: bool) -> "mujoco.MjrRect":
        self._camera.fixedcamid = camera_id
        mujoco.mjv_updateScene(self._model, data, option or self._default_option, self._perturb, self._camera,
                               mujoco.mjtCatBit.mjCAT_ALL.value, self._scene)
        self._scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = segment
        self._scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = segment
        rect = mujoco.MjrRect(0, 0, width, height)
        mujoco.mjr_render(rect, self._scene, self._context)
        return rect

    def rgb(self, data, camera_id: int, width: int, height: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB image."""
        rect = self._draw(data, camera_id, width, height, None, segment=False)
        rgb = np.empty((height, width, 3), np.uint8)
        mujoco.mjr_readPixels(rgb, None, rect, self._context)
        return np.flipud(rgb)

    def ids_depth(self, data, camera_id: int, width: int, height: int, option=None, want_depth: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """(H, W) uint16 instance ids (0 = background or a geom that is no instance) and (H, W) float32
        camera-z depth in metres (the far plane where nothing was hit), from one segmentation pass.

        Depth is read from the segmentation pass, as mujoco.Renderer does: the lit pass draws the
        skybox and uses other clip planes, so its depth buffer is not the scene's.
        """
        rect = self._draw(data, camera_id, width, height, option, segment=True)
        rgb = np.empty((height, width, 3), np.uint8)
        raw = np.empty((height, width), np.float32) if want_depth else None
        mujoco.mjr_readPixels(rgb, raw, rect, self._context)
        segid = rgb[..., 0].astype(np.int32) | (rgb[..., 1].astype(np.int32) << 8) | (rgb[..., 2].astype(np.int32) << 16)
        lookup = np.zeros(self._scene.ngeom + 1, np.uint16)
        for geom in self._scene.geoms[: self._scene.ngeom]:
            if geom.segid >= 0 and geom.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lookup[geom.segid + 1] = self._geom_instance[geom.objid]
        ids = np.flipud(lookup[np.minimum(segid, self._scene.ngeom)])
        depth = None
        if raw is not None:
            depth = np.flipud(self._d / (raw.astype(np.float64) + self._c)).astype(np.float32)
        return ids, depth
