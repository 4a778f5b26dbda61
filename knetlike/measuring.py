"""Measuring a model after an epoch: NLL and error on the full sets, and the record the
epoch loop (``fit``) keeps of it.

``evaluate`` is the measurement. ``Measuring`` is what ``fit`` hands each trained epoch to:
it measures the epoch's weights in a second thread while the next epoch trains (the
measurement is mostly large matrix products, which release the GIL, so on two cores it
hides behind training), appends the ``Epoch`` records to the history in epoch order,
reports them, tells a diverged run, and on any interruption sets ``w`` back to the weights
of the last epoch in the history.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from .checks import check_finite, check_labelled, check_whole, nclasses
from .history import Epoch
from .machinery import stop_signals_noted
from .softmax import logp
from .targets import scores

#: A training loss this many times above where the run began (or above log C, the loss of
#: a uniform guess, if that is larger) is a diverged run, even while it is finite.
BLOWUP = 10


class Diverged(RuntimeError):
    """Training produced a loss that is not finite, or rose far above where the run began;
    ``w`` holds the weights of the last epoch before."""


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


def measure(w: list, trn: tuple, tst: tuple) -> tuple[float, float, float, float]:
    """The four numbers of an ``Epoch``: train NLL, test NLL, train error, test error."""
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite weights give nan: reported
        (trn_nll, trn_err), (tst_nll, tst_err) = evaluate(w, *trn), evaluate(w, *tst)
    return trn_nll, tst_nll, trn_err, tst_err


class Measuring:
    """The record of ``fit``'s epochs: the initial weights as epoch 0, then
    ``trained(epoch, batches, measure)`` after each epoch.

    Two things are held: the weights of the last epoch in the history (``kept``, to go back
    to), and the epoch trained last but not yet in the history (``pending``: being measured
    in the background, or, with ``measure=False``, waiting to be).
    """

    def __init__(self, w: list, trn: tuple, tst: tuple, history: list,
                 report: Callable[[Epoch], None] | None, cause: str):
        self.w, self.trn, self.tst, self.history, self.report, self.cause = \
            w, trn, tst, history, report, cause
        self.kept = copy(w)                      # the weights of the last epoch in history
        self.pending: list | None = None         # [epoch, weights, batches, Future or None]

    def __enter__(self) -> Measuring:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="measure")
        if not self.history:                     # mnist.jl's report(0): the initial weights
            self.pending = [0, self.kept, [], None]
            self.submit()
        return self

    def trained(self, epoch: int, batches, measure: bool) -> None:
        """Take a trained epoch: record the one measured before it, then measure this one
        in the background, or hold it to measure later. Weights that are no longer finite
        are measured at once (after the epoch held before them), to stop the run."""
        weights = copy(self.w)
        finite = all(np.isfinite(wi).all() for wi in weights)
        if self.pending is not None and (self.pending[3] is not None or not finite):
            self.record()
        self.pending = [epoch, weights, batches, None]
        if not finite:
            self.record()
        elif measure:
            self.submit()

    def submit(self) -> None:
        """Start measuring the pending epoch in the background."""
        assert self.pending is not None
        self.pending[3] = self.thread.submit(measure, self.pending[1], self.trn, self.tst)

    def record(self) -> None:
        """Wait for the pending epoch's numbers (measuring it now if it was held), then append
        it to the history, keep its weights and report it; ``Diverged`` if its loss is not
        finite or has blown up."""
        assert self.pending is not None
        if self.pending[3] is None:
            self.submit()
        epoch, weights, batches, measurement = self.pending
        result = Epoch(epoch, *measurement.result())   # a stop here leaves it pending
        self.pending = None
        fault = self.divergence(result)
        if fault:
            raise diverged(epoch, fault, batches, self.cause, self.last_epoch())
        self.history.append(result)
        self.kept = weights                    # before report: history and kept agree
        if self.report is not None:
            self.report(result)

    def divergence(self, result: Epoch) -> str | None:
        """Why this epoch's numbers are those of a diverged run, or None."""
        if not result.finite():
            return f"the loss is not finite ({result})"
        began = max(self.history[0].train_nll if self.history else result.train_nll,
                    math.log(nclasses(self.w)))
        if result.train_nll > BLOWUP * began:
            return (f"the training loss rose to {result.train_nll:.4g}, over {BLOWUP} times "
                    f"where the run began ({began:.4g}) ({result})")
        return None

    def last_epoch(self) -> int | None:
        """The epoch of the kept weights: the last in the history (None before any)."""
        return self.history[-1].epoch if self.history else None

    def __exit__(self, kind, error, traceback) -> None:
        """Record the last epoch. After an interruption or a divergence (also one found
        here), ``stop``: the epoch trained last is kept if it is sound, and ``w`` is set back
        to the last epoch in the history."""
        finished = False
        try:
            if kind is None and self.pending is not None:
                self.record()
            finished = kind is None
        finally:
            if not finished:
                self.stop()
            self.thread.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """The wrap-up of a stopped loop; further stop signals wait for it."""
        with stop_signals_noted(lambda signum: None):
            if self.pending is not None:
                try:
                    self.record()
                except (Diverged, ValueError):
                    pass                       # that epoch is not kept: the stop stands
            for wi, kept in zip(self.w, self.kept):
                wi[...] = kept


def copy(w: list) -> list:
    return [wi.copy() for wi in w]


def diverged(epoch: int, fault: str, batches, cause: str, kept: int | None) -> Exception:
    """The error for a diverged epoch: the data's fault if its batches hold a NaN or inf
    (a ValueError that names the first such batch), else ``Diverged``, naming the likely
    cause (the initial weights at epoch 0, else what ``cause`` says)."""
    for k, batch in enumerate(batches):
        for name, array in zip(("x", "ygold"), batch):
            try:
                check_finite(array, f"training batch {k}'s {name}")
            except ValueError as err:
                return err
    if epoch == 0:
        return Diverged(f"epoch 0 (the initial weights): {fault}; the initial weights are too "
                        f"large for this model: try a smaller winit")
    return Diverged(f"epoch {epoch}: {fault}; {cause}. w keeps the weights of epoch {kept}")
