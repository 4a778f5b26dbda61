"""Targets and the zero-one loss.

Labels are integers ``0..C-1``; the lecture's targets are their one-hot columns (a
probability vector with all its mass on the gold class). The zero-one loss, the fraction
misclassified, is what we care about but cannot train with: it is flat or jumps as the
parameters move.
"""
from __future__ import annotations

import numpy as np

from .checks import check_finite, check_labelled, check_labels, check_whole
from .model import predict


def onehot(labels, nclasses: int, dtype=np.float32) -> np.ndarray:
    """C x N one-hot targets: column n is 1 in row ``labels[n]`` and 0 elsewhere."""
    check_whole(nclasses, "nclasses")
    labels = check_labels(labels, nclasses)
    y = np.zeros((nclasses, labels.size), dtype=dtype, order="F")
    y[labels, np.arange(labels.size)] = 1
    return y


def zeroone(w: list, x: np.ndarray, labels) -> float:
    """The zero-one loss: the fraction of columns of ``x`` whose highest score is not the label."""
    labels = check_labelled(w, x, labels)
    return float(np.mean(np.argmax(scores(w, x), axis=0) != labels))


def scores(w: list, x: np.ndarray, name: str = "x") -> np.ndarray:
    """``predict(w, x)``, with non-finite data refused: checked on the scores (C rows, cheap),
    and only where a score is not finite, on ``x`` itself to name the first bad column.
    (Weights that give non-finite scores are not an error here: training diverged.)"""
    y = predict(w, x)
    if not np.isfinite(y).all():
        check_finite(x, name)
    return y


def accuracy(w: list, x: np.ndarray, labels) -> float:
    """The fraction classified correctly, ``1 - zeroone``."""
    return 1.0 - zeroone(w, x, labels)
