"""Writing files atomically: a reader, or a run interrupted half-way, never sees half a file.

Everything the package writes (cached data, histories, weights, figures) goes to a
temporary name in the destination's directory and is renamed over the destination only
once complete; a rename within one file system is atomic.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it.

    ``suffix`` keeps the extension of the temporary name (matplotlib and numpy pick the
    format from it).
    """
    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                suffix=suffix or path.suffix)
    os.close(fd)
    try:
        yield Path(temp)
        os.chmod(temp, 0o644)        # mkstemp makes the file private; a result is for reading
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically, flushed to disk."""
    with atomic_path(path) as temp:
        with open(temp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
