"""gradcheck: it must find a wrong gradient, say where, and pass a right one."""
import autograd.numpy as anp
import numpy as np
import pytest

import knetlike as kl


def quadratic(w, a):
    """f(w) = sum(a * w[0]**2) + sum(w[1]): gradient [2 a w[0], ones]."""
    return anp.sum(a * w[0] ** 2) + anp.sum(w[1])


def test_a_correct_gradient_passes():
    rng = np.random.default_rng(1)
    w = [rng.standard_normal((3, 4)), rng.standard_normal((2, 1))]
    check = kl.gradcheck(quadratic, w, rng.random((3, 4)))
    assert check.max_relerr < 1e-8
    assert float(check) == check.max_relerr


def test_a_wrong_gradient_is_caught_and_located():
    rng = np.random.default_rng(2)
    w = [rng.standard_normal((3, 4)), rng.standard_normal((2, 1))]
    a = rng.random((3, 4))

    def off_by_one_entry(w, a):
        g = [2 * a * w[0], np.ones_like(w[1])]
        g[0][1, 2] += 0.5
        return g
    check = kl.gradcheck(quadratic, w, a, gradient=off_by_one_entry)
    assert check.max_relerr > 0.01
    assert (check.param, check.index) == (0, (1, 2))
    assert check.autograd - check.numeric == pytest.approx(0.5, rel=1e-5)


def test_sampling_checks_the_requested_number_of_entries():
    calls = []

    def counting(w):
        calls.append(1)
        return anp.sum(w[0] ** 2)
    kl.gradcheck(counting, [np.ones((10, 10))], nsample=7)
    assert len(calls) == 1 + 2 * 7            # one for the grad trace, two per entry


def test_gradcheck_wants_a_list_of_parameters():
    with pytest.raises(ValueError, match="w must be a non-empty list"):
        kl.gradcheck(quadratic, np.ones((2, 2)), 1.0)
