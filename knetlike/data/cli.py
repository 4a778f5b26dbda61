"""Command line for the datasets: `python -m knetlike.data fetch|verify|info [DATASET]`.

    fetch mnist      get MNIST into the cache (or find it in --data / $KNETLIKE_DATA)
    fetch fashion    the same for Fashion-MNIST
    verify           check every local file against its SHA-256; exit 1 if one is bad
                     (or if a dataset named lacks a good set); with nothing fetched it
                     says so, and exits 0: no file is bad
    info             where the files are, their sizes, and whether their checksums match

A directory named with --data (or $KNETLIKE_DATA) is the only place looked in: every
command exits 1 if it lacks one of the four files.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .datasets import (DATASETS, Dataset, command_name, dataset_names, local_places,
                       missing_here, named_files, named_place, obtain, read_file, verify)
from .errors import DataError, DataNotFoundError
from .sources import find_files


def file_status(dataset: Dataset, directory: Path) -> list[tuple[str, Path | None, str]]:
    """For each file of `dataset`: its name, its path in `directory` (or None), and
    "ok", "missing" or what is wrong with it."""
    found = find_files(directory, dataset.names)
    rows: list[tuple[str, Path | None, str]] = []
    for spec in dataset.files:
        path = found.get(spec.name)
        if path is None:
            rows.append((spec.name, None, "missing"))
            continue
        try:
            verify(dataset, spec, read_file(dataset, spec, path), str(path))
            rows.append((spec.name, path, "ok"))
        except (DataError, OSError) as err:
            rows.append((spec.name, path, f"BAD: {err}"))
    return rows


def _chosen(names: list[str]) -> list[Dataset]:
    """The datasets named on the command line (all of them when none is named); the names
    are known ones (`main` refuses others)."""
    chosen = [DATASETS[name] for name in names] or list(DATASETS.values())
    return list(dict.fromkeys(chosen))


def _report(dataset: Dataset, root: str | None, details: bool) -> tuple[bool, bool, int]:
    """Print the state of each existing local directory of `dataset`.

    Returns (no bad file anywhere, some directory holds a complete good set, how many
    files were found and checked)."""
    print(dataset.title)
    clean, complete, found = True, False, 0
    for label, directory in local_places(dataset, root):
        if not directory.is_dir():
            print(f"  {label} {directory}: {absent(dataset, directory)}")
            continue
        print(f"  {label} {directory}")
        rows = file_status(dataset, directory)
        for name, path, status in rows:
            size = f"{path.stat().st_size:>10} B  " if details and path else ""
            shown = path.name if path else name
            print(f"    {shown:<28} {size}{'checksum ' if details and path else ''}{status}")
        clean &= all(status in ("ok", "missing") for _, _, status in rows)
        complete |= all(status == "ok" for _, _, status in rows)
        found += sum(path is not None for _, path, _ in rows)
    return clean, complete, found


def absent(dataset: Dataset, directory: Path) -> str:
    """What to say of a local directory of `dataset` that is not there: for the cache and
    a system copy a state (they are filled, or installed, when needed), for a directory
    the user named what is wrong."""
    if not directory.exists() and directory == dataset.cache_dir:
        return f"not fetched yet (`python -m knetlike.data fetch {command_name(dataset)}`)"
    if not directory.exists() and directory in dataset.system_dirs:
        return "not installed (optional: a system-wide copy, used when present)"
    return missing_here(directory, dataset.names) or "?"


def _named_ok(dataset: Dataset, root: str | None) -> bool:
    """False, after saying why and how to fix it on stderr, when the directory the user
    named (--data, $KNETLIKE_DATA) lacks one of the files; True otherwise."""
    named = named_place(dataset, root)
    try:
        if named is not None:
            named_files(dataset, *named)
    except DataNotFoundError as err:
        print(err, file=sys.stderr)
        return False
    return True


def cmd_fetch(args: argparse.Namespace) -> int:
    """Make each named dataset available locally, fetching it when needed."""
    for dataset in _chosen(args.dataset):
        start = time.perf_counter()
        try:
            _, origin = obtain(dataset, args.data)
        except DataError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"{dataset.title}: ok, from {origin} ({time.perf_counter() - start:.1f} s)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Check local files; fail on any bad file, or on a named dataset with no good set."""
    ok, checked = True, 0
    for dataset in _chosen(args.dataset):
        clean, complete, found = _report(dataset, args.data, details=False)
        ok &= _named_ok(dataset, args.data) and clean and (complete or not args.dataset)
        checked += found
    if not ok:
        print("verification FAILED")
    elif checked == 0:       # nothing is bad, but nothing was checked either: say so
        print("nothing to verify: no file is fetched yet (`python -m knetlike.data fetch "
              "mnist`, or fashion)")
    else:
        print(f"all checked files are good ({checked} file{'s' * (checked != 1)})")
    return 0 if ok else 1


def cmd_info(args: argparse.Namespace) -> int:
    """Show where each dataset's files are, their sizes and checksum state."""
    status = 0
    for dataset in _chosen(args.dataset):
        _report(dataset, args.data, details=True)
        if not _named_ok(dataset, args.data):
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; return the exit status."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", metavar="DIR",
                        help="a directory holding the four files (like root=)")
    parser = argparse.ArgumentParser(prog="python -m knetlike.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, run, nargs in (("fetch", cmd_fetch, "+"), ("verify", cmd_verify, "*"),
                             ("info", cmd_info, "*")):
        sub = commands.add_parser(name, parents=[common],
                                  help=(run.__doc__ or name).splitlines()[0])
        sub.add_argument("dataset", nargs=nargs, help=f"one of: {dataset_names()}")
        sub.set_defaults(run=run)
    args = parser.parse_args(argv)
    unknown = [name for name in args.dataset if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; choose from {dataset_names()}")
    if args.data is not None and len(set(_chosen(args.dataset))) != 1:
        # MNIST and Fashion-MNIST use the same file names: a directory holds one of them.
        parser.error("--data DIR holds the files of one dataset: name it, e.g. "
                     "`python -m knetlike.data verify mnist --data DIR`")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("python -m knetlike.data: interrupted (Ctrl-C); the cache holds only whole, "
              "checked files", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
