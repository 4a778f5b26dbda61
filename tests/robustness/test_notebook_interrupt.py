"""A stop signal during `scripts/notebook.py` (Ctrl-C, or SIGHUP: a closed terminal): one
line, status 1 as in every script, the notebook file as it was, and no kernel left running."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

SCRIPT = Path(__file__).parents[2] / "scripts" / "notebook.py"
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


def stop_signals_default():
    """In the child: the stop signals at their defaults, as a terminal gives them, also when
    pytest was started with & (SIGINT ignored) or under ``nohup`` (SIGHUP ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


@pytest.mark.parametrize("signum, name", [(signal.SIGINT, "Ctrl-C"), (signal.SIGHUP, "SIGHUP")])
def test_a_stop_signal_while_a_cell_runs(tmp_path, signum, name):
    marker = tmp_path / "kernel.pid"
    nb = new_notebook(cells=[
        new_code_cell("print(1 + 1)", id="fine"),
        new_code_cell(f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                      "time.sleep(600)", id="sleeps")])
    path = tmp_path / "sleeps.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    child = subprocess.Popen([sys.executable, str(SCRIPT), str(path)], text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=stop_signals_default)
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip(), "the cell to start")
        kernel = int(marker.read_text())
        child.send_signal(signum)
        out, err = child.communicate(timeout=PATIENCE)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 1, err
    assert err == f"notebook.py: interrupted by {name}; {path} was not changed\n"
    assert path.read_bytes() == before
    wait_for(lambda: not alive(kernel), "the kernel to end")
