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

import inspect
import sys
import warnings
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from autograd.core import make_vjp
from tqdm import tqdm

from .checks import (arguments_checked, caller_checked, check_data, check_finite,
                     check_gradient, check_labelled, check_lr, check_model, check_rng,
                     check_whole, check_writable, checked_by, layer_names)
from .history import Epoch
from .machinery import one_blas_thread, stop_signals_between_steps
from .measuring import Diverged, Measuring, evaluate
from .model import check_loss, check_options, dropout_rates, loss

__all__ = ["train", "train_gradient", "fit", "evaluate", "Diverged"]


def train(w: list, data: Iterable, lr: float = 0.1, gradient: Callable | None = None,
          **options) -> list:
    """One epoch of plain minibatch SGD: ``w[i] -= lr * g[i]`` for each batch, in place.

    ``data`` is a list of ``(x, ygold)`` batches (see ``minibatch``); ``gradient(w, x, ygold,
    **options)`` returns the list of gradients, one per array of ``w``, and defaults to
    ``train_gradient``, autograd's reverse mode of ``loss``. Any other gradient with that
    signature works: ``softmax_gradient`` (autograd through the notes' formula) or
    ``analytic_gradient`` (the hand derivation). ``options`` are the companion notebook's:
    ``l1``, ``l2`` (penalties of the W's), ``pdrop`` (dropout) and ``rng`` (a seed or
    Generator for the dropout masks). Everything is checked before the first step: the
    options, and every batch of a list (of any other iterable, each batch before its step).
    Returns ``w``.
    """
    gradient, options = training_gradient(gradient, **options)
    if not caller_checked():                       # fit checks these once, for every epoch
        check_lr(lr)
        check_trainable(w)
        data = checked(w, data)
    with one_blas_thread(), stop_signals_between_steps() as stop_if_asked, arguments_checked():
        for x, ygold in data:
            g = gradient(w, x, ygold, **options)
            check_gradient(w, g, gradient)          # before any change: g must fit w
            sgd_step(w, g, lr)
            stop_if_asked()
    return w


def sgd_step(w: list, g: list, lr: float) -> None:
    """The notes' update, in place: ``w[i] -= lr * g[i]`` for each array of ``w``."""
    for i in range(len(w)):
        w[i] -= lr * g[i]


@checked_by(check_loss)
def train_gradient(w: list, x, ygold, l1: float = 0, l2: float = 0, pdrop=0,
                   rng=None) -> list:
    """The default training gradient ``[dW1, db1, ...]`` of ``loss(w, x, ygold, l1, l2, pdrop,
    rng)``: autograd's reverse mode of ``loss`` itself, whose primitives' backward passes are
    the notes' derivations (see model.py). ``grad(loss)`` gives the same numbers.
    """
    # autograd's make_vjp (record the forward pass, then run it backward from dJ/dJ = 1)
    # rather than grad, which also wraps loss anew and checks J on every call: 24 us a step.
    vjp, J = make_vjp(lambda w: loss(w, x, ygold, l1, l2, pdrop, rng), w)
    return vjp(np.ones((), np.result_type(J)))


#: The companion notebook's options that ``train`` and ``fit`` pass on to the gradient.
OPTIONS = ("l1", "l2", "pdrop", "rng")


def training_gradient(gradient: Callable | None, **options) -> tuple[Callable, dict]:
    """The gradient to train with (``train_gradient`` for None) and the options it is given,
    checked once: a known name, a value in range, taken by ``gradient``. Only options that
    do something are passed on (a penalty that is not 0; dropout with its generator: a seed
    becomes a Generator here, once, so that the masks of successive steps differ)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}; train and fit take "
                         f"{', '.join(OPTIONS)}")
    check_options(**options)
    used = {name: options[name] for name in ("l1", "l2") if options.get(name)}
    if any(dropout_rates(options.get("pdrop", 0))):
        used.update(pdrop=options["pdrop"], rng=check_rng(options.get("rng")))
    gradient = train_gradient if gradient is None else gradient
    try:
        inspect.signature(gradient).bind(None, None, None, **used)
    except TypeError:
        name = getattr(gradient, "__name__", repr(gradient))
        refused = [key for key in used if not takes(gradient, key)]
        raise ValueError(f"{refused[0]} was given, but the gradient function {name} does not "
                         f"take it; leave it out or pass a gradient that does (the default does)"
                         if refused else f"the gradient function {name} must take the "
                         f"arguments (w, x, ygold), as gradient(w, x, ygold)") from None
    except ValueError:              # a builtin or a callable without a signature: trust it
        pass
    return gradient, used


def takes(function: Callable, option: str) -> bool:
    """Whether ``function(w, x, ygold, option=...)`` binds."""
    try:
        inspect.signature(function).bind(None, None, None, **{option: None})
        return True
    except TypeError:
        return False


def check_trainable(w) -> None:
    """``w`` must be a list of writable arrays that form a model: ``train`` updates them in
    place, and one that is not would leave the model half-stepped."""
    if not isinstance(w, list):
        raise ValueError(f"w must be a list (train updates its arrays in place), got "
                         f"{type(w).__name__}; pass list(w)")
    check_model(w)
    check_writable(w)


def checked(w: list, data: Iterable) -> Iterable:
    """The batches of ``data``, checked against ``w``: a list (or any sequence) whole, now;
    any other iterable batch by batch, as the steps take them."""
    if isinstance(data, Sequence):
        check_batches(w, data)
        return data
    return checked_one_by_one(w, data)


def checked_one_by_one(w: list, data: Iterable) -> Iterator:
    """The batches of an iterable, each checked before it is handed on."""
    count = 0
    for x, ygold in data:
        check_model(w, x, ygold)
        if count == 0:
            check_dtypes(w, x)
        count += 1
        yield x, ygold
    if count == 0:
        raise ValueError(NO_BATCHES)


NO_BATCHES = "train: data has no batches; build them with minibatch(x, y, batchsize)"


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
        fast: bool = False, after_epoch: Callable[[int, list], None] | None = None,
        **options) -> list:
    """The epoch loop of mnist.jl: ``report(0)``, then for each epoch ``train`` over ``dtrn``
    and ``report(epoch)``, where a report measures NLL and error on ``trn`` and ``tst``.

    ``dtrn`` is the list of batches, or a function of the epoch number that returns that
    epoch's batches (a fresh shuffle, say). ``trn`` and ``tst`` are ``(x, labels)`` pairs of
    the full sets. Each measurement is one ``Epoch`` record, appended to ``history`` (pass
    your own list to keep it whatever happens) and handed to ``report``; an empty history
    starts with the initial weights as epoch 0, a longer one goes on from its last epoch.
    ``fast`` (mnist.jl's ``--fast``) measures the last epoch only. What is measured is
    always the plain NLL and error; ``options`` (``l1``, ``l2``, ``pdrop``, ``rng``) change
    only the training. A progress bar over the steps shows on stderr when it is a terminal
    (``progress=None``). ``after_epoch(epoch, w)``, if given, is called after each epoch's
    training with that epoch's weights (a gradient check, say; it must not change ``w``).

    A loss that is not finite, or that rises far above where the run began, raises
    ``Diverged``. On it and on any interruption, ``w`` is set back to the weights of the last
    epoch in ``history`` (measured then if it was not), so the two agree. Returns ``history``.
    """
    history = [] if history is None else history
    check_fit(w, dtrn, trn, tst, epochs, lr)
    gradient, options = training_gradient(gradient, **options)
    first = history[-1].epoch + 1 if history else 1
    quiet = not sys.stderr.isatty() if progress is None else not progress
    cause = likely_cause(lr, options)
    with one_blas_thread(), Measuring(w, trn, tst, history, report, cause) as measuring, \
            arguments_checked():
        for epoch in range(first, first + epochs):
            batches = dtrn(epoch) if callable(dtrn) else dtrn
            if callable(dtrn):
                check_batches(w, batches)               # train gets an iterator: see checked
            steps = tqdm(batches, desc=f"epoch {epoch}", unit="step", leave=False, disable=quiet)
            with np.errstate(over="ignore", invalid="ignore"):   # divergence is checked
                train(w, steps, lr, gradient, **options)
            with stop_signals_between_steps():          # a stop waits for the bookkeeping
                if after_epoch is not None:
                    after_epoch(epoch, w)
                measuring.trained(epoch, batches, measure=not fast or epoch == first + epochs - 1)
    return history


def likely_cause(lr: float, options: dict) -> str:
    """What a diverged run should change: the L2 penalty when it alone overshoots (each step
    multiplies W by ``1 - 2 lr l2``, beyond -1 once ``lr l2 > 1``), else the learning rate."""
    l1, l2 = options.get("l1", 0), options.get("l2", 0)
    if lr * l2 > 1:
        return (f"lr * l2 = {lr * l2:g} is above 1, so the L2 penalty alone overshoots at "
                f"every step (W -= 2 lr l2 W); try a smaller l2 or lr")
    penalties = " and ".join(f"{name} = {value:g}" for name, value in (("l1", l1), ("l2", l2))
                             if value)
    return (f"lr = {lr} is too large for this model{' with ' + penalties if penalties else ''}"
            f"; try a smaller lr")


def check_batches(w: list, batches: Sequence) -> None:
    """Every batch of a list checked against ``w`` (``check_data``), and the float types of
    the first; a ValueError if there is none."""
    if len(batches) == 0:
        raise ValueError(NO_BATCHES)
    check_model(w)
    for k, batch in enumerate(batches):
        try:
            check_data(w, *batch)
        except ValueError as err:
            raise ValueError(f"batch {k} of the data: {err}") from None
    check_dtypes(w, batches[0][0])


def check_fit(w: list, dtrn, trn: tuple, tst: tuple, epochs: int, lr: float) -> None:
    """Everything ``fit`` needs, checked before the first step changes ``w``."""
    if not callable(dtrn) and iter(dtrn) is dtrn:
        raise ValueError("dtrn must be a list of batches or a function of the epoch returning "
                         "one; an iterator would be used up after the first epoch")
    check_whole(epochs, "epochs", 0)
    check_lr(lr)
    check_trainable(w)
    if not callable(dtrn):
        check_batches(w, dtrn)
    for name, (x, labels) in (("trn", trn), ("tst", tst)):
        check_labelled(w, x, labels)
        check_finite(x, f"{name}'s x")
    for k, wk in enumerate(w):
        if not np.isfinite(wk).all():
            raise ValueError(f"w[{k}] ({layer_names(w, k)}) holds non-finite values (NaN or "
                             f"inf) before training; start from finite weights, e.g. "
                             f"kl.weights(...)")
