#!/usr/bin/env python
"""Overlay the loss and error curves of several runs of mnist.py on the notes' two panels.

    python scripts/compare.py runs/mnist runs/mnist-mlp --out compare.png
    python scripts/compare.py runs/mnist runs/mnist-mlp --notes --out compare.png
    python scripts/compare.py runs/a/history.csv runs/b/history.csv --out ab.svg

Each run is a directory written by mnist.py, or a history.csv file. Its legend label comes
from the run's settings.json (the model, and the settings in which the runs differ), else
from the path given; the same run given twice is numbered. ``--notes`` adds the lecture's
softmax numbers and the next lecture's MLP-64 numbers as wide light bands. A history that
no run writes (epochs out of order, an error above 1, a negative loss) is refused; values
that are not finite are left out of the figure, with a warning.
"""
from __future__ import annotations

import argparse
import json
import math
import stat
import sys
from dataclasses import astuple
from pathlib import Path

try:                                   # Ctrl-C while the modules load: a line, no traceback
    from matplotlib.backend_bases import FigureCanvasBase

    from knetlike import plots
    from knetlike.history import Epoch, load_history
    from knetlike.reference import knet_2016, knet_mlp_2016
    from knetlike.run import model_name, run_script, say
except KeyboardInterrupt:
    sys.exit("compare.py: interrupted by Ctrl-C while starting; nothing was written")

# The settings that tell runs apart in the legend, when they differ among the runs shown;
# the value a run's settings.json means when it lacks one (it predates that flag).
LABEL_KEYS = ("dataset", "lr", "batchsize", "winit", "l1", "l2", "dropout", "seed", "shuffle",
              "dtype")
DEFAULTS = dict(l1=0, l2=0, dropout=[0, 0])
# A history of 100 epochs takes 5 kB: a file larger than this is none, and is not read.
MAX_BYTES = 10_000_000


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    runs = [find_run(parser, path) for path in args.runs]      # (path, history file, settings)
    histories = [read_history(history_file) for _, history_file, _ in runs]
    labels = legend_labels([(path, settings) for path, _, settings in runs])
    references = {"notes: softmax": knet_2016(),
                  "next lecture: MLP 64": knet_mlp_2016()} if args.notes else None
    figure = plots.curves(dict(zip(labels, histories)), references, args.title)
    try:
        plots.save(figure, args.out)
    except OSError as err:
        sys.exit(f"compare.py: cannot write {args.out}: {err.strerror}; choose a writable path")
    say(f"wrote {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Overlay the training histories of several "
                                "mnist.py runs: negative log likelihood and misclassification "
                                "error against epochs, train and test.")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="a run directory written by mnist.py, or a history.csv file")
    p.add_argument("--out", required=True, type=figure_path, metavar="FILE",
                   help="the figure to write; its extension picks the format (.png, .svg, .pdf)")
    p.add_argument("--notes", action="store_true", help="add the lecture's numbers: the "
                   "softmax run of the notes and the next lecture's MLP-64 run")
    p.add_argument("--title", help="a title above the two panels")
    return p


def figure_path(text: str) -> Path:
    """A path whose extension matplotlib can write."""
    formats = FigureCanvasBase.get_supported_filetypes()
    extension = Path(text).suffix.lstrip(".").lower()
    if extension not in formats:
        raise argparse.ArgumentTypeError(
            f"{text}: cannot tell the figure format from the extension {extension or '(none)'!r}; "
            f"end the name with one of {', '.join('.' + f for f in sorted(formats))}")
    return Path(text)


def find_run(parser: argparse.ArgumentParser, text: str) -> tuple[str, Path, dict | None]:
    """The history file of a run given as a directory or a file, and its settings if known;
    status 2 if there is none, or it is not a regular file (a fifo, a device)."""
    path = Path(text)
    history_file = path / "history.csv" if path.is_dir() else path
    if path.is_dir() and not history_file.exists():
        parser.error(f"{text} holds no history.csv: not a run directory of mnist.py; give "
                     f"run directories or history.csv files")
    if not history_file.exists():
        broken = " (a symbolic link to nothing)" if history_file.is_symlink() else ""
        parser.error(f"{text}: no such directory or file{broken}; give run directories of "
                     f"mnist.py or history.csv files")
    if not history_file.is_file():
        parser.error(f"{history_file}: not a regular file but {kind(history_file)}; give run "
                     f"directories of mnist.py or history.csv files")
    return text, history_file, read_settings(history_file.parent / "settings.json")


def kind(path: Path) -> str:
    """What a path that is not a regular file is: ``a fifo``, ``a character device``, ..."""
    mode = path.stat().st_mode
    kinds = [(stat.S_ISFIFO, "a fifo"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a file")


def read_settings(path: Path) -> dict | None:
    """The settings mnist.py wrote beside a history, or None (the run is then labelled by
    its path)."""
    if not path.exists():
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise ValueError("not a small regular file")
        settings = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        say(f"compare.py: {path} is not readable settings ({err}); the run is labelled by "
            f"its path")
        return None
    return settings if isinstance(settings, dict) else None


def read_history(path: Path) -> list[Epoch]:
    """The history in ``path``, checked by ``check_history``; status 1 and a message naming
    the file if it is none. Values that are not finite become gaps in the curves."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError(f"{path}: {path.stat().st_size} bytes, too large for a training "
                             f"history (at most {MAX_BYTES})")
        history = load_history(path)
        warnings = check_history(history, str(path))
    except UnicodeDecodeError:
        sys.exit(f"compare.py: {path}: not a training history (not even text); give run "
                 f"directories of mnist.py or history.csv files")
    except (OSError, ValueError) as err:     # the message names the file and the row
        sys.exit(f"compare.py: {err}")
    for warning in warnings:
        say(f"compare.py: {warning}")
    return [Epoch(*(v if math.isfinite(v) else math.nan for v in astuple(e))) for e in history]


def check_history(history: list[Epoch], source: str) -> list[str]:
    """Refuse (a ValueError naming ``source`` and the row) what no run writes: an epoch
    below 1 or not after the one before, an error outside [0, 1], a negative loss. Return
    warnings: values that are not finite, and a history without epochs."""
    warnings, previous = [], 0
    for row, e in enumerate(history, start=1):
        where = f"{source}, row {row}"
        if e.epoch < 1 or e.epoch <= previous:
            after = f" after epoch {previous}" if previous else ""
            raise ValueError(f"{where}: epoch {e.epoch}{after}; a history's epochs are whole "
                             f"numbers from 1 up, each once, in order")
        previous = e.epoch
        for column in ("train_nll", "test_nll", "train_error", "test_error"):
            value = getattr(e, column)
            highest = 1 if column.endswith("error") else math.inf
            if not math.isfinite(value):
                warnings.append(f"{where}, {column}: {value} is not finite; left out of the figure")
            elif not 0 <= value <= highest:
                what = "an error is a fraction in [0, 1]" if highest == 1 else "a loss is >= 0"
                raise ValueError(f"{where}, {column}: {value}, but {what}")
    if not history:
        warnings.append(f"{source} has no epochs yet; it has a legend entry only")
    return warnings


def legend_labels(runs: list[tuple[str, dict | None]]) -> list[str]:
    """A label per run: its model and the settings in which the runs differ (from
    settings.json), else its path; runs whose labels would be the same add their path, and
    the same run given twice is numbered."""
    known = [settings for _, settings in runs if settings is not None]
    differ = [key for key in LABEL_KEYS if len({setting(s, key) for s in known}) > 1]
    labels = [path if settings is None else ", ".join(
              [model_name(settings.get("hidden") or [])]
              + [f"{key} {setting(settings, key)}" for key in differ])
              for path, settings in runs]
    labels = [f"{label} ({path})" if labels.count(label) > 1 and label != path else label
              for label, (path, _) in zip(labels, runs)]
    return [label if labels[:k].count(label) == 0 else f"{label} [{labels[:k].count(label) + 1}]"
            for k, label in enumerate(labels)]


def setting(settings: dict, key: str) -> str:
    """One setting as the legend shows it: ``0.15``, ``4e-05``, ``0.2/0`` (a pair)."""
    value = settings.get(key, DEFAULTS.get(key))
    if isinstance(value, list):
        return "/".join(setting({key: v}, key) for v in value)
    return f"{value:g}" if isinstance(value, float) or type(value) is int else str(value)


if __name__ == "__main__":
    sys.exit(run_script("compare.py", main))
