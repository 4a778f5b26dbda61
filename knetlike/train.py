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

import math
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable

import numpy as np
from autograd import make_vjp
from threadpoolctl import ThreadpoolController
from tqdm import tqdm

from .checks import check_labelled, check_model
from .derivatives import softmax_primitive
from .history import Epoch
from .softmax import logp, predict

# autograd's reverse mode on the notes' softmax model built from two primitives whose
# backward passes are the notes' derivations (see derivatives.py): the forward pass,
# recorded, and a function that runs the backward pass from a given dJ.
_softmax_vjp = make_vjp(softmax_primitive)


def train_gradient(w: list, x, ygold) -> list:
    """The default training gradient ``[dW, db]``, equal to ``grad(softmax_primitive)``.

    It is ``grad`` spelled out: record the forward pass, then run the backward pass from
    ``dJ/dJ = 1``. ``grad`` does the same plus work that training does not need on every
    call (it checks that J is a scalar and builds a 1 of J's type): about 25 µs, a tenth
    of a step on these batches. Same numbers as ``grad(softmax)`` through the plain
    formula, at a fraction of the cost.
    """
    backward, _ = _softmax_vjp(w, x, ygold)
    return backward(1.0)


# The BLAS libraries numpy loaded, found once (finding them costs about a millisecond).
_blas = ThreadpoolController()


def train(w: list, data: Iterable, lr: float = 0.1, gradient: Callable | None = None) -> list:
    """One epoch of plain minibatch SGD: ``w[i] -= lr * g[i]`` for each batch, in place.

    ``data`` is a list of ``(x, ygold)`` batches (see ``minibatch``); ``gradient(w, x, ygold)``
    returns ``[dW, db]`` and defaults to ``train_gradient``. Any other gradient with that
    signature works: ``softmax_gradient`` (autograd through the plain formula) or
    ``analytic_gradient`` (the hand derivation). Returns ``w``.
    """
    gradient = train_gradient if gradient is None else gradient
    check_lr(lr)
    nsteps = 0
    # One BLAS thread: the products are small (10 x 784 x 100), a second thread gains
    # nothing and makes each step wait for it whenever the other core is busy.
    with _blas.limit(limits=1, user_api="blas"), ctrl_c_between_steps() as stop_if_asked:
        for x, ygold in data:
            if nsteps == 0:
                check_model(w, x, ygold)   # once per epoch, outside the traced function
            g = gradient(w, x, ygold)
            for i in range(len(w)):
                w[i] -= lr * g[i]
            nsteps += 1
            stop_if_asked()
    if nsteps == 0:
        raise ValueError("train: data has no batches; build them with minibatch(x, y, batchsize)")
    return w


@contextmanager
def ctrl_c_between_steps():
    """Hold a Ctrl-C (SIGINT) until the SGD step under way is done, then stop.

    Python raises KeyboardInterrupt wherever the main thread is, and code on the step path
    can lose it: autograd's wrapper (``wrap_util.wraps``) catches every exception while it
    names the function it wraps, on every call of ``grad`` (HIPS/autograd issue #651), so
    a Ctrl-C that lands there is swallowed and training goes on. Here Ctrl-C only sets a
    flag; the yielded function raises KeyboardInterrupt after the step, with every ``w[i]``
    updated. A second Ctrl-C interrupts at once. A handler other than Python's default, or
    a thread other than the main one, is left as it is.
    """
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: None
        return
    asked = []

    def hold(signum, frame):
        if asked:                      # the second Ctrl-C: no more waiting
            raise KeyboardInterrupt
        asked.append(signum)

    def stop_if_asked():
        if asked:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield stop_if_asked
    finally:
        if signal.getsignal(signal.SIGINT) is hold:   # not if the steps installed their own
            signal.signal(signal.SIGINT, previous)
    stop_if_asked()                    # a Ctrl-C after the last step


def check_lr(lr) -> None:
    """A learning rate must be a finite number above 0."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not lr > 0 \
            or not math.isfinite(lr):
        raise ValueError(f"lr (the learning rate) must be a finite number > 0, got {lr!r}")


def evaluate(w: list, x: np.ndarray, labels, blocksize: int = 10_000) -> tuple[float, float]:
    """``(nll, error)`` of the model on all columns of ``x``: mean NLL and zero-one loss.

    Computed block by block of ``blocksize`` columns, so memory stays small (a C x blocksize
    score matrix) and each product is big enough for BLAS to run at full speed.
    """
    labels = check_labelled(w, x, labels)
    if isinstance(blocksize, bool) or not isinstance(blocksize, (int, np.integer)) or blocksize < 1:
        raise ValueError(f"blocksize must be a positive integer, got {blocksize!r}")
    nll = errors = 0.0
    for start in range(0, x.shape[1], blocksize):
        cols = slice(start, start + blocksize)
        y, gold = predict(w, x[:, cols]), labels[cols]
        nll -= float(np.sum(logp(y)[gold, np.arange(gold.size)], dtype=np.float64))
        errors += int(np.count_nonzero(np.argmax(y, axis=0) != gold))
    return nll / labels.size, errors / labels.size


class Diverged(RuntimeError):
    """Training produced a non-finite loss; ``w`` holds the last finite weights."""


def fit(w: list, dtrn: list | Callable[[int], list], trn: tuple, tst: tuple, epochs: int,
        lr: float, gradient: Callable | None = None, history: list | None = None,
        report: Callable[[Epoch], None] | None = print, progress: bool | None = None) -> list:
    """The epoch loop: ``train`` over ``dtrn``, then measure NLL and error on ``trn`` and ``tst``.

    ``dtrn`` is the list of batches, or a function of the epoch number that returns that
    epoch's batches (a fresh shuffle, say). ``trn`` and ``tst`` are ``(x, labels)`` pairs of
    the full sets. After each epoch one ``Epoch`` record is appended to ``history`` (pass
    your own list to keep it whatever happens) and handed to ``report``.

    Each epoch is measured on a copy of its weights in a second thread while the next
    epoch trains: the measurement is mostly two large matrix products that release the
    GIL, so on two cores it costs almost nothing. The records come in epoch order. BLAS
    runs on one thread for the whole loop, the measurement included.

    If the loss turns non-finite, ``Diverged`` is raised; on any interruption (Ctrl-C),
    the epoch being measured is still recorded. Either way ``w`` is set back to the
    weights of the last epoch in ``history``, so the two agree. A progress bar over the
    steps shows on stderr when it is a terminal (``progress=None``).
    """
    history = [] if history is None else history
    if not callable(dtrn) and iter(dtrn) is dtrn:
        raise ValueError("dtrn must be a list of batches or a function of the epoch returning "
                         "one; an iterator would be used up after the first epoch")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
    check_lr(lr)
    for x, labels in (trn, tst):       # fail now, not after the first epoch
        check_labelled(w, x, labels)
    quiet = not sys.stderr.isatty() if progress is None else not progress
    kept = [wi.copy() for wi in w]     # the weights of the last epoch in history
    pending = None                     # (epoch, its weights, their measurement in progress)

    def record() -> None:
        """Add the epoch being measured to history, keep its weights, and report it."""
        nonlocal kept, pending
        epoch, weights, measurement = pending
        result = Epoch(epoch, *measurement.result())   # waits; Ctrl-C here leaves it pending
        pending = None
        if not result.finite():
            raise Diverged(f"epoch {epoch}: the loss is not finite ({result}); lr = {lr} is too "
                           f"large for this model. w keeps the weights of epoch {epoch - 1}; "
                           f"try a smaller lr")
        history.append(result)
        kept = weights                 # before report: history and kept must agree
        if report is not None:
            report(result)

    # One BLAS thread for the whole loop: the steps want it (see train), and the thread
    # count must not change while the measuring thread is inside a product. The executor
    # is left (waiting for that thread) before the limit is lifted.
    with _blas.limit(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluate") as measurer:
        try:
            for epoch in range(len(history) + 1, len(history) + 1 + epochs):
                batches = dtrn(epoch) if callable(dtrn) else dtrn
                steps = tqdm(batches, desc=f"epoch {epoch}", unit="step", leave=False,
                             disable=quiet)
                with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked
                    train(w, steps, lr, gradient)
                weights = [wi.copy() for wi in w]
                if pending is not None:
                    record()
                pending = (epoch, weights, measurer.submit(measure, weights, trn, tst))
            if pending is not None:
                record()
        except BaseException:
            try:
                if pending is not None:          # interrupted while that epoch was measured
                    record()
            finally:
                for i, wi in enumerate(kept):
                    w[i][...] = wi
            raise
    return history


def measure(w: list, trn: tuple, tst: tuple) -> tuple[float, float, float, float]:
    """The four numbers of an ``Epoch``: train NLL, test NLL, train error, test error."""
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite weights give nan: reported
        (trn_nll, trn_err), (tst_nll, tst_err) = evaluate(w, *trn), evaluate(w, *tst)
    return trn_nll, tst_nll, trn_err, tst_err
