"""Execute docs/softmax.ipynb from a clean kernel and store its outputs, or check them.

The notebook is committed with its outputs so that a reader on GitHub sees them. After a
change to the package or to the notebook, regenerate them with

    python scripts/notebook.py            # execute top to bottom, write the outputs in place

and commit docs/softmax.ipynb. ``--check`` executes a copy instead and exits with status 1
when the stored outputs are not what the current code produces (the test suite does the
same, in tests/test_notebook.py).

What is compared, cell by cell: the text the cells print (stdout, stderr) and the plain-text
results they return, and which outputs are figures; not the pixels of the figures. Numbers
may differ by ``REL_TOL`` relative or ``ABS_TOL`` absolute (another BLAS rounds differently)
and whitespace is ignored; any other change in the text is a stale notebook. The stored
notebook must also have run top to bottom in one kernel (execution counts 1, 2, 3, ...).
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "softmax.ipynb"
REGENERATE = "python scripts/notebook.py"
REL_TOL = 1e-4
ABS_TOL = 2.5e-4            # two test images of 10,000 in a zero-one error

# A number (with its sign, decimals and exponent), inf or nan; else one non-space character.
TOKEN = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan|\S")


def execute(nb: nbformat.NotebookNode, timeout: int = 600) -> float:
    """Run every cell of ``nb`` in order in a new kernel, storing the outputs in ``nb``.

    The kernel is the ``python3`` one of this interpreter, started in the notebook's folder.
    Raises ``nbclient.exceptions.CellExecutionError`` (naming the cell, with its traceback)
    when a cell fails. Returns the seconds it took, kernel start included.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # no debugger chatter
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def outputs(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """A code cell's outputs as ``(kind, text)`` pairs, the text that ``stale`` compares.

    Consecutive stream outputs of one name are joined (a kernel may split a print in
    chunks). A figure is ``("image", "")``: its pixels and its ``<Figure ...>`` text are
    not compared. An error is ``("error", "Name: message")``.
    """
    found: list[tuple[str, str]] = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            if found and found[-1][0] == output["name"]:
                found[-1] = (output["name"], found[-1][1] + output["text"])
            else:
                found.append((output["name"], output["text"]))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if any(key.startswith("image/") for key in data):
                found.append(("image", ""))
            else:
                found.append(("text/plain", data.get("text/plain", "")))
        elif kind == "error":
            found.append(("error", f"{output['ename']}: {output['evalue']}"))
    return found


def same_text(a: str, b: str) -> str | None:
    """None when ``a`` and ``b`` agree up to whitespace and close numbers; else the first
    difference, as the line of each text where it is."""
    ta, tb = list(TOKEN.finditer(a)), list(TOKEN.finditer(b))
    for k in range(max(len(ta), len(tb))):
        ma = ta[k] if k < len(ta) else None
        mb = tb[k] if k < len(tb) else None
        if ma is None or mb is None or not _same_token(ma.group(), mb.group()):
            return (f"    stored: {_line(a, ma)}\n"
                    f"    now:    {_line(b, mb)}")
    return None


def _same_token(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return False                         # equal ones were equal as text
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _line(text: str, match: re.Match | None) -> str:
    """The line of ``text`` that holds ``match``; ``(the text ends)`` past its end."""
    if match is None:
        return "(the text ends here)"
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.start())
    return repr(text[start:end if end >= 0 else len(text)])


def describe(index: int, cell: nbformat.NotebookNode) -> str:
    """How a failure names a cell: its place, its id and its first line."""
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"cell {index} (id {cell.get('id', '?')!r}, {first[:60]!r})"


def stale(stored: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[str]:
    """The problems of the stored notebook against a fresh execution of the same cells:
    outputs that differ, outputs missing, an error stored, or a run that was not one
    top-to-bottom pass. An empty list when the stored notebook is current."""
    problems = []
    code_cells = [(i, c) for i, c in enumerate(stored.cells) if c.cell_type == "code"]
    counts = [c.get("execution_count") for _, c in code_cells]
    if counts != list(range(1, len(code_cells) + 1)):
        problems.append(f"the stored execution counts are {counts}, not 1..{len(code_cells)}: "
                        f"the outputs were not made by one run from the top in a new kernel")
    for (i, cell), new in zip(code_cells, (fresh.cells[i] for i, _ in code_cells)):
        old_out, new_out = outputs(cell), outputs(new)
        for kind, text in old_out:
            if kind == "error":
                problems.append(f"{describe(i, cell)}: stores an error, {text}")
        if [k for k, _ in old_out] != [k for k, _ in new_out]:
            problems.append(f"{describe(i, cell)}: stored outputs {[k for k, _ in old_out]}, "
                            f"now {[k for k, _ in new_out]}")
            continue
        for (kind, old), (_, now) in zip(old_out, new_out):
            difference = same_text(old, now)
            if difference:
                problems.append(f"{describe(i, cell)}: its {kind} output differs\n{difference}")
    return problems


def report(problems: list[str], path: Path = NOTEBOOK) -> str:
    """The message for a stale notebook: what differs, and the command that regenerates it."""
    return (f"{path.name} is stale: its stored outputs are not what the current code "
            f"produces.\n" + "\n".join(f"- {p}" for p in problems)
            + f"\nRegenerate them with `{REGENERATE}` and commit {path.name}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK,
                        help="the notebook (default: docs/softmax.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="execute a copy and compare; exit 1 if the stored outputs are stale")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    stored = nbformat.read(args.notebook, as_version=4)
    fresh = copy.deepcopy(stored) if args.check else stored
    seconds = execute(fresh, args.timeout)
    print(f"executed {args.notebook} in {seconds:.1f} s")
    if args.check:
        problems = stale(stored, fresh)
        if problems:
            print(report(problems, args.notebook), file=sys.stderr)
            return 1
        print("its stored outputs are current")
        return 0
    nbformat.validate(fresh)
    nbformat.write(fresh, args.notebook)
    print(f"wrote the outputs into {args.notebook} ({args.notebook.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
