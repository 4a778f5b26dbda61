"""Atomic writes: a destination holds the old file or the complete new one, never a part."""
import os
import stat

import pytest

from knetlike import files


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "history.csv"
    files.atomic_write(path, "old\n")
    files.atomic_write(path, "new\n")
    assert path.read_text() == "new\n"
    assert list(tmp_path.iterdir()) == [path]          # no temporary left behind
    assert stat.S_IMODE(path.stat().st_mode) == 0o644   # readable, like any result


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "weights.npz"
    files.atomic_write(path, b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


def test_a_failing_writer_leaves_nothing(tmp_path):
    path = tmp_path / "curves.png"
    with pytest.raises(RuntimeError):
        with files.atomic_path(path) as temp:
            temp.write_bytes(b"half a figure")
            raise RuntimeError("the figure failed")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_keeps_the_extension_for_format_detection(tmp_path):
    with files.atomic_path(tmp_path / "curves.png") as temp:
        assert temp.suffix == ".png" and temp.parent == tmp_path
        temp.write_bytes(b"png")
    assert os.listdir(tmp_path) == ["curves.png"]
