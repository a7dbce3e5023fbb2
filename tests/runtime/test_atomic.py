"""Atomic writes leave whole files with the permissions an ordinary write would give them."""

from __future__ import annotations

import os
import stat

from realitygap.runtime.atomic import write_bytes_atomic, write_json_atomic


def test_atomic_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_bytes_atomic(tmp_path / "a.bin", b"x")
        write_json_atomic(tmp_path / "sub" / "b.json", {"k": 1})
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(mask)
    ordinary = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert ordinary == 0o644
    for path in (tmp_path / "a.bin", tmp_path / "sub" / "b.json"):
        assert stat.S_IMODE(path.stat().st_mode) == ordinary
    assert (tmp_path / "a.bin").read_bytes() == b"x" and not list(tmp_path.glob(".*.tmp"))
