#!/usr/bin/env python
"""Underfitting, overfitting, regularization, dropout: the six runs of the lecture's
companion notebook (Knet.jl v0.8.x, examples/softmax.ipynb), with its settings.

    python scripts/overfitting.py                      # the six runs, 100 epochs: 5 minutes
    python scripts/overfitting.py --epochs 5 --out /tmp/overfitting
    python scripts/overfitting.py --models mlp64 mlp64-dropout --out /tmp/dropout
    python scripts/overfitting.py --plot-only          # redraw the figures from the histories

Each run is the notebook's ``srand(seed); train(winit(hidden...), dtrn, model; lr, l1, l2,
pdrop)``: plain SGD on MNIST in batches of 100, file order. Every run starts from --seed, as
the notebook calls ``srand(1)`` before each, so the two linear runs start from the same W,
and so do the three MLP 64 runs. After each epoch it measures the plain NLL and error (no
penalty, no dropout), as the notebook's ``avgloss`` and ``zeroone`` do; epoch 0 is the
initial weights, the first entry of the notebook's list of weights.

It writes into --out (default docs/overfitting) MODEL.csv, a model's history, as soon as
that model has finished, and settings.json (each history's settings, epochs and seed);
then into --figures the notebook's five comparisons as loss and error panels over epochs.
The figures are drawn from the CSV files: --plot-only redraws them without training.
Ctrl-C, SIGTERM or SIGHUP stops the run; the histories of finished models are kept.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

try:                                   # Ctrl-C while the modules load: a line, no traceback
    import numpy as np

    import knetlike as kl
    from knetlike import plots
    from knetlike.data import MNIST
    from knetlike.files import atomic_write
    from knetlike.history import Epoch, load_history, save_history
    from knetlike.machinery import Interrupted, stop_signals_noted, stop_signals_raise
    from knetlike.run import (OutputClosed, check_out, load_data, model_name, run_script, say,
                              show, stop_name, whole)
except KeyboardInterrupt:
    sys.exit("overfitting.py: interrupted by Ctrl-C while starting; nothing was written")


class Model(NamedTuple):
    hidden: tuple[int, ...]     # sizes of the relu hidden layers; () is the linear model
    winit: float                # standard deviation of every initial W; every b starts at 0
    lr: float
    l1: float                   # l1 * sum|W| and l2 * sum W^2 over the W's, added to the loss
    l2: float
    pdrop: float | tuple        # (on the input, after each hidden relu), in training only


# The notebook's six runs, in its order (winit1() for linear, winit(h; std=0.01) for mlp).
MODELS = {                # hidden  winit  lr   l1    l2    pdrop
    "linear":         Model((),     0.1,  0.5, 0,    0,    0),
    "linear-l2":      Model((),     0.1,  0.5, 0,    4e-5, 0),
    "mlp64":          Model((64,),  0.01, 0.5, 0,    0,    0),
    "mlp64-l1":       Model((64,),  0.01, 0.1, 4e-5, 0,    0),
    "mlp64-dropout":  Model((64,),  0.01, 0.1, 0,    0,    (0.2, 0)),
    "mlp256-dropout": Model((256,), 0.01, 0.1, 0,    0,    (0.2, 0)),
}
EPOCHS, BATCHSIZE = 100, 100

# The notebook's comparisons: the figure, its title, its two models, and the y ranges of
# its loss and error plots (its ylim), widened for a short run (see y_range).
FIGURES = {
    "overfitting_l2.png": ("The linear model, and an L2 penalty", ("linear", "linear-l2"),
                           (0.2, 0.36), (0.06, 0.10)),
    "overfitting_mlp.png": ("A hidden layer", ("linear", "mlp64"), (0.0, 0.4), (0.0, 0.10)),
    "overfitting_l1.png": ("The MLP, and an L1 penalty", ("mlp64", "mlp64-l1"),
                           (0.0, 0.15), (0.0, 0.04)),
    "overfitting_dropout.png": ("The MLP, and dropout", ("mlp64", "mlp64-dropout"),
                                (0.0, 0.15), (0.0, 0.04)),
    "overfitting_256.png": ("A wider MLP, with dropout", ("mlp64-dropout", "mlp256-dropout"),
                            (0.0, 0.15), (0.0, 0.04)),
}
OUT, FIGURES_DIR = "docs/overfitting", "docs/figures"


def run(model: Model, data: tuple, epochs: int, seed: int, report=None) -> list[Epoch]:
    """One of the notebook's runs: its history from epoch 0 (the initial weights) on."""
    xtrn, ytrn, xtst, ytst = data
    rng = np.random.default_rng(seed)                   # srand(seed)
    w = kl.weights(*model.hidden, winit=model.winit, rng=rng)
    dtrn = kl.minibatch(xtrn, kl.onehot(ytrn, 10), BATCHSIZE)
    (trn_nll, trn_err), (tst_nll, tst_err) = kl.evaluate(w, xtrn, ytrn), kl.evaluate(w, xtst, ytst)
    history = [Epoch(0, trn_nll, tst_nll, trn_err, tst_err)]
    if report is not None:
        report(history[0])
    kl.fit(w, dtrn, (xtrn, ytrn), (xtst, ytst), epochs, model.lr, history=history,
           report=report, l1=model.l1, l2=model.l2, pdrop=model.pdrop, rng=rng)
    return history


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Path(args.out or OUT)
    figures = Path(args.figures or (FIGURES_DIR if args.out is None else out))
    for flag, path in (("--out", out), ("--figures", figures)):
        try:
            check_out(str(path))                            # nothing written yet
        except ValueError as err:
            parser.error(f"argument {flag}: {err}")
    if args.plot_only:
        if any(getattr(args, key) is not None for key in ("epochs", "seed", "models", "data")):
            parser.error("argument --plot-only: trains nothing; --epochs, --seed, --models "
                         "and --data do not apply")
        return draw_quietly(out, figures)
    args.epochs = EPOCHS if args.epochs is None else args.epochs
    args.seed = 0 if args.seed is None else args.seed
    args.models = list(dict.fromkeys(args.models or MODELS))    # each once, in order given
    data = load_data("overfitting.py", MNIST, args.data)

    problems, kept, name = [], [], ""
    with stop_signals_raise():
        try:
            for name in args.models:
                try:
                    history = run(MODELS[name], data, args.epochs, args.seed,
                                  report=lambda e: show(f"{name:15s} {e}"))
                except kl.Diverged as err:      # not with the notebook's settings
                    problems.append(f"{name} diverged ({err}); no history written for it")
                    say(f"overfitting.py: {problems[-1]}")
                    continue
                signals: list[int] = []         # a stop waits until the files are whole
                with stop_signals_noted(signals.append):
                    keep(out, name, history, args)
                kept.append(f"{name}.csv")
                if signals:
                    raise Interrupted(signals[0])
        except KeyboardInterrupt as err:        # Ctrl-C, SIGTERM, SIGHUP
            done = f"{name}.csv" in kept
            problems.append(f"interrupted by {stop_name(err)} {'after' if done else 'during'} "
                            f"{name}")
        except OutputClosed:                    # `overfitting.py | head`: the reader left
            problems.append(f"standard output was closed during {name}")
        except OSError as err:
            problems.append(f"cannot write {err.filename}: {err.strerror}; choose a writable "
                            f"--out")
        if problems:
            say(f"overfitting.py: {problems[-1]}; kept in {out}: {', '.join(kept) or 'nothing'}")
        status = draw_quietly(out, figures, required=not problems)
    return 1 if problems else status


def draw_quietly(out: Path, figures: Path, required: bool = True) -> int:
    """``draw``, with a stop signal while drawing said in one line (figures are whole or
    not written, histories are untouched)."""
    try:
        return draw(out, figures, required)
    except KeyboardInterrupt as err:
        say(f"overfitting.py: interrupted by {stop_name(err)} while drawing the figures; "
            f"the histories in {out} are whole")
        return 1


def keep(out: Path, name: str, history: list[Epoch], args: argparse.Namespace) -> None:
    """Write the model's history and record its settings in settings.json, atomically."""
    out.mkdir(parents=True, exist_ok=True)
    save_history(out / f"{name}.csv", history)
    record = {"notebook": "Knet.jl v0.8.5 examples/softmax.ipynb", "batchsize": BATCHSIZE,
              "order": "file", "dtype": "float32", "models": {}}
    try:                                            # the other models' records stay
        record["models"] = dict(json.loads((out / "settings.json").read_text())["models"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    record["models"][name] = {**MODELS[name]._asdict(), "epochs": args.epochs, "seed": args.seed}
    lines = [f"    {json.dumps(key)}: {json.dumps(value)}"          # one line per model
             for key, value in record["models"].items()]
    text = json.dumps({**record, "models": {}}, indent=2)
    text = text.replace("{}", "{\n" + ",\n".join(lines) + "\n  }")
    atomic_write(out / "settings.json", text + "\n")


def draw(out: Path, figures: Path, required: bool = True) -> int:
    """Draw each comparison whose two histories are in ``out``; 1 if a file could not be
    read or written, or if none could be drawn (unless not ``required``)."""
    histories, status, drawn = {}, 0, []
    for name in MODELS:
        try:
            histories[name] = load_history(out / f"{name}.csv")
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as err:       # the message names the file and line
            say(f"overfitting.py: {err}")
            status = 1
    for filename, (title, pair, loss_range, error_range) in FIGURES.items():
        if not all(name in histories for name in pair):
            continue
        fig = plots.curves({label(name): histories[name] for name in pair},
                           title=f"{title} (the settings of Knet's softmax.ipynb)")
        for ax, metric, shown in zip(fig.axes, ("nll", "error"), (loss_range, error_range)):
            ax.set_ylim(*y_range(shown, [histories[name] for name in pair], metric))
            if ax.get_legend() is not None:             # one legend below, off the curves
                ax.get_legend().remove()
        fig.legend(*fig.axes[0].get_legend_handles_labels(), ncol=2, loc="upper center",
                   bbox_to_anchor=(0.5, 0.0), frameon=False)     # a column per model
        try:
            figures.mkdir(parents=True, exist_ok=True)
            plots.save(fig, figures / filename)
            drawn.append(filename)
        except OSError as err:
            say(f"overfitting.py: cannot write {figures / filename}: {err.strerror}")
            status = 1
    if drawn:
        say(f"overfitting.py: drew {', '.join(drawn)} in {figures}")
    elif required:
        say(f"overfitting.py: no figure drawn: {out} lacks the histories of a comparison "
            f"({', '.join(f'{a}.csv and {b}.csv' for _, (a, b), *_ in FIGURES.values())})")
        status = 1
    return status


def y_range(shown: tuple, histories: list, metric: str) -> tuple[float, float]:
    """The notebook's ylim, widened to hold every value after the first tenth of the run
    (after epoch 1 in a short one): a run cut short is still seen."""
    first = max(2, max((e.epoch for history in histories for e in history), default=0) // 10)
    values = [getattr(e, f"{split}_{metric}") for history in histories for e in history
              if e.epoch >= first for split in ("train", "test")]
    low, high = min([shown[0], *values]), max([shown[1], *values])
    pad = 0.03 * (high - low)
    return (low if low == shown[0] else low - pad), (high if high == shown[1] else high + pad)


def label(name: str) -> str:
    """``MLP 64, lr 0.1, dropout 0.2/0``: a model by its settings (the notebook's linear
    model is the lecture's softmax model)."""
    m = MODELS[name]
    words = [model_name(m.hidden), f"lr {m.lr:g}"]
    words += [f"{key} {value:.0e}".replace("e-0", "e-") for key, value in
              (("L1", m.l1), ("L2", m.l2)) if value]
    if m.pdrop:
        words.append("dropout " + "/".join(f"{p:g}" for p in np.atleast_1d(m.pdrop)))
    return ", ".join(words)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Run the six models of Knet's companion notebook "
                                "(underfitting, overfitting, regularization, dropout) on MNIST "
                                "and draw its comparisons.")
    p.add_argument("--epochs", type=whole(0), help=f"epochs per model (default {EPOCHS}, the "
                   "notebook's)")
    p.add_argument("--seed", type=whole(0), help="seed of the initial weights and of the dropout "
                   "masks, the same for every model (default 0)")
    p.add_argument("--models", nargs="+", choices=list(MODELS),
                   metavar="MODEL", help=f"the models to run, of {', '.join(MODELS)} "
                   "(default: all six)")
    p.add_argument("--data", metavar="DIR", help="a directory holding MNIST's four IDX files "
                   "(default: $KNETLIKE_DATA, then the cache, then fetch)")
    p.add_argument("--out", metavar="DIR", help=f"directory of the histories (default {OUT}; "
                   "a model's CSV there is replaced when it has finished)")
    p.add_argument("--figures", metavar="DIR", help=f"directory of the figures (default "
                   f"{FIGURES_DIR}, or --out when that is given)")
    p.add_argument("--plot-only", action="store_true", help="train nothing: redraw the "
                   "figures from the histories in --out")
    return p


if __name__ == "__main__":
    sys.exit(run_script("overfitting.py", main))
