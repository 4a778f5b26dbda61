"""The lecture's hand derivations, as code that the tests hold against autograd.

Each function is one step of the notes' "backward pass for the softmax function":

* the Jacobian of the softmax, ``dp_i/dy_j = [i=j] p_i - p_i p_j``;
* the chain rule summed over every path, ``dJ/dy_j = sum_i dJ/dp_i dp_i/dy_j``;
* the gradient of the NLL with respect to the scores, ``phat - p`` (predicted minus gold,
  the negative of the notes' log-likelihood gradient ``p - phat``), divided by N;
* the gradient of the whole model, ``[dW, db]``, by one more step of the chain rule.

These use plain numpy: they are the derivatives, not functions that autograd traces.
"""
from __future__ import annotations

import numpy as np
from autograd.extend import defvjp, primitive

from .checks import check_model
from .softmax import predict, probs


def softmax_jacobian(p: np.ndarray) -> np.ndarray:
    """The C x C Jacobian of the softmax at one probability vector ``p``.

    ``J[i, j] = dp_i/dy_j = [i=j] p_i - p_i p_j``, i.e. ``diag(p) - p p^T``.
    """
    p = np.asarray(p)
    if p.ndim != 1:
        raise ValueError(f"softmax_jacobian: p must be one probability vector (shape (C,)), "
                         f"got shape {p.shape}; pass one column, e.g. p[:, n]")
    return np.diag(p) - np.outer(p, p)


def softmax_backward(p: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """The backward pass through softmax: ``dJ/dy`` from ``dJ/dp``, column by column.

    A score ``y_j`` reaches J through every ``p_i`` (it is in each denominator), so the
    paths add up: ``dJ/dy_j = sum_i dJ/dp_i (dp_i/dy_j) = p_j (dJ/dp_j - sum_i dJ/dp_i p_i)``.
    The second form is the Jacobian-transpose product without building the C x C matrix.
    """
    p, dp = np.asarray(p), np.asarray(dp)
    if p.shape != dp.shape:
        raise ValueError(f"softmax_backward: p has shape {p.shape} but dp has shape "
                         f"{dp.shape}; they must match (C x N, one column per instance)")
    return p * (dp - np.sum(dp * p, axis=0, keepdims=True))


def softloss_grad(ygold: np.ndarray, ypred: np.ndarray) -> np.ndarray:
    """The gradient of ``softloss(ygold, ypred)`` with respect to the scores ``ypred``.

    ``(phat - p) / N`` with ``phat = probs(ypred)`` and ``p = ygold``: the notes' ``p - phat``
    for the log likelihood, negated for the NLL and divided by N for the mean. It never
    forms ``p / phat``, so it stays finite where ``phat`` underflows. Valid for any
    target columns that sum to 1 (one-hot or probabilistic).
    """
    return (probs(ypred) - ygold) / ygold.shape[1]


def analytic_gradient(w: list, x: np.ndarray, ygold: np.ndarray) -> list:
    """``[dW, db]`` of ``softmax(w, x, ygold)`` by hand, no tracing.

    With ``dy = softloss_grad(ygold, W x + b)`` (C x N): ``dW = dy x^T`` and
    ``db = sum_n dy[:, n]`` (b was broadcast over the N columns, so its gradient sums them).
    """
    check_model(w, x, ygold)
    dy = softloss_grad(ygold, predict(w, x))
    return [dy @ x.T, np.sum(dy, axis=1, keepdims=True)]


# The notes' advice, put back into autograd: "In practice we usually skip [the gradient
# with respect to phat] and directly compute the gradient with respect to y." Declaring
# the loss one primitive whose vector-Jacobian product is ``softloss_grad`` does exactly
# that: autograd no longer traces log, exp, sum and the rest one by one, and the backward
# pass never forms ``p / phat``. This is the loss the training loop differentiates.

@primitive
def softloss_fused(ygold, ypred):
    """``softloss`` as one autograd primitive: same value, gradient ``softloss_grad``."""
    if ygold.shape != ypred.shape:
        raise ValueError(f"ygold has shape {ygold.shape} but ypred has shape {ypred.shape}; "
                         f"both must be C x N (classes x instances)")
    ynorm = ypred - np.max(ypred, axis=0, keepdims=True)
    lse = np.log(np.sum(np.exp(ynorm), axis=0, keepdims=True))
    return -np.sum(ygold * (ynorm - lse)) / ygold.shape[1]


defvjp(softloss_fused, None, lambda ans, ygold, ypred: lambda g: g * softloss_grad(ygold, ypred))


def softmax_fused(w: list, x, ygold):
    """The notes' ``softmax`` model with ``softloss_fused``: what ``train`` differentiates."""
    return softloss_fused(ygold, predict(w, x))
