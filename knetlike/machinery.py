"""The machinery around the training loop, kept out of the notes' loop: BLAS threads and
stop signals, all in this one module.

* ``one_blas_thread``: the per-step products are small (10 x 784 x 100); a second BLAS
  thread gains nothing on them and makes every step wait for it whenever the other core
  is busy.
* Stop signals: Ctrl-C (SIGINT), ``kill``/``timeout``/``docker stop`` (SIGTERM) and a
  closed terminal (SIGHUP). Two policies, each a context manager:

  - ``stop_signals_raise``: a script keeps its run. Each signal raises ``Interrupted`` (a
    ``KeyboardInterrupt``) where the program is; ``stop_signals_between_steps`` holds it
    until the SGD step under way is done, and ``stop_signals_noted`` while results are
    written. Holding matters: autograd's function wrapper swallows any exception raised
    while it runs (HIPS/autograd issue #651), so an interrupt inside ``grad`` would be lost.
  - ``cleanup_on_termination``: a library call (a fetch) cleans up after itself and then
    dies of SIGTERM or SIGHUP, as the process would have without it.

  Signals whose handler the program has set itself (or that it ignores) are left alone,
  and so is every thread but the main one (only it can set handlers).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from threadpoolctl import ThreadpoolController

# The BLAS libraries numpy loaded, found once (looking them up is not free).
_blas = ThreadpoolController()

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


def one_blas_thread():
    """A context in which BLAS runs on one thread: ``with kl.one_blas_thread(): ...``."""
    return _blas.limit(limits=1, user_api="blas")


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: Ctrl-C (SIGINT), SIGTERM or SIGHUP. ``str()`` names it."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    def __str__(self) -> str:
        return "Ctrl-C" if self.signum == signal.SIGINT else signal.Signals(self.signum).name


def stop_name(err: BaseException) -> str:
    """``Ctrl-C``, ``SIGTERM`` or ``SIGHUP``: what a ``KeyboardInterrupt`` stopped."""
    return str(err) if isinstance(err, Interrupted) else "Ctrl-C"


def _raise(signum, frame):
    raise Interrupted(signum)


def _ours(handler) -> bool:
    """Handlers that mean "raise where the program is", which holding may replace."""
    return handler in (signal.default_int_handler, _raise)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise ``Interrupted`` as Ctrl-C raises
    ``KeyboardInterrupt``, so a program can stop cleanly and keep its results. Signals
    whose handler the program has set itself are left as they are."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
                previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def stop_signals_between_steps() -> Iterator[Callable[[], None]]:
    """Hold a stop signal until the step under way is done; yield ``stop_if_asked``.

    A held signal raises ``Interrupted`` when ``stop_if_asked()`` is called between steps
    (and on leaving the block); a second one raises at once. Held are Ctrl-C, and SIGTERM
    and SIGHUP where ``stop_signals_raise`` is in force. Handlers of the program's own,
    and threads other than the main one, are left as they are.
    """
    held = []
    if threading.current_thread() is threading.main_thread():
        held = [s for s in STOP_SIGNALS if _ours(signal.getsignal(s))]
    asked: list[int] = []

    def hold(signum, frame):
        if asked:                      # the second signal: no more waiting
            raise Interrupted(signum)
        asked.append(signum)

    def stop_if_asked():
        if asked:
            raise Interrupted(asked[0])

    previous = {s: signal.signal(s, hold) for s in held}
    try:
        yield stop_if_asked
    finally:
        for s, handler in previous.items():
            if signal.getsignal(s) is hold:   # not if the steps installed their own
                signal.signal(s, handler)
    stop_if_asked()                    # a signal after the last step


@contextmanager
def stop_signals_noted(note: Callable[[int], None]) -> Iterator[None]:
    """Within the block, a stop signal only calls ``note(signum)``: for writing results
    after a stop, which a second or third Ctrl-C must not cut short."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, lambda s, f: note(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ignore_stop_signals() -> None:
    """Ignore the stop signals from now on: for a program whose work is done and which only
    exits, so that a late Ctrl-C or SIGTERM cannot turn a clean exit into a killed one."""
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived inside ``cleanup_on_termination``; args[0] is the signal."""


@contextmanager
def cleanup_on_termination() -> Iterator[None]:
    """Let SIGTERM and SIGHUP unwind the block before the process dies of them.

    Their default action ends Python at once, without running ``finally`` blocks, so a
    fetch would leave its scratch directory (and a running npm or apt-get) behind. Inside
    the block they raise ``Terminated`` instead; once the block has cleaned up, the signal
    is sent again with its default action, so the process ends as it would have. Under
    ``stop_signals_raise`` (a script keeping its run) they already raise ``Interrupted``,
    which unwinds the block as well, and are left so.
    """
    def terminate(signum, frame):
        raise Terminated(signum)

    main = threading.current_thread() is threading.main_thread()
    ours = [sig for sig in (signal.SIGTERM, signal.SIGHUP)
            if main and signal.getsignal(sig) is signal.SIG_DFL]
    for sig in ours:
        signal.signal(sig, terminate)
    try:
        yield
    except Terminated as stop:
        for sig in ours:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), stop.args[0])      # the block has cleaned up: now die of it
        raise
    finally:
        for sig in ours:
            signal.signal(sig, signal.SIG_DFL)


def say(message: str) -> None:
    """A note on stderr, where it does not mix with results, if stderr still takes it (a
    pipe such as ``2>&1 | head`` closes it): the one way the package and its scripts talk."""
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass
