#!/usr/bin/env python
"""Underfitting, overfitting, regularization, dropout: the six runs of the lecture's
companion notebook (Knet.jl v0.8.x, examples/softmax.ipynb), with its settings.

    python scripts/overfitting.py --epochs 2            # a quick look, into runs/overfitting
    python scripts/overfitting.py --models mlp64 mlp64-dropout --out runs/dropout
    python scripts/overfitting.py --plot-only           # figures of docs/overfitting
    python scripts/overfitting.py --docs                # regenerate the committed files: 5 minutes

Each run is the notebook's ``srand(seed); train(winit(hidden...), dtrn, model; lr, l1, l2,
pdrop)``: plain SGD on MNIST in batches of 100, file order. Every run starts from --seed, as
the notebook calls ``srand(1)`` before each, so the two linear runs start from the same W,
and so do the three MLP 64 runs; the dropout masks come from the same generator, after W
(``mnist.py`` draws them the same way). ``fit`` measures the plain NLL and error (no
penalty, no dropout) of epoch 0, the initial weights, and after each epoch, as the
notebook's ``avgloss`` and ``zeroone`` do.

It is one run (``knetlike.run.Run``): it claims --out (default runs/overfitting; if that
holds a run, runs/overfitting-2, ...), writes settings.json, keeps MODEL.csv current after
each epoch of each model, and at the end draws the notebook's five comparisons from this
run's histories and writes summary.txt. A stop signal ends it with what was kept.

``--docs`` regenerates the committed files: a finished run's histories also replace those in
docs/overfitting (settings.json keeps the other models' records), and the figures in
docs/figures are redrawn from docs/overfitting. ``--plot-only [DIR]`` trains nothing: it
draws the figures from the histories in DIR (default docs/overfitting) into a run directory
(with --docs, into docs/figures).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

try:                                   # Ctrl-C while the modules load: a line, no traceback
    import numpy as np

    import knetlike as kl
    from knetlike import plots
    from knetlike.data import MNIST
    from knetlike.files import atomic_write
    from knetlike.history import Epoch, drawable, read_bounded, read_history, save_history
    from knetlike.machinery import stop_signals_noted
    from knetlike.options import check_out, load_data, whole
    from knetlike.run import Run, could_not_write, model_name, run_script, say, write_files
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
EPOCHS, BATCHSIZE, SEED = 100, 100, 0
SHARED = {"notebook": "Knet.jl v0.8.5 examples/softmax.ipynb", "dataset": "mnist",
          "batchsize": BATCHSIZE, "order": "file", "dtype": "float32"}

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
OUT = "runs/overfitting"
# The committed files that --docs regenerates, in the repository this script belongs to.
DOCS = Path(__file__).resolve().parents[1] / "docs"
DOCS_HISTORIES, DOCS_FIGURES = DOCS / "overfitting", DOCS / "figures"
OUTPUTS = ("settings.json", *(f"{name}.csv" for name in MODELS), *FIGURES, "summary.txt")


def run(model: Model, data: tuple, epochs: int, seed: int, report=None,
        history: list | None = None) -> list[Epoch]:
    """One of the notebook's runs: its history from epoch 0 (the initial weights) on."""
    xtrn, ytrn, xtst, ytst = data
    rng = np.random.default_rng(seed)                   # srand(seed): W, then the masks
    w = kl.weights(*model.hidden, winit=model.winit, rng=rng)
    dtrn = kl.minibatch(xtrn, kl.onehot(ytrn, 10), BATCHSIZE)
    return kl.fit(w, dtrn, (xtrn, ytrn), (xtst, ytst), epochs, model.lr,
                  history=history, report=report,
                  l1=model.l1, l2=model.l2, pdrop=model.pdrop, rng=rng)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_options(parser, args)                             # nothing is written before
    if args.plot_only is not None:
        return plot_only(args)
    data = load_data("overfitting.py", MNIST, args.data)
    with Run("overfitting.py", args.out, args.overwrite, OUTPUTS, settings(args)) as trial:
        histories = {}
        for name in args.models:
            history: list[Epoch] = []
            trial.history = history
            with trial.loop(name):
                run(MODELS[name], data, args.epochs, args.seed, history=history,
                    report=trial.reporter(history, f"{name}.csv", f"{name:15s} "))
            if trial.stopped:
                break
            histories[name] = history
        problems = publish(histories, args) if args.docs and not trial.stopped else []
        trial.finish({**{f"{name}.csv": writer(history) for name, history in histories.items()},
                      **figure_writers(histories, trial.settings["models"])},
                     [f"{name}: {history[-1]}" for name, history in histories.items()],
                     problems)
    return trial.exit_status


def plot_only(args: argparse.Namespace) -> int:
    """Draw the figures from the histories in ``args.plot_only`` into a run directory (with
    --docs, into docs/figures too). Status 1, nothing written, if no comparison can be drawn."""
    source = Path(args.plot_only)
    histories, records, problems = read_histories(source)
    drawable_figures = figure_writers(histories, records)
    if not drawable_figures:
        for problem in problems:
            say(f"overfitting.py: {problem}")
        say(f"overfitting.py: no figure drawn: {source} lacks the histories of a comparison "
            f"({', '.join(f'{a}.csv and {b}.csv' for _, (a, b), *_ in FIGURES.values())})")
        return 1
    settings = {"script": "overfitting.py", "plot_only": str(source), "knetlike": kl.__version__}
    with Run("overfitting.py", args.out, args.overwrite, OUTPUTS, settings) as trial:
        if args.docs:
            problems += publish_figures()
        trial.finish(drawable_figures, [f"drawn from {source}"], problems)
    return trial.exit_status


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (status 2, before anything is written) flags that do not fit together and an
    --out that cannot be a run's directory; fill in the defaults."""
    try:
        check_out(args.out)
    except ValueError as err:
        parser.error(f"argument --out: {err}")
    if args.plot_only is not None:
        if not Path(args.plot_only).is_dir():
            parser.error(f"argument --plot-only: {args.plot_only} is not a directory; name "
                         f"the directory of the histories (default docs/overfitting)")
        given = [flag for flag in ("epochs", "seed", "models", "data")
                 if getattr(args, flag) is not None]
        if given:
            parser.error(f"argument --plot-only: trains nothing; --{', --'.join(given)} "
                         f"do{'es' if len(given) == 1 else ''} not apply")
        return
    if args.docs and (args.epochs, args.seed) != (None, None):
        parser.error(f"argument --docs: the committed histories are the notebook's "
                     f"{EPOCHS}-epoch runs from seed {SEED}; leave out --epochs and --seed")
    args.epochs = EPOCHS if args.epochs is None else args.epochs
    args.seed = SEED if args.seed is None else args.seed
    args.models = list(dict.fromkeys(args.models or MODELS))    # each once, in order given


def settings(args: argparse.Namespace) -> dict:
    """The run's settings.json: what the models share, and each model's own record."""
    records = {name: record(name, args.epochs, args.seed) for name in args.models}
    return {"script": "overfitting.py", **SHARED, "epochs": args.epochs, "seed": args.seed,
            "models": records, "knetlike": kl.__version__}


def record(name: str, epochs: int, seed: int) -> dict:
    """A model's settings as settings.json records them."""
    return json.loads(json.dumps({**MODELS[name]._asdict(), "epochs": epochs, "seed": seed}))


def writer(history: list[Epoch]):
    """Writes ``history`` as a CSV file at the path it is given."""
    return lambda path: save_history(path, history)


# --- --docs: the committed copies --------------------------------------------------------

def publish(histories: dict[str, list[Epoch]], args: argparse.Namespace) -> list[str]:
    """Replace the committed histories of the models this run finished, record their
    settings in docs/overfitting/settings.json (the other models' records stay), then redraw
    docs/figures from docs/overfitting. Stop signals wait until the files are whole. Returns
    the problems (files that could not be written)."""
    with stop_signals_noted(lambda signum: None):
        records = dict(read_records(DOCS_HISTORIES))
        records.update({name: record(name, args.epochs, args.seed) for name in histories})
        writers = {f"{name}.csv": writer(history) for name, history in histories.items()}
        writers["settings.json"] = lambda path: atomic_write(path, docs_settings(records))
        failed = write_files(DOCS_HISTORIES, writers)
        problems = [could_not_write(DOCS_HISTORIES, failed)] if failed else []
        problems += publish_figures()
    written = [name for name in writers if name not in failed]
    if written:
        say(f"overfitting.py: wrote {', '.join(written)} in {DOCS_HISTORIES}")
    return problems


def publish_figures() -> list[str]:
    """Redraw the figures in docs/figures from the histories in docs/overfitting."""
    histories, records, problems = read_histories(DOCS_HISTORIES)
    writers = figure_writers(histories, records)
    DOCS_FIGURES.mkdir(parents=True, exist_ok=True)
    failed = write_files(DOCS_FIGURES, writers)
    if failed:
        problems.append(could_not_write(DOCS_FIGURES, failed))
    drawn = [name for name in writers if name not in failed]
    if drawn:
        say(f"overfitting.py: drew {', '.join(drawn)} in {DOCS_FIGURES}")
    return problems


def docs_settings(records: dict[str, dict]) -> str:
    """settings.json of docs/overfitting: what the models share, then one line per model."""
    lines = [f"    {json.dumps(name)}: {json.dumps(value)}" for name, value in records.items()]
    shared = {key: value for key, value in SHARED.items() if key != "dataset"}
    text = json.dumps({**shared, "models": {}}, indent=2)
    return text.replace("{}", "{\n" + ",\n".join(lines) + "\n  }") + "\n"


# --- the histories and the figures ------------------------------------------------------

def read_histories(source: Path) -> tuple[dict, dict, list[str]]:
    """The histories of ``MODELS`` in ``source`` (read by ``read_history``: bounded, checked),
    the models' records from its settings.json, and the problems: histories that are
    none (named by file and line). Warnings (values that cannot be drawn) are said."""
    histories, problems = {}, []
    for name in MODELS:
        path = source / f"{name}.csv"
        if not path.exists():
            continue
        try:
            history, warnings = read_history(path)
        except (OSError, ValueError) as err:          # the message names the file and line
            problems.append(str(err))
            continue
        for warning in warnings:
            say(f"overfitting.py: {warning}")
        histories[name] = drawable(history)
    return histories, dict(read_records(source)), problems


def read_records(source: Path) -> dict[str, dict]:
    """Each model's record in ``source/settings.json``; none if it cannot be read."""
    try:
        models = json.loads(read_bounded(source / "settings.json", 1_000_000, "settings"))
        models = models["models"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {name: value for name, value in models.items() if isinstance(value, dict)} \
        if isinstance(models, dict) else {}


def figure_writers(histories: dict[str, list[Epoch]], records: dict[str, dict]) -> dict:
    """A writer for each comparison whose two histories are there. Two histories from
    runs of other epochs or seeds (their records say) are drawn, and said to differ."""
    writers = {}
    for filename, (title, pair, *_) in FIGURES.items():
        if not all(name in histories for name in pair):
            continue
        runs = [{key: records.get(name, {}).get(key) for key in ("epochs", "seed")}
                for name in pair]
        if runs[0] != runs[1]:
            say(f"overfitting.py: {filename}: {pair[0]} ({runs[0]}) and {pair[1]} "
                f"({runs[1]}) come from different runs")
        writers[filename] = lambda path, filename=filename: plots.save(
            figure(filename, histories), path)
    return writers


def figure(filename: str, histories: dict[str, list[Epoch]]):
    """The comparison ``filename`` of ``FIGURES``: loss and error panels over epochs."""
    title, pair, loss_range, error_range = FIGURES[filename]
    fig = plots.curves({label(name): histories[name] for name in pair},
                       title=f"{title} (the settings of Knet's softmax.ipynb)")
    for ax, metric, shown in zip(fig.axes, ("nll", "error"), (loss_range, error_range)):
        ax.set_ylim(*y_range(shown, [histories[name] for name in pair], metric))
        legend = ax.get_legend()
        if legend is not None:                      # one legend below, off the curves
            legend.remove()
    fig.legend(*fig.axes[0].get_legend_handles_labels(), ncol=2, loc="upper center",
               bbox_to_anchor=(0.5, 0.0), frameon=False)     # a column per model
    return fig


def y_range(shown: tuple, histories: list, metric: str) -> tuple[float, float]:
    """The notebook's ylim, widened to hold every value after the first tenth of the run
    (after epoch 1 in a short one): a run cut short is still seen. Gaps (NaN) are skipped."""
    first = max(2, max((e.epoch for history in histories for e in history), default=0) // 10)
    values = [v for history in histories for e in history if e.epoch >= first
              for v in (getattr(e, f"train_{metric}"), getattr(e, f"test_{metric}"))
              if math.isfinite(v)]
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
    p.add_argument("--seed", type=whole(0), help="seed of the initial weights and then of the "
                   f"dropout masks, the same for every model (default {SEED})")
    p.add_argument("--models", nargs="+", choices=list(MODELS),
                   metavar="MODEL", help=f"the models to run, of {', '.join(MODELS)} "
                   "(default: all six)")
    p.add_argument("--data", metavar="DIR", help="a directory holding MNIST's four IDX files "
                   "(default: $KNETLIKE_DATA, then the cache, then fetch)")
    p.add_argument("--out", metavar="DIR", default=OUT, help=f"the run's directory (default "
                   f"{OUT}; if it holds a run, a new DIR-2, DIR-3, ... unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="write into --out even if it "
                   "holds a run, removing that run's files first")
    p.add_argument("--docs", action="store_true", help="regenerate the committed files: a "
                   "finished run's histories replace those in docs/overfitting, and the "
                   "figures in docs/figures are redrawn from them")
    p.add_argument("--plot-only", nargs="?", const=str(DOCS_HISTORIES), metavar="DIR",
                   help="train nothing: draw the figures from the histories in DIR (default "
                   "docs/overfitting)")
    return p


if __name__ == "__main__":
    sys.exit(run_script("overfitting.py", main))
