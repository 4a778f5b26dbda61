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
The lecture's companion notebook (``examples/softmax.ipynb``) adds to ``loss`` the L1 and
L2 penalties of the W's and to ``predict`` dropout.
"""
from __future__ import annotations

import autograd.numpy as np
from autograd.extend import primitive
from autograd.tracer import getval

from .checks import check_model, check_number, check_rng, check_targets


@primitive
def relu(x):
    """The rectified linear unit, ``max(x, 0)`` elementwise; a NaN stays NaN.

    Declared to autograd as a primitive whose derivative is ``[x > 0]`` (``relu_backward``
    in derivatives.py): 0 at exactly 0, Knet's convention, where autograd's own derivative
    of ``np.maximum`` would give 1/2.
    """
    return np.maximum(x, 0)


def dropout(x, p: float, rng=None):
    """The notebook's ``dropout``: each entry of ``x`` is zeroed with probability ``p`` and the
    kept ones are divided by ``1 - p``, so every entry keeps its expected value.

    ``p = 0`` returns ``x`` itself. ``rng`` (a Generator or a seed) draws the mask: a run is
    reproducible from its seed. Each entry's mask comes from 16 random bits (four entries per
    64-bit draw, 2-3x faster than drawing floats), so ``p`` is used to within 2^-17.
    """
    if p == 0:
        return x
    keep = random_bits(np.shape(x), check_rng(rng)) >= round(check_dropout(p) * 65536)
    return x * (keep / np.asarray(1 - p, dtype=getval(x).dtype))


def random_bits(shape: tuple, rng) -> np.ndarray:
    """Uniform 16-bit integers of this shape, laid out column-major like Knet's arrays."""
    n = int(np.prod(shape))
    raw = rng.bit_generator.random_raw(-(-n // 4)).view(np.uint16)[:n]
    return raw.reshape(shape, order="F")


def check_dropout(p) -> float:
    """A dropout probability in ``[0, 1)`` (1 would drop everything and divide by 0)."""
    if check_number(p, "the dropout probability p") >= 1:
        raise ValueError(f"the dropout probability p must be below 1 (1 drops every entry), "
                         f"got {p!r}")
    return float(p)


def dropout_rates(pdrop) -> tuple[float, float]:
    """``(p_input, p_hidden)`` from the notebook's ``pdrop``: one number for both, or a pair."""
    rates = tuple(pdrop) if isinstance(pdrop, (tuple, list)) else (pdrop, pdrop)
    if len(rates) != 2:
        raise ValueError(f"pdrop must be a number or a pair (p_input, p_hidden), got {pdrop!r}")
    return check_dropout(rates[0]), check_dropout(rates[1])


def predict(w: list, x, pdrop=0, rng=None):
    """The scores ``ypred`` (C x N) of the model ``w = [W1, b1, ..., WL, bL]`` on ``x`` (D x N).

    Knet's mnist.jl ``predict``: two arrays at a time, ``x = W x + b``, with a relu between
    layers and none after the last; for the lecture's ``w = [W, b]`` it is ``W x + b``. Each
    b is a column (H x 1) that broadcasts over the N columns, as ``.+`` does in Julia.
    ``pdrop = (p_input, p_hidden)`` applies the notebook's dropout to the input and after
    each hidden relu (training only; a number is used for both).
    """
    check_model(w, x)
    return forward(w, x, *dropout_rates(pdrop), check_rng(rng) if pdrop else None)


def forward(w: list, x, p_input: float = 0.0, p_hidden: float = 0.0, rng=None):
    """``predict`` without its checks: the formula, as mnist.jl writes it."""
    x = dropout(x, p_input, rng)
    for i in range(0, len(w) - 2, 2):
        x = dropout(relu(w[i] @ x + w[i + 1]), p_hidden, rng)
    return w[-2] @ x + w[-1]


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
    check_model(w, x, ygold)
    ypred = forward(w, x)
    return softloss(ygold, ypred)


def loss(w: list, x, ygold, l1: float = 0, l2: float = 0, pdrop=0, rng=None):
    """mnist.jl's ``loss``: the mean NLL of ``predict(w, x)``, the model at any depth; with the
    companion notebook's penalties, ``+ l1 * sum |W| + l2 * sum W^2`` over every layer's W
    (never the b's), and its dropout ``pdrop`` (see ``predict``)."""
    check_model(w, x, ygold)
    ypred = forward(w, x, *dropout_rates(pdrop), check_rng(rng) if pdrop else None)
    return softloss(ygold, ypred) + penalty(w, l1, l2)


def penalty(w: list, l1: float = 0, l2: float = 0):
    """``l1 * sum_l sum |W_l| + l2 * sum_l sum W_l^2``: the W's of ``w[0::2]``, not the b's.

    L1 pulls every weight towards 0 by the same force, L2 in proportion to its size; both
    trade a little training loss for weights that fit the training set less closely.
    """
    l1, l2 = check_number(l1, "l1"), check_number(l2, "l2")
    total = 0.0
    for k in range(0, len(w), 2):
        W = w[k]
        if l1:
            total = total + l1 * np.abs(W).sum()
        if l2:
            total = total + l2 * (W * W).sum()
    return total
