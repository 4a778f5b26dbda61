"""The notes' steps as exercises: each a library function, its cases, and its classic mistakes.

Each table row is ``Mistake(name, test, message)``; ``gives(lambda *args, right: ...)``
computes what the mistake would return from the same inputs and the right answer (so the
wrong answer is never run, only described), ``not_finite_on(tag)`` recognises overflow and
underflow on the cases made for them.
"""
from __future__ import annotations

import numpy as np

import knetlike as kl

from .cases import layer_cases, model_cases, score_cases, sgd_cases, softmax_cases
from .core import (Case, Exercise, Mistake, Raised, call_student, float_case, fresh, gives,
                   not_finite_on)

# --- messages shared by several exercises ------------------------------------------------

OVERFLOW = ("it is not finite for scores near 1e4 (or -1e4): exp(1e4) overflows to inf (and "
            "exp(-1e4) is 0). Subtract each column's maximum before exp; the result does not "
            "change, since exp(-m) cancels.")
LOG_OF_ZERO = ("it is not finite where a score is 1e4 below its column's best: that "
               "probability underflows to 0 and log(0) = -inf. Compute log p = (y - m) - "
               "log(sum(exp(y - m))) directly, never log(probs(y)).")
WRONG_AXIS = ("it normalises along the rows (axis 1); each column is an instance, so sum over "
              "the classes, axis 0 (Julia's sum(..., 1)).")
WHOLE_MATRIX = ("it normalises by the sum over the whole matrix; each column (instance) is "
                "normalised by its own sum over the classes (axis=0, keepdims=True).")
SIGN = "the sign is flipped: you have the negative of the right answer."
ONE_HOT_ONLY = ("it is right for one-hot targets only; targets may be any probability vectors, "
                "so weight each class's log probability by its target: sum(ygold * logp).")


def columns(y) -> int:
    """N, the number of instances (columns)."""
    return np.shape(y)[1]


def gold_rows(ygold) -> np.ndarray:
    """One-hot columns at each column's largest target (what a one-hot-only answer uses)."""
    return kl.onehot(np.argmax(ygold, axis=0), np.shape(ygold)[0]).astype(ygold.dtype)


# --- the zero-one loss -------------------------------------------------------------------

def error_of(predicted, labels) -> float:
    """The fraction of ``predicted`` classes that are not ``labels``."""
    return float(np.mean(np.asarray(predicted) != labels))


ZEROONE = Exercise(
    "zeroone", "zeroone(w, x, labels)", lambda w, x, labels: kl.zeroone(w, x, labels),
    lambda: model_cases("zeroone"), output="number", mistakes=[
        Mistake("labels off by one",
                gives(lambda w, x, labels, right: error_of(np.argmax(w[0] @ x + w[1], 0) + 1,
                                                           labels)),
                "the labels are off by one: here class d is row d, counted from 0 (Julia counts "
                "from 1); compare argmax(scores, axis=0) with the labels as they are."),
        Mistake("labels off by one",
                gives(lambda w, x, labels, right: error_of(np.argmax(w[0] @ x + w[1], 0) - 1,
                                                           labels)),
                "the labels are off by one: here class d is row d, counted from 0 (Julia counts "
                "from 1); compare argmax(scores, axis=0) with the labels as they are."),
        Mistake("accuracy", gives(lambda w, x, labels, right: 1 - right),
                "this is the accuracy, the fraction right; the zero-one loss is the fraction "
                "misclassified."),
        Mistake("count", gives(lambda w, x, labels, right: right * len(labels)),
                "this is the number misclassified; the zero-one loss is their fraction: "
                "divide by N, the number of columns."),
        Mistake("no bias", gives(lambda w, x, labels, right:
                                 error_of(np.argmax(w[0] @ x, 0), labels)),
                "the scores lack the bias: they are W x + b, b added to every column."),
        Mistake("wrong axis", gives(lambda w, x, labels, right: error_of(
            np.argmax(w[0] @ x + w[1], 1), labels)),
                "it takes the argmax along the rows (axis 1); each column is an instance, so "
                "take the best class of each column, argmax(scores, axis=0)."),
    ])


# --- the softmax function and its log ----------------------------------------------------

PROBS = Exercise(
    "probs", "probs(y)", lambda y: kl.probs(y), lambda: score_cases("probs", targets=False),
    mistakes=[
        Mistake("overflow", not_finite_on("shifted"), OVERFLOW),
        Mistake("wrong axis", gives(lambda y, right: kl.probs(y.T).T), WRONG_AXIS),
        Mistake("whole matrix", gives(lambda y, right: np.exp(y) / np.exp(y).sum()),
                WHOLE_MATRIX),
        Mistake("whole matrix", gives(lambda y, right: np.exp(y - y.max()) / np.exp(y - y.max())
                                      .sum()), WHOLE_MATRIX),
        Mistake("not normalised", gives(lambda y, right: np.exp(y)),
                "these are exp(y), not yet normalised: divide each column by its sum, so that "
                "every column sums to 1."),
        Mistake("log", gives(lambda y, right: kl.logp(y)),
                "these are the log probabilities (log-softmax); probs asks for p itself."),
    ])

LOGP = Exercise(
    "logp", "logp(y)", lambda y: kl.logp(y), lambda: score_cases("logp", targets=False),
    mistakes=[
        Mistake("overflow", not_finite_on("shifted"), OVERFLOW),
        Mistake("log of underflow", not_finite_on("spread"), LOG_OF_ZERO),
        Mistake("wrong axis", gives(lambda y, right: kl.logp(y.T).T), WRONG_AXIS),
        Mistake("whole matrix", gives(lambda y, right: y - np.log(np.exp(y).sum())),
                WHOLE_MATRIX),
        Mistake("no log", gives(lambda y, right: kl.probs(y)),
                "these are the probabilities; logp asks for their log, y - log(sum(exp(y)))."),
        Mistake("sign", gives(lambda y, right: -right), SIGN),
    ])


# --- the softmax's backward pass ---------------------------------------------------------

def jacobian_cases() -> list[Case]:
    """One probability vector of 3 classes (float64), and of 10 (float32)."""
    rng = np.random.default_rng(2016)
    return [float_case(f"a probability vector of {c} classes ({np.dtype(t).name})",
                       (kl.probs(rng.standard_normal(c)).astype(t),), t)
            for c, t in [(3, np.float64), (10, np.float32)]]


JACOBIAN = Exercise(
    "softmax_jacobian", "softmax_jacobian(p)", lambda p: kl.softmax_jacobian(p), jacobian_cases,
    mistakes=[
        Mistake("no diagonal term", gives(lambda p, right: -np.outer(p, p)),
                "the diagonal term [i=j] p_i is missing: dp_i/dy_j = [i=j] p_i - p_i p_j, so "
                "add p to the diagonal (np.diag(p))."),
        Mistake("no product term", gives(lambda p, right: np.diag(p)),
                "the term -p_i p_j is missing: y_j is in the denominator of every p_i, so each "
                "p_i depends on each y_j."),
        Mistake("diagonal only", gives(lambda p, right: np.diag(p - p * p)),
                "only the diagonal is there: y_j is in the denominator of every p_i, so the "
                "entries off the diagonal are -p_i p_j."),
        Mistake("sign", gives(lambda p, right: -right), SIGN),
    ])


def backward_cases() -> list[Case]:
    """``(p, dp)``: probabilities of random scores and a random gradient, small and
    MNIST-sized."""
    rng = np.random.default_rng(1)
    cases = []
    for c, n, t in [(3, 4, np.float64), (10, 100, np.float32)]:
        p = kl.probs(3 * rng.standard_normal((c, n))).astype(t)
        cases.append(float_case(f"p and dp of shape {c} x {n} ({np.dtype(t).name})",
                                (p, rng.standard_normal((c, n)).astype(t)), t))
    return cases


BACKWARD = Exercise(
    "softmax_backward", "softmax_backward(p, dp)", lambda p, dp: kl.softmax_backward(p, dp),
    backward_cases, mistakes=[
        Mistake("one path only", gives(lambda p, dp, right: p * dp),
                "only the direct path is there (p_j dJ/dp_j): y_j reaches J through every p_i, "
                "so dJ/dy_j = sum_i dJ/dp_i dp_i/dy_j; the paths through the denominator add "
                "-p_j sum_i dJ/dp_i p_i."),
        Mistake("no diagonal term", gives(lambda p, dp, right: -p * (dp * p).sum(0)),
                "the Jacobian's diagonal term [i=j] p_i is missing: the direct path p_j dJ/dp_j "
                "is not there."),
        Mistake("wrong axis", gives(lambda p, dp, right:
                                    p * (dp - (dp * p).sum(1, keepdims=True))),
                "the sum over paths runs along the rows (axis 1); it runs over the classes i of "
                "one instance, down each column (axis 0)."),
        Mistake("unweighted sum", gives(lambda p, dp, right: p * (dp - dp.sum(0))),
                "the sum over paths is not weighted by p_i: dJ/dy_j = p_j (dJ/dp_j - sum_i "
                "dJ/dp_i p_i)."),
        Mistake("sign", gives(lambda p, dp, right: -right), SIGN),
    ])


# --- one-hot targets ---------------------------------------------------------------------

def onehot_cases() -> list[Case]:
    """Labels with 0 and the last class among them; labels that miss the top classes; MNIST's
    10 classes for 100 labels."""
    rng = np.random.default_rng(10)
    return [Case("labels [0, 2, 1, 2, 0] of 3 classes", (np.array([0, 2, 1, 2, 0]), 3)),
            Case("labels [1, 0, 1] of 5 classes (3 and 4 absent)", (np.array([1, 0, 1]), 5)),
            Case("100 labels of 10 classes", (rng.integers(10, size=100), 10))]


ONEHOT = Exercise(
    "onehot", "onehot(labels, nclasses)", lambda labels, c: kl.onehot(labels, c), onehot_cases,
    mistakes=[
        Mistake("transposed", gives(lambda labels, c, right: right.T),
                "it is N x C, transposed: the targets are C x N, one column per instance "
                "(row labels[n] of column n is 1)."),
        Mistake("labels off by one", gives(lambda labels, c, right: np.roll(right, 1, 0)),
                "the labels are off by one: here class d is row d, counted from 0 (Julia counts "
                "from 1)."),
        Mistake("labels off by one", gives(lambda labels, c, right: np.roll(right, -1, 0)),
                "the labels are off by one: here class d is row d, counted from 0 (Julia counts "
                "from 1)."),
        Mistake("rows from the labels", gives(lambda labels, c, right: right[:labels.max() + 1]),
                "it has max(labels) + 1 rows; it needs nclasses rows, since a batch may lack "
                "the highest classes."),
    ])


# --- the loss and its gradient -----------------------------------------------------------

SOFTLOSS = Exercise(
    "softloss", "softloss(ygold, ypred)", lambda ygold, ypred: kl.softloss(ygold, ypred),
    lambda: score_cases("softloss", targets=True), output="number", mistakes=[
        Mistake("sign", gives(lambda ygold, ypred, right: -right),
                "the sign is flipped: that is the log likelihood; the loss is its negative, "
                "the NLL."),
        Mistake("sum", gives(lambda ygold, ypred, right: right * columns(ygold)),
                "it is the sum over the instances, N times the loss: the NLL is the mean, so "
                "divide by N, the number of columns."),
        Mistake("mean over all entries", gives(lambda ygold, ypred, right:
                                               right / np.shape(ygold)[0]),
                "it divides by C x N (a mean over every entry); the NLL is the sum divided by "
                "N, the number of columns (instances), only."),
        Mistake("overflow", not_finite_on("shifted"), OVERFLOW),
        Mistake("log of underflow", not_finite_on("spread"), LOG_OF_ZERO),
        Mistake("wrong axis", gives(lambda ygold, ypred, right:
                                    -(ygold * kl.logp(ypred.T).T).sum() / columns(ygold)),
                WRONG_AXIS),
        Mistake("one-hot only", gives(lambda ygold, ypred, right:
                                      kl.softloss(gold_rows(ygold), ypred)), ONE_HOT_ONLY),
        Mistake("arguments swapped", gives(lambda ygold, ypred, right:
                                           -(ypred * kl.logp(ygold)).sum() / columns(ygold)),
                "ygold and ypred are swapped: the first argument is the gold targets, the "
                "second the scores."),
        Mistake("no log", gives(lambda ygold, ypred, right:
                                -(ygold * kl.probs(ypred)).sum() / columns(ygold)),
                "the log is missing: the NLL weighs the log probabilities, log phat, by the "
                "targets."),
        Mistake("no normalisation", gives(lambda ygold, ypred, right:
                                          -(ygold * ypred).sum() / columns(ygold)),
                "the scores are not normalised: use log phat = y - log(sum(exp(y))) per column, "
                "not y itself."),
    ])

SOFTLOSS_GRAD = Exercise(
    "softloss_grad", "softloss_grad(ygold, ypred)",
    lambda ygold, ypred: kl.softloss_grad(ygold, ypred),
    lambda: score_cases("softloss_grad", targets=True), mistakes=[
        Mistake("sign", gives(lambda ygold, ypred, right: -right),
                "the sign is flipped: p - phat is the gradient of the log likelihood; the "
                "loss is the NLL, so its gradient is (phat - p) / N."),
        Mistake("sum", gives(lambda ygold, ypred, right: right * columns(ygold)),
                "it is N times too large: the loss is a mean over the N columns, so its "
                "gradient is divided by N."),
        Mistake("mean over all entries", gives(lambda ygold, ypred, right:
                                               right / np.shape(ygold)[0]),
                "it is divided by C x N; the loss is a mean over the N columns only, so divide "
                "by N."),
        Mistake("overflow", not_finite_on("shifted"), OVERFLOW),
        Mistake("through 1/phat", not_finite_on("spread"),
                "it is not finite where a probability underflows to 0 (a score 1e4 below the "
                "best): the route through dJ/dphat = -p/phat divides by 0. Compute the gradient "
                "with respect to the scores directly: (phat - p) / N."),
        Mistake("wrong axis", gives(lambda ygold, ypred, right:
                                    (kl.probs(ypred.T).T - ygold) / columns(ygold)), WRONG_AXIS),
        Mistake("one-hot only", gives(lambda ygold, ypred, right:
                                      kl.softloss_grad(gold_rows(ygold), ypred)), ONE_HOT_ONLY),
        Mistake("scores, not probabilities", gives(lambda ygold, ypred, right:
                                                   (ypred - ygold) / columns(ygold)),
                "it uses the scores y where the probabilities belong: the gradient is "
                "(phat - p) / N with phat = probs(ypred)."),
    ])


# --- one layer's backward pass -----------------------------------------------------------

PREDICT_BACKWARD = Exercise(
    "predict_backward", "predict_backward(x, dy)", lambda x, dy: kl.predict_backward(x, dy),
    lambda: layer_cases("predict_backward"), output=("dW", "db"), mistakes=[
        Mistake("dW transposed", gives(lambda x, dy, right: [x @ dy.T, right[1]]),
                "dW is transposed: it is D x C, but W is C x D; dW = dy x^T (dy @ x.T)."),
        Mistake("db not summed", gives(lambda x, dy, right: [right[0], dy]),
                "db is not summed over the instances: b is added to every column, so its "
                "gradient is the sum of dy's columns (sum over axis 1, keepdims=True)."),
        Mistake("db (C,)", gives(lambda x, dy, right: [right[0], dy.sum(axis=1)]),
                "db has shape (C,), but b is a C x 1 column: b - lr * db would broadcast to "
                "C x C. Keep the column: dy.sum(axis=1, keepdims=True)."),
        Mistake("db wrong axis", gives(lambda x, dy, right: [right[0], dy.sum(axis=0)]),
                "db is summed over the classes (axis 0); sum over the instances instead, along "
                "each row (axis 1, keepdims=True)."),
        Mistake("db wrong axis", gives(lambda x, dy, right: [right[0],
                                                             dy.sum(axis=0, keepdims=True)]),
                "db is summed over the classes (axis 0); sum over the instances instead, along "
                "each row (axis 1, keepdims=True)."),
        Mistake("db mean", gives(lambda x, dy, right: [right[0], right[1] / columns(dy)]),
                "db is a mean over the instances; b is added to each of the N columns, so its "
                "gradient is their sum (dy already holds the loss's 1/N)."),
        Mistake("dW mean", gives(lambda x, dy, right: [right[0] / columns(dy), right[1]]),
                "dW is divided by N: dy already holds the loss's 1/N, so dW = dy x^T, no more."),
        Mistake("sign", gives(lambda x, dy, right: [-right[0], -right[1]]), SIGN),
    ])


# --- the notes' model ---------------------------------------------------------------------

SOFTMAX = Exercise(
    "softmax", "softmax(w, x, ygold)", lambda w, x, ygold: kl.softmax(w, x, ygold),
    lambda: softmax_cases("softmax"), output="number", mistakes=[
        Mistake("no bias", gives(lambda w, x, ygold, right: kl.softloss(ygold, w[0] @ x)),
                "the scores lack the bias: ypred = W x + b, b added to every column."),
        Mistake("probabilities in", gives(lambda w, x, ygold, right:
                                          kl.softloss(ygold, kl.probs(w[0] @ x + w[1]))),
                "softloss gets probabilities; it takes the scores W x + b and normalises them "
                "itself (a softmax applied twice)."),
        Mistake("sign", gives(lambda w, x, ygold, right: -right),
                "the sign is flipped: that is the log likelihood; the loss is its negative, "
                "the NLL."),
        Mistake("sum", gives(lambda w, x, ygold, right: right * columns(ygold)),
                "it is the sum over the instances, N times the loss: the NLL is the mean, so "
                "divide by N, the number of columns."),
    ])


# --- one epoch of SGD --------------------------------------------------------------------

def sgd(w: list, data: list, lr: float) -> list:
    """The SGD epoch with step ``lr`` (negative: a climb), on copies of ``w``, for the
    mistakes' outputs."""
    w = [wi.copy() for wi in w]
    for x, ygold in data:
        g = kl.softmax_gradient(w, x, ygold)
        w = [wi - lr * gi for wi, gi in zip(w, g)]
    return w


def train_in_place(fn, args: tuple) -> list:
    """Run the student's ``train(w, data, lr)`` and return ``w`` as it left it."""
    w = args[0]
    call_student(fn, args)
    return list(w)


TRAIN = Exercise(
    "train", "train(w, data, lr)", lambda w, data, lr: kl.train(w, data, lr),
    lambda: sgd_cases("train"), output=("W", "b"), call=train_in_place, inputs_may_change=True,
    mistakes=[
        Mistake("unchanged", gives(lambda w, data, lr, right: w),
                "w is unchanged after the call: update the arrays of the list you were given, "
                "w[i] -= lr * g[i] (w = [...] inside the function makes a new, local list)."),
        Mistake("climbs", gives(lambda w, data, lr, right: sgd(w, data, -lr)),
                "w climbs the loss: the update is w[i] -= lr * g[i], against the gradient of the "
                "loss (+= climbs it, and so does the gradient of the log likelihood)."),
        Mistake("one batch", gives(lambda w, data, lr, right: sgd(w, data[:1], lr)),
                "only the first batch made a step: is a `return` inside the loop over the "
                "batches? An epoch takes one step per batch."),
        Mistake("one step", gives(lambda w, data, lr, right: sgd(w, data[-1:], lr)),
                "only the last batch made a step: take one step per batch, inside the loop."),
        Mistake("sum", gives(lambda w, data, lr, right: sgd(w, data, lr * columns(data[0][0]))),
                "each step is N times too long: the gradient you use is of the summed loss; the "
                "loss is the mean over the batch's N columns."),
    ])


# --- the border between two classes ------------------------------------------------------

def border_answer(w: list, i: int, j: int) -> tuple:
    """The line ``(W_i - W_j) x + (b_i - b_j) = 0``: its normal and offset (the solution)."""
    W, b = w
    return W[i] - W[j], float(b[i, 0] - b[j, 0])


def same_line(got, line: tuple) -> bool:
    """Whether ``got`` is ``(normal, offset)`` of the same line with the same sides: equal up
    to a positive factor."""
    try:
        normal, offset = np.asarray(got[0], dtype=float).ravel(), float(np.ravel(got[1])[0])
    except (TypeError, ValueError, IndexError):
        return False
    right = np.asarray(line[0], dtype=float)
    if normal.shape != right.shape:
        return False
    scale = normal @ right / (right @ right)
    return scale > 0 and np.allclose(normal, scale * right, rtol=1e-5, atol=1e-9) and \
        np.isclose(offset, scale * line[1], rtol=1e-5, atol=1e-9)


def border_cases() -> list[Case]:
    """A random ``[W, b]`` of 3 classes in 2-D (two pairs), and one of MNIST's shape."""
    rng = np.random.default_rng(4)
    small = [rng.standard_normal((3, 2)), rng.standard_normal((3, 1))]
    mnist = [rng.standard_normal((10, 784)).astype(np.float32),
             rng.standard_normal((10, 1)).astype(np.float32)]
    return [Case("3 classes in 2-D, classes 0 and 1", (small, 0, 1)),
            Case("3 classes in 2-D, classes 2 and 0", (small, 2, 0)),
            Case("10 classes of 784 pixels, classes 3 and 8", (mnist, 3, 8))]


def border_judge(fn) -> str | None:
    """The border's check: the line must be ``(W_i - W_j, b_i - b_j)`` up to a positive factor
    (any multiple describes the same line; a negative one swaps the sides)."""
    for case in border_cases():
        w, i, j = case.args
        try:
            got = call_student(fn, fresh(case.args))
        except Raised as raised:
            raised.case = case.label
            raise
        if got is None:
            return "your function returned None: is a `return` missing?"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return f"on {case.label}: return two things, (normal, offset)."
        if same_line(got, border_answer(w, i, j)):
            continue
        for mistake, wrong in BORDER_MISTAKES:
            try:
                line = wrong(w, i, j)
            except IndexError:          # that mistake cannot be made on this case
                continue
            if same_line(got, line):
                return f"on {case.label}: {mistake}"
        if np.size(got[0]) != w[0].shape[1]:
            return (f"on {case.label}: the normal has {np.size(got[0])} entries; it lives in "
                    f"the input space, so it has one per feature ({w[0].shape[1]}).")
        return f"on {case.label}: that is not the line where y_i = y_j."
    return None


BORDER_MISTAKES = [
    ("the normal points to class j's side: i and j are swapped (the line is right, its sides "
     "are not; y_i > y_j should be the positive side).",
     lambda w, i, j: (w[0][j] - w[0][i], float(w[1][j, 0] - w[1][i, 0]))),
    ("the offset is missing: the line is (W_i - W_j) x + (b_i - b_j) = 0.",
     lambda w, i, j: (w[0][i] - w[0][j], 0.0)),
    ("the offset's sign is flipped: it is b_i - b_j, like the normal's W_i - W_j.",
     lambda w, i, j: (w[0][i] - w[0][j], float(w[1][j, 0] - w[1][i, 0]))),
    ("it uses columns of W; class i's weights are row i, W[i] (W is C x D).",
     lambda w, i, j: (w[0][:, i] - w[0][:, j], float(w[1][i, 0] - w[1][j, 0]))),
    ("the classes are off by one: here class d is row d, counted from 0 (Julia counts from 1).",
     lambda w, i, j: (w[0][i - 1] - w[0][j - 1], float(w[1][i - 1, 0] - w[1][j - 1, 0]))),
    ("the classes are off by one: here class d is row d, counted from 0 (Julia counts from 1).",
     lambda w, i, j: (w[0][(i + 1) % len(w[0])] - w[0][(j + 1) % len(w[0])],
                      float(w[1][(i + 1) % len(w[0]), 0] - w[1][(j + 1) % len(w[0]), 0]))),
]

BORDER = Exercise("border", "border(w, i, j)", border_answer, border_cases, judge=border_judge)

NOTES = [ZEROONE, PROBS, JACOBIAN, BACKWARD, ONEHOT, LOGP, SOFTLOSS, SOFTLOSS_GRAD,
         PREDICT_BACKWARD, SOFTMAX, TRAIN, BORDER]
