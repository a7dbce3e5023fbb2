import hashlib

import pytest

from realitygap.episode.dataset import read_index, rebuild_index, resolve_inside, split_of
from realitygap.runtime.errors import InputError


def test_resolve_inside_refuses_escapes(tmp_path):
    (tmp_path / "inside").mkdir()
    assert resolve_inside(tmp_path, "inside/x.mp4") == (tmp_path / "inside" / "x.mp4").resolve()
    for bad in ("../x.mp4", "/etc/passwd", "inside/../../x"):
        with pytest.raises(InputError, match="outside the dataset root"):
            resolve_inside(tmp_path, bad)
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(InputError):
        resolve_inside(tmp_path, "link/x")


def test_split_rule_is_deterministic_and_about_one_in_five():
    ids = [hashlib.sha256(str(i).encode()).hexdigest()[:16] for i in range(1000)]
    tests = sum(split_of(i) == "test" for i in ids)
    assert 150 < tests < 250
    assert split_of("0000000500000000") == split_of("0000000500000000")


def test_empty_index_is_valid(tmp_path):
    rebuild_index(tmp_path)
    index = read_index(tmp_path)
    assert list(index["episode_id"]) == []
