"""The history file: what save_history writes, load_history reads back, and a damaged
row is reported with its file, line, column and value; read_history, the one bounded and
checked reader that the scripts use."""
import math
import os
import re
from pathlib import Path

import pytest

from knetlike.history import (COLUMNS, MAX_BYTES, Epoch, drawable, load_history, parse_history,
                              read_history, save_history)

HEADER = "epoch,train_nll,test_nll,train_error,test_error"
GOOD = "1,0.359311,0.342333,0.103033,0.094"


def test_a_saved_history_loads_back_equal(tmp_path):
    history = [Epoch(1, 0.359311, 0.342333, 0.103033, 0.094), Epoch(2, 0.5, 0.25, 0.125, 0.0)]
    save_history(tmp_path / "history.csv", history)
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == HEADER == ",".join(COLUMNS)
    assert load_history(tmp_path / "history.csv") == history


@pytest.mark.parametrize("row, column, found", [
    ("2,0.3,0.3,0.09", "column test_error", "found no value"),
    ("2,0.3,,0.09,0.09", "column test_nll", "found ''"),
    ("2,0.3,abc,0.09,0.09", "column test_nll", "found 'abc'"),
    ("2.5,0.3,0.3,0.09,0.09", "column epoch", "expected a whole number, found '2.5'"),
    ("x,0.3,0.3,0.09,0.09", "column epoch", "found 'x'"),
    ("2,0.3,0.3,0.09,0.09,7", "beyond the last column", "extra values ['7']"),
], ids=["missing", "empty", "not-a-number", "fractional-epoch", "text-epoch", "extra"])
def test_a_malformed_row_names_file_line_column_and_value(tmp_path, row, column, found):
    path = tmp_path / "history.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n\n{row}\n")          # the bad row is on line 4
    with pytest.raises(ValueError) as caught:
        load_history(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 4, {column}: ")
    assert found in message
    assert "this is not a history written by save_history" in message


def test_parse_history_names_its_source():
    with pytest.raises(ValueError, match=r"^notes\.csv, line 2, column train_nll: .*'-'"):
        parse_history(f"{HEADER}\n1,-,0.3,0.09,0.09\n", source="notes.csv")
    with pytest.raises(ValueError, match=r"^<text>, line 2, column epoch"):
        parse_history(f"{HEADER}\n,0.3,0.3,0.09,0.09\n")


def test_a_file_without_the_columns_is_not_a_history():
    with pytest.raises(ValueError, match=r"not a training history, missing columns \['test_e"):
        parse_history("epoch,train_nll,test_nll,train_error\n1,0.3,0.3,0.09\n")


# read_history: the one reader of a history file, bounded and checked

def write(path, rows):
    path.write_text(HEADER + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


def test_read_history_takes_what_a_run_writes_from_epoch_0(tmp_path):
    history = [Epoch(0, 2.3, 2.3, 0.9, 0.9), Epoch(1, 0.3, 0.3, 0.1, 0.1),
               Epoch(100, 0.2, 0.3, 0.0, 1.0)]                   # fast: 0 and the last
    save_history(tmp_path / "h.csv", history)
    assert read_history(tmp_path / "h.csv") == (history, [])


@pytest.mark.parametrize("rows, message", [
    ([(1, .3, .3, .1, .1), (0, .4, .4, .1, .1)], "row 2: epoch 0 after epoch 1; a history's "
     "epochs are whole numbers from 0 up, each once, in order"),
    ([(0, .3, .3, .1, .1), (0, .3, .3, .1, .1)], "row 2: epoch 0 after epoch 0"),
    ([(-1, .3, .3, .1, .1)], "row 1: epoch -1;"),
    ([(0, .3, .3, 7.5, .1)], "row 1, train_error: 7.5, but an error is a fraction in [0, 1]"),
    ([(0, .3, .3, .1, float("inf"))], "row 1, test_error: inf, but an error is a fraction"),
    ([(0, .3, .3, .1, float("-inf"))], "row 1, test_error: -inf, but an error is a fraction"),
    ([(0, .3, -1e-9, .1, .1)], "row 1, test_nll: -1e-09, but a loss is >= 0"),
    ([(0, float("-inf"), .3, .1, .1)], "row 1, train_nll: -inf, but a loss is >= 0"),
])
def test_read_history_refuses_what_no_run_writes(tmp_path, rows, message):
    path = write(tmp_path / "h.csv", rows)
    with pytest.raises(ValueError) as refused:
        read_history(path)
    assert str(refused.value).startswith(f"{path}, {message}")


def test_values_that_cannot_be_drawn_are_warned_about_and_drawn_as_gaps(tmp_path):
    path = write(tmp_path / "h.csv", [(0, 2.3, 2.3, .9, .9), (1, "nan", .3, .1, "nan"),
                                      (2, "inf", 1.79e308, .1, .1), (3, .2, .2, .05, .05)])
    history, warnings = read_history(path)
    assert warnings == [f"{path}, row 2, train_nll: nan cannot be drawn; left out of the figure",
                        f"{path}, row 2, test_error: nan cannot be drawn; left out of the figure",
                        f"{path}, row 3, train_nll: inf cannot be drawn; left out of the figure",
                        f"{path}, row 3, test_nll: 1.79e+308 cannot be drawn; left out of the "
                        f"figure"]
    shown = drawable(history)
    assert [e.epoch for e in shown] == [0, 1, 2, 3]
    assert [math.isnan(e.train_nll) for e in shown] == [False, True, True, False]
    assert math.isnan(shown[2].test_nll) and shown[3] == history[3]


def sparse(path, size):
    """A file of ``size`` zero bytes that takes no disk."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: os.mkfifo(d / "fifo") or d / "fifo", "not a regular file but a fifo"),
    (lambda d: Path("/dev/zero"), "/dev/zero: not a regular file but a character device"),
    (lambda d: d, "not a regular file but a directory"),
    (lambda d: sparse(d / "big.csv", MAX_BYTES + 1),
     f"more than {MAX_BYTES} bytes, too large for a training history"),
    (lambda d: (d / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff") and d / "bin.csv",
     "not a training history (not even text)"),
])
def test_read_history_reads_only_a_small_regular_file(tmp_path, make, message):
    """A fifo would block a read forever, /dev/zero never ends: both are refused before a
    byte is read (the test would hang on the fifo otherwise)."""
    path = make(tmp_path)
    with pytest.raises(ValueError, match=re.escape(message)):
        read_history(path)


def test_a_field_too_long_for_csv_is_a_value_error_naming_the_line(tmp_path):
    from knetlike.history import read_history
    path = tmp_path / "h.csv"
    path.write_text("epoch,train_nll,test_nll,train_error,test_error\n" + "x" * 200_000 + "\n")
    with pytest.raises(ValueError, match=r"h.csv, line 2: not CSV that a history holds"):
        read_history(path)
