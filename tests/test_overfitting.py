"""scripts/overfitting.py: the companion notebook's six runs, their committed histories and
the figures drawn from them. Nothing here trains for more than 2 epochs."""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knetlike.history import load_history

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "scripts" / "overfitting.py"
COMMITTED = ROOT / "docs" / "overfitting"

spec = importlib.util.spec_from_file_location("overfitting", SCRIPT)
overfitting = importlib.util.module_from_spec(spec)
spec.loader.exec_module(overfitting)

# Knet.jl v0.8.5, examples/softmax.ipynb, transcribed from its cells:
# winit1() = [0.1*randn(10,784), zeros(10,1)]; winit(h...; std=0.01); train(...; lr=0.5, o...)
#   train(winit1(),dtrn,linear)                     train(winit1(),dtrn,linear;l2=0.00004)
#   train(winit(64),dtrn,mlp)                       train(winit(64),dtrn,mlp;lr=0.1,l1=4e-5)
#   train(winit(64),dtrn,mlp;lr=0.1,pdrop=(0.2,0))
#   train(winit(256),dtrn,mlp;lr=0.1,pdrop=(0.2,0))
NOTEBOOK = {                  # hidden, winit, lr, l1, l2, pdrop
    "linear": ((), 0.1, 0.5, 0, 0, 0),
    "linear-l2": ((), 0.1, 0.5, 0, 0.00004, 0),
    "mlp64": ((64,), 0.01, 0.5, 0, 0, 0),
    "mlp64-l1": ((64,), 0.01, 0.1, 4e-5, 0, 0),
    "mlp64-dropout": ((64,), 0.01, 0.1, 0, 0, (0.2, 0)),
    "mlp256-dropout": ((256,), 0.01, 0.1, 0, 0, (0.2, 0)),
}

# How closely a rerun of the first 2 epochs must match the committed rows, per column
# (train NLL, test NLL, train error, test error). The stand-in for another machine's BLAS
# rounding: noise of 1 or 4 float32 ulps on every entry of every gradient, 4 noise seeds
# per model. The linear (softmax) model is convex and starts far from any saddle: the
# noise moved its first two epochs by 2e-8 at most. An MLP starting at W ~ N(0, 0.01^2)
# starts next to the saddle at w = 0, and where it leaves it depends on rounding: the
# noise moved its first two epochs by up to 6.6e-4 in NLL and 9e-4 (9 test images) in
# error (MLP 64 at lr 0.5; the lr 0.1 runs by 5e-5 and 1e-4). The MLP's tolerance
# still tells the notebook's settings apart (test_a_different_setting_is_caught): its L1
# penalty and its dropout move the NLL of the first two epochs by 3.4e-3 and 4.0e-3.
LINEAR, MLP = np.full(4, 1e-4), np.array([2e-3, 2e-3, 3e-3, 3e-3])


def tolerance(name):
    return LINEAR if name.startswith("linear") else MLP


def rows(history):
    return np.array([[e.train_nll, e.test_nll, e.train_error, e.test_error] for e in history])


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True)


def test_the_table_holds_the_notebooks_settings():
    assert {name: tuple(model) for name, model in overfitting.MODELS.items()} == NOTEBOOK
    assert (overfitting.EPOCHS, overfitting.BATCHSIZE) == (100, 100)


def test_the_committed_histories_are_the_tables_full_runs():
    settings = json.loads((COMMITTED / "settings.json").read_text())
    assert settings["batchsize"] == 100 and settings["order"] == "file"
    for name, model in overfitting.MODELS.items():
        recorded = settings["models"][name]
        assert recorded["epochs"] == 100
        assert [recorded[key] for key in model._fields] == json.loads(json.dumps(list(model)))
        history = load_history(COMMITTED / f"{name}.csv")
        assert [e.epoch for e in history] == list(range(101))


@pytest.mark.mnist
@pytest.mark.parametrize("name", list(NOTEBOOK))
def test_a_rerun_of_the_first_epochs_gives_the_committed_rows(mnist_data, name):
    seed = json.loads((COMMITTED / "settings.json").read_text())["models"][name]["seed"]
    committed = load_history(COMMITTED / f"{name}.csv")[:3]                 # epochs 0, 1, 2
    rerun = overfitting.run(overfitting.MODELS[name], mnist_data, epochs=2, seed=seed)
    assert [e.epoch for e in rerun] == [0, 1, 2]
    worst = np.abs(rows(rerun) - rows(committed)).max(axis=0)   # per column, over epochs 0-2
    assert (worst <= tolerance(name)).all(), f"{name}: {worst} > {tolerance(name)}"


@pytest.mark.mnist
def test_a_different_setting_is_caught(mnist_data):
    """The MLP's tolerance still tells the notebook's settings apart: the L1 run without its
    penalty, and the dropout run without dropout, leave it within 2 epochs."""
    committed = {name: rows(load_history(COMMITTED / f"{name}.csv")[:3])
                 for name in ("mlp64-l1", "mlp64-dropout")}
    plain = rows(overfitting.run(overfitting.Model((64,), 0.01, 0.1, 0, 0, 0), mnist_data, 2, 0))
    for name, numbers in committed.items():
        assert (np.abs(plain - numbers) > tolerance(name)).any(), name


def test_the_figures_are_drawn_from_the_csv_files(tmp_path, monkeypatch):
    for path in COMMITTED.glob("*.csv"):
        shutil.copy(path, tmp_path)
    histories = {name: load_history(tmp_path / f"{name}.csv") for name in NOTEBOOK}
    drawn = {}
    monkeypatch.setattr(overfitting.plots, "save", lambda fig, path: drawn.update({path: fig}))
    assert overfitting.draw(tmp_path, tmp_path / "figures") == 0
    assert {p.name for p in drawn} == set(overfitting.FIGURES)
    for path, fig in drawn.items():
        _, pair, *_ = overfitting.FIGURES[path.name]
        loss, error = fig.axes[:2]
        for ax, column in ((loss, "test_nll"), (error, "test_error")):
            lines = [np.asarray(line.get_ydata()) for line in ax.get_lines()]
            for name in pair:
                expected = [getattr(e, column) for e in histories[name]]
                assert any(np.array_equal(y, expected) for y in lines), (path.name, name)


def test_plot_only_redraws_the_pngs_from_a_copy(tmp_path):
    for path in COMMITTED.glob("*.csv"):
        shutil.copy(path, tmp_path)
    (tmp_path / "mlp256-dropout.csv").unlink()          # one comparison cannot be drawn
    result = run("--plot-only", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    made = {p.name for p in tmp_path.glob("*.png")}
    assert made == set(overfitting.FIGURES) - {"overfitting_256.png"}
    for name in made:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_only_without_histories_says_so(tmp_path):
    result = run("--plot-only", "--out", tmp_path)
    assert result.returncode == 1 and "no figure drawn" in result.stderr
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []


def test_a_damaged_history_is_named(tmp_path, monkeypatch, capsys):
    for path in COMMITTED.glob("*.csv"):
        shutil.copy(path, tmp_path)
    header = "epoch,train_nll,test_nll,train_error,test_error"
    (tmp_path / "linear.csv").write_text(f"{header}\n1,x,1,1,1\n")
    drawn = []
    monkeypatch.setattr(overfitting.plots, "save", lambda fig, path: drawn.append(path.name))
    assert overfitting.draw(tmp_path, tmp_path) == 1
    assert "linear.csv, line 2" in capsys.readouterr().err
    assert "overfitting_l2.png" not in drawn and "overfitting_l1.png" in drawn


@pytest.mark.parametrize("flags", [
    ["--epochs", "-1"], ["--epochs", "ten"], ["--seed", "1.5"], ["--models", "mlp128"],
    ["--models"], ["--plot-only", "--epochs", "3"], ["--plot-only", "--models", "linear"],
    ["--out", "FILE/sub"], ["--figures", "FILE"], ["--bogus"],
])
def test_bad_flags_exit_2_before_anything_is_written(tmp_path, flags, capsys):
    (tmp_path / "FILE").write_text("")
    flags = [str(tmp_path / f) if f.startswith("FILE") else f for f in flags]
    with pytest.raises(SystemExit) as stopped:
        overfitting.main([*flags, *([] if "--out" in flags else ["--out", str(tmp_path / "out")])])
    assert stopped.value.code == 2
    assert "usage:" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FILE"]


def test_a_bad_flag_is_a_message_not_a_traceback(tmp_path):
    result = run("--epochs", "-1", "--out", tmp_path / "out")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "argument --epochs" in result.stderr and not (tmp_path / "out").exists()
