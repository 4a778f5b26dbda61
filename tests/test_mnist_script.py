"""scripts/mnist.py end to end on the real MNIST: the notes' numbers, its outputs, its faults."""
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
                                               "weights.png", "weights.npz", "summary.txt"}
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = np.load(out / "weights.npz")
    assert saved["W"].shape == (10, 784) and saved["b"].shape == (10, 1) and saved["epoch"] == 3
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
