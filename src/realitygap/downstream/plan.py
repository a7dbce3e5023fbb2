"""The downstream experiment's settings, contexts and training sets (pure: no training, no files written).

Contexts come from the dataset's split rule (`episode.dataset.split_of`): per scenario, the first
`n_train` 'train' and the first `n_test` 'test' episodes of `pipeline.plan_contexts(scenario, ..., seed)`.
Ground truth is simulated for both; every source predicts the train contexts only; models are always
tested on ground-truth test episodes.

A *mix* source `sim+<control>` (for the scorecard's predictive validity) is a view, not a generator: on
each train context it is the control's episode when `int(episode_id[8:16], 16) % 2 == 1`, else sim's.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from realitygap.downstream.models import TrainSettings
from realitygap.downstream.tasks import TASKS
from realitygap.measure.pipeline import REFERENCE_SOURCE

MIX_SEPARATOR = "+"


class DownstreamConfig(BaseModel):
    """Everything that decides a downstream run's numbers (recorded in downstream.json)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[str, ...]
    tasks: tuple[str, ...] = tuple(TASKS)
    scenarios: tuple[str, ...] = ("drop", "bounce", "slide")
    seeds: int = Field(3, ge=1, le=100, description="model seeds per training set")
    n_train: int = Field(16, ge=2, le=10_000, description="train contexts per scenario")
    n_test: int = Field(10, ge=2, le=10_000, description="ground-truth test contexts per scenario")
    dataset_seed: int = 0
    size_px: int = Field(96, ge=32, le=1024, description="camera image side of the simulated contexts")
    mixes: tuple[float, ...] = (0.25, 0.5, 1.0)
    """Extra source episodes added to all ground-truth train episodes, as a fraction of their number."""
    sizes: tuple[float, ...] = (0.25, 0.5, 1.0)
    """Fractions of the train episodes for the data-size curves."""
    curve_sources: tuple[str, ...] | None = None
    """Sources that get mixes and data-size curves (None: every listed source except sim)."""
    train: dict[str, TrainSettings] = Field(default_factory=lambda: {
        "parameters": TrainSettings(steps=300, batch_size=32, hidden=32, weight_decay=0.05),
        "localisation": TrainSettings(steps=300, batch_size=32, hidden=32),
        "depth_position": TrainSettings(steps=300, batch_size=32, hidden=32)})
    bootstrap: int = Field(1000, ge=100)

    @model_validator(mode="after")
    def _curves_are_listed(self) -> "DownstreamConfig":
        missing = [s for s in self.curve_sources or () if s not in self.sources]
        if missing:  # names quoted by repr: pydantic cannot carry a message holding bytes that are not UTF-8
            raise ValueError(f"--curves names source(s) not in --sources: {', '.join(map(repr, missing))}")
        return self

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown or not tasks:
            raise ValueError(f"unknown task(s) {', '.join(map(repr, unknown)) or '(none)'}; known: {', '.join(TASKS)}")
        return tasks

    def curve_list(self) -> tuple[str, ...]:
        if self.curve_sources is not None:
            return self.curve_sources
        return tuple(s for s in self.sources if s != REFERENCE_SOURCE)


def mix_parts(source: str) -> tuple[str, str] | None:
    """('sim', control) for a mix source name, else None."""
    if MIX_SEPARATOR not in source:
        return None
    base, other = source.split(MIX_SEPARATOR, 1)
    return base, other


def generators(sources: tuple[str, ...]) -> list[str]:
    """The sources whose episodes must exist (mixes expanded), without sim, in a stable order."""
    out: list[str] = []
    for source in sources:
        for part in (mix_parts(source) or (source,)):
            if part != REFERENCE_SOURCE and part not in out:
                out.append(part)
    return out


def episode_source(source: str, episode_id: str) -> str:
    """Which generated episode a (possibly mixed) source uses on a context."""
    parts = mix_parts(source)
    if parts is None:
        return source
    return parts[1] if int(episode_id[8:16], 16) % 2 == 1 else parts[0]


def subset(ids: list[str], fraction: float) -> list[str]:
    """The first round(fraction * len) ids (at least 1): training sets grow by adding, never by swapping."""
    return ids[:max(1, int(round(fraction * len(ids))))]


def default_sources() -> tuple[str, ...]:
    """sim, the built-in world model and every negative control."""
    from realitygap.sources.twins import TWINS

    return (REFERENCE_SOURCE, "worldmodel") + tuple(name for name in TWINS if name != REFERENCE_SOURCE)


def quick_config(**fields) -> DownstreamConfig:
    """A run for tests and a first look: two cheap scenarios, 4 train and 3 test contexts each, one seed,
    short training, one mix and one data-size point."""
    short = {task: TrainSettings(steps=60, batch_size=32, hidden=16) for task in TASKS}
    settings = {"scenarios": ("drop", "slide"), "n_train": 4, "n_test": 3, "seeds": 1, "mixes": (0.5,),
                "sizes": (0.5,), "train": short, "bootstrap": 200, **fields}
    return DownstreamConfig(**settings)
