"""One harness for every registered scenario: a new scenario is tested by being registered.

For each scenario at its default parameters, one ground-truth episode (256x256 RGB + segmentation, 30
frames/s) is simulated and then:
- its ground-truth state obeys its declared law (each quantity within 2 % or 1 ms / 1 mm / 0.01 rad);
- its law fit, on its ground-truth centres seen through the episode's camera (0.3 px of seeded noise,
  presence and visible fraction from the annotations), reports every declared quantity, either as not
  measurable with a note saying why or in agreement with the state: within 5 % or 5 reported standard
  deviations, times within 3 frame intervals; at least one quantity is measured;
- measured from its own pixels by the full pipeline (tracking, back-projection or its silhouette
  model, its law fit, its image measurements), the same holds with the tracker's errors on top:
  within 25 % or 5 standard deviations, times within 3 frame intervals;
- where it has a clip fit (`realitygap measure-clip --law NAME`), the clip fit on the same video (scale
  from the episode's calibration) measures its main quantity within 5 % or 5 standard deviations.

These are gates against gross errors (a key that does not match the law, a wrong sign or factor, a
fit that never runs); each scenario's own tests hold it to its tighter tolerances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from realitygap.clip.measure import ClipOptions, measure_clip
from realitygap.core.rig import CameraConfig, RigConfig
from realitygap.episode.io import read_episode
from realitygap.measure.pipeline import measure_episode
from realitygap.scenarios import get_scenario, scenario_names
from tests.helpers import simulate_to
from tests.scenarios.tracks import noisy_tracks

RIG = RigConfig(sensors=("rgb", "segmentation"), camera=CameraConfig(width=256, height=256, fps=30))
FRAME_S = 1.0 / RIG.camera.fps
STATE_ABS = {"s": 1e-3, "m": 1e-3, "rad": 0.01}
CLIP_SCENARIOS = [name for name in scenario_names() if get_scenario(name).clip_min_frames > 0]


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    """Scenario name -> the folder of its default ground-truth episode (simulated on first use)."""
    folder, made = tmp_path_factory.mktemp("every_scenario"), {}

    def episode(name: str):
        if name not in made:
            made[name] = simulate_to(folder, name, rig=RIG)
        return made[name]

    return episode


@pytest.mark.parametrize("name", scenario_names())
def test_ground_truth_state_obeys_the_declared_law(episodes, name):
    scenario = get_scenario(name)
    params = scenario.resolve_params({})
    measured = scenario.measure_state(params, read_episode(episodes(name), streams=("state",)).tables["state"])
    law = scenario.declared_law(params)
    assert set(measured) == set(law), "measure_state and declared_law must name the same quantities"
    for key, quantity in law.items():
        tolerance = max(0.02 * abs(quantity.value), STATE_ABS.get(quantity.unit, 0.0))
        assert abs(measured[key] - quantity.value) <= tolerance, (key, measured[key], quantity.value)


@pytest.mark.parametrize("name", scenario_names())
def test_law_fit_on_the_true_centres_agrees_with_the_state(episodes, name):
    scenario = get_scenario(name)
    params = scenario.resolve_params({})
    episode = read_episode(episodes(name), streams=("state", "annotations"))
    annotations = episode.tables["annotations"]
    t_frames = np.unique(np.asarray(annotations["t_s"]))
    fraction = {inst.name: np.asarray(annotations["visible_fraction"])[np.asarray(annotations["name"]) == inst.name]
                for inst in scenario.instances}
    tracks = noisy_tracks(scenario, params, episode, present={k: v > 0 for k, v in fraction.items()}, t_s=t_frames,
                          visible_fraction=fraction)
    fitted = scenario.fit_law(params, tracks)
    truth = scenario.measure_state(params, episode.tables["state"])
    rows = {k: (f.value, f.uncertainty, f.unit, f.note, truth[k]) for k, f in fitted.items() if k in truth}
    _assert_agrees(scenario.declared_law(params), rows, relative=0.05)


@pytest.mark.parametrize("name", scenario_names())
def test_law_measured_from_its_own_pixels_agrees_with_the_state(episodes, name):
    scenario = get_scenario(name)
    params = scenario.resolve_params({})
    rows = {row["quantity"]: (row["measured"], row["uncertainty"], row["unit"], row["note"], row["ground_truth"])
            for row in measure_episode(episodes(name), episodes(name))}
    _assert_agrees(scenario.declared_law(params), rows, relative=0.25)


@pytest.mark.parametrize("name", CLIP_SCENARIOS)
def test_clip_fit_measures_the_main_quantity(episodes, name):
    scenario = get_scenario(name)
    params = scenario.resolve_params({})
    main = scenario.clip_main_quantity
    truth = params.get(main, scenario.gravity_m_s2 if main == "g_m_s2" else None)
    if truth is None:
        truth = scenario.declared_law(params)[main].value
    quantity = measure_clip(episodes(name), ClipOptions(law=name)).fit.quantities[main]
    assert abs(quantity.value - truth) <= max(0.05 * abs(truth), 5 * quantity.uncertainty), (quantity.value, truth)


def _assert_agrees(law: dict, rows: dict, relative: float) -> None:
    """Every law quantity is in `rows` (name -> (value, uncertainty, unit, note, truth)): not measured with a
    note, or within `relative` of the truth or 5 uncertainties (times: 3 frame intervals); one is measured."""
    missing = set(law) - set(rows)
    assert not missing, f"the law fit does not report {sorted(missing)}"
    measured = 0
    for key in law:
        value, uncertainty, unit, note, truth = rows[key]
        if not math.isfinite(value):
            assert note, f"{key} is not measured and no note says why"
            continue
        measured += 1
        error = abs(value - truth)
        if unit == "s":
            assert error <= 3 * FRAME_S, (key, value, truth)
        else:
            sigma = uncertainty if math.isfinite(uncertainty) else 0.0
            assert error <= max(relative * abs(truth), 5 * sigma), (key, value, truth, uncertainty)
    assert measured > 0, "no quantity of the law is measurable"
