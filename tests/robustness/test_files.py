"""Atomic writes: a destination holds the old file or the complete new one, never a part."""
import os
import shutil
import stat
import subprocess
import sys
import threading
import time

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


# Claiming an output directory: one run per directory.

OUTPUTS = ("history.csv", "summary.txt")


def test_a_new_directory_is_claimed_and_released(tmp_path):
    with files.claim_directory(tmp_path / "runs" / "run", outputs=OUTPUTS) as claim:
        assert claim.path == tmp_path / "runs" / "run" and claim.instead is None
        lock = claim.path / files.LOCK_NAME
        assert lock.read_text() == f"{os.getpid()}\n"
    assert not lock.exists() and list(claim.path.iterdir()) == []


def test_a_directory_holding_a_run_is_left_alone(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.csv").write_text("old")
    with files.claim_directory(tmp_path / "run", outputs=OUTPUTS) as claim:
        assert claim.path == tmp_path / "run-2" and not claim.in_use
        assert claim.instead == f"{tmp_path / 'run'} already holds a run"
    assert (tmp_path / "run" / "history.csv").read_text() == "old"


def test_overwrite_removes_the_previous_runs_files_and_temporaries_only(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("history.csv", "summary.txt", ".summary.txt.x1y2.txt", "notes.txt"):
        (run / name).write_text("old")
    with files.claim_directory(run, overwrite=True, outputs=OUTPUTS) as claim:
        assert claim.path == run and claim.instead is None
        assert sorted(p.name for p in run.iterdir()) == [files.LOCK_NAME, "notes.txt"]


def test_a_run_in_progress_is_never_overwritten(tmp_path):
    with files.claim_directory(tmp_path / "run") as first:
        with files.claim_directory(tmp_path / "run") as second:
            assert second.path == tmp_path / "run-2" and second.in_use
            assert second.instead == (f"{tmp_path / 'run'} is in use by a run in progress "
                                      f"(process {os.getpid()})")
        with pytest.raises(files.DirectoryInUse, match="in use by a run in progress"):
            files.claim_directory(tmp_path / "run", overwrite=True)
        assert first.path == tmp_path / "run"


def test_a_file_is_not_a_directory_to_claim(tmp_path):
    (tmp_path / "run").write_text("a file")
    with pytest.raises(NotADirectoryError):
        files.claim_directory(tmp_path / "run")


def test_threads_racing_for_one_directory_each_get_their_own(tmp_path):
    n = 8
    start, claims = threading.Barrier(n), []

    def claim():
        start.wait()
        claims.append(files.claim_directory(tmp_path / "run", outputs=OUTPUTS))
    threads = [threading.Thread(target=claim) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sorted(c.path.name for c in claims) == sorted(
            ["run"] + [f"run-{k}" for k in range(2, n + 1)])
    finally:
        for c in claims:
            c.release()


CLAIMER = """
import sys, time
from knetlike import files
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))          # all start at the same moment
claim = files.claim_directory(sys.argv[1])
with open(claim.path / "mine", "w") as f:         # a run: it writes into its directory
    f.write(str(claim.path))
print(claim.path.name, flush=True)
time.sleep(0.5)
"""


def test_processes_started_together_each_get_their_own_directory(tmp_path):
    start = time.time() + 2
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, str(tmp_path / "run"), str(start)],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    names = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert sorted(names) == ["run", "run-2", "run-3", "run-4"]


def test_the_lock_of_a_killed_run_is_not_stale(tmp_path):
    """The kernel drops a dead process's lock: its directory can be claimed again (it
    holds no run here, only the lock file that SIGKILL left behind)."""
    proc = subprocess.Popen([sys.executable, "-c", CLAIMER.replace("time.sleep(0.5)",
                                                                   "time.sleep(60)"),
                             str(tmp_path / "run"), "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "run"
    proc.kill()
    proc.wait()
    (tmp_path / "run" / "mine").unlink()
    assert (tmp_path / "run" / files.LOCK_NAME).exists()
    with files.claim_directory(tmp_path / "run") as claim:
        assert claim.path == tmp_path / "run" and claim.instead is None


def test_a_failed_write_names_the_file_it_was_writing(tmp_path, monkeypatch):
    """A full disk fails a write or a flush with an error that names no file; the error
    that leaves atomic_write names the destination, so a message can say which file."""
    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(OSError) as err:
        files.atomic_write(tmp_path / "summary.txt", "text")
    assert err.value.filename == str(tmp_path / "summary.txt")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_names_the_destination_not_the_temporary(tmp_path, monkeypatch):
    def refused(src, dst):
        raise PermissionError(13, "Permission denied", src)
    monkeypatch.setattr(files.os, "replace", refused)
    with pytest.raises(OSError) as err:
        files.atomic_write(tmp_path / "weights.npz", b"w")
    assert err.value.filename == str(tmp_path / "weights.npz")


def test_a_released_claim_leaves_the_lock_of_the_run_that_replaced_its_directory(tmp_path):
    first = files.claim_directory(tmp_path / "run")
    assert first.holds()
    shutil.rmtree(tmp_path / "run")
    assert not first.holds()                            # removed: no longer ours
    second = files.claim_directory(tmp_path / "run")    # another run takes the name over
    assert not first.holds() and second.holds()
    first.release()
    assert (tmp_path / "run" / files.LOCK_NAME).exists() and second.holds()
    assert files.claim_directory(tmp_path / "run").path == tmp_path / "run-2"   # still held
    second.release()
    assert not (tmp_path / "run" / files.LOCK_NAME).exists()


@pytest.mark.parametrize("name", [".", "..", "/"])
def test_a_path_that_names_no_directory_of_its_own_is_not_claimed(name):
    with pytest.raises(OSError, match="names no directory of its own"):
        files.claim_directory(name)
