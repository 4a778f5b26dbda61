"""Behaviour that a mutation audit of the lecture's modules found unpinned: each test holds
one documented promise against a formula, a number worked out here, or a property that the
promise implies (never the same function's own output)."""
import math
import re

import numpy as np
import pytest

import knetlike as kl


# --- the companion notebook's dropout ------------------------------------------------------

def test_one_dropout_number_drops_the_input_and_the_hidden_layers_alike(toy):
    """``pdrop=p`` is ``(p, p)``: the notebook's one number applies to both places."""
    w, x, _ = toy(hidden=(5,), C=3, N=8, dtype=np.float64, winit=0.5, bias=1.0)
    one = kl.predict(w, x, pdrop=0.4, rng=3)
    assert np.array_equal(one, kl.predict(w, x, pdrop=(0.4, 0.4), rng=3))
    assert not np.allclose(one, kl.predict(w, x, pdrop=(0.4, 0), rng=3))


def test_a_small_dropout_probability_still_drops():
    """p = 0.005 of 40000 entries drops about 200 (sd 14): a small p is not taken for 0."""
    out = kl.dropout(np.ones((200, 200)), 0.005, rng=0)
    assert 100 < np.count_nonzero(out == 0) < 300
    assert np.allclose(out[out != 0], 1 / 0.995)


def test_dropout_masks_are_drawn_in_column_major_order():
    """Knet's arrays are column-major, and so is the draw order of the masks: the mask of the
    first k columns of x is the mask that x[:, :k] alone gets from the same seed."""
    x = np.ones((8, 10))
    whole, first = kl.dropout(x, 0.5, rng=4), kl.dropout(x[:, :3], 0.5, rng=4)
    assert np.array_equal(whole[:, :3], first)


@pytest.mark.parametrize("pdrop", [(0.3,), [0.3], ()])
def test_a_dropout_pair_of_other_than_two_is_refused(pdrop, toy):
    w, x, labels = toy()
    with pytest.raises(ValueError, match="pdrop must be a number or a pair"):
        kl.loss(w, x, kl.onehot(labels, 4), pdrop=pdrop, rng=0)


# --- the notes' derivations -----------------------------------------------------------------

@pytest.mark.parametrize("p", [np.float64(0.5), np.full((2, 2), 0.25)])
def test_the_jacobian_takes_one_probability_vector_only(p):
    with pytest.raises(ValueError, match="must be one probability vector"):
        kl.softmax_jacobian(p)


# --- targets and batches --------------------------------------------------------------------

def test_onehot_targets_are_column_major_as_knets_arrays():
    """One column per instance, contiguous: minibatch's column blocks of them are views."""
    y = kl.onehot(np.array([2, 0, 1, 2]), 3)
    assert y.flags.f_contiguous and y.dtype == np.float32
    assert np.array_equal(y, np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]))


def test_minibatch_refuses_targets_laid_out_n_by_c(rng):
    """Targets are C x N; an N x C array (rows per instance) is refused, not split by rows."""
    x, y = rng.standard_normal((3, 6)), np.eye(6, 4)            # 6 instances, 4 classes
    with pytest.raises(ValueError, match="y must be C x N targets or N labels with N = 6"):
        kl.minibatch(x, y, 2)


# --- measuring ------------------------------------------------------------------------------

@pytest.mark.parametrize("blocksize", [1, 2, 3, 6, 7, 100])
def test_evaluate_counts_every_column_in_any_block_size(blocksize, toy):
    """The mean NLL and error over all 7 columns, written out with numpy here."""
    w, x, labels = toy(N=7, dtype=np.float64, winit=1.0)
    y = w[0] @ x + w[1]
    top = y.max(axis=0)
    lse = top + np.log(np.exp(y - top).sum(axis=0))
    nll = np.mean(lse - y[labels, np.arange(7)])
    error = np.mean(y.argmax(axis=0) != labels)
    ours = kl.evaluate(w, x, labels, blocksize=blocksize)
    assert ours == (pytest.approx(nll, rel=1e-12), pytest.approx(error))


# --- gradcheck ------------------------------------------------------------------------------

def perturbed_entries(rng, nsample, shape=(4, 5)):
    """The entries of w[0] that gradcheck perturbs, read off the calls of f."""
    import autograd.numpy as anp
    w0 = np.zeros(shape)
    seen = []

    def f(w):
        moved = np.flatnonzero(np.asarray(getattr(w[0], "_value", w[0])) != w0)
        if moved.size == 1 and (not seen or seen[-1] != int(moved[0])):
            seen.append(int(moved[0]))              # once per entry (+eps, then -eps)
        return anp.sum(w[0] ** 2)
    kl.gradcheck(f, [w0], nsample=nsample, rng=rng)
    return seen


def test_gradcheck_samples_distinct_entries_from_its_rng():
    """nsample entries, each once, drawn from the rng given: a seed repeats its sample, and
    other seeds draw other samples."""
    sample = perturbed_entries(5, 19)
    assert len(sample) == len(set(sample)) == 19
    assert perturbed_entries(5, 6) == perturbed_entries(np.random.default_rng(5), 6)
    assert len({tuple(perturbed_entries(seed, 6)) for seed in range(5)}) > 1


def test_relerr_is_relative_to_the_larger_side_down_to_a_floor_of_1e_8():
    assert relerr_of(1.0, 0.0) == relerr_of(0.0, 1.0) == 1.0
    assert relerr_of(1e-6, 2e-6) == pytest.approx(0.5)          # far above the floor
    assert relerr_of(1e-9, 0.0) == pytest.approx(0.1)           # 1e-9 / 1e-8


def relerr_of(a, b):
    from knetlike.gradcheck import relerr
    return relerr(a, b)


def test_a_check_of_a_given_gradient_is_named_after_it():
    import autograd.numpy as anp

    def f(w):
        return anp.sum(w[0] ** 2)

    def twice(w):
        return [2 * w[0]]
    assert kl.gradcheck(f, [np.ones((2, 2))], gradient=twice).name == "twice"
    assert kl.gradcheck(f, [np.ones((2, 2))]).name == "autograd"


def test_gcheck_lines_and_summary_judge_each_epoch_and_the_worst_against_1e_2():
    """mnist.jl's --gcheck: each epoch's line, and a summary with the worst epoch (not the
    last) and the arrays smaller than the sample, all at the tolerance 1e-2."""
    from knetlike.gradcheck import GradCheck, GradientChecks
    checks = GradientChecks([np.zeros((2, 2)), np.zeros((2, 1))], nsample=4)
    assert checks.add(1, GradCheck(0.002, 0, (1, 0), 0.5, 0.501)) == (
        "gcheck:1 worst relative error 0.002 at W[1, 0] (gradient 0.5, central difference "
        "0.501): ok")
    assert checks.add(2, GradCheck(0.05, 1, (0, 0), 1.0, 0.95)).endswith("FAILED (> 0.01)")
    checks.add(3, GradCheck(1e-4, 0, (0, 0), 1.0, 1.0))
    assert checks.failures() == ["the gradient check failed after epoch 2 (worst relative "
                                 "error above 0.01); see summary.txt"]
    summary = checks.summary()[0]
    assert summary.startswith("gradient check (4 entries per array, all 2 of b, after each "
                              "of 3 epochs): FAILED, worst relative error 0.05 after epoch 2")
    passing = GradientChecks([np.zeros((2, 2)), np.zeros((2, 1))], nsample=4)
    passing.add(1, GradCheck(0.009, 0, (0, 0), 1.0, 1.0))
    assert passing.failures() == [] and "passed" in passing.summary()[0]


# --- weights --------------------------------------------------------------------------------

def test_winit_0_starts_from_all_zero_weights():
    """mnist.jl's winit * randn with winit = 0: every W is 0 (a uniform guess, loss log C)."""
    w = kl.weights(3, classes=2, inputs=4, winit=0, rng=0)
    assert [wi.shape for wi in w] == [(3, 4), (3, 1), (2, 3), (2, 1)]
    assert all(not wi.any() for wi in w)


def test_weights_nbytes_counts_every_w_and_b():
    """(in + 1) x out entries per layer: 4->3->2 in float64 is (5*3 + 4*2) * 8 bytes."""
    from knetlike.weights import weights_nbytes
    assert weights_nbytes(3, classes=2, inputs=4, dtype=np.float64) == (5 * 3 + 4 * 2) * 8
    assert weights_nbytes(3, classes=2, inputs=4, dtype=np.float64) == sum(
        wi.nbytes for wi in kl.weights(3, classes=2, inputs=4, dtype=np.float64, rng=0))


@pytest.mark.parametrize("winit", [float("inf"), float("nan")])
def test_a_winit_that_is_not_finite_is_refused(winit):
    with pytest.raises(ValueError, match=r"winit \(the standard deviation of W\) must be a "
                                         r"finite number >= 0"):
        kl.weights(3, classes=2, inputs=4, winit=winit)


# --- the history ----------------------------------------------------------------------------

def test_an_epochs_line_has_the_notes_six_digits_in_their_order():
    from knetlike.history import Epoch
    assert str(Epoch(3, 0.1234567, 0.2, 0.05, 0.0625)) == (
        "epoch:3 softloss:0.123457/0.200000 zeroone:0.050000/0.062500")


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_an_epoch_with_an_infinite_or_nan_number_is_not_finite(value):
    from knetlike.history import Epoch
    assert not Epoch(1, 0.3, value, 0.1, 0.1).finite()
    assert Epoch(1, 0.3, 0.3, 0.1, 0.1).finite()


def test_a_history_file_starts_with_its_header():
    from knetlike.history import Epoch, history_csv
    assert history_csv([Epoch(0, 2.5, 2.25, 0.75, 0.5)]) == (
        "epoch,train_nll,test_nll,train_error,test_error\n0,2.5,2.25,0.75,0.5\n")


@pytest.mark.parametrize("text, message", [
    ("epoch,train_nll,test_nll,train_error\n1,1,1,1\n", "missing columns ['test_error']"),
    ("epoch,train_nll,test_nll,train_error,test_error\n1.5,1,1,0,0\n",
     "column epoch: expected a whole number, found '1.5'"),
    ("epoch,train_nll,test_nll,train_error,test_error\n1,1,1,0,0,7\n",
     "beyond the last column: extra values ['7']"),
])
def test_a_history_text_that_is_not_one_is_refused(text, message):
    from knetlike.history import parse_history
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_history(text, "h.csv")


def test_read_history_reads_up_to_10_mb_and_no_more(tmp_path):
    from knetlike.history import read_history
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" * 2_500_000 + b"\n")             # 10_000_001 bytes
    with pytest.raises(ValueError, match="more than 10000000 bytes"):
        read_history(big)
    big.write_bytes(b"a,b\n" * 2_500_000)                      # read, and found no history
    with pytest.raises(ValueError, match="not a training history, missing columns"):
        read_history(big)


def test_a_history_may_be_empty_or_hold_huge_losses_but_a_reader_is_told(tmp_path):
    from knetlike.history import Epoch, drawable, read_history, save_history
    save_history(tmp_path / "empty.csv", [])
    assert read_history(tmp_path / "empty.csv") == (
        [], [f"{tmp_path / 'empty.csv'} has no epochs yet; it has a legend entry only"])
    huge = [Epoch(0, 2.0, 2.0, 0.5, 0.5), Epoch(1, 1e301, 2.0, 0.5, 0.5)]
    save_history(tmp_path / "huge.csv", huge)
    history, warnings = read_history(tmp_path / "huge.csv")
    assert history == huge and len(warnings) == 1 and "1e+301 cannot be drawn" in warnings[0]
    assert math.isnan(drawable(history)[1].train_nll) and drawable(history)[0] == huge[0]


def test_a_history_error_above_1_is_refused(tmp_path):
    from knetlike.history import check_history, parse_history
    history = parse_history("epoch,train_nll,test_nll,train_error,test_error\n0,1,1,1.5,0\n")
    with pytest.raises(ValueError, match=r"train_error: 1.5, but an error is a fraction"):
        check_history(history, "h.csv")


# --- the lecture's numbers ------------------------------------------------------------------

@pytest.mark.parametrize("off, verdict", [(0.0005, "within"), (0.01, "NOT within")])
def test_a_run_is_within_the_notes_only_if_every_column_is(off, verdict):
    """One column 0.01 away and three exact is not within 0.001."""
    from knetlike.history import Epoch
    from knetlike.reference import deviation_lines
    notes = [Epoch(1, 0.5, 0.5, 0.1, 0.1), Epoch(2, 0.4, 0.45, 0.08, 0.09)]
    ours = [Epoch(1, 0.5, 0.5, 0.1, 0.1), Epoch(2, 0.4 + off, 0.45, 0.08, 0.09)]
    lines = deviation_lines(ours, {"notes": notes}, held=True)
    assert lines[0] == f"largest deviation from the notes ({verdict} 0.001):"
    assert lines[1] == f"  train_nll: {off:.6f} at epoch 2"
