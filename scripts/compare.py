#!/usr/bin/env python
"""Overlay the loss and error curves of several runs on the notes' two panels.

    python scripts/compare.py runs/mnist runs/mnist-mlp --out compare.png
    python scripts/compare.py runs/mnist runs/mnist-mlp --notes --out compare.png
    python scripts/compare.py runs/a/history.csv runs/b/history.csv --out ab.svg
    python scripts/compare.py docs/overfitting/linear.csv docs/overfitting/mlp64.csv --out o.png

Each run is a directory written by mnist.py, a history file (mnist.py's history.csv, or
one model's MODEL.csv of overfitting.py), or a directory of overfitting.py's histories
(each of its models is a run). Its legend label comes from the settings.json beside it
(the model, and the settings in which the runs differ), else from the path given; the same
run given twice is numbered. ``--notes`` adds the lecture's softmax numbers and the next
lecture's MLP-100 numbers as wide light bands. Histories are read by ``read_history``: one
that no run writes is refused, values that cannot be drawn are gaps, with a warning. An
existing --out is replaced only with --overwrite.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:                                   # Ctrl-C while the modules load: a line, no traceback
    from matplotlib.backend_bases import FigureCanvasBase

    from knetlike import plots
    from knetlike.history import MAX_BYTES, Epoch, drawable, file_kind, read_bounded
    from knetlike.history import read_history as read_history_file
    from knetlike.reference import knet_2016, knet_mlp_2016
    from knetlike.run import model_name, run_script, say
except KeyboardInterrupt:
    sys.exit("compare.py: interrupted by Ctrl-C while starting; nothing was written")

# The settings that tell runs apart in the legend, when they differ among the runs shown;
# the value a run's settings.json means when it lacks one (it predates that flag).
LABEL_KEYS = ("dataset", "lr", "batchsize", "winit", "l1", "l2", "dropout", "seed", "shuffle",
              "dtype")
DEFAULTS = dict(l1=0, l2=0, dropout=[0, 0])
# overfitting.py's name for what mnist.py calls dropout.
ALIASES = dict(dropout="pdrop")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out.is_dir():
        parser.error(f"argument --out: {args.out} is a directory; name the figure's file")
    if args.out.exists() and not args.overwrite:
        parser.error(f"argument --out: {args.out} exists; --overwrite replaces it, or choose "
                     f"another name")
    runs = [run for path in args.runs for run in find_runs(parser, path)]
    histories = [read_history(history_file) for _, history_file, _ in runs]
    labels = legend_labels([(path, settings) for path, _, settings in runs])
    references = {"notes: softmax": knet_2016(),
                  "next lecture: MLP 100": knet_mlp_2016()} if args.notes else None
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
                   help="a run directory of mnist.py or overfitting.py, or a history file")
    p.add_argument("--out", required=True, type=figure_path, metavar="FILE",
                   help="the figure to write; its extension picks the format (.png, .svg, .pdf)")
    p.add_argument("--notes", action="store_true", help="add the lecture's numbers: the "
                   "softmax run of the notes and the next lecture's MLP-100 run")
    p.add_argument("--title", help="a title above the two panels")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
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


def find_runs(parser: argparse.ArgumentParser, text: str) -> list[tuple[str, Path, dict | None]]:
    """The runs a path names, each as (label path, history file, settings if known): a
    history file; a run directory of mnist.py (its history.csv); or a directory of
    overfitting.py (each MODEL.csv its settings.json names). Status 2 if there is none, or
    it is not a regular file (a fifo, a device)."""
    path = Path(text)
    if path.is_dir() and not (path / "history.csv").exists():
        models = models_in(read_settings(path / "settings.json"))
        found = [path / f"{name}.csv" for name in models if (path / f"{name}.csv").is_file()]
        if not found:
            parser.error(f"{text} holds no history.csv: not a run directory of mnist.py or "
                         f"overfitting.py; give run directories or history files")
        return [(str(file), file, models[file.stem]) for file in found]
    history_file = path / "history.csv" if path.is_dir() else path
    if not history_file.exists():
        broken = " (a symbolic link to nothing)" if history_file.is_symlink() else ""
        parser.error(f"{text}: no such directory or file{broken}; give run directories of "
                     f"mnist.py or history files")
    if not history_file.is_file():
        parser.error(f"{history_file}: not a regular file but "
                     f"{file_kind(history_file.stat().st_mode)}; give run directories of "
                     f"mnist.py or history files")
    settings = read_settings(history_file.parent / "settings.json")
    models = models_in(settings)
    if models or (settings and "models" in settings):         # overfitting.py's record
        settings = models.get(history_file.stem)
    return [(text, history_file, settings)]


def models_in(settings: dict | None) -> dict[str, dict]:
    """overfitting.py's settings.json records each model's settings under ``models``, the
    settings they share beside it: each model's whole settings, by its name."""
    models = (settings or {}).get("models")
    if not isinstance(models, dict):
        return {}
    shared = {key: value for key, value in (settings or {}).items() if key != "models"}
    return {name: {**shared, **record} for name, record in models.items()
            if isinstance(record, dict)}


def read_settings(path: Path) -> dict | None:
    """The settings a script wrote beside a history, or None (the run is then labelled by
    its path)."""
    if not path.exists():
        return None
    try:
        settings = json.loads(read_bounded(path, MAX_BYTES, "settings"))
    except (OSError, ValueError) as err:
        say(f"compare.py: {path} is not readable settings ({err}); the run is labelled by "
            f"its path")
        return None
    return settings if isinstance(settings, dict) else None


def read_history(path: Path) -> list[Epoch]:
    """The history in ``path``, read and checked by ``knetlike.history.read_history``;
    status 1 and a message naming the file if it is none. Values that cannot be drawn
    become gaps in the curves, with a warning."""
    try:
        history, warnings = read_history_file(path)
    except (OSError, ValueError) as err:     # the message names the file and the row
        sys.exit(f"compare.py: {err}")
    for warning in warnings:
        say(f"compare.py: {warning}")
    return drawable(history)


def legend_labels(runs: list[tuple[str, dict | None]]) -> list[str]:
    """A label per run: its model and the settings in which the runs differ (from
    settings.json), else its path; runs whose labels would be the same add their path, and
    the same run given twice is numbered."""
    known = [settings for _, settings in runs if settings is not None]
    differ = [key for key in LABEL_KEYS if len({setting(s, key) for s in known}) > 1]
    labels = [path if settings is None else ", ".join(
              [model_name(hidden_sizes(settings.get("hidden")))]
              + [f"{key} {setting(settings, key)}" for key in differ])
              for path, settings in runs]
    labels = [f"{label} ({path})" if labels.count(label) > 1 and label != path else label
              for label, (path, _) in zip(labels, runs)]
    return [label if labels[:k].count(label) == 0 else f"{label} [{labels[:k].count(label) + 1}]"
            for k, label in enumerate(labels)]


def hidden_sizes(value) -> list[int]:
    """The hidden sizes a settings file records, whatever its form: a list (``[64]``,
    ``["128", "64"]``), a number (``64``) or a string (``"64"``, ``"128 64"``,
    ``"128-64"``); none (``[]``, ``0``, ``None``) is the softmax model."""
    if isinstance(value, str):
        items: list = re.split(r"[\s,-]+", value.strip())
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    sizes = []
    for item in items:
        try:
            sizes.append(int(item))
        except (TypeError, ValueError, OverflowError):
            pass
    return [size for size in sizes if size > 0]


def setting(settings: dict, key: str) -> str:
    """One setting as the legend shows it: ``0.15``, ``4e-05``, ``0.2/0`` (a pair). Dropout
    is also read under overfitting.py's name (``pdrop``), one number meaning both."""
    value = settings.get(key, settings.get(ALIASES.get(key, ""), DEFAULTS.get(key)))
    if key == "dropout" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value, value]
    return "/".join(map(shown, value)) if isinstance(value, list) else shown(value)


def shown(value) -> str:
    """A number as the legend shows it (``0.15``, ``4e-05``); anything else as it is."""
    return f"{value:g}" if isinstance(value, float) or type(value) is int else str(value)


if __name__ == "__main__":
    sys.exit(run_script("compare.py", main))
