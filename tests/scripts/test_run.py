"""knetlike.run: what a script's run needs around the lecture (its directory, its status,
its files, its summary), and the helpers the scripts share. In-process and small: the
scripts' end-to-end runs are in test_mnist_script*.py."""
import json
import os
import shutil
import signal

import pytest

from knetlike import files
from knetlike import run as R
from knetlike.history import Epoch, load_history
from knetlike.machinery import Interrupted
from knetlike.train import Diverged

OUTPUTS = ("settings.json", "history.csv", "a.txt", "summary.txt")


# Run: a run from its directory to its exit status

def epochs(*numbers):
    return [Epoch(e, 0.3, 0.3, 0.1, 0.1) for e in numbers]


def write_a(path):
    path.write_text("a")


def test_a_finished_run_writes_settings_first_and_the_summary_last(tmp_path, capsys):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {"lr": 0.1, "hidden": [64, 32]}) as run:
        assert json.loads((out / "settings.json").read_text()) == {"lr": 0.1, "hidden": [64, 32]}
        with run.loop():
            for e in epochs(1, 2):
                run.history.append(e)
                run.report(e)
                assert load_history(out / "history.csv") == run.history   # kept current
        status = run.finish({"a.txt": write_a}, ["more: yes"])
    assert status == run.exit_status == 0
    summary = (out / "summary.txt").read_text().splitlines()
    assert summary[0] == "status: finished"
    assert summary[1] == "settings: lr=0.1 hidden=64 32"
    assert summary[2].startswith("wall time: ") and " s for 2 epochs (" in summary[2]
    assert summary[3:] == [f"final: {epochs(2)[0]}", "more: yes"]
    captured = capsys.readouterr()
    assert captured.out.splitlines()[:2] == [str(e) for e in epochs(1, 2)]
    assert f"writing to {out}" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "history.csv", "settings.json",
                                                     "summary.txt"]        # the lock is gone


@pytest.mark.parametrize("stop, status", [
    (KeyboardInterrupt(), "interrupted by Ctrl-C after epoch 2"),
    (Interrupted(signal.SIGTERM), "interrupted by SIGTERM after epoch 2"),
    (Interrupted(signal.SIGHUP), "interrupted by SIGHUP after epoch 2"),
    (Diverged("epoch 3: the loss is not finite; try a smaller lr"),
     "diverged: epoch 3: the loss is not finite; try a smaller lr"),
    (R.OutputClosed("Broken pipe"), "stopped after epoch 2: standard output was closed"),
])
def test_a_stop_in_the_loop_is_the_runs_status_and_the_files_are_still_written(
        tmp_path, capsys, stop, status):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {}) as run:
        with run.loop():
            run.history += epochs(1, 2)
            raise stop
        run.finish({"history.csv": write_a, "a.txt": write_a})
    assert run.exit_status == 1 and run.status == status
    assert (out / "summary.txt").read_text().startswith(f"status: {status}\n")
    assert (f"x.py: {status}; kept in {out}: settings.json, history.csv, a.txt, summary.txt"
            in capsys.readouterr().err)


def test_a_problem_fails_a_finished_run(tmp_path, capsys):
    with R.Run("x.py", str(tmp_path / "run"), False, OUTPUTS, {}) as run:
        run.finish({}, problems=["the check failed"])
    assert run.exit_status == 1 and "x.py: the check failed" in capsys.readouterr().err


def test_model_name():
    names = [R.model_name(hidden) for hidden in ([], [64], [128, 64])]
    assert names == ["softmax", "MLP 64", "MLP 128-64"]


# A run whose directory goes away, or is replaced by another run's

def test_a_run_whose_directory_is_removed_stops_writing_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {}) as run:
        with run.loop():
            run.history.append(epochs(0)[0])
            run.report(run.history[-1])
            shutil.rmtree(out)                          # someone removes it mid-run
            run.history.append(epochs(1)[0])
            run.report(run.history[-1])
            raise AssertionError("the loop goes on after its directory is gone")
        status = run.finish({"a.txt": write_a})
    assert status == 1 and not out.exists()             # nothing was written there again
    assert run.status == (f"stopped after epoch 1: {out} was removed or replaced, so nothing "
                          f"more is written there")
    assert f"x.py: {run.status}" in capsys.readouterr().err


def test_a_run_never_writes_into_nor_unlocks_the_run_that_replaced_its_directory(tmp_path):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {"first": True}) as first:
        shutil.rmtree(out)
        with files.claim_directory(out) as second:     # a second run takes the name over
            (out / "settings.json").write_text('{"second": true}')
            lock = (out / files.LOCK_NAME).read_bytes()
            with first.loop():
                first.history.append(epochs(0)[0])
                first.report(first.history[-1])
            first.finish({"a.txt": write_a})
            assert sorted(p.name for p in out.iterdir()) == [files.LOCK_NAME, "settings.json"]
            assert (out / "settings.json").read_text() == '{"second": true}'
            assert (out / files.LOCK_NAME).read_bytes() == lock and second.holds()
        assert not (out / files.LOCK_NAME).exists()    # released by its own run
    assert first.exit_status == 1 and "was removed or replaced" in first.status


# Where a run writes when its directory is taken

def test_a_new_numbered_directory_is_said_with_how_to_reuse_one(tmp_path, capsys):
    base = tmp_path / "mnist"
    for name in ("mnist", "mnist-2", "mnist-3"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "settings.json").write_text("{}")
    with R.Run("x.py", str(base), False, OUTPUTS, {}) as run:
        run.finish({})
    assert run.path == tmp_path / "mnist-4"
    assert (f"x.py: {base} already holds a run (so do {base}-2 ... {base}-3); writing to "
            f"{base}-4 instead (--out {base} --overwrite reuses it, replacing its run)"
            in capsys.readouterr().err)


# One stop-signal policy for every script

@pytest.mark.parametrize("signum, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP"),
                                          (signal.SIGINT, "Ctrl-C")])
def test_run_script_turns_a_stop_signal_into_a_line_and_status_1(capsys, signum, name):
    def main():
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal did not stop main")
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.getsignal(s) for s in stops}
    signal.signal(signal.SIGHUP, signal.SIG_DFL)         # also when pytest runs under nohup
    try:
        assert R.run_script("x.py", main) == 1
        assert all(signal.getsignal(s) is signal.SIG_IGN for s in stops)   # it only exits now
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert capsys.readouterr().err == f"x.py: interrupted by {name}\n"
