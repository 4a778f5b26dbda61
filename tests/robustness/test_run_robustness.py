"""knetlike.run's runs that survive their surroundings: a full disk, stop signals during
the wrap-up, a directory in use, Ctrl-C outside a run. The rest of run.py is tested in
test_run.py."""
import errno
import os
import signal

import pytest

from knetlike import run as R
from knetlike.history import Epoch
from knetlike.machinery import Interrupted

OUTPUTS = ("settings.json", "history.csv", "a.txt", "summary.txt")


def epochs(*numbers):
    return [Epoch(e, 0.3, 0.3, 0.1, 0.1) for e in numbers]


def write_a(path):
    path.write_text("a")


def test_files_that_cannot_be_written_are_named_and_the_summary_says_so(tmp_path, capsys):
    out = tmp_path / "run"

    def full_disk(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))     # names no file

    with R.Run("x.py", str(out), False, OUTPUTS, {}) as run:
        with run.loop():
            pass
        run.finish({"history.csv": full_disk, "a.txt": write_a})
    assert run.exit_status == 1 and run.status == "finished"
    summary = (out / "summary.txt").read_text()
    assert summary.startswith("status: finished, but could not write history.csv\n")
    err = capsys.readouterr().err
    assert (f"x.py: could not write history.csv in {out} (history.csv: No space left on "
            f"device); kept in {out}: settings.json, a.txt, summary.txt") in err
    assert "None" not in err


def test_a_stop_outside_the_loop_ends_the_run_with_what_was_written(tmp_path, capsys):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {}) as run:
        raise Interrupted(signal.SIGTERM)
    assert run.exit_status == 1
    assert f"x.py: interrupted by SIGTERM; kept in {out}: settings.json" in capsys.readouterr().err


def test_stop_signals_during_the_wrap_up_wait_until_the_files_are_written(tmp_path, capsys):
    out = tmp_path / "run"

    def interrupted_writer(path):
        os.kill(os.getpid(), signal.SIGTERM)          # lands while the files are written
        path.write_text("a")

    with R.Run("x.py", str(out), False, OUTPUTS, {}) as run:
        run.finish({"history.csv": interrupted_writer, "a.txt": interrupted_writer})
    assert (out / "a.txt").read_text() == "a" and (out / "summary.txt").exists()
    assert "x.py: SIGTERM during the wrap-up waited until the files were written" in \
        capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL      # given back


def test_a_history_that_cannot_be_kept_current_is_said_once(tmp_path, capsys, monkeypatch):
    def full_disk(path, history):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(R, "save_history", full_disk)
    with R.Run("x.py", str(tmp_path / "run"), False, OUTPUTS, {}) as run:
        for e in epochs(1, 2, 3):
            run.history.append(e)
            run.report(e)
    assert capsys.readouterr().err.count("cannot update") == 1


def test_an_output_directory_in_use_is_refused_with_status_2(tmp_path, capsys):
    out = tmp_path / "run"
    with R.Run("x.py", str(out), False, OUTPUTS, {}):
        with pytest.raises(SystemExit) as exit:
            R.Run("x.py", str(out), True, OUTPUTS, {}).__enter__()      # --overwrite
    assert exit.value.code == 2
    assert "x.py: error: argument --out: " in capsys.readouterr().err


def test_run_script_turns_ctrl_c_into_a_line(capsys):
    def main():
        raise KeyboardInterrupt
    assert R.run_script("x.py", main) == 1
    assert capsys.readouterr().err == "x.py: interrupted by Ctrl-C\n"
    assert R.run_script("x.py", lambda: None) == 0 and R.run_script("x.py", lambda: 1) == 1
