"""The lecture's MNIST figures: loss and error curves, the first images, the learned weights.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot's global
state, so nothing here needs a screen or changes the caller's backend; each is saved
atomically (see ``files.py``).
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .files import atomic_path
from .train import Epoch

OURS = {"train": "#1f3a93", "test": "#3fa7d6"}     # dark and light blue, as in the notes
NOTES = {"train": "#c9c9c9", "test": "#f2c79b"}    # light grey and light orange bands


def save(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` (format from the extension) without leaving half a file."""
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=dpi, bbox_inches="tight")


def curves(history: Sequence[Epoch], reference: Sequence[Epoch] | None = None,
           title: str | None = None) -> Figure:
    """The notes' loss plot: NLL (left) and misclassification error (right) against epochs.

    Our train and test curves are thin solid lines drawn over the notes' numbers (when
    given), which are wide, light and dashed: where the runs agree, ours runs down the
    middle of the notes' band; where they differ, the two separate.
    """
    fig = Figure(figsize=(11, 4.4))
    axes = fig.subplots(1, 2)
    last = max([e.epoch for e in history] + [1])
    for ax, metric, name in [(axes[0], "nll", "negative log likelihood"),
                             (axes[1], "error", "misclassification error")]:
        if reference:
            ref = [e for e in reference if e.epoch <= max(last, 1)]
            for split in ("train", "test"):
                ax.plot([e.epoch for e in ref], [getattr(e, f"{split}_{metric}") for e in ref],
                        "--", color=NOTES[split], lw=4.5, label=f"{split} (notes)")
        for split in ("train", "test"):
            ax.plot([e.epoch for e in history], [getattr(e, f"{split}_{metric}") for e in history],
                    "-", color=OURS[split], lw=1.4, label=split)
        ax.set_title(name)
        ax.set_xlabel("epochs")
        ax.set_xlim(0, last)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def images(x: np.ndarray, labels: Sequence[int], side: int = 28) -> Figure:
    """Columns of ``x`` (D x N, D = side*side) as a row of grey images titled by label."""
    n = x.shape[1]
    fig = Figure(figsize=(1.4 * n, 1.8))
    for i, ax in enumerate(fig.subplots(1, n, squeeze=False)[0]):
        # A column holds one image in row-major pixel order (the IDX file's order).
        ax.imshow(x[:, i].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(labels[i]))
        ax.axis("off")
    fig.tight_layout()
    return fig


def weights(W: np.ndarray, classes: Sequence[str] | None = None, side: int = 28) -> Figure:
    """The rows of W (C x D) as C images: what each class's score adds up, pixel by pixel.

    Red pixels raise the class's score, blue ones lower it; one colour scale per image,
    symmetric around zero.
    """
    C = W.shape[0]
    classes = [str(c) for c in range(C)] if classes is None else classes
    fig = Figure(figsize=(1.6 * C, 2.0))
    for c, ax in enumerate(fig.subplots(1, C, squeeze=False)[0]):
        row = W[c].reshape(side, side)
        scale = float(np.max(np.abs(row))) or 1.0
        ax.imshow(row, cmap="RdBu_r", vmin=-scale, vmax=scale)
        ax.set_title(classes[c])
        ax.axis("off")
    fig.tight_layout()
    return fig
