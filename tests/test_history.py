"""The history file: what save_history writes, load_history reads back, and a damaged
row is reported with its file, line, column and value."""
import pytest

from knetlike.history import COLUMNS, Epoch, load_history, parse_history, save_history

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
