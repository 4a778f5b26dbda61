"""docs/softmax.ipynb: it runs from top to bottom in a new kernel, and the outputs committed
with it are the ones the current code produces (else: `python scripts/notebook.py`).

The comparison itself lives in scripts/notebook.py (its ``--check`` does what the slow test
here does); the quick tests below hold that comparison to what it promises, and run the
script's ``main`` on small notebooks written here: current, stale, failing, or no notebook
at all. How long the real notebook takes is the benchmark's business, not a test's verdict.
Ctrl-C during a run is tested in test_notebook_interrupt.py.
"""
import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from conftest import load_script

HANG_GUARD = 900      # seconds allowed per cell: only so that a hung cell ends the test
MAX_BYTES = 2_000_000


notebook = load_script("notebook")


# --- the committed notebook, as it is ----------------------------------------------------

@pytest.fixture(scope="module")
def stored():
    return nbformat.read(notebook.NOTEBOOK, as_version=4)


def test_the_committed_notebook_is_valid_small_and_shows_its_figures(stored):
    nbformat.validate(stored)
    size = notebook.NOTEBOOK.stat().st_size
    assert size < MAX_BYTES, f"{notebook.NOTEBOOK.name} is {size / 1e6:.2f} MB, over 2 MB"
    code = [c for c in stored.cells if c.cell_type == "code"]
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 7, f"only {len(images)} figures are stored; run {notebook.REGENERATE}"
    errors = [notebook.describe(i, c) for i, c in enumerate(stored.cells)
              if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"cells store an error: {errors}"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"execution counts {counts}: the stored outputs were not made by one run from the top; "
        f"run {notebook.REGENERATE}")


# --- the notebook, executed now ----------------------------------------------------------

@pytest.mark.mnist
@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_and_its_outputs_are_current(stored, mnist_data):
    # mnist_data: the data is in the cache (fetched if needed) before the kernel asks for it.
    fresh = copy.deepcopy(stored)
    notebook.execute(fresh, timeout=HANG_GUARD)         # a failing cell raises, naming it
    problems = notebook.stale(stored, fresh)
    assert not problems, notebook.report(problems)


# --- the comparison ----------------------------------------------------------------------

def executed(*cells):
    """A notebook of code cells with the given outputs, counted as one run from the top."""
    nb = new_notebook(cells=[new_code_cell(f"cell_{k}()", id=f"cell-{k}", execution_count=k + 1,
                                           outputs=outputs)
                             for k, outputs in enumerate(cells)])
    return nb


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def figure(size="640x480"):
    return new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                            "text/plain": f"<Figure size {size} with 1 Axes>"})


def test_close_numbers_and_whitespace_pass_and_split_streams_are_joined():
    old = executed([stdout("epoch:1 softloss:0.359312/0.342354\n"), figure()])
    new = executed([stdout("epoch:1 softloss:0.359313/"), stdout("0.342354\n"),
                    figure("700x480")])
    assert notebook.stale(old, new) == []
    assert notebook.same_text("[ 0.     -0.1498]", "[-0.  -0.1498]") is None
    assert notebook.same_text("loss nan  grad [-inf]", "loss nan grad [-inf]") is None


def test_a_changed_number_or_word_is_stale_and_the_cell_and_command_are_named():
    old = executed([stdout("a\n")], [stdout("zeroone:0.066850/0.076300\n")])
    new = executed([stdout("a\n")], [stdout("zeroone:0.066850/0.077300\n")])
    problems = notebook.stale(old, new)
    assert len(problems) == 1 and "cell 1 (id 'cell-1'" in problems[0]
    assert "0.076300" in problems[0] and "0.077300" in problems[0]
    message = notebook.report(problems)
    assert "python scripts/notebook.py" in message and "softmax.ipynb" in message
    assert notebook.stale(executed([stdout("loss 1.0\n")]), executed([stdout("loss inf\n")]))
    assert notebook.stale(executed([stdout("train\n")]), executed([stdout("test\n")]))
    assert notebook.stale(executed([stdout("1 2\n")]), executed([stdout("1 2 3\n")]))


def test_missing_outputs_a_stored_error_and_a_partial_run_are_stale():
    fresh = executed([stdout("a\n"), figure()], [stdout("b\n")])
    cleared = executed([], [])
    assert any("stored outputs [], now ['stdout', 'image']" in p
               for p in notebook.stale(cleared, fresh))
    failed = executed([new_output("error", ename="ValueError", evalue="bad", traceback=[])],
                      [stdout("b\n")])
    assert any("stores an error, ValueError: bad" in p for p in notebook.stale(failed, fresh))
    rerun = copy.deepcopy(fresh)
    rerun.cells[0].execution_count = 7                  # a cell run again by hand
    assert any("not made by one run from the top" in p for p in notebook.stale(rerun, fresh))


# --- the script, run through its main() on small notebooks -------------------------------

def tiny(path, outputs=("2\n", "hello\n"), counts=(1, 2)):
    """A two-cell notebook at ``path`` that stores ``outputs`` as what its cells printed."""
    sources = ("print(1 + 1)", "print('hel' + 'lo')")
    nb = new_notebook(cells=[new_code_cell(source, id=f"tiny-{k}", execution_count=count,
                                           outputs=[stdout(text)])
                             for k, (source, text, count) in enumerate(zip(sources, outputs,
                                                                           counts))])
    nbformat.write(nb, path)
    return path


def one_line_on_stderr(capsys):
    """What the script said, checked to be one line on stderr with no traceback."""
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in out + err and "\x1b" not in err, err
    return err


def test_check_passes_a_current_notebook(tmp_path, capsys):
    path = tiny(tmp_path / "current.ipynb")
    before = path.read_bytes()
    assert notebook.main(["--check", str(path), "--timeout", "60"]) == 0
    assert "its stored outputs are current" in capsys.readouterr().out
    assert path.read_bytes() == before                  # --check never writes


def test_check_fails_a_stale_notebook_and_names_its_cell(tmp_path, capsys):
    path = tiny(tmp_path / "stale.ipynb", outputs=("2\n", "hallo\n"))
    before = path.read_bytes()
    assert notebook.main(["--check", str(path), "--timeout", "60"]) == 1
    err = capsys.readouterr().err
    assert "stale.ipynb is stale" in err
    assert "cell 1 (id 'tiny-1', \"print('hel' + 'lo')\"): its stdout output differs" in err
    assert "'hallo'" in err and "'hello'" in err and "cell 0" not in err
    assert path.read_bytes() == before


def test_a_failing_cell_is_named_on_one_line_without_escape_codes(tmp_path, capsys):
    nb = new_notebook(cells=[new_code_cell("print(1 + 1)", id="fine"),
                             new_code_cell("x = 1\nraise ValueError('bad \\x1b[31mred\\x1b[0m')",
                                           id="broken")])
    path = tmp_path / "fails.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert notebook.main([str(path), "--timeout", "60"]) == 1
    err = one_line_on_stderr(capsys)
    assert err == (f"notebook.py: cell 1 (id 'broken', 'x = 1') failed: ValueError: bad red; "
                   f"{path} was not changed\n")
    assert path.read_bytes() == before


@pytest.mark.slow
def test_a_cell_past_the_timeout_is_named(tmp_path, capsys):
    nb = new_notebook(cells=[new_code_cell("print(1 + 1)", id="fine"),
                             new_code_cell("import time\ntime.sleep(600)", id="slow")])
    path = tmp_path / "hangs.ipynb"
    nbformat.write(nb, path)
    assert notebook.main(["--check", str(path), "--timeout", "5"]) == 1
    err = one_line_on_stderr(capsys)
    assert "cell 1 (id 'slow', 'import time') did not finish in 5 s" in err


@pytest.mark.parametrize("content, status, message", [
    (None, 2, "{path}: no such file"),
    ("dir", 2, "{path}: is a directory"),
    ("## a README\n", 1, "{path}: not a notebook: not JSON"),
    (b"\xff\xfe{}", 1, "{path}: not a notebook: not UTF-8 text"),
    ("[1, 2]", 1, "{path}: not a notebook: JSON without a notebook's"),
    ('{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', 1,
     "{path}: not a "),
    ('{"cells": [], "nbformat": 4, "nbformat_minor": 5}', 1,
     "{path}: not a valid notebook: "),
    ('{"cells": [], "nbformat": 99, "nbformat_minor": 0, "metadata": {}}', 1,
     "{path}: not a readable notebook (NBFormatError: Unsupported nbformat version 99)"),
])
def test_what_is_not_a_notebook_is_one_line_and_a_status(tmp_path, capsys, content, status,
                                                         message):
    path = tmp_path / "given.ipynb"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert notebook.main([str(path)]) == status
    err = one_line_on_stderr(capsys)
    assert err.startswith("notebook.py: " + message.format(path=path)), err


@pytest.mark.parametrize("timeout", ["0", "-5", "1.5", "soon"])
def test_a_timeout_below_one_second_is_refused(tmp_path, capsys, timeout):
    path = tiny(tmp_path / "current.ipynb")
    with pytest.raises(SystemExit) as stop:
        notebook.main([str(path), "--timeout", timeout])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --timeout:" in err and "Traceback" not in err
