"""Bad input to the scripts: a message and a status (2 for bad flags, before anything is
written; 1 for data that is not what it claims), never a traceback. The scripts are run
in-process (their ``main``), from an empty working directory that must stay empty."""
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from knetlike.history import Epoch, save_history

from conftest import load_script



@pytest.fixture(scope="module")
def scripts():
    return {name: load_script(name) for name in ("mnist", "compare", "boundaries")}


@pytest.fixture
def empty(tmp_path, monkeypatch):
    """An empty working directory (where mnist.py's default runs/mnist would go)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(main, argv, capsys, status=2) -> str:
    """Run ``main(argv)``; it must exit with ``status`` (1: ``sys.exit(message)``, which
    Python prints on stderr as the process ends); return what it says on stderr."""
    with pytest.raises(SystemExit) as exit:
        main([str(a) for a in argv])
    code, err = exit.value.code, capsys.readouterr().err
    if isinstance(code, str):
        code, err = 1, err + code + "\n"
    assert code == status, err
    assert "Traceback" not in err
    return err


# mnist.py: every flag is checked before anything is written

@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-1"], "argument --epochs: must be a whole number >= 0, got '-1'"),
    (["--epochs", "1.5"], "argument --epochs: must be a whole number >= 0, got '1.5'"),
    (["--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--batchsize", "0"], "argument --batchsize: must be a whole number >= 1"),
    (["--batchsize", "60001"], "argument --batchsize: 60001 is larger than the 60000 training"),
    (["--winit", "-0.1"], "argument --winit: must be a finite number >= 0"),
    (["--dataset", "cifar"], "argument --dataset: invalid choice: 'cifar' (choose from "
                             "'mnist', 'fashion')"),
    (["--seed", "-5"], "argument --seed: must be a whole number >= 0, got '-5'"),
    (["--gcheck", "-1"], "argument --gcheck: must be a whole number >= 0, got '-1'"),
    (["--hidden", "0"], "argument --hidden: must be a whole number >= 1, got '0'"),
    (["--hidden", "64", "-3"], "argument --hidden: must be a whole number >= 1, got '-3'"),
    (["--hidden"], "argument --hidden: expected at least one argument"),
    (["--dtype", "float16"], "argument --dtype: invalid choice"),
    (["--l1", "-0.001"], "argument --l1: must be a finite number >= 0, got '-0.001'"),
    (["--l2", "inf"], "argument --l2: must be a finite number >= 0, got 'inf'"),
    (["--dropout", "1"], "argument --dropout: must be a number in [0, 1), got '1'"),
    (["--dropout", "-0.1"], "argument --dropout: must be a number in [0, 1)"),
    (["--dropout", "0.2", "0.3", "0.4"], "argument --dropout: give P_INPUT, then P_HIDDEN"),
    (["--dropout", "0.2", "0.5"], "P_HIDDEN only with --hidden"),
    (["--out", ""], "argument --out: an empty name is no directory"),
    (["--out", "x" * 300], "File name too long"),
    (["--out", "."], "argument --out: . names no directory of its own"),
    (["--out", "/"], "argument --out: / names no directory of its own"),
    (["--winit", "1e38"], "argument --winit: 1e+38 overflows float32"),
    (["--lr", "1e39"], "argument --lr: 1e+39 overflows float32"),
    (["--l1", "1e39"], "argument --l1: 1e+39 overflows float32"),
    (["--l2", "1e300", "--dtype", "float32"], "argument --l2: 1e+300 overflows float32"),
    (["--winit", "1e308", "--dtype", "float64"], "argument --winit: 1e+308 overflows float64"),
])
def test_mnist_refuses_bad_flags_before_writing_anything(scripts, empty, capsys, argv, message):
    assert message in refused(scripts["mnist"].main, argv, capsys)
    assert list(empty.iterdir()) == []


def test_mnist_refuses_a_model_too_large_for_memory(scripts, empty, capsys):
    """--hidden 1000000000: W1 alone is 784e9 numbers; refused naming the size and the
    memory it would need, before anything is allocated or written."""
    err = refused(scripts["mnist"].main, ["--hidden", "1000000000"], capsys)
    assert "argument --hidden: --hidden 1000000000 with --batchsize 100 in float32 would " \
        "need" in err
    assert "GiB" in err and list(empty.iterdir()) == []


def test_mnist_counts_the_batchs_activations_in_the_memory_it_needs(scripts, empty, capsys,
                                                                    monkeypatch):
    """24,000 hidden units are small as weights (75 MB) but a batch of 60,000 through them
    is 5.8 GB per activation: refused before anything is written (on a 64 GiB machine too)."""
    monkeypatch.setattr("knetlike.checks.available_memory", lambda: 64 << 30)
    err = refused(scripts["mnist"].main, ["--hidden", "24000", "--batchsize", "60000"], capsys)
    assert "--hidden 24000 with --batchsize 60000 in float32 would need" in err
    assert list(empty.iterdir()) == []


def test_mnist_refuses_an_output_path_through_a_dangling_link(scripts, empty, capsys):
    (empty / "link").symlink_to(empty / "gone")
    for out in (empty / "link", empty / "link" / "run"):
        err = refused(scripts["mnist"].main, ["--out", out], capsys)
        assert f"is a symbolic link to {empty / 'gone'}, which does not exist" in err
    assert [p.name for p in empty.iterdir()] == ["link"] and not (empty / "gone").exists()


def test_mnist_refuses_a_file_where_the_output_directory_must_be(scripts, empty, capsys):
    (empty / "file").write_text("not a directory")
    err = refused(scripts["mnist"].main, ["--out", empty / "file" / "run"], capsys)
    assert "argument --out: cannot use" in err and "is a file, not a directory" in err
    assert "choose a writable directory" in err


def test_mnist_shows_each_dataset_once_and_takes_the_alias(scripts, capsys):
    parser = scripts["mnist"].build_parser()
    assert "{mnist,fashion}" in parser.format_help()
    assert "fashion-mnist}" not in parser.format_help()
    assert parser.parse_args(["--dataset", "fashion-mnist"]).dataset == "fashion"
    assert parser.parse_args(["--dataset", "fashion"]).dataset == "fashion"


@pytest.mark.mnist
def test_mnist_a_bad_data_file_is_a_message_not_a_traceback(scripts, empty, capsys):
    from knetlike.data.idx import idx_bytes
    bad = empty / "data"
    bad.mkdir()
    for name, shape in [("train-images-idx3-ubyte", (5, 2, 3)), ("train-labels-idx1-ubyte", (5,)),
                        ("t10k-images-idx3-ubyte", (2, 2, 3)), ("t10k-labels-idx1-ubyte", (2,))]:
        (bad / name).write_bytes(idx_bytes(np.zeros(shape, np.uint8)))
    with pytest.raises(SystemExit) as exit:
        scripts["mnist"].main(["--data", str(bad), "--out", str(empty / "run")])
    message = f"mnist.py: {bad / 'train-images-idx3-ubyte'}: holds an array of shape (5, 2, 3)"
    assert message in str(exit.value.code) and not (empty / "run").exists()


# compare.py: what is not a history of a run

@contextmanager
def deadline(seconds: int):
    """Fail, rather than hang, if the block takes longer (reading a fifo blocks forever)."""
    def expired(signum, frame):
        raise AssertionError(f"still running after {seconds} s: blocked on a read?")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def history_file(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_history(path, [Epoch(*row) for row in rows])
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: os.mkfifo(d / "history.csv") or d / "history.csv", "not a regular file but a fifo"),
    (lambda d: Path("/dev/zero"), "/dev/zero: not a regular file but a character device"),
    (lambda d: (d / "link").symlink_to(d / "gone") or d / "link",
     "no such directory or file (a symbolic link to nothing)"),
])
def test_compare_refuses_what_is_not_a_regular_file(scripts, tmp_path, capsys, make, message):
    with deadline(30):
        err = refused(scripts["compare"].main, [make(tmp_path), "--out", tmp_path / "out.png"],
                      capsys)
    assert message in err and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("rows, message", [
    ([(1, .3, .3, .1, .1), (2, .2, .2, .1, .1), (2, .1, .1, .1, .1)],
     "row 3: epoch 2 after epoch 2; a history's epochs are whole numbers from 0 up, each once"),
    ([(2, .3, .3, .1, .1), (1, .2, .2, .1, .1)], "row 2: epoch 1 after epoch 2"),
    ([(-1, .3, .3, .1, .1)], "row 1: epoch -1;"),
    ([(1, .3, .3, .1, .1), (0, .3, .3, .1, .1)], "row 2: epoch 0 after epoch 1;"),
    ([(1, .3, .3, 1.5, .1)], "row 1, train_error: 1.5, but an error is a fraction in [0, 1]"),
    ([(1, .3, .3, .1, -0.1)], "row 1, test_error: -0.1, but an error is a fraction in [0, 1]"),
    ([(1, -.3, .3, .1, .1)], "row 1, train_nll: -0.3, but a loss is >= 0"),
])
def test_compare_refuses_a_history_no_run_writes(scripts, tmp_path, capsys, rows, message):
    path = history_file(tmp_path / "run" / "history.csv", rows)
    err = refused(scripts["compare"].main, [path, "--out", tmp_path / "out.png"], capsys, 1)
    assert f"compare.py: {path}, {message}" in err and not (tmp_path / "out.png").exists()


def test_compare_warns_of_values_that_are_not_finite_and_leaves_them_out(scripts, tmp_path,
                                                                         capsys, monkeypatch):
    path = history_file(tmp_path / "run" / "history.csv",
                        [(1, .3, .35, .1, .1), (2, float("nan"), .3, .1, .1),
                         (3, float("inf"), .25, .1, .1)])
    figures = []
    monkeypatch.setattr(scripts["compare"].plots, "save", lambda fig, out: figures.append(fig))
    assert scripts["compare"].main([str(path), "--out", str(tmp_path / "out.png")]) == 0
    err = capsys.readouterr().err
    assert f"{path}, row 2, train_nll: nan cannot be drawn; left out of the figure" in err
    assert f"{path}, row 3, train_nll: inf cannot be drawn" in err
    train = figures[0].axes[0].get_lines()[0]
    assert train.get_label() == f"train ({path})" and list(train.get_xdata()) == [1, 2, 3]
    assert train.get_ydata()[0] == .3 and np.isnan(train.get_ydata()[1:]).all()


def test_compare_refuses_a_file_too_large_to_be_a_history(scripts, tmp_path, capsys):
    path = tmp_path / "history.csv"
    with open(path, "wb") as f:
        f.truncate(50_000_000)                         # sparse: no disk, no memory
    err = refused(scripts["compare"].main, [path, "--out", tmp_path / "out.png"], capsys, 1)
    assert "too large for a training history" in err


def test_compare_ignores_settings_that_are_a_fifo(scripts, tmp_path, capsys, monkeypatch):
    """settings.json beside a history is read only if it is a small regular file (a fifo
    would block the read forever); the run is then labelled by its path."""
    run = history_file(tmp_path / "run" / "history.csv", [(1, .3, .3, .1, .1)]).parent
    os.mkfifo(run / "settings.json")
    monkeypatch.setattr(scripts["compare"].plots, "save", lambda fig, out: None)
    with deadline(30):
        assert scripts["compare"].main([str(run), "--out", str(tmp_path / "out.png")]) == 0
    assert "is not readable settings" in capsys.readouterr().err


# boundaries.py

def test_boundaries_refuses_a_model_too_large_for_memory(scripts, tmp_path, capsys):
    out = tmp_path / "figures"
    err = refused(scripts["boundaries"].main, ["--out", out, "--hidden", "1000000000"], capsys)
    assert "argument --hidden: --hidden 1000000000 would need" in err and "GiB" in err
    assert not out.exists()


@pytest.mark.parametrize("out, message", [
    ("", "an empty name is no directory"),
    ("x" * 300, "File name too long"),
])
def test_boundaries_refuses_an_unusable_out(scripts, empty, capsys, out, message):
    assert message in refused(scripts["boundaries"].main, ["--out", out], capsys)
    assert list(empty.iterdir()) == []


def test_boundaries_reports_a_divergence_and_no_training_error(scripts, tmp_path, capsys):
    """lr 1e300 blows the relu networks up to weights that are not finite (measured: after
    one epoch, on every set; the softmax's stay finite, if huge): their panels say they
    diverged, print no training error, and the script exits with status 1."""
    out = tmp_path / "figures"
    status = scripts["boundaries"].main(["--out", str(out), "--epochs", "2", "--lr", "1e300",
                                         "--hidden", "4"])
    captured = capsys.readouterr()
    lines = dict(line.split(": ", 1) for line in captured.out.splitlines()[:7])
    assert status == 1 and "Traceback" not in captured.err
    for panel in ("XOR quadrants mlp", "two rings mlp"):
        assert lines[panel] == "diverged (weights not finite): try a smaller --lr"
    assert all(result.startswith(("training error ", "diverged ")) for result in lines.values())
    assert "boundaries.py: a model diverged" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["boundaries.png", "boundaries_mlp.png",
                                                     "settings.json", "summary.txt"]
