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
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

import numpy as np
from autograd.core import make_vjp
from tqdm import tqdm

from .checks import check_finite, check_labelled, check_lr, check_model, check_whole
from .derivatives import loss_primitive
from .history import Epoch
from .machinery import one_blas_thread, stop_signals_between_steps, stop_signals_noted
from .softmax import logp
from .targets import scores


def train_gradient(w: list, x, ygold) -> list:
    """The default training gradient ``[dW1, db1, ...]``, equal to ``grad(loss_primitive)``.

    autograd's reverse mode on ``loss`` built from primitives whose backward passes are the
    notes' derivations (see derivatives.py): record the forward pass, then run the backward
    pass from ``dJ/dJ = 1``. It is ``grad`` spelled out with autograd's core ``make_vjp``:
    ``grad`` also wraps the function for each call, checks that J is a scalar and builds a
    1 of its type, which training does not need. Same numbers as ``grad(loss)`` (and for
    ``[W, b]``, ``grad(softmax)``) through the plain formula, at a fraction of the cost.
    """
    backward, _ = make_vjp(lambda w: loss_primitive(w, x, ygold), w)
    return backward(1.0)


def train(w: list, data: Iterable, lr: float = 0.1, gradient: Callable | None = None) -> list:
    """One epoch of plain minibatch SGD: ``w[i] -= lr * g[i]`` for each batch, in place.

    ``data`` is a list of ``(x, ygold)`` batches (see ``minibatch``); ``gradient(w, x, ygold)``
    returns the list of gradients, one per array of ``w``, and defaults to ``train_gradient``.
    Any other gradient with that signature works: ``softmax_gradient`` (autograd through
    the plain formula) or ``analytic_gradient`` (the hand derivation). Returns ``w``.
    """
    gradient = train_gradient if gradient is None else gradient
    check_lr(lr)
    if not isinstance(w, list):
        raise ValueError(f"w must be a list (train updates its arrays in place), got "
                         f"{type(w).__name__}; pass list(w)")
    with one_blas_thread(), stop_signals_between_steps() as stop_if_asked:
        for x, ygold in checked(w, data):
            g = gradient(w, x, ygold)
            for i in range(len(w)):
                w[i] -= lr * g[i]
            stop_if_asked()
    return w


def checked(w: list, data: Iterable) -> Iterator:
    """The batches of ``data``, the first one checked against ``w`` (once per epoch, outside
    the traced function); a ValueError if there is none."""
    batches = iter(data)
    first = next(batches, None)
    if first is None:
        raise ValueError("train: data has no batches; build them with minibatch(x, y, batchsize)")
    check_model(w, *first)
    check_dtypes(w, first[0])
    yield first
    yield from batches


def check_dtypes(w: list, x) -> None:
    """Warn when the data's and the weights' float types differ, or are float16: every step
    would then convert (or, for float16, run without fast BLAS), slowly and silently."""
    dtypes = {np.asarray(a).dtype for a in (*w, x)}
    if len(dtypes) > 1 or np.dtype(np.float16) in dtypes:
        names = ", ".join(sorted(str(d) for d in dtypes))
        warnings.warn(f"w and x mix or use slow float types ({names}): every step converts or "
                      f"runs without fast BLAS. Convert once, e.g. x.astype(np.float32) and "
                      f"[wi.astype(np.float32) for wi in w]", stacklevel=3)


def evaluate(w: list, x: np.ndarray, labels, blocksize: int = 10_000) -> tuple[float, float]:
    """``(nll, error)`` of the model on all columns of ``x``: mean NLL and zero-one loss.

    Computed block by block of ``blocksize`` columns, so memory stays small (a C x blocksize
    score matrix) and each product is big enough for BLAS to run at full speed. Data that
    holds a NaN or inf is refused (it would give believable-looking numbers); weights that
    do give a NaN loss (training diverged).
    """
    labels = check_labelled(w, x, labels)
    check_whole(blocksize, "blocksize")
    nll = errors = 0.0
    for start in range(0, x.shape[1], blocksize):
        cols = slice(start, start + blocksize)
        y, gold = scores(w, x[:, cols], f"x[:, {start}:]"), labels[cols]
        nll -= float(np.sum(logp(y)[gold, np.arange(gold.size)], dtype=np.float64))
        errors += int(np.count_nonzero(np.argmax(y, axis=0) != gold))
    return nll / labels.size, errors / labels.size


class Diverged(RuntimeError):
    """Training produced a non-finite loss; ``w`` holds the last finite weights."""


def fit(w: list, dtrn: list | Callable[[int], list], trn: tuple, tst: tuple, epochs: int,
        lr: float, gradient: Callable | None = None, history: list | None = None,
        report: Callable[[Epoch], None] | None = print, progress: bool | None = None,
        measure_every: int | None = 1,
        after_epoch: Callable[[int, list], None] | None = None) -> list:
    """The epoch loop: ``train`` over ``dtrn``, then measure NLL and error on ``trn`` and ``tst``.

    ``dtrn`` is the list of batches, or a function of the epoch number that returns that
    epoch's batches (a fresh shuffle, say). ``trn`` and ``tst`` are ``(x, labels)`` pairs of
    the full sets. After each epoch one ``Epoch`` record is appended to ``history`` (pass
    your own list to keep it whatever happens) and handed to ``report``; a progress bar
    over the steps shows on stderr when it is a terminal (``progress=None``).

    ``measure_every=k`` measures only after every k-th epoch and after the last; ``None``
    after the last only (mnist.jl's ``--fast``). ``after_epoch(epoch, w)``, if given, is
    called after each epoch's training with that epoch's weights (a gradient check, say;
    it must not change ``w``); a stop signal waits until it returns.

    A non-finite loss raises ``Diverged``; on it and on any interruption, the last finished
    epoch is measured if it was not yet, and ``w`` is set back to the weights of the last
    epoch in ``history``, so the two agree. Returns ``history``.
    """
    history = [] if history is None else history
    if not callable(dtrn) and iter(dtrn) is dtrn:
        raise ValueError("dtrn must be a list of batches or a function of the epoch returning "
                         "one; an iterator would be used up after the first epoch")
    check_whole(epochs, "epochs", 0)
    check_lr(lr)
    if measure_every is not None:
        check_whole(measure_every, "measure_every")
    for name, (x, labels) in (("trn", trn), ("tst", tst)):   # fail now, not after an epoch
        check_labelled(w, x, labels)
        check_finite(x, f"{name}'s x")
    quiet = not sys.stderr.isatty() if progress is None else not progress
    first = history[-1].epoch + 1 if history else 1
    last = first + epochs - 1
    kept = [wi.copy() for wi in w]     # the weights of the last epoch in history
    pending: tuple | None = None       # (epoch, its weights, its batches, their measurement)
    unmeasured: tuple | None = None    # (epoch, its weights, its batches): trained, not measured

    def measured(epoch: int) -> bool:
        return epoch == last or (measure_every is not None and epoch % measure_every == 0)

    def record() -> None:
        """Add the epoch being measured to history, keep its weights, and report it."""
        nonlocal kept, pending, unmeasured
        assert pending is not None
        epoch, weights, batches, measurement = pending
        result = Epoch(epoch, *measurement.result())   # waits; a stop here leaves it pending
        pending = None
        if not result.finite():
            raise diverged(epoch, result, batches, lr)
        history.append(result)
        kept, unmeasured = weights, None  # before report: history and kept must agree
        if report is not None:
            report(result)

    # Each epoch is measured on a copy of its weights in a second thread while the next
    # epoch trains: the measurement is mostly large matrix products that release the GIL,
    # so on two cores it hides behind training. Records still come in epoch order. The
    # BLAS thread count must not change while that thread is inside a product, so one
    # limit covers the whole loop, and the executor is left before the limit is lifted.
    with one_blas_thread(), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluate") as measurer:
        try:
            for epoch in range(first, last + 1):
                batches = dtrn(epoch) if callable(dtrn) else dtrn
                steps = tqdm(batches, desc=f"epoch {epoch}", unit="step", leave=False,
                             disable=quiet)
                with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked
                    train(w, steps, lr, gradient)
                with stop_signals_between_steps():   # a stop waits for the bookkeeping
                    weights = [wi.copy() for wi in w]
                    if pending is not None:
                        record()
                    finite = all(np.isfinite(wi).all() for wi in weights)
                    if measured(epoch) or not finite:
                        pending = (epoch, weights, batches,
                                   measurer.submit(measure, weights, trn, tst))
                        if not finite:     # diverged: no use training on; record() says so
                            record()
                    else:
                        unmeasured = (epoch, weights, batches)
                    if after_epoch is not None:
                        after_epoch(epoch, w)
            if pending is not None:
                record()
        except BaseException:
            try:
                try:
                    if pending is not None:      # interrupted while that epoch was measured
                        record()
                finally:
                    if unmeasured is not None:   # trained but not measured (measure_every)
                        pending = (*unmeasured, measurer.submit(measure, unmeasured[1], trn, tst))
                        record()
            finally:
                with stop_signals_noted(lambda signum: None):   # the stop is under way
                    for i, wi in enumerate(kept):
                        w[i][...] = wi
            raise
    return history


def diverged(epoch: int, result: Epoch, batches, lr: float) -> Exception:
    """The error for a non-finite loss: the data's fault if its batches hold a NaN or inf
    (a ValueError that names the first such batch), else the learning rate's (``Diverged``)."""
    for k, batch in enumerate(batches):
        for name, array in zip(("x", "ygold"), batch):
            try:
                check_finite(array, f"training batch {k}'s {name}")
            except ValueError as err:
                return err
    return Diverged(f"epoch {epoch}: the loss is not finite ({result}); lr = {lr} is too "
                    f"large for this model. w keeps the weights of epoch {epoch - 1}; "
                    f"try a smaller lr")


def measure(w: list, trn: tuple, tst: tuple) -> tuple[float, float, float, float]:
    """The four numbers of an ``Epoch``: train NLL, test NLL, train error, test error."""
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite weights give nan: reported
        (trn_nll, trn_err), (tst_nll, tst_err) = evaluate(w, *trn), evaluate(w, *tst)
    return trn_nll, tst_nll, trn_err, tst_err
