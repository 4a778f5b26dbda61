"""knetlike.run: what a script's run needs around the lecture (its directory, its status,
its files, its summary), and the helpers the scripts share. In-process and small: the
scripts' end-to-end runs are in test_mnist_script*.py."""
import argparse
import json
import signal

import numpy as np
import pytest

from knetlike import run as R
from knetlike.gradcheck import GradCheck
from knetlike.history import Epoch, load_history
from knetlike.machinery import Interrupted
from knetlike.reference import TOLERANCE, knet_2016, knet_mlp_2016
from knetlike.train import Diverged

OUTPUTS = ("settings.json", "history.csv", "a.txt", "summary.txt")


# The argparse number types

@pytest.mark.parametrize("parse, good, bad", [
    (R.whole(0), {"0": 0, "7": 7, "-0": 0}, ["-1", "1.5", "x", "", "1e3"]),
    (R.whole(1), {"1": 1}, ["0"]),
    (R.positive, {"0.15": 0.15, "1e-300": 1e-300}, ["0", "-1", "nan", "inf", "x"]),
    (R.nonnegative, {"0": 0.0, "4e-5": 4e-5}, ["-1e-9", "nan", "-inf", "x"]),
    (R.probability, {"0": 0.0, "0.2": 0.2, "0.999": 0.999}, ["1", "-0.1", "nan", "x"]),
])
def test_number_types_take_what_they_say_and_refuse_the_rest(parse, good, bad):
    for text, value in good.items():
        assert parse(text) == value and type(parse(text)) is type(value)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=f"must be .*, got {text!r}"):
            parse(text)


def test_model_name():
    names = [R.model_name(hidden) for hidden in ([], [64], [128, 64])]
    assert names == ["softmax", "MLP 64", "MLP 128-64"]


# check_out: an output path that can become a writable directory

def test_check_out_takes_new_and_existing_directories(tmp_path):
    for path in (tmp_path, tmp_path / "new", tmp_path / "new" / "deeper", "relative/run"):
        R.check_out(str(path))
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    R.check_out(str(tmp_path / "link" / "run"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]   # nothing made


@pytest.mark.parametrize("make, message", [
    (lambda d: "", "an empty name is no directory"),
    (lambda d: str(d / ("x" * 256)), "File name too long"),
    (lambda d: str(d / "a" / ("x" * 4100)), "File name too long"),
    (lambda d: (d / "link").symlink_to(d / "gone") or str(d / "link" / "run"),
     "link is a symbolic link to"),
    (lambda d: (d / "file").write_text("") or str(d / "file" / "run"),
     "file is a file, not a directory"),
    (lambda d: (d / "loop").symlink_to(d / "loop") or str(d / "loop" / "run"),
     "symbolic link"),
])
def test_check_out_refuses_what_cannot_be_a_directory(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        R.check_out(make(tmp_path))


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


# The files and lines a run writes

def test_save_weights_names_every_array(tmp_path):
    w = [np.ones((3, 2)), np.zeros((3, 1)), np.ones((2, 3)), np.zeros((2, 1))]
    R.save_weights(tmp_path / "w.npz", w, 7, [3])
    saved = np.load(tmp_path / "w.npz")
    assert sorted(saved.files) == ["W1", "W2", "b1", "b2", "epoch", "hidden"]
    assert saved["epoch"] == 7 and list(saved["hidden"]) == [3]
    R.save_weights(tmp_path / "w.npz", w[:2], 0, [])
    assert sorted(np.load(tmp_path / "w.npz").files) == ["W", "b", "epoch", "hidden"]


def test_gradient_checks_say_what_was_checked_and_the_verdict():
    w = [np.zeros((10, 784)), np.zeros((10, 1))]
    checks = R.GradientChecks(w, 50)
    line = checks.add(1, GradCheck(2e-6, 0, (3, 4), 0.5, 0.5))
    assert line == ("gcheck:1 worst relative error 2e-06 at W[3, 4] (gradient 0.5, central "
                    "difference 0.5): ok")
    assert checks.failures() == []
    assert checks.summary() == ["gradient check (50 entries per array, all 10 of b, after each "
                                "of 1 epochs): passed, worst relative error 2e-06 after epoch 1 "
                                "(tolerance 0.01)"]
    assert checks.add(2, GradCheck(0.5, 1, (2, 0), 1.0, 2.0)).endswith(": FAILED (> 0.01)")
    assert checks.summary()[0].startswith("gradient check (50 entries per array, all 10 of b, "
                                          "after each of 2 epochs): FAILED, worst relative "
                                          "error 0.5 after epoch 2")
    assert checks.failures() == ["the gradient check failed after epoch 2 (worst relative "
                                 "error above 0.01); see summary.txt"]
    assert R.GradientChecks(w, 3).summary() == []


def test_deviation_lines_hold_only_the_notes_run_to_the_tolerance():
    notes = knet_2016()
    shifted = [Epoch(e.epoch, e.train_nll + 0.002, e.test_nll, e.train_error, e.test_error)
               for e in notes[:3]]
    within = R.deviation_lines(notes[:3], {"notes": notes}, held=True)
    assert within[0] == f"largest deviation from the notes (within {TOLERANCE}):"
    assert within[1].startswith("  train_nll: 0.000000 at epoch ") and len(within) == 5
    assert R.deviation_lines(shifted, {"notes": notes}, held=True)[0] == \
        f"largest deviation from the notes (NOT within {TOLERANCE}):"
    assert "for information only" in R.deviation_lines(shifted, {"notes": notes}, held=False)[0]
    assert "next lecture's MLP-64 run (for information" in \
        R.deviation_lines(knet_mlp_2016()[:2], {"next lecture": knet_mlp_2016()}, held=True)[0]
    assert R.deviation_lines(epochs(150), {"notes": notes}, held=True) == []   # none in common
    assert R.deviation_lines(notes[:3], None, held=True) == []


def test_training_memory_counts_copies_of_w_and_activations():
    from knetlike.weights import weights_nbytes
    w = weights_nbytes(64, classes=10, inputs=784, dtype=np.float32)
    assert R.training_nbytes(64, classes=10, inputs=784, dtype=np.float32) >= 5 * w
    assert R.training_nbytes(10**9, classes=10, inputs=784, dtype=np.float32) > 10**12
    assert (R.training_nbytes(64, classes=10, inputs=784, dtype=np.float64)
            == 2 * R.training_nbytes(64, classes=10, inputs=784, dtype=np.float32))
