"""The one model: Knet's mnist.jl ``predict`` and ``loss`` at any depth, with the companion
notebook's penalties and dropout. Everything that trains, measures or checks goes through
``predict`` and ``loss`` here.

In Julia (Knet's examples/mnist.jl)::

    function predict(w,x)
        for i=1:2:length(w)
            x = w[i]*x .+ w[i+1]
            if i<length(w)-1
                x = relu(x)
        return x
    loss(w,x,ygold) = softloss(ygold, predict(w,x))

``w = [W1, b1, ..., WL, bL]``; with ``w = [W, b]`` this is the lecture's softmax model.

They are built from primitives, each declared to autograd right beside its derivative, as
autograd's numpy_vjps.py puts a ``defvjp`` under each numpy function and Knet's
src/unary.jl puts ``@primitive logp(x),dy,y logpback(x,y,dy)`` beside ``logp``: a layer
``W x + b``, ``relu``, the notes' ``softloss`` and the penalty. autograd records one node
per primitive and chains their backward passes, which are the notes' derivations
(derivatives.py): ``grad(loss)`` is backpropagation, done by autograd with the notes' steps.
"""
from __future__ import annotations

import autograd.numpy as np
from autograd.extend import defvjp, primitive
from autograd.tracer import getval

from .checks import check_model, check_number, check_rng, checked_by
from .derivatives import penalty_grad, predict_backward, relu_backward, softloss_grad
from .softmax import logp, softloss


# --- the primitives, each beside its backward pass ---------------------------------------

@primitive
def layer(w: list, i: int, x):
    """One layer, ``W x + b`` with ``W, b = w[i], w[i + 1]`` (mnist.jl: ``w[i]*x .+ w[i+1]``).

    It takes the whole list ``w`` and an index, not ``w[i]`` and ``w[i + 1]``: indexing a
    list that autograd traces is a node of its own whose backward pass builds zeros for
    every array of ``w``.
    """
    y = w[i] @ x
    y += w[i + 1]            # b (out x 1) broadcasts over the N columns, as .+ does
    return y


defvjp(layer,
       lambda y, w, i, x: lambda dy: in_w(w, i, predict_backward(x, dy)),   # [dW, db]
       lambda y, w, i, x: lambda dy: w[i].T @ dy,                           # down to x
       argnums=(0, 2))


def in_w(w: list, i: int, grads: list) -> list:
    """The gradient for the whole list ``w``: ``grads`` at ``i, i + 1, ...``, 0.0 elsewhere
    (autograd adds up the lists of every layer)."""
    return [0.0] * i + grads + [0.0] * (len(w) - i - len(grads))


@primitive
def relu(x):
    """The rectified linear unit, ``max(x, 0)`` elementwise; a NaN stays NaN. Its derivative
    is ``[x > 0]``, 0 at exactly 0 (Knet's convention; autograd's own ``np.maximum`` would
    give 1/2 there)."""
    return np.maximum(x, 0)


defvjp(relu, lambda h, x: lambda dh: relu_backward(h, dh))


#: The notes' ``softloss`` as one node: its forward pass is ``softloss`` itself, its backward
#: pass the notes' ``p - phat`` (``softloss_grad``) instead of the nine operations it takes.
nll = primitive(softloss)
defvjp(nll,
       lambda J, ygold, ypred: lambda g: -g * logp(ypred) / np.shape(ygold)[1],
       lambda J, ygold, ypred: lambda g: g * softloss_grad(ygold, ypred))


# --- mnist.jl's model --------------------------------------------------------------------

def check_predict(w: list, x, pdrop=0, rng=None) -> None:
    """``predict``'s arguments: ``w`` a model that fits ``x``, and the dropout options."""
    check_model(w, x)
    check_options(pdrop=pdrop, rng=rng)


@checked_by(check_predict)
def predict(w: list, x, pdrop=0, rng=None):
    """The scores ``ypred`` (C x N) of the model ``w = [W1, b1, ..., WL, bL]`` on ``x`` (D x N).

    Knet's mnist.jl ``predict``: two arrays at a time, ``x = W x + b``, with a relu between
    layers and none after the last; for the lecture's ``w = [W, b]`` it is ``W x + b``.
    ``pdrop = (p_input, p_hidden)`` applies the companion notebook's dropout to the input and
    after each hidden relu (training only; one number is used for both); ``rng`` draws the
    masks (a seed or a Generator).
    """
    p_input, p_hidden = dropout_rates(pdrop)
    rng = check_rng(rng) if p_input or p_hidden else None     # a seed becomes a Generator
    x = dropout(x, p_input, rng)
    for i in range(0, len(w) - 2, 2):
        x = dropout(relu(layer(w, i, x)), p_hidden, rng)
    return layer(w, len(w) - 2, x)


def check_loss(w: list, x, ygold, l1: float = 0, l2: float = 0, pdrop=0, rng=None) -> None:
    """``loss``'s arguments: a batch that fits the model ``w``, and the options."""
    check_model(w, x, ygold)
    check_options(l1, l2, pdrop, rng)


@checked_by(check_loss)
def loss(w: list, x, ygold, l1: float = 0, l2: float = 0, pdrop=0, rng=None):
    """mnist.jl's ``loss``: the mean NLL of ``predict(w, x)``; with the companion notebook's
    penalties, ``+ l1 sum|W| + l2 sum W^2`` over every layer's W, and its dropout ``pdrop``.

    ``grad(loss)`` is the gradient that ``train`` takes by default.
    """
    J = nll(ygold, predict(w, x, pdrop, rng))
    return J + penalty(w, l1, l2) if l1 or l2 else J


def check_analytic(w: list, x, ygold, l1: float = 0, l2: float = 0) -> None:
    """``analytic_gradient``'s arguments: a batch that fits ``w``, and the penalties."""
    check_model(w, x, ygold)
    check_options(l1, l2)


@checked_by(check_analytic)
def analytic_gradient(w: list, x, ygold, l1: float = 0, l2: float = 0) -> list:
    """``[dW1, db1, ..., dWL, dbL]`` of ``loss(w, x, ygold, l1, l2)`` by hand: backpropagation.

    Forward, keeping each layer's input: ``h0 = x``, ``h_l = relu(W_l h_{l-1} + b_l)``,
    ``y = W_L h_{L-1} + b_L``. Backward from the notes' ``p - phat`` at the top,
    ``dy = softloss_grad(ygold, y)``; then for each layer from the last,
    ``[dW_l, db_l] = predict_backward(h_{l-1}, dy)``, and below it
    ``dy = relu_backward(h_{l-1}, W_l^T dy)``. For the lecture's ``[W, b]`` this is
    ``predict_backward(x, softloss_grad(ygold, W x + b))``. The penalties add
    ``penalty_grad(W_l, l1, l2)`` to each ``dW_l``. The same primitives as ``predict``,
    chained by hand instead of by autograd.
    """
    h = [x]
    for i in range(0, len(w) - 2, 2):
        h.append(relu(layer(w, i, h[-1])))
    dy = softloss_grad(ygold, layer(w, len(w) - 2, h[-1]))
    g: list = []
    for i in range(len(w) - 2, -1, -2):
        g[:0] = predict_backward(h[i // 2], dy)
        if l1 or l2:
            g[0] += penalty_grad(w[i], l1, l2)
        if i > 0:
            dy = relu_backward(h[i // 2], w[i].T @ dy)
    return g


# --- the companion notebook: penalties and dropout ----------------------------------------

def check_penalty(w: list, l1: float = 0, l2: float = 0) -> None:
    """``penalty``'s arguments: a model's ``w`` (a W and a b per layer), and the weights."""
    check_model(w)
    check_options(l1, l2)


@checked_by(check_penalty)
@primitive
def penalty(w: list, l1: float = 0, l2: float = 0):
    """``l1 sum_l sum |W_l| + l2 sum_l sum W_l^2``: the W's of ``w[0::2]``, never the b's.

    L1 pulls every weight towards 0 by the same force, L2 in proportion to its size; both
    trade a little training loss for weights that fit the training set less closely.
    """
    Ws = w[0::2]
    L1 = l1 * sum(np.abs(W).sum() for W in Ws) if l1 else 0.0    # a term that is 0 costs
    L2 = l2 * sum((W * W).sum() for W in Ws) if l2 else 0.0      # nothing
    return L1 + L2


defvjp(penalty.__wrapped__,                 # the primitive, under its check
       lambda P, w, l1=0, l2=0: lambda g: [                 # g * penalty_grad, in one pass:
           penalty_grad(w[k], g * l1, g * l2) if k % 2 == 0 else 0.0    # it is linear in l1, l2
           for k in range(len(w))])


def check_dropout_arguments(x, p: float, rng=None) -> None:
    """``dropout``'s arguments: floats to drop, a probability below 1, a seed or Generator."""
    dtype = np.result_type(getval(x))
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dropout: x must hold floats, got dtype {dtype}; convert it with "
                         f"x.astype(np.float32)")
    check_options(pdrop=p, rng=rng)


@checked_by(check_dropout_arguments)
def dropout(x, p: float, rng=None):
    """The notebook's ``dropout``: each entry of ``x`` is zeroed with probability ``p`` and the
    kept ones are divided by ``1 - p``, so every entry keeps its expected value.

    ``p = 0`` returns ``x`` itself. ``rng`` (a Generator or a seed) draws the mask: a run is
    reproducible from its seed. Each entry's mask comes from 16 random bits (four entries per
    64-bit draw, 2-3x faster than drawing floats), so ``p`` is used to within 2^-17. Its
    backward pass is autograd's own for a product with a constant: the same mask.
    """
    if p == 0:
        return x
    keep = random_bits(np.shape(x), check_rng(rng)) >= round(p * 65536)
    return x * (keep / np.asarray(1 - p, dtype=getval(x).dtype))


def random_bits(shape: tuple, rng) -> np.ndarray:
    """Uniform 16-bit integers of this shape, laid out column-major like Knet's arrays."""
    n = int(np.prod(shape))
    raw = rng.bit_generator.random_raw(-(-n // 4)).view(np.uint16)[:n]
    return raw.reshape(shape, order="F")


def dropout_rates(pdrop) -> tuple[float, float]:
    """``(p_input, p_hidden)`` from the notebook's ``pdrop``: one number for both, or a pair."""
    p_input, p_hidden = pdrop if isinstance(pdrop, (tuple, list)) else (pdrop, pdrop)
    return p_input, p_hidden


def check_options(l1: float = 0, l2: float = 0, pdrop=0, rng=None) -> None:
    """The companion notebook's options: penalties ``>= 0``, dropout probabilities in
    ``[0, 1)`` (1 would drop everything and divide by 0), one or a pair ``(p_input,
    p_hidden)``, and an ``rng`` that is None, a seed or a Generator."""
    check_number(l1, "l1")
    check_number(l2, "l2")
    rates = tuple(pdrop) if isinstance(pdrop, (tuple, list)) else (pdrop, pdrop)
    if len(rates) != 2:
        raise ValueError(f"pdrop must be a number or a pair (p_input, p_hidden), got {pdrop!r}")
    for p in rates:
        check_number(p, "the dropout probability p", 0, 1, below=True)
    if rng is not None:
        check_rng(rng)
