"""The training history: one record of four numbers per epoch, and its CSV file.

The columns are those of the notes' reference numbers (``reference/``), so a run of ours
and the lecture's run read and compare the same way. ``read_history`` is the one reader of
a history file that the scripts use (compare.py, overfitting.py): bounded, and checked.
"""
from __future__ import annotations

import csv
import errno
import io
import math
import os
import stat
from dataclasses import asdict, astuple, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

from .files import atomic_write


@dataclass
class Epoch:
    """One row of the training history: the four numbers measured after an epoch."""

    epoch: int
    train_nll: float
    test_nll: float
    train_error: float
    test_error: float

    def __str__(self) -> str:
        """The notes' report line: ``epoch:1 softloss:train/test zeroone:train/test``."""
        return (f"epoch:{self.epoch} softloss:{self.train_nll:.6f}/{self.test_nll:.6f} "
                f"zeroone:{self.train_error:.6f}/{self.test_error:.6f}")

    def finite(self) -> bool:
        """True when all four numbers are finite (a diverged run's are not)."""
        return all(math.isfinite(v) for v in asdict(self).values())


# epoch, train_nll, test_nll, train_error, test_error
COLUMNS = tuple(f.name for f in fields(Epoch))


def history_csv(history: list[Epoch]) -> str:
    """The history as CSV text with a header row of ``COLUMNS``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(e) for e in history)
    return out.getvalue()


def parse_history(text: str, source: str = "<text>") -> list[Epoch]:
    """``Epoch`` records from CSV text with (at least) the ``COLUMNS`` as header.

    ``source`` names the text in errors. A malformed row is a ``ValueError`` naming the
    source, the line, the column and the value, so a damaged file can be found and fixed.
    """
    rows = csv.DictReader(io.StringIO(text))
    try:
        missing = set(COLUMNS) - set(rows.fieldnames or ())
        if missing:
            raise ValueError(f"{source}: not a training history, missing columns "
                             f"{sorted(missing)}; expected the header {','.join(COLUMNS)}")
        return [_epoch(row, f"{source}, line {rows.line_num}") for row in rows]
    except csv.Error as err:           # a field of over 131,072 characters, a NUL, ...
        raise ValueError(f"{source}, line {rows.line_num + 1}: not CSV that a history holds "
                         f"({err}); correct or delete that line") from None


def _epoch(row: dict[str | None, Any], where: str) -> Epoch:
    """One ``Epoch`` from a CSV row: a whole-number epoch and four numbers."""
    fix = (f"this is not a history written by save_history (a header, then per epoch a whole "
           f"number and four numbers: {','.join(COLUMNS)}); correct or delete that line")
    if None in row:                    # csv puts values beyond the header under the key None
        raise ValueError(f"{where}, beyond the last column: extra values {row[None]}; {fix}")
    values = []
    for column in COLUMNS:
        text = row[column]             # None when the row is shorter than the header
        try:
            values.append(int(text) if column == "epoch" else float(text))
        except (TypeError, ValueError):
            kind = "a whole number" if column == "epoch" else "a number"
            found = "no value" if text is None else repr(text)
            raise ValueError(f"{where}, column {column}: expected {kind}, found {found}; "
                             f"{fix}") from None
    epoch, *numbers = values
    return Epoch(int(epoch), *numbers)


def save_history(path: str | os.PathLike, history: list[Epoch]) -> None:
    """Write the history to ``path`` as CSV, atomically."""
    atomic_write(path, history_csv(history))


def load_history(path: str | os.PathLike) -> list[Epoch]:
    """Read a history written by ``save_history`` (or the notes' reference CSV).

    A malformed row is a ``ValueError`` that names ``path``, the line and the column.
    """
    return parse_history(Path(path).read_text(), source=str(path))


# --- the one reader of a history file ------------------------------------------------------

# A history of 100 epochs takes 7 kB: a file larger than this is none, and is not read.
MAX_BYTES = 10_000_000
# Values beyond this are drawn as gaps: a figure's axes cannot span them (their margins
# overflow), and no loss or error of a run that went on training comes near them.
DRAWABLE = 1e300


class Read(NamedTuple):
    """A history file as ``read_history`` found it."""

    history: list[Epoch]      # as written, NaN and inf included
    warnings: list[str]       # what a reader should be told: values that cannot be drawn


def read_history(path: str | os.PathLike) -> Read:
    """Read and check the history file at ``path``, in bounded time and memory.

    Only a regular file of at most ``MAX_BYTES`` is read (a fifo would block, ``/dev/zero``
    never ends): it is opened without waiting and checked before a byte is read. Then the
    checks that every history written by a run passes (``check_history``). Any fault is a
    ``ValueError`` (an ``OSError`` if the file cannot be opened) whose message names the
    file, the line or row, and what a history holds. Values that are not finite are kept
    and named in ``warnings``: ``drawable`` turns them into gaps.
    """
    source = str(path)
    text = read_bounded(path, MAX_BYTES, what="a training history")
    history = parse_history(text, source)
    return Read(history, check_history(history, source))


def read_bounded(path: str | os.PathLike, limit: int, what: str) -> str:
    """The UTF-8 text of the regular file ``path``, refused (ValueError naming the file) if
    it is not a regular file, holds more than ``limit`` bytes, or is not text."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))   # a fifo: no wait
    except OSError as err:
        if err.errno == errno.ENXIO:      # a fifo with no writer, opened without waiting
            raise ValueError(f"{path}: not a regular file but a fifo; not {what}") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ValueError(f"{path}: not a regular file but {file_kind(mode)}; not {what}")
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path}: more than {limit} bytes, too large for {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not {what} (not even text)") from None


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is: ``a fifo``, ``a character device``, ..."""
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a fifo"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a file")


def check_history(history: list[Epoch], source: str) -> list[str]:
    """Refuse (a ValueError naming ``source`` and the row) what no run writes: an epoch
    below 0 or not after the one before (epoch 0 is the initial weights), an error outside
    [0, 1], a negative loss. Return the warnings: values that cannot be drawn (NaN, a loss
    that is infinite or beyond ``DRAWABLE``), and a history without epochs."""
    warnings, previous = [], -1
    for row, e in enumerate(history, start=1):
        where = f"{source}, row {row}"
        if e.epoch < 0 or e.epoch <= previous:
            after = f" after epoch {previous}" if previous >= 0 else ""
            raise ValueError(f"{where}: epoch {e.epoch}{after}; a history's epochs are whole "
                             f"numbers from 0 up, each once, in order")
        previous = e.epoch
        for column in COLUMNS[1:]:
            value, loss = getattr(e, column), column.endswith("nll")
            if math.isnan(value) or (loss and value > DRAWABLE):      # a diverged run's
                warnings.append(f"{where}, {column}: {value} cannot be drawn; left out of "
                                f"the figure")
            elif not 0 <= value <= (math.inf if loss else 1):
                what = "a loss is >= 0" if loss else "an error is a fraction in [0, 1]"
                raise ValueError(f"{where}, {column}: {value}, but {what}")
    if not history:
        warnings.append(f"{source} has no epochs yet; it has a legend entry only")
    return warnings


def drawable(history: list[Epoch]) -> list[Epoch]:
    """The history with every value that cannot be drawn (see ``check_history``) as NaN: a
    gap in its curve."""
    def shown(value: float) -> float:
        return value if math.isfinite(value) and abs(value) <= DRAWABLE else math.nan
    return [Epoch(e.epoch, *(shown(v) for v in astuple(e)[1:])) for e in history]
