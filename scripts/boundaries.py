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

    python scripts/boundaries.py --out docs/figures
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from matplotlib.figure import Figure

import knetlike as kl
from knetlike.boundaries import (blobs, collapse, linear_stack, linear_stack_gradient,
                                 plot_boundaries, rings, xor)
from knetlike.checks import check_lr, check_whole
from knetlike.plots import save

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


def trained(model: str, x: np.ndarray, labels: np.ndarray, hidden: list[int], epochs: int,
            lr: float, seed: int) -> list:
    """``w`` for ``model`` after ``epochs`` epochs of ``kl.train`` (batch size 10) on the set."""
    C = int(labels.max()) + 1
    sizes = () if model == "softmax" else hidden
    w = kl.weights(*sizes, classes=C, inputs=x.shape[0], dtype=np.float64,
                   rng=np.random.default_rng(seed))
    dtrn = kl.minibatch(x, kl.onehot(labels, C, dtype=np.float64), 10)
    gradient = MODELS[model][1]
    for _ in range(epochs):
        kl.train(w, dtrn, lr, gradient)
    return w


def training_error(model: str, w: list, x: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``x`` misclassified by ``model``'s own forward pass."""
    scores = MODELS[model][0](w, x)
    return float(np.mean(np.argmax(scores, axis=0) != labels))


def linear_figure(models: dict, data: dict) -> Figure:
    """Softmax on three blobs and on the XOR quadrants: the lecture's straight borders."""
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    for ax, name in zip(fig.subplots(1, 2), ("three blobs", "XOR quadrants")):
        plot_boundaries(ax, models[name, "softmax"], *data[name], f"{name} softmax")
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
            plot_boundaries(ax, shown, x, labels, f"{name} {model}", legend=False)
            ax.set_title(f"{ax.get_title()}\n{MODELS[model][2]}", fontsize="medium")
    sizes = ", ".join(map(str, hidden))
    fig.suptitle(f"Stacked linear layers keep the border straight; one relu bends it "
                 f"(hidden units: {sizes})")
    fig.legend(*axes[0, -1].get_legend_handles_labels(), loc="outside lower center", ncol=3,
               frameon=False)
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:                                     # refuse an unusable --out before training
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise NotADirectoryError(20, "not a directory", args.out)
        os.makedirs(args.out, exist_ok=True)
        if not os.access(args.out, os.W_OK):
            raise PermissionError(13, "not writable", args.out)
    except OSError as err:
        parser.error(f"argument --out: cannot write figures into {args.out!r}: "
                     f"{err.strerror}; choose a writable directory")

    data = {name: make(seed=args.seed) for name, make in DATA.items()}
    models = {}
    for name, model in PANELS:
        x, labels = data[name]
        w = trained(model, x, labels, args.hidden, args.epochs, args.lr, args.seed)
        models[name, model] = w
        print(f"{name} {model}: training error {training_error(model, w, x, labels):.1%}",
              flush=True)
    for filename, fig in [("boundaries.png", linear_figure(models, data)),
                          ("boundaries_mlp.png", depth_figure(models, data, args.hidden))]:
        path = os.path.join(args.out, filename)
        save(fig, path, dpi=120)
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    """The options; each number is checked as it is parsed (a bad one exits with status 2)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/figures", metavar="DIR",
                        help="directory for boundaries.png and boundaries_mlp.png")
    parser.add_argument("--seed", type=whole(0), default=0,
                        help="seed of the data and the initial weights (default 0)")
    parser.add_argument("--epochs", type=whole(0), default=100,
                        help="epochs of SGD, batch size 10 (default 100)")
    parser.add_argument("--lr", type=learning_rate, default=0.1,
                        help="learning rate (default 0.1)")
    parser.add_argument("--hidden", type=whole(1), nargs="+", default=[32], metavar="H",
                        help="hidden layer sizes of the multilinear and mlp models (default 32)")
    return parser


def whole(least: int):
    """An argparse type: a whole number >= ``least``, checked by ``check_whole``."""
    def parse(text: str) -> int:
        try:
            return check_whole(int(text), "the value", least)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {least}, "
                                             f"got {text!r}") from None
    return parse


def learning_rate(text: str) -> float:
    """An argparse type: a finite number > 0, checked by ``check_lr``."""
    try:
        lr = float(text)
        check_lr(lr)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}") from None
    return lr


if __name__ == "__main__":
    main()
