"""What the public entry points refuse, before anything changes; NaN never laundered; a run
that blows up is diverged; the default gradient composes; SGD against a plain-numpy oracle."""
import autograd.numpy as anp
import numpy as np
import pytest

import knetlike as kl


def unchanged(w, before):
    return all(np.array_equal(a, b) for a, b in zip(w, before))


def test_weights_refuses_integer_types_and_sizes_that_cannot_fit():
    with pytest.raises(ValueError, match="dtype must be a float type"):
        kl.weights(dtype=np.int64)
    with pytest.raises(ValueError, match=r"would need [\d,.]+ GiB.*choose smaller sizes"):
        kl.weights(10 ** 9)
    with pytest.raises(ValueError, match="would need"):
        kl.weights(10 ** 6, 10 ** 6)


def test_a_one_dimensional_x_and_a_bad_w_are_refused(toy):
    w, x, labels = toy(N=40, winit=0.1)
    y = kl.onehot(labels, 4)
    for call in (lambda: kl.predict(w, x[:, 0]), lambda: kl.loss(w, x[:, 0], y[:, 0])):
        with pytest.raises(ValueError, match="x must be D x N"):
            call()
    for bad in ([], [w[0]], [w[0], w[1], w[0]]):
        with pytest.raises(ValueError, match="w must be a list"):
            kl.loss(bad, x, y)
    with pytest.raises(ValueError, match="must hold floats"):
        kl.predict([w[0].astype(int), w[1]], x)


def test_train_refuses_a_read_only_array_before_changing_any(toy):
    w, x, labels = toy(N=40, winit=0.1, hidden=(5,))
    w[3].flags.writeable = False                    # the last array: the others come first
    before = [wi.copy() for wi in w]
    with pytest.raises(ValueError, match=r"w\[3\] \(b of layer 2\) is read-only"):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4), 10), lr=0.1)
    assert unchanged(w, before)


@pytest.mark.parametrize("returns, message", [
    (lambda g: None, "returned NoneType"),
    (lambda g: g[:1], "returned list of length 1"),
    (lambda g: [g[0], g[1].ravel()], r"for w\[1\] \(b\) of shape \(4, 1\), ndarray of shape"),
])
def test_a_gradient_of_the_wrong_shape_is_named_before_any_change(returns, message, toy):
    w, x, labels = toy(N=40, winit=0.1)
    before = [wi.copy() for wi in w]
    gradient = lambda w, x, y: returns(kl.analytic_gradient(w, x, y))    # noqa: E731
    with pytest.raises(ValueError, match=message):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4), 10), lr=0.1, gradient=gradient)
    assert unchanged(w, before)


def test_relu_keeps_nan_and_every_measurement_sees_it(toy):
    assert np.isnan(kl.relu(np.array([np.nan]))[0])
    w, x, labels = toy(N=40, winit=0.1, hidden=(5,), dtype=np.float64)
    w[0][2, 3] = np.nan
    y = kl.onehot(labels, 4, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        assert np.isnan(kl.loss(w, x, y))
        assert np.isnan(kl.evaluate(w, x, labels)[0])
        assert np.isnan(kl.train_gradient(w, x, y)[0]).any()
        assert np.isnan(kl.predict(w, x)).any()


def test_fit_from_nan_weights_names_the_weights(toy):
    w, x, labels = toy(N=40, winit=0.1)
    w[1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"w\[1\] \(b\) holds non-finite values .* before "
                                         r"training"):
        kl.fit(w, kl.minibatch(x, kl.onehot(labels, 4), 10), (x, labels), (x, labels),
               epochs=1, lr=0.1, report=None)


@pytest.mark.parametrize("entry", ["loss", "train_gradient", "analytic_gradient"])
def test_targets_that_are_not_distributions_are_refused_everywhere(entry, toy):
    w, x, labels = toy(N=40, winit=0.1)
    y = kl.onehot(labels, 4)
    function = {"loss": kl.loss, "train_gradient": kl.train_gradient,
                "analytic_gradient": kl.analytic_gradient}[entry]
    for bad, column in ((2 * y, 0), (np.where(np.arange(40) == 9, np.nan, y), 9)):
        with pytest.raises(ValueError, match=f"column {column} sums to"):
            function(w, x, bad.astype(np.float32))


def test_train_checks_every_batch_not_only_the_first(toy):
    w, x, labels = toy(N=40, winit=0.1)
    data = kl.minibatch(x, kl.onehot(labels, 4), 10)
    data[2] = (data[2][0], 2 * data[2][1])
    with pytest.raises(ValueError, match="sums to 2"):
        kl.train(w, data, lr=0.1)


def test_a_loss_that_blows_up_while_finite_is_diverged(toy):
    w, x, labels = toy(N=40, winit=0.1, hidden=(8,))
    data = kl.minibatch(x, kl.onehot(labels, 4), 10)
    history = []
    with pytest.raises(kl.Diverged, match="rose to .* over 10 times where the run began"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=5, lr=1e4, history=history,
               report=None)
    assert [e.epoch for e in history] == [0] and all(np.isfinite(wi).all() for wi in w)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_the_default_gradient_composes_as_the_plain_loss_does(depth, toy):
    """grad of a scaled loss, of a sum of two losses and of a loss plus a penalty, through the
    primitives' backward passes, equal the same written with the plain formulas here."""
    w, x, labels = toy(N=40, winit=0.1, hidden=(5, 3)[:depth], dtype=np.float64)
    y = kl.onehot(labels, 4, dtype=np.float64)
    x2, y2 = x[:, ::-1].copy(), y[:, ::-1].copy()

    def formula(w, x, y):               # mnist.jl's loss, written out with autograd.numpy
        for i in range(0, len(w) - 2, 2):
            z = w[i] @ x + w[i + 1]
            x = z * (z > 0)                 # relu, with Knet's derivative 0 at 0
        return kl.softloss(y, w[-2] @ x + w[-1])

    def penalty(w, l1, l2):
        return sum(l1 * anp.abs(W).sum() + l2 * (W * W).sum() for W in w[0::2])
    pairs = [
        (lambda w: 3.0 * kl.loss(w, x, y), lambda w: 3.0 * formula(w, x, y)),
        (lambda w: kl.loss(w, x, y) + kl.loss(w, x2, y2),
         lambda w: formula(w, x, y) + formula(w, x2, y2)),
        (lambda w: kl.loss(w, x, y) + kl.penalty(w, 0.1, 0.2),
         lambda w: formula(w, x, y) + penalty(w, 0.1, 0.2)),
        (lambda w: kl.loss(w, x, y, l1=0.1, l2=0.2),
         lambda w: formula(w, x, y) + penalty(w, 0.1, 0.2)),
        (lambda w: kl.loss(w, x, y) * kl.loss(w, x2, y2),
         lambda w: formula(w, x, y) * formula(w, x2, y2)),
    ]
    for ours, plain in pairs:
        for a, b in zip(kl.grad(ours)(w), kl.grad(plain)(w)):
            assert np.allclose(a, b, atol=1e-12)


def test_sgd_matches_an_oracle_written_in_plain_numpy(toy):
    """One epoch of kl.train against the lecture's SGD written here from the formulas."""
    w, x, labels = toy(N=40, winit=0.1, hidden=(5,), dtype=np.float64)
    y = kl.onehot(labels, 4, dtype=np.float64)
    W1, b1, W2, b2 = (wi.copy() for wi in w)
    for start in range(0, 40, 10):
        xb, yb = x[:, start:start + 10], y[:, start:start + 10]
        z = W1 @ xb + b1
        h = np.maximum(z, 0)
        s = W2 @ h + b2
        p = np.exp(s - s.max(axis=0)) / np.exp(s - s.max(axis=0)).sum(axis=0)
        ds = (p - yb) / 10
        dh = (W2.T @ ds) * (z > 0)
        W2, b2 = W2 - 0.5 * ds @ h.T, b2 - 0.5 * ds.sum(axis=1, keepdims=True)
        W1, b1 = W1 - 0.5 * dh @ xb.T, b1 - 0.5 * dh.sum(axis=1, keepdims=True)
    kl.train(w, kl.minibatch(x, y, 10), lr=0.5)
    for ours, oracle in zip(w, (W1, b1, W2, b2)):
        assert np.allclose(ours, oracle, atol=1e-12)


def test_fit_continues_a_fast_history(toy):
    w, x, labels = toy(N=40, winit=0.1)
    data = kl.minibatch(x, kl.onehot(labels, 4), 10)
    history = kl.fit(w, data, (x, labels), (x, labels), epochs=3, lr=0.5, fast=True,
                     report=None)
    kl.fit(w, data, (x, labels), (x, labels), epochs=4, lr=0.5, fast=True,
           history=history, report=None)
    assert [e.epoch for e in history] == [0, 3, 7]
    assert history[-1].train_nll == pytest.approx(kl.evaluate(w, x, labels)[0])
