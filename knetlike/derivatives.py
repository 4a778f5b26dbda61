"""The lecture's hand derivations, as code that the tests hold against autograd.

Each function is one step of the notes' "backward pass for the softmax function":

* the Jacobian of the softmax, ``dp_i/dy_j = [i=j] p_i - p_i p_j``;
* the chain rule summed over every path, ``dJ/dy_j = sum_i dJ/dp_i dp_i/dy_j``;
* the gradient of the NLL with respect to the scores, ``phat - p`` (predicted minus gold,
  the negative of the notes' log-likelihood gradient ``p - phat``), divided by N;
* the gradient of the whole model, ``[dW, db]``, by one more step of the chain rule,
  and of a deeper model, layer by layer through its relus: backpropagation.

These use plain numpy: they are the derivatives, not functions that autograd traces.
"""
from __future__ import annotations

import numpy as np
from autograd.extend import defvjp, primitive

from .checks import check_targets
from .softmax import logp, predict, probs, relu, softloss


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
    n = check_targets(ygold, ypred)
    return (probs(ypred) - ygold) / n


def predict_backward(x: np.ndarray, dy: np.ndarray) -> list:
    """The backward pass through one layer ``y = W x + b``: ``[dW, db]`` from ``dJ/dy``.

    ``dW = dy x^T``; b was broadcast over the N columns, so its gradient sums them:
    ``db = sum_n dy[:, n]``. (The gradient that flows on down to ``x`` is ``W^T dy``.)
    """
    return [dy @ x.T, dy.sum(axis=1, keepdims=True)]


def relu_backward(h: np.ndarray, dh: np.ndarray) -> np.ndarray:
    """The backward pass through ``h = relu(z)``: ``dJ/dz = dJ/dh * [h > 0]``.

    ``[h > 0]`` is ``[z > 0]``: the derivative is 1 where the unit is on and 0 where it is
    off, and 0 at exactly ``z = 0`` (Knet's convention; ``relu`` has no derivative there).
    """
    return dh * (h > 0)


def analytic_gradient(w: list, x: np.ndarray, ygold: np.ndarray) -> list:
    """``[dW1, db1, ..., dWL, dbL]`` of ``loss(w, x, ygold)`` by hand: backpropagation.

    Forward, keeping each layer's input: ``h0 = x``, ``h_l = relu(W_l h_{l-1} + b_l)``,
    ``y = W_L h_{L-1} + b_L``. Backward from the notes' ``p - phat`` at the top,
    ``dy = softloss_grad(ygold, y)``; then for each layer from the last,
    ``[dW_l, db_l] = predict_backward(h_{l-1}, dy)``, and below it
    ``dy = relu_backward(h_{l-1}, W_l^T dy)``. For the lecture's ``[W, b]`` this is
    ``predict_backward(x, softloss_grad(ygold, W x + b))``.
    """
    h = [x]
    for i in range(0, len(w) - 2, 2):
        h.append(relu(predict(w[i:i + 2], h[-1])))
    dy = softloss_grad(ygold, predict(w[-2:], h[-1]))
    g: list[np.ndarray] = []
    for i in range(len(w) - 2, -1, -2):
        g[:0] = predict_backward(h[i // 2], dy)
        if i > 0:
            dy = relu_backward(h[i // 2], w[i].T @ dy)
    return g


# The notes' advice, put back into autograd: "In practice we usually skip [the gradient
# with respect to phat] and directly compute the gradient with respect to y." autograd
# lets a function be declared a primitive with its own vector-Jacobian product (VJP).
# Declared so, ``softloss``, one layer's ``W x + b`` and ``relu`` are each one node of the
# traced graph instead of several (log, exp, sum, the list indexing of w, the broadcast
# of b, ...), and the backward pass is the derivations above: ``softloss_grad`` never
# forms ``p / phat``. The functions are the same ones; only how autograd differentiates
# them changes.

softloss_primitive = primitive(softloss)
defvjp(softloss_primitive,
       lambda ans, ygold, ypred: lambda g: -g * logp(ypred) / np.shape(ygold)[1],
       lambda ans, ygold, ypred: lambda g: g * softloss_grad(ygold, ypred))

# ``predict`` of one layer ``w = [W, b]``: ``W x + b``.
linear_primitive = primitive(predict)
defvjp(linear_primitive,
       lambda ans, w, x: lambda dy: predict_backward(x, dy),
       lambda ans, w, x: lambda dy: w[0].T @ dy)

relu_primitive = primitive(relu)
defvjp(relu_primitive, lambda ans, x: lambda dh: relu_backward(ans, dh))


def predict_primitive(w: list, x):
    """``predict`` built from the primitives: one node per layer and one per relu."""
    if len(w) == 2:           # the lecture's model: one layer, w itself (no slice to trace)
        return linear_primitive(w, x)
    for i in range(0, len(w), 2):
        x = linear_primitive(w[i:i + 2], x)
        if i + 2 < len(w):
            x = relu_primitive(x)
    return x


def loss_primitive(w: list, x, ygold):
    """``loss`` built from the primitives: what ``train`` differentiates by default.

    ``grad(loss_primitive)`` equals ``grad(loss)`` (the tests hold it so) at a fraction of
    the tracing cost; for ``w = [W, b]`` both equal ``grad(softmax)``.
    """
    return softloss_primitive(ygold, predict_primitive(w, x))
