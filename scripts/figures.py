#!/usr/bin/env python
"""Redraw the README's figures in docs/figures with the scripts that draw them, or check them.

Each committed figure is drawn by a script from committed data, so that it can be drawn
again and compared with what the code draws today:

* ``mnist_curves.png``, ``mnist_images.png``, ``mnist_weights.png``: ``scripts/mnist.py``'s
  drawing of the run in ``docs/figures/data/mnist`` (the notes' run: its settings.json,
  history.csv and weights.npz; the images are MNIST's first eight);
* ``mnist_mlp_curves.png``, ``mnist_mlp_weights.png``: the same for the next lecture's MLP
  (``NEXT_LECTURE_RUN``) in ``docs/figures/data/mnist-mlp``;
* ``mnist_compare.png``: ``scripts/compare.py`` of those two runs, ``--notes``;
* ``overfitting_*.png``: ``scripts/overfitting.py --plot-only`` from ``docs/overfitting``;
* ``boundaries.png``, ``boundaries_mlp.png``: ``scripts/boundaries.py`` (it trains its toy
  models in seconds).

    python scripts/figures.py                          # redraw every figure in docs/figures
    python scripts/figures.py --check                  # compare; exit 1 when one is stale
    python scripts/figures.py --runs runs/mnist runs/mnist-mlp   # take new runs, then redraw

``--runs SOFTMAX MLP`` first copies the three files of two mnist.py runs (the default run,
and ``--hidden 100 --winit 0.001 --lr 0.5``) into docs/figures/data. What is compared: the
pixels of the PNG files, which must have the same size and differ by at most ``TOLERANCE``
(root mean square, on a 0-255 scale): a change of a colour, a line, a label or a scale
fails, while the rendering of another matplotlib or FreeType version may move text by a
pixel and need a redraw. Exit status: 0 done (current); 1 a stale or missing figure, a
script that failed (nothing is written then) or Ctrl-C; 2 a bad argument.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from knetlike.data import DataError
from knetlike.files import atomic_path
from knetlike.run import run_script, say

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
RUNS = FIGURES / "data"                # the runs that the figures are drawn from
RUN_FILES = ("settings.json", "history.csv", "weights.npz")
TOLERANCE = 0.5                       # RMS pixel difference, 0-255 scale

# figure in docs/figures -> (run directory under RUNS, the file mnist.py writes)
FROM_RUNS = {
    "mnist_curves.png": ("mnist", "curves.png"),
    "mnist_images.png": ("mnist", "images.png"),
    "mnist_weights.png": ("mnist", "weights.png"),
    "mnist_mlp_curves.png": ("mnist-mlp", "curves.png"),
    "mnist_mlp_weights.png": ("mnist-mlp", "weights.png"),
}
# figures -> the command line that draws them somewhere in the directory {out}
FROM_SCRIPTS = {
    "mnist_compare.png": ["compare.py", str(RUNS / "mnist"), str(RUNS / "mnist-mlp"), "--notes",
                          "--out", "{out}/mnist_compare.png"],
    "overfitting_*.png": ["overfitting.py", "--plot-only", str(ROOT / "docs" / "overfitting"),
                          "--out", "{out}/run"],
    "boundaries*.png": ["boundaries.py", "--out", "{out}"],
}


def mnist_script():
    """scripts/mnist.py as a module: its ``outputs`` draws a run's figures."""
    spec = importlib.util.spec_from_file_location("mnist_script", ROOT / "scripts" / "mnist.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def redraw_runs(out: Path) -> None:
    """mnist.py's figures of the committed runs, drawn into ``out`` by mnist.py's own
    ``outputs`` from each run's settings, history and weights."""
    import knetlike as kl
    from knetlike.data import DATASETS
    from knetlike.history import load_history

    script = mnist_script()
    xtrn, ytrn, _, _ = kl.mnist()
    for run in sorted({run for run, _ in FROM_RUNS.values()}):
        settings = json.loads((RUNS / run / "settings.json").read_text())
        args = argparse.Namespace(**{"init": "gaussian", **settings})
        saved = np.load(RUNS / run / "weights.npz")
        w = [saved[name] for name in saved.files if name not in ("epoch", "hidden")]
        writers = script.outputs(args, DATASETS[args.dataset], (xtrn, ytrn),
                                 load_history(RUNS / run / "history.csv"), w)
        for figure, (source, name) in FROM_RUNS.items():
            if source == run:
                writers[name](out / figure)


def redraw_scripts(out: Path) -> None:
    """The other figures, by their scripts' command lines, into ``out``."""
    for k, command in enumerate(FROM_SCRIPTS.values()):
        scratch = out / f"script-{k}"                   # where this script writes
        scratch.mkdir()
        args = [arg.replace("{out}", str(scratch)) for arg in command]
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / args[0]), *args[1:]],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise RuntimeError(f"{' '.join(args)} exited with status {done.returncode}: {last}")
        for png in scratch.rglob("*.png"):
            png.replace(out / png.name)
        shutil.rmtree(scratch)


def redraw(out: Path) -> list[Path]:
    """Every figure, drawn today, into ``out``; the PNG files written."""
    out.mkdir(parents=True, exist_ok=True)
    redraw_runs(out)
    redraw_scripts(out)
    return sorted(out.glob("*.png"))


def difference(committed: Path, drawn: Path) -> str | None:
    """What differs between two PNG files (None if within ``TOLERANCE``)."""
    if not committed.exists():
        return f"{committed.name}: not committed"
    a, b = imread(committed), imread(drawn)
    if a.shape != b.shape:
        return f"{committed.name}: {a.shape[1]} x {a.shape[0]} pixels, drawn today " \
               f"{b.shape[1]} x {b.shape[0]}"
    if a.shape[-1] != b.shape[-1]:
        return f"{committed.name}: {a.shape[-1]} channels, drawn today {b.shape[-1]}"
    rms = 255 * float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)))
    if rms > TOLERANCE:
        return f"{committed.name}: pixels differ by {rms:.2f} RMS (0-255; at most {TOLERANCE})"
    return None


def check(figures: Path = FIGURES) -> list[str]:
    """The figures in ``figures`` that differ from what the scripts draw today, each with
    what differs; empty when every one is current."""
    with tempfile.TemporaryDirectory() as temp:
        drawn = redraw(Path(temp))
        problems = [difference(figures / png.name, png) for png in drawn]
        known = {png.name for png in drawn}
    extra = [f"{png.name}: no script draws it" for png in sorted(figures.glob("*.png"))
             if png.name not in known]
    return [p for p in problems if p] + extra


def take_runs(softmax: Path, mlp: Path) -> None:
    """Copy two mnist.py runs' settings, history and weights into docs/figures/data."""
    for source, name in ((softmax, "mnist"), (mlp, "mnist-mlp")):
        missing = [f for f in RUN_FILES if not (source / f).is_file()]
        if missing:
            raise ValueError(f"--runs: {source} lacks {', '.join(missing)}: give the output "
                             f"directories of two finished mnist.py runs")
    for source, name in ((softmax, "mnist"), (mlp, "mnist-mlp")):
        (RUNS / name).mkdir(parents=True, exist_ok=True)
        for f in RUN_FILES:
            with atomic_path(RUNS / name / f) as target:
                shutil.copyfile(source / f, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("--runs", nargs=2, type=Path, metavar=("SOFTMAX", "MLP"),
                        help="first take these two mnist.py runs as the figures' data")
    args = parser.parse_args(argv)
    if args.runs:
        try:
            take_runs(*args.runs)
        except ValueError as err:
            parser.error(str(err))
    try:
        return check_or_redraw(args.check)
    except (RuntimeError, DataError) as err:      # a script failed, or MNIST is not at hand
        say(f"figures.py: {err}; no figure was written")
        return 1


def check_or_redraw(only_check: bool) -> int:
    """--check: say which figures are stale (status 1); else redraw them all (status 0)."""
    if only_check:
        problems = check()
        for problem in problems:
            print(problem)
        print("stale: redraw with `python scripts/figures.py`" if problems else
              "every figure is what its script draws today")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory() as temp:
        for png in redraw(Path(temp)):                    # all drawn first, then copied
            with atomic_path(FIGURES / png.name) as target:
                shutil.copyfile(png, target)
            print(f"wrote {FIGURES / png.name}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script("figures.py", main))
