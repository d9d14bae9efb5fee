"""Atomic outputs get the mode the user's umask gives a new file or folder (as open() and mkdir
would), not the private mode of the temporary they were written under."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from neowise_lightcurves import atomic, demo


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_without_changing_it(umask):
    assert atomic.current_umask() == umask
    assert atomic.current_umask() == umask


def test_files_get_the_mode_open_gives(tmp_path, umask):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what open() gives a new file under this umask
    assert _mode(plain) == 0o666 & ~umask

    with atomic.atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("x")
        assert _mode(tmp) == 0o600  # private while it is written
    assert _mode(tmp_path / "a.txt") == _mode(plain)

    atomic.write_frame(pd.DataFrame({"a": [1, 2]}), tmp_path / "sub" / "f.parquet")
    assert _mode(tmp_path / "sub" / "f.parquet") == _mode(plain)
    # replacing an existing file: the new file's mode, whatever the old one had
    os.chmod(tmp_path / "a.txt", 0o600)
    with atomic.atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("y")
    assert _mode(tmp_path / "a.txt") == _mode(plain)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "plain.txt", "sub"]


def test_folders_get_the_mode_mkdir_gives(tmp_path, umask):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert _mode(plain) == 0o777 & ~umask
    dest = tmp_path / "out"
    for _ in range(2):  # new, then replacing the old one
        with atomic.atomic_directory(dest) as tmp:
            assert _mode(tmp) == 0o700
            (tmp / "inner").mkdir()
            (tmp / "inner" / "f.txt").write_text("x")
        assert _mode(dest) == _mode(plain)
        assert _mode(dest / "inner") == _mode(plain)
        assert _mode(dest / "inner" / "f.txt") == 0o666 & ~umask


def test_a_real_writer_s_outputs_are_group_readable_under_umask_022(tmp_path):
    """The demo's MEP copy (a folder of Parquet files through atomic_directory) and its target
    list (through atomic_path), as the workflow writes them."""
    old = os.umask(0o022)
    try:
        root = tmp_path / "copy"
        demo.write_allwise(root, 1, 5)
        demo.write_targets(tmp_path / "targets.ecsv", 1, 5)
    finally:
        os.umask(old)
    files = [p for p in root.rglob("*") if p.is_file()] + [tmp_path / "targets.ecsv"]
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    assert len(files) > 3 and len(folders) > 2
    assert {_mode(p) for p in files} == {0o644}
    assert {_mode(p) for p in folders} == {0o755}
