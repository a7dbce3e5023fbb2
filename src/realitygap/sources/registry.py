"""All sources by name: the twins (reference + negative controls), the built-in world model, the
diffusers adapter. Learned sources are imported lazily, so listing sources never imports torch.

`video` is not here: it imports files through a manifest (`sources/video.py`) instead of predicting
from a context.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from realitygap.runtime.errors import InputError
from realitygap.sources.base import Source

# name -> (module, attribute of a zero-argument factory, description)
LEARNED_SOURCES: dict[str, tuple[str, str, str]] = {
    "worldmodel": ("realitygap.worldmodel.source", "make_source",
                   "built-in learned video generator (PyTorch flow matching), trained only on sim episodes"),
    "diffusers": ("realitygap.sources.diffusers_i2v", "make_source",
                  "an open image-to-video diffusers pipeline (extra `diffusers`; a GPU where present)"),
}


MODEL_ENV: dict[str, str] = {"worldmodel": "REALITYGAP_WORLDMODEL_CHECKPOINT", "diffusers": "REALITYGAP_DIFFUSERS_MODEL"}
"""Environment variable through which `realitygap predict --model PATH` points a learned source at its model
(it reaches the spawned worker processes; each loads the model once)."""


def source_descriptions() -> dict[str, str]:
    """Name -> one-line description of every source that predicts from a context."""
    from realitygap.sources.twins import TWINS

    return {**{name: twin.description for name, twin in TWINS.items()},
            **{name: entry[2] for name, entry in LEARNED_SOURCES.items()}}


def check_source_name(name: str) -> None:
    """One clear error for an unknown source name (nothing imported beyond the twins)."""
    if name not in source_descriptions():
        raise InputError(f"unknown source {name!r}; known: {', '.join(source_descriptions())}, video")


@lru_cache(maxsize=None)
def get_source(name: str) -> Source:
    """The source called `name`, created once per process (learned sources load their model here)."""
    from realitygap.sources.twins import TWINS

    check_source_name(name)
    if name in TWINS:
        return TWINS[name]
    module, factory, _ = LEARNED_SOURCES[name]
    return getattr(importlib.import_module(module), factory)()
