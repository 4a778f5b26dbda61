"""kl.weights' two initialisations, against the formulas written here: mnist.jl's Gaussian
``winit * randn(out, in)`` and Knet's ``xavier`` (tutorial 40.mlp), uniform in [-s, s] with
``s = sqrt(2 / (in + out))``."""
import math

import numpy as np
import pytest

import knetlike as kl


def test_the_gaussian_init_is_winit_times_randn_draw_for_draw():
    """The default: the same draws, layer by layer, as ``winit * randn`` from the seed."""
    w = kl.weights(100, winit=0.001, rng=np.random.default_rng(7))
    draws = np.random.default_rng(7)
    expected = [0.001 * draws.standard_normal((100, 784)), 0.001 * draws.standard_normal((10, 100))]
    assert np.array_equal(w[0], expected[0].astype(np.float32))
    assert np.array_equal(w[2], expected[1].astype(np.float32))
    assert np.array_equal(w[0], kl.weights(100, winit=0.001, init="gaussian", rng=7)[0])
    assert np.std(kl.weights(rng=0)[0]) == pytest.approx(0.1, rel=0.02)     # winit 0.1 unsaid


@pytest.mark.parametrize("n_in, n_out", [(784, 64), (64, 10), (784, 256)])
def test_the_xavier_init_is_uniform_within_sqrt_2_over_fan_in_plus_fan_out(n_in, n_out):
    """Knet's xavier: W = 2s * rand(out, in) - s, s = sqrt(2 / (fanin + fanout)); b = 0.
    A uniform on [-s, s] has mean 0, standard deviation s / sqrt(3) and mean |W| of s / 2;
    each is allowed five standard errors of its estimate from n draws."""
    W, b = kl.weights(classes=n_out, inputs=n_in, init="xavier", dtype=np.float64, rng=3)
    s, n = math.sqrt(2 / (n_in + n_out)), n_in * n_out
    assert W.shape == (n_out, n_in) and not b.any()
    assert np.abs(W).max() <= s
    assert np.abs(W).max() > (1 - 20 / n) * s           # the bounds are reached, not narrower
    assert abs(np.mean(W)) < 5 * (s / math.sqrt(3)) / math.sqrt(n)
    # var(W^2) / var(W)^2 = 9/5 - 1 for a uniform: the std's relative error is sqrt(0.8 / n) / 2
    assert np.std(W) == pytest.approx(s / math.sqrt(3), rel=5 * math.sqrt(0.8 / n) / 2)
    # |W| is uniform on [0, s]: standard deviation s / sqrt(12)
    assert np.mean(np.abs(W)) == pytest.approx(s / 2, abs=5 * s / math.sqrt(12 * n))


def test_each_xavier_layer_has_its_own_scale():
    w = kl.weights(64, init="xavier", rng=0)                       # 784 -> 64 -> 10
    assert np.abs(w[0]).max() <= math.sqrt(2 / (784 + 64)) < np.abs(w[2]).max()
    assert np.abs(w[2]).max() <= math.sqrt(2 / (64 + 10))
    assert all(wi.dtype == np.float32 for wi in w)


@pytest.mark.parametrize("kwargs, message", [
    (dict(init="he"), r"init must be one of 'gaussian', 'xavier', got 'he'"),
    (dict(init="xavier", winit=0.1), r"winit=0.1 given with init='xavier'.*leave winit out"),
    (dict(winit=-1.0), r"winit \(the standard deviation of W\) must be a finite number >= 0"),
])
def test_a_bad_init_is_refused_naming_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kl.weights(64, **kwargs)
