"""What a run writes, each beside what it judges: ``weights.save_weights``,
``gradcheck.GradientChecks`` (mnist.jl's --gcheck verdicts), ``reference.deviation_lines``."""
import numpy as np

from knetlike.gradcheck import GradCheck, GradientChecks
from knetlike.history import Epoch
from knetlike.reference import TOLERANCE, deviation_lines, knet_2016, knet_mlp_2016
from knetlike.weights import save_weights


def epochs(*numbers):
    return [Epoch(e, 0.3, 0.3, 0.1, 0.1) for e in numbers]


def test_save_weights_names_every_array(tmp_path):
    w = [np.ones((3, 2)), np.zeros((3, 1)), np.ones((2, 3)), np.zeros((2, 1))]
    save_weights(tmp_path / "w.npz", w, 7, [3])
    saved = np.load(tmp_path / "w.npz")
    assert sorted(saved.files) == ["W1", "W2", "b1", "b2", "epoch", "hidden"]
    assert saved["epoch"] == 7 and list(saved["hidden"]) == [3]
    save_weights(tmp_path / "w.npz", w[:2], 0, [])
    assert sorted(np.load(tmp_path / "w.npz").files) == ["W", "b", "epoch", "hidden"]


def test_gradient_checks_say_what_was_checked_and_the_verdict():
    w = [np.zeros((10, 784)), np.zeros((10, 1))]
    checks = GradientChecks(w, 50)
    line = checks.add(1, GradCheck(2e-6, 0, (3, 4), 0.5, 0.5))
    assert line == ("gcheck:1 worst relative error 2e-06 at W[3, 4] (gradient 0.5, central "
                    "difference 0.5): ok")
    assert checks.failures() == []
    assert checks.summary() == ["gradient check (50 entries per array, all 10 of b, after each "
                                "of 1 epochs): passed, worst relative error 2e-06 after epoch 1 "
                                "(tolerance 0.01)"]
    assert checks.add(2, GradCheck(0.5, 1, (2, 0), 1.0, 2.0)).endswith(": FAILED (> 0.01)")
    assert checks.summary()[0].startswith("gradient check (50 entries per array, all 10 of b, "
                                          "after each of 2 epochs): FAILED, worst relative "
                                          "error 0.5 after epoch 2")
    assert checks.failures() == ["the gradient check failed after epoch 2 (worst relative "
                                 "error above 0.01); see summary.txt"]
    assert GradientChecks(w, 3).summary() == []


def test_deviation_lines_hold_only_the_notes_run_to_the_tolerance():
    notes = knet_2016()
    shifted = [Epoch(e.epoch, e.train_nll + 0.002, e.test_nll, e.train_error, e.test_error)
               for e in notes[:3]]
    within = deviation_lines(notes[:3], {"notes": notes}, held=True)
    assert within[0] == f"largest deviation from the notes (within {TOLERANCE}):"
    assert within[1].startswith("  train_nll: 0.000000 at epoch ") and len(within) == 5
    assert deviation_lines(shifted, {"notes": notes}, held=True)[0] == \
        f"largest deviation from the notes (NOT within {TOLERANCE}):"
    assert "for information only" in deviation_lines(shifted, {"notes": notes}, held=False)[0]
    assert "next lecture's 784-100-10 run (for information" in \
        deviation_lines(knet_mlp_2016()[:2], {"next lecture": knet_mlp_2016()}, held=True)[0]
    assert deviation_lines(epochs(150), {"notes": notes}, held=True) == []   # none in common
    assert deviation_lines(notes[:3], None, held=True) == []


def test_gradient_check_lines_name_a_deeper_models_arrays_as_errors_do():
    from knetlike.checks import layer_names
    w = [np.zeros((64, 784)), np.zeros((64, 1)), np.zeros((10, 64)), np.zeros((10, 1))]
    line = GradientChecks(w, 5).add(3, GradCheck(1e-7, 2, (4, 5), 0.25, 0.25))
    assert line.startswith(f"gcheck:3 worst relative error 1e-07 at {layer_names(w, 2)} [4, 5]")
