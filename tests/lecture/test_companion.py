"""The companion notebook's model: L1/L2 penalties of the W's and dropout, in loss, predict,
the hand gradient and the default training gradient."""
import numpy as np
import pytest

import knetlike as kl


def model(toy, depth):
    """A model with ``depth`` hidden layers (b's away from 0: a penalty on them would show),
    a batch of 7 and its one-hot targets, in float64."""
    w, x, labels = toy(hidden=(5, 4)[:depth], C=3, N=7, dtype=np.float64, winit=0.5, bias=1.0)
    return w, x, kl.onehot(labels, 3, dtype=np.float64)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_the_penalties_are_those_of_the_ws_only(depth, toy):
    w, x, y = model(toy, depth)
    plain = kl.loss(w, x, y)
    Ws = w[0::2]
    expected = (plain + 0.3 * sum(np.abs(W).sum() for W in Ws)
                + 0.2 * sum((W ** 2).sum() for W in Ws))
    assert kl.loss(w, x, y, l1=0.3, l2=0.2) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("gradient", ["default", "analytic"])
def test_the_penalised_gradients_are_the_formula_plus_l1_sign_w_plus_2_l2_w(depth, gradient, toy):
    w, x, y = model(toy, depth)
    w[0][0, 0] = 0.0                                # sign(0) = 0: Knet's convention
    plain = kl.analytic_gradient(w, x, y)
    g = (kl.train_gradient if gradient == "default" else kl.analytic_gradient)(
        w, x, y, l1=0.3, l2=0.2)
    for k, (gk, pk, wk) in enumerate(zip(g, plain, w)):
        extra = 0.3 * np.sign(wk) + 0.4 * wk if k % 2 == 0 else 0
        assert np.allclose(gk, pk + extra, atol=1e-12), k
    assert g[0][0, 0] == pytest.approx(plain[0][0, 0])
    check = kl.gradcheck(lambda w, x, y: kl.loss(w, x, y, l1=0.3, l2=0.2), w, x, y,
                         gradient=lambda w, x, y: g)
    assert check.max_relerr < 1e-5, check


def test_dropout_zeroes_with_probability_p_and_keeps_the_mean(rng):
    x = np.ones((400, 500))
    out = kl.dropout(x, 0.2, rng)
    assert set(np.unique(out)) == {0.0, 1.25}
    assert np.mean(out == 0) == pytest.approx(0.2, abs=0.005)    # 200000 draws: sd 0.0009
    assert np.mean(out) == pytest.approx(1.0, abs=0.01)
    assert kl.dropout(x, 0) is x
    assert np.array_equal(kl.dropout(x, 0.5, 7), kl.dropout(x, 0.5, 7))   # a seed repeats
    for p in (-0.1, 1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="dropout probability p"):
            kl.dropout(x, p, rng)


def test_predict_drops_the_input_and_the_hidden_layers_as_the_notebook(rng, toy):
    w, x, _ = model(toy, 1)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    ours = kl.predict(w, x, pdrop=(0.3, 0.5), rng=rng_a)
    h = kl.dropout(x, 0.3, rng_b)                   # the notebook's mlp, written out
    h = kl.dropout(np.maximum(w[0] @ h + w[1], 0), 0.5, rng_b)
    assert np.allclose(ours, w[2] @ h + w[3])
    assert np.array_equal(kl.predict(w, x, pdrop=0), kl.predict(w, x))
    with pytest.raises(ValueError, match="pdrop must be a number or a pair"):
        kl.predict(w, x, pdrop=(0.1, 0.2, 0.3))


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_the_dropout_gradient_is_autograds_with_the_same_masks(depth, rng, toy):
    w, x, y = model(toy, depth)
    options = dict(l1=0.01, l2=0.02, pdrop=(0.25, 0.4))
    ours = kl.train_gradient(w, x, y, rng=5, **options)
    theirs = kl.grad(kl.loss)(w, x, y, rng=5, **options)
    for a, b in zip(ours, theirs):
        assert np.allclose(a, b, atol=1e-12)
    # and against central differences, the masks held fixed by one seed per evaluation
    check = kl.gradcheck(lambda w, x, y: kl.loss(w, x, y, rng=5, **options), w, x, y,
                         gradient=lambda w, x, y: kl.train_gradient(w, x, y, rng=5, **options))
    assert check.max_relerr < 1e-5, check


def test_training_with_options_is_reproducible_and_fit_measures_the_plain_loss(rng, toy):
    w0, x, y = model(toy, 1)
    labels = np.argmax(y, axis=0)
    data = kl.minibatch(x, y, 7)
    runs = []
    for _ in range(2):
        w = [wi.copy() for wi in w0]
        history = kl.fit(w, data, (x, labels), (x, labels), epochs=3, lr=0.1, report=None,
                         l2=0.01, pdrop=(0.2, 0.3), rng=11)
        runs.append((w, history))
    (w, history), (w2, _) = runs
    assert all(np.array_equal(a, b) for a, b in zip(w, w2))
    assert (history[-1].train_nll, history[-1].train_error) == pytest.approx(
        kl.evaluate(w, x, labels))                  # no penalty, no dropout in what is measured
    assert history[-1].train_nll == pytest.approx(kl.loss(w, x, y))


def test_every_rng_takes_a_seed_or_names_rng(rng, toy):
    w, x, y = model(toy, 1)
    assert np.array_equal(kl.weights(3, rng=4)[0], kl.weights(3, rng=np.random.default_rng(4))[0])
    for call in (lambda r: kl.weights(3, rng=r), lambda r: kl.dropout(x, 0.5, r),
                 lambda r: kl.predict(w, x, pdrop=0.5, rng=r),
                 lambda r: kl.minibatch(x, y, 2, shuffle=True, rng=r),
                 lambda r: kl.gradcheck(kl.loss, w, x, y, nsample=2, rng=r)):
        call(3)
        with pytest.raises(ValueError, match="rng must be None, a seed"):
            call("seed")
