"""The model and its loss: values, stability, dtypes, and the naive form's overflow."""
import autograd.numpy as anp
import numpy as np
import pytest

import knetlike as kl


def naive_softloss(ygold, ypred):
    """The Julia one-liner as written: log(sum(exp(ypred))) with no shift."""
    ynorm = ypred - anp.log(anp.sum(anp.exp(ypred), axis=0, keepdims=True))
    return -anp.sum(ygold * ynorm) / ygold.shape[1]


def test_probs_columns_are_distributions(rng):
    y = rng.standard_normal((4, 6))
    p = kl.probs(y)
    assert np.allclose(p.sum(axis=0), 1)
    assert np.all(p > 0)
    e = np.exp(y)
    assert np.allclose(p, e / e.sum(axis=0))
    assert np.allclose(kl.logp(y), np.log(p))


def test_probs_ignore_a_constant_shift_of_the_scores(rng):
    y = rng.standard_normal((5, 3))
    assert np.allclose(kl.probs(y), kl.probs(y + 100.0))


def test_softloss_is_the_mean_nll_of_the_gold_classes(rng):
    y = rng.standard_normal((3, 4))
    labels = np.array([0, 2, 1, 2])
    expected = -np.mean(np.log(kl.probs(y)[labels, np.arange(4)]))
    assert kl.softloss(kl.onehot(labels, 3), y) == pytest.approx(expected, rel=1e-6)


def test_softmax_is_softloss_of_the_linear_scores(rng):
    w = [rng.standard_normal((3, 5)), rng.standard_normal((3, 1))]
    x = rng.standard_normal((5, 7))
    ygold = kl.onehot(rng.integers(0, 3, 7), 3).astype(np.float64)
    ypred = w[0] @ x + w[1]
    assert np.allclose(kl.predict(w, x), ypred)
    assert kl.softmax(w, x, ygold) == pytest.approx(kl.softloss(ygold, ypred))


def test_uniform_scores_give_log_c():
    ygold = kl.onehot([0, 1, 2, 9], 10)
    assert kl.softloss(ygold, np.zeros((10, 4), np.float32)) == pytest.approx(np.log(10), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("s", [1e4, -1e4])
def test_huge_scores_give_the_exact_finite_loss_and_gradient(s, dtype):
    # Gold is class 0 in both columns; one column has it 2|s| ahead, the other 2|s| behind.
    # Exactly: losses 0 and 2|s| (mean |s|), probabilities one-hot on the higher score.
    ypred = (s * np.array([[1, -1], [-1, 1]])).astype(dtype)
    ygold = kl.onehot([0, 0], 2, dtype=dtype)
    phat = (ypred == ypred.max(axis=0)).astype(dtype)
    for f in (kl.softloss, kl.nll):
        loss, g = f(ygold, ypred), kl.grad(f, 1)(ygold, ypred)
        assert np.isfinite(loss) and np.all(np.isfinite(g))
        assert loss == pytest.approx(abs(s))
        assert np.array_equal(g, (phat - ygold) / 2)


def test_naive_logsumexp_overflows_where_the_stable_form_does_not():
    ypred = np.array([[1e4, 0.0], [0.0, -1e4]])
    ygold = np.array([[1.0, 0.0], [0.0, 1.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = naive_softloss(ygold, ypred)
    assert not np.isfinite(naive)            # exp(1e4) is inf: the reason for the shift
    assert kl.softloss(ygold, ypred) == pytest.approx(1e4 / 2)


def test_float32_in_float32_out(rng):
    w = [rng.standard_normal((10, 20)).astype(np.float32), np.zeros((10, 1), np.float32)]
    x = rng.random((20, 8), dtype=np.float32)
    ygold = kl.onehot(rng.integers(0, 10, 8), 10)
    assert kl.predict(w, x).dtype == np.float32
    assert kl.probs(kl.predict(w, x)).dtype == np.float32
    assert np.asarray(kl.softmax(w, x, ygold)).dtype == np.float32
    assert np.asarray(kl.nll(ygold, kl.predict(w, x))).dtype == np.float32
    for gradient in (kl.softmax_gradient, kl.train_gradient, kl.analytic_gradient):
        assert [g.dtype for g in gradient(w, x, ygold)] == [np.float32, np.float32]


def test_softloss_rejects_targets_of_another_shape(rng):
    with pytest.raises(ValueError, match=r"ygold .*\(3, 1\).*ypred .*\(3, 4\)"):
        kl.softloss(np.ones((3, 1)) / 3, rng.standard_normal((3, 4)))


def test_an_empty_batch_is_refused_not_turned_into_nan(rng):
    w = [rng.standard_normal((3, 5)), np.zeros((3, 1))]
    with pytest.raises(ValueError, match="x is an empty batch"):
        kl.softmax(w, np.zeros((5, 0)), np.zeros((3, 0)))
    with pytest.raises(ValueError, match="N >= 1.*got shape \\(3, 0\\)"):
        kl.softloss(np.zeros((3, 0)), np.zeros((3, 0)))
    with pytest.raises(ValueError, match="x is an empty batch"):
        kl.train(w, [(np.zeros((5, 0)), np.zeros((3, 0)))], lr=0.1)


def test_a_flat_b_is_refused_even_where_it_would_broadcast(rng):
    # With N == C a b of shape (C,) broadcasts across the columns without any numpy error.
    w = [rng.standard_normal((4, 5)), np.zeros(4)]
    x, ygold = rng.standard_normal((5, 4)), np.eye(4)
    for f in (kl.softmax, kl.softmax_gradient, kl.train_gradient):
        with pytest.raises(ValueError, match=r"w\[1\] \(b\) must have shape \(C, 1\)"):
            f(w, x, ygold)


def test_lists_work_where_arrays_do():
    ypred = np.array([[2.0, 0.0], [1.0, 3.0]])
    assert kl.softloss([[1.0, 0.0], [0.0, 1.0]], ypred) == pytest.approx(
        kl.softloss(np.eye(2), ypred))
    batches = kl.minibatch([[1, 2, 3, 4]], [0, 1, 1, 0], 2)
    assert [y.tolist() for _, y in batches] == [[0, 1], [1, 0]]


def test_softmax_names_the_mismatched_argument(rng):
    w = [rng.standard_normal((3, 5)), np.zeros((3, 1))]
    with pytest.raises(ValueError, match=r"x must be D x N with D = 5"):
        kl.softmax(w, rng.standard_normal((4, 7)), np.ones((3, 7)) / 3)
    with pytest.raises(ValueError, match=r"w\[1\] \(b\) must have shape \(C, 1\)"):
        kl.softmax([w[0], np.zeros((2, 1))], rng.standard_normal((5, 7)), np.ones((3, 7)) / 3)
