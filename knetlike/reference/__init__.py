"""The lecture's own numbers: the reference run behind the notes' loss plot.

``knet_softmax_mnist_2016.csv`` holds, for epochs 1..100, the training and test NLL and
zero-one error of the notes' MNIST experiment. The run that made them: plain minibatch
SGD, batch size 100, the training set in file order, lr = 0.15, W ~ Normal(0, 0.001^2),
b = 0, pixels in [0, 1], float32. ``REFERENCE_RUN`` holds those settings; a faithful port
run with them lands within 0.001 of every number.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ..history import COLUMNS, Epoch, parse_history

REFERENCE_RUN = dict(epochs=100, batchsize=100, lr=0.15, winit=0.001, shuffle=False)
TOLERANCE = 0.001


def knet_2016() -> list[Epoch]:
    """The notes' 100 epochs, as ``Epoch`` records (the same type ``fit`` returns)."""
    csv = resources.files(__package__).joinpath("knet_softmax_mnist_2016.csv")
    return parse_history(csv.read_text(), source=csv.name)


@dataclass
class Deviation:
    """The largest ``|ours - notes|`` of one column, and the epoch where it happens."""

    column: str
    max_abs: float
    epoch: int

    def __str__(self) -> str:
        return f"{self.column}: {self.max_abs:.6f} at epoch {self.epoch}"


def compare(history: list[Epoch], reference: list[Epoch] | None = None) -> list[Deviation]:
    """Per column, the largest deviation of ``history`` from the notes over the common epochs."""
    notes = {e.epoch: e for e in (knet_2016() if reference is None else reference)}
    common = [e for e in history if e.epoch in notes]
    if not common:
        raise ValueError("compare: history has no epoch in common with the reference (1..100)")
    deviations = []
    for column in COLUMNS[1:]:
        worst, epoch = max((abs(getattr(e, column) - getattr(notes[e.epoch], column)), e.epoch)
                           for e in common)
        deviations.append(Deviation(column, worst, epoch))
    return deviations
