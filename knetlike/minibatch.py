"""Knet-style minibatches: the data cut into a list of ``(x, y)`` column blocks.

As in Knet's ``minibatch(x, y, batchsize)``: batches follow the data's order unless asked
to shuffle, and a last partial batch is dropped unless asked to keep it, so every SGD step
sees the same number of instances. Column blocks of an F-ordered (column-major) ``x`` are
views, contiguous in memory: no copy, and fast products.
"""
from __future__ import annotations

import numpy as np

from .checks import check_rng, check_whole


def minibatch(x: np.ndarray, y: np.ndarray, batchsize: int, shuffle: bool = False,
              partial: bool = False, rng: np.random.Generator | None = None) -> list:
    """Split the columns of ``x`` and ``y`` into a list of ``(x_batch, y_batch)`` pairs.

    ``x`` is D x N; ``y`` is C x N (targets) or a length-N label vector. Batch k holds
    columns ``k*batchsize .. (k+1)*batchsize - 1`` of the (optionally shuffled) order;
    each instance appears in at most one batch. ``shuffle=True`` draws a permutation from
    ``rng`` (a ``numpy.random.Generator``; seed it for a reproducible order) and gathers
    each batch into its own contiguous block.
    """
    x, y = np.asarray(x), np.asarray(y)
    n = _check(x, y, batchsize)
    if batchsize > n and not partial:
        raise ValueError(f"minibatch: batchsize {batchsize} is larger than the N = {n} "
                         f"instances, so there is no full batch; use a batchsize <= {n} "
                         f"or partial=True")
    if shuffle:
        rng = check_rng(rng)
        order = rng.permutation(n)
    stops = range(batchsize, n + (batchsize if partial else 1), batchsize)
    batches = []
    for stop in stops:
        start, stop = stop - batchsize, min(stop, n)
        if shuffle:
            cols = order[start:stop]
            batches.append((np.asfortranarray(x[:, cols]), _take(y, cols)))
        else:
            batches.append((x[:, start:stop], _take(y, slice(start, stop))))
    return batches


def _take(y: np.ndarray, cols):
    """Columns ``cols`` of targets (C x N), or entries of labels (N,)."""
    return y[cols] if y.ndim == 1 else np.asfortranarray(y[:, cols])


def _check(x, y, batchsize) -> int:
    """The number of instances N, after checking that x, y and batchsize agree."""
    if np.ndim(x) != 2:
        raise ValueError(f"minibatch: x must be D x N (one column per instance), "
                         f"got shape {np.shape(x)}")
    n = x.shape[1]
    if np.ndim(y) not in (1, 2) or np.shape(y)[-1] != n:
        raise ValueError(f"minibatch: y must be C x N targets or N labels with N = {n} "
                         f"(the columns of x {x.shape}), got shape {np.shape(y)}")
    check_whole(batchsize, "minibatch: batchsize")
    if n == 0:
        raise ValueError("minibatch: x has no columns (N = 0); there is nothing to batch")
    return n
