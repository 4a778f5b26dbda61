"""scripts/bench.py times the same training: every path must reach the same weights."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import knetlike as kl

SCRIPT = Path(__file__).parents[2] / "scripts" / "bench.py"
SOFTMAX = ["numpy", "default", "softmax_gradient", "analytic_gradient"]
MLP = ["mlp-numpy", "mlp-default", "mlp-grad_loss", "mlp-analytic_gradient"]
QUICK = ["--synthetic", "--batches", "30", "--epochs", "2"]


def bench(*args, env=None):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600, env=env)


def rows_of(result) -> dict:
    assert result.returncode == 0, result.stderr
    return {row["path"]: row for row in json.loads(result.stdout)["results"]}


@pytest.fixture
def bench_module(monkeypatch):
    """scripts/bench.py imported as a module, its PATHS open to monkeypatching."""
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench", module)
    spec.loader.exec_module(module)
    return module


def test_every_path_trains_to_the_default_weights_and_is_divided_by_its_floor():
    rows = rows_of(bench(*QUICK, "--json", "--paths", ",".join(SOFTMAX + MLP)))
    assert list(rows) == SOFTMAX + MLP
    for name, row in rows.items():
        assert row["same_weights"] and row["max_abs_diff"] <= 1e-5, (name, row["max_abs_diff"])
        assert row["model"] == ("mlp" if name.startswith("mlp") else "softmax")
        assert len(row["times_s"]) == 2 and row["median_s"] > 0
        floor = rows["mlp-numpy" if row["model"] == "mlp" else "numpy"]
        assert row["ratio"] == row["median_s"] / floor["median_s"]
    assert rows["default"]["max_abs_diff"] == rows["mlp-default"]["max_abs_diff"] == 0.0


def test_the_peers_that_are_installed_train_to_the_default_weights():
    peers = [name for name, module in [("torch", "torch"), ("jax-jit", "jax"), ("jax-scan", "jax")]
             if importlib.util.find_spec(module) is not None]
    if not peers:
        pytest.skip("neither torch nor jax is installed")
    rows = rows_of(bench(*QUICK, "--json", "--paths", ",".join(peers)))
    assert list(rows) == ["numpy", *peers]
    for name in peers:
        assert rows[name]["same_weights"], (name, rows[name]["max_abs_diff"])


def test_ratios_divide_each_median_by_its_own_models_numpy_loop(bench_module):
    rows = [{"path": "numpy", "model": "softmax", "median_s": 2.0},
            {"path": "default", "model": "softmax", "median_s": 3.0},
            {"path": "torch", "model": "softmax", "skipped": "not installed"},
            {"path": "mlp-numpy", "model": "mlp", "median_s": 4.0},
            {"path": "mlp-default", "model": "mlp", "median_s": 5.0}]
    ratios = {row["path"]: row.get("ratio") for row in bench_module.with_ratios(rows)}
    assert ratios == {"numpy": 1.0, "default": 1.5, "torch": None, "mlp-numpy": 1.0,
                      "mlp-default": 1.25}


def test_a_path_that_trains_to_other_weights_is_flagged(bench_module, monkeypatch, capsys):
    def doubled(w, x, ygold):                 # a wrong gradient: twice the true one
        return [2 * g for g in kl.analytic_gradient(w, x, ygold)]
    for name, model in (("doubled", "softmax"), ("mlp-doubled", "mlp")):
        monkeypatch.setitem(bench_module.PATHS, name,
                            (model, bench_module.with_train(doubled), "2x gradient"))
    status = bench_module.main(["--synthetic", "--batches", "10", "--epochs", "1",
                                "--paths", "analytic_gradient,doubled,mlp-doubled"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "doubled, mlp-doubled trained to other weights than the default path" in err
    assert "analytic_gradient" not in err
    assert out.count("NOT the same weights") == 2


def test_a_named_data_directory_without_mnist_is_an_error(tmp_path):
    for where in ("/nonexistent", str(tmp_path)):
        result = bench("--data", where, "--batches", "1", "--epochs", "1")
        assert result.returncode == 2, result.stderr
        assert f"--data {where} does not hold MNIST" in result.stderr
        assert "synthetic" not in result.stderr and result.stdout == ""
    assert "train-images-idx3-ubyte" in result.stderr     # what the directory lacks


def test_without_a_named_place_it_falls_back_to_synthetic_data_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KNETLIKE_DATA"}
    env["XDG_CACHE_HOME"] = str(tmp_path)                # an empty cache
    result = bench("--batches", "2", "--epochs", "1", "--paths", "numpy", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "MNIST not found, timing on a synthetic MNIST-shaped set" in result.stderr
    assert json.loads(result.stdout)["source"] == "synthetic"
    named = bench("--batches", "2", "--epochs", "1", env={**env, "KNETLIKE_DATA": "/nonexistent"})
    assert named.returncode == 2 and "$KNETLIKE_DATA does not hold MNIST" in named.stderr


def test_load_times_the_floors_and_defaults_again():
    result = bench("--synthetic", "--batches", "5", "--epochs", "1", "--load", "--json",
                   "--paths", "default,mlp-default,analytic_gradient")
    assert result.returncode == 0, result.stderr
    loaded = {row["path"]: row for row in json.loads(result.stdout)["loaded"]}
    assert list(loaded) == ["numpy", "default", "mlp-numpy", "mlp-default"]
    assert loaded["numpy"]["ratio"] == loaded["mlp-numpy"]["ratio"] == 1.0
    assert all(row["vs_unloaded"] > 0 for row in loaded.values())


def test_unknown_paths_are_refused():
    result = bench("--synthetic", "--paths", "numpy,tensorflow")
    assert result.returncode == 2
    assert "unknown path(s) tensorflow; choose from numpy, default," in result.stderr
