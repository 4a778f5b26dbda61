"""Knet's mnist.jl model as a parameter: weights, relu, predict and loss at any depth, and
backpropagation by hand held against autograd and finite differences."""
import numpy as np
import pytest

import knetlike as kl

DEPTHS = {"softmax (no hidden layer)": (), "one hidden layer": (6,), "two hidden layers": (5, 4)}


def problem(toy, hidden, N=9):
    """float64 weights of sizes 7 -> hidden -> 3 (b random, so relus sit on both sides),
    inputs and one-hot targets."""
    w, x, labels = toy(hidden=hidden, C=3, D=7, N=N, dtype=np.float64, winit=0.5, bias=0.1)
    return w, x, kl.onehot(labels, 3, dtype=np.float64)


def forward_by_formula(w, x):
    """mnist.jl's predict, written out here independently of the package."""
    for i in range(0, len(w), 2):
        x = w[i] @ x + w[i + 1]
        if i + 2 < len(w):
            x = np.maximum(x, 0)
    return x


def nll_by_formula(y, ygold):
    logp = y - np.log(np.exp(y).sum(axis=0))
    return -(ygold * logp).sum() / y.shape[1]


def test_weights_has_knets_shapes_and_distribution():
    w = kl.weights(128, 64, rng=np.random.default_rng(0))
    assert [wi.shape for wi in w] == [(128, 784), (128, 1), (64, 128), (64, 1), (10, 64), (10, 1)]
    assert all(wi.dtype == np.float32 for wi in w)
    assert all(not b.any() for b in w[1::2])                       # b = 0
    assert np.std(w[0]) == pytest.approx(0.1, rel=0.02)             # winit = 0.1
    W, b = kl.weights(winit=0.001, dtype=np.float64, rng=np.random.default_rng(1))
    assert W.shape == (10, 784) and b.shape == (10, 1) and W.dtype == np.float64
    assert np.std(W) == pytest.approx(0.001, rel=0.02)
    again = kl.weights(winit=0.001, dtype=np.float64, rng=np.random.default_rng(1))[0]
    assert np.array_equal(W, again)                                  # seeded: reproducible


@pytest.mark.parametrize("args, kwargs, message", [
    ((0,), {}, "hidden size 1 must be a whole number >= 1, got 0"),
    ((64, -3), {}, "hidden size 2 must be a whole number >= 1, got -3"),
    ((True,), {}, "hidden size 1 must be a whole number >= 1, got True"),
    ((), {"classes": 0}, "classes must be a whole number >= 1"),
    ((), {"winit": -0.1}, "winit .* must be a finite number >= 0"),
])
def test_weights_refuses_bad_sizes(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kl.weights(*args, **kwargs)


@pytest.mark.parametrize("hidden", DEPTHS.values(), ids=DEPTHS.keys())
def test_predict_and_loss_are_mnist_jl_at_any_depth(hidden, toy):
    w, x, ygold = problem(toy, hidden)
    assert np.allclose(kl.predict(w, x), forward_by_formula(w, x), rtol=1e-13, atol=1e-13)
    assert kl.loss(w, x, ygold) == pytest.approx(nll_by_formula(forward_by_formula(w, x), ygold))


def test_the_lecture_model_is_the_case_with_no_hidden_layer(toy):
    w, x, ygold = problem(toy, ())
    assert np.array_equal(kl.predict(w, x), w[0] @ x + w[1])
    assert kl.softmax(w, x, ygold) == kl.loss(w, x, ygold)
    deep, _, _ = problem(toy, (6,))
    with pytest.raises(ValueError, match="softmax is the lecture's linear model .* use loss"):
        kl.softmax(deep, x, ygold)


def test_relu_is_max_x_0():
    x = np.array([-2.0, -0.0, 0.0, 1e-300, 3.0, -np.inf, np.inf])
    assert np.array_equal(kl.relu(x), [0, 0, 0, 1e-300, 3, 0, np.inf])
    assert kl.relu(np.ones(3, np.float32)).dtype == np.float32


@pytest.mark.parametrize("hidden", DEPTHS.values(), ids=DEPTHS.keys())
def test_backprop_by_hand_equals_autograd_and_every_default_path(hidden, toy):
    w, x, ygold = problem(toy, hidden)
    hand = kl.analytic_gradient(w, x, ygold)
    for gradient in (kl.grad(kl.loss), kl.train_gradient):
        for h, a, wi in zip(hand, gradient(w, x, ygold), w):
            assert h.shape == a.shape == wi.shape
            assert np.allclose(h, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("hidden", DEPTHS.values(), ids=DEPTHS.keys())
def test_backprop_by_hand_agrees_with_finite_differences(hidden, toy):
    w, x, ygold = problem(toy, hidden)
    check = kl.gradcheck(kl.loss, w, x, ygold, gradient=kl.analytic_gradient)   # every entry
    assert check.max_relerr < 1e-6, check


def test_at_a_relu_input_of_exactly_0_the_derivative_is_0_as_in_knet(toy):
    """A unit whose input is exactly 0 is off: relu has no derivative there, and Knet (and
    we) take the left one, 0. Autograd agrees; the central difference sees the average of
    the two sides, so the backward difference is the one to compare with."""
    w, x, ygold = problem(toy, (6,))
    x[:, 0] = 0.0
    w[1][:] = 0.0                       # every hidden input of column 0 is exactly 0
    w[1][2] = 0.3                       # but one unit: on
    h = w[0] @ x + w[1]
    assert np.all(h[np.arange(6) != 2, 0] == 0)
    hand = kl.analytic_gradient(w, x, ygold)
    for gradient in (kl.grad(kl.loss), kl.train_gradient):
        assert all(np.allclose(a, b, rtol=1e-12, atol=1e-15)
                   for a, b in zip(hand, gradient(w, x, ygold)))
    # The derivative for b1 of a unit at exactly 0 everywhere: only column 0 reaches the
    # kink, so take a model whose only instance is column 0.
    w1, x1, y1 = w, x[:, :1], ygold[:, :1]
    db1 = kl.analytic_gradient(w1, x1, y1)[1]
    eps = 1e-7
    for unit in (0, 1):
        shifted = [wi.copy() for wi in w1]
        shifted[1][unit] -= eps
        backward = (kl.loss(w1, x1, y1) - kl.loss(shifted, x1, y1)) / eps
        assert db1[unit, 0] == 0.0 and backward == pytest.approx(0.0, abs=1e-12)
        shifted[1][unit] += 2 * eps
        forward = (kl.loss(shifted, x1, y1) - kl.loss(w1, x1, y1)) / eps
        assert abs(forward) > 1e-3      # the other side is not flat: a real kink


@pytest.mark.parametrize("w_shapes, message", [
    ([(5, 7), (5, 1), (3, 4), (3, 1)],
     r"w\[2\] \(W of layer 2\) has shape \(3, 4\), but layer 1 outputs 5 values "
     r"\(w\[0\] has shape \(5, 7\)\); it must have 5 columns"),
    ([(5, 7), (5,), (3, 5), (3, 1)],
     r"w\[1\] \(b of layer 1\) must have shape \(out, 1\) = \(5, 1\) to match w\[0\] \(5, 7\), "
     r"got shape \(5,\)"),
    ([(5, 7), (5, 1), (3, 5)], r"an even number of arrays, a W and a b per layer\), got list of "
                               r"length 3"),
    ([(5, 6), (5, 1), (3, 5), (3, 1)], r"x must be D x N with D = 6 \(the columns of w\[0\] "
                                       r"\(5, 6\)\), got shape \(7, 9\)"),
    ([(10, 6), (10, 1)], r"x must be D x N with D = 6 \(the columns of W \(10, 6\)\)"),
    ([(10, 7), (10,)], r"w\[1\] \(b\) must have shape \(C, 1\) = \(10, 1\) to match W \(10, 7\)"),
])
def test_layers_that_do_not_chain_are_named_with_both_shapes(w_shapes, message):
    w = [np.zeros(shape) for shape in w_shapes]
    x = np.zeros((7, 9))
    with pytest.raises(ValueError, match=message):
        kl.predict(w, x)
    with pytest.raises(ValueError, match=message):
        kl.zeroone(w, x, np.zeros(9, int))
    with pytest.raises(ValueError, match=message):
        kl.train(list(w), [(x, np.full((3, 9), 1 / 3))], lr=0.1)


@pytest.mark.parametrize("hidden", DEPTHS.values(), ids=DEPTHS.keys())
def test_train_evaluate_zeroone_and_gradcheck_take_any_depth(hidden, toy):
    w, x, ygold = problem(toy, hidden, N=60)
    labels = np.argmax(ygold, axis=0)
    data = kl.minibatch(x, ygold, 10)
    expected = [wi.copy() for wi in w]
    for xb, yb in data:                                  # the notes' loop, by hand
        g = kl.analytic_gradient(expected, xb, yb)
        expected = [wi - 0.3 * gi for wi, gi in zip(expected, g)]
    kl.train(w, data, lr=0.3)
    assert all(np.allclose(a, b, rtol=1e-10, atol=1e-12) for a, b in zip(w, expected))
    y = forward_by_formula(w, x)
    error = np.mean(np.argmax(y, axis=0) != labels)
    assert kl.zeroone(w, x, labels) == error and kl.accuracy(w, x, labels) == 1 - error
    assert kl.evaluate(w, x, labels, blocksize=7) == pytest.approx(
        (nll_by_formula(y, ygold), error))
    assert kl.gradcheck(kl.loss, w, x, ygold, nsample=5).max_relerr < 1e-5
