"""What the scripts check before a run, so that bad options are refused (exit status 2)
before anything is written: the argparse number types, the output directory, numbers that
the chosen float type cannot hold, the memory a model needs, and the data.

The number types are ``knetlike.checks.check_number`` (the one number check of the library:
lr, winit, l1, l2, dropout) applied to the text of a flag, so a script and a library call
refuse the same values in the same words.
"""
from __future__ import annotations

import argparse
import math
import os
import stat
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from .checks import check_memory, check_number, check_whole, number_range
from .data import DataError, Dataset
from .machinery import stop_name
from .weights import weights_nbytes

# --- the argparse types ---------------------------------------------------------------


def whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number ``>= least``."""
    def parse(text: str) -> int:
        try:
            return check_whole(int(text), "value", least)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number >= {least}, got {text!r}") from None
    return parse


def number(low: float = 0.0, high: float = math.inf, *, above: bool = False,
           below: bool = False) -> Callable[[str], float]:
    """An argparse type: ``check_number`` of the flag's text (a finite number in the range)."""
    def parse(text: str) -> float:
        try:
            return check_number(float(text), "value", low, high, above=above, below=below)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {number_range(low, high, above, below)}, got {text!r}") from None
    return parse


positive = number(above=True)                 # a learning rate
nonnegative = number()                        # a standard deviation, a penalty
probability = number(0, 1, below=True)        # dropout: 1 would drop everything

# --- numbers the chosen float type must hold -----------------------------------------------

# The largest |z| of the standard normal draws behind the initial weights, with room to
# spare: P(|z| > 10) is about 1e-23 per draw, so no model's draws come near it.
LARGEST_DRAW = 10.0


def check_fits(dtype, **values: float) -> None:
    """Refuse a setting whose numbers would overflow ``dtype`` before training begins:
    ``winit`` (the initial W are ``winit * z``, |z| up to ``LARGEST_DRAW``) and ``lr``,
    ``l1``, ``l2`` (each is cast to ``dtype`` and multiplies the gradient or the weights).
    A ValueError names the flag, the value and the largest that fits."""
    largest = float(np.finfo(dtype).max)
    for name, value in values.items():
        scale = LARGEST_DRAW if name == "winit" else 1.0
        if value * scale > largest:
            limit = largest / scale
            raise ValueError(f"argument --{name}: {value:g} overflows {np.dtype(dtype).name} "
                             f"(its largest number is {largest:.3g}"
                             + (f"; initial weights of up to {scale:g} standard deviations "
                                f"need --winit <= {limit:.3g}" if scale != 1 else "")
                             + f"); choose a smaller --{name}"
                             + (" or --dtype float64" if np.dtype(dtype) != np.float64 else ""))


# --- the output directory -------------------------------------------------------------

def check_out(path: str) -> None:
    """Refuse an output path that cannot become a directory a run holds alone, before any
    work and without writing anything: an empty name, ``.``, ``..`` or ``/`` (no directory
    of its own), a name too long, a dangling symbolic link, a file where a directory must
    be, or an unwritable nearest existing directory. Raises a ValueError that says which."""
    if path == "":
        raise ValueError("an empty name is no directory; give one, e.g. --out runs/mnist")
    if Path(path).name in ("", ".", ".."):
        raise ValueError(f"{path} names no directory of its own, and a run needs one it can "
                         f"hold alone; name one, e.g. --out runs/mnist")
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


# --- memory -----------------------------------------------------------------------------

def training_nbytes(*hidden: int, classes: int, inputs: int, dtype, batchsize: int = 100,
                    measured: int = 0, columns: int = 10_000) -> int:
    """The memory a run of ``weights(*hidden)`` needs besides its data, in bytes:

    * w, its gradient and the copies of an epoch's weights that ``fit`` keeps: 5 times w;
    * a training step's activations, kept by autograd for the backward pass: per layer
      ``W x``, ``+ b``, relu and its gradient, and a dropout mask of the input, over
      ``batchsize`` columns;
    * the measurement of an epoch, which runs beside the next epoch's training: the same
      activations over ``evaluate``'s blocks of ``columns`` columns;
    * the ``measured`` columns of data themselves, in ``dtype`` (a script converts the
      training and test sets once), with their one-hot targets.
    """
    dtype = np.dtype(dtype)
    layers = sum([*hidden, classes])
    step = (4 * layers + inputs) * batchsize
    measuring = 3 * layers * min(columns, max(measured, 1))
    data = (inputs + classes) * measured
    return (5 * weights_nbytes(*hidden, classes=classes, inputs=inputs, dtype=dtype)
            + (step + measuring + data) * dtype.itemsize)


def check_training_memory(hidden, classes: int, inputs: int, dtype, batchsize: int,
                          measured: int) -> None:
    """``check_memory`` of ``training_nbytes``; the ValueError names the sizes."""
    what = (f"--hidden {' '.join(map(str, hidden)) or '(none)'} with --batchsize {batchsize} "
            f"in {np.dtype(dtype).name}")
    check_memory(training_nbytes(*hidden, classes=classes, inputs=inputs, dtype=dtype,
                                 batchsize=batchsize, measured=measured), what)


# --- the data ---------------------------------------------------------------------------

def load_data(script: str, dataset: Dataset, root: str | None) -> tuple:
    """``dataset.load(root)``; a message and status 1 if it cannot be loaded (the message
    lists what was tried and how to fix it) or a stop signal ends it: nothing is written."""
    try:
        return dataset.load(root=root)
    except DataError as err:
        sys.exit(f"{script}: {err}")
    except KeyboardInterrupt as err:
        sys.exit(f"{script}: interrupted by {stop_name(err)} while loading the data; nothing "
                 f"was written")
