"""The companion notebook's and mnist.jl's steps as exercises: relu's backward pass, dropout,
the L1/L2 penalty and its gradient."""
from __future__ import annotations

import numpy as np

import knetlike as kl

from .core import (Case, Exercise, Mistake, Raised, call_student, describe_value, float_case,
                   gives)
from .notes import SIGN

# --- relu's backward pass ----------------------------------------------------------------


def relu_cases() -> list[Case]:
    """``(h, dh)`` with ``h = relu(z)``: many units off, and some exactly at z = 0."""
    rng = np.random.default_rng(64)
    cases = []
    for label, shape, dtype in [("h and dh of shape 3 x 4 (float64)", (3, 4), np.float64),
                                ("h and dh of shape 64 x 100 (float32)", (64, 100), np.float32)]:
        z = np.round(rng.standard_normal(shape), 1)        # rounding puts some at exactly 0
        h = np.maximum(z, 0).astype(dtype)
        cases.append(float_case(label, (h, rng.standard_normal(shape).astype(dtype)), dtype))
    return cases


RELU_BACKWARD = Exercise(
    "relu_backward", "relu_backward(h, dh)", lambda h, dh: kl.relu_backward(h, dh), relu_cases,
    mistakes=[
        Mistake("relu'(0) = 1", gives(lambda h, dh, right: dh),
                "the gradient passes where h = 0: relu's derivative is 0 where the unit is off, "
                "and Knet takes 0 at exactly z = 0 too; multiply by [h > 0], not [h >= 0]."),
        Mistake("mask only", gives(lambda h, dh, right: (h > 0).astype(dh.dtype)),
                "that is relu's derivative [h > 0] alone; the backward pass multiplies it by "
                "the incoming gradient dh."),
        Mistake("mask from dh", gives(lambda h, dh, right: dh * (dh > 0)),
                "the mask comes from dh; it comes from the unit: pass dh where h > 0."),
        Mistake("times h", gives(lambda h, dh, right: dh * h),
                "dh is multiplied by h; relu's derivative is 1 where h > 0 and 0 elsewhere."),
        Mistake("sign", gives(lambda h, dh, right: -right), SIGN),
    ])


# --- dropout -----------------------------------------------------------------------------

P = 0.2
NO_SCALING = ("the entries kept are not scaled: divide them by 1 - p, so that each entry keeps "
              "its expected value (training and testing then see the same scale).")
SAME_MASK = ("two calls with the same rng dropped the same entries: every step needs a new "
             "mask, drawn from rng (a seed inside dropout repeats the first mask forever).")
IGNORES_RNG = ("two generators with the same seed gave different masks: draw the mask from the "
               "rng you are given (rng.random(x.shape)), so that a run can be repeated.")


def dropout_input(dtype) -> np.ndarray:
    """A 200 x 300 input with no zeros, so that a 0 in the output is a dropped entry."""
    return (0.5 + np.random.default_rng(7).random((200, 300))).astype(dtype)


def dropout_call(fn, x, p, seed_or_rng, label: str):
    """The student's dropout on a copy of ``x``, checked to be an array like ``x``; returns
    ``(output, None)`` or ``(None, message)``."""
    rng = np.random.default_rng(seed_or_rng) if isinstance(seed_or_rng, int) else seed_or_rng
    try:
        out = call_student(fn, (x.copy(), p, rng))
    except Raised as raised:
        raised.case = label
        raise
    if out is None:
        return None, "your function returned None: is a `return` missing?"
    if not isinstance(out, np.ndarray):
        return None, f"on {label}: returned {describe_value(out)}; return an array like x."
    if out.shape != x.shape:
        return None, f"on {label}: the output has shape {out.shape}, x has {x.shape}."
    return out, None


def dropout_values(x, out, p: float, label: str) -> str | None:
    """What is wrong with one output of dropout: the fraction dropped, the kept values, the
    dtype; None when nothing is."""
    dropped = out == 0
    fraction = float(dropped.mean())
    if abs(fraction - (1 - p)) < 0.02:
        return (f"on {label}: it dropped {fraction:.2f} of the entries: p is the probability "
                f"of dropping an entry (Knet keeps those with rand > p), not of keeping it.")
    if abs(fraction - p) > 0.02:
        return f"on {label}: it dropped {fraction:.2f} of the entries, where about {p} is right."
    kept, xs = out[~dropped].astype(float), x[~dropped].astype(float)
    if np.allclose(kept, xs, rtol=1e-5):
        return f"on {label}: {NO_SCALING}"
    if np.allclose(kept, xs * (1 - p), rtol=1e-5):
        return f"on {label}: the entries kept are multiplied by 1 - p; divide them by 1 - p."
    if not np.allclose(kept, xs / (1 - p), rtol=1e-5):
        return f"on {label}: the entries kept should be x / (1 - p), and they are not."
    if out.dtype != x.dtype:
        return (f"on {label}: the values are right but the dtype is {out.dtype}, where x's "
                f"{x.dtype} is right: a float64 mask converts; multiply x by a boolean mask, "
                f"then divide by 1 - p.")
    return None


def dropout_judge(fn) -> str | None:
    """Dropout's answer is random, so its check asks what must hold of any mask: about p of
    the entries dropped, the kept ones divided by 1 - p, x itself for p = 0, a new mask at
    every call, the same mask from generators seeded alike, x left unchanged."""
    for dtype in (np.float64, np.float32):
        x = dropout_input(dtype)
        label = f"a 200 x 300 {np.dtype(dtype).name} x with p = {P}"
        out, problem = dropout_call(fn, x, P, 1, label)
        problem = problem or dropout_values(x, out, P, label)
        if problem:
            return problem
    x = dropout_input(np.float32)
    label = "a 200 x 300 float32 x with p = 0"
    out, problem = dropout_call(fn, x, 0.0, 1, label)
    if problem:
        return problem
    if not np.array_equal(out, x):
        return f"on {label}: with p = 0 nothing is dropped: it must return x unchanged."
    rng = np.random.default_rng(2)
    first, _ = dropout_call(fn, x, P, rng, "a first call")
    second, _ = dropout_call(fn, x, P, rng, "a second call with the same rng")
    if np.array_equal(first == 0, second == 0):
        return SAME_MASK
    first, _ = dropout_call(fn, x, P, 3, "a generator seeded with 3")
    second, _ = dropout_call(fn, x, P, 3, "another generator seeded with 3")
    if not np.array_equal(first == 0, second == 0):
        return IGNORES_RNG
    copy = x.copy()
    call_student(fn, (copy, P, np.random.default_rng(4)))
    if not np.array_equal(copy, x):
        return ("the output is right, but your function changed x in place (like x *= ...); "
                "the caller's data would change too: compute a new array.")
    return None


DROPOUT = Exercise("dropout", "dropout(x, p, rng)", lambda x, p, rng: kl.dropout(x, p, rng),
                   lambda: [], judge=dropout_judge)


# --- the penalties -----------------------------------------------------------------------

def model(rng, *sizes, dtype=np.float64) -> list:
    """``[W1, b1, ...]`` for layer sizes (inputs, hidden..., classes), with nonzero b's (so
    that a penalty on them shows) and some W entries exactly 0 (sign(0) is 0)."""
    w = []
    for d, c in zip(sizes[:-1], sizes[1:]):
        W = rng.standard_normal((c, d))
        W[rng.random((c, d)) < 0.1] = 0
        w += [W.astype(dtype), rng.standard_normal((c, 1)).astype(dtype)]
    return w


def penalty_cases() -> list[Case]:
    """``(w, l1, l2)``: the lecture's [W, b], then a model with a hidden layer, with each
    penalty alone and both together; then MNIST's [W, b] in float32."""
    rng = np.random.default_rng(5)
    linear, deep = model(rng, 4, 3), model(rng, 4, 5, 3)
    mnist = model(rng, 784, 10, dtype=np.float32)
    cases = [("[W, b] (3 x 4), l1 = 0.01, l2 = 0.1", linear, 0.01, 0.1),
             ("[W1, b1, W2, b2] (4-5-3), l1 = 0.01, l2 = 0", deep, 0.01, 0.0),
             ("[W1, b1, W2, b2] (4-5-3), l1 = 0, l2 = 0.1", deep, 0.0, 0.1),
             ("[W1, b1, W2, b2] (4-5-3), l1 = 0.01, l2 = 0.1", deep, 0.01, 0.1),
             ("MNIST's [W, b] (10 x 784, float32), l1 = 1e-4, l2 = 1e-3", mnist, 1e-4, 1e-3)]
    return [float_case(label, (w, l1, l2), w[0].dtype, 100.0) for label, w, l1, l2 in cases]


def penalty_of(arrays, l1, l2, square=lambda W: (W * W).sum(), absolute=np.abs) -> float:
    """``sum l1 sum|A| + l2 square(A)`` over ``arrays``, for the mistakes' outputs."""
    return sum(l1 * absolute(A).sum() + l2 * square(A) for A in arrays)


PENALTY = Exercise(
    "penalty", "penalty(w, l1, l2)", lambda w, l1, l2: kl.penalty(w, l1, l2), penalty_cases,
    output="number", mistakes=[
        Mistake("b's penalised", gives(lambda w, l1, l2, right: penalty_of(w, l1, l2)),
                "the b's are penalised too; the penalty is on the W's only, w[0::2] (a bias "
                "does not make the model fit more closely)."),
        Mistake("first W only", gives(lambda w, l1, l2, right: penalty_of(w[:1], l1, l2)),
                "only the first W is penalised; every layer's W is: w[0], w[2], ..."),
        Mistake("last W only", gives(lambda w, l1, l2, right: penalty_of(w[-2:-1], l1, l2)),
                "only the last W is penalised; every layer's W is: w[0], w[2], ..."),
        Mistake("half L2", gives(lambda w, l1, l2, right: penalty_of(
            w[::2], l1, l2, square=lambda W: (W * W).sum() / 2)),
                "the L2 term has a factor 1/2 that the companion notebook's does not: it is "
                "l2 * sum(W^2)."),
        Mistake("L2 norm", gives(lambda w, l1, l2, right: penalty_of(
            w[::2], l1, l2, square=lambda W: np.sqrt((W * W).sum()))),
                "the L2 term is the sum of squares, l2 * sum(W^2), not the norm (no sqrt)."),
        Mistake("no abs", gives(lambda w, l1, l2, right: penalty_of(
            w[::2], l1, l2, absolute=lambda W: W)),
                "the L1 term needs the absolute values: l1 * sum(abs(W))."),
        Mistake("l1 and l2 swapped", gives(lambda w, l1, l2, right: kl.penalty(w, l2, l1)),
                "l1 and l2 are swapped: l1 weighs sum |W|, l2 weighs sum W^2."),
    ])


def penalty_grad_cases() -> list[Case]:
    """``(W, l1, l2)``: W with some entries exactly 0, each penalty alone and together."""
    rng = np.random.default_rng(6)
    small = model(rng, 4, 3)[0]
    mnist = model(rng, 784, 10, dtype=np.float32)[0]
    cases = [("a 3 x 4 W, l1 = 0.01, l2 = 0", small, 0.01, 0.0),
             ("a 3 x 4 W, l1 = 0, l2 = 0.1", small, 0.0, 0.1),
             ("a 3 x 4 W, l1 = 0.01, l2 = 0.1", small, 0.01, 0.1),
             ("a 10 x 784 float32 W, l1 = 1e-4, l2 = 1e-3", mnist, 1e-4, 1e-3)]
    return [float_case(label, (W, l1, l2), W.dtype) for label, W, l1, l2 in cases]


PENALTY_GRAD = Exercise(
    "penalty_grad", "penalty_grad(W, l1, l2)", lambda W, l1, l2: kl.penalty_grad(W, l1, l2),
    penalty_grad_cases, mistakes=[
        Mistake("no 2", gives(lambda W, l1, l2, right: l1 * np.sign(W) + l2 * W),
                "the L2 part is l2 W; the derivative of l2 W^2 is 2 l2 W."),
        Mistake("L1 as W", gives(lambda W, l1, l2, right: l1 * W + 2 * l2 * W),
                "the L1 part is l1 W; the derivative of l1 |W| is l1 sign(W)."),
        Mistake("sign(0) = 1", gives(lambda W, l1, l2, right:
                                     l1 * np.where(W >= 0, 1, -1) + 2 * l2 * W),
                "at W = 0 the L1 part is not 0: |W| has no derivative there and Knet takes 0, "
                "which np.sign(0) gives."),
        Mistake("l1 and l2 swapped", gives(lambda W, l1, l2, right: kl.penalty_grad(W, l2, l1)),
                "l1 and l2 are swapped: l1 weighs |W|, l2 weighs W^2."),
        Mistake("sign", gives(lambda W, l1, l2, right: -right), SIGN),
    ])

COMPANION = [RELU_BACKWARD, DROPOUT, PENALTY, PENALTY_GRAD]
