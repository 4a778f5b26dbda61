"""A fetch that is killed (SIGTERM, SIGHUP) or fails half-way through a write leaves
nothing behind: no scratch directory, no partial file under a cached file's name.

These run a small script in a child process, so that the signal or the file-size limit
hits that process only."""
import os
import signal
import subprocess
import sys

import pytest

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]

# A dataset of zero-valued images, 50 x 40 x 50 training images (100000 bytes), fetched
# gzipped (a few hundred bytes) from a source that can be told to stall.
CHILD = """
import gzip, hashlib, resource, signal, sys, time
import numpy as np
from knetlike.data import Dataset, IdxFile, idx_bytes, load

SHAPES = {"train-images-idx3-ubyte": (50, 40, 50), "train-labels-idx1-ubyte": (50,),
          "t10k-images-idx3-ubyte": (2, 40, 50), "t10k-labels-idx1-ubyte": (2,)}
CONTENTS = {name: idx_bytes(np.zeros(shape, np.uint8)) for name, shape in SHAPES.items()}
mode = sys.argv[1]

class Source:
    label = "test source"

    def fetch(self, names, scratch):
        paths = {name: scratch / (name + ".gz") for name in names}
        for name, path in paths.items():
            path.write_bytes(gzip.compress(CONTENTS[name]))
        if mode == "stall":
            print("fetching", flush=True)
            time.sleep(60)
        return paths

files = tuple(IdxFile(name, shape, hashlib.sha256(CONTENTS[name]).hexdigest())
              for name, shape in SHAPES.items())
if mode == "limit":     # no file may grow beyond 64 KiB: the cached images cannot be written
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, resource.RLIM_INFINITY))
load(Dataset("tiny", "Tiny", files, classes=("0",), remote=(Source(),)))
"""

# The size of each complete file (header + values): anything else in the cache is partial.
FULL_SIZES = {NAMES[0]: 4 + 3 * 4 + 100000, NAMES[1]: 4 + 4 + 50,
              NAMES[2]: 4 + 3 * 4 + 4000, NAMES[3]: 4 + 4 + 2}


@pytest.fixture
def child(tmp_path):
    """Start the script with its own cache and temporary directory; return (start, dirs)."""
    cache, scratch = tmp_path / "xdg", tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TMPDIR": str(scratch)}
    env.pop("KNETLIKE_DATA", None)

    def start(mode):
        return subprocess.Popen([sys.executable, "-c", CHILD, mode], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return start, cache / "knetlike" / "tiny", scratch


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_killed_fetch_removes_its_scratch_directory(child, signum):
    start, cache, scratch = child
    process = start("stall")
    try:
        assert process.stdout.readline() == "fetching\n", process.communicate()[1]
        assert os.listdir(scratch)                       # the scratch directory is there
        process.send_signal(signum)
        process.wait(timeout=30)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signum                 # it still dies of the signal
    assert os.listdir(scratch) == []
    assert not cache.exists() or os.listdir(cache) == []


def test_a_cache_write_that_fails_half_way_leaves_no_partial_file(child):
    start, cache, _ = child
    process = start("limit")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "DataNotFoundError" in err, err
    found = {path.name: path.stat().st_size for path in cache.iterdir()}
    assert all(FULL_SIZES.get(name) == size for name, size in found.items()), found
