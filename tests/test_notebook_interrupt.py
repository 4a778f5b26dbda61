"""Ctrl-C during `scripts/notebook.py`: one line, status 130, the notebook file as it was,
and no kernel left running."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

SCRIPT = Path(__file__).parents[1] / "scripts" / "notebook.py"
PATIENCE = 120          # seconds to wait for the kernel to start; a hang guard, not a verdict


def wait_for(condition, what):
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def alive(pid):
    """Whether process `pid` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def test_ctrl_c_while_a_cell_runs(tmp_path):
    marker = tmp_path / "kernel.pid"
    nb = new_notebook(cells=[
        new_code_cell("print(1 + 1)", id="fine"),
        new_code_cell(f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                      "time.sleep(600)", id="sleeps")])
    path = tmp_path / "sleeps.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    # SIGINT at its default in the child: a shell that starts pytest with & ignores it.
    child = subprocess.Popen([sys.executable, str(SCRIPT), str(path)], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip(), "the cell to start")
        kernel = int(marker.read_text())
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=PATIENCE)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert err == f"notebook.py: interrupted (Ctrl-C); {path} was not changed\n"
    assert path.read_bytes() == before
    wait_for(lambda: not alive(kernel), "the kernel to end")
