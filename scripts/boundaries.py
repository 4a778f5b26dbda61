"""Draw the linear boundaries of the softmax classifier on two 2-D data sets.

The lecture's loop, on toy data instead of MNIST (float64 data and weights)::

    w = [0.1*randn(C,2), zeros(C,1)]
    dtrn = minibatch(x, onehot(labels), 10)
    for epoch=1:epochs; train(w, dtrn; lr=lr); end

then one panel per data set: the decision regions, the points, and the borders
``(w_i - w_j) x + (b_i - b_j) = 0``. Three blobs are separated with no error; the XOR
quadrants are not, since no line separates them.

    python scripts/boundaries.py --out docs/figures
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from matplotlib.figure import Figure

import knetlike as kl
from knetlike.boundaries import blobs, plot_boundaries, xor
from knetlike.plots import save


def trained(x: np.ndarray, labels: np.ndarray, epochs: int, lr: float, rng) -> list:
    """``w = [W, b]`` after ``epochs`` epochs of the package's SGD on ``(x, labels)``."""
    C = int(labels.max()) + 1
    w = [0.1 * rng.standard_normal((C, x.shape[0])), np.zeros((C, 1))]
    dtrn = kl.minibatch(x, kl.onehot(labels, C, dtype=np.float64), 10)
    for _ in range(epochs):
        kl.train(w, dtrn, lr=lr)
    return w


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/figures", help="directory for boundaries.png")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the initial w")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of SGD (batch size 10)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    args = parser.parse_args(argv)
    if args.epochs < 0:
        parser.error(f"--epochs must be >= 0, got {args.epochs}")

    rng = np.random.default_rng(args.seed)
    datasets = {"three blobs": blobs(seed=args.seed), "XOR quadrants": xor(seed=args.seed)}
    fig = Figure(figsize=(11, 5.2), layout="constrained")
    for ax, (name, (x, labels)) in zip(fig.subplots(1, len(datasets)), datasets.items()):
        w = trained(x, labels, args.epochs, args.lr, rng)
        print(f"{name}: training error {kl.zeroone(w, x, labels):.4f}")
        plot_boundaries(ax, w, x, labels, name)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "boundaries.png")
    save(fig, path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
