"""Execute docs/softmax.ipynb from a clean kernel and store its outputs, or check them.

The notebook is committed with its outputs so that a reader on GitHub sees them. After a
change to the package or to the notebook, regenerate them with

    python scripts/notebook.py            # execute top to bottom, write the outputs in place

and commit docs/softmax.ipynb. ``--check`` executes a copy instead and exits with status 1
when the stored outputs are not what the current code produces (the test suite does the
same, in tests/lecture/test_notebook.py).

What is compared, cell by cell: the text the cells print (stdout, stderr) and the plain-text
results they return, and which outputs are figures; not the pixels of the figures. Numbers
may differ by ``REL_TOL`` relative or ``ABS_TOL`` absolute (another BLAS rounds differently)
and whitespace is ignored; any other change in the text is a stale notebook. The stored
notebook must also have run top to bottom in one kernel (execution counts 1, 2, 3, ...).

Exit status: 0 done (or, with ``--check``, current); 1 stale, a cell that failed (named on
one line: its index, id and first line, and the error), or a file that is not a readable
notebook, or a stop signal (Ctrl-C, SIGTERM, SIGHUP: the kernel is shut down and the
notebook file left as it was), as in every script; 2 a bad argument (no such file, a
directory, ``--timeout`` below 1 second). The notebook file is written only after every
cell ran, atomically.
"""
from __future__ import annotations

import sys

try:                            # Ctrl-C while the modules load: a line, not a traceback
    import argparse
    import asyncio
    import copy
    import json
    import math
    import os
    import re
    import signal
    import tempfile
    import time
    from contextlib import asynccontextmanager
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from knetlike.files import atomic_write
    from knetlike.machinery import STOP_SIGNALS, Interrupted, stop_name
    from knetlike.run import run_script, say
except KeyboardInterrupt:
    print("notebook.py: interrupted (Ctrl-C) while starting; nothing was run or written",
          file=sys.stderr)
    raise SystemExit(1) from None

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "softmax.ipynb"
REGENERATE = "python scripts/notebook.py"
REL_TOL = 1e-4
ABS_TOL = 2.5e-4            # two test images of 10,000 in a zero-one error

# A number (with its sign, decimals and exponent), inf or nan; else one non-space character.
TOKEN = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan|\S")
# Terminal escape sequences (colours, cursor moves, titles) in a kernel's error text.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


class NotebookError(Exception):
    """The notebook cannot be read, or a cell of it failed; the message is one line."""


def one_line(text: str, limit: int = 300) -> str:
    """``text`` without terminal escape codes, its lines joined, at most ``limit`` characters."""
    flat = " ".join(ANSI.sub("", text).split())
    return flat if len(flat) <= limit else flat[:limit - 3] + "..."


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` (version 4), checked against the notebook format; a
    ``NotebookError`` naming the file and its fault when it is not a readable notebook."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise NotebookError(f"{path}: not a notebook: not UTF-8 text ({err.reason} at byte "
                            f"{err.start})") from None
    except OSError as err:
        raise NotebookError(f"{path}: cannot be read ({err.strerror or err})") from None
    try:
        content = json.loads(text)
    except ValueError as err:
        raise NotebookError(f"{path}: not a notebook: not JSON ({one_line(str(err))})") from None
    if not isinstance(content, dict) or not {"cells", "nbformat"} <= content.keys():
        raise NotebookError(f"{path}: not a notebook: JSON without a notebook's \"cells\" and "
                            "\"nbformat\" keys")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        raise NotebookError(f"{path}: not a valid notebook: "
                            f"{one_line(str(err.message))}") from None
    except Exception as err:        # a damaged file may break nbformat's readers anywhere
        raise NotebookError(f"{path}: not a readable notebook ({type(err).__name__}: "
                            f"{one_line(str(err))})") from None
    return nb


class Client(NotebookClient):
    """nbclient's client, with a stop signal stopping the run: once the kernel is up,
    Ctrl-C, SIGTERM or SIGHUP (unless the process ignores it: ``nohup``) cancels the
    execution, which shuts the kernel down on its way out, and ``interrupted`` holds the
    signal, for the caller. (nbclient's own handler shuts the kernel down under the running
    cell, which then fails with errors of its own.)"""

    interrupted: int | None = None

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        async with super().async_setup_kernel(**kwargs):
            task = asyncio.current_task()

            def stop(signum: int) -> None:
                self.interrupted = signum
                task.cancel()

            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is signal.SIG_IGN:
                    continue            # ignored by whoever started us: leave it so
                try:
                    asyncio.get_running_loop().add_signal_handler(signum, stop, signum)
                except (RuntimeError, NotImplementedError, ValueError):
                    pass                # not the main thread, or no signals: nbclient's way
            yield


def execute(nb: nbformat.NotebookNode, timeout: int = 600, path: Path = NOTEBOOK) -> float:
    """Run every cell of ``nb`` in order in a new kernel, storing the outputs in ``nb``.

    The kernel is the ``python3`` one of this interpreter, started in the folder of the
    notebook file ``path``. Raises ``NotebookError`` naming the cell, in one line, when a
    cell fails, runs past ``timeout`` seconds or kills the kernel; ``Interrupted`` (a
    KeyboardInterrupt) on a stop signal, the kernel shut down. Returns the seconds it
    took, kernel start included.
    The kernel's own log (what it prints on stderr outside the cells' outputs) is kept
    out of the terminal; its last line is quoted when the kernel dies.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # no debugger chatter
    running: list = [None, None]          # the cell being run: its index and the cell

    def started(cell, cell_index, **_):
        running[:] = [cell_index, cell]

    client = Client(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                    extra_arguments=["--IPKernelApp.log_level=ERROR"],
                    on_cell_start=started,
                    resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    with tempfile.TemporaryFile("w+", errors="replace") as log:
        try:
            client.execute(stderr=log)
        except CellExecutionError as err:
            raise NotebookError(f"{_running(running)} failed: {one_line(err.ename)}: "
                                f"{one_line(err.evalue)}") from None
        except CellTimeoutError:
            raise NotebookError(f"{_running(running)} did not finish in {timeout} s "
                                "(--timeout sets the seconds allowed per cell)") from None
        except (asyncio.CancelledError, Exception) as err:
            if client.interrupted or isinstance(err, asyncio.CancelledError):
                raise Interrupted(client.interrupted or signal.SIGINT) from None
            log.seek(0)
            last = [line for line in log.read().splitlines() if line.strip()][-1:]
            said = f": {one_line(last[0], 200)}" if last else ""
            what = "the kernel died" if isinstance(err, DeadKernelError) else \
                f"the kernel stopped ({type(err).__name__}: {one_line(str(err), 200)})"
            raise NotebookError(f"{what} while running {_running(running)}{said}") from None
        finally:                # asyncio resets the signals it handled to their defaults
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
    return time.perf_counter() - start


def _running(running: list) -> str:
    index, cell = running
    return "the kernel's start" if cell is None else describe(index, cell)


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


def positive_seconds(text: str) -> int:
    """``--timeout``: a whole number of seconds above 0."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}")
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1 second (the time allowed per "
                                         f"cell), got {seconds}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=NOTEBOOK,
                        help="the notebook (default: docs/softmax.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="execute a copy and compare; exit 1 if the stored outputs are stale")
    parser.add_argument("--timeout", type=positive_seconds, default=600,
                        help="seconds allowed per cell, at least 1 (default: 600)")
    args = parser.parse_args(argv)
    path = args.notebook
    if not path.exists():
        return fail(f"{path}: no such file", 2)
    if path.is_dir():
        return fail(f"{path}: is a directory; name a notebook file (.ipynb)", 2)
    try:
        stored = read_notebook(path)
    except NotebookError as err:
        return fail(str(err), 1)
    fresh = copy.deepcopy(stored) if args.check else stored
    try:
        seconds = execute(fresh, args.timeout, path)
    except NotebookError as err:
        return fail(f"{err}" + ("" if args.check else f"; {path} was not changed"), 1)
    except KeyboardInterrupt as err:
        return fail(f"interrupted by {stop_name(err)}; {path} was not changed", 1)
    print(f"executed {path} in {seconds:.1f} s")
    if args.check:
        problems = stale(stored, fresh)
        if problems:
            say(report(problems, path))
            return 1
        print("its stored outputs are current")
        return 0
    nbformat.validate(fresh)
    text = nbformat.writes(fresh)
    try:
        atomic_write(path, text if text.endswith("\n") else text + "\n")
    except OSError as err:
        return fail(f"cannot write {path}: {err.strerror or err}; it was not changed", 1)
    except KeyboardInterrupt as err:
        return fail(f"interrupted by {stop_name(err)}; {path} was not changed", 1)
    print(f"wrote the outputs into {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def fail(message: str, status: int) -> int:
    """Say what went wrong on one line of stderr; return the exit status."""
    say(f"notebook.py: {message}")
    return status


if __name__ == "__main__":
    sys.exit(run_script("notebook.py", main))   # a stop between the steps main() guards: 1
