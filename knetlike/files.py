"""Writing files atomically: a reader, or a run interrupted half-way, never sees half a file.

Everything the package writes (cached data, histories, weights, figures) goes to a
temporary name in the destination's directory and is renamed over the destination only
once complete; a rename within one file system is atomic.

A run's output directory is claimed the same way, atomically (``claim_directory``): two
runs started together never write into one directory, and ``--overwrite`` clears the
previous run's files first, so a directory always holds one run.
"""
from __future__ import annotations

import errno
import glob
import itertools
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it.

    ``suffix`` keeps the extension of the temporary name (matplotlib and numpy pick the
    format from it). An OSError that names no file (a full disk fails a write, not an
    open) or the temporary one is given ``path`` as its file name: its message names the
    file the caller wrote.
    """
    path = Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                suffix=suffix or path.suffix)
    os.close(fd)
    try:
        yield Path(temp)
        os.chmod(temp, 0o644)        # mkstemp makes the file private; a result is for reading
        os.replace(temp, path)
    except BaseException as err:
        Path(temp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.filename in (None, temp):
            err.filename = str(path)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | bytearray | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically, flushed to disk."""
    with atomic_path(path) as temp:
        with open(temp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())


# Claiming an output directory: one run per directory, also when two start at once.

try:
    import fcntl
except ImportError:                  # not POSIX: an O_EXCL lock file, removed on release
    fcntl = None                     # type: ignore[assignment]

LOCK_NAME = ".knetlike.lock"


class DirectoryInUse(OSError):
    """The directory is held by a run in progress (another process holds its lock)."""


@dataclass
class Claim:
    """An output directory held for one run: its lock file stays open and locked until
    ``release()`` (or the end of a ``with`` block, or the process)."""

    path: Path
    instead: str | None              # why the asked-for directory was not used, if it was not
    fd: int | None
    in_use: bool = False             # True if that was a run in progress (else a finished one)
    passed: tuple[Path, ...] = ()    # the directories tried before ``path``, in order

    def holds(self) -> bool:
        """True while ``path`` is still the directory this run claimed: our lock file is in
        it. False once the directory was removed, or replaced by another (another run's,
        say): then nothing more may be written there."""
        if self.fd is None:
            return False
        try:
            return os.path.samestat(os.fstat(self.fd), os.stat(Path(self.path, LOCK_NAME)))
        except OSError:
            return False

    def release(self) -> None:
        """Give the directory up: remove the lock file if it is still ours (never another
        run's, if the directory was replaced meanwhile), then unlock it (closing it)."""
        if self.fd is not None:
            if self.holds():
                Path(self.path, LOCK_NAME).unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def claim_directory(path: str | os.PathLike, overwrite: bool = False,
                    outputs: Iterable[str] = ()) -> Claim:
    """Hold a directory for one run, atomically, and return the ``Claim``.

    ``path`` is used if it is new or empty. If it already holds a run (any file beside a
    lock that no live process holds) or a run in progress holds it, the first of
    ``path-2``, ``path-3``, ... that is new or empty is used instead, and ``Claim.instead``
    says why. With ``overwrite``, ``path`` is used whatever it holds, after the previous
    run's ``outputs`` (file names, and their half-written temporaries) are removed, so the
    directory never mixes two runs; other files stay. A run in progress is never
    overwritten: that is a ``DirectoryInUse``.

    The decision is taken while holding an exclusive lock on ``LOCK_NAME`` in the directory
    (``flock``): of two runs started together, one gets the directory and the other moves
    on. The kernel drops the lock when its process ends, however it ends, so the lock of a
    killed run is not stale.
    """
    base = Path(path)
    if base.exists() and not base.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a directory", str(base))
    if base.name in ("", ".", ".."):
        raise IsADirectoryError(errno.EINVAL, "names no directory of its own (a run needs one "
                                "it can hold alone, e.g. runs/mnist)", str(path))
    instead, in_use = None, False
    passed: list[Path] = []
    for k in itertools.count(1):
        candidate = base if k == 1 else base.with_name(f"{base.name}-{k}")
        if candidate.exists() and not candidate.is_dir():
            continue
        candidate.mkdir(parents=True, exist_ok=True)
        fd = _lock(candidate)
        if fd is None:
            reason = f"is in use by a run in progress{_holder(candidate)}"
            if overwrite:
                raise DirectoryInUse(errno.EBUSY, f"{reason}; wait for it to end or stop it",
                                     str(candidate))
        elif overwrite:
            _remove_outputs(candidate, outputs)
            return Claim(candidate, instead, fd, in_use, tuple(passed))
        elif any(entry.name != LOCK_NAME for entry in candidate.iterdir()):
            reason = "already holds a run"
            _unlock(candidate, fd)
        else:
            return Claim(candidate, instead, fd, in_use, tuple(passed))
        passed.append(candidate)
        if instead is None:
            instead, in_use = f"{candidate} {reason}", fd is None
    raise AssertionError("unreachable")


def _lock(directory: Path) -> int | None:
    """Open and exclusively lock ``directory/LOCK_NAME``, writing our process id into it;
    None if another process holds it."""
    lock = directory / LOCK_NAME
    while True:
        if fcntl is None:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return None
        else:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            # The previous holder removes the file on release: if it did so after we
            # opened it, we hold a lock on a file no one else sees. Open it anew.
            try:
                current = os.stat(lock)
            except FileNotFoundError:
                current = None
            if current is None or not os.path.samestat(os.fstat(fd), current):
                os.close(fd)
                continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd


def _unlock(directory: Path, fd: int) -> None:
    """Release a lock taken by ``_lock`` without using the directory."""
    Claim(directory, None, fd).release()


def _holder(directory: Path) -> str:
    """`` (process N)`` naming the lock's holder, when its file says."""
    try:
        pid = int(Path(directory, LOCK_NAME).read_text().strip())
    except (OSError, ValueError):
        return ""
    return f" (process {pid})"


def _remove_outputs(directory: Path, outputs: Iterable[str]) -> None:
    """Remove a previous run's ``outputs`` from ``directory``, and temporaries that
    ``atomic_path`` left of them (``.NAME.xxxx``) when a run was killed mid-write."""
    for name in outputs:
        Path(directory, name).unlink(missing_ok=True)
        for temporary in directory.glob(f".{glob.escape(name)}.*"):
            temporary.unlink(missing_ok=True)
