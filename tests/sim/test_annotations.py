"""Annotations: 2D boxes, visible fraction (with negative controls), 3D boxes; the camera sees all motion."""

import numpy as np
import pytest

from realitygap.episode.io import read_episode
from tests.helpers import VISUAL_RIG, assert_whole_and_distinct, simulate_to


@pytest.mark.parametrize("scenario, params", [
    ("drop", {"height_m": 3.0, "radius_m": 0.15, "colour": "yellow"}),
    ("drop", {"height_m": 0.3, "radius_m": 0.04, "colour": "blue"}),
    ("bounce", {"height_m": 2.5, "restitution": 0.95, "radius_m": 0.04, "colour": "green"}),
    ("bounce", {"height_m": 0.5, "restitution": 0.4, "radius_m": 0.15, "colour": "orange"}),
])
def test_ball_whole_in_every_frame_and_distinct_from_background(tmp_path, scenario, params):
    episode = read_episode(simulate_to(tmp_path, scenario, params, rig=VISUAL_RIG))
    assert_whole_and_distinct(episode, "ball")


def test_boxes_contain_projection_and_3d_box_fits_the_ball(drop_episode):
    ann = drop_episode.tables["annotations"]
    r = drop_episode.meta.context.params["radius_m"]
    assert np.allclose(ann["box3d_size_x_m"], 2 * r) and np.allclose(ann["box3d_size_z_m"], 2 * r)
    u, v = ann["centre_u_px"], ann["centre_v_px"]
    assert np.all((ann["bbox_x_min_px"] <= u) & (u <= ann["bbox_x_max_px"]))
    assert np.all((ann["bbox_y_min_px"] <= v) & (v <= ann["bbox_y_max_px"]))
    seg = drop_episode.videos["segmentation"]
    for frame in (0, 10, 20):
        rows, cols = np.nonzero(seg[frame] == 1)
        assert (cols.min(), rows.min(), cols.max(), rows.max()) == (
            ann["bbox_x_min_px"][frame], ann["bbox_y_min_px"][frame], ann["bbox_x_max_px"][frame], ann["bbox_y_max_px"][frame])


def test_visible_fraction_catches_truncation(tmp_path):
    """Negative control: a camera framed on the lower half of the motion cuts the falling ball."""
    from realitygap.episode.types import Context
    from realitygap.scenarios import get_scenario
    from realitygap.sim.runner import simulate_episode

    spec = get_scenario("drop")

    class TightDrop(type(spec)):
        def motion_bounds_m(self, params):
            low, high = super().motion_bounds_m(params)
            return low, np.array([high[0], high[1], 0.5 * high[2]])

    params = spec.resolve_params({"height_m": 2.0, "radius_m": 0.15})
    simulate_episode(Context(scenario="drop", params=params, seed=0, rig=VISUAL_RIG), TightDrop(), tmp_path / "ep")
    ann = read_episode(tmp_path / "ep", streams=("annotations",)).tables["annotations"]
    fraction, pixels = ann["visible_fraction"], ann["visible_px"]
    assert fraction[0] == 0.0 and pixels[0] == 0  # released above the image
    cut = (fraction > 0.05) & (fraction < 0.95)
    assert cut.sum() >= 1
    whole_area = pixels[fraction == 1.0].mean()  # the ball moves at constant depth: constant area
    assert pixels[cut] / fraction[cut] == pytest.approx(np.full(cut.sum(), whole_area), rel=0.1)
    assert fraction[-1] == 1.0


def test_visible_fraction_catches_occlusion(tmp_path):
    """Negative control: a static wall in front of the ball hides part of it."""
    from realitygap.episode.types import Context
    from realitygap.scenarios import get_scenario
    from realitygap.sim.runner import simulate_episode

    spec = get_scenario("drop")

    wall = '<geom name="wall" type="box" pos="0.1 -0.5 0.15" size="0.1 0.02 0.15" rgba="0.3 0.3 0.3 1"/>'
    walled_drop = spec.model_copy(update={"world_changes": {"extra_bodies_xml": wall}})

    params = spec.resolve_params({"height_m": 1.0, "radius_m": 0.1})
    simulate_episode(Context(scenario="drop", params=params, seed=0, rig=VISUAL_RIG), walled_drop, tmp_path / "ep")
    ann = read_episode(tmp_path / "ep", streams=("annotations",)).tables["annotations"]
    assert ann["visible_fraction"][0] == 1.0  # released well above the wall
    assert 0.3 < ann["visible_fraction"][-1] < 0.7  # at rest, the wall covers the right half
