"""The IDX reader on small files written by the tests: good files and every kind of bad one."""
import gzip
import struct

import numpy as np
import pytest

from knetlike.data import DataError, IdxFormatError, knet_layout, read_idx, read_pair
from knetlike.data.idx import idx_bytes, parse_idx


@pytest.fixture
def images():
    return np.arange(4 * 2 * 3, dtype=np.uint8).reshape(4, 2, 3) * 10


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_raw_and_gzipped(tmp_path, write_idx, images, gz):
    path = write_idx(tmp_path / "images", images, gz=gz)
    np.testing.assert_array_equal(read_idx(path), images)


def test_other_value_types(tmp_path, write_idx):
    values = np.array([[-1, 70000], [3, -5]], dtype=np.int32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "ints", values)), values)


def test_errors_are_value_errors_and_data_errors():
    assert issubclass(IdxFormatError, ValueError) and issubclass(IdxFormatError, DataError)


def test_truncated_file(tmp_path, write_idx, images):
    path = write_idx(tmp_path / "images", images)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(IdxFormatError, match=r"images: truncated: 35 bytes.*needs 40"):
        read_idx(path)


def test_trailing_bytes(tmp_path, write_idx, images):
    path = write_idx(tmp_path / "images", images)
    path.write_bytes(path.read_bytes() + b"junk")
    with pytest.raises(IdxFormatError, match="trailing bytes"):
        read_idx(path)


def test_truncated_header():
    with pytest.raises(IdxFormatError, match="a.idx: truncated IDX header"):
        parse_idx(b"\0\0\x08\x03\0\0\0\x04", "a.idx")


@pytest.mark.parametrize("data", [b"<!DOCTYPE html><html>", b"\0\0\x07\x01\0\0\0\0",
                                  b"\0\0\x08\x00", b"", b"\0\0"])
def test_wrong_magic_number(tmp_path, data):
    path = tmp_path / "labels"
    path.write_bytes(data)
    with pytest.raises(IdxFormatError, match=f"{path}: not an IDX file: magic number"):
        read_idx(path)


@pytest.mark.parametrize("magic", [b"\x00\x01\x08\x03", b"\x01\x00\x08\x01"])
def test_first_two_magic_bytes_must_be_zero(magic):
    """A right type code and dimension count do not make an IDX file: bytes 0-1 must be 0."""
    ndim = magic[3]
    whole = magic + struct.pack(f">{ndim}I", *[2] * ndim) + bytes(2 ** ndim)
    for data in (magic, whole):
        with pytest.raises(IdxFormatError, match="x.idx: not an IDX file: magic number is 0x"
                                                 + magic.hex()):
            parse_idx(data, "x.idx")


@pytest.mark.parametrize("dims", [(2 ** 31, 2 ** 31, 4), (2 ** 32 - 1,) * 4])
def test_hostile_header_is_checked_in_exact_arithmetic(dims):
    """Dimensions whose product wraps around in 64 bits must not pass the size check."""
    header = bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    for data in (header, header + bytes(16)):
        with pytest.raises(IdxFormatError, match="evil.idx: (truncated|has trailing bytes)"):
            parse_idx(data, "evil.idx")


def test_corrupt_gzip(tmp_path, write_idx, images):
    path = write_idx(tmp_path / "images", images, gz=True)
    data = bytearray(path.read_bytes())
    data[12:20] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(IdxFormatError, match=f"{path}: corrupt gzip data.*fetch it again"):
        read_idx(path)


@pytest.mark.parametrize("cut", [4, 10, 30])
def test_cut_short_gzip(tmp_path, images, cut):
    """Cut in the trailer (the values are all there, the CRC is not) or in the values."""
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(images))[:-cut])
    with pytest.raises(IdxFormatError, match=f"{path}: corrupt gzip.*fetch it again"):
        read_idx(path)


def test_image_and_label_counts_disagree(tmp_path, write_idx, images):
    x = write_idx(tmp_path / "images", images)
    y = write_idx(tmp_path / "labels", np.arange(3, dtype=np.uint8))
    with pytest.raises(IdxFormatError, match=f"{x} and {y}: 4 images but 3 labels"):
        read_pair(x, y)


def test_knet_layout(tmp_path, write_idx, images):
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    x, y = read_pair(write_idx(tmp_path / "i", images), write_idx(tmp_path / "l", labels))
    assert x.shape == (6, 4) and x.dtype == np.float32 and x.flags.f_contiguous
    np.testing.assert_array_equal(x[:, 1], images[1].ravel() / np.float32(255))
    assert x[:, 1:3].flags.f_contiguous            # a minibatch is one block
    assert y.dtype == np.int64 and list(y) == [3, 1, 4, 1]


def test_knet_layout_wants_byte_images():
    with pytest.raises(IdxFormatError, match="unsigned-byte images"):
        knet_layout(np.zeros((2, 2, 2), np.int32), np.zeros(2, np.uint8))
