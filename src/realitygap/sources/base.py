"""The Source protocol: given a context, predict an episode in the on-disk format, with a cost ledger.

A source is anything that predicts what the rig would record under a context: the reference twin,
a perturbed twin (negative control), imported videos, a learned generator. Every source writes the
same episode format (episode/io.py) under `episodes/<source name>/<episode_id>/`, so measurement and
metrics run on all of them alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from realitygap.episode.types import Context


class Cost(BaseModel):
    """Model-setup cost of a source (training or loading), recorded once per run."""

    model_config = ConfigDict(frozen=True)

    setup_wall_s: float = 0.0
    training_data_episodes: int = 0
    note: str = ""


@runtime_checkable
class Source(Protocol):
    name: str
    capabilities: frozenset[str]
    """Streams and annotations it delivers (e.g. 'rgb', 'depth', 'segmentation', 'state')."""

    def setup(self) -> Cost:
        """Load or train what the source needs; returns the setup cost."""
        ...

    def predict(self, context: Context, out_dir: Path) -> dict:
        """Write the predicted episode for `context` into `out_dir` (atomically); returns its episode.json
        dict, whose `cost` records the prediction cost."""
        ...
