"""The training history: one record of four numbers per epoch, and its CSV file.

The columns are those of the notes' reference numbers (``reference/``), so a run of ours
and the lecture's run read and compare the same way.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import asdict, astuple, dataclass, fields
from pathlib import Path
from typing import Any

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
    missing = set(COLUMNS) - set(rows.fieldnames or ())
    if missing:
        raise ValueError(f"{source}: not a training history, missing columns {sorted(missing)}; "
                         f"expected the header {','.join(COLUMNS)}")
    return [_epoch(row, f"{source}, line {rows.line_num}") for row in rows]


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
