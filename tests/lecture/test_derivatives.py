"""Each hand derivation of the notes, held against autograd and finite differences."""
import numpy as np
import pytest
from autograd import jacobian, make_vjp

import knetlike as kl


SHAPES = {"mnist-like": (10, 784, 100), "small odd": (3, 5, 7)}


def relative_error(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)))


def problem(toy, C, D, N, dtype):
    """Random weights (b too), inputs and one-hot targets in Knet's layout."""
    w, x, labels = toy(C=C, D=D, N=N, dtype=dtype, winit=0.1, bias=1.0)
    return w, x, kl.onehot(labels, C, dtype=dtype)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_autograd_of_softmax_equals_the_analytic_gradient(shape, dtype, tol, toy):
    w, x, ygold = problem(toy, *shape, dtype)
    auto, hand = kl.softmax_gradient(w, x, ygold), kl.analytic_gradient(w, x, ygold)
    for a, h, p in zip(auto, hand, w):
        assert a.shape == h.shape == p.shape
        assert relative_error(a, h) < tol


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_the_primitives_give_the_same_value_and_gradient_as_the_plain_formula(shape, toy):
    w, x, ygold = problem(toy, *shape, np.float64)
    for a, h in zip(kl.train_gradient(w, x, ygold), kl.softmax_gradient(w, x, ygold)):
        assert relative_error(a, h) < 1e-12
    assert kl.loss(w, x, ygold) == pytest.approx(kl.softmax(w, x, ygold), rel=1e-14)
    # The VJPs for the other arguments hold too: the inputs x and the targets ygold.
    assert relative_error(kl.grad(kl.loss, 1)(w, x, ygold),
                          kl.grad(kl.softmax, 1)(w, x, ygold)) < 1e-12
    assert relative_error(kl.grad(kl.loss, 2)(w, x, ygold),
                          kl.grad(kl.softmax, 2)(w, x, ygold)) < 1e-12


def test_predict_backward_is_autograds_vjp_of_predict(rng):
    w = [rng.standard_normal((3, 5)), rng.standard_normal((3, 1))]
    x, dy = rng.standard_normal((5, 7)), rng.standard_normal((3, 7))
    vjp, _ = make_vjp(lambda w: kl.predict(w, x))(w)
    for hand, auto in zip(kl.predict_backward(x, dy), vjp(dy)):
        assert hand.shape == auto.shape and np.allclose(hand, auto, rtol=0, atol=1e-14)
    assert kl.predict_backward(x, dy)[1].shape == (3, 1)     # b's gradient sums the columns


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_both_gradients_agree_with_finite_differences(shape, toy):
    w, x, ygold = problem(toy, *shape, np.float64)
    nsample = 60 if shape[1] > 100 else None      # every entry of the small model
    check = kl.gradcheck(kl.softmax, w, x, ygold, nsample=nsample)
    assert check.max_relerr < 1e-6, check
    hand = kl.gradcheck(kl.softmax, w, x, ygold, nsample=nsample, gradient=kl.analytic_gradient)
    assert hand.max_relerr < 1e-6, hand


def test_softmax_jacobian_equals_autograds_jacobian_of_probs(rng):
    y = rng.standard_normal(6)
    p = kl.probs(y[:, None])[:, 0]
    J = kl.softmax_jacobian(p)
    assert np.allclose(J, jacobian(lambda y: kl.probs(y[:, None])[:, 0])(y), rtol=0, atol=1e-15)
    assert np.allclose(J, J.T)                   # symmetric
    # probabilities keep summing to 1
    assert np.allclose(J.sum(axis=0), 0, rtol=0, atol=1e-15)


def test_softmax_backward_is_the_jacobian_transpose_product(rng):
    p = kl.probs(rng.standard_normal((4, 5)))
    dp = rng.standard_normal((4, 5))
    dy = kl.softmax_backward(p, dp)
    for n in range(5):
        assert np.allclose(dy[:, n], kl.softmax_jacobian(p[:, n]).T @ dp[:, n], rtol=0, atol=1e-14)


def test_softmax_backward_is_the_chain_rule_autograd_applies(rng):
    y, dp = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    J_of = kl.grad(lambda y: np.sum(kl.probs(y) * dp))   # J = sum(dp * p): dJ/dp = dp
    assert np.allclose(kl.softmax_backward(kl.probs(y), dp), J_of(y), rtol=0, atol=1e-14)


@pytest.mark.parametrize("targets", ["one-hot", "probabilistic"])
def test_softloss_grad_is_phat_minus_p_over_n(rng, targets):
    C, N = 5, 6
    ypred = rng.standard_normal((C, N))
    if targets == "one-hot":
        ygold = kl.onehot(rng.integers(0, C, N), C, dtype=np.float64)
    else:
        ygold = kl.probs(rng.standard_normal((C, N)))   # columns are probability vectors
    auto = kl.grad(kl.softloss, 1)(ygold, ypred)
    assert np.allclose(kl.softloss_grad(ygold, ypred), auto, rtol=0, atol=1e-15)
    assert np.allclose(auto, (kl.probs(ypred) - ygold) / N, rtol=0, atol=1e-15)
    assert np.allclose(kl.grad(kl.nll, 1)(ygold, ypred), auto, rtol=0, atol=1e-15)


def test_probabilistic_targets_train_the_model_the_same_way(rng):
    C, D, N = 3, 4, 8
    w = [rng.standard_normal((C, D)), rng.standard_normal((C, 1))]
    x = rng.standard_normal((D, N))
    ygold = kl.probs(rng.standard_normal((C, N)))
    for a, h in zip(kl.softmax_gradient(w, x, ygold), kl.analytic_gradient(w, x, ygold)):
        assert relative_error(a, h) < 1e-10
    assert kl.gradcheck(kl.softmax, w, x, ygold).max_relerr < 1e-6


def test_the_phat_gradient_overflows_where_the_score_gradient_does_not():
    # The gold class scores 800 below the other: phat_gold = exp(-800) underflows to 0.
    ypred = np.array([[0.0], [800.0]])
    ygold = np.array([[1.0], [0.0]])
    phat = kl.probs(ypred)
    with np.errstate(divide="ignore"):
        dl_dphat = ygold / phat - 1               # the notes' dl/dphat = p/phat - 1
    assert not np.all(np.isfinite(dl_dphat))
    with np.errstate(invalid="ignore"):
        via_phat = kl.softmax_backward(phat, dl_dphat)   # the chain rule through phat: nan
    assert not np.all(np.isfinite(via_phat))
    direct = kl.softloss_grad(ygold, ypred)              # dNLL/dy = phat - p: bounded
    assert np.array_equal(direct, np.array([[-1.0], [1.0]]))
    assert np.all(np.abs(direct) <= 1)


def test_derivations_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="one probability vector"):
        kl.softmax_jacobian(np.ones((3, 2)) / 3)
    with pytest.raises(ValueError, match=r"p has shape \(3, 2\) but dp has shape \(3, 1\)"):
        kl.softmax_backward(np.ones((3, 2)) / 3, np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"ygold must be C x N = \(3, 5\).*got shape \(3, 4\)"):
        kl.analytic_gradient([np.zeros((3, 4)), np.zeros((3, 1))], np.zeros((4, 5)),
                             np.zeros((3, 4)))
