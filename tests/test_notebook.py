"""docs/softmax.ipynb: it runs from top to bottom in a new kernel, in time, and the outputs
committed with it are the ones the current code produces (else: `python scripts/notebook.py`).

The comparison itself lives in scripts/notebook.py (its ``--check`` does what the slow test
here does); the quick tests below hold that comparison to what it promises.
"""
import copy
import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

SCRIPT = Path(__file__).parents[1] / "scripts" / "notebook.py"
BUDGET = 120          # seconds: the whole notebook, kernel start included
MAX_BYTES = 2_000_000


def load_script():
    spec = importlib.util.spec_from_file_location("notebook_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("notebook_script", module)
    spec.loader.exec_module(module)
    return module


notebook = load_script()


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
def test_the_notebook_runs_top_to_bottom_in_time_and_its_outputs_are_current(stored, mnist_data):
    # mnist_data: the data is in the cache (fetched if needed) before the kernel asks for it.
    fresh = copy.deepcopy(stored)
    seconds = notebook.execute(fresh, timeout=BUDGET)   # a failing cell raises, naming it
    assert seconds < BUDGET, f"the notebook took {seconds:.0f} s, over its {BUDGET} s budget"
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
