"""scripts/bench.py compares the same training: every path must reach the same weights."""
import json
import subprocess
import sys
from pathlib import Path

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


def test_a_path_that_trains_to_other_weights_is_flagged(monkeypatch, capsys):
    import importlib.util

    import knetlike as kl
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench", module)      # dataclasses look their module up
    spec.loader.exec_module(module)

    def doubled(w, x, ygold):                 # a wrong gradient: twice the true one
        return [2 * g for g in kl.analytic_gradient(w, x, ygold)]
    monkeypatch.setitem(module.PATHS, "doubled", (module._kl_train(doubled), "2x gradient", False))
    status = module.main(["--synthetic", "--epochs", "1",
                          "--paths", "numpy,analytic_gradient,doubled"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "doubled trained to other weights than the default path" in err
    assert "analytic_gradient" not in err
    assert out.count("NOT the same weights") == 1
