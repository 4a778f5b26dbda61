"""The lecture's hand derivations, as code that the tests hold against autograd.

Each function is one step of the notes' "backward pass for the softmax function":

* the Jacobian of the softmax, ``dp_i/dy_j = [i=j] p_i - p_i p_j``;
* the chain rule summed over every path, ``dJ/dy_j = sum_i dJ/dp_i dp_i/dy_j``;
* the gradient of the NLL with respect to the scores, ``phat - p`` (predicted minus gold,
  the negative of the notes' log-likelihood gradient ``p - phat``), divided by N;
* the gradient of the whole model, ``[dW, db]``, by one more step of the chain rule,
  and of a deeper model, layer by layer through its relus: backpropagation;
* the gradients of the companion notebook's penalties, ``l1 sign(W)`` and ``2 l2 W``.

These use plain numpy: they are the derivatives, not functions that autograd traces. The
second half of the file declares them to autograd as the backward passes of primitives.
"""
from __future__ import annotations

import threading

import numpy as np
from autograd.extend import defvjp, defvjp_argnums, primitive

from .checks import check_batch, check_number, check_targets
from .softmax import dropout, logp, penalty, probs, relu


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


def layer(w: list, i: int, x):
    """One layer of ``predict``: ``W x + b`` with ``W, b = w[i], w[i + 1]``, then ``relu``
    unless it is the last layer. Plain numpy, computed in place (``y`` is new)."""
    y = w[i] @ x
    y += w[i + 1]
    return np.maximum(y, 0, out=y) if i + 2 < len(w) else y


def analytic_gradient(w: list, x: np.ndarray, ygold: np.ndarray, l1: float = 0,
                      l2: float = 0) -> list:
    """``[dW1, db1, ..., dWL, dbL]`` of ``loss(w, x, ygold, l1, l2)`` by hand: backpropagation.

    Forward, keeping each layer's input: ``h0 = x``, ``h_l = relu(W_l h_{l-1} + b_l)``,
    ``y = W_L h_{L-1} + b_L``. Backward from the notes' ``p - phat`` at the top,
    ``dy = softloss_grad(ygold, y)``; then for each layer from the last,
    ``[dW_l, db_l] = predict_backward(h_{l-1}, dy)``, and below it
    ``dy = relu_backward(h_{l-1}, W_l^T dy)``. For the lecture's ``[W, b]`` this is
    ``predict_backward(x, softloss_grad(ygold, W x + b))``. The penalties add
    ``penalty_grad(W_l, l1, l2)`` to each ``dW_l``.
    """
    check_batch(w, x, ygold)
    l1, l2 = check_number(l1, "l1"), check_number(l2, "l2")
    h = [x]
    for i in range(0, len(w) - 2, 2):
        h.append(layer(w, i, h[-1]))
    dy = softloss_grad(ygold, layer(w, len(w) - 2, h[-1]))
    g: list[np.ndarray] = []
    for i in range(len(w) - 2, -1, -2):
        g[:0] = predict_backward(h[i // 2], dy)
        if l1 or l2:
            g[0] += penalty_grad(w[i], l1, l2)
        if i > 0:
            dy = relu_backward(h[i // 2], w[i].T @ dy)
    return g


# The notes' advice, put back into autograd: "In practice we usually skip [the gradient
# with respect to phat] and directly compute the gradient with respect to y." autograd
# lets a function be declared a primitive with its own vector-Jacobian product (VJP).
# Declared so, ``softloss``, each layer of ``predict`` and the penalty are one node each
# of the traced graph instead of several (log, exp, sum, the indexing of w, the broadcast
# of b, relu, ...), and the backward passes are the derivations above. autograd still
# does the chaining: from the loss down through the layers, and the sum of the penalty's
# gradient and the layers'. Each VJP returns, for w, a plain list with a float 0.0 in the
# places it does not touch; autograd adds those lists up.

defvjp(relu, lambda ans, x: lambda g: relu_backward(ans, g))


def softloss_value_and_grad(ygold: np.ndarray, ypred: np.ndarray) -> tuple:
    """``softloss(ygold, ypred)`` and ``softloss_grad(ygold, ypred)`` from one softmax:
    ``ynorm = y - max``, ``e = exp(ynorm)``, ``J = -sum(ygold (ynorm - log sum e)) / N`` and
    ``dJ/dy = (e / sum e - ygold) / N``."""
    n = check_targets(ygold, ypred)
    ynorm = ypred - ypred.max(axis=0)
    e = np.exp(ynorm)
    total = e.sum(axis=0)
    value = -np.sum(ygold * (ynorm - np.log(total))) / n
    e /= total
    e -= ygold
    e /= n
    return value, e


# What the forward pass of ``softloss_primitive`` leaves for the VJP that autograd makes
# right after it, in the same thread: the gradient, so that the softmax is computed once
# per step (measured: 8 us of a 100 us softmax step).
_forward = threading.local()


@primitive
def softloss_primitive(ygold, ypred):
    """``softloss`` as one node, computing its gradient in the same pass."""
    value, _forward.dscores = softloss_value_and_grad(ygold, ypred)
    return value


def softloss_vjp(argnums, ans, args, kwargs):
    """The VJP of ``softloss_primitive``: ``g (phat - p) / N`` for the scores (the forward
    pass's); ``-g logp(ypred) / N`` for the targets, should anyone differentiate those."""
    ygold, ypred = args
    dscores = _forward.__dict__.pop("dscores", None)
    if dscores is None:            # not straight after its forward pass: compute it
        dscores = softloss_grad(ygold, ypred)
    by_arg = {0: lambda g: -g * logp(ypred) / np.shape(ygold)[1],
              1: lambda g: dscores if g == 1 else g * dscores}
    return lambda g: [by_arg[argnum](g) for argnum in argnums]


defvjp_argnums(softloss_primitive, softloss_vjp)

layer_primitive = primitive(layer)


def layer_vjp(argnums, ans, args, kwargs):
    """The VJP of ``layer_primitive`` for ``w`` and ``x`` at once: back through the relu
    (``relu_backward``), then ``predict_backward`` for ``[dW, db]`` and ``W^T dy`` for ``x``.
    One function for both arguments, so the relu's backward pass is done once."""
    w, i, x = args

    def vjp(dy):
        if i + 2 < len(w):
            dy = relu_backward(ans, dy)
        grads = []
        for argnum in argnums:            # 0: w, 2: x (i is an index, not differentiated)
            if argnum == 0:
                dW, db = predict_backward(x, dy)
                grads.append(in_w(w, {i: dW, i + 1: db}))
            else:
                grads.append(w[i].T @ dy)
        return grads
    return vjp


defvjp_argnums(layer_primitive, layer_vjp)


def in_w(w: list, arrays: dict) -> list:
    """A gradient for the whole list ``w``: ``arrays`` at their indices, 0.0 elsewhere."""
    return [arrays.get(k, 0.0) for k in range(len(w))]


penalty_primitive = primitive(penalty)
defvjp(penalty_primitive,
       lambda ans, w, l1=0, l2=0: lambda g: in_w(
           w, {k: g * penalty_grad(w[k], l1, l2) for k in range(0, len(w), 2)}))


def predict_primitive(w: list, x, p_input: float = 0.0, p_hidden: float = 0.0, rng=None):
    """``predict`` built from the primitives: one node per layer (and one per dropout mask,
    a product whose VJP is autograd's own). The masks are drawn in ``forward``'s order."""
    x = dropout(x, p_input, rng)
    for i in range(0, len(w), 2):
        x = layer_primitive(w, i, x)
        if i + 2 < len(w):
            x = dropout(x, p_hidden, rng)
    return x


def loss_primitive(w: list, x, ygold, l1: float = 0.0, l2: float = 0.0, p_input: float = 0.0,
                   p_hidden: float = 0.0, rng=None):
    """``loss`` built from the primitives: what ``train`` differentiates by default.

    ``grad(loss_primitive)`` equals ``grad(loss)`` (the tests hold it so) at a fraction of
    the tracing cost; for ``w = [W, b]`` both equal ``grad(softmax)``.
    """
    J = softloss_primitive(ygold, predict_primitive(w, x, p_input, p_hidden, rng))
    return J + penalty_primitive(w, l1, l2) if l1 or l2 else J
