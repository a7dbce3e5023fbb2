"""Mounting the rig in a scenario's MJCF: cameras, LiDAR and radar sites, the IMU site and sensors.

The configuration (what records, at what rate, with what noise) is `realitygap.core.rig`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np

from realitygap.core.camera import camera_axes
from realitygap.core.rig import CameraConfig, RigConfig

CAMERA_NAME = "rg_camera"
WIDE_CAMERA_NAME = "rg_camera_wide"
IMU_SITE = "rg_imu_site"
LIDAR_SITE = "rg_lidar_site"
RADAR_SITE = "rg_radar_site"
ACCEL_SENSOR = "rg_accel"
GYRO_SENSOR = "rg_gyro"
INSTANCE_GEOM_GROUP = 2
"""Instance geoms are moved to this geom group so that they can be rendered alone."""
WIDE_PADDING = 1.5
"""The unoccluded-area render covers this factor more field of view on each axis."""


def attach_rig(mjcf: str, rig: RigConfig, camera_pos_m: np.ndarray, sensor_body: str,
               instance_bodies: list[str], timestep_s: float, camera_elevation_deg: float = 0.0) -> str:
    """Return `mjcf` with the rig added: cameras, LiDAR mount site, IMU site and sensors, timestep.

    The camera looks along world +y, tilted down by `camera_elevation_deg` (MJCF xyaxes
    "1 0 0 0 sin(e) cos(e)"); the LiDAR sits 0.1 m above it and the radar 0.1 m below it, both
    level with their x axis along world +y, z up. Instance geoms move to group `INSTANCE_GEOM_GROUP`.
    """
    root = ET.fromstring(mjcf)
    option = root.find("option")
    if option is None:
        option = ET.SubElement(root, "option")
    option.set("timestep", repr(float(timestep_s)))

    visual = root.find("visual")
    if visual is None:
        visual = ET.SubElement(root, "visual")
    glob = visual.find("global")
    if glob is None:
        glob = ET.SubElement(visual, "global")
    wide_width, wide_height = wide_view_px(rig.camera)
    glob.set("offwidth", str(wide_width))
    glob.set("offheight", str(wide_height))

    world = root.find("worldbody")
    assert world is not None, "scenario MJCF has no worldbody"
    pos = " ".join(f"{v:.6f}" for v in camera_pos_m)
    _, up, _ = camera_axes(camera_elevation_deg)
    xyaxes = f"1 0 0 0 {up[1]:.9f} {up[2]:.9f}"
    wide_fovy = math.degrees(2 * math.atan(WIDE_PADDING * math.tan(math.radians(rig.camera.fovy_deg) / 2)))
    ET.SubElement(world, "camera", name=CAMERA_NAME, pos=pos, xyaxes=xyaxes, fovy=f"{rig.camera.fovy_deg:.6f}")
    ET.SubElement(world, "camera", name=WIDE_CAMERA_NAME, pos=pos, xyaxes=xyaxes, fovy=f"{wide_fovy:.6f}")
    lidar_pos = np.asarray(camera_pos_m, float) + np.array([0.0, 0.0, 0.1])
    ET.SubElement(world, "site", name=LIDAR_SITE, pos=" ".join(f"{v:.6f}" for v in lidar_pos),
                  xyaxes="0 1 0 -1 0 0", size="0.01", group="4")
    radar_pos = np.asarray(camera_pos_m, float) - np.array([0.0, 0.0, 0.1])
    ET.SubElement(world, "site", name=RADAR_SITE, pos=" ".join(f"{v:.6f}" for v in radar_pos),
                  xyaxes="0 1 0 -1 0 0", size="0.01", group="4")

    bodies = {b.get("name"): b for b in root.iter("body")}
    if sensor_body not in bodies:
        raise ValueError(f"sensor body {sensor_body!r} not in the scenario MJCF")
    site = ET.Element("site", name=IMU_SITE, pos="0 0 0", size="0.005", group="4")
    bodies[sensor_body].insert(0, site)
    for name in instance_bodies:
        for geom in bodies[name].iter("geom"):
            geom.set("group", str(INSTANCE_GEOM_GROUP))

    sensor = root.find("sensor")
    if sensor is None:
        sensor = ET.SubElement(root, "sensor")
    ET.SubElement(sensor, "accelerometer", name=ACCEL_SENSOR, site=IMU_SITE)
    ET.SubElement(sensor, "gyro", name=GYRO_SENSOR, site=IMU_SITE)
    return ET.tostring(root, encoding="unicode")


def wide_view_px(camera: CameraConfig) -> tuple[int, int]:
    """(width, height) in pixels of the wide camera's image (also the offscreen buffer's size)."""
    return math.ceil(camera.width * WIDE_PADDING), math.ceil(camera.height * WIDE_PADDING)
