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
    """``Epoch`` records from CSV text with (at least) the ``COLUMNS`` as header."""
    rows = csv.DictReader(io.StringIO(text))
    missing = set(COLUMNS) - set(rows.fieldnames or ())
    if missing:
        raise ValueError(f"{source}: not a training history, missing columns {sorted(missing)}; "
                         f"expected the header {','.join(COLUMNS)}")
    return [Epoch(int(r["epoch"]), *(float(r[c]) for c in COLUMNS[1:])) for r in rows]


def save_history(path: str | os.PathLike, history: list[Epoch]) -> None:
    """Write the history to ``path`` as CSV, atomically."""
    atomic_write(path, history_csv(history))


def load_history(path: str | os.PathLike) -> list[Epoch]:
    """Read a history written by ``save_history`` (or the notes' reference CSV)."""
    return parse_history(Path(path).read_text(), source=str(path))
