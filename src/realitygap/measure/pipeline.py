"""Measure an episode from its RGB video alone and compare with ground truth.

For every episode of a dataset (any source): track each object from RGB (seeded by the ground-truth
first-frame masks of the same context), back-project the tracks to metres on the scenario's motion
plane (spheres: perspective-corrected), fit the scenario's declared law, check object permanence
against the ground-truth visibility, score the video against the ground-truth video with the
Physics-IQ metrics and measure the static scene's geometric consistency (epipolar inlier ratio).

Ground truth of a quantity is, in order: the twin's state-based value (`measure_state` on the
ground-truth episode `episodes/sim/<id>`), the context's parameter of the same name, the scenario's
gravity for `g_m_s2`, or the law. On the ground-truth episodes themselves the error is the
pipeline's own error floor, which `error_floor` summarises per scenario and quantity.

Results go to `<dataset>/measurements/<source>/<episode_id>.parquet` (one per episode, skipped when
its recorded episode.json checksum still matches: resumable) with the objects' tracks in world metres
beside it (`<episode_id>.tracks.parquet`, for the scorecard's physical features), then
`<dataset>/measurements.parquet` and `<dataset>/error_floor.parquet`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from realitygap.core.fitting import MeasuredTrack
from realitygap.episode.dataset import episode_dir, read_index
from realitygap.episode.io import EPISODE_JSON, read_episode, read_meta, sha256_file, verify_episode
from realitygap.episode.meta import EpisodeMeta
from realitygap.measure.backproject import backproject_track
from realitygap.measure.coherence import REFERENCE_STREAMS, coherence_rows
from realitygap.measure.coherence import STREAMS as COHERENCE_STREAMS
from realitygap.measure.geometry import geometric_consistency
from realitygap.measure.integrity import camera_motion_px, frozen_frames
from realitygap.measure.permanence import expected_visible_from_annotations, permanence_report
from realitygap.measure.rows import SCHEMA, measurement_row
from realitygap.measure.spontaneous import find_spontaneous_objects
from realitygap.measure.tracking import seeds_from_episode, track_objects
from realitygap.metrics.physics_iq import compare_videos, physics_iq_score
from realitygap.runtime.atomic import write_parquet_atomic
from realitygap.runtime.errors import InputError
from realitygap.runtime.executor import Executor, run_tasks
from realitygap.scenarios import get_scenario

MEASUREMENTS_DIR = "measurements"
TRACKS_SCHEMA = pa.schema([("instance", pa.string()), ("t_s", pa.float64()), ("present", pa.bool_()), ("x_m", pa.float64()),
                           ("y_m", pa.float64()), ("z_m", pa.float64())])
MEASUREMENTS_PARQUET = "measurements.parquet"
ERROR_FLOOR_PARQUET = "error_floor.parquet"
REFERENCE_SOURCE = "sim"



def measure_episode(episode_path: Path, reference_path: Path, tracks_out: dict | None = None) -> list[dict]:
    """Rows (one per quantity) measuring the episode at `episode_path` against the ground truth at
    `reference_path` (the same folder for a ground-truth episode). `tracks_out`, when given, receives the
    objects' tracks in world metres (instance name -> MeasuredTrack)."""
    reference_streams = ("rgb", "segmentation", "annotations", "state", *REFERENCE_STREAMS)
    episode = read_episode(episode_path, streams=("rgb", "thermal", "radar", *COHERENCE_STREAMS, *reference_streams))
    same = Path(episode_path).resolve() == Path(reference_path).resolve()  # ground truth measured against itself
    reference = episode if same else read_episode(reference_path, streams=reference_streams)
    rgb, t_s = episode.videos["rgb"], episode.video_t_s["rgb"]
    capture, pixel_tracks = capture_times(episode.meta), []
    if capture is not None and len(capture) == len(rgb):
        # An imported clip resampled to the context's rate repeats or skips source frames; physics is
        # measured on the distinct source frames at their true capture times (nearest-frame times are
        # off by up to half a source period: -4 % in g for 25 -> 30 fps), Physics-IQ on the resampled video.
        capture = np.asarray(capture, float)
        first = np.flatnonzero(np.r_[True, np.diff(capture) > 0])
        rows = measure_video(rgb[first], capture[first], episode.K, episode.T_world_camera, reference, iq_rgb=rgb,
                             tracks_out=tracks_out, pixel_tracks_out=pixel_tracks)
    else:
        rows = measure_video(rgb, t_s, episode.K, episode.T_world_camera, reference, tracks_out=tracks_out,
                             pixel_tracks_out=pixel_tracks)
    return rows + sensor_rows(episode, reference) + coherence_rows(episode, reference, pixel_tracks, rgb.shape[1:3])


def capture_times(meta: EpisodeMeta) -> list[float] | None:
    """True capture (or generation) time of each frame of an episode resampled to its context's rate, from
    the `import` (video source) or `generator` (learned source) block; None when frames are on t = i / fps."""
    for block in (meta.imported, meta.generator):
        times = (block or {}).get("resampling", {}).get("time", {}).get("capture_t_s")
        if times is not None:
            return times
    return None


def sensor_rows(episode, reference) -> list[dict]:
    """Cross-sensor coherence where those sensors exist, against the ground-truth state and scene:

    - radar: RMS of (detected radial velocity of the sensor body - radial velocity of the ground-truth
      velocity along the line of sight), ground truth 0, uncertainty the declared noise;
    - thermal: mean radiance on the object over mean radiance of the floor (segmentation of the
      reference), against the ratio the declared temperatures and emissivities give.
    """
    rows = []
    scenario = get_scenario(reference.meta.context.scenario)
    instance = reference.meta.instance(scenario.sensor_body)
    radar = episode.tables.get("radar")
    if radar is not None and instance is not None and len(radar["t_s"]):
        own = np.asarray(radar["instance_id"]) == instance.id
        if own.any():
            state = reference.tables["state"]
            rows_body = np.asarray(state["body"]) == scenario.sensor_body
            t = np.asarray(radar["t_s"])[own]
            centre = np.stack([np.interp(t, state["t_s"][rows_body], state[f"position_{a}_m"][rows_body]) for a in "xyz"], 1)
            velocity = np.stack([np.interp(t, state["t_s"][rows_body], state[f"velocity_{a}_m_s"][rows_body]) for a in "xyz"], 1)
            origin = np.array(episode.meta.calibration.radar.T_world_radar)[:3, 3]
            sight = (centre - origin) / np.linalg.norm(centre - origin, axis=1, keepdims=True)
            residual = np.asarray(radar["radial_velocity_m_s"])[own] - np.einsum("ij,ij->i", velocity, sight)
            noise = episode.meta.context.rig.radar.velocity_noise_std_m_s
            rows.append(measurement_row("radar_radial_velocity_rms_m_s", "m/s", float(np.sqrt(np.mean(residual**2))), noise, 0.0, 0.0,
                             method="radar vs ground-truth velocity along the line of sight",
                             note=f"{int(own.sum())} detections; declared noise {noise} m/s"))
    thermal = episode.videos.get("thermal")
    if thermal is not None and instance is not None and thermal.shape[:3] == reference.videos["segmentation"].shape:
        seg = reference.videos["segmentation"]
        on_object, on_floor = seg == instance.id, seg == 0
        background = thermal[on_floor].astype(float)
        # Sky (253 K) and floor (ambient) are two levels; the floor is the warmer one.
        on_floor &= thermal > 0.5 * (np.percentile(background, 1) + np.percentile(background, 99)) - 1
        if on_object.sum() > 20 and on_floor.sum() > 100:
            calib = episode.meta.calibration.thermal
            measured = float(thermal[on_object].mean() / thermal[on_floor].mean())
            ambient = episode.meta.context.rig.thermal.ambient_k
            from realitygap.sim.thermal import radiance_w_m2_sr

            expected = calib.radiance_w_m2_sr_by_instance[instance.name] / float(radiance_w_m2_sr(ambient, 0.95, ambient))
            rows.append(measurement_row("thermal_radiance_ratio", "", measured, math.nan, expected, expected,
                             method="mean object radiance / mean floor radiance"))
    return rows


def measure_video(rgb: np.ndarray, t_s: np.ndarray, K: np.ndarray, T_world_camera: np.ndarray, reference,
                  iq_rgb: np.ndarray | None = None, tracks_out: dict | None = None,
                  pixel_tracks_out: list | None = None) -> list[dict]:
    """Rows measuring a video (frames (T, H, W, 3) uint8 at times `t_s`, calibration K, T_world_camera)
    of `reference`'s context against `reference` (a ground-truth Episode with rgb, segmentation,
    annotations and state). The video may have another size and frame rate than the reference:
    seed masks are resized and the expected visibility is taken at the nearest reference frame.
    `iq_rgb` (default `rgb`) is the video compared frame by frame with the reference for Physics-IQ.
    `pixel_tracks_out`, when given, receives the tracker's ObjectTracks with their masks (derived labels)."""
    scenario = get_scenario(reference.meta.context.scenario)
    params = scenario.resolve_params(reference.meta.context.params)
    seeds = [_resize_seed(seed, rgb.shape[1:3]) for seed in seeds_from_episode(reference)]
    iq_rgb = rgb if iq_rgb is None else iq_rgb
    try:
        tracks, not_tracked = track_objects(rgb, t_s, seeds, keep_masks=pixel_tracks_out is not None), ""
    except ValueError as error:  # a predicted first frame that does not show the object: nothing to track
        tracks, not_tracked = [], str(error)
    if pixel_tracks_out is not None:
        pixel_tracks_out.extend(tracks)
    classes = {inst.name: inst.class_name for inst in scenario.instances}
    tracks_m = {inst.name: _absent_track(inst.name, t_s) for inst in scenario.instances} if not_tracked else {}
    for track in tracks:
        modelled = scenario.position_from_pixels(params, track.name, np.where(track.present[:, None], track.centroid_px, np.nan),
                                                 track.sigma_px, K, T_world_camera)
        if modelled is not None:
            tracks_m[track.name] = MeasuredTrack(name=track.name, t_s=np.asarray(track.t_s, float), present=track.present,
                                                 position_m=modelled[0], sigma_m=modelled[1],
                                                 visible_fraction=track.visible_fraction)
            continue
        sphere_radius = float(params["radius_m"]) if classes.get(track.name) == "ball" and "radius_m" in params else None
        tracks_m[track.name] = backproject_track(track.name, track.t_s, track.present, track.centroid_px, track.sigma_px,
                                                 K, T_world_camera, scenario.tracking_plane(params, track.name),
                                                 sphere_radius_m=sphere_radius, visible_fraction=track.visible_fraction)
    if tracks_out is not None:
        tracks_out.update(tracks_m)
    fits = {**scenario.fit_law(params, tracks_m),
            **scenario.measure_image(params, rgb, t_s, tracked_object_masks(tracks, rgb.shape), K, T_world_camera)}
    truth = scenario.measure_state(params, reference.tables["state"])
    law = {name: q.value for name, q in scenario.declared_law(params).items()}

    rows = []
    for name, fit in fits.items():
        note = f"not tracked ({not_tracked}); {fit.note}" if not_tracked else fit.note
        rows.append(measurement_row(name, fit.unit, fit.value, fit.uncertainty, _ground_truth(name, truth, params, scenario, law),
                         law.get(name, math.nan), fit.residual_rms, fit.residual_unit, fit.reduced_chi2, fit.method, note))
    rows.append(measurement_row("untracked_objects", "count", float(len(scenario.instances) - len(tracks)), 0.0, 0.0, 0.0,
                     method="objects of the context the tracker could not find in frame 0", note=not_tracked))

    sensor_track = tracks_m.get(next((i.name for i in scenario.instances if i.body == scenario.sensor_body), ""))
    if sensor_track is not None:
        rows.append(measurement_row("largest_jump_m", "m", largest_jump_m(sensor_track, scenario.law_position(params, sensor_track.t_s)),
                         math.nan, 0.0, 0.0, method="max frame-to-frame change of (track - law), metres",
                         note="a teleport shows as a jump; smooth deviations from the law do not"))

    object_masks = tracked_object_masks(tracks, rgb.shape)
    rows.append(measurement_row("camera_motion_px", "px", camera_motion_px(rgb, object_masks), math.nan, 0.0, 0.0,
                     method="largest per-frame median displacement of frame 0's background corners (LK)",
                     note="a steady camera reads < 0.1 px; NaN: fewer than 8 background corners"))
    geometry = geometric_consistency(rgb, ~object_masks, seed=0)
    rows.append(measurement_row("geometric_consistency", "", geometry["mean_inlier_ratio"], math.nan, 1.0, 1.0,
                                method="static scene: share of SIFT matches on one epipolar geometry (USAC F or H), mean "
                                       "over frame pairs (i, i + 15)",
                                note=f"pairs fitted: {geometry['success_fraction']:.2f}; NaN: too few static keypoints"))
    reference_at = np.clip(np.rint(np.asarray(t_s) * reference.meta.rates_hz["camera"]).astype(int), 0,
                           len(reference.videos["rgb"]) - 1)
    rows.append(measurement_row("frozen_frames", "count", frozen_frames(rgb, reference.videos["rgb"][reference_at]), 0.0, 0.0, 0.0,
                     method="frames equal to their predecessor (<= 2 levels) where the ground-truth video changes"))

    expected_ref = expected_visible_from_annotations(reference, [t.name for t in tracks])
    fps_ref = reference.meta.rates_hz["camera"]
    nearest = np.clip(np.rint(np.asarray(t_s) * fps_ref).astype(int), 0, expected_ref.shape[1] - 1)
    report = permanence_report(tracks, expected_ref[:, nearest], find_spontaneous_objects(rgb, tracks))
    rows.append(measurement_row("vanishing_events", "count", report["n_vanishing_events"], 0.0, 0.0, 0.0, method="permanence"))
    rows.append(measurement_row("spontaneous_events", "count", report["n_spontaneous_events"], 0.0, 0.0, 0.0, method="permanence"))

    reference_rgb = reference.videos["rgb"]
    if reference_rgb.shape == iq_rgb.shape:
        metrics = compare_videos(iq_rgb, reference_rgb)
        for name in ("spatial_iou", "spatiotemporal_iou", "weighted_spatial_iou"):
            rows.append(measurement_row(name, "", getattr(metrics, name), math.nan, 1.0, 1.0, method="physics_iq"))
        rows.append(measurement_row("mse", "", metrics.mse, math.nan, 0.0, 0.0, method="physics_iq"))
        rows.append(measurement_row("physics_iq_score", "%", physics_iq_score(metrics), math.nan, 100.0, 100.0, method="physics_iq"))
    return rows


def measure_dataset(root: Path, workers: int | Executor = 1, on_done: Callable[[int, object], None] | None = None,
                    on_total: Callable[[int], None] | None = None) -> Path:
    """Measure every complete episode of the dataset (skipping those already measured); returns the
    path of measurements.parquet."""
    root = Path(root)
    index = verify_dataset(root)
    tasks, cached = [], []
    for eid, source in zip(index["episode_id"], index["source"]):
        if not (episode_dir(root, REFERENCE_SOURCE, str(eid)) / EPISODE_JSON).is_file():
            raise InputError(f"episode {eid} of source {source} has no ground truth ('{REFERENCE_SOURCE}') in {root}: "
                             "measure a dataset that holds both (predict without --out writes into the contexts dataset)")
        path = episode_dir(root, str(source), str(eid))
        out = root / MEASUREMENTS_DIR / str(source) / f"{eid}.parquet"
        sha = sha256_file(path / EPISODE_JSON)
        if out.is_file() and tracks_path(out).is_file() and _recorded_sha(out) == sha:
            cached.append(out)
        else:
            reference = episode_dir(root, REFERENCE_SOURCE, str(eid))  # absolute paths: workers may run in another folder (Ray)
            tasks.append((str(path.absolute()), str(reference.absolute()), str(out.absolute()), str(source), str(eid), sha))
    if on_total:
        on_total(len(tasks))
    written = run_tasks(_measure_task, tasks, workers, on_done=on_done)
    tables = [pq.read_table(p) for p in sorted(cached + [Path(w) for w in written])]
    table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    table = table.sort_by([("source", "ascending"), ("scenario", "ascending"), ("episode_id", "ascending"),
                           ("quantity", "ascending")])
    write_parquet_atomic(root / MEASUREMENTS_PARQUET, table)
    write_parquet_atomic(root / ERROR_FLOOR_PARQUET, error_floor(table))
    return root / MEASUREMENTS_PARQUET


def largest_jump_m(track, law_position_m: np.ndarray) -> float:
    """Largest change between consecutive measured frames of the track's deviation from the law
    (metres): constant offsets and slow drifts cancel, a teleport of d metres reads d."""
    deviation = np.asarray(track.position_m) - np.asarray(law_position_m)
    valid = np.asarray(track.valid)
    steps = np.linalg.norm(np.diff(deviation[valid], axis=0), axis=1)
    return float(steps.max()) if steps.size else math.nan


def tracks_path(measurement_path: Path) -> Path:
    """Where the tracks of an episode's measurement are kept: beside its rows, `<episode_id>.tracks.parquet`."""
    return measurement_path.with_name(measurement_path.stem + ".tracks.parquet")


def tracks_table(tracks: dict) -> pa.Table:
    """Objects' tracks as one table: instance, t_s, present, x_m, y_m, z_m (world metres, NaN where not seen)."""
    columns: dict[str, list] = {"instance": [], "t_s": [], "present": [], "x_m": [], "y_m": [], "z_m": []}
    for name, track in sorted(tracks.items()):
        columns["instance"] += [name] * len(track.t_s)
        columns["t_s"] += np.asarray(track.t_s, float).tolist()
        columns["present"] += np.asarray(track.present, bool).tolist()
        for axis, key in enumerate(("x_m", "y_m", "z_m")):
            columns[key] += np.asarray(track.position_m, float)[:, axis].tolist()
    return pa.Table.from_pydict(columns, schema=TRACKS_SCHEMA)


def verify_dataset(root: Path) -> dict[str, np.ndarray]:
    """The dataset's index, after checking every episode's checksums; InputError names the first bad one."""
    index = read_index(root)
    for eid, source in zip(index["episode_id"], index["source"]):
        if not verify_episode(episode_dir(root, str(source), str(eid))):
            raise InputError(f"episode {source}/{eid} is corrupt or incomplete (checksum mismatch): simulate or import it again")
    return index


def error_floor(table: pa.Table) -> pa.Table:
    """Per scenario and quantity, over ground-truth episodes: count, mean and max |error|, and max
    |error| / |ground truth|."""
    data = table.to_pydict()
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for source, scenario, quantity, unit, error, truth in zip(data["source"], data["scenario"], data["quantity"],
                                                               data["unit"], data["error"], data["ground_truth"]):
        if source == REFERENCE_SOURCE and error is not None and math.isfinite(error):
            groups.setdefault((scenario, quantity, unit), []).append((abs(error), abs(truth) if truth else math.nan))
    rows = {"scenario": [], "quantity": [], "unit": [], "episodes": [], "mean_abs_error": [], "max_abs_error": [],
            "max_rel_error": []}
    for (scenario, quantity, unit), values in sorted(groups.items()):
        errors = np.array([e for e, _ in values])
        rel = np.array([e / t if t and math.isfinite(t) and t > 0 else np.nan for e, t in values])
        rows["scenario"].append(scenario)
        rows["quantity"].append(quantity)
        rows["unit"].append(unit)
        rows["episodes"].append(len(values))
        rows["mean_abs_error"].append(float(errors.mean()))
        rows["max_abs_error"].append(float(errors.max()))
        rows["max_rel_error"].append(float(np.nanmax(rel)) if np.isfinite(rel).any() else math.nan)
    return pa.Table.from_pydict(rows)


def _measure_task(task: tuple[str, str, str, str, str, str]) -> str:
    path, reference, out, source, eid, sha = task
    reference_path = Path(reference) if Path(reference, EPISODE_JSON).is_file() else Path(path)
    tracks: dict = {}
    rows = measure_episode(Path(path), reference_path, tracks_out=tracks)
    scenario = read_meta(reference_path).context.scenario
    for row in rows:
        row.update(episode_id=eid, source=source, scenario=scenario, episode_sha256=sha)
    write_parquet_atomic(tracks_path(Path(out)), tracks_table(tracks))
    write_parquet_atomic(Path(out), pa.Table.from_pylist(rows, schema=SCHEMA))
    return out


def _absent_track(name: str, t_s: np.ndarray) -> MeasuredTrack:
    """A track never seen: law fits on it report 'unmeasured' instead of failing."""
    t = np.asarray(t_s, float)
    return MeasuredTrack(name=name, t_s=t, present=np.zeros(len(t), bool), position_m=np.full((len(t), 3), np.nan),
                         sigma_m=np.full((len(t), 3), np.nan))


def tracked_object_masks(tracks, shape) -> np.ndarray:
    """(T, H, W) bool: each tracked object's bounding box, 2 px wider (pixels not to read as background)."""
    masks = np.zeros(shape[:3], bool)
    for track in tracks:
        for frame, box in enumerate(track.bbox_px):
            x0, y0, x1, y1 = (int(v) for v in box)  # the clip's contrast tracker gives float boxes
            if x0 >= 0:
                masks[frame, max(y0 - 2, 0): y1 + 3, max(x0 - 2, 0): x1 + 3] = True
    return masks


def _resize_seed(seed, shape_hw: tuple[int, int]):
    """A seed whose first-frame mask is resized (nearest) to a video of another size."""
    import cv2

    if seed.mask is None or seed.mask.shape == tuple(shape_hw):
        return seed
    mask = cv2.resize(seed.mask.astype(np.uint8), (shape_hw[1], shape_hw[0]), interpolation=cv2.INTER_NEAREST) > 0
    return type(seed)(name=seed.name, mask=mask, rgb=seed.rgb)


def _ground_truth(name: str, truth: dict, params: dict, scenario, law: dict) -> float:
    if name in truth and truth[name] is not None and math.isfinite(truth[name]):
        return float(truth[name])
    if name in params and isinstance(params[name], float):
        return float(params[name])
    if name == "g_m_s2":
        return scenario.gravity_m_s2
    return float(law.get(name, math.nan))


def _recorded_sha(path: Path) -> str | None:
    try:
        column = pq.read_table(path, columns=["episode_sha256"]).column(0).to_pylist()
    except (OSError, pa.ArrowInvalid, KeyError):
        return None
    return column[0] if column else None
