"""The lecture's formulas: the softmax function, its log, the loss, and the softmax model.

Every array has one column per instance: ``x`` is D x N, scores and targets are C x N,
and the parameters are a list ``w = [W, b]`` with W of shape C x D and b of shape C x 1.
These are plain functions over ``autograd.numpy``: ``grad(softmax)`` differentiates them
operation by operation, which makes it the notes' gradient and the tests' oracle.

In Julia (from the notes)::

    function softmax(w,x,ygold)
        ypred = w[1] * x .+ w[2]
        return softloss(ygold, ypred)
    function softloss(ygold, ypred)
        ynorm = ypred .- log(sum(exp(ypred),1))
        -sum(ygold .* ynorm) / size(ygold,2)

Knet's mnist.jl makes the model a parameter, at any depth: that model, the one that
trains, is in model.py, built from these formulas.
"""
from __future__ import annotations

import autograd.numpy as np
from autograd.tracer import getval

from .checks import check_model, check_targets


def logp(y):
    """Log-softmax over classes (axis 0): ``log p_i = y_i - log sum_c exp(y_c)``.

    Computed as ``(y - m) - log sum_c exp(y_c - m)`` with ``m`` the column maximum, so no
    ``exp`` overflows (in the Julia one-liner ``exp(1000.0)`` is ``Inf`` and the loss NaN).
    The result does not depend on ``m``, so its derivative through ``m`` is zero: we take
    ``m`` as a constant (``getval``) and do not trace it.
    """
    ynorm = y - getval(y).max(axis=0, keepdims=True)
    return ynorm - np.log(np.exp(ynorm).sum(axis=0, keepdims=True))


def probs(y):
    """The softmax function over classes (axis 0): ``p_i = exp(y_i) / sum_c exp(y_c)``.

    Each column is shifted by its maximum first, which leaves ``p`` unchanged (the factor
    ``exp(-m)`` cancels) and keeps every ``exp`` at most 1.
    """
    e = np.exp(y - getval(y).max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softloss(ygold, ypred):
    """Mean negative log likelihood (cross-entropy) of scores ``ypred`` against ``ygold``.

    ``-(1/N) sum_n sum_c ygold[c,n] log phat[c,n]`` with ``phat = probs(ypred)``. The
    targets may be one-hot columns or any probability vectors. This is the notes'
    ``softloss``, written with the stable log-softmax.
    """
    n = check_targets(ygold, ypred)
    return -(ygold * logp(ypred)).sum() / n


def softmax(w: list, x, ygold):
    """The notes' ``softmax``: the mean NLL of the linear softmax model ``w = [W, b]``."""
    check_model(w, x, ygold, layers=1)      # not in the notes: a clear error for bad shapes
    ypred = w[0] @ x + w[1]
    return softloss(ygold, ypred)
