"""scripts/compare.py: several runs' histories overlaid, labelled from their settings."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from knetlike.history import Epoch, save_history
from knetlike.reference import knet_2016, knet_mlp_2016

from conftest import load_script

SCRIPT = Path(__file__).parents[2] / "scripts" / "compare.py"
compare_script = load_script("compare")


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


@pytest.mark.slow
def test_an_unknown_figure_format_or_unwritable_path_is_a_message(tmp_path):
    run_dir = make_run(tmp_path / "run")
    result = run(run_dir, "--out", tmp_path / "out.xyz")
    assert result.returncode == 2 and "cannot tell the figure format" in result.stderr
    result = run(run_dir, "--out", tmp_path / "nowhere" / "out.png")
    assert result.returncode == 1 and "cannot write" in result.stderr
    assert "Traceback" not in result.stderr


# Through main: what the figure draws

@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """``drawn(*argv)``: run compare.py's main and return the figure it would save, as
    ``{label: (epochs, values)}`` for each line of the NLL panel (left)."""
    figures = []
    monkeypatch.setattr(compare_script.plots, "save", lambda fig, path: figures.append(fig))

    def draw(*argv):
        assert compare_script.main([*map(str, argv), "--out", str(tmp_path / "out.png")]) == 0
        left = figures[-1].axes[0]
        return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
                for line in left.get_lines()}
    return draw


def test_main_labels_runs_by_the_settings_that_differ(tmp_path, drawn):
    a = make_run(tmp_path / "a", lr=0.15)
    b = make_run(tmp_path / "b", epochs=2, hidden=[64], lr=0.5)
    c = make_run(tmp_path / "c", epochs=2, hidden=[64], lr=0.5, l2=4e-5)
    lines = drawn(a, b, c)
    assert set(lines) == {f"{split} ({label})" for split in ("train", "test") for label in
                          ("softmax, lr 0.15, l2 0", "MLP 64, lr 0.5, l2 0",
                           "MLP 64, lr 0.5, l2 4e-05")}
    assert lines["train (MLP 64, lr 0.5, l2 4e-05)"] == ([1, 2], [1.0, 0.5])     # its own data


@pytest.mark.parametrize("settings, label", [
    (dict(l1=4e-5), "softmax, l1 4e-05"),
    (dict(dropout=[0.2, 0]), "softmax, dropout 0.2/0"),
    (dict(dropout=[0.2, 0.5]), "softmax, dropout 0.2/0.5"),
])
def test_penalties_and_dropout_label_the_runs_that_use_them(tmp_path, drawn, settings, label):
    """A run without the flag (its settings.json predates it: make_run writes no l1, l2,
    dropout) counts as 0 for it."""
    plain = make_run(tmp_path / "plain", lr=0.15)
    other = make_run(tmp_path / "other", lr=0.15, **settings)
    lines = drawn(plain, other)
    key = label.split(", ")[1].split()[0]
    zero = "0/0" if key == "dropout" else "0"
    assert set(lines) == {f"{split} ({name})" for split in ("train", "test")
                          for name in (f"softmax, {key} {zero}", label)}


def test_notes_draws_the_lectures_numbers_cut_to_the_runs_epochs(tmp_path, drawn):
    run = make_run(tmp_path / "a", epochs=3)             # no settings: labelled by its path
    lines = drawn(run, "--notes")
    notes, mlp = knet_2016()[:3], knet_mlp_2016()[:3]
    for label, numbers in [("notes: softmax", notes), ("next lecture: MLP 100", mlp)]:
        assert lines[f"train ({label})"] == ([1, 2, 3], [e.train_nll for e in numbers])
        assert lines[f"test ({label})"] == ([1, 2, 3], [e.test_nll for e in numbers])
    assert lines[f"train ({run})"] == ([1, 2, 3], [1.0, 0.5, 1 / 3])
    assert len(lines) == 6


def test_the_same_run_given_twice_is_labelled_apart(tmp_path, drawn):
    a = make_run(tmp_path / "a", lr=0.15)
    lines = drawn(a, a)
    labels = [label for label in lines if label.startswith("train")]
    assert len(labels) == 2 and len(set(labels)) == 2
    assert labels == [f"train (softmax ({a}))", f"train (softmax ({a}) [2])"]


# Whatever form settings record, and overfitting.py's histories

@pytest.mark.parametrize("hidden, name", [
    ([64], "MLP 64"), (64, "MLP 64"), ("64", "MLP 64"), ("128 64", "MLP 128-64"),
    ("128-64", "MLP 128-64"), (["128", "64"], "MLP 128-64"), ([], "softmax"), (0, "softmax"),
    (None, "softmax"), ("", "softmax"),
])
def test_a_run_is_labelled_by_its_hidden_sizes_in_any_recorded_form(hidden, name):
    runs = [("runs/a", {"hidden": hidden, "lr": 0.5}), ("runs/b", {"hidden": [], "lr": 0.1})]
    assert compare_script.legend_labels(runs)[0] == f"{name}, lr 0.5"


def test_overfitting_histories_are_drawn_and_labelled_by_their_models(tmp_path, drawn):
    """overfitting.py's histories start at epoch 0 and record their settings per model in
    the settings.json beside them: an MLP is labelled as one, dropout by its pdrop."""
    committed = Path(__file__).parents[2] / "docs" / "overfitting"
    lines = drawn(committed / "linear.csv", committed / "mlp64.csv",
                  committed / "mlp64-dropout.csv")
    labels = {label.split(" (", 1)[1][:-1] for label in lines}
    assert labels == {"softmax, lr 0.5, winit 0.1, dropout 0/0",
                      "MLP 64, lr 0.5, winit 0.01, dropout 0/0",
                      "MLP 64, lr 0.1, winit 0.01, dropout 0.2/0"}
    epochs, values = lines["train (MLP 64, lr 0.5, winit 0.01, dropout 0/0)"]
    assert epochs == list(range(101)) and values[0] == pytest.approx(2.3, abs=0.01)


def test_a_directory_of_overfitting_histories_is_each_of_its_models(tmp_path, drawn):
    committed = Path(__file__).parents[2] / "docs" / "overfitting"
    lines = drawn(committed)
    assert len([label for label in lines if label.startswith("train")]) == 6
    assert "train (MLP 256, lr 0.1, winit 0.01, l1 0, l2 0, dropout 0.2/0)" in lines


@pytest.mark.slow
def test_an_existing_figure_is_replaced_only_with_overwrite(tmp_path):
    run_dir = make_run(tmp_path / "run")
    out = tmp_path / "out.png"
    out.write_bytes(b"someone's figure")
    result = run(run_dir, "--out", out)
    assert result.returncode == 2 and f"{out} exists; --overwrite replaces it" in result.stderr
    assert out.read_bytes() == b"someone's figure"
    assert run(run_dir, "--out", out, "--overwrite").returncode == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
