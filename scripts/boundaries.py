"""Draw the borders that softmax, stacked linear layers, and one relu can draw, on 2-D sets.

The lecture's loop, on toy data instead of MNIST (float64 data and weights)::

    w = weights(hidden...; winit=0.1)          # [W, b] for softmax
    dtrn = minibatch(x, onehot(labels), 10)
    for epoch=1:epochs; train(w, dtrn; lr=lr); end

for three models: softmax (``W x + b``), multilinear (``W2 (W1 x + b1) + b2``: two layers,
no relu, trained through both layers with ``linear_stack_gradient``) and mlp
(``W2 relu(W1 x + b1) + b2``). Each panel's ``w`` starts from ``weights`` drawn from a
generator seeded with ``--seed``, so the multilinear and mlp panels start from the same
weights and differ only by the relu. Prints one line per panel and writes two figures:

* ``boundaries.png``: softmax on three blobs (separated by lines) and on the XOR
  quadrants (not: no line separates them);
* ``boundaries_mlp.png``: the three models on the XOR quadrants and on two rings. The
  multilinear model's borders are the exact lines of its ``collapse``
  (``W = W2 W1``, ``b = W2 b1 + b2``); the mlp's are curves.

It is one run (``knetlike.run.Run``): it claims --out (default runs/boundaries; if that
holds a run, runs/boundaries-2, ...) and writes settings.json, the figures and summary.txt
there. ``--docs`` also writes the two figures into docs/figures, the committed copies:

    python scripts/boundaries.py --docs
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:                                   # Ctrl-C while the modules load: a line, no traceback
    import numpy as np
    from matplotlib.figure import Figure

    import knetlike as kl
    from knetlike.boundaries import (blobs, collapse, linear_stack, linear_stack_gradient,
                                     plot_boundaries, rings, xor)
    from knetlike.checks import check_memory
    from knetlike.options import check_out, positive, training_nbytes, whole
    from knetlike.plots import save
    from knetlike.run import Run, could_not_write, run_script, show, write_files
except KeyboardInterrupt:
    sys.exit("boundaries.py: interrupted by Ctrl-C while starting; nothing was written")

#: Each model: how its scores are computed, its gradient for ``kl.train``, its formula.
MODELS = {
    "softmax": (kl.predict, None, "$W x + b$"),
    "multilinear": (linear_stack, linear_stack_gradient,
                    r"$W_2 (W_1 x + b_1) + b_2 = (W_2 W_1) x + (W_2 b_1 + b_2)$"),
    "mlp": (kl.predict, None, r"$W_2\,\mathrm{relu}(W_1 x + b_1) + b_2$"),
}
DATA = {"three blobs": blobs, "XOR quadrants": xor, "two rings": rings}
#: The panels: (data, model) pairs, trained in this order.
PANELS = [("three blobs", "softmax")] + [(data, model) for data in ("XOR quadrants", "two rings")
                                         for model in MODELS]
GRID = 400                             # the regions are drawn on GRID x GRID points
FIGURES = ("boundaries.png", "boundaries_mlp.png")
OUTPUTS = ("settings.json", *FIGURES, "summary.txt")
# The committed copies that --docs writes, in the repository this script belongs to.
DOCS_FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"


def trained(model: str, x: np.ndarray, labels: np.ndarray, hidden: list[int], epochs: int,
            lr: float, seed: int) -> list:
    """``w`` for ``model`` after ``epochs`` epochs of ``kl.train`` (batch size 10) on the set."""
    C = int(labels.max()) + 1
    sizes = () if model == "softmax" else hidden
    w = kl.weights(*sizes, classes=C, inputs=x.shape[0], dtype=np.float64,
                   rng=np.random.default_rng(seed))
    dtrn = kl.minibatch(x, kl.onehot(labels, C, dtype=np.float64), 10)
    gradient = MODELS[model][1]
    with np.errstate(over="ignore", invalid="ignore"):      # a divergence is reported
        for _ in range(epochs):
            kl.train(w, dtrn, lr, gradient)
    return w


def diverged(w: list) -> bool:
    """True when training left weights that are not finite: no error is measured on them."""
    return not all(np.isfinite(wi).all() for wi in w)


def training_error(model: str, w: list, x: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``x`` misclassified by ``model``'s own forward pass."""
    scores = MODELS[model][0](w, x)
    return float(np.mean(np.argmax(scores, axis=0) != labels))


def panel(ax, w: list, x: np.ndarray, labels: np.ndarray, title: str, legend: bool = True):
    """``plot_boundaries``; for a model that diverged, its data only, titled so."""
    if not diverged(w):
        return plot_boundaries(ax, w, x, labels, title, resolution=GRID, legend=legend)
    for c in np.unique(labels):
        ax.scatter(*x[:, labels == c], s=16, label=f"class {c}")
    ax.set(title=f"{title}: diverged (weights not finite)", aspect="equal")
    return ax


def linear_figure(models: dict, data: dict) -> Figure:
    """Softmax on three blobs and on the XOR quadrants: the lecture's straight borders."""
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    for ax, name in zip(fig.subplots(1, 2), ("three blobs", "XOR quadrants")):
        panel(ax, models[name, "softmax"], *data[name], f"{name} softmax")
    return fig


def depth_figure(models: dict, data: dict, hidden: list[int]) -> Figure:
    """Rows: XOR quadrants, two rings. Columns: softmax, multilinear (drawn from its
    collapse), mlp. One legend below."""
    names = ["XOR quadrants", "two rings"]
    fig = Figure(figsize=(13, 9.6), layout="constrained")
    axes = fig.subplots(len(names), len(MODELS))
    for row, name in zip(axes, names):
        x, labels = data[name]
        for ax, model in zip(row, MODELS):
            w = models[name, model]
            shown = collapse(w) if model == "multilinear" else w
            panel(ax, shown, x, labels, f"{name} {model}", legend=False)
            ax.set_title(f"{ax.get_title()}\n{MODELS[model][2]}", fontsize="medium")
    sizes = ", ".join(map(str, hidden))
    fig.suptitle(f"Stacked linear layers keep the border straight; one relu bends it "
                 f"(hidden units: {sizes})")
    fig.legend(*axes[0, -1].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               frameon=False)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_options(parser, args)                            # nothing is written before
    settings = {"script": "boundaries.py", **{key: value for key, value in vars(args).items()
                                              if key not in ("out", "overwrite", "docs")}}
    with Run("boundaries.py", args.out, args.overwrite, OUTPUTS, settings) as run:
        data = {name: make(seed=args.seed) for name, make in DATA.items()}
        models, lines = {}, []
        for name, model in PANELS:
            with run.loop(f"{name} {model}"):
                x, labels = data[name]
                w = models[name, model] = trained(model, x, labels, args.hidden, args.epochs,
                                                  args.lr, args.seed)
                result = "diverged (weights not finite): try a smaller --lr" if diverged(w) \
                    else f"training error {training_error(model, w, x, labels):.1%}"
                lines.append(f"{name} {model}: {result}")
                show(lines[-1])
            if run.stopped:
                return run.finish({}, lines)
        # Each copy is drawn anew: a Figure saved twice (bbox_inches="tight") grows a few pixels.
        writers = {name: lambda path, draw=draw: save(draw(), path, dpi=120) for name, draw in
                   zip(FIGURES, (lambda: linear_figure(models, data),
                                 lambda: depth_figure(models, data, args.hidden)))}
        problems = ["a model diverged (see above); try a smaller --lr"] \
            if any(map(diverged, models.values())) else []
        if args.docs:
            failed = write_files(DOCS_FIGURES, writers)        # each atomically
            problems += [could_not_write(DOCS_FIGURES, failed)] if failed else []
        run.finish(writers, lines, problems)
    return run.exit_status


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse (status 2, before any training) hidden layers too large for memory and an
    --out that cannot be a run's directory."""
    try:                     # the largest model, and its scores on the regions' grid
        check_memory(training_nbytes(*args.hidden, classes=3, inputs=2, dtype=np.float64,
                                     batchsize=10, measured=GRID * GRID, columns=GRID * GRID),
                     f"--hidden {' '.join(map(str, args.hidden))}")
    except ValueError as err:
        parser.error(f"argument --hidden: {err}")
    try:
        check_out(args.out)
    except ValueError as err:
        parser.error(f"argument --out: {err}")


def build_parser() -> argparse.ArgumentParser:
    """The options; each number is checked as it is parsed (a bad one exits with status 2)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/boundaries", metavar="DIR",
                        help="the run's directory (default runs/boundaries; if it holds a run, "
                        "a new DIR-2, DIR-3, ... unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="write into --out even if "
                        "it holds a run, removing that run's files first")
    parser.add_argument("--docs", action="store_true", help="also write the two figures into "
                        "docs/figures, the committed copies")
    parser.add_argument("--seed", type=whole(0), default=0,
                        help="seed of the data and the initial weights (default 0)")
    parser.add_argument("--epochs", type=whole(0), default=100,
                        help="epochs of SGD, batch size 10 (default 100)")
    parser.add_argument("--lr", type=positive, default=0.1,
                        help="learning rate (default 0.1)")
    parser.add_argument("--hidden", type=whole(1), nargs="+", default=[32], metavar="H",
                        help="hidden layer sizes of the multilinear and mlp models (default 32)")
    return parser


if __name__ == "__main__":
    sys.exit(run_script("boundaries.py", main))
