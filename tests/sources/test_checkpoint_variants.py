"""`worldmodel@TAG`: the world model on another checkpoint, found by tag in one folder."""

from __future__ import annotations

import pytest

from realitygap.runtime.errors import InputError
from realitygap.sources.registry import CHECKPOINT_VARIANTS_ENV, check_source_name, checkpoint_variant
from realitygap.worldmodel.source import SHIPPED_CHECKPOINT


def test_a_tag_names_a_checkpoint_file_in_the_variants_folder(monkeypatch):
    monkeypatch.setenv(CHECKPOINT_VARIANTS_ENV, str(SHIPPED_CHECKPOINT.parent))
    assert checkpoint_variant("worldmodel@worldmodel") == SHIPPED_CHECKPOINT
    check_source_name("worldmodel@worldmodel")
    assert checkpoint_variant("worldmodel") is None and checkpoint_variant("low_gravity") is None


@pytest.mark.parametrize("name, message", [("worldmodel@../x", "tag"), ("worldmodel@", "tag"), ("worldmodel@absent", "no checkpoint")])
def test_bad_or_missing_tags_are_one_clear_error(monkeypatch, tmp_path, name, message):
    monkeypatch.setenv(CHECKPOINT_VARIANTS_ENV, str(tmp_path))
    with pytest.raises(InputError, match=message):
        check_source_name(name)
