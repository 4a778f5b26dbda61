"""The lecture's own numbers: the reference run behind the notes' loss plot.

``knet_softmax_mnist_2016.csv`` holds, for epochs 1..100, the training and test NLL and
zero-one error of the notes' MNIST experiment. The run that made them: plain minibatch
SGD, batch size 100, the training set in file order, lr = 0.15, W ~ Normal(0, 0.001^2),
b = 0, pixels in [0, 1], float32. ``REFERENCE_RUN`` holds those settings; a faithful port
run with them lands within 0.001 of every number.

``knet_mlp64_mnist_2016.csv`` holds the same columns for the next lecture's multilayer
perceptron (one hidden layer of 64 relu units, 100 epochs). Its settings were not written
down, and an MLP's run depends on its seed: compare with it in distribution (it ends at
training error 0 and test error 0.02), not within ``TOLERANCE`` number for number.
``NEXT_LECTURE_RUN`` holds the settings we recommend for it (the README's, the tests'):
of those tried (winit 0.001 to 0.1, lr 0.1 to 0.5, batch 100, file order), they follow
its curves most closely, and most steadily from seed to seed, in the early epochs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

from ..history import COLUMNS, Epoch, parse_history

REFERENCE_RUN = dict(epochs=100, batchsize=100, lr=0.15, winit=0.001, shuffle=False)
TOLERANCE = 0.001
NEXT_LECTURE_RUN = dict(hidden=[64], lr=0.4, winit=0.01, batchsize=100, epochs=100,
                        shuffle=False)


def knet_2016() -> list[Epoch]:
    """The notes' 100 softmax epochs, as ``Epoch`` records (the same type ``fit`` returns)."""
    return _notes("knet_softmax_mnist_2016.csv")


def knet_mlp_2016() -> list[Epoch]:
    """The next lecture's 100 epochs of the 784-64-10 relu MLP, as ``Epoch`` records."""
    return _notes("knet_mlp64_mnist_2016.csv")


def _notes(filename: str) -> list[Epoch]:
    """One of the CSV files shipped beside this module, read by the history parser."""
    csv = resources.files(__package__).joinpath(filename)
    return parse_history(csv.read_text(), source=str(csv))


@dataclass
class Deviation:
    """The largest ``|ours - notes|`` of one column, and the epoch where it happens."""

    column: str
    max_abs: float
    epoch: int

    def __str__(self) -> str:
        return f"{self.column}: {self.max_abs:.6f} at epoch {self.epoch}"


def compare(history: list[Epoch], reference: list[Epoch] | None = None) -> list[Deviation]:
    """Per column, the largest deviation of ``history`` from the notes over the common epochs.

    Rows are matched by their epoch number, not their position; ``reference`` defaults to
    ``knet_2016()``. A NaN on either side counts as an infinite deviation, the worst there
    is (left as NaN it would compare False with everything and could be passed over).
    """
    notes = {e.epoch: e for e in (knet_2016() if reference is None else reference)}
    common = [e for e in history if e.epoch in notes]
    if not common:
        ours = sorted(e.epoch for e in history)
        raise ValueError(f"compare: history has no epoch in common with the reference (ours: "
                         f"{_span(ours)}, the reference: {_span(sorted(notes))})")
    deviations = []
    for column in COLUMNS[1:]:
        worst, epoch = max((_distance(getattr(e, column), getattr(notes[e.epoch], column)), e.epoch)
                           for e in common)
        deviations.append(Deviation(column, worst, epoch))
    return deviations


def _distance(a: float, b: float) -> float:
    """``|a - b|``, and ``inf`` when it is NaN."""
    d = abs(a - b)
    return math.inf if math.isnan(d) else d


def _span(epochs: list[int]) -> str:
    """Sorted epoch numbers, shortly: ``none``, ``3`` or ``1..100``."""
    if not epochs:
        return "none"
    return f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]}..{epochs[-1]}"
