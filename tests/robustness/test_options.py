"""knetlike.options: what the scripts check before a run (the argparse number types, the
output directory, numbers the float type must hold, the memory a model needs)."""
import argparse
import math
import re

import numpy as np
import pytest

from knetlike import checks
from knetlike import options as opts


# The argparse number types

@pytest.mark.parametrize("parse, good, bad", [
    (opts.whole(0), {"0": 0, "7": 7, "-0": 0}, ["-1", "1.5", "x", "", "1e3"]),
    (opts.whole(1), {"1": 1}, ["0"]),
    (opts.positive, {"0.15": 0.15, "1e-300": 1e-300}, ["0", "-1", "nan", "inf", "x"]),
    (opts.nonnegative, {"0": 0.0, "4e-5": 4e-5}, ["-1e-9", "nan", "-inf", "x"]),
    (opts.probability, {"0": 0.0, "0.2": 0.2, "0.999": 0.999}, ["1", "-0.1", "nan", "x"]),
])
def test_number_types_take_what_they_say_and_refuse_the_rest(parse, good, bad):
    for text, value in good.items():
        assert parse(text) == value and type(parse(text)) is type(value)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match=f"must be .*, got {text!r}"):
            parse(text)


# check_out: an output path that can become a writable directory

def test_check_out_takes_new_and_existing_directories(tmp_path):
    for path in (tmp_path, tmp_path / "new", tmp_path / "new" / "deeper", "relative/run"):
        opts.check_out(str(path))
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    opts.check_out(str(tmp_path / "link" / "run"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]   # nothing made


@pytest.mark.parametrize("make, message", [
    (lambda d: "", "an empty name is no directory"),
    (lambda d: str(d / ("x" * 256)), "File name too long"),
    (lambda d: str(d / "a" / ("x" * 4100)), "File name too long"),
    (lambda d: (d / "link").symlink_to(d / "gone") or str(d / "link" / "run"),
     "link is a symbolic link to"),
    (lambda d: (d / "file").write_text("") or str(d / "file" / "run"),
     "file is a file, not a directory"),
    (lambda d: (d / "loop").symlink_to(d / "loop") or str(d / "loop" / "run"),
     "symbolic link"),
])
def test_check_out_refuses_what_cannot_be_a_directory(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        opts.check_out(make(tmp_path))


@pytest.mark.parametrize("path", [".", "..", "/", "runs/..", "./"])
def test_check_out_refuses_a_path_that_names_no_directory_of_its_own(path):
    """``.`` or ``/`` cannot be claimed (no DIR-2 beside them) nor held by one run alone."""
    with pytest.raises(ValueError, match="names no directory of its own"):
        opts.check_out(path)


# Numbers the chosen float type must hold

@pytest.mark.parametrize("dtype, values", [
    ("float32", dict(winit=1e38)),          # 1e38 * a draw of 4 is past float32's 3.4e38
    ("float32", dict(winit=4e37)),
    ("float32", dict(lr=1e39)),             # float32(1e39) is inf
    ("float32", dict(l1=3.5e38)),
    ("float32", dict(l2=1e300)),
    ("float64", dict(winit=1e308)),
])
def test_numbers_that_overflow_the_float_type_are_refused(dtype, values):
    (name, value), = values.items()
    message = f"argument --{name}: {value:g} overflows {dtype}"
    with pytest.raises(ValueError, match=re.escape(message)):
        opts.check_fits(dtype, **values)


def test_numbers_that_fit_pass():
    opts.check_fits("float32", winit=1e30, lr=1e38, l1=1.0, l2=0.0)
    opts.check_fits("float64", winit=1e38, lr=1e300, l1=1e300, l2=1e300)
    largest = float(np.finfo(np.float32).max)
    assert np.isfinite(np.float32(largest / opts.LARGEST_DRAW) * np.float32(opts.LARGEST_DRAW))


# The memory a run needs

def test_training_memory_counts_copies_of_w_and_activations():
    from knetlike.weights import weights_nbytes
    w = weights_nbytes(64, classes=10, inputs=784, dtype=np.float32)
    assert opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float32) >= 5 * w
    assert opts.training_nbytes(10**9, classes=10, inputs=784, dtype=np.float32) > 10**12
    assert (opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float64)
            == 2 * opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float32))


def test_training_memory_counts_the_batchs_activations_and_the_measured_sets():
    """A batch of 60,000 through 24,000 hidden units holds 60,000 x 24,000 float32 values
    per activation (5.8 GB each); the measured sets hold 70,000 x 784 values."""
    small = opts.training_nbytes(24000, classes=10, inputs=784, dtype=np.float32)
    big = opts.training_nbytes(24000, classes=10, inputs=784, dtype=np.float32, batchsize=60000)
    assert big - small >= 60000 * 24000 * 4 - 100 * 24000 * 4 * 10
    sets = opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float32, measured=70000)
    plain = opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float32)
    assert sets - plain >= 70000 * 784 * 4


def test_a_big_batch_through_a_wide_layer_is_refused(monkeypatch):
    monkeypatch.setattr(checks, "available_memory", lambda: 64 << 30)
    opts.check_training_memory([24000], 10, 784, "float32", 100, 70000)      # fits in 16 GiB
    with pytest.raises(ValueError, match="--hidden 24000 with --batchsize 60000 in float32 "
                                         "would need"):
        opts.check_training_memory([24000], 10, 784, "float32", 60000, 70000)


def test_the_number_types_are_check_number():
    """The scripts refuse what the library refuses, in the same words."""
    for parse, args in [(opts.positive, dict(above=True)), (opts.nonnegative, {}),
                        (opts.probability, dict(high=1, below=True))]:
        for text in ("0", "1", "0.5", "-1", "inf"):
            try:
                checks.check_number(float(text), "x", **args)
                library = None
            except ValueError as err:
                library = str(err).split(" must be ")[1].split(", got")[0]
            if library is None:
                assert parse(text) == float(text)
            else:
                refused = re.escape(f"must be {library}")
                with pytest.raises(argparse.ArgumentTypeError, match=refused):
                    parse(text)
    assert math.isclose(opts.probability("0.999"), 0.999)
