#!/usr/bin/env python
"""Overlay the loss and error curves of several runs of mnist.py on the notes' two panels.

    python scripts/compare.py runs/mnist runs/mnist-mlp --out compare.png
    python scripts/compare.py runs/mnist runs/mnist-mlp --notes --out compare.png
    python scripts/compare.py runs/a/history.csv runs/b/history.csv --out ab.svg

Each run is a directory written by mnist.py, or a history.csv file. Its legend label comes
from the run's settings.json (the model, and the settings in which the runs differ), else
from the path given. ``--notes`` adds the lecture's softmax numbers and the next lecture's
MLP-64 numbers as wide light bands.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matplotlib.backend_bases import FigureCanvasBase

from knetlike import plots
from knetlike.history import load_history
from knetlike.reference import knet_2016, knet_mlp_2016

# The settings that tell runs apart in the legend, when they differ among the runs shown.
LABEL_KEYS = ("dataset", "lr", "batchsize", "winit", "seed", "shuffle", "dtype")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    runs = [find_run(parser, path) for path in args.runs]      # (path, history file, settings)
    histories = []
    for path, history_file, _ in runs:
        try:
            histories.append(load_history(history_file))
        except UnicodeDecodeError:
            sys.exit(f"compare.py: {history_file}: not a training history (not even text); "
                     f"give run directories of mnist.py or history.csv files")
        except (OSError, ValueError) as err:     # not a history: the message names file and line
            sys.exit(f"compare.py: {err}")
        if not histories[-1]:
            say(f"compare.py: {history_file} has no epochs yet; it has a legend entry only")
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
    """The history file of a run given as a directory or a file, and its settings if known."""
    path = Path(text)
    if path.is_dir():
        history_file = path / "history.csv"
        if not history_file.is_file():
            parser.error(f"{text} holds no history.csv: not a run directory of mnist.py; give "
                         f"run directories or history.csv files")
    elif path.is_file():
        history_file = path
    else:
        parser.error(f"{text}: no such directory or file; give run directories of mnist.py "
                     f"or history.csv files")
    return text, history_file, read_settings(history_file.parent / "settings.json")


def read_settings(path: Path) -> dict | None:
    """The settings mnist.py wrote beside a history, or None (the run is then labelled by
    its path)."""
    if not path.exists():
        return None
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        say(f"compare.py: {path} is not readable settings ({err}); the run is labelled by "
            f"its path")
        return None
    return settings if isinstance(settings, dict) else None


def legend_labels(runs: list[tuple[str, dict | None]]) -> list[str]:
    """A label per run: its model and the settings in which the runs differ (from
    settings.json), else its path; runs whose labels would be the same add their path."""
    known = [settings for _, settings in runs if settings is not None]
    differ = [key for key in LABEL_KEYS if len({repr(s.get(key)) for s in known}) > 1]
    labels = []
    for path, settings in runs:
        if settings is None:
            labels.append(path)
        else:
            parts = [model_name(settings.get("hidden") or [])]
            labels.append(", ".join(parts + [f"{key} {settings.get(key)}" for key in differ]))
    return [f"{label} ({path})" if labels.count(label) > 1 and label != path else label
            for label, (path, _) in zip(labels, runs)]


def model_name(hidden: list[int]) -> str:
    """``softmax``, or ``MLP 64``, ``MLP 128-64`` for hidden layers of those sizes."""
    return "softmax" if not hidden else "MLP " + "-".join(str(h) for h in hidden)


def say(message: str) -> None:
    print(message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
