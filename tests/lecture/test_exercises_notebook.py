"""docs/exercises.ipynb: it is what scripts/exercises_notebook.py writes; executed as committed
every check says "not written yet" and the MNIST part says it is skipped; executed with the
library's answers in place of every ``raise NotImplementedError``, every check passes and the
MNIST run with those functions lands within 0.001 of the notes' numbers; and so does the run
with a student's plain numpy functions (written out here) for the steps it needs."""
import json
import re

import pytest
from nbclient import NotebookClient

from knetlike.reference import TOLERANCE, knet_2016

from conftest import load_script

HANG_GUARD = 900      # seconds allowed per cell: only so that a hung cell ends the test


script = load_script("exercises_notebook")


def execute(nb):
    """Run every cell in a new python3 kernel in docs/; a failing cell raises, naming it."""
    NotebookClient(nb, timeout=HANG_GUARD, kernel_name="python3",
                   resources={"metadata": {"path": str(script.NOTEBOOK.parent)}}).execute()
    return nb


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def check_cells(nb) -> dict:
    """``{exercise name: what its check cell printed}``."""
    found = {}
    for cell in nb.cells:
        match = re.fullmatch(r'check\("(\w+)", \w+\)', cell.source.strip())
        if cell.cell_type == "code" and match:
            found[match.group(1)] = stdout(cell)
    return found


def filled_in(nb):
    """The notebook with each exercise's body the library's answer (its solution)."""
    for cell in nb.cells:
        match = re.match(r"def (\w+)\((.*)\):", cell.source)
        if cell.cell_type == "code" and match and script.TODO in cell.source:
            name, args = match.groups()
            cell.source = cell.source.replace(
                script.TODO, f"    return kl.exercises.EXERCISES[{name!r}].answer({args})")
    return nb


# A student's bodies for what the MNIST run needs, in plain numpy (the rest left unwritten).
STUDENT = {
    "onehot": """    y = np.zeros((nclasses, len(labels)), dtype=np.float32)
    y[labels, np.arange(len(labels))] = 1
    return y""",
    "logp": """    m = y.max(axis=0, keepdims=True)
    return (y - m) - np.log(np.exp(y - m).sum(axis=0, keepdims=True))""",
    "probs": """    e = np.exp(y - y.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)""",
    "softloss": "    return -np.sum(ygold * logp(ypred)) / ygold.shape[1]",
    "softmax": "    return softloss(ygold, w[0] @ x + w[1])",
    "zeroone": "    return np.mean(np.argmax(w[0] @ x + w[1], axis=0) != labels)",
    "softloss_grad": "    return (probs(ypred) - ygold) / ygold.shape[1]",
    "predict_backward": "    return [dy @ x.T, dy.sum(axis=1, keepdims=True)]",
    "train": """    for x, ygold in data:
        g = gradient(w, x, ygold)
        for i in range(len(w)):
            w[i] -= lr * g[i]""",
}


def written_by_a_student(nb):
    """The notebook with the bodies of ``STUDENT`` in place of their exercises' TODO."""
    for cell in nb.cells:
        match = re.match(r"def (\w+)\(", cell.source)
        if cell.cell_type == "code" and match and match.group(1) in STUDENT:
            cell.source = cell.source.replace(script.TODO, STUDENT[match.group(1)])
    return nb


def with_history_printed(nb):
    """The notebook with a last cell that prints the MNIST run's history as JSON."""
    nb.cells.append(nb.cells[-1].copy())
    nb.cells[-1].update(source="import json; print(json.dumps(history))", id="history")
    return nb


def assert_like_the_notes(history):
    assert [row[0] for row in history] == [1, 2, 3, 4, 5]
    notes = {e.epoch: e for e in knet_2016()}
    for epoch, *ours in history:
        theirs = notes[epoch]
        expected = [theirs.train_nll, theirs.test_nll, theirs.train_error, theirs.test_error]
        assert ours == pytest.approx(expected, abs=TOLERANCE), (epoch, ours, expected)


def test_the_committed_notebook_is_what_the_script_writes_without_outputs():
    assert script.NOTEBOOK.read_text() == script.text(script.build()), \
        "docs/exercises.ipynb is stale: run .venv/bin/python scripts/exercises_notebook.py"
    nb = script.build()
    assert all(not cell.get("outputs") for cell in nb.cells)


def test_the_notebook_has_one_exercise_per_name_in_the_checkers_order():
    import knetlike as kl
    nb = script.build()
    assert list(check_cells(nb)) == kl.exercises.names()
    assert sum(script.TODO in cell.source for cell in nb.cells) == len(kl.exercises.names())


@pytest.mark.slow
def test_as_committed_every_check_says_not_written_yet_and_nothing_fails():
    nb = execute(script.build())          # no MNIST needed: the run is skipped
    for name, printed in check_cells(nb).items():
        assert printed == f"{name}: not written yet (it raises NotImplementedError). " \
                          f"Write its body, then run this cell again.\n"
    tail = "".join(stdout(cell) for cell in nb.cells[-3:])
    assert "Skipped: training on MNIST needs your onehot, softloss, softmax, zeroone" in tail
    assert "Skipped: there is no run of yours to draw yet." in tail


@pytest.mark.mnist
@pytest.mark.slow
def test_filled_in_every_check_passes_and_the_run_matches_the_notes(mnist_data):
    nb = execute(with_history_printed(filled_in(script.build())))
    for name, printed in check_cells(nb).items():
        assert printed.startswith(f"{name}: passed"), printed
    assert_like_the_notes(json.loads(stdout(nb.cells[-1])))
    images = [o for o in nb.cells[-2].outputs if "image/png" in o.get("data", {})]
    assert images, "the curves were not drawn"


@pytest.mark.mnist
@pytest.mark.slow
def test_a_students_plain_numpy_functions_train_like_the_notes(mnist_data):
    nb = execute(with_history_printed(written_by_a_student(script.build())))
    for name, printed in check_cells(nb).items():
        wanted = "passed" if name in STUDENT else "not written yet"
        assert wanted in printed, printed
    assert_like_the_notes(json.loads(stdout(nb.cells[-1])))
