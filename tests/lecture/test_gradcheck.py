"""gradcheck: it must find a wrong gradient, say where, pass a right one, never report a
pass it did not earn (NaNs, no entries), and warn where float32 makes it meaningless."""
import warnings

import autograd.numpy as anp
import numpy as np
import pytest

import knetlike as kl
from knetlike.gradcheck import relerr


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
    assert check.gradient - check.numeric == pytest.approx(0.5, rel=1e-5)


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


def test_any_number_of_parameter_arrays_is_checked():
    # A deeper model's w = [W1, b1, W2, b2, W3, b3]: the error is in the last array.
    rng = np.random.default_rng(3)
    w = [rng.standard_normal(s) for s in [(4, 3), (4, 1), (2, 4), (2, 1), (3, 2), (3, 1)]]

    def f(w):
        return sum(anp.sum(wi ** 2) for wi in w)

    def wrong_in_b3(w):
        g = [2 * wi for wi in w]
        g[5][2, 0] += 1.0
        return g
    assert kl.gradcheck(f, w).max_relerr < 1e-8
    check = kl.gradcheck(f, w, gradient=wrong_in_b3)
    assert (check.param, check.index) == (5, (2, 0))


def test_a_gradient_of_nans_fails():
    w = [np.ones((3, 4)), np.ones((2, 1))]

    def nans(w, a):
        return [np.full_like(wi, np.nan) for wi in w]
    check = kl.gradcheck(quadratic, w, 1.0, gradient=nans)
    assert check.max_relerr == np.inf
    assert (check.param, check.index) == (0, (0, 0)) and np.isnan(check.gradient)


@pytest.mark.parametrize("nan_at", [(0, (0, 0)), (1, (1, 0))], ids=["before", "after"])
def test_one_nan_entry_wins_over_a_finite_error(nan_at):
    # The finite error is at w[0][1, 2]: the NaN is found before it, or after it.
    rng = np.random.default_rng(4)
    w = [rng.standard_normal((3, 4)), rng.standard_normal((2, 1))]
    a = rng.random((3, 4))

    def one_nan(w, a):
        g = [2 * a * w[0], np.ones_like(w[1])]
        g[0][1, 2] += 0.5
        g[nan_at[0]][nan_at[1]] = np.nan
        return g
    check = kl.gradcheck(quadratic, w, a, gradient=one_nan)
    assert check.max_relerr == np.inf
    assert (check.param, check.index) == nan_at


def test_a_nan_finite_difference_fails():
    # f is NaN as soon as w[0][1, 1] moves away from 1: the finite difference there is NaN.
    def f(w):
        return np.sum(w[0] ** 2) + (0.0 if w[0][1, 1] == 1.0 else np.nan)
    check = kl.gradcheck(f, [np.ones((2, 3))], gradient=lambda w: [2 * w[0]])
    assert check.max_relerr == np.inf
    assert (check.param, check.index) == (0, (1, 1)) and np.isnan(check.numeric)


def test_relerr_of_a_nan_is_the_worst_error():
    assert relerr(np.nan, 1.0) == relerr(1.0, np.nan) == relerr(np.inf, np.inf) == np.inf
    assert relerr(1.0, 1.0) == 0.0 and relerr(2.0, 1.0) == 0.5


@pytest.mark.parametrize("nsample", [0, -1, True, 2.5, "3"])
def test_nsample_must_be_a_whole_number_from_one(nsample):
    with pytest.raises(ValueError, match=r"nsample \(entries checked per array, or None for "
                                         r"all\) must be a whole number >= 1"):
        kl.gradcheck(quadratic, [np.ones((3, 4)), np.ones((2, 1))], 1.0, nsample=nsample)


def test_nsample_may_be_a_numpy_integer():
    w = [np.ones((3, 4)), np.ones((2, 1))]
    assert kl.gradcheck(quadratic, w, 1.0, nsample=np.int64(2)).max_relerr < 1e-8


def test_a_check_of_no_entry_is_an_error():
    def f(w):
        return anp.sum(w[0]) + anp.sum(w[1])
    with pytest.raises(ValueError, match=r"nothing to check.*\(0, 3\).*at least one entry"):
        kl.gradcheck(f, [np.zeros((0, 3)), np.zeros((0, 1))])


@pytest.mark.parametrize("eps", [0, -1e-6, np.nan, np.inf, True, "1e-6"])
def test_eps_must_be_a_finite_positive_number(eps):
    with pytest.raises(ValueError, match=r"eps .* must be a finite number > 0"):
        kl.gradcheck(quadratic, [np.ones((3, 4)), np.ones((2, 1))], 1.0, eps=eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_parameters_warn_and_name_the_fix(dtype):
    w = [np.ones((3, 4), dtype), np.ones((2, 1))]
    with pytest.warns(UserWarning, match=rf"w\[0\] is {np.dtype(dtype).name}.*"
                                         r"\[wi\.astype\(np\.float64\) for wi in w\]"):
        kl.gradcheck(quadratic, w, 1.0)


def test_low_precision_arguments_warn_too():
    with pytest.warns(UserWarning, match=r"args\[0\] is float32"):
        kl.gradcheck(quadratic, [np.ones((3, 4)), np.ones((2, 1))], np.ones((3, 4), np.float32))


def test_float64_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl.gradcheck(quadratic, [np.ones((3, 4)), np.ones((2, 1))], np.ones((3, 4)), nsample=2)
