"""Hostile data files are refused in bounded memory: a file is never read (or, gzipped,
inflated) past the size its IDX header declares, nor past the size the dataset expects.

Memory is measured with tracemalloc (which sees zlib's buffers and every bytes object),
as the growth of the peak over what was allocated before the read; the bounds are
generous, and far below what reading the whole file would take.
"""
import gzip
import struct
import tracemalloc
import zlib
from contextlib import contextmanager

import pytest

from knetlike.data import MNIST, ChecksumError, IdxFormatError, mnist, read_idx

MB = 1 << 20
BOMB = 200 * MB                  # what the hostile files inflate to (or hold, raw)


def header(*dims):
    """An IDX header for unsigned bytes of shape `dims`."""
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.fixture(scope="module")
def zeros_member():
    """One gzip member that inflates to BOMB zero bytes (about 200 KB), made a MB at a
    time so that the test itself never holds it inflated."""
    pack = zlib.compressobj(1, zlib.DEFLATED, 31)      # wbits 31: a gzip container
    zero = bytes(MB)
    return b"".join([pack.compress(zero) for _ in range(BOMB // MB)] + [pack.flush()])


def bomb(path, head, zeros_member):
    """A gzip file: `head` (an IDX header), then BOMB zero bytes (two gzip members, which
    read as one stream, as gzip itself reads them)."""
    path.write_bytes(gzip.compress(head) + zeros_member)
    assert path.stat().st_size < 2 * MB
    return path


@contextmanager
def peak_growth():
    """Yield a list that holds, afterwards, how far the traced memory rose above its
    starting point inside the block."""
    growth = []
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        yield growth
    finally:
        growth.append(tracemalloc.get_traced_memory()[1] - start)
        tracemalloc.stop()


def test_the_bomb_inflates_to_what_it_claims(tmp_path, zeros_member):
    """The hostile file is what the tests say: 200 MB of zeros after the header."""
    path = bomb(tmp_path / "x.gz", header(10, 28, 28), zeros_member)
    with gzip.open(path) as stream:
        total = sum(len(chunk) for chunk in iter(lambda: stream.read(8 * MB), b""))
    assert total == len(header(10, 28, 28)) + BOMB


def test_gzip_inflating_past_its_header_stops_there(tmp_path, zeros_member):
    path = bomb(tmp_path / "images.gz", header(10, 28, 28), zeros_member)
    with peak_growth() as growth:
        with pytest.raises(IdxFormatError, match=f"{path}: has trailing bytes: it inflates "
                                                 r"past the 7856 bytes its header \(10 x 28 x "
                                                 r"28 values.*delete it and fetch it again"):
            read_idx(path)
    assert growth[0] < 16 * MB, f"reading the file took {growth[0] / MB:.0f} MB"


def test_header_beyond_memory_is_refused_before_reading(tmp_path, zeros_member):
    path = bomb(tmp_path / "images.gz", header(2 ** 32 - 1, 2 ** 32 - 1), zeros_member)
    with peak_growth() as growth:
        with pytest.raises(IdxFormatError, match=f"{path}: its IDX header declares 4294967295 "
                                                 "x 4294967295 values.*memory.*delete it"):
            read_idx(path)
    assert growth[0] < 4 * MB, f"reading the file took {growth[0] / MB:.0f} MB"


@pytest.fixture
def root(tmp_path):
    """A directory named with root=, holding MNIST's three other files (never reached:
    the training images are read first)."""
    for name in MNIST.names[1:]:
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_a_dataset_file_is_refused_at_its_header_when_it_declares_another_shape(
        root, zeros_member):
    path = bomb(root / "train-images-idx3-ubyte.gz", header(250000, 28, 28), zeros_member)
    with peak_growth() as growth:
        with pytest.raises(ChecksumError, match=rf"{path}: holds an array of shape \(250000, "
                                                r"28, 28\), but MNIST's train-images"):
            mnist(root=root)
    assert growth[0] < 4 * MB, f"reading the file took {growth[0] / MB:.0f} MB"


def test_a_dataset_file_is_never_inflated_past_its_expected_size(root, zeros_member):
    """The right header, then more than it declares: read up to MNIST's 47 MB and no further."""
    expected = MNIST.files[0].nbytes
    path = bomb(root / "train-images-idx3-ubyte.gz", header(60000, 28, 28), zeros_member)
    with peak_growth() as growth:
        with pytest.raises(IdxFormatError, match=f"{path}: has trailing bytes: it inflates "
                                                 f"past the {expected} bytes.*delete it"):
            mnist(root=root)
    assert growth[0] < 1.5 * expected, f"reading the file took {growth[0] / MB:.0f} MB"


def test_a_raw_file_larger_than_its_header_declares_is_refused_before_it_is_read(root):
    path = root / "train-images-idx3-ubyte"
    path.write_bytes(header(60000, 28, 28))
    with open(path, "r+b") as f:
        f.truncate(BOMB)                  # sparse where the file system allows: no disk used
    with peak_growth() as growth:
        with pytest.raises(IdxFormatError, match=f"{path}: has trailing bytes: {BOMB} bytes, "
                                                 f"but its header.*needs {MNIST.files[0].nbytes}"
                                                 ".*delete it and fetch it again"):
            mnist(root=root)
    assert growth[0] < 4 * MB, f"reading the file took {growth[0] / MB:.0f} MB"


def test_a_raw_file_that_declares_more_than_expected_is_refused_before_it_is_read(root):
    """Another value type (4-byte floats) in the right shape: 4 x the expected size."""
    path = root / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x0D, 3]) + struct.pack(">3I", 60000, 28, 28))
    with open(path, "r+b") as f:
        f.truncate(4 + 12 + 4 * 60000 * 784)
    with peak_growth() as growth:
        with pytest.raises(IdxFormatError, match=f"{path}: its IDX header declares 60000 x 28 "
                                                 "x 28 values of 4 byte.*more than the "
                                                 f"{MNIST.files[0].nbytes} bytes expected"):
            mnist(root=root)
    assert growth[0] < 4 * MB, f"reading the file took {growth[0] / MB:.0f} MB"
