"""All sources by name: the twins (reference + negative controls), the built-in world model, the
diffusers adapter. Learned sources are imported lazily, so listing sources never imports torch.

`video` is not here: it imports files through a manifest (`sources/video.py`) instead of predicting
from a context.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from pathlib import Path

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


CHECKPOINT_VARIANTS_ENV = "REALITYGAP_WORLDMODEL_CHECKPOINTS"
"""Folder of extra world-model checkpoints: source `worldmodel@TAG` is the world model on `TAG.pt` there
(default folder: the shipped checkpoints). Used for checkpoints at several training budgets."""


def checkpoint_variant(name: str) -> Path | None:
    """The checkpoint file of a `worldmodel@TAG` source name (None for any other name)."""
    base, separator, tag = name.partition("@")
    if base != "worldmodel" or not separator:
        return None
    if not tag or not tag.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"source {name!r}: the checkpoint tag after '@' must be letters, digits, - or _")
    folder = Path(os.environ.get(CHECKPOINT_VARIANTS_ENV) or Path(__file__).parents[1] / "worldmodel" / "checkpoints")
    path = folder / f"{tag}.pt"
    if not path.is_file():
        raise InputError(f"source {name!r}: no checkpoint {path} (set {CHECKPOINT_VARIANTS_ENV} to the folder that holds {tag}.pt)")
    return path


def source_descriptions() -> dict[str, str]:
    """Name -> one-line description of every source that predicts from a context."""
    from realitygap.sources.twins import TWINS

    return {**{name: twin.description for name, twin in TWINS.items()},
            **{name: entry[2] for name, entry in LEARNED_SOURCES.items()}}


def check_source_name(name: str) -> None:
    """One clear error for an unknown source name (nothing imported beyond the twins)."""
    if checkpoint_variant(name) is not None:
        return
    if name not in source_descriptions():
        raise InputError(f"unknown source {name!r}; known: {', '.join(source_descriptions())}, video")


@lru_cache(maxsize=None)
def get_source(name: str) -> Source:
    """The source called `name`, created once per process (learned sources load their model here)."""
    from realitygap.sources.twins import TWINS

    check_source_name(name)
    if name in TWINS:
        return TWINS[name]
    variant = checkpoint_variant(name)
    if variant is not None:
        module, factory, _ = LEARNED_SOURCES["worldmodel"]
        source = getattr(importlib.import_module(module), factory)(variant)
        source.name = name
        return source
    module, factory, _ = LEARNED_SOURCES[name]
    return getattr(importlib.import_module(module), factory)()
