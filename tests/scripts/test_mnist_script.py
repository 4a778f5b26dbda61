"""scripts/mnist.py end to end on the real MNIST: the notes' numbers, its outputs, and what
each flag claims to change. Runs that survive their surroundings (signals, locks, full
disks) are in test_mnist_script_robustness.py; bad input in test_scripts_bad_input.py."""
import json
import os
import subprocess
import sys
from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest

from knetlike.history import load_history
from knetlike.reference import NEXT_LECTURE_RUN, REFERENCE_RUN, TOLERANCE, compare, knet_2016

from conftest import load_script

SCRIPTS = Path(__file__).parents[2] / "scripts"
SCRIPT = SCRIPTS / "mnist.py"
OUTPUTS = {"settings.json", "history.csv", "curves.png", "images.png", "weights.png",
           "weights.npz", "summary.txt"}
pytestmark = [pytest.mark.mnist, pytest.mark.slow]    # each test runs mnist.py in a new process


def run(*args, check=True, env=None):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                            text=True, env=None if env is None else {**os.environ, **env})
    if check and result.returncode != 0:
        raise AssertionError(f"mnist.py {args} exited {result.returncode}:\n{result.stderr}")
    return result


def flags(settings: dict) -> list:
    """Command-line flags for a dict of settings such as NEXT_LECTURE_RUN."""
    out = []
    for key, value in settings.items():
        if value is True:
            out.append(f"--{key}")
        elif isinstance(value, list):
            out += [f"--{key}", *value]
        elif value is not False:
            out += [f"--{key}", value]
    return out


def test_the_first_epochs_reproduce_the_notes(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run("--epochs", 3, "--out", out)
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [0, 1, 2, 3]            # mnist.jl's report(0) first
    for deviation in compare(history):
        assert deviation.max_abs <= TOLERANCE, deviation
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch:0 softloss:2.30")          # log(10): W near 0
    assert lines[1].startswith("epoch:1 softloss:0.359") and "zeroone:0.10" in lines[1]
    assert {p.name for p in out.iterdir()} == OUTPUTS
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W", "b", "epoch", "hidden"}
    assert saved["W"].shape == (10, 784) and saved["b"].shape == (10, 1) and saved["epoch"] == 3
    assert saved["W"].dtype == np.float32 and saved["hidden"].size == 0
    settings = json.loads((out / "settings.json").read_text())
    assert settings["hidden"] == [] and settings["lr"] == 0.15 and settings["epochs"] == 3
    assert (settings["l1"], settings["l2"], settings["dropout"]) == (0, 0, [0, 0])
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("status: finished\n") and f"(within {TOLERANCE})" in summary
    assert "l1=0.0 l2=0.0 dropout=0.0 0.0 " in summary


@pytest.mark.slow
def test_the_full_reference_run_is_within_0_001_of_all_400_numbers(mnist_data, tmp_path):
    out = tmp_path / "full"
    run("--out", out)                                   # the defaults are the notes' run
    history, notes = load_history(out / "history.csv"), knet_2016()
    assert [e.epoch for e in history] == list(range(101))     # epoch 0: the initial weights
    assert history[0].train_nll == pytest.approx(np.log(10), abs=0.01)   # W ~ N(0, 0.001^2)
    worst = max(compare(history), key=lambda d: d.max_abs)
    assert worst.max_abs <= TOLERANCE, worst
    last = history[-1]
    assert last.train_error == pytest.approx(0.0668, abs=0.001)
    assert last.test_error == pytest.approx(0.0762, abs=0.001)
    assert (last.train_nll, last.test_nll) == pytest.approx(
        (notes[-1].train_nll, notes[-1].test_nll), abs=0.001)


def test_an_existing_output_directory_is_not_overwritten(mnist_data, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("--epochs", 0, "--out", out)
    assert (out / "notes.txt").read_text() == "mine" and not (out / "history.csv").exists()
    assert (tmp_path / "run-2" / "summary.txt").exists()
    assert "writing to" in result.stderr and "run-2" in result.stderr
    run("--epochs", 0, "--out", out, "--overwrite")
    assert (out / "summary.txt").exists() and (out / "notes.txt").exists()


def test_a_diverging_learning_rate_stops_and_keeps_the_finite_weights(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run("--epochs", 5, "--lr", "1e38", "--out", out, check=False)
    assert result.returncode == 1
    assert "status: diverged: epoch 1: the loss is not finite" in result.stdout
    assert "try a smaller lr" in result.stderr
    assert [e.epoch for e in load_history(out / "history.csv")] == [0]
    saved = np.load(out / "weights.npz")
    assert np.all(np.isfinite(saved["W"])) and saved["epoch"] == 0
    assert (out / "curves.png").exists()


def test_a_finite_blow_up_is_a_divergence_too(mnist_data, tmp_path):
    """--hidden 64 --lr 1e6: a finite NLL of about 4e5 and 90% error is no finished run."""
    out = tmp_path / "run"
    result = run("--hidden", 64, "--lr", "1e6", "--epochs", 3, "--out", out, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("status: diverged: epoch 1: ") and "finished" not in summary
    assert "try a smaller lr" in result.stderr
    assert np.load(out / "weights.npz")["epoch"] == 0


def test_other_settings_are_compared_for_information_only(mnist_data, tmp_path):
    out = tmp_path / "run"
    run("--epochs", 1, "--lr", 0.1, "--out", out)
    summary = (out / "summary.txt").read_text()
    assert "for information only: these settings differ from the notes' run" in summary
    assert "NOT within" not in summary and "(within" not in summary


# mnist.jl's options: --hidden, --gcheck, --fast, --dtype

def test_an_mlp_run_writes_every_layer_and_compares_with_the_next_lecture(mnist_data, tmp_path):
    """The next lecture's model with the recommended settings (NEXT_LECTURE_RUN: the
    README's): its first epoch lands near the lecture's (train error 0.0686, test 0.071),
    and the gradient that training uses passes the check after each epoch."""
    out = tmp_path / "mlp"
    result = run(*flags({**NEXT_LECTURE_RUN, "epochs": 3}), "--gcheck", 3, "--out", out)
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [0, 1, 2, 3]          # epoch 0: the initial weights
    assert history[1].train_error == pytest.approx(0.0686, abs=0.01)
    assert history[1].test_error == pytest.approx(0.071, abs=0.01)
    assert history[-1].train_nll < history[1].train_nll
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W1", "b1", "W2", "b2", "epoch", "hidden"}
    assert [saved[k].shape for k in ("W1", "b1", "W2", "b2")] == [(100, 784), (100, 1),
                                                                  (10, 100), (10, 1)]
    assert saved["epoch"] == 3 and list(saved["hidden"]) == [100]
    checks = [line for line in result.stdout.splitlines() if line.startswith("gcheck:")]
    assert [line.split()[0] for line in checks] == ["gcheck:1", "gcheck:2", "gcheck:3"]
    assert all(line.endswith(": ok") for line in checks)
    summary = (out / "summary.txt").read_text()
    assert "status: finished" in summary and "hidden=100 " in summary
    assert "largest deviation from the next lecture's" in summary
    assert "(for information: an MLP run depends on its seed; compare in distribution)" in summary
    assert "from the notes" not in summary
    assert "gradient check (3 entries per array, after each of 3 epochs): passed" in summary
    settings = json.loads((out / "settings.json").read_text())
    assert {key: settings[key] for key in NEXT_LECTURE_RUN} == {**NEXT_LECTURE_RUN, "epochs": 3}
    assert all((out / name).exists() for name in ("curves.png", "weights.png", "images.png"))


def test_a_deeper_mlp_names_its_layers_and_is_compared_for_information(mnist_data, tmp_path):
    """Any MLP is drawn over the next lecture's 784-100-10 numbers, said to be for
    information, and compared with them for information only, never held to them."""
    out = tmp_path / "deep"
    run("--hidden", 32, 16, "--lr", 0.5, "--winit", 0.1, "--epochs", 1, "--out", out)
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W1", "b1", "W2", "b2", "W3", "b3", "epoch", "hidden"}
    assert saved["W2"].shape == (16, 32) and list(saved["hidden"]) == [32, 16]
    summary = (out / "summary.txt").read_text()
    assert "hidden=32 16 " in summary and "largest deviation from the next lecture's" in summary
    assert "for information" in summary and "within" not in summary


def test_fast_measures_once_after_the_last_epoch(mnist_data, tmp_path):
    out = tmp_path / "fast"
    result = run("--fast", "--epochs", 3, "--out", out)
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch:")]
    assert [line.split()[0] for line in epochs] == ["epoch:0", "epoch:3"]
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [0, 3]
    for deviation in compare(history):                  # the same numbers, measured once
        assert deviation.max_abs <= TOLERANCE, deviation
    assert np.load(out / "weights.npz")["epoch"] == 3
    summary = (out / "summary.txt").read_text()
    assert "fast=True" in summary and " s for 3 epochs (" in summary and " s per epoch)" in summary


def test_fast_with_no_epochs_finishes_with_every_file(mnist_data, tmp_path):
    """--fast --epochs 0: nothing to train or measure, yet a finished run (once a
    ZeroDivisionError that left only settings.json)."""
    out = tmp_path / "fast0"
    result = run("--fast", "--epochs", 0, "--out", out)
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert [e.epoch for e in load_history(out / "history.csv")] == [0]
    assert np.load(out / "weights.npz")["epoch"] == 0
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("status: finished\n") and "0 epochs" in summary
    assert "Traceback" not in result.stderr


def test_float64_data_and_weights_are_not_held_to_the_notes(mnist_data, tmp_path):
    """A float64 run lands near the notes' numbers, but it is not the notes' run: its
    summary compares for information and never claims "within"."""
    out = tmp_path / "f64"
    run("--dtype", "float64", "--epochs", 1, "--out", out)
    saved = np.load(out / "weights.npz")
    assert saved["W"].dtype == np.float64
    for deviation in compare(load_history(out / "history.csv")):
        assert deviation.max_abs <= TOLERANCE, deviation
    summary = (out / "summary.txt").read_text()
    assert "dtype=float64" in summary and "within" not in summary
    assert "for information only" in summary


def test_gcheck_larger_than_an_array_says_how_many_entries_were_checked(mnist_data, tmp_path):
    out = tmp_path / "run"
    run("--epochs", 1, "--gcheck", 50, "--out", out)
    summary = (out / "summary.txt").read_text()
    assert "gradient check (50 entries per array, all 10 of b, after each of 1 epochs)" in summary


# Each flag changes what it claims to change: the weights after one epoch, settings.json and
# summary.txt, against one run with the defaults.

@pytest.fixture(scope="module")
def base_run(tmp_path_factory, mnist_data):
    out = tmp_path_factory.mktemp("base") / "run"
    run("--epochs", 1, "--out", out)
    return out


def weights_of(out: Path) -> list:
    saved = np.load(out / "weights.npz")
    return [saved[name] for name in saved.files if name[0] in "Wb"]


@pytest.mark.parametrize("flag, setting", [
    (["--lr", "0.1"], {"lr": 0.1}),
    (["--batchsize", "50"], {"batchsize": 50}),
    (["--winit", "0.01"], {"winit": 0.01}),
    (["--seed", "1"], {"seed": 1}),
    (["--shuffle"], {"shuffle": True}),
    (["--l1", "1e-4"], {"l1": 1e-4}),
    (["--l2", "1e-3"], {"l2": 1e-3}),
    (["--dropout", "0.2"], {"dropout": [0.2, 0.0]}),        # no hidden layer: the input only
])
def test_each_flag_changes_the_weights_and_is_recorded(base_run, tmp_path, flag, setting):
    out = tmp_path / "run"
    run("--epochs", 1, *flag, "--out", out)
    recorded = json.loads((out / "settings.json").read_text())
    assert {key: recorded[key] for key in setting} == setting
    summary = (out / "summary.txt").read_text()
    key, value = next(iter(setting.items()))
    shown = " ".join(map(str, value)) if isinstance(value, list) else value
    assert f" {key}={shown} " in summary.splitlines()[1] + " "
    changed = [not np.array_equal(a, b) for a, b in zip(weights_of(out), weights_of(base_run))]
    assert changed[0], f"{flag} left W as it was without it"
    if key != "seed":                          # a seed is still the notes' run; these are not
        assert "(within" not in summary and "for information only" in summary


def test_the_penalties_shrink_the_weights_they_penalise(base_run, tmp_path):
    """--l2 pulls W towards 0 in square, --l1 in absolute value; b is never penalised."""
    W0 = weights_of(base_run)[0]
    for flag, size in [("--l2", lambda W: np.sum(W.astype(np.float64) ** 2)),
                       ("--l1", lambda W: np.sum(np.abs(W.astype(np.float64))))]:
        out = tmp_path / flag[2:]
        run("--epochs", 1, flag, "1e-3", "--out", out)
        assert size(weights_of(out)[0]) < size(W0)


def test_dropout_is_reproducible_and_reaches_the_hidden_layer(mnist_data, tmp_path):
    """--dropout P_INPUT P_HIDDEN with --hidden: the same seed gives the same weights twice,
    and dropping only hidden outputs changes them."""
    common = ("--hidden", 16, "--winit", 0.01, "--lr", 0.1)
    for name, extra in [("a", ("--dropout", 0, 0.5)), ("b", ("--dropout", 0, 0.5)),
                        ("plain", ())]:
        run("--epochs", 1, *common, *extra, "--out", tmp_path / name)
    a, b, plain = (weights_of(tmp_path / name) for name in ("a", "b", "plain"))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], plain[0])
    assert json.loads((tmp_path / "a" / "settings.json").read_text())["dropout"] == [0, 0.5]
    assert "dropout=0.0 0.5 " in (tmp_path / "a" / "summary.txt").read_text()


def test_gcheck_checks_the_penalised_gradient(mnist_data, tmp_path):
    """With --l1 and --l2 the gradient that training uses has the penalties' terms; the
    check compares it with the differences of the same penalised loss, and passes."""
    out = tmp_path / "run"
    result = run("--epochs", 1, "--l2", 0.5, "--l1", 1e-3, "--gcheck", 5, "--out", out)
    assert "gcheck:1 " in result.stdout and result.stdout.count(": ok") == 1
    lines = [line.split()[0] for line in result.stdout.splitlines()[:3]]
    assert lines == ["epoch:0", "epoch:1", "gcheck:1"]      # after its epoch's line
    assert "passed" in (out / "summary.txt").read_text()


def test_the_seed_and_winit_draw_the_initial_weights(mnist_data, tmp_path):
    """--seed and --winit are not ignored: --epochs 0 keeps the initial W, which must be the
    seed's draw of N(0, winit^2) (written here independently); another seed's differs."""
    for seed, winit in [(1, 0.001), (2, 0.001), (1, 0.05)]:
        run("--epochs", 0, "--seed", seed, "--winit", winit, "--out", tmp_path / f"{seed}-{winit}")
    W1, W2, W3 = (np.load(tmp_path / name / "weights.npz")["W"]
                  for name in ("1-0.001", "2-0.001", "1-0.05"))
    normal = np.random.default_rng(1).standard_normal((10, 784))
    assert np.array_equal(W1, (0.001 * normal).astype(np.float32))
    assert np.array_equal(W3, (0.05 * normal).astype(np.float32))
    assert not np.array_equal(W1, W2)


def test_the_recommended_mlp_settings_are_the_readmes():
    """One place for the MLP settings: the command in the README, the notebook and the
    script's docstring is NEXT_LECTURE_RUN's, the next lecture's figure's model (784-100-10,
    W ~ N(0, 0.001^2), Knet.jl commit 24db9d57's docs/mlp.rst) with lr 0.5."""
    root = Path(__file__).parents[2]
    assert NEXT_LECTURE_RUN == dict(hidden=[100], lr=0.5, winit=0.001, batchsize=100,
                                    epochs=100, shuffle=False)
    command = " ".join(map(str, flags({key: NEXT_LECTURE_RUN[key]
                                       for key in ("hidden", "winit", "lr")})))
    for path in ("README.md", "docs/softmax.ipynb", "scripts/mnist.py"):
        assert command in (root / path).read_text(), path
    assert f"scripts/mnist.py {command}" in (root / "README.md").read_text()
    assert NEXT_LECTURE_RUN["batchsize"] == REFERENCE_RUN["batchsize"]


WRONG_GRADIENT = '''
"""Run mnist.py with a training gradient (as --gcheck checks it) twice the right one."""
import runpy, sys
import knetlike
right = knetlike.train_gradient
knetlike.train_gradient = lambda w, x, y, **options: [2 * g for g in right(w, x, y, **options)]
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def test_a_wrong_gradient_fails_the_check_and_the_run(mnist_data, tmp_path):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRONG_GRADIENT)
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, str(wrapper), str(SCRIPT), "--epochs", "1",
                             "--gcheck", "2", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "gcheck:1 worst relative error 0.5 at " in result.stdout
    assert "FAILED (> 0.01)" in result.stdout
    assert "the gradient check failed after epoch 1" in result.stderr
    summary = (out / "summary.txt").read_text()
    assert "status: finished" in summary and "): FAILED, worst relative error 0.5" in summary


# --init: Knet's tutorial 40.mlp from the command line

def test_init_xavier_reaches_the_weights_and_the_settings(mnist_data, tmp_path):
    """--epochs 0 keeps the initial weights: with --init xavier each W lies in [-s, s],
    s = sqrt(2 / (in + out)) (Knet's xavier), reaching close to s; settings.json says so."""
    out = tmp_path / "xavier"
    run("--hidden", 64, "--init", "xavier", "--epochs", 0, "--out", out)
    saved = np.load(out / "weights.npz")
    for name, (n_in, n_out) in {"W1": (784, 64), "W2": (64, 10)}.items():
        s = (2 / (n_in + n_out)) ** 0.5
        assert s * (1 - 20 / (n_in * n_out)) < np.abs(saved[name]).max() <= s, name
    settings = json.loads((out / "settings.json").read_text())
    assert settings["init"] == "xavier" and settings["winit"] is None
    gaussian = tmp_path / "gaussian"
    run("--hidden", 64, "--epochs", 0, "--out", gaussian)
    settings = json.loads((gaussian / "settings.json").read_text())
    assert settings["init"] == "gaussian" and settings["winit"] == REFERENCE_RUN["winit"]
    W1 = np.load(gaussian / "weights.npz")["W1"]
    assert np.std(W1) == pytest.approx(REFERENCE_RUN["winit"], rel=0.01)


def test_init_xavier_with_a_winit_is_refused_before_anything_is_written(tmp_path):
    result = run("--init", "xavier", "--winit", 0.1, "--out", tmp_path / "no", check=False)
    assert result.returncode == 2 and not (tmp_path / "no").exists()
    assert "argument --winit: --init xavier takes its scale" in result.stderr


def test_gcheck_lines_follow_their_epochs_lines(mnist_data, tmp_path):
    """fit measures an epoch while the next one trains, so a check made right after
    training epoch k used to print before epoch k's line: each now follows its own."""
    result = run("--epochs", 3, "--gcheck", 2, "--out", tmp_path / "run")
    tags = [line.split()[0] for line in result.stdout.splitlines()[:7]]
    assert tags == ["epoch:0", "epoch:1", "gcheck:1", "epoch:2", "gcheck:2", "epoch:3", "gcheck:3"]


def test_dropout_p_alone_is_the_notebooks_p_and_0(mnist_data, tmp_path):
    """Every dropout run of the companion notebook is pdrop=(p, 0): so is --dropout p."""
    run("--epochs", 0, "--hidden", 16, "--dropout", 0.2, "--out", tmp_path / "run")
    assert json.loads((tmp_path / "run" / "settings.json").read_text())["dropout"] == [0.2, 0]


def test_a_model_of_the_companion_notebook_reproduces_overfitting_py_to_the_last_digit(
        mnist_data, tmp_path):
    """One stream from --seed: W, then the dropout masks, in mnist.py as in overfitting.py
    (the notebook's srand(seed) before train): the same settings give the same numbers, to
    the last digit; and the committed history's first rows."""
    overfitting = load_script("overfitting")
    out = tmp_path / "run"
    run("--hidden", 64, "--lr", 0.1, "--winit", 0.01, "--dropout", 0.2, "--epochs", 2,
        "--out", out)
    ours = load_history(out / "history.csv")
    theirs = overfitting.run(overfitting.MODELS["mlp64-dropout"], mnist_data, 2, 0)
    assert ours == theirs
    committed = load_history(SCRIPTS.parent / "docs" / "overfitting" / "mlp64-dropout.csv")[:3]
    for a, b in zip(ours, committed):
        assert astuple(a) == pytest.approx(astuple(b), rel=1e-6, abs=1e-7)


def test_the_next_lectures_numbers_are_drawn_under_every_mlp_labelled_by_model():
    """A 784-100-10 run is drawn over the next lecture's figure as "next lecture"; any other
    MLP over the same numbers, labelled for information; the softmax over the notes'."""
    import argparse

    from knetlike.data import DATASETS, MNIST
    script = load_script("mnist")

    def labels(*hidden, dataset=MNIST, legend=True):
        curves = script.reference_curves(argparse.Namespace(hidden=list(hidden)), dataset, legend)
        return None if curves is None else list(curves)
    assert labels() == ["notes"]
    assert labels(100) == ["next lecture"]
    assert labels(64) == labels(100, 100) == ["next lecture: 784-100-10, for information"]
    assert labels(64, legend=False) == ["next lecture"]        # the summary's comparison
    assert labels(100, dataset=DATASETS["fashion"]) is None


def test_with_fast_gcheck_lines_come_in_epoch_order_after_epoch_0s(mnist_data, tmp_path):
    result = run("--epochs", 3, "--fast", "--gcheck", 2, "--out", tmp_path / "run")
    tags = [line.split()[0] for line in result.stdout.splitlines()[:5]]
    assert tags == ["epoch:0", "gcheck:1", "gcheck:2", "epoch:3", "gcheck:3"]
