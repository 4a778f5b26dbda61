"""Argument checks for the public entry points.

They run at the entry points (``loss``, ``predict``, ``train``, ``fit``, ...) and before
anything changes: a refused call leaves ``w`` as it was. Each error names the argument,
what it got, and what it needs.

Once per call: the outermost public function checks what the functions it calls would
(``train`` checks its options and every batch of a list before the first step), and while
it runs they do not check again (``checked_by``, ``arguments_checked``): ``loss`` called
by you checks its batch; called by ``train`` at every step, it does not.
"""
from __future__ import annotations

import contextvars
import functools
import math
import os
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
from autograd.tracer import getval

# True while a public function runs whose checks covered what it calls (in this thread).
_CHECKED = contextvars.ContextVar("knetlike_arguments_checked", default=False)


def caller_checked() -> bool:
    """Whether a public function further up has checked what this call is given."""
    return _CHECKED.get()


@contextmanager
def arguments_checked() -> Iterator[None]:
    """Within the block, the public functions called do not check their arguments again."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def checked_by(check: Callable[..., object]) -> Callable:
    """Decorate a public function: called from outside, ``check(*args, **kwargs)`` first
    (it raises what is wrong), then the function with ``arguments_checked``; called by
    another public function, the function alone."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def entry(*args, **kwargs):
            if _CHECKED.get():
                return function(*args, **kwargs)
            check(*args, **kwargs)
            with arguments_checked():
                return function(*args, **kwargs)
        return entry
    return decorate


def check_whole(value, name: str, least: int = 1) -> int:
    """A whole number ``>= least`` (a bool is not one), or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    return int(value)


def check_number(value, name: str, low: float = 0.0, high: float = math.inf, *,
                 above: bool = False, below: bool = False) -> float:
    """``value`` as a float: a finite real number (not a bool) from ``low`` to ``high``, or a
    ValueError naming ``name``. ``above``/``below`` leave out the end itself (``> low``,
    ``< high``). The one number check behind every option: lr, winit, l1, l2, dropout."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) \
            or not (value > low if above else value >= low) \
            or not (value < high if below else value <= high):
        raise ValueError(f"{name} must be {number_range(low, high, above, below)}, "
                         f"got {value!r}")
    return float(value)


def number_range(low: float, high: float, above: bool = False, below: bool = False) -> str:
    """How errors say a range: ``a finite number > 0``, ``a number in [0, 1)``."""
    if high == math.inf:
        return f"a finite number {'>' if above else '>='} {low:g}"
    return f"a number in {'(' if above else '['}{low:g}, {high:g}{')' if below else ']'}"


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """``rng`` as a numpy Generator: None draws a fresh seed, an int is a seed."""
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)
                       and rng >= 0):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"{name} must be None, a seed (an int >= 0) or a numpy Generator "
                     f"(np.random.default_rng(seed)), got {rng!r}")


def available_memory() -> int:
    """The bytes of memory this machine has (physical memory; 16 GiB if it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 << 30


def check_memory(nbytes: int, what: str) -> None:
    """Refuse to allocate ``nbytes`` for ``what`` when it would take more than a quarter of
    the machine's memory: training holds a few copies of w (its gradient, the measured
    epoch's weights, the kept ones), so more would not fit, and an allocation that the
    kernel grants lazily would only fail later, killed, with nothing kept."""
    limit = available_memory() // 4
    if nbytes > limit:
        raise ValueError(f"{what} would need {nbytes / 2**30:,.1f} GiB, more than a quarter "
                         f"of this machine's {available_memory() / 2**30:.0f} GiB of memory; "
                         f"choose smaller sizes")


def check_lr(lr) -> float:
    """A learning rate must be a finite number above 0."""
    return check_number(lr, "lr (the learning rate)", above=True)


def layer_names(w, k: int) -> str:
    """How errors name ``w[k]``: ``W`` and ``b`` for the lecture's ``[W, b]``, else the layer."""
    name = "W" if k % 2 == 0 else "b"
    return name if len(w) == 2 else f"{name} of layer {k // 2 + 1}"


def check_model(w, x=None, ygold=None, layers: int | None = None) -> None:
    """Check that ``w = [W1, b1, ..., WL, bL]`` chains, fits ``x`` (D x N) and ``ygold`` (C x N).

    Layer l has W of shape out x in and b of shape out x 1; its ``in`` is the previous
    layer's ``out`` (D for the first layer). ``[W, b]`` is the lecture's model (``layers=1``
    insists on it).
    """
    w = getval(w)          # under autograd's tracing, w is a box around the list
    if layers == 1 and isinstance(w, (list, tuple)) and len(w) > 2:
        raise ValueError(f"softmax is the lecture's linear model w = [W, b], got {len(w)} "
                         f"arrays; for a model with hidden layers use loss(w, x, ygold)")
    if not isinstance(w, (list, tuple)) or len(w) < 2 or len(w) % 2:
        got = type(w).__name__ + (f" of length {len(w)}" if isinstance(w, (list, tuple)) else "")
        raise ValueError(f"w must be a list [W, b] (or [W1, b1, ..., WL, bL]: an even number "
                         f"of arrays, a W and a b per layer), got {got}")
    for k, wk in enumerate(w):
        wk = getval(wk)
        if not isinstance(wk, np.ndarray):
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) must be a numpy array, got "
                             f"{type(wk).__name__}; convert it with np.asarray")
        if wk.dtype.kind != "f":
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) must hold floats, got dtype "
                             f"{wk.dtype}; SGD cannot take fractional steps in integers: "
                             f"convert it with .astype(np.float32)")
    rows = None            # the previous layer's output size
    for k in range(0, len(w), 2):
        W, b = np.shape(w[k]), np.shape(w[k + 1])
        if len(W) != 2:
            what = "a C x D matrix" if len(w) == 2 else "a matrix (out x in)"
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) must be {what}, got shape {W}")
        if rows is not None and W[1] != rows:
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) has shape {W}, but layer {k // 2} "
                             f"outputs {rows} values (w[{k - 2}] has shape {np.shape(w[k - 2])}); "
                             f"it must have {rows} columns")
        if b != (W[0], 1):
            rows_name, W_name = ("C", "W") if len(w) == 2 else ("out", f"w[{k}]")
            raise ValueError(f"w[{k + 1}] ({layer_names(w, k + 1)}) must have shape "
                             f"({rows_name}, 1) = {(W[0], 1)} to match {W_name} {W}, got shape "
                             f"{b}; reshape it with b.reshape(-1, 1)")
        rows = W[0]
    check_data(w, x, ygold)


def check_data(w, x=None, ygold=None) -> None:
    """Check ``x`` (D x N) and ``ygold`` (C x N, probability vectors) against a model ``w``
    that ``check_model`` has passed."""
    w = getval(w)
    D, C = np.shape(w[0])[1], np.shape(w[-2])[0]
    if x is not None:
        xs = np.shape(x)
        if len(xs) != 2 or xs[0] != D:
            W_name = "W" if len(w) == 2 else "w[0]"
            raise ValueError(f"x must be D x N with D = {D} (the columns of {W_name} "
                             f"{np.shape(w[0])}), got shape {xs}; one column per instance "
                             f"(transpose an N x D array with x.T)")
        if xs[1] == 0:
            raise ValueError("x is an empty batch (0 columns); every batch needs at least one "
                             "instance")
    if ygold is not None:
        ys = np.shape(ygold)
        n = np.shape(x)[1] if x is not None else ys[-1]
        if len(ys) != 2 or ys != (C, n):
            raise ValueError(f"ygold must be C x N = {(C, n)} (classes x instances), got shape "
                             f"{ys}; turn integer labels into targets with onehot(labels, C)")
        check_distributions(ygold)


def check_writable(w) -> None:
    """Every array of ``w`` must be writable: ``train`` updates them in place, and one that
    is not would leave the model half-stepped."""
    for k, wk in enumerate(w):
        if not wk.flags.writeable:
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) is read-only, so train cannot update "
                             f"it in place; pass a writable copy, e.g. [wi.copy() for wi in w]")


def check_gradient(w, g, gradient) -> None:
    """The list a gradient function returned must have one array per array of ``w``, of the
    same shape: else the update would fail half-way, or broadcast silently."""
    if isinstance(g, (list, tuple)) and len(g) == len(w) and all(
            isinstance(gk, np.ndarray) and gk.shape == wk.shape for gk, wk in zip(g, w)):
        return
    name = getattr(gradient, "__name__", repr(gradient))
    if not isinstance(g, (list, tuple)) or len(g) != len(w):
        got = f"{type(g).__name__}" + (f" of length {len(g)}" if isinstance(g, (list, tuple))
                                       else "")
        raise ValueError(f"the gradient function {name} returned {got}; it must return a list "
                         f"of {len(w)} arrays, one per array of w")
    for k, (wk, gk) in enumerate(zip(w, g)):
        if np.shape(gk) != wk.shape or not isinstance(gk, np.ndarray):
            raise ValueError(f"the gradient function {name} returned, for w[{k}] "
                             f"({layer_names(w, k)}) of shape {wk.shape}, "
                             f"{type(gk).__name__} of shape {np.shape(gk)}; they must match")


def nclasses(w) -> int:
    """C, the number of classes of the model ``w``: the rows of its last W."""
    return np.shape(getval(w)[-2])[0]


def check_distributions(ygold) -> None:
    """Target columns must be probability vectors: the gradient ``phat - p`` assumes it."""
    ygold = np.asarray(ygold)
    sums = np.ones(len(ygold), ygold.dtype) @ ygold      # column sums, one BLAS call
    if abs(sums - 1).max() <= 1e-3 and ygold.min() >= 0:      # NaN fails both
        return
    negative = np.any(ygold < 0, axis=0)
    n = np.flatnonzero(~(np.abs(sums - 1) <= 1e-3) | negative)[0]
    fault = (f"column {n} holds a negative entry, {ygold[:, n].min():g}" if negative[n] else
             f"column {n} sums to {sums[n]:g}")
    raise ValueError(f"ygold's columns must be probability vectors (>= 0, summing to 1), but "
                     f"{fault}; use onehot(labels, C) for labels")


def check_finite(x, name: str = "x") -> None:
    """Data must be finite: a NaN or inf gives believable-looking but meaningless numbers."""
    finite = np.isfinite(x)
    if not finite.all():
        n = int(np.flatnonzero(~finite.all(axis=0))[0]) if np.ndim(x) == 2 else None
        where = f"column {n}" if n is not None else "an entry"
        raise ValueError(f"{name} holds non-finite values (NaN or inf), first in {where}; clean "
                         f"or drop those instances before training or evaluating")


def check_labelled(w, x, labels) -> np.ndarray:
    """Check a labelled set ``(x, labels)`` against ``w``; return the labels as an array."""
    check_model(w, x)
    labels = check_labels(labels, nclasses(w))
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
