"""Gradient checking: autograd's gradient against central finite differences.

In the spirit of Knet's ``gradcheck``: perturb each parameter entry by ``+-eps``, take
``(f(w + eps) - f(w - eps)) / 2 eps``, and compare with what ``grad(f)`` returns. Use
float64 parameters and data: in float32 the differences are mostly rounding.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from autograd import grad


@dataclass
class GradCheck:
    """The outcome of a gradient check: the worst relative error and where it happened."""

    max_relerr: float
    param: int          # which array of the parameter list w
    index: tuple        # where in that array
    autograd: float     # autograd's derivative there
    numeric: float      # the finite-difference derivative there

    def __float__(self) -> float:
        return self.max_relerr


def relerr(a: float, b: float, floor: float = 1e-8) -> float:
    """Relative error ``|a - b| / max(|a|, |b|, floor)`` (the floor keeps zeros comparable)."""
    return abs(a - b) / max(abs(a), abs(b), floor)


def gradcheck(f: Callable, w: list, *args, eps: float = 1e-6, nsample: int | None = None,
              rng: np.random.Generator | None = None,
              gradient: Callable | None = None) -> GradCheck:
    """Compare ``grad(f)(w, *args)`` with central differences, entry by entry of ``w``.

    ``w`` is a list of arrays (the model's parameters). Every entry is checked, or a
    random ``nsample`` of them per array when given. ``gradient`` replaces ``grad(f)`` to
    check a hand-written gradient instead (e.g. ``analytic_gradient``). Returns a
    ``GradCheck`` holding the worst relative error, which parameter and index it was at,
    and both derivatives.
    """
    if not isinstance(w, (list, tuple)) or len(w) == 0:
        raise ValueError(f"gradcheck: w must be a non-empty list of parameter arrays, "
                         f"got {type(w).__name__}")
    rng = np.random.default_rng(0) if rng is None else rng
    g = (grad(f) if gradient is None else gradient)(w, *args)
    worst = GradCheck(0.0, 0, (), 0.0, 0.0)
    for k, wk in enumerate(w):
        for idx in _indices(wk.shape, nsample, rng):
            numeric = _central_difference(f, w, k, idx, eps, args)
            err = relerr(float(g[k][idx]), numeric)
            if err >= worst.max_relerr:
                worst = GradCheck(err, k, idx, float(g[k][idx]), numeric)
    return worst


def _indices(shape: tuple, nsample: int | None, rng: np.random.Generator) -> list:
    """All multi-indices of an array of this shape, or ``nsample`` of them at random."""
    flat = np.arange(int(np.prod(shape)))
    if nsample is not None and nsample < flat.size:
        flat = rng.choice(flat, size=nsample, replace=False)
    return [tuple(int(k) for k in np.unravel_index(i, shape)) for i in flat]


def _central_difference(f: Callable, w: list, k: int, idx: tuple, eps: float, args: tuple) -> float:
    """``(f(w + eps e) - f(w - eps e)) / 2 eps`` for the unit vector ``e`` at ``w[k][idx]``."""
    def shifted(delta):
        wk = w[k].copy()
        wk[idx] += delta
        return float(f([*w[:k], wk, *w[k + 1:]], *args))
    return (shifted(eps) - shifted(-eps)) / (2 * eps)
