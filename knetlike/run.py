"""A script's run, kept out of the lecture's way: every script that writes goes through it.

``scripts/mnist.py`` reads like Knet's mnist.jl ``main``: options, data, ``weights``,
``minibatch``, the epoch loop, the figures. What a run needs around that lives here:

* ``Run``, a context manager for one run: it claims the output directory (one run per
  directory, see ``files.claim_directory``), writes settings.json first, keeps the history
  current after each epoch, turns a stop signal (Ctrl-C, SIGTERM, SIGHUP), a closed
  standard output (``mnist.py | head``), a divergence or the loss of its directory into the
  run's status, writes the outputs atomically with each failure collected, writes the
  summary last, says on stderr what went wrong and what was kept, and gives the exit status.
* ``run_script``: a script's ``main`` under the one stop-signal policy, with a stop that
  lands outside a run turned into one line.
* what a run says: ``say``, ``show``, ``model_name``.

What a script checks before its run is in ``options``; the verdicts a run writes live
beside what they judge (``gradcheck.GradientChecks``, ``reference.deviation_lines``,
``weights.save_weights``).

Exit statuses, the same in every script: 0 a finished run with every file written; 1 a run
that stopped (a stop signal, a closed stdout), diverged, failed a check or could not write
a file; 2 options refused before anything was written.
"""
from __future__ import annotations

import errno
import json
import os
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from .files import Claim, DirectoryInUse, atomic_write, claim_directory
from .history import Epoch, save_history
from .machinery import (Interrupted, ignore_stop_signals, say, stop_name, stop_signals_noted,
                        stop_signals_raise)
from .train import Diverged

Writer = Callable[[Path], None]     # writes one output file at the path it is given


class DirectoryLost(Exception):
    """The run's output directory was removed, or replaced by another (another run's)."""


class Run:
    """One run of a script, from its output directory to its exit status::

        with Run("mnist.py", "runs/mnist", overwrite, OUTPUTS, settings) as run:
            w = ...                                      # the lecture's calls
            with run.loop():                             # a stop ends the loop, not the run
                kl.fit(..., history=run.history, report=run.report)
            run.finish({"curves.png": write_curves, ...}, summary_lines)
        return run.exit_status

    Entering claims ``out`` (or ``out-2``, ... if it holds a run; ``overwrite`` removes the
    previous run's ``outputs`` first), writes ``settings`` to settings.json and makes
    SIGTERM and SIGHUP stop the run as Ctrl-C does. It leaves the process with status 2
    if the directory cannot be claimed, 1 if settings.json cannot be written: nothing has
    been trained then. A stop outside ``loop`` ends the run with what was written so far.
    A run whose directory is removed or replaced stops writing there and says so.
    """

    def __init__(self, script: str, out: str, overwrite: bool, outputs: Sequence[str],
                 settings: dict):
        self.script, self.out, self.overwrite = script, out, overwrite
        self.outputs, self.settings = tuple(outputs), settings
        self.history: list[Epoch] = []       # fit's history: pass it as history=run.history
        self.report = self.reporter(self.history)
        self.status = "finished"
        self.seconds = 0.0                   # the time the epoch loops took
        self.exit_status = 1
        self.path = Path(out)
        self.kept: list[str] = ["settings.json"]     # files written during the run
        self._claim: Claim | None = None
        self._unsaved: list[OSError] = []    # saves during the run that failed
        self._stack = ExitStack()

    def __enter__(self) -> Run:
        try:
            with ExitStack() as stack:       # undone if entering fails
                stack.enter_context(stop_signals_raise())
                self._claim = stack.enter_context(self._take())
                self.path = self._claim.path
                say(f"writing to {self.path}")
                self._write_settings()
                self._stack = stack.pop_all()
        except KeyboardInterrupt as err:
            self.say(f"interrupted by {stop_name(err)} before the run began")
            raise SystemExit(1) from None
        return self

    def __exit__(self, kind, err, traceback) -> bool:
        with self._stack:
            if isinstance(err, KeyboardInterrupt):     # a stop outside the epoch loop
                self.say(f"interrupted by {stop_name(err)}; kept in {self.path}: "
                         f"{', '.join(self.kept)}")
                self.exit_status = 1
                return True
        return False

    def say(self, message: str) -> None:
        """A note on stderr, headed by the script's name."""
        say(f"{self.script}: {message}")

    def _take(self) -> Claim:
        """The output directory, held for this run; exit status 2 if it cannot be."""
        try:
            claimed = claim_directory(self.out, self.overwrite, self.outputs)
        except DirectoryInUse as err:
            self._refuse(f"{err.filename} {err.strerror}, or choose another --out")
        except OSError as err:
            self._refuse(f"cannot use {err.filename or self.out}: {err.strerror}; choose a "
                         f"writable directory")
        if claimed.instead:
            say(f"{self.script}: {moved(claimed)}")
        return claimed

    def _refuse(self, problem: str):
        say(f"{self.script}: error: argument --out: {problem}")
        raise SystemExit(2)

    def _write_settings(self) -> None:
        """settings.json, as soon as the run starts; if even that fails, stop (status 1)."""
        path = self.path / "settings.json"
        try:
            atomic_write(path, json.dumps(self.settings, indent=2) + "\n")
        except OSError as err:
            self.say(f"cannot write {path}: {err.strerror}; nothing was trained. Choose a "
                     f"writable --out")
            raise SystemExit(1) from None

    def holds(self) -> bool:
        """True while the run's directory is still the one it claimed."""
        return self._claim is not None and self._claim.holds()

    @property
    def epoch(self) -> int:
        """The epoch the run's weights belong to: the last in its history (0 before any)."""
        return self.history[-1].epoch if self.history else 0

    @contextmanager
    def loop(self, what: str = "") -> Iterator[None]:
        """An epoch loop (of ``what``, when a run has several). A stop signal, a closed
        standard output, a divergence or a lost directory ends it with the run's status
        instead of an exception (``fit`` keeps ``w`` and the history consistent); once the
        status is not ``finished``, later loops are not entered (``stopped`` says so)."""
        start, of = time.perf_counter(), f" of {what}" if what else ""
        try:
            yield
        except KeyboardInterrupt as err:              # Ctrl-C, SIGTERM, SIGHUP
            self.status = f"interrupted by {stop_name(err)}{self._when(what)}"
        except Diverged as err:
            self.status = f"diverged{of}: {err}"
        except OutputClosed:                          # `mnist.py | head`: the reader left
            self.status = f"stopped{self._when(what)}: standard output was closed"
        except DirectoryLost:
            self.status = (f"stopped{self._when(what)}: {self.path} was removed or replaced, "
                           f"so nothing more is written there")
        finally:
            self.seconds += time.perf_counter() - start

    def _when(self, what: str) -> str:
        """`` after epoch 3 (of mlp64)``, or `` (during what)`` before the first epoch."""
        if self.history:
            return f" after epoch {self.epoch}" + (f" of {what}" if what else "")
        return f" during {what}" if what else ""

    @property
    def stopped(self) -> bool:
        """True once a loop ended the run early: no more loops, only the wrap-up."""
        return self.status != "finished"

    def reporter(self, history: list[Epoch], filename: str = "history.csv",
                 head: str = "") -> Callable[[Epoch], None]:
        """A ``report`` for ``fit``: keep ``filename`` current with ``history``, then print
        the epoch's line (after ``head``). ``run.report`` is ``reporter(run.history)``."""
        def report(epoch: Epoch) -> None:
            self.history = history
            self.keep(filename, lambda path: save_history(path, history))
            show(f"{head}{epoch}")
        return report

    def keep(self, filename: str, write: Writer) -> None:
        """Write a file during the run (cheap: a history). ``DirectoryLost`` if the directory
        is not the run's any more; if the write fails, say so the first time and go on: the
        wrap-up writes again and says what was kept."""
        if not self.holds():
            raise DirectoryLost(str(self.path))
        try:
            write(self.path / filename)
        except OSError as err:
            if not self._unsaved:
                self.say(f"cannot update {self.path / filename} ({err.strerror}); training goes "
                         f"on, and what was kept is said at the end")
            self._unsaved.append(err)
            return
        if filename not in self.kept:
            self.kept.append(filename)

    def finish(self, writers: Mapping[str, Writer], summary: Sequence[str] = (),
               problems: Sequence[str] = ()) -> int:
        """Write the outputs, then summary.txt: the status, the settings, the time, the last
        epoch's numbers, then the ``summary`` lines. Print the summary and say on stderr
        what went wrong and what was kept; stop signals meanwhile only wait. ``problems``
        (a failed check, say) fail the run too. Returns the exit status (``exit_status``)."""
        signals: list[int] = []
        with stop_signals_noted(signals.append):
            failed = write_files(self.path, writers, self.holds)
            status = self.status
            if failed:                     # the summary is written last, so it can say so
                status += f", but could not write {', '.join(failed)}"
            text = "\n".join([f"status: {status}", *self._summary(), *summary]) + "\n"
            failed.update(write_files(self.path, {"summary.txt": lambda p: atomic_write(p, text)},
                                      self.holds))
            show_quietly(text)
            self._tell(writers, failed, problems, signals)
        ok = self.status == "finished" and not failed and not problems
        self.exit_status = 0 if ok else 1
        return self.exit_status

    def _summary(self) -> list[str]:
        """The settings as ``key=value`` (a list's values separated by spaces), the time,
        and the last epoch's numbers."""
        shown = {key: " ".join(map(str, value)) or "none" if isinstance(value, list) else value
                 for key, value in self.settings.items()
                 if key not in ("script", "knetlike") and not isinstance(value, dict)}
        per_epoch = f" ({self.seconds / self.epoch:.3f} s per epoch)" if self.epoch else ""
        epochs = f" for {self.epoch} epochs{per_epoch}" if self.history else ""
        lines = [f"settings: {' '.join(f'{key}={value}' for key, value in shown.items())}",
                 f"wall time: {self.seconds:.1f} s{epochs}"]
        return lines + ([f"final: {self.history[-1]}"] if self.history else [])

    def _tell(self, writers: Mapping[str, Writer], failed: Mapping[str, OSError],
              problems: Sequence[str], signals: list[int]) -> None:
        """On stderr: how the run ended, which files could not be written and which were
        kept, the problems, and the stop signals that waited."""
        written = [name for name in dict.fromkeys([*self.kept, *writers, "summary.txt"])
                   if name not in failed]
        kept = f"kept in {self.path}: {', '.join(written)}"
        if self.status != "finished":
            self.say(f"{self.status}; {kept}")
        if failed:
            self.say(f"{could_not_write(self.path, failed)}; {kept}. Free some space or "
                     f"choose a writable --out, and run again")
        for problem in problems:
            self.say(problem)
        if signals:
            names = ", ".join(sorted({stop_name(Interrupted(s)) for s in signals}))
            self.say(f"{names} during the wrap-up waited until the files were written")


def moved(claimed: Claim) -> str:
    """Why a run writes to ``out-N`` and not ``out``, and how to reuse one: ``runs/mnist
    already holds a run (so do runs/mnist-2 ... runs/mnist-8); writing to runs/mnist-9
    instead (--out runs/mnist --overwrite reuses it, replacing its run)``."""
    passed, base = claimed.passed, claimed.passed[0] if claimed.passed else claimed.path
    also = ""
    if len(passed) > 1:
        others = f"{passed[1]}" if len(passed) == 2 else f"{passed[1]} ... {passed[-1]}"
        also = f" (so {'does' if len(passed) == 2 else 'do'} {others})"
    hint = "" if claimed.in_use else f" (--out {base} --overwrite reuses it, replacing its run)"
    return f"{claimed.instead}{also}; writing to {claimed.path} instead{hint}"


def write_files(directory: Path, writers: Mapping[str, Writer],
                holds: Callable[[], bool] = lambda: True) -> dict[str, OSError]:
    """Write each file with its writer, in order; a file that cannot be written (a full
    disk, a directory gone or no longer ours: ``holds()`` false) does not stop the others.
    Returns the failures by file name."""
    failed: dict[str, OSError] = {}
    for name, write in writers.items():
        try:
            if not holds():
                raise OSError(errno.ESTALE, "the directory was removed or replaced")
            write(directory / name)
        except OSError as err:
            failed[name] = err
    return failed


def could_not_write(directory: Path, failed: Mapping[str, OSError]) -> str:
    """``could not write curves.png in runs/mnist (curves.png: No space left on device)``:
    each file of ``write_files``' failures, and why."""
    why = "; ".join(f"{name}: {err.strerror or err}" for name, err in failed.items())
    return f"could not write {', '.join(failed)} in {directory} ({why})"


# --- what a run says ----------------------------------------------------------------

def show(line) -> None:
    """Print a line of the run's report; ``OutputClosed`` if stdout is gone."""
    try:
        print(line, flush=True)
    except OSError as err:          # BrokenPipeError, or EIO from a hung-up terminal
        silence_stdout()
        raise OutputClosed(str(err)) from err


def show_quietly(text: str) -> None:
    """Print ``text`` if stdout still takes it (the files hold it anyway)."""
    try:
        print(text, end="", flush=True)
    except OSError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone, so that nothing more (not even
    Python's flush at exit) fails on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class OutputClosed(Exception):
    """Standard output cannot be written any more: its reader left, or the terminal closed."""


def model_name(hidden: Sequence[int]) -> str:
    """``softmax`` (no hidden layer: the lecture's model), or ``MLP 64``, ``MLP 128-64``."""
    return "softmax" if not hidden else "MLP " + "-".join(str(h) for h in hidden)


def run_script(script: str, main: Callable[[], int | None]) -> int:
    """``main()``'s exit status, for ``sys.exit``, under the one stop-signal policy: SIGTERM
    and SIGHUP stop a script as Ctrl-C does, and a stop that lands outside what the script
    handles itself (its run) is a one-line message and status 1, never a traceback. Once
    ``main`` has returned, the process only exits: a stop signal then (a third Ctrl-C)
    changes nothing, so it is ignored rather than killing the process on its way out."""
    try:
        with stop_signals_raise():
            status = main() or 0
    except KeyboardInterrupt as err:
        say(f"{script}: interrupted by {stop_name(err)}")
        status = 1
    ignore_stop_signals()
    return status
