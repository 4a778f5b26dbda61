"""The lecture's hand derivations, as code that the tests hold against autograd.

Each function is one step of the notes' "backward pass for the softmax function":

* the Jacobian of the softmax, ``dp_i/dy_j = [i=j] p_i - p_i p_j``;
* the chain rule summed over every path, ``dJ/dy_j = sum_i dJ/dp_i dp_i/dy_j``;
* the gradient of the NLL with respect to the scores, ``phat - p`` (predicted minus gold,
  the negative of the notes' log-likelihood gradient ``p - phat``), divided by N;
* the gradient of one layer ``W x + b``, ``[dW, db]``, by one more step of the chain rule,
  and the step back through a relu;
* the gradients of the companion notebook's penalties, ``l1 sign(W)`` and ``2 l2 W``.

These use plain numpy: they are the derivatives, not functions that autograd traces.
model.py declares them to autograd as the backward passes of the model's primitives, and
chains them by hand in ``analytic_gradient``.
"""
from __future__ import annotations

import numpy as np

from .checks import check_targets
from .softmax import probs


def softmax_jacobian(p: np.ndarray) -> np.ndarray:
    """The C x C Jacobian of the softmax at one probability vector ``p``.

    ``J[i, j] = dp_i/dy_j = [i=j] p_i - p_i p_j``, i.e. ``diag(p) - p p^T``, where the
    Iverson bracket ``[i=j]`` is 1 when i = j and 0 otherwise.
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
    n = check_targets(ygold, ypred)
    return (probs(ypred) - ygold) / n


def predict_backward(x: np.ndarray, dy: np.ndarray) -> list:
    """The backward pass through one layer ``y = W x + b``: ``[dW, db]`` from ``dJ/dy``.

    ``y_cn = sum_d W_cd x_dn + b_c``, so ``dJ/dW_cd = sum_n dJ/dy_cn x_dn``: ``dW = dy x^T``;
    b was broadcast over the N columns, so its gradient sums them: ``db = sum_n dy[:, n]``.
    (The gradient that flows on down to ``x`` is ``W^T dy``.)
    """
    return [dy @ x.T, dy.sum(axis=1, keepdims=True)]


def relu_backward(h: np.ndarray, dh: np.ndarray) -> np.ndarray:
    """The backward pass through ``h = relu(z)``: ``dJ/dz = dJ/dh * [h > 0]``.

    ``[h > 0]`` is ``[z > 0]``: the derivative is 1 where the unit is on and 0 where it is
    off, and 0 at exactly ``z = 0`` (Knet's convention; ``relu`` has no derivative there).
    """
    return dh * (h > 0)


def penalty_grad(W: np.ndarray, l1: float = 0, l2: float = 0) -> np.ndarray:
    """The gradient of ``l1 * sum |W| + l2 * sum W^2`` with respect to W: ``l1 sign(W) + 2 l2 W``.

    ``|W|`` has no derivative at 0; ``sign(0) = 0`` takes it as 0 there, Knet's convention.
    A penalty that is 0 costs nothing.
    """
    if not l1:
        return (2 * l2) * W
    return l1 * np.sign(W) + (2 * l2) * W if l2 else l1 * np.sign(W)
