"""Gradient checking: autograd's gradient against central finite differences.

In the spirit of Knet's ``gradcheck``: perturb each parameter entry by ``+-eps``, take
``(f(w + eps) - f(w - eps)) / 2 eps``, and compare with what ``grad(f)`` returns. Use
float64 parameters and data: in float32 the differences are mostly rounding.
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from autograd import grad

from .checks import check_rng, check_whole, layer_names


@dataclass
class GradCheck:
    """The outcome of a gradient check: the worst relative error and where it happened."""

    max_relerr: float       # inf if either derivative there was NaN or infinite
    param: int              # which array of the parameter list w
    index: tuple[int, ...]  # where in that array
    gradient: float         # the checked gradient's derivative there
    numeric: float          # the finite-difference derivative there
    name: str = "autograd"  # which gradient was checked: autograd's, or the function's name

    def __float__(self) -> float:
        return self.max_relerr


def relerr(a: float, b: float, floor: float = 1e-8) -> float:
    """Relative error ``|a - b| / max(|a|, |b|, floor)`` (the floor keeps zeros comparable).

    A NaN or infinity on either side gives ``inf``, the worst error there is: NaN compares
    False with everything, so left as NaN it would lose to any finite error (and a gradient
    of NaNs would pass).
    """
    err = abs(a - b) / max(abs(a), abs(b), floor)
    return err if math.isfinite(err) else math.inf


def gradcheck(f: Callable[..., Any], w: Sequence[np.ndarray], *args: Any, eps: float = 1e-6,
              nsample: int | None = None, rng: np.random.Generator | None = None,
              gradient: Callable[..., Sequence[np.ndarray]] | None = None) -> GradCheck:
    """Compare ``grad(f)(w, *args)`` with central differences, entry by entry of ``w``.

    ``w`` is a list of arrays of any length (the model's parameters, ``[W1, b1, ..., WL,
    bL]``). Every entry is checked, or a random ``nsample`` of them per array when given.
    ``gradient`` replaces ``grad(f)`` to check a hand-written gradient instead (e.g.
    ``analytic_gradient``). Returns a ``GradCheck`` holding the worst relative error, which
    parameter and index it was at, and both derivatives. A NaN in either derivative is an
    error of ``inf``; a check of no entry at all is a ``ValueError``, never a pass.

    Arrays of float32 (or less) give a ``UserWarning``, not an error: the finite differences
    of a float32 computation are mostly rounding, so even a correct gradient shows relative
    errors near 1. That is a false failure, never a false pass, and ``f`` may compute in
    float64 anyway (float32 data times float64 weights is float64), so the check still runs
    and the warning says how to fix it: ``[wi.astype(np.float64) for wi in w]``.
    """
    if not isinstance(w, (list, tuple)) or len(w) == 0:
        raise ValueError(f"gradcheck: w must be a non-empty list of parameter arrays, "
                         f"got {type(w).__name__}")
    if nsample is not None:
        check_whole(nsample, "gradcheck: nsample (entries checked per array, or None for all)")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < eps < math.inf:
        raise ValueError(f"gradcheck: eps (the finite-difference step) must be a finite number "
                         f"> 0, e.g. 1e-6; got {eps!r}")
    _warn_low_precision(w, args)
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    entries = [(k, idx) for k, wk in enumerate(w) for idx in _indices(wk.shape, nsample, rng)]
    if not entries:
        raise ValueError(f"gradcheck: nothing to check, every array of w is empty (shapes "
                         f"{[np.shape(wk) for wk in w]}); pass parameters with at least one entry")
    g = (grad(f) if gradient is None else gradient)(w, *args)
    name = "autograd" if gradient is None else getattr(gradient, "__name__", repr(gradient))
    worst = None
    for k, idx in entries:
        checked, numeric = float(g[k][idx]), _central_difference(f, w, k, idx, eps, args)
        err = relerr(checked, numeric)
        if worst is None or err > worst.max_relerr:
            worst = GradCheck(err, k, idx, checked, numeric, name)
    return worst


def _warn_low_precision(w: Sequence[np.ndarray], args: tuple) -> None:
    """Warn when a parameter or argument array is a float of less precision than float64."""
    named = [*((f"w[{k}]", wk) for k, wk in enumerate(w)),
             *((f"args[{i}]", a) for i, a in enumerate(args))]
    low = [f"{name} is {a.dtype}" for name, a in named
           if isinstance(a, (np.ndarray, np.generic)) and np.issubdtype(a.dtype, np.floating)
           and np.finfo(a.dtype).bits < 64]
    if low:
        warnings.warn(f"gradcheck: {', '.join(low)}: in float32 or less the finite differences "
                      f"are mostly rounding and even a correct gradient shows relative errors "
                      f"near 1; check in float64, e.g. w = [wi.astype(np.float64) for wi in w]",
                      UserWarning, stacklevel=3)


def _indices(shape: tuple[int, ...], nsample: int | None,
             rng: np.random.Generator) -> list[tuple[int, ...]]:
    """All multi-indices of an array of this shape, or ``nsample`` of them at random."""
    flat = np.arange(int(np.prod(shape)))
    if nsample is not None and nsample < flat.size:
        flat = rng.choice(flat, size=nsample, replace=False)
    return [tuple(int(k) for k in np.unravel_index(i, shape)) for i in flat]


def _central_difference(f: Callable[..., Any], w: Sequence[np.ndarray], k: int,
                        idx: tuple[int, ...], eps: float, args: tuple) -> float:
    """``(f(w + eps e) - f(w - eps e)) / 2 eps`` for the unit vector ``e`` at ``w[k][idx]``."""
    def shifted(delta: float) -> float:
        wk = w[k].copy()
        wk[idx] += delta
        return float(f([*w[:k], wk, *w[k + 1:]], *args))
    return (shifted(eps) - shifted(-eps)) / (2 * eps)


# --- mnist.jl's --gcheck: a verdict on each check, and on a run's ---------------------------

# The largest relative error that passes. In float64 with central differences of step 1e-6,
# the smallest derivatives (near gradcheck's floor of 1e-8) are compared with the
# differences' rounding, |loss| * 1e-16 / 1e-6, so a correct gradient can show relative
# errors of a few 1e-3; so can a relu input within 1e-6 of 0. A wrong gradient (sign,
# factor, transposition, missing term) is wrong by about 1, at many entries and every epoch.
GCHECK_TOLERANCE = 1e-2


class GradientChecks:
    """The gradient checks of a run of ``w``: one per epoch, ``nsample`` entries per array."""

    def __init__(self, w: list, nsample: int):
        self.names = [layer_names(w, k) for k in range(len(w))]
        self.sizes = [np.size(wi) for wi in w]
        self.nsample = nsample
        self.checks: list[tuple[int, GradCheck]] = []

    def add(self, epoch: int, check: GradCheck) -> str:
        """Keep the check of ``epoch``; its line: ``gcheck:3 worst relative error 2.1e-06 at
        W of layer 1 [12, 345] (gradient ..., central difference ...): ok`` (or FAILED)."""
        self.checks.append((epoch, check))
        name = self.names[check.param]
        where = f"{name}{' ' if ' ' in name else ''}[{', '.join(map(str, check.index))}]"
        verdict = "ok" if check.max_relerr <= GCHECK_TOLERANCE else \
            f"FAILED (> {GCHECK_TOLERANCE:g})"
        return (f"gcheck:{epoch} worst relative error {check.max_relerr:.2g} at {where} "
                f"(gradient {check.gradient:.6g}, central difference {check.numeric:.6g}): "
                f"{verdict}")

    def failures(self) -> list[str]:
        """The message for a run whose check failed (the run then exits with status 1)."""
        failed = [str(epoch) for epoch, c in self.checks if c.max_relerr > GCHECK_TOLERANCE]
        return [f"the gradient check failed after epoch {', '.join(failed)} (worst relative "
                f"error above {GCHECK_TOLERANCE:g}); see summary.txt"] if failed else []

    def summary(self) -> list[str]:
        """The summary's lines: how many entries, the worst error over the run, the verdict."""
        if not self.checks:
            return []
        fewer = [f"all {size} of {name}" for name, size in zip(self.names, self.sizes)
                 if size < self.nsample]          # an array smaller than N: all its entries
        entries = ", ".join([f"{self.nsample} entries per array", *fewer])
        epoch, worst = max(self.checks, key=lambda c: c[1].max_relerr)
        verdict = "passed" if worst.max_relerr <= GCHECK_TOLERANCE else "FAILED"
        lines = [f"gradient check ({entries}, after each of {len(self.checks)} epochs): "
                 f"{verdict}, worst relative error {worst.max_relerr:.2g} after epoch {epoch} "
                 f"(tolerance {GCHECK_TOLERANCE:g})"]
        if verdict == "FAILED":
            lines.append("  a relu input within 1e-6 of 0 can make one correct entry look "
                         "wrong; a wrong gradient fails at many entries and every epoch")
        return lines
