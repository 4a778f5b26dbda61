"""The IDX file format of MNIST, raw or gzipped, read into numpy arrays in Knet's layout.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), then each dimension as a big-endian uint32, then the values in row-major
order. MNIST images are N x 28 x 28 unsigned bytes, labels N unsigned bytes.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import IdxFormatError

# IDX type codes and the numpy types they stand for (big-endian).
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | Path) -> bytes:
    """Return the content of `path`, decompressed if it is gzipped (told by its first bytes)."""
    path = Path(path)
    data = path.read_bytes()
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise IdxFormatError(
            f"{path}: corrupt gzip data ({err}). The file is damaged or was cut short; "
            "delete it and fetch it again.") from err


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array (a view of `data`, no copy).

    Checks the magic number, that the header is complete and that the byte count is
    exactly what the dimensions need; `source` names the file in error messages.
    """
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES or data[3] == 0:
        magic = data[:4].hex() or "nothing"
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
    dims = struct.unpack(f">{ndim}I", data[4:header])
    # Python integers are exact: a hostile header whose dimensions multiply past 2**64
    # would wrap around in numpy's fixed-width arithmetic and seem to fit the file.
    need = header + math.prod(dims) * dtype.itemsize
    if len(data) != need:
        fault = "truncated" if len(data) < need else "has trailing bytes"
        shape = " x ".join(map(str, dims))
        raise IdxFormatError(
            f"{source}: {fault}: {len(data)} bytes, but its header ({shape} values of "
            f"{dtype.itemsize} byte(s)) needs {need}; fetch the file again.")
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
