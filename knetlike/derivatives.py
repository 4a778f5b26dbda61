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
from autograd.extend import SparseObject, VSpace, defvjp, defvjp_argnums, primitive

from .checks import check_model, check_targets
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
# Declared so, ``softloss`` and each layer of ``predict`` are one node of the traced graph
# instead of several (log, exp, sum, the indexing of w, the broadcast of b, relu, ...),
# and the backward pass is the derivations above: ``softloss_grad`` never forms
# ``p / phat``. autograd still does the chaining, from the loss down through the layers.

softloss_primitive = primitive(softloss)
defvjp(softloss_primitive,
       lambda ans, ygold, ypred: lambda g: -g * logp(ypred) / np.shape(ygold)[1],
       lambda ans, ygold, ypred: lambda g: g * softloss_grad(ygold, ypred))


@primitive
def layer_primitive(w: list, i: int, x):
    """One layer of ``predict``: ``W x + b`` with ``W, b = w[i], w[i + 1]``, then ``relu``
    unless it is the last layer.

    It takes the whole ``w`` and the index, because ``w[i]`` or ``w[i:i + 2]`` on the
    traced list would each be one more node; relu is inside because its backward pass
    needs only the layer's output. Nothing in here is traced, so it may work in place.
    """
    y = w[i] @ x
    if np.shape(w[i + 1]) != (len(y), 1):   # a b of shape (H,) would broadcast over columns
        check_model(w)
    y += w[i + 1]
    return np.maximum(y, 0, out=y) if i + 2 < len(w) else y


def layer_vjp(argnums, ans, args, kwargs):
    """The VJP of ``layer_primitive`` for ``w`` and ``x`` at once: back through the relu
    (``relu_backward``), then ``predict_backward`` for ``[dW, db]`` and ``W^T dy`` for ``x``.
    One function for both arguments, so the relu's backward pass is done once."""
    w, i, x = args

    def vjp(dy):
        if i + 2 < len(w):
            dy = relu_backward(ans, dy)
        return [into_w(w, i, *predict_backward(x, dy)) if argnum == 0 else w[i].T @ dy
                for argnum in argnums]
    return vjp


defvjp_argnums(layer_primitive, layer_vjp)


def into_w(w: list, i: int, dW, db):
    """One layer's ``[dW, db]`` as a gradient for the whole list ``w``: zero but at ``i, i + 1``.

    autograd sums the layers' gradients for ``w`` into one list, starting from the zero of
    the gradient's space. Given a ``SparseObject``, it lets each layer put its two arrays
    into that list itself; with ``WGradient``'s zero, nothing of the size of ``w`` is
    allocated, zeroed or added to on the way.
    """
    def put(g):
        for k, d in ((i, dW), (i + 1, db)):
            g[k] = d if type(g[k]) is float else g[k] + d    # a float: still the zero
        return g
    return SparseObject(WGradient(len(w)), put)


class WGradient(VSpace):
    """The space of ``w``'s gradient, as autograd uses it to start the sum: its zero is a
    scalar 0.0 in place of each array (anything that adds an array to one gets the array)."""

    def __init__(self, n: int):
        self.n = n

    def zeros(self) -> list:
        return [0.0] * self.n

    def _mut_add(self, xs: list, ys: list) -> list:
        return [x + y for x, y in zip(xs, ys)]


def predict_primitive(w: list, x):
    """``predict`` built from the primitives: one node per layer."""
    for i in range(0, len(w), 2):
        x = layer_primitive(w, i, x)
    return x


def loss_primitive(w: list, x, ygold):
    """``loss`` built from the primitives: what ``train`` differentiates by default.

    ``grad(loss_primitive)`` equals ``grad(loss)`` (the tests hold it so) at a fraction of
    the tracing cost; for ``w = [W, b]`` both equal ``grad(softmax)``.
    """
    return softloss_primitive(ygold, predict_primitive(w, x))
