"""scripts/compare.py: several runs' histories overlaid, labelled from their settings."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from knetlike.history import Epoch, save_history

SCRIPT = Path(__file__).parents[1] / "scripts" / "compare.py"
spec = importlib.util.spec_from_file_location("compare_script", SCRIPT)
compare_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_script)


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True)


def make_run(directory: Path, epochs: int = 3, **settings) -> Path:
    directory.mkdir(parents=True)
    save_history(directory / "history.csv",
                 [Epoch(e, 1 / e, 1.1 / e, 0.1 / e, 0.11 / e) for e in range(1, epochs + 1)])
    if settings:
        base = dict(dataset="mnist", hidden=[], lr=0.15, batchsize=100, winit=0.001, seed=0,
                    shuffle=False, dtype="float32")
        (directory / "settings.json").write_text(json.dumps({**base, **settings}))
    return directory


def test_runs_and_history_files_are_drawn_into_one_figure(tmp_path):
    a = make_run(tmp_path / "runs" / "mnist", lr=0.15)
    b = make_run(tmp_path / "runs" / "mnist-mlp", epochs=5, hidden=[64], lr=0.5)
    out = tmp_path / "both.png"
    result = run(a, b / "history.csv", "--notes", "--out", out, "--title", "two runs")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG" and f"wrote {out}" in result.stderr


def test_labels_name_the_model_and_the_settings_that_differ():
    softmax = dict(hidden=[], lr=0.15, seed=0, dataset="mnist")
    labels = compare_script.legend_labels([
        ("runs/a", softmax), ("runs/b", {**softmax, "hidden": [64], "lr": 0.5}),
        ("runs/c", {**softmax, "hidden": [128, 64], "lr": 0.5}), ("old/history.csv", None)])
    assert labels == ["softmax, lr 0.15", "MLP 64, lr 0.5", "MLP 128-64, lr 0.5",
                      "old/history.csv"]


def test_runs_alike_in_every_setting_are_told_apart_by_path():
    same = dict(hidden=[64], lr=0.5)
    assert compare_script.legend_labels([("runs/x", same), ("runs/y", same)]) == [
        "MLP 64 (runs/x)", "MLP 64 (runs/y)"]


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing", "no such directory or file"),
    (lambda d: d, "holds no history.csv: not a run directory of mnist.py"),
])
def test_a_path_that_is_not_a_run_is_refused(tmp_path, make, message):
    result = run(make(tmp_path), "--out", tmp_path / "out.png")
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a training history (not even text)"),
    (b"a,b\n1,2\n", "not a training history, missing columns"),
    (b"epoch,train_nll,test_nll,train_error,test_error\n1,x,0,0,0\n", "line 2, column train_nll"),
])
def test_a_file_that_is_not_a_history_is_a_message(tmp_path, content, message):
    bad = tmp_path / "history.csv"
    bad.write_bytes(content)
    result = run(bad, "--out", tmp_path / "out.png")
    assert result.returncode == 1 and message in result.stderr and str(bad) in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_figure_format_or_unwritable_path_is_a_message(tmp_path):
    run_dir = make_run(tmp_path / "run")
    result = run(run_dir, "--out", tmp_path / "out.xyz")
    assert result.returncode == 2 and "cannot tell the figure format" in result.stderr
    result = run(run_dir, "--out", tmp_path / "nowhere" / "out.png")
    assert result.returncode == 1 and "cannot write" in result.stderr
    assert "Traceback" not in result.stderr
