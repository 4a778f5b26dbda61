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
from concurrent.futures import Future, ThreadPoolExecutor
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
    """The record of ``fit``'s epochs: ``trained(epoch, batches, measure)`` after each one.

    Holds the weights of the last epoch in the history (to go back to), the epoch being
    measured in the background, and a trained epoch not measured yet (``measure=False``).
    """

    def __init__(self, w: list, trn: tuple, tst: tuple, history: list,
                 report: Callable[[Epoch], None] | None, lr: float):
        self.w, self.trn, self.tst, self.history, self.report, self.lr = \
            w, trn, tst, history, report, lr
        self.kept = copy(w)                    # the weights of the last epoch in history
        self.pending: tuple | None = None      # (epoch, weights, batches, Future)
        self.unmeasured: tuple | None = None   # (epoch, weights, batches)

    def __enter__(self) -> Measuring:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="measure")
        self.start: Future = self.thread.submit(evaluate, self.kept, *self.trn)  # where it began
        return self

    def trained(self, epoch: int, batches, measure: bool) -> None:
        """Take a trained epoch: measure it in the background (after recording the one
        measured before it), or keep it to measure later; a non-finite one is measured now."""
        weights = copy(self.w)
        if self.pending is not None:
            self.record()
        finite = all(np.isfinite(wi).all() for wi in weights)
        if not finite and self.unmeasured is not None:    # keep the last sound epoch first
            self.submit()
            self.record()
        self.unmeasured = (epoch, weights, batches)
        if measure or not finite:
            self.submit()
            if not finite:                     # diverged: no use training on; record says so
                self.record()

    def submit(self) -> None:
        """Start measuring the unmeasured epoch in the background."""
        assert self.unmeasured is not None
        epoch, weights, batches = self.unmeasured
        self.pending = (epoch, weights, batches,
                        self.thread.submit(measure, weights, self.trn, self.tst))
        self.unmeasured = None

    def record(self) -> None:
        """Wait for the epoch being measured, then append it to the history, keep its weights
        and report it; ``Diverged`` if its loss is not finite or has blown up."""
        assert self.pending is not None
        epoch, weights, batches, measurement = self.pending
        result = Epoch(epoch, *measurement.result())   # a stop here leaves it pending
        self.pending = None
        fault = self.divergence(result)
        if fault:
            raise diverged(epoch, fault, batches, self.lr, self.last_epoch())
        self.history.append(result)
        self.kept = weights                    # before report: history and kept agree
        if self.report is not None:
            self.report(result)

    def divergence(self, result: Epoch) -> str | None:
        """Why this epoch's numbers are those of a diverged run, or None."""
        if not result.finite():
            return f"the loss is not finite ({result})"
        began = max(self.start.result()[0], math.log(nclasses(self.w)))
        if result.train_nll > BLOWUP * began:
            return (f"the training loss rose to {result.train_nll:.4g}, over {BLOWUP} times "
                    f"where the run began ({began:.4g}) ({result})")
        return None

    def last_epoch(self) -> int:
        """The epoch of the kept weights: the last in the history (0 before any)."""
        return self.history[-1].epoch if self.history else 0

    def __exit__(self, kind, error, traceback) -> None:
        """Record the last epoch: normally the one being measured. After an interruption or
        a divergence (also one found here), the epoch trained last is measured if it was
        not, kept if it is sound, and ``w`` is set back to the last epoch in the history."""
        try:
            if kind is None:
                try:
                    if self.pending is not None:
                        self.record()
                    return
                except BaseException:
                    self.stop()
                    raise
            self.stop()
        finally:
            self.thread.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """The wrap-up of a stopped loop; further stop signals wait for it."""
        with stop_signals_noted(lambda signum: None):
            if self.pending is None and self.unmeasured is not None:
                self.submit()
            try:
                if self.pending is not None:
                    self.record()
            except Diverged:
                pass                           # that epoch is not kept: the stop stands
            finally:
                for wi, kept in zip(self.w, self.kept):
                    wi[...] = kept


def copy(w: list) -> list:
    return [wi.copy() for wi in w]


def diverged(epoch: int, fault: str, batches, lr: float, kept: int) -> Exception:
    """The error for a diverged epoch: the data's fault if its batches hold a NaN or inf
    (a ValueError that names the first such batch), else the learning rate's (``Diverged``)."""
    for k, batch in enumerate(batches):
        for name, array in zip(("x", "ygold"), batch):
            try:
                check_finite(array, f"training batch {k}'s {name}")
            except ValueError as err:
                return err
    return Diverged(f"epoch {epoch}: {fault}; lr = {lr} is too large for this model. w keeps "
                    f"the weights of epoch {kept}; try a smaller lr")
