"""Training: one epoch of minibatch SGD, and the epoch loop that reports after each epoch.

In Julia (from the notes)::

    for epoch=1:nepochs
        for (x,y) in dtrn  # dtrn is a list of minibatches
            g = softmax_gradient(w, x, y)
            for i in 1:length(w)
                w[i] -= lr * g[i]
        # Print accuracy
"""
from __future__ import annotations

import sys
import warnings
from typing import Callable, Iterable, Iterator

import numpy as np
from autograd.core import make_vjp
from tqdm import tqdm

from .checks import (check_batch, check_finite, check_gradient, check_labelled, check_lr,
                     check_model, check_number, check_rng, check_whole, check_writable,
                     layer_names)
from .derivatives import loss_primitive
from .history import Epoch
from .machinery import one_blas_thread, stop_signals_between_steps
from .measuring import Diverged, Measuring, evaluate
from .softmax import dropout_rates

__all__ = ["train", "train_gradient", "fit", "evaluate", "Diverged"]


def train(w: list, data: Iterable, lr: float = 0.1, gradient: Callable | None = None,
          **options) -> list:
    """One epoch of plain minibatch SGD: ``w[i] -= lr * g[i]`` for each batch, in place.

    ``data`` is a list of ``(x, ygold)`` batches (see ``minibatch``); ``gradient(w, x, ygold,
    **options)`` returns the list of gradients, one per array of ``w``, and defaults to
    ``train_gradient``. Any other gradient with that signature works: ``softmax_gradient``
    (autograd through the plain formula) or ``analytic_gradient`` (the hand derivation).
    ``options`` are the companion notebook's: ``l1``, ``l2`` (penalties of the W's), ``pdrop``
    (dropout) and ``rng`` (a seed or Generator for the dropout masks). Returns ``w``.
    """
    check_lr(lr)
    if not isinstance(w, list):
        raise ValueError(f"w must be a list (train updates its arrays in place), got "
                         f"{type(w).__name__}; pass list(w)")
    check_model(w)
    check_writable(w)
    options = training_options(**options)
    with one_blas_thread(), stop_signals_between_steps() as stop_if_asked:
        for x, ygold in checked(w, data):
            sgd_step(w, x, ygold, lr, gradient, options)
            stop_if_asked()
    return w


def sgd_step(w: list, x, ygold, lr: float, gradient: Callable | None, options: dict) -> None:
    """The notes' step, ``g = gradient(w, x, ygold); w[i] -= lr * g[i]``, in place.

    The default gradient is asked for ``lr`` times the gradient (its backward pass starts
    from ``dJ/dJ = lr``), so the update is one pass over each array with no temporary
    (measured: 5 us of a 100 us softmax step).
    """
    if gradient is None:
        for wi, gi in zip(w, backward(w, x, ygold, lr, **options)):
            wi -= gi
        return
    g = gradient(w, x, ygold, **options)
    if not isinstance(g, (list, tuple)) or len(g) != len(w) \
            or any(getattr(gi, "shape", None) != wi.shape for gi, wi in zip(g, w)):
        check_gradient(w, g, gradient)          # names what is wrong, before any change
    for i in range(len(w)):
        w[i] -= lr * g[i]


def train_gradient(w: list, x, ygold, l1: float = 0, l2: float = 0, pdrop=0,
                   rng=None) -> list:
    """The default training gradient ``[dW1, db1, ...]`` of ``loss(w, x, ygold, l1, l2, pdrop,
    rng)``, by autograd's reverse mode on ``loss`` built from primitives whose backward passes
    are the notes' derivations (see derivatives.py). Same numbers as ``grad(loss)`` (and for
    ``[W, b]``, ``grad(softmax)``) at a fraction of the cost."""
    check_batch(w, x, ygold)
    return backward(w, x, ygold, 1.0, **training_options(l1, l2, pdrop, rng))


def backward(w: list, x, ygold, scale: float, l1: float = 0, l2: float = 0, pdrop=0,
             rng=None) -> list:
    """``scale`` times the gradient of ``loss_primitive`` at ``w``: record the forward pass
    (autograd's core ``make_vjp``), then run the backward pass from ``dJ/dJ = scale``.

    ``grad`` would also wrap the function for each call, check that J is a scalar and build a
    1 of its type, which training does not need.
    """
    p_input, p_hidden = dropout_rates(pdrop)
    vjp, _ = make_vjp(lambda w: loss_primitive(w, x, ygold, l1, l2, p_input, p_hidden, rng), w)
    return vjp(scale)


def training_options(l1: float = 0, l2: float = 0, pdrop=0, rng=None) -> dict:
    """The options checked, with only those that do something: a penalty that is not 0, and
    dropout with its generator (a seed becomes a Generator here, once, so that the masks of
    successive steps differ)."""
    options: dict = {}
    if check_number(l1, "l1"):
        options["l1"] = l1
    if check_number(l2, "l2"):
        options["l2"] = l2
    if any(dropout_rates(pdrop)):
        options.update(pdrop=pdrop, rng=check_rng(rng))
    return options


def checked(w: list, data: Iterable) -> Iterator:
    """The batches of ``data``, each checked against ``w`` before its step (a batch seen
    before costs a look-up: see ``check_batch``); a ValueError if there is none."""
    batches = iter(data)
    first = next(batches, None)
    if first is None:
        raise ValueError("train: data has no batches; build them with minibatch(x, y, batchsize)")
    check_batch(w, *first)
    check_dtypes(w, first[0])
    yield first
    for x, ygold in batches:
        check_batch(w, x, ygold)
        yield x, ygold


def check_dtypes(w: list, x) -> None:
    """Warn when the data's and the weights' float types differ, or are float16: every step
    would then convert (or, for float16, run without fast BLAS), slowly and silently."""
    dtypes = {np.asarray(a).dtype for a in (*w, x)}
    if len(dtypes) > 1 or np.dtype(np.float16) in dtypes:
        names = ", ".join(sorted(str(d) for d in dtypes))
        warnings.warn(f"w and x mix or use slow float types ({names}): every step converts or "
                      f"runs without fast BLAS. Convert once, e.g. x.astype(np.float32) and "
                      f"[wi.astype(np.float32) for wi in w]", stacklevel=3)


def fit(w: list, dtrn: list | Callable[[int], list], trn: tuple, tst: tuple, epochs: int,
        lr: float, gradient: Callable | None = None, history: list | None = None,
        report: Callable[[Epoch], None] | None = print, progress: bool | None = None,
        measure_every: int | None = 1, after_epoch: Callable[[int, list], None] | None = None,
        **options) -> list:
    """The epoch loop: ``train`` over ``dtrn``, then measure NLL and error on ``trn`` and ``tst``.

    ``dtrn`` is the list of batches, or a function of the epoch number that returns that
    epoch's batches (a fresh shuffle, say). ``trn`` and ``tst`` are ``(x, labels)`` pairs of
    the full sets. After each epoch one ``Epoch`` record is appended to ``history`` (pass
    your own list to keep it whatever happens) and handed to ``report``; a progress bar
    over the steps shows on stderr when it is a terminal (``progress=None``). ``options``
    (``l1``, ``l2``, ``pdrop``, ``rng``) go to ``train``; what is measured is always the plain
    NLL and error, with no penalty and no dropout.

    ``measure_every=k`` measures only after every k-th epoch and after the last; ``None``
    after the last only (mnist.jl's ``--fast``). ``after_epoch(epoch, w)``, if given, is
    called after each epoch's training with that epoch's weights (a gradient check, say;
    it must not change ``w``).

    A loss that is not finite, or that rises far above where the run began, raises
    ``Diverged``. On it and on any interruption, ``w`` is set back to the weights of the last
    epoch in ``history`` (measured then if it was not), so the two agree. Returns ``history``.
    """
    history = [] if history is None else history
    check_fit(w, dtrn, trn, tst, epochs, lr, measure_every)
    options = training_options(**options)
    first = history[-1].epoch + 1 if history else 1
    last = first + epochs - 1
    quiet = not sys.stderr.isatty() if progress is None else not progress
    with one_blas_thread(), Measuring(w, trn, tst, history, report, lr) as measuring:
        for epoch in range(first, last + 1):
            batches = dtrn(epoch) if callable(dtrn) else dtrn
            steps = tqdm(batches, desc=f"epoch {epoch}", unit="step", leave=False, disable=quiet)
            with np.errstate(over="ignore", invalid="ignore"):   # divergence is checked
                train(w, steps, lr, gradient, **options)
            with stop_signals_between_steps():          # a stop waits for the bookkeeping
                if after_epoch is not None:
                    after_epoch(epoch, w)
                measure = epoch == last or (measure_every is not None
                                            and epoch % measure_every == 0)
                measuring.trained(epoch, batches, measure)
    return history


def check_fit(w: list, dtrn, trn: tuple, tst: tuple, epochs: int, lr: float,
              measure_every: int | None) -> None:
    """Everything ``fit`` needs, checked before the first step changes ``w``."""
    if not callable(dtrn) and iter(dtrn) is dtrn:
        raise ValueError("dtrn must be a list of batches or a function of the epoch returning "
                         "one; an iterator would be used up after the first epoch")
    check_whole(epochs, "epochs", 0)
    check_lr(lr)
    if measure_every is not None:
        check_whole(measure_every, "measure_every")
    for name, (x, labels) in (("trn", trn), ("tst", tst)):
        check_labelled(w, x, labels)
        check_finite(x, f"{name}'s x")
    check_writable(w)
    for k, wk in enumerate(w):
        if not np.isfinite(wk).all():
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) holds non-finite values (NaN or "
                             f"inf) before training; start from finite weights, e.g. "
                             f"kl.weights(...)")
