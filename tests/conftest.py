"""Shared fixtures: the real MNIST data (fetched once per session) and IDX-file writers."""
from __future__ import annotations

import gzip
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from knetlike.data import DataError, fashion_mnist, mnist
from knetlike.data.idx import idx_bytes


SCRIPTS = Path(__file__).parents[1] / "scripts"


def load_script(name: str):
    """scripts/<name>.py imported as a module (``<name>_script`` in sys.modules), to call its
    functions in-process; tests import it with ``from conftest import load_script``."""
    spec = importlib.util.spec_from_file_location(f"{name}_script", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def write_idx_file(path: Path, array: np.ndarray, gz: bool = False) -> Path:
    """Write `array` as an IDX file at `path` (gzipped, with `.gz` added, when `gz`)."""
    data = idx_bytes(array)
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.fixture
def rng():
    """A seeded generator, so every test sees the same random numbers."""
    return np.random.default_rng(0)


def make_toy(hidden=(), C=4, D=6, N=200, dtype=np.float32, winit=0.01, bias=0.0, seed=0):
    """A small learnable problem in Knet's layout: ``(w, x, labels)`` with ``x`` D x N
    (column-major), labels 0..C-1 given by a random linear model of ``x`` (so training can
    fit them), and ``w = kl.weights(*hidden, winit)``; ``bias`` > 0 draws every b from
    N(0, bias^2) instead of 0 (so that relus sit on both sides, and a penalty on b shows)."""
    import knetlike as kl
    rng = np.random.default_rng(seed)
    x = np.asfortranarray(rng.standard_normal((D, N)).astype(dtype))
    labels = np.argmax(rng.standard_normal((C, D)) @ x, axis=0)
    w = kl.weights(*hidden, classes=C, inputs=D, winit=winit, dtype=dtype, rng=rng)
    for b in w[1::2]:
        b += (bias * rng.standard_normal(b.shape)).astype(dtype)
    return w, x, labels


@pytest.fixture
def toy():
    """The one toy problem of the tests: ``toy(hidden=(), C=4, D=6, N=200, dtype=float32,
    winit=0.01, bias=0, seed=0) -> (w, x, labels)`` (see ``make_toy``)."""
    return make_toy


@pytest.fixture
def write_idx():
    """The function write_idx(path, array, gz=False) -> Path, for tests that need IDX files."""
    return write_idx_file


def _real_data(load, what: str):
    """Load a real dataset, or fail (when KNETLIKE_REQUIRE_DATA=1, as in CI) or skip."""
    try:
        return load()
    except DataError as err:
        if os.environ.get("KNETLIKE_REQUIRE_DATA") == "1":
            pytest.fail(f"{what} is required (KNETLIKE_REQUIRE_DATA=1) but unavailable:\n{err}")
        pytest.skip(f"{what} unavailable: {err}")


@pytest.fixture(scope="session")
def mnist_data():
    """knetlike.data.mnist() from the normal cache (fetched into it if needed)."""
    return _real_data(mnist, "MNIST")


def _may_fetch() -> bool:
    """Whether the tests may fetch a large dataset into the user's own cache: only when
    asked (KNETLIKE_TEST_FETCH=1), in CI (CI is set) or when data is required."""
    return any(os.environ.get(name, "") not in ("", "0", "false")
               for name in ("KNETLIKE_TEST_FETCH", "CI", "KNETLIKE_REQUIRE_DATA"))


@pytest.fixture(scope="session")
def fashion_data():
    """knetlike.data.fashion_mnist() as already stored (cache or system copy). The tests
    fetch it (53 MB, into ~/.cache/knetlike/fashion-mnist) only when `_may_fetch()`; else
    a missing copy skips, naming the command that fetches it."""
    if not _may_fetch():
        try:
            return fashion_mnist(download=False)
        except DataError:
            pytest.skip("Fashion-MNIST (53 MB) is not stored here; fetch it with "
                        "`python -m knetlike.data fetch fashion` (into ~/.cache/knetlike), "
                        "or set KNETLIKE_TEST_FETCH=1 to let the tests fetch it")
    return _real_data(fashion_mnist, "Fashion-MNIST")


@pytest.fixture(autouse=True)
def stop_signals_as_a_terminal_gives_them():
    """Each test starts with the stop signals as a program started from a terminal has them:
    Ctrl-C raises KeyboardInterrupt, SIGTERM and SIGHUP have their default action. So the
    signal tests hold also when pytest itself runs under ``nohup`` or from a shell with
    ``&`` (which ignore SIGHUP, or SIGINT), and a test that leaves a signal ignored (a
    script's ``main`` run in-process ignores them once it is done) cannot change the next."""
    import signal
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL,
                signal.SIGHUP: signal.SIG_DFL}
    previous = {signum: signal.signal(signum, handler) for signum, handler in defaults.items()}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)
