"""What a script's run needs around the lecture, kept out of the lecture's way.

``scripts/mnist.py`` reads like Knet's mnist.jl ``main``: options, data, ``weights``,
``minibatch``, the epoch loop, ``--gcheck``, the figures. What a run needs around that
lives here, in this order:

* ``Run``, a context manager for one run: it claims the output directory (one run per
  directory, see ``files.claim_directory``), writes settings.json first, keeps history.csv
  current after each epoch, turns a stop signal (Ctrl-C, SIGTERM, SIGHUP), a closed
  standard output (``mnist.py | head``) or a divergence into the run's status, writes the
  outputs atomically with each failure collected, writes the summary last, says on stderr
  what went wrong and what was kept, and gives the exit status.
* what a run writes: the files (``write_files``, ``save_weights``) and the summary's
  verdicts (``deviation_lines`` against the lecture's numbers, ``GradientChecks``).
* what the scripts check before a run: the argparse number types (``whole``, ``positive``,
  ``nonnegative``, ``probability``), ``check_out`` for an output directory,
  ``training_nbytes`` for the memory a model needs, ``load_data``.
* what they say: ``say``, ``show``, ``model_name``, ``run_script``.

Exit statuses: 0 for a finished run with every file written; 1 for a run that stopped,
diverged, failed a check or could not write a file; 2 for bad options, refused before
anything is written.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import numpy as np

from .files import DirectoryInUse, atomic_path, atomic_write, claim_directory
from .data import DataError, Dataset
from .gradcheck import GradCheck
from .history import Epoch, save_history
from .machinery import Interrupted, stop_signals_noted, stop_signals_raise
from .reference import TOLERANCE, compare
from .train import Diverged
from .weights import weights_nbytes

Writer = Callable[[Path], None]     # writes one output file at the path it is given


# --- one run: its directory, its status, its files, its summary, its exit status ------

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
    """

    def __init__(self, script: str, out: str, overwrite: bool, outputs: Sequence[str],
                 settings: dict):
        self.script, self.out, self.overwrite = script, out, overwrite
        self.outputs, self.settings = tuple(outputs), settings
        self.history: list[Epoch] = []       # fit's history: pass it as history=run.history
        self.status = "finished"
        self.seconds = 0.0                   # the time the epoch loop took
        self.exit_status = 1
        self.path = Path(out)
        self._unsaved: list[OSError] = []    # per-epoch saves of history.csv that failed
        self._stack = ExitStack()

    def __enter__(self) -> Run:
        try:
            with ExitStack() as stack:       # undone if entering fails
                stack.enter_context(stop_signals_raise())
                self.path = stack.enter_context(self._claim()).path
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
                kept = [name for name in self.outputs if (self.path / name).exists()]
                self.say(f"interrupted by {stop_name(err)}; kept in {self.path}: "
                         f"{', '.join(kept) or 'nothing'}")
                self.exit_status = 1
                return True
        return False

    def say(self, message: str) -> None:
        """A note on stderr, headed by the script's name."""
        say(f"{self.script}: {message}")

    def _claim(self):
        """The output directory, held for this run; exit status 2 if it cannot be."""
        try:
            claimed = claim_directory(self.out, self.overwrite, self.outputs)
        except DirectoryInUse as err:
            self._refuse(f"{err.filename} {err.strerror}, or choose another --out")
        except OSError as err:
            self._refuse(f"cannot use {err.filename or self.out}: {err.strerror}; choose a "
                         f"writable directory")
        if claimed.instead:
            hint = "" if claimed.in_use else " (--overwrite replaces it)"
            say(f"{claimed.instead}; writing to {claimed.path} instead{hint}")
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

    @property
    def epoch(self) -> int:
        """The epoch the run's weights belong to: the last in its history (0 before any)."""
        return self.history[-1].epoch if self.history else 0

    @contextmanager
    def loop(self) -> Iterator[None]:
        """The epoch loop. A stop signal, a closed standard output or a divergence ends it
        with the run's status instead of an exception (``fit`` keeps ``w`` and the history
        consistent); the time it took is ``seconds``."""
        start = time.perf_counter()
        try:
            yield
        except KeyboardInterrupt as err:              # Ctrl-C, SIGTERM, SIGHUP
            self.status = f"interrupted by {stop_name(err)} after epoch {self.epoch}"
        except Diverged as err:
            self.status = f"diverged: {err}"
        except OutputClosed:                          # `mnist.py | head`: the reader left
            self.status = f"stopped after epoch {self.epoch}: standard output was closed"
        finally:
            self.seconds = time.perf_counter() - start

    def report(self, epoch: Epoch) -> None:
        """``fit``'s report: keep history.csv current, then print the epoch's line."""
        self.keep_history()
        show(epoch)

    def keep_history(self) -> None:
        """Save the history (cheap); if that fails, say so the first time and go on: the
        wrap-up writes it again and says what was kept."""
        path = self.path / "history.csv"
        try:
            save_history(path, self.history)
        except OSError as err:
            if not self._unsaved:
                self.say(f"cannot update {path} ({err.strerror}); training goes on, the "
                         f"history is written again at the end")
            self._unsaved.append(err)

    def finish(self, writers: Mapping[str, Writer], summary: Sequence[str] = (),
               problems: Sequence[str] = ()) -> int:
        """Write the outputs, then summary.txt: the status, the settings, the time, the last
        epoch's numbers, then the ``summary`` lines. Print the summary and say on stderr
        what went wrong and what was kept; stop signals meanwhile only wait. ``problems``
        (a failed check, say) fail the run too. Returns the exit status (``exit_status``)."""
        signals: list[int] = []
        with stop_signals_noted(signals.append):
            failed = write_files(self.path, writers)
            status = self.status
            if failed:                     # the summary is written last, so it can say so
                status += f", but could not write {', '.join(failed)}"
            text = "\n".join([f"status: {status}", *self._summary(), *summary]) + "\n"
            failed.update(write_files(self.path, {"summary.txt": lambda p: atomic_write(p, text)}))
            show_quietly(text)
            self._tell(writers, failed, problems, signals)
        ok = self.status == "finished" and not failed and not problems
        self.exit_status = 0 if ok else 1
        return self.exit_status

    def _summary(self) -> list[str]:
        """The settings as ``key=value`` (a list's values separated by spaces), the time,
        and the last epoch's numbers."""
        shown = {key: " ".join(map(str, value)) or "none" if isinstance(value, list) else value
                 for key, value in self.settings.items() if key not in ("script", "knetlike")}
        per_epoch = f" ({self.seconds / self.epoch:.3f} s per epoch)" if self.epoch else ""
        lines = [f"settings: {' '.join(f'{key}={value}' for key, value in shown.items())}",
                 f"wall time: {self.seconds:.1f} s for {self.epoch} epochs{per_epoch}"]
        return lines + ([f"final: {self.history[-1]}"] if self.history else [])

    def _tell(self, writers: Mapping[str, Writer], failed: Mapping[str, OSError],
              problems: Sequence[str], signals: list[int]) -> None:
        """On stderr: how the run ended, which files could not be written and which were
        kept, the problems, and the stop signals that waited."""
        written = [name for name in ("settings.json", *writers, "summary.txt")
                   if name not in failed]
        kept = f"kept in {self.path}: {', '.join(written)}"
        if self.status != "finished":
            self.say(f"{self.status}; {kept}")
        if failed:
            self.say(f"could not write {', '.join(failed)} in {self.path} ({reasons(failed)}); "
                     f"{kept}. Free some space or choose a writable --out, and run again")
        for problem in problems:
            self.say(problem)
        if signals:
            names = ", ".join(sorted({stop_name(Interrupted(s)) for s in signals}))
            self.say(f"{names} during the wrap-up waited until the files were written")


# --- what a run writes --------------------------------------------------------------

def write_files(directory: Path, writers: Mapping[str, Writer]) -> dict[str, OSError]:
    """Write each file with its writer, in order; a file that cannot be written (a full
    disk, a directory gone) does not stop the others. Returns the failures by file name."""
    failed = {}
    for name, write in writers.items():
        try:
            write(directory / name)
        except OSError as err:
            failed[name] = err
    return failed


def reasons(failed: Mapping[str, OSError]) -> str:
    """``curves.png: No space left on device; ...``: each file that failed, and why."""
    return "; ".join(f"{name}: {err.strerror or err}" for name, err in failed.items())


def param_names(w: list) -> list[str]:
    """``W, b`` for the lecture's model, ``W1, b1, W2, b2, ...`` for deeper ones."""
    if len(w) == 2:
        return ["W", "b"]
    return [f"{name}{k // 2 + 1}" for k in range(0, len(w), 2) for name in ("W", "b")]


def save_weights(path: Path, w: list, epoch: int, hidden: Sequence[int]) -> None:
    """Every array of ``w`` under its name (``param_names``), the epoch they belong to and
    the hidden sizes, as an .npz file, atomically."""
    with atomic_path(path) as temp:
        np.savez(temp, **dict(zip(param_names(w), w)), epoch=epoch,
                 hidden=np.array(hidden, dtype=np.int64))


def deviation_lines(history: Sequence[Epoch], reference: Mapping[str, list] | None,
                    held: bool) -> list[str]:
    """The summary's comparison with the lecture's numbers (``{name: epochs}``, one run):
    per column the largest deviation over the common epochs. Only a run with the notes'
    settings (``held``) is held to ``TOLERANCE``; others are compared for information."""
    (name, numbers), = reference.items() if reference else [("", [])]
    if not {e.epoch for e in numbers} & {e.epoch for e in history}:
        return []
    found = compare(list(history), numbers)
    if name == "next lecture":
        head = ("largest deviation from the next lecture's MLP-64 run (for information: an "
                "MLP run depends on its seed; compare in distribution):")
    elif held:
        verdict = "within" if max(d.max_abs for d in found) <= TOLERANCE else "NOT within"
        head = f"largest deviation from the notes ({verdict} {TOLERANCE}):"
    else:
        head = ("largest deviation from the notes (for information only: these settings "
                "differ from the notes' run):")
    return [head, *(f"  {d}" for d in found)]


# --- mnist.jl's --gcheck: a verdict on each check, and on the run's -----------------------

# The largest relative error that passes. In float64 with central differences of step 1e-6,
# the smallest derivatives (near gradcheck's floor of 1e-8) are compared with the
# differences' rounding, |loss| * 1e-16 / 1e-6, so a correct gradient can show relative
# errors of a few 1e-3; so can a relu input within 1e-6 of 0. A wrong gradient (sign,
# factor, transposition, missing term) is wrong by about 1, at many entries and every epoch.
GCHECK_TOLERANCE = 1e-2


class GradientChecks:
    """The gradient checks of a run of ``w``: one per epoch, ``nsample`` entries per array."""

    def __init__(self, w: list, nsample: int):
        self.names, self.sizes = param_names(w), [np.size(wi) for wi in w]
        self.nsample = nsample
        self.checks: list[tuple[int, GradCheck]] = []

    def add(self, epoch: int, check: GradCheck) -> str:
        """Keep the check of ``epoch``; its line: ``gcheck:3 worst relative error 2.1e-06 at
        W1[12, 345] (gradient ..., central difference ...): ok`` (or FAILED)."""
        self.checks.append((epoch, check))
        where = f"{self.names[check.param]}[{', '.join(map(str, check.index))}]"
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


# --- before a run: the options, the output directory, the memory, the data -----------

def whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number ``>= least``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < least:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {least}, got {text!r}")
        return value
    return parse


def _number(text: str, fits: Callable[[float], bool], wanted: str) -> float:
    """``text`` as a finite float for which ``fits`` holds, else an argparse error."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and fits(value)):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
    return value


def positive(text: str) -> float:
    """An argparse type: a finite number > 0 (a learning rate)."""
    return _number(text, lambda v: v > 0, "a finite number > 0")


def nonnegative(text: str) -> float:
    """An argparse type: a finite number >= 0 (a standard deviation, a penalty)."""
    return _number(text, lambda v: v >= 0, "a finite number >= 0")


def probability(text: str) -> float:
    """An argparse type: a probability in [0, 1) (dropout: 1 would drop everything)."""
    return _number(text, lambda v: 0 <= v < 1, "a probability in [0, 1)")


def check_out(path: str) -> None:
    """Refuse an output path that cannot become a writable directory, before any work and
    without writing anything: an empty name, a name too long, a dangling symbolic link, a
    file where a directory must be, or an unwritable nearest existing directory. Raises a
    ValueError that says which."""
    if path == "":
        raise ValueError("an empty name is no directory; give one, e.g. --out runs/mnist")
    for place in (Path(path), *Path(path).parents):
        try:
            mode = place.lstat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue                # not there yet: the run makes it (or a file above says)
        except OSError as err:      # a name too long, a loop of links, no permission
            raise ValueError(f"cannot use {path}: {err.strerror}; choose a writable "
                             f"directory") from None
        if stat.S_ISLNK(mode) and not place.exists():
            problem = f"{place} is a symbolic link to {os.readlink(place)}, which does not exist"
        elif not place.is_dir():
            problem = f"{place} is a file, not a directory"
        elif not os.access(place, os.W_OK | os.X_OK):
            problem = f"{place} is not writable"
        else:
            return
        raise ValueError(f"cannot use {path}: {problem}; choose a writable directory")


def training_nbytes(*hidden: int, classes: int, inputs: int, dtype, columns: int = 10_000) -> int:
    """The memory a run of ``weights(*hidden)`` needs besides its data: w, its gradient and
    the copies of an epoch's weights that ``fit`` keeps (5 times w), and the widest layer's
    activations (``W x``, ``+ b``, relu) over ``columns`` columns (``evaluate``'s blocks)."""
    dtype = np.dtype(dtype)
    widest = max([*hidden, classes])
    return (5 * weights_nbytes(*hidden, classes=classes, inputs=inputs, dtype=dtype)
            + 3 * columns * widest * dtype.itemsize)


def load_data(script: str, dataset: Dataset, root: str | None) -> tuple:
    """``dataset.load(root)``; a message and status 1 if it cannot be loaded (the message
    lists what was tried and how to fix it) or Ctrl-C stops it: nothing is written then."""
    try:
        return dataset.load(root=root)
    except DataError as err:
        sys.exit(f"{script}: {err}")
    except KeyboardInterrupt:
        sys.exit(f"{script}: interrupted by Ctrl-C while loading the data; nothing was written")


# --- what a run says ----------------------------------------------------------------

def say(message: str) -> None:
    """A note on stderr, if stderr still takes it (``2>&1 | head`` closes it with stdout)."""
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass


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


def stop_name(err: BaseException) -> str:
    """``Ctrl-C``, ``SIGTERM`` or ``SIGHUP``: what stopped the run."""
    return str(err) if isinstance(err, Interrupted) else "Ctrl-C"


def model_name(hidden: Sequence[int]) -> str:
    """``softmax`` (no hidden layer: the lecture's model), or ``MLP 64``, ``MLP 128-64``."""
    return "softmax" if not hidden else "MLP " + "-".join(str(h) for h in hidden)


def run_script(script: str, main: Callable[[], int | None]) -> int:
    """``main()``'s exit status, for ``sys.exit``; a Ctrl-C that lands outside what the
    script handles itself is a one-line message and status 1, never a traceback."""
    try:
        return main() or 0
    except KeyboardInterrupt:
        say(f"{script}: interrupted by Ctrl-C")
        return 1
