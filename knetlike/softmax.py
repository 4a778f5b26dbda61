"""The lecture's model and loss: the linear softmax classifier, in Knet's layout, and
Knet's mnist.jl generalisation to any depth.

Every array has one column per instance: ``x`` is D x N, scores and targets are C x N,
and the parameters are a list ``w = [W, b]`` with W of shape C x D and b of shape C x 1.
These are plain functions over ``autograd.numpy``, so ``grad(softmax)`` is the gradient
that the lecture trains with.

In Julia (from the notes)::

    function softmax(w,x,ygold)
        ypred = w[1] * x .+ w[2]
        return softloss(ygold, ypred)
    function softloss(ygold, ypred)
        ynorm = ypred .- log(sum(exp(ypred),1))
        -sum(ygold .* ynorm) / size(ygold,2)

Knet's ``examples/mnist.jl`` makes the model a parameter: ``w = [W1, b1, ..., WL, bL]``,
``predict`` applies the layers in turn with a relu between them, and ``loss`` is the
softloss of ``predict``. With ``w = [W, b]`` that is the lecture's softmax classifier.
"""
from __future__ import annotations

import autograd.numpy as np
from autograd.tracer import getval

from .checks import check_model, check_targets


def relu(x):
    """The rectified linear unit, ``max(x, 0)`` elementwise.

    Written as ``where(x > 0, x, 0)`` so that autograd differentiates it to ``[x > 0]``:
    at exactly 0 the derivative is 0, Knet's convention (``np.maximum`` would give 1/2).
    """
    return np.where(x > 0, x, 0.0)


def predict(w: list, x, activation=relu):
    """The scores ``ypred`` (C x N) of the model ``w = [W1, b1, ..., WL, bL]`` on ``x`` (D x N).

    Knet's mnist.jl ``predict``: two arrays at a time, ``x = W x + b``, with a relu between
    layers and none after the last. For the lecture's ``w = [W, b]`` it is ``W x + b``.
    Each b is a column (H x 1) that broadcasts over the N columns, as ``.+`` does in Julia.
    ``activation=None`` stacks the layers with nothing between them (see ``boundaries``).
    """
    try:
        for i in range(0, len(w), 2):
            W, b = w[i], w[i + 1]
            if b.shape != (W.shape[0], 1):   # a b of shape (C,) would broadcast over columns
                raise ValueError
            x = W @ x + b
            if i + 2 < len(w) and activation is not None:
                x = activation(x)
        return x
    except (ValueError, AttributeError, IndexError, TypeError):  # name the wrong argument
        check_model(w, x)
        raise


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
    if isinstance(getval(w), (list, tuple)) and len(getval(w)) > 2:
        raise ValueError(f"softmax is the lecture's linear model w = [W, b], got {len(w)} "
                         f"arrays; for a model with hidden layers use loss(w, x, ygold)")
    ypred = predict(w, x)
    return softloss(ygold, ypred)


def loss(w: list, x, ygold):
    """mnist.jl's ``loss``: the mean NLL of ``predict(w, x)``, the model at any depth."""
    return softloss(ygold, predict(w, x))
