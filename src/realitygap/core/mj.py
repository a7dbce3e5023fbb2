"""The one place that imports MuJoCo: headless EGL rendering must be chosen before the import."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import mujoco  # noqa: E402

__all__ = ["mujoco"]
