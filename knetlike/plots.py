"""The lecture's MNIST figures: loss and error curves (of one run or several), the first
images, the learned weights.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot's global
state, so nothing here needs a screen or changes the caller's backend; each is saved
atomically (see ``files.py``).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np
from matplotlib.figure import Figure

from .data import MNIST
from .files import atomic_path
from .train import Epoch

OURS = {"train": "#1f3a93", "test": "#3fa7d6"}     # dark and light blue, as in the notes
NOTES = {"train": "#c9c9c9", "test": "#f2c79b"}    # light grey and light orange bands
REFERENCES = [NOTES, {"train": "#b5d8b0", "test": "#e3b5d6"}]  # then light green and pink
MARKED = 20                                        # up to this many epochs get markers
RUNS = ["#1f3a93", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#3fa7d6", "#8c564b", "#555555"]


def save(fig: Figure, path: str | os.PathLike, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` (format from the extension) without leaving half a file."""
    with atomic_path(path) as temp:
        fig.savefig(temp, dpi=dpi, bbox_inches="tight")


Histories = Union[Sequence[Epoch], Mapping[str, Sequence[Epoch]]]


def curves(runs: Histories, reference: Histories | None = None,
           title: str | None = None) -> Figure:
    """The notes' loss plot: NLL (left) and misclassification error (right) against epochs.

    ``runs`` is one history (a list of ``Epoch``) or several, as a dict from a label to a
    history; ``reference`` likewise: the notes' numbers (labelled "notes"), or a dict of
    reference histories such as ``{"next lecture": knet_mlp_2016()}``. Runs are thin solid
    (train) and dotted (test) lines over the references, which are wide, light and dashed:
    where a run agrees with a reference, its line runs down the middle of the band; where
    they differ, the two separate. One run keeps the notes' colours (dark blue train, light
    blue test); several get a colour each.

    Epoch 0 (the initial weights: an NLL near log C, an error near 1 - 1/C) is drawn but
    left out of the y scale, which fits the trained epochs as the notes' figure does; the
    x label then says how far above it starts. A run of few epochs (up to ``MARKED``
    measurements) marks each one, so that a quick look of two epochs is two visible points.
    """
    runs = _labelled(runs, "")
    references = _labelled(reference, "notes") if reference is not None else {}
    fig = Figure(figsize=(11, 4.4))
    axes = fig.subplots(1, 2)
    last = max([e.epoch for history in runs.values() for e in history] + [1])
    # The notes' legend sits inside each panel; with more curves, or a reference's long
    # label ("next lecture: 784-100-10, for information"), it would cover some, so it goes below.
    inside = len(runs) + len(references) <= 2 and all(len(label) <= 12 for label in references)
    for ax, metric, name in [(axes[0], "nll", "negative log likelihood"),
                             (axes[1], "error", "misclassification error")]:
        for k, (label, ref) in enumerate(references.items()):
            colours = REFERENCES[k % len(REFERENCES)]
            ref = [e for e in ref if e.epoch <= last]
            for split in ("train", "test"):
                ax.plot([e.epoch for e in ref], [getattr(e, f"{split}_{metric}") for e in ref],
                        "--", color=colours[split], lw=4.5, label=f"{split} ({label})")
        for k, (label, history) in enumerate(runs.items()):
            for split in ("train", "test"):
                colour = OURS[split] if len(runs) == 1 else RUNS[k % len(RUNS)]
                style = "-" if len(runs) == 1 or split == "train" else ":"
                ax.plot([e.epoch for e in history],
                        [getattr(e, f"{split}_{metric}") for e in history],
                        style, color=colour, lw=1.4 if style == "-" else 1.8,
                        marker="o" if len(history) <= MARKED else None, markersize=4,
                        label=f"{split} ({label})" if label else split)
        ax.set_title(name)
        ax.set_xlabel("epochs" + _scale_without_epoch_0(ax, metric, runs, references, last))
        ax.set_xlim(0, last)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        if inside:
            ax.legend(frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if not inside:                         # one legend below both panels: train | test
        handles, labels = axes[0].get_legend_handles_labels()
        order = [*range(0, len(handles), 2), *range(1, len(handles), 2)]
        fig.legend([handles[i] for i in order], [labels[i] for i in order], ncol=2,
                   loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False)
    return fig


def _scale_without_epoch_0(ax, metric: str, runs: Mapping, references: Mapping,
                           last: int) -> str:
    """Fit the y scale of ``ax`` to the epochs from 1 to ``last`` when epoch 0 lies far
    outside it (as the initial weights' loss does); what to add to the x label then."""
    values = {epoch_0: [v for history in [*runs.values(), *references.values()]
                        for e in history if (e.epoch == 0) == epoch_0 and e.epoch <= last
                        for v in (getattr(e, f"train_{metric}"), getattr(e, f"test_{metric}"))
                        if math.isfinite(v)]
              for epoch_0 in (True, False)}
    if not values[True] or not values[False]:
        return ""
    low, high = min(values[False]), max(values[False])
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
    if low - pad <= min(values[True]) and max(values[True]) <= high + pad:
        return ""
    ax.set_ylim(low - pad, high + pad)
    start = max(values[True], key=lambda v: abs(v - (low + high) / 2))
    return f" (epoch 0, the initial weights, is off the scale: {start:.2f})"


def _labelled(histories: Histories, label: str) -> dict[str, Sequence[Epoch]]:
    """One history as ``{label: history}``; a dict of them as it is."""
    return dict(histories) if isinstance(histories, Mapping) else {label: histories}


def images(x: np.ndarray, labels: Sequence,
           shape: int | tuple[int, ...] = MNIST.image_shape) -> Figure:
    """Columns of ``x`` (D x N) as a row of grey images of ``shape`` (D pixels; an int is the
    side of a square) titled by their labels."""
    shape = _shape(shape)
    n = x.shape[1]
    fig = Figure(figsize=(1.4 * n, 1.8))
    for i, ax in enumerate(fig.subplots(1, n, squeeze=False)[0]):
        # A column holds one image in row-major pixel order (the IDX file's order).
        ax.imshow(x[:, i].reshape(shape), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(str(labels[i]))
        ax.axis("off")
    fig.tight_layout()
    return fig


def weights(W: np.ndarray, titles: Sequence[str] | None = None,
            shape: int | tuple[int, ...] = MNIST.image_shape, columns: int | None = None,
            title: str | None = None, shared: bool | None = None) -> Figure:
    """The rows of W (rows x D) as images of ``shape``: what each row's unit adds up,
    pixel by pixel. For the softmax model the rows are the classes' scores; for an MLP's
    first layer, its hidden units.

    Red pixels raise the unit's value, blue ones lower it, on a colour scale symmetric
    around zero. Up to 10 rows are drawn in one row of images titled ``titles`` (default
    0, 1, ...), each on its own scale, so that every class's template shows. More rows
    form a grid of ``columns`` (default about square), untitled unless ``titles`` are
    given, on one scale shared by all (``shared``): a unit that barely moved from its small
    initial weights then stays pale, instead of showing as full-contrast noise. The title
    says which scale was used.
    """
    shape = _shape(shape)
    rows = W.shape[0]
    shared = rows > 10 if shared is None else shared
    if titles is None and rows <= 10:
        titles = [str(c) for c in range(rows)]
    columns = columns or (rows if rows <= 10 else math.ceil(math.sqrt(rows)))
    lines = math.ceil(rows / columns)
    cell = 1.6 if rows <= 10 else 1.0
    largest = float(np.max(np.abs(W), initial=0.0)) or 1.0
    scale = f"one colour scale for all: |W| up to {largest:.2g}" if shared else \
        "each image on its own colour scale"
    title = f"{title}\n({scale})" if title else f"({scale})"
    fig = Figure(figsize=(cell * columns, (cell + (0.4 if titles else 0)) * lines + 0.6))
    for k, ax in enumerate(fig.subplots(lines, columns, squeeze=False).flat):
        ax.axis("off")
        if k >= rows:
            continue
        row = W[k].reshape(shape)
        limit = largest if shared else float(np.max(np.abs(row))) or 1.0
        ax.imshow(row, cmap="RdBu_r", vmin=-limit, vmax=limit)
        if titles:
            ax.set_title(titles[k])
    fig.suptitle(title, fontsize="medium" if rows <= 10 else None)
    fig.tight_layout()
    return fig


def first_layer(w: Sequence[np.ndarray], classes: Sequence[str] | None = None,
                shape: int | tuple[int, ...] = MNIST.image_shape) -> Figure:
    """The rows of the model's first W as images (``weights``): the classes' templates for
    the softmax model ``[W, b]`` (titled by ``classes``), the hidden units' for an MLP."""
    if len(w) == 2:
        return weights(w[0], classes, shape)
    return weights(w[0], shape=shape,
                   title=f"first layer: the {w[0].shape[0]} hidden units' weights (W1)")


def _shape(shape: int | tuple[int, ...]) -> tuple[int, ...]:
    """An image shape; an int is the side of a square image."""
    return (shape, shape) if isinstance(shape, int) else tuple(shape)
