"""The two stop-signal policies of knetlike.machinery, each in milliseconds: a script keeps
its run (the signal raises between steps), a library call cleans up and dies of it."""
import os
import signal
import subprocess
import sys

import pytest

from knetlike.machinery import (Interrupted, cleanup_on_termination, stop_signals_between_steps,
                                stop_signals_noted, stop_signals_raise)


@pytest.fixture(autouse=True)
def stop_signals_at_their_defaults():
    """SIGTERM and SIGHUP at their defaults during each test, as a terminal gives them, also
    when the suite runs under ``nohup`` (which ignores SIGHUP, and the policies leave an
    ignored signal ignored: see the last test)."""
    previous = {s: signal.signal(s, signal.SIG_DFL) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def test_a_held_signal_raises_between_steps_and_a_second_one_at_once():
    with stop_signals_raise(), pytest.raises(Interrupted, match="SIGTERM"):
        with stop_signals_between_steps() as stop_if_asked:
            os.kill(os.getpid(), signal.SIGTERM)     # held: the step goes on
            held = True
            stop_if_asked()
    assert held
    with pytest.raises(Interrupted, match="SIGHUP"):
        with stop_signals_raise(), stop_signals_between_steps():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGHUP)      # the second signal does not wait
            held = False
    assert held
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_programs_own_handler_survives_both_policies():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    try:
        with stop_signals_raise(), stop_signals_between_steps(), cleanup_on_termination():
            os.kill(os.getpid(), signal.SIGTERM)
        assert seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_signals_during_a_wrap_up_are_noted_not_raised():
    noted = []
    with stop_signals_noted(noted.append):
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(os.getpid(), signum)
    assert noted == [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


CHILD = """
import os, pathlib, signal, sys, tempfile
from knetlike.machinery import cleanup_on_termination
scratch = pathlib.Path(tempfile.mkdtemp(dir=sys.argv[1]))
with cleanup_on_termination():
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        scratch.rmdir()
print("not reached")
"""


def test_a_library_call_cleans_up_then_dies_of_the_signal(tmp_path):
    result = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == -signal.SIGTERM and "not reached" not in result.stdout
    assert list(tmp_path.iterdir()) == []            # the finally block ran first


def test_a_signal_ignored_by_the_caller_stays_ignored():
    """Under ``nohup`` SIGHUP is ignored: a run started so must not stop when the terminal
    closes, so neither policy takes it over."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with stop_signals_raise(), stop_signals_between_steps() as stop_if_asked:
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGHUP)
        stop_if_asked()                              # nothing was held
