"""scripts/overfitting.py: the companion notebook's six runs, their committed histories and
the figures drawn from them. Nothing here trains for more than 2 epochs."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from knetlike.history import Epoch, load_history, save_history

from conftest import load_script

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "overfitting.py"
COMMITTED = ROOT / "docs" / "overfitting"

overfitting = load_script("overfitting")

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


@pytest.mark.slow
@pytest.mark.mnist
@pytest.mark.parametrize("name", list(NOTEBOOK))
def test_a_rerun_of_the_first_epochs_gives_the_committed_rows(mnist_data, name):
    seed = json.loads((COMMITTED / "settings.json").read_text())["models"][name]["seed"]
    committed = load_history(COMMITTED / f"{name}.csv")[:3]                 # epochs 0, 1, 2
    rerun = overfitting.run(overfitting.MODELS[name], mnist_data, epochs=2, seed=seed)
    assert [e.epoch for e in rerun] == [0, 1, 2]
    worst = np.abs(rows(rerun) - rows(committed)).max(axis=0)   # per column, over epochs 0-2
    assert (worst <= tolerance(name)).all(), f"{name}: {worst} > {tolerance(name)}"


@pytest.mark.slow
@pytest.mark.mnist
def test_a_different_setting_is_caught(mnist_data):
    """The MLP's tolerance still tells the notebook's settings apart: the L1 run without its
    penalty, and the dropout run without dropout, leave it within 2 epochs."""
    committed = {name: rows(load_history(COMMITTED / f"{name}.csv")[:3])
                 for name in ("mlp64-l1", "mlp64-dropout")}
    plain = rows(overfitting.run(overfitting.Model((64,), 0.01, 0.1, 0, 0, 0), mnist_data, 2, 0))
    for name, numbers in committed.items():
        assert (np.abs(plain - numbers) > tolerance(name)).any(), name


def test_the_figures_are_drawn_from_the_csv_files(tmp_path):
    for path in COMMITTED.glob("*.csv"):
        shutil.copy(path, tmp_path)
    histories = {name: load_history(tmp_path / f"{name}.csv") for name in NOTEBOOK}
    read, _, problems = overfitting.read_histories(tmp_path)
    assert problems == [] and read == histories
    for filename, (_, pair, *_) in overfitting.FIGURES.items():
        loss, error = overfitting.figure(filename, read).axes[:2]
        for ax, column in ((loss, "test_nll"), (error, "test_error")):
            lines = [np.asarray(line.get_ydata()) for line in ax.get_lines()]
            for name in pair:
                expected = [getattr(e, column) for e in histories[name]]
                assert any(np.array_equal(y, expected) for y in lines), (filename, name)


@pytest.mark.slow
def test_plot_only_draws_the_pngs_of_a_copy_into_a_run_directory(tmp_path):
    source = tmp_path / "histories"
    source.mkdir()
    for path in COMMITTED.glob("*"):
        shutil.copy(path, source)
    (source / "mlp256-dropout.csv").unlink()          # one comparison cannot be drawn
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    result = run("--plot-only", source, "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    made = {p.name for p in (tmp_path / "run").glob("*.png")}
    assert made == set(overfitting.FIGURES) - {"overfitting_256.png"}
    for name in made:
        assert (tmp_path / "run" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before   # read, not written


def test_plot_only_without_histories_says_so_and_writes_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("--plot-only", tmp_path / "empty", "--out", tmp_path / "run")
    assert result.returncode == 1 and "no figure drawn" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_damaged_history_is_named_and_the_other_figures_drawn(tmp_path):
    for path in COMMITTED.glob("*.csv"):
        shutil.copy(path, tmp_path)
    header = "epoch,train_nll,test_nll,train_error,test_error"
    (tmp_path / "linear.csv").write_text(f"{header}\n1,x,1,1,1\n")
    result = run("--plot-only", tmp_path, "--out", tmp_path / "run")
    assert result.returncode == 1 and "linear.csv, line 2" in result.stderr
    made = {p.name for p in (tmp_path / "run").glob("*.png")}
    assert "overfitting_l2.png" not in made and "overfitting_l1.png" in made


@pytest.mark.parametrize("rows, message", [
    ([(0, .3, .3, .1, .1), (2, .2, .2, .1, .1), (1, .1, .1, .1, .1)], "row 3: epoch 1 after "
     "epoch 2"),
    ([(0, .3, .3, 7.5, .1)], "row 1, train_error: 7.5, but an error is a fraction in [0, 1]"),
])
def test_plot_only_refuses_a_history_no_run_writes(tmp_path, rows, message):
    for name in ("linear", "linear-l2"):
        save_history(tmp_path / f"{name}.csv", [Epoch(*row) for row in rows])
    result = run("--plot-only", tmp_path, "--out", tmp_path / "run")
    assert result.returncode == 1 and f"linear.csv, {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_plot_only_draws_nan_inf_and_huge_values_as_gaps(tmp_path):
    rows = [(0, 2.3, 2.3, .9, .9), (1, float("nan"), .3, .1, .1), (2, float("inf"), .3, .1, .1),
            (3, 1.79e308, .2, .05, .05), (4, .2, .2, .05, .05)]
    for name in ("linear", "linear-l2"):
        save_history(tmp_path / f"{name}.csv", [Epoch(*row) for row in rows])
    result = run("--plot-only", tmp_path, "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for value in ("nan", "inf", "1.79e+308"):
        assert f"train_nll: {value} cannot be drawn; left out of the figure" in result.stderr
    assert (tmp_path / "run" / "overfitting_l2.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("make, message", [
    (lambda d: os.mkfifo(d / "linear.csv"), "linear.csv: not a regular file but a fifo"),
    (lambda d: os.symlink("/dev/zero", d / "linear.csv"), "not a regular file but a character"),
])
def test_plot_only_reads_no_fifo_nor_endless_file(tmp_path, make, message):
    make(tmp_path)
    shutil.copy(COMMITTED / "linear-l2.csv", tmp_path)
    result = subprocess.run([sys.executable, str(SCRIPT), "--plot-only", str(tmp_path), "--out",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flags", [
    ["--epochs", "-1"], ["--epochs", "ten"], ["--seed", "1.5"], ["--models", "mlp128"],
    ["--models"], ["--plot-only", ".", "--epochs", "3"], ["--plot-only", ".", "--models", "linear"],
    ["--out", "FILE/sub"], ["--plot-only", "FILE"], ["--bogus"], ["--docs", "--epochs", "1"],
    ["--docs", "--seed", "1"], ["--out", "."], ["--out", "/"],
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


# One run: a run directory of its own, and the committed files only with --docs

def committed_files():
    return {p: p.read_bytes() for p in [*COMMITTED.iterdir(), *overfitting.DOCS_FIGURES.iterdir()]
            if p.is_file()}


@pytest.mark.slow
@pytest.mark.mnist
def test_by_default_a_run_writes_a_run_directory_and_never_docs(mnist_data, tmp_path,
                                                                monkeypatch):
    before = committed_files()
    monkeypatch.chdir(tmp_path)
    assert overfitting.main(["--epochs", "1", "--models", "linear", "linear-l2"]) == 0
    out = tmp_path / "runs" / "overfitting"
    assert sorted(p.name for p in out.iterdir()) == [
        "linear-l2.csv", "linear.csv", "overfitting_l2.png", "settings.json", "summary.txt"]
    assert [e.epoch for e in load_history(out / "linear.csv")] == [0, 1]
    settings = json.loads((out / "settings.json").read_text())
    assert settings["models"]["linear-l2"]["l2"] == 4e-5 and settings["epochs"] == 1
    assert (out / "summary.txt").read_text().startswith("status: finished\n")
    assert committed_files() == before


@pytest.mark.mnist
def test_a_directory_holding_another_run_is_left_alone(mnist_data, tmp_path, capsys):
    other = tmp_path / "out"
    other.mkdir()
    (other / "settings.json").write_text('{"script": "mnist.py"}')
    assert overfitting.main(["--epochs", "0", "--models", "linear", "--out", str(other)]) == 0
    assert (other / "settings.json").read_text() == '{"script": "mnist.py"}'
    assert [p.name for p in other.iterdir()] == ["settings.json"]
    assert (tmp_path / "out-2" / "linear.csv").exists()
    assert f"{other} already holds a run" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.mnist
def test_docs_regenerates_the_committed_histories_and_figures(mnist_data, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    shutil.copytree(COMMITTED, docs / "overfitting")
    monkeypatch.setattr(overfitting, "DOCS_HISTORIES", docs / "overfitting")
    monkeypatch.setattr(overfitting, "DOCS_FIGURES", docs / "figures")
    monkeypatch.setattr(overfitting, "EPOCHS", 1)             # a stand-in for the 100 epochs
    assert overfitting.main(["--docs", "--models", "linear", "--out", str(tmp_path / "run")]) == 0
    assert load_history(docs / "overfitting" / "linear.csv") == \
        load_history(tmp_path / "run" / "linear.csv")
    assert [e.epoch for e in load_history(docs / "overfitting" / "linear.csv")] == [0, 1]
    records = json.loads((docs / "overfitting" / "settings.json").read_text())["models"]
    assert records["linear"]["epochs"] == 1 and records["mlp64"]["epochs"] == 100
    assert sorted(p.name for p in (docs / "figures").iterdir()) == sorted(overfitting.FIGURES)


def test_the_docs_settings_are_written_as_committed():
    records = overfitting.read_records(COMMITTED)
    assert overfitting.docs_settings(records) == (COMMITTED / "settings.json").read_text()


def stop_signals_default():
    """In the child: the stop signals at their defaults, also under ``nohup`` or ``&``."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.mnist
@pytest.mark.parametrize("signum, name", [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")])
def test_stop_signals_in_a_row_stop_the_run_and_keep_it(mnist_data, tmp_path, signum, name):
    """Three signals in quick succession: the first stops the loop, the later ones land in
    the wrap-up, which finishes its files anyway."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--epochs", "1000", "--models",
                             "linear", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=stop_signals_default)
    deadline = time.monotonic() + 120
    while not ((out / "linear.csv").exists()
               and len((out / "linear.csv").read_text().splitlines()) >= 3):   # epoch 1
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    for _ in range(3):
        proc.send_signal(signum)
        time.sleep(0.15)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Traceback" not in stderr
    epoch = load_history(out / "linear.csv")[-1].epoch
    summary = (out / "summary.txt").read_text()
    assert summary.startswith(f"status: interrupted by {name} after epoch {epoch} of linear\n")
    assert f"kept in {out}: settings.json, linear.csv, summary.txt" in stderr


README_ROWS = {"linear, winit 0.1, lr 0.5": "linear", "linear + L2 4e-5": "linear-l2",
               "MLP 64, winit 0.01, lr 0.5": "mlp64", "MLP 64 + L1 4e-5, lr 0.1": "mlp64-l1",
               "MLP 64 + dropout (0.2, 0), lr 0.1": "mlp64-dropout",
               "MLP 256 + dropout (0.2, 0), lr 0.1": "mlp256-dropout"}


def test_the_readmes_table_is_read_from_the_committed_histories():
    """Each seed-0 number of the README's table of the six runs (lowest test error and its
    epoch, final training and test error) is what the committed history says."""
    import re
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] in README_ROWS:
            rows[README_ROWS[cells[0]]] = cells[1:4]
    assert sorted(rows) == sorted(README_ROWS.values())
    for name, (lowest, train, test) in rows.items():
        history = load_history(ROOT / "docs" / "overfitting" / f"{name}.csv")
        best = min(history[1:], key=lambda e: e.test_error)
        percent, epoch = re.match(r"([\d.]+)% \((\d+)\)", lowest).groups()
        assert (float(percent), int(epoch)) == (round(100 * best.test_error, 2), best.epoch), name
        assert float(train.split("%")[0]) == round(100 * history[-1].train_error, 2), name
        assert float(test.split("%")[0]) == round(100 * history[-1].test_error, 2), name
