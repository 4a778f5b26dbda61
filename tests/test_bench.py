"""scripts/bench.py compares the same training: every path must reach the same weights."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import knetlike as kl

SCRIPT = Path(__file__).parents[1] / "scripts" / "bench.py"
PACKAGE_PATHS = ["numpy", "default", "softloss", "softmax_gradient", "analytic_gradient"]


def bench(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600)


def test_every_path_trains_to_the_default_weights_and_gets_a_ratio():
    result = bench("--synthetic", "--epochs", "1", "--json", "--paths", ",".join(PACKAGE_PATHS))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {r["path"]: r for r in report["results"]}
    assert list(rows) == PACKAGE_PATHS
    for name, r in rows.items():
        assert r["max_abs_diff_vs_default"] <= 1e-5, (name, r["max_abs_diff_vs_default"])
        assert r["same_weights"] is True
        assert r["median_s"] > 0 and len(r["times_s"]) == 1
    assert rows["numpy"]["ratio_to_numpy"] == 1.0
    assert rows["default"]["max_abs_diff_vs_default"] == 0.0   # the reference is that path
    ev = report["evaluate"]
    assert ev["images"] == 70000 and 0 <= ev["train_error"] < 0.5 and ev["train_nll"] > 0


def test_unknown_paths_are_refused():
    result = bench("--synthetic", "--paths", "numpy,tensorflow")
    assert result.returncode == 2
    assert "unknown path(s) tensorflow; choose from numpy, default, softloss" in result.stderr


@pytest.fixture
def bench_module(monkeypatch):
    """scripts/bench.py imported as a module, its PATHS open to monkeypatching."""
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench", module)      # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_path_that_trains_to_other_weights_is_flagged(bench_module, monkeypatch, capsys):
    def doubled(w, x, ygold):                 # a wrong gradient: twice the true one
        return [2 * g for g in kl.analytic_gradient(w, x, ygold)]
    monkeypatch.setitem(bench_module.PATHS, "doubled",
                        (bench_module._kl_train(doubled), "2x gradient", False))
    status = bench_module.main(["--synthetic", "--epochs", "1",
                                "--paths", "numpy,analytic_gradient,doubled"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "doubled trained to other weights than the default path" in err
    assert "analytic_gradient" not in err
    assert out.count("NOT the same weights") == 1


def test_peers_are_divided_by_the_numpy_loop_timed_beside_them(bench_module, monkeypatch, capsys):
    # A stand-in peer (named like the JAX paths, so it runs in the peers' rounds).
    monkeypatch.setitem(bench_module.PATHS, "jax-standin",
                        (bench_module._kl_train(kl.analytic_gradient), "stand-in", False))
    assert bench_module.main(["--synthetic", "--epochs", "2", "--json",
                              "--paths", "numpy,default,jax-standin"]) == 0
    rows = {r["path"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert list(rows) == ["numpy", "default", "numpy-again", "jax-standin"]
    for path, floor in (("default", "numpy"), ("jax-standin", "numpy-again")):
        assert rows[path]["ratio_to_numpy"] == rows[path]["median_s"] / rows[floor]["median_s"]
    assert rows["numpy-again"]["ratio_to_numpy"] == 1.0
