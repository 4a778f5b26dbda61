"""scripts/mnist.py end to end on the real MNIST: the notes' numbers, its outputs, its faults."""
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
from knetlike.reference import TOLERANCE, compare, knet_2016

SCRIPT = Path(__file__).parents[1] / "scripts" / "mnist.py"
pytestmark = pytest.mark.mnist


def run(*args, check=True, **kwargs):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                            text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"mnist.py {args} exited {result.returncode}:\n{result.stderr}")
    return result


def test_the_first_epochs_reproduce_the_notes(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run("--epochs", 3, "--out", out)
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [1, 2, 3]
    for deviation in compare(history):
        assert deviation.max_abs <= TOLERANCE, deviation
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch:1 softloss:0.359") and "zeroone:0.10" in lines[0]
    assert {p.name for p in out.iterdir()} == {"history.csv", "curves.png", "images.png",
                                               "weights.png", "weights.npz", "summary.txt",
                                               "settings.json"}
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W", "b", "epoch", "hidden"}
    assert saved["W"].shape == (10, 784) and saved["b"].shape == (10, 1) and saved["epoch"] == 3
    assert saved["W"].dtype == np.float32 and saved["hidden"].size == 0
    settings = json.loads((out / "settings.json").read_text())
    assert settings["hidden"] == [] and settings["lr"] == 0.15 and settings["epochs"] == 3
    summary = (out / "summary.txt").read_text()
    assert "status: finished" in summary and f"(within {TOLERANCE})" in summary


@pytest.mark.slow
def test_the_full_reference_run_is_within_0_001_of_all_400_numbers(mnist_data, tmp_path):
    out = tmp_path / "full"
    run("--out", out)                                   # the defaults are the notes' run
    history, notes = load_history(out / "history.csv"), knet_2016()
    assert len(history) == 100
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
    assert "diverged: epoch 1: the loss is not finite" in result.stdout
    assert load_history(out / "history.csv") == []
    saved = np.load(out / "weights.npz")
    assert np.all(np.isfinite(saved["W"])) and saved["epoch"] == 0
    assert (out / "curves.png").exists()


def test_ctrl_c_keeps_the_finished_epochs(mnist_data, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--epochs", "1000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "history.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.1)                                  # wait for a first finished epoch
    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "status: interrupted by Ctrl-C after epoch" in stdout
    history = load_history(out / "history.csv")
    assert len(history) >= 1
    saved = np.load(out / "weights.npz")
    assert saved["epoch"] == len(history)
    assert all((out / name).exists() for name in ("curves.png", "weights.png", "summary.txt"))


def test_a_closed_stdout_stops_the_run_and_keeps_it(mnist_data, tmp_path):
    """``mnist.py | head -2``: the reader leaves; the run stops without a traceback and
    keeps its finished epochs, weights, figures and summary."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--epochs", "1000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()                                  # as head does after its lines
    _, stderr = proc.communicate(timeout=120)
    assert first.startswith("epoch:1 softloss:0.359")
    assert proc.returncode == 1
    assert "Traceback" not in stderr and "standard output was closed" in stderr
    history = load_history(out / "history.csv")
    assert 1 <= len(history) < 1000
    assert np.load(out / "weights.npz")["epoch"] == len(history)
    summary = (out / "summary.txt").read_text()
    assert f"status: stopped after epoch {len(history)}: standard output was closed" in summary
    assert all((out / name).exists() for name in ("curves.png", "weights.png"))


@pytest.mark.parametrize("flags, message", [
    (["--epochs", "-1"], "argument --epochs: must be at least 0, got -1"),
    (["--lr", "0"], "argument --lr: must be > 0, got 0"),
    (["--lr", "nan"], "argument --lr: must be finite"),
    (["--batchsize", "0"], "argument --batchsize: must be at least 1"),
    (["--winit", "-0.1"], "argument --winit: must be >= 0"),
    (["--dataset", "cifar"], "argument --dataset: invalid choice"),
])
def test_bad_flags_are_refused_by_the_parser(flags, message):
    result = run(*flags, check=False)
    assert result.returncode == 2 and message in result.stderr


def test_a_batch_larger_than_the_data_is_refused(mnist_data, tmp_path):
    result = run("--batchsize", 60001, "--out", tmp_path / "run", check=False)
    assert result.returncode == 2
    assert ("argument --batchsize: 60001 is larger than the 60000 training instances"
            in result.stderr)
    assert not (tmp_path / "run").exists()          # checked before anything is written


def test_a_bad_data_file_is_a_message_not_a_traceback(tmp_path):
    from knetlike.data.idx import idx_bytes
    bad = tmp_path / "data"
    bad.mkdir()
    for name, shape in [("train-images-idx3-ubyte", (5, 2, 3)), ("train-labels-idx1-ubyte", (5,)),
                        ("t10k-images-idx3-ubyte", (2, 2, 3)), ("t10k-labels-idx1-ubyte", (2,))]:
        (bad / name).write_bytes(idx_bytes(np.zeros(shape, np.uint8)))
    result = run("--data", bad, "--out", tmp_path / "run", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = f"mnist.py: {bad / 'train-images-idx3-ubyte'}: holds an array of shape (5, 2, 3)"
    assert message in result.stderr


def test_an_unusable_output_directory_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run("--out", blocker / "run", check=False)
    assert result.returncode == 2
    assert "argument --out: cannot use" in result.stderr
    assert "choose a writable directory" in result.stderr


def test_other_settings_are_compared_for_information_only(mnist_data, tmp_path):
    out = tmp_path / "run"
    run("--epochs", 1, "--lr", 0.1, "--out", out)
    summary = (out / "summary.txt").read_text()
    assert "for information only: these settings differ from the notes' run" in summary
    assert "NOT within" not in summary and "(within" not in summary


# mnist.jl's options: --hidden, --gcheck, --fast, --dtype

def test_an_mlp_run_writes_every_layer_and_compares_with_the_next_lecture(mnist_data, tmp_path):
    """The next lecture's model (hidden 64, lr 0.5, winit 0.001 for both layers): its
    first epoch lands near the lecture's (train error 0.0686, test 0.071), and the gradient
    that training uses passes the check after each epoch."""
    out = tmp_path / "mlp"
    result = run("--hidden", 64, "--lr", 0.5, "--winit", 0.001, "--epochs", 3, "--gcheck", 3,
                 "--out", out)
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [1, 2, 3]
    assert history[0].train_error == pytest.approx(0.0686, abs=0.01)
    assert history[0].test_error == pytest.approx(0.071, abs=0.01)
    assert history[-1].train_nll < history[0].train_nll
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W1", "b1", "W2", "b2", "epoch", "hidden"}
    assert [saved[k].shape for k in ("W1", "b1", "W2", "b2")] == [(64, 784), (64, 1), (10, 64),
                                                                  (10, 1)]
    assert saved["epoch"] == 3 and list(saved["hidden"]) == [64]
    checks = [line for line in result.stdout.splitlines() if line.startswith("gcheck:")]
    assert [line.split()[0] for line in checks] == ["gcheck:1", "gcheck:2", "gcheck:3"]
    assert all(line.endswith(": ok") for line in checks)
    summary = (out / "summary.txt").read_text()
    assert "status: finished" in summary and "hidden=64 " in summary
    assert ("largest deviation from the next lecture's MLP-64 run (for information: an MLP run "
            "depends on its seed; compare in distribution)") in summary
    assert "from the notes" not in summary
    assert "gradient check (3 entries per array, after each of 3 epochs): passed" in summary
    assert json.loads((out / "settings.json").read_text())["hidden"] == [64]
    assert all((out / name).exists() for name in ("curves.png", "weights.png", "images.png"))


def test_a_deeper_mlp_names_its_layers_and_claims_no_reference(mnist_data, tmp_path):
    out = tmp_path / "deep"
    run("--hidden", 32, 16, "--lr", 0.5, "--winit", 0.1, "--epochs", 1, "--out", out)
    saved = np.load(out / "weights.npz")
    assert set(saved) == {"W1", "b1", "W2", "b2", "W3", "b3", "epoch", "hidden"}
    assert saved["W2"].shape == (16, 32) and list(saved["hidden"]) == [32, 16]
    summary = (out / "summary.txt").read_text()
    assert "hidden=32 16 " in summary and "largest deviation" not in summary


def test_fast_measures_once_after_the_last_epoch(mnist_data, tmp_path):
    out = tmp_path / "fast"
    result = run("--fast", "--epochs", 3, "--out", out)
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch:")]
    assert len(epochs) == 1 and epochs[0].startswith("epoch:3 ")
    history = load_history(out / "history.csv")
    assert [e.epoch for e in history] == [3]
    for deviation in compare(history):                  # the same numbers, measured once
        assert deviation.max_abs <= TOLERANCE, deviation
    assert np.load(out / "weights.npz")["epoch"] == 3
    assert "--fast: measured after the last only" in (out / "summary.txt").read_text()


def test_float64_data_and_weights(mnist_data, tmp_path):
    out = tmp_path / "f64"
    run("--dtype", "float64", "--epochs", 1, "--out", out)
    saved = np.load(out / "weights.npz")
    assert saved["W"].dtype == np.float64
    for deviation in compare(load_history(out / "history.csv")):
        assert deviation.max_abs <= TOLERANCE, deviation


# Runs that survive their surroundings

WRAPPER = '''
"""Run a script with some final writes failing (FAIL_WRITES: file names) as on a full disk,
or (WRONG_GRADIENT) with a training gradient that is twice the right one."""
import errno, os, runpy, sys
fail = set(filter(None, os.environ.get("FAIL_WRITES", "").split(",")))
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.basename(dst) in fail:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
if os.environ.get("WRONG_GRADIENT"):
    import knetlike
    right = knetlike.train_gradient
    knetlike.train_gradient = lambda w, x, y: [2 * g for g in right(w, x, y)]
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def run_wrapped(tmp_path, *args, **env):
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER)
    return subprocess.run([sys.executable, str(wrapper), str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, **env})


def start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"mnist.py ended early:\n{proc.communicate()[1]}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def assert_one_finished_or_stopped_run(out: Path) -> list:
    """All of a run's files are there and agree: the weights are those of the last epoch in
    the history, and the summary says how far the run got."""
    assert {p.name for p in out.iterdir()} == {"settings.json", "history.csv", "curves.png",
                                               "images.png", "weights.png", "weights.npz",
                                               "summary.txt"}
    history = load_history(out / "history.csv")
    assert np.load(out / "weights.npz")["epoch"] == (history[-1].epoch if history else 0)
    return history


@pytest.mark.parametrize("signum, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")])
def test_sigterm_and_sighup_stop_the_run_like_ctrl_c(mnist_data, tmp_path, signum, name):
    out = tmp_path / "run"
    proc = start("--epochs", 1000, "--out", out)
    wait_for(out / "history.csv", proc)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    history = assert_one_finished_or_stopped_run(out)
    assert 1 <= len(history) < 1000
    status = f"status: interrupted by {name} after epoch {len(history)}"
    assert status in (out / "summary.txt").read_text() and status in stdout
    assert f"mnist.py: interrupted by {name} after epoch {len(history)}; kept in {out}" in stderr


def test_ctrl_c_three_times_in_quick_succession_keeps_every_file(mnist_data, tmp_path):
    out = tmp_path / "run"
    proc = start("--epochs", 1000, "--out", out)
    wait_for(out / "history.csv", proc)
    for _ in range(3):                                  # about as fast as one can press
        proc.send_signal(signal.SIGINT)
        time.sleep(0.15)                                # the later ones land in the wrap-up
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    history = assert_one_finished_or_stopped_run(out)
    summary = (out / "summary.txt").read_text()
    assert f"status: interrupted by Ctrl-C after epoch {len(history)}" in summary


def test_a_fast_run_stopped_measures_the_epoch_it_reached(mnist_data, tmp_path):
    out = tmp_path / "run"
    proc = start("--fast", "--epochs", 1000, "--out", out)
    wait_for(out / "settings.json", proc)
    time.sleep(3)                                       # a few unmeasured epochs
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 1
    history = assert_one_finished_or_stopped_run(out)
    assert len(history) == 1 and history[0].epoch >= 1  # the epoch reached, measured once


def test_overwrite_never_leaves_two_runs_mixed(mnist_data, tmp_path):
    """--overwrite removes the previous run's files before writing: a new run that dies
    (here SIGKILL, which nothing can catch) leaves its own files only, never the old
    summary and weights beside a new history."""
    out = tmp_path / "run"
    run("--epochs", 1, "--out", out)
    (out / "notes.txt").write_text("mine")
    proc = start("--epochs", 1000, "--lr", 0.1, "--out", out, "--overwrite")
    assert proc.stdout.readline().startswith("epoch:1 ")
    proc.kill()
    proc.communicate(timeout=60)
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible == {"notes.txt", "settings.json", "history.csv"}
    assert json.loads((out / "settings.json").read_text())["lr"] == 0.1
    # The killed run's lock is not stale: the next --overwrite run takes the directory.
    run("--epochs", 1, "--out", out, "--overwrite")
    visible = {p.name for p in out.iterdir() if p.name != "notes.txt"}
    assert visible == {"settings.json", "history.csv", "curves.png", "images.png",
                       "weights.png", "weights.npz", "summary.txt"}


def test_two_runs_started_together_get_a_directory_each(mnist_data, tmp_path):
    out = tmp_path / "run"
    procs = [start("--epochs", 2, "--out", out) for _ in range(2)]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    stderr = "\n".join(err for _, err in results)
    assert f"writing to {out}\n" in stderr + "\n" and f"writing to {out}-2" in stderr
    for directory in (out, tmp_path / "run-2"):
        assert len(assert_one_finished_or_stopped_run(directory)) == 2


@pytest.mark.parametrize("flags, message", [
    (["--seed", "-5"], "argument --seed: must be at least 0, got -5"),
    (["--gcheck", "-1"], "argument --gcheck: must be at least 0, got -1"),
    (["--hidden", "0"], "argument --hidden: must be at least 1, got 0"),
    (["--hidden", "64", "-3"], "argument --hidden: must be at least 1, got -3"),
    (["--hidden"], "argument --hidden: expected at least one argument"),
    (["--dtype", "float16"], "argument --dtype: invalid choice"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, flags, message):
    out = tmp_path / "run"
    result = run(*flags, "--out", out, check=False)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_final_writes_that_fail_are_reported_and_the_others_kept(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_wrapped(tmp_path, "--epochs", 1, "--out", out,
                         FAIL_WRITES="curves.png,weights.npz")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"mnist.py: could not write weights.npz, curves.png in {out} (weights.npz: No "
            f"space left on device; curves.png: No space left on device); kept in {out}: "
            f"settings.json, history.csv, images.png, weights.png, summary.txt") in result.stderr
    assert "choose a writable --out" in result.stderr
    assert {p.name for p in out.iterdir()} == {"settings.json", "history.csv", "images.png",
                                               "weights.png", "summary.txt"}   # no temporaries
    assert "status: finished" in (out / "summary.txt").read_text()


def test_an_output_directory_that_takes_no_file_stops_before_training(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_wrapped(tmp_path, "--out", out, FAIL_WRITES="settings.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (f"mnist.py: cannot write {out / 'settings.json'}: No space left on device; nothing "
            f"was trained. Choose a writable --out") in result.stderr
    assert not (out / "history.csv").exists() and result.stdout == ""


def test_a_history_that_cannot_be_saved_is_said_once_and_training_goes_on(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_wrapped(tmp_path, "--epochs", 2, "--out", out, FAIL_WRITES="history.csv")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("cannot update") == 1
    assert "epoch:2 " in result.stdout and "could not write history.csv in" in result.stderr
    assert np.load(out / "weights.npz")["epoch"] == 2


def test_a_wrong_gradient_fails_the_check_and_the_run(mnist_data, tmp_path):
    out = tmp_path / "run"
    result = run_wrapped(tmp_path, "--epochs", 1, "--gcheck", 2, "--out", out,
                         WRONG_GRADIENT="1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "gcheck:1 worst relative error 0.5 at " in result.stdout
    assert "FAILED (> 0.01)" in result.stdout
    assert "the gradient check failed after epoch 1" in result.stderr
    summary = (out / "summary.txt").read_text()
    assert "status: finished" in summary and "): FAILED, worst relative error 0.5" in summary


def test_the_seed_draws_the_initial_weights(mnist_data, tmp_path):
    """--seed is not ignored: --epochs 0 keeps the initial W, which must be the seed's draw
    of N(0, winit^2) (written here independently), and another seed's differs."""
    for seed in (1, 2):
        run("--epochs", 0, "--seed", seed, "--out", tmp_path / f"seed{seed}")
    W1, W2 = (np.load(tmp_path / f"seed{s}" / "weights.npz")["W"] for s in (1, 2))
    drawn = (0.001 * np.random.default_rng(1).standard_normal((10, 784))).astype(np.float32)
    assert np.array_equal(W1, drawn)
    assert not np.array_equal(W1, W2)
