"""The IDX file format of MNIST, raw or gzipped, read into numpy arrays in Knet's layout.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), then each dimension as a big-endian uint32, then the values in row-major
order. MNIST images are N x 28 x 28 unsigned bytes, labels N unsigned bytes.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import IO, Callable

import numpy as np

from ..checks import check_memory
from .errors import IdxFormatError

# IDX type codes and the numpy types they stand for (big-endian).
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20                # bytes read (or inflated) at a time


def _values(dtype: np.dtype, dims: tuple[int, ...]) -> str:
    """How messages describe what a header declares: "60000 x 28 x 28 values of 1 byte(s)"."""
    return f"{' x '.join(map(str, dims))} values of {dtype.itemsize} byte(s)"


def idx_header(data: bytes | bytearray,
               source: str = "<bytes>") -> tuple[np.dtype, tuple[int, ...], int]:
    """The value type, the dimensions and the header length of the IDX bytes `data` (which
    may be the header alone). Checks the magic number and that the header is complete."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES or data[3] == 0:
        magic = bytes(data[:4]).hex() or "nothing"
        raise IdxFormatError(
            f"{source}: not an IDX file: magic number is 0x{magic}, expected 0x0000TTDD "
            "(TT a type code such as 08, DD the number of dimensions). "
            "Check that this is the right file, not an HTML error page or another format.")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(
            f"{source}: truncated IDX header ({len(data)} bytes, the header alone needs "
            f"{header}); fetch the file again.")
    return dtype, struct.unpack(f">{ndim}I", data[4:header]), header


def declared_size(dtype: np.dtype, dims: tuple[int, ...], header: int) -> int:
    """The bytes of a whole IDX file with this header: header plus values.

    Python integers are exact: a hostile header whose dimensions multiply past 2**64
    would wrap around in numpy's fixed-width arithmetic and seem to fit the file."""
    return header + math.prod(dims) * dtype.itemsize


def _size_fault(source: str, size: int, dtype: np.dtype, dims: tuple[int, ...],
                need: int, fix: str = "fetch the file again") -> IdxFormatError:
    """The error for a file whose size is not what its header declares."""
    fault = "truncated" if size < need else "has trailing bytes"
    return IdxFormatError(f"{source}: {fault}: {size} bytes, but its header "
                          f"({_values(dtype, dims)}) needs {need}; {fix}.")


def _read_upto(stream: IO[bytes], count: int, into: bytearray) -> None:
    """Append up to `count` bytes of `stream` to `into`, fewer only at its end, reading
    (and for a gzip stream, inflating) at most CHUNK bytes at a time."""
    while count > 0:
        chunk = stream.read(min(count, CHUNK))
        if not chunk:
            return
        into += chunk
        count -= len(chunk)


def read_bytes(path: str | Path, limit: int | None = None,
               check: Callable[[tuple[int, ...]], None] | None = None) -> bytearray:
    """The IDX content of `path`, decompressed if it is gzipped (told by its first bytes),
    read in bounded memory.

    The header is read first, and what it declares is checked before the values are read:
    `check`, when given, is called with its dimensions and raises to refuse them; the size
    may not exceed `limit` (the expected size, when the caller knows it, as a dataset
    does) or, without one, what this machine's memory allows. A gzip stream is
    inflated a chunk at a time and never past the declared size, a raw file's size is
    checked before it is read: a file that holds more than its header declares, a
    truncated one and a corrupt gzip stream are each an IdxFormatError naming the file.
    """
    path = Path(path)
    source = str(path)
    with open(path, "rb") as raw:
        if raw.read(2) != GZIP_MAGIC:
            raw.seek(0)
            return _read_idx_stream(raw, source, limit, check, os.fstat(raw.fileno()).st_size)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_idx_stream(stream, source, limit, check,  # type: ignore[arg-type]
                                        None)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:
            raise IdxFormatError(
                f"{path}: corrupt gzip data ({err}). The file is damaged or was cut short; "
                "delete it and fetch it again.") from err


def _read_idx_stream(stream: IO[bytes], source: str, limit: int | None,
                     check: Callable[[tuple[int, ...]], None] | None,
                     size: int | None) -> bytearray:
    """`read_bytes` once the stream is open: `size` is a raw file's size, None for gzip."""
    data = bytearray()
    _read_upto(stream, 4, data)
    if len(data) == 4 and data[:2] == b"\0\0" and data[2] in IDX_TYPES:
        _read_upto(stream, 4 * data[3], data)
    dtype, dims, header = idx_header(data, source)
    need = declared_size(dtype, dims, header)
    if check is not None:
        check(dims)
    if limit is not None and need > limit:
        raise IdxFormatError(
            f"{source}: its IDX header declares {_values(dtype, dims)}, {need} bytes, more "
            f"than the {limit} bytes expected: it is another file or a damaged one; "
            "delete it and fetch it again.")
    if limit is None:
        try:
            check_memory(need, "they")
        except ValueError as err:
            too_big = str(err).split(";")[0]        # the sizes, without advice meant for flags
            raise IdxFormatError(
                f"{source}: its IDX header declares {_values(dtype, dims)} ({too_big}): the "
                "file is damaged or not an IDX file; delete it and fetch it again.") from None
    if size is not None and size > need:         # a raw file: refused before it is read
        raise _size_fault(source, size, dtype, dims, need, "delete it and fetch it again")
    _read_upto(stream, need - len(data), data)
    if len(data) < need:
        raise _size_fault(source, len(data), dtype, dims, need)
    if size is None and stream.read(1):         # the gzip stream goes on: stop reading here
        raise IdxFormatError(
            f"{source}: has trailing bytes: it inflates past the {need} bytes its header "
            f"({_values(dtype, dims)}) declares; reading stopped there. The file is damaged "
            "or not what it claims to be: delete it and fetch it again.")
    return data


def parse_idx(data: bytes | bytearray, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array (a view of `data`, no copy).

    Checks the magic number, that the header is complete and that the byte count is
    exactly what the dimensions need; `source` names the file in error messages.
    """
    dtype, dims, header = idx_header(data, source)
    need = declared_size(dtype, dims, header)
    if len(data) != need:
        raise _size_fault(source, len(data), dtype, dims, need)
    return np.frombuffer(data, dtype, offset=header).reshape(dims)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into an array."""
    return parse_idx(read_bytes(path), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array`` (the inverse of ``parse_idx``): magic number,
    big-endian dimensions, big-endian values. For writing your own data in MNIST's format."""
    codes = {np.dtype(t).str[1:]: code for code, t in IDX_TYPES.items()}
    kind = array.dtype.str[1:]
    if kind not in codes:
        raise ValueError(f"idx_bytes: IDX has no type for dtype {array.dtype}; use one of "
                         f"uint8, int8, int16, int32, float32, float64")
    header = bytes([0, 0, codes[kind], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def knet_layout(images: np.ndarray, labels: np.ndarray,
                source: str = "images/labels") -> tuple[np.ndarray, np.ndarray]:
    """Turn N x H x W uint8 images and N labels into Knet's layout.

    Returns x, float32 of shape (H*W, N), column-major, pixels divided by 255, and y,
    int64 labels. Row-major N x H x W bytes viewed as (N, H*W) and transposed already
    are the column-major (H*W, N) layout, so the only copy is the conversion to float32.
    """
    if images.ndim != 3 or labels.ndim != 1 or images.dtype != np.uint8:
        raise IdxFormatError(
            f"{source}: expected N x H x W unsigned-byte images and N labels, got "
            f"{images.dtype} {images.shape} and {labels.shape}; check the file names.")
    if len(images) != len(labels):
        raise IdxFormatError(
            f"{source}: {len(images)} images but {len(labels)} labels; the two files "
            "belong to different sets (train/test) or datasets.")
    columns = images.reshape(len(images), -1).T
    # Divide into an output allocated here as float32 and column-major: the result then
    # has the type and layout we promise by construction, not by numpy's rules for
    # choosing an output, and the conversion is one pass with no further copy.
    x = np.empty(columns.shape, dtype=np.float32, order="F")
    np.divide(columns, np.float32(255), out=x)
    return x, labels.astype(np.int64)


def read_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and a labels file into Knet's layout (see `knet_layout`)."""
    return knet_layout(read_idx(images_path), read_idx(labels_path),
                       f"{images_path} and {labels_path}")
