"""Argument checks for the public entry points.

They run once per call of a public function (``train`` checks its first batch, not every
step), outside the functions that autograd traces, so they cost nothing per step; the
one exception, ``check_targets``, compares two shapes. Each error names the argument,
what it got, and what it needs.
"""
from __future__ import annotations

import numpy as np
from autograd.tracer import getval


def check_model(w, x=None, ygold=None) -> None:
    """Check that ``w = [W, b]`` (W C x D, b C x 1) fits ``x`` (D x N) and ``ygold`` (C x N)."""
    w = getval(w)          # under autograd's tracing, w is a box around the list
    if not isinstance(w, (list, tuple)) or len(w) != 2:
        raise ValueError(f"w must be a list [W, b], got {type(w).__name__}"
                         + (f" of length {len(w)}" if isinstance(w, (list, tuple)) else ""))
    for k, name in ((0, "W"), (1, "b")):
        if not isinstance(getval(w[k]), np.ndarray):
            raise ValueError(f"w[{k}] ({name}) must be a numpy array, got {type(w[k]).__name__}; "
                             f"convert it with np.asarray")
    W, b = np.shape(w[0]), np.shape(w[1])
    if len(W) != 2:
        raise ValueError(f"w[0] (W) must be a C x D matrix, got shape {W}")
    if b != (W[0], 1):
        raise ValueError(f"w[1] (b) must have shape (C, 1) = {(W[0], 1)} to match W {W}, got "
                         f"shape {b}; reshape it with b.reshape(-1, 1)")
    if x is not None:
        xs = np.shape(x)
        if len(xs) != 2 or xs[0] != W[1]:
            raise ValueError(f"x must be D x N with D = {W[1]} (the columns of W {W}), got shape "
                             f"{xs}; one column per instance (transpose an N x D array with x.T)")
        if xs[1] == 0:
            raise ValueError("x is an empty batch (0 columns); every batch needs at least one "
                             "instance")
    if ygold is not None:
        ys = np.shape(ygold)
        n = np.shape(x)[1] if x is not None else ys[-1]
        if len(ys) != 2 or ys != (W[0], n):
            raise ValueError(f"ygold must be C x N = {(W[0], n)} (classes x instances), got shape "
                             f"{ys}; turn integer labels into targets with onehot(labels, C)")
        check_distributions(ygold)


def check_distributions(ygold) -> None:
    """Target columns must be probability vectors: the gradient ``phat - p`` assumes it."""
    ygold = np.asarray(ygold)
    sums = ygold.sum(axis=0)
    bad = np.flatnonzero((np.abs(sums - 1) > 1e-3) | np.any(ygold < 0, axis=0))
    if bad.size:
        n = bad[0]
        raise ValueError(f"ygold's columns must be probability vectors (>= 0, summing to 1), but "
                         f"column {n} sums to {sums[n]:g}; use onehot(labels, C) for labels")


def check_labelled(w, x, labels) -> np.ndarray:
    """Check a labelled set ``(x, labels)`` against ``w``; return the labels as an array."""
    check_model(w, x)
    labels = check_labels(labels, np.shape(w[0])[0])
    if labels.size != np.shape(x)[1]:
        raise ValueError(f"labels has {labels.size} entries but x has {np.shape(x)[1]} columns; "
                         f"give one label per column of x")
    return labels


def check_targets(ygold, ypred) -> int:
    """Targets and scores must have the same C x N shape: broadcasting one against the other
    would silently compute a wrong loss. Returns N. Cheap enough for every step."""
    gold, pred = np.shape(ygold), np.shape(ypred)
    if gold != pred:
        raise ValueError(f"ygold has shape {gold} but ypred has shape {pred}; "
                         f"both must be C x N (classes x instances)")
    if len(gold) != 2 or gold[1] == 0:
        raise ValueError(f"ygold and ypred must be C x N with N >= 1 (one column per instance), "
                         f"got shape {gold}; an empty batch has no loss")
    return gold[1]


def check_labels(labels, nclasses: int, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D integer array with values in ``0..nclasses-1``, or a ValueError."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be integers 0..{nclasses - 1}, got dtype {labels.dtype}; "
                         f"convert with {name}.astype(int) if they are whole numbers")
    if labels.size and (labels.min() < 0 or labels.max() >= nclasses):
        bad = labels[(labels < 0) | (labels >= nclasses)][0]
        raise ValueError(f"{name} must lie in 0..{nclasses - 1} (C = {nclasses} classes), "
                         f"found {bad}")
    return labels
