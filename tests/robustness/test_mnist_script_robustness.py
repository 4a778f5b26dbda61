"""scripts/mnist.py runs that survive their surroundings: stop signals, a closed stdout,
two runs at once, a directory that stops taking files (a full disk), Ctrl-C while the
modules load. The lecture's tests are in test_mnist_script.py."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from knetlike.history import load_history

# slow: each test runs the script in a new process.
pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parents[2] / "scripts"
SCRIPT = SCRIPTS / "mnist.py"
OUTPUTS = {"settings.json", "history.csv", "curves.png", "images.png", "weights.png",
           "weights.npz", "summary.txt"}


def sigint_default():
    """In the child: the stop signals at their defaults, as a terminal gives them, even when
    pytest was started with & (a shell then makes its children ignore SIGINT) or under
    ``nohup`` (which makes them ignore SIGHUP)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def run(*args):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                            text=True)
    assert result.returncode == 0, f"mnist.py {args} exited {result.returncode}:\n{result.stderr}"
    return result


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_default)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"mnist.py ended early:\n{proc.communicate()[1]}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def wait_for_epoch(out: Path, proc: subprocess.Popen, epoch: int = 1) -> None:
    """Wait until history.csv holds ``epoch`` (it starts with epoch 0, the initial weights)."""
    def reached() -> bool:
        try:
            return len((out / "history.csv").read_text().splitlines()) >= epoch + 2
        except FileNotFoundError:
            return False
    deadline = time.monotonic() + 120
    while not reached():
        assert proc.poll() is None, f"mnist.py ended early:\n{proc.communicate()[1]}"
        assert time.monotonic() < deadline, f"epoch {epoch} did not come"
        time.sleep(0.05)


def assert_one_finished_or_stopped_run(out: Path) -> list:
    """All of a run's files are there and agree: the weights are those of the last epoch in
    the history, and the summary says how far the run got."""
    assert {p.name for p in out.iterdir()} == OUTPUTS
    history = load_history(out / "history.csv")
    assert np.load(out / "weights.npz")["epoch"] == (history[-1].epoch if history else 0)
    return history


# Stop signals and a closed stdout

@pytest.mark.mnist
@pytest.mark.parametrize("signum, name", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM"),
                                          (signal.SIGHUP, "SIGHUP")])
def test_a_stop_signal_stops_the_run_and_keeps_it(mnist_data, tmp_path, signum, name):
    out = tmp_path / "run"
    proc = start("--epochs", 1000, "--out", out)
    wait_for_epoch(out, proc)                            # a first finished epoch
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    history = assert_one_finished_or_stopped_run(out)
    assert 1 <= history[-1].epoch < 1000
    status = f"status: interrupted by {name} after epoch {history[-1].epoch}"
    assert status in (out / "summary.txt").read_text() and status in stdout
    assert f"mnist.py: interrupted by {name} after epoch {history[-1].epoch}; kept in {out}" \
        in stderr


@pytest.mark.mnist
def test_a_closed_stdout_stops_the_run_and_keeps_it(mnist_data, tmp_path):
    """``mnist.py | head -2``: the reader leaves; the run stops without a traceback and
    keeps its finished epochs, weights, figures and summary."""
    out = tmp_path / "run"
    proc = start("--epochs", 1000, "--out", out)
    first = [proc.stdout.readline(), proc.stdout.readline()]
    proc.stdout.close()                                  # as head does after its lines
    _, stderr = proc.communicate(timeout=120)
    assert first[0].startswith("epoch:0 ") and first[1].startswith("epoch:1 softloss:0.359")
    assert proc.returncode == 1
    assert "Traceback" not in stderr and "standard output was closed" in stderr
    history = assert_one_finished_or_stopped_run(out)
    assert 1 <= history[-1].epoch < 1000
    summary = (out / "summary.txt").read_text()
    assert f"status: stopped after epoch {history[-1].epoch}: standard output was closed" \
        in summary


@pytest.mark.mnist
def test_ctrl_c_three_times_in_quick_succession_keeps_every_file(mnist_data, tmp_path):
    out = tmp_path / "run"
    proc = start("--epochs", 1000, "--out", out)
    wait_for_epoch(out, proc)
    for _ in range(3):                                  # about as fast as one can press
        proc.send_signal(signal.SIGINT)
        time.sleep(0.15)                                # the later ones land in the wrap-up
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    history = assert_one_finished_or_stopped_run(out)
    summary = (out / "summary.txt").read_text()
    assert f"status: interrupted by Ctrl-C after epoch {history[-1].epoch}" in summary


@pytest.mark.mnist
def test_a_fast_run_stopped_measures_and_names_the_epoch_it_reached(mnist_data, tmp_path):
    out = tmp_path / "run"
    proc = start("--fast", "--epochs", 1000, "--out", out)
    wait_for(out / "settings.json", proc)
    time.sleep(3)                                       # a few unmeasured epochs
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    history = assert_one_finished_or_stopped_run(out)
    assert len(history) == 2 and history[1].epoch >= 1  # the epoch reached, measured once
    status = f"status: interrupted by SIGTERM after epoch {history[1].epoch}\n"
    assert (out / "summary.txt").read_text().startswith(status) and status in stdout


# Two runs, one directory

@pytest.mark.mnist
def test_overwrite_never_leaves_two_runs_mixed(mnist_data, tmp_path):
    """--overwrite removes the previous run's files before writing: a new run that dies
    (here SIGKILL, which nothing can catch) leaves its own files only, never the old
    summary and weights beside a new history."""
    out = tmp_path / "run"
    run("--epochs", 1, "--out", out)
    (out / "notes.txt").write_text("mine")
    proc = start("--epochs", 1000, "--lr", 0.1, "--out", out, "--overwrite")
    assert proc.stdout.readline().startswith("epoch:0 ")
    assert proc.stdout.readline().startswith("epoch:1 ")
    proc.kill()
    proc.communicate(timeout=60)
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible == {"notes.txt", "settings.json", "history.csv"}
    assert json.loads((out / "settings.json").read_text())["lr"] == 0.1
    # The killed run's lock is not stale: the next --overwrite run takes the directory.
    run("--epochs", 1, "--out", out, "--overwrite")
    assert {p.name for p in out.iterdir() if p.name != "notes.txt"} == OUTPUTS


@pytest.mark.mnist
def test_two_runs_started_together_get_a_directory_each(mnist_data, tmp_path):
    out = tmp_path / "run"
    procs = [start("--epochs", 2, "--out", out) for _ in range(2)]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    stderr = "\n".join(err for _, err in results)
    assert f"writing to {out}\n" in stderr + "\n" and f"writing to {out}-2" in stderr
    for directory in (out, tmp_path / "run-2"):
        assert len(assert_one_finished_or_stopped_run(directory)) == 3     # epochs 0, 1, 2


# A directory that stops taking files, as a full disk does

FULL_DISK = '''
"""Run a script with some writes failing as on a full disk: FAIL_RENAMES (file names) fail
when the finished file is renamed into place, FAIL_FSYNC (file names) when its data is
flushed, with an OSError that names no file, as the kernel's ENOSPC from write does."""
import errno, os, runpy, sys
renames = set(filter(None, os.environ.get("FAIL_RENAMES", "").split(",")))
fsyncs = set(filter(None, os.environ.get("FAIL_FSYNC", "").split(",")))
real_replace, real_fsync = os.replace, os.fsync
def replace(src, dst, *args, **kwargs):
    if os.path.basename(dst) in renames:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
    return real_replace(src, dst, *args, **kwargs)
def fsync(fd):
    if any(os.readlink(f"/proc/self/fd/{fd}").split("/")[-1].startswith(f".{name}.")
           for name in fsyncs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_fsync(fd)
os.replace, os.fsync = replace, fsync
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def run_on_a_full_disk(tmp_path, *args, **env):
    wrapper = tmp_path / "full_disk.py"
    wrapper.write_text(FULL_DISK)
    return subprocess.run([sys.executable, str(wrapper), str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **env})


@pytest.mark.mnist
def test_final_writes_that_fail_are_reported_and_the_others_kept(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_on_a_full_disk(tmp_path, "--epochs", 1, "--out", out,
                                FAIL_RENAMES="curves.png,weights.npz")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"mnist.py: could not write weights.npz, curves.png in {out} (weights.npz: No "
            f"space left on device; curves.png: No space left on device); kept in {out}: "
            f"settings.json, history.csv, images.png, weights.png, summary.txt") in result.stderr
    assert "choose a writable --out" in result.stderr
    assert {p.name for p in out.iterdir()} == OUTPUTS - {"curves.png", "weights.npz"}
    summary = (out / "summary.txt").read_text()         # written last: it knows what failed
    assert summary.startswith("status: finished, but could not write weights.npz, curves.png\n")


@pytest.mark.mnist
def test_a_full_disk_names_the_file_that_could_not_be_written(mnist_data, tmp_path):
    """A write that fails with an error naming no file (ENOSPC from write or fsync) is
    still reported by the file's name, never as None."""
    out = tmp_path / "run"
    result = run_on_a_full_disk(tmp_path, "--epochs", 1, "--out", out, FAIL_FSYNC="summary.txt")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert ("could not write summary.txt in" in result.stderr
            and "(summary.txt: No space left on device)" in result.stderr)
    assert "None" not in result.stderr and not (out / "summary.txt").exists()
    out = tmp_path / "settings"
    result = run_on_a_full_disk(tmp_path, "--out", out, FAIL_FSYNC="settings.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"mnist.py: cannot write {out / 'settings.json'}: No space left on device; nothing "
            f"was trained. Choose a writable --out") in result.stderr
    assert not (out / "history.csv").exists() and result.stdout == ""


@pytest.mark.mnist
def test_a_history_that_cannot_be_saved_is_said_once_and_training_goes_on(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_on_a_full_disk(tmp_path, "--epochs", 2, "--out", out,
                                FAIL_RENAMES="history.csv")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("cannot update") == 1
    assert "epoch:2 " in result.stdout and "could not write history.csv in" in result.stderr
    assert np.load(out / "weights.npz")["epoch"] == 2


# Ctrl-C while the modules are still loading

INTERRUPTED_IMPORT = '''
"""Run a script with Ctrl-C arriving while it imports numpy, matplotlib or knetlike."""
import runpy, sys
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name in ("knetlike", "matplotlib", "numpy"):
            raise KeyboardInterrupt
for name in [n for n in sys.modules if n.split(".")[0] in ("knetlike", "matplotlib", "numpy")]:
    del sys.modules[name]
sys.meta_path.insert(0, CtrlC())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


@pytest.mark.parametrize("script", ["mnist.py", "compare.py", "boundaries.py"])
def test_ctrl_c_while_the_modules_load_is_one_line(tmp_path, script):
    wrapper = tmp_path / "interrupted.py"
    wrapper.write_text(INTERRUPTED_IMPORT)
    result = subprocess.run([sys.executable, str(wrapper), str(SCRIPTS / script), "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == f"{script}: interrupted by Ctrl-C while starting; nothing was written\n"
