"""The lecture as exercises: write a step yourself, and ``check`` says whether it is right, and
if not, which classic mistake it looks like.

    >>> import numpy as np
    >>> import knetlike as kl
    >>> def softloss(ygold, ypred):
    ...     return -np.sum(ygold * kl.logp(ypred))      # the mean is meant: no division by N
    >>> feedback = kl.exercises.check("softloss", softloss)
    softloss, on 3 x 4 float64 scores, one-hot targets: it is the sum over the instances, N times
    the loss: the NLL is the mean, so divide by N, the number of columns.

``check`` runs your function on its own cases (small and MNIST-sized, float64 and float32,
one-hot and probabilistic targets, scores near +-1e4), compares with the library's function
of the same name (``kl.softloss`` ...: the solutions), and names the first mistake it finds.
``docs/exercises.ipynb`` walks the notes as these exercises. Where things are:

* ``core.py``       a check: cases, the table of mistakes, the diagnosis, the messages
* ``cases.py``      the inputs the checks run on
* ``notes.py``      the notes' steps: zeroone, probs, softmax_jacobian, softmax_backward,
                    onehot, logp, softloss, softloss_grad, predict_backward, softmax, train,
                    border
* ``companion.py``  the companion notebook's: relu_backward, dropout, penalty, penalty_grad
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .companion import COMPANION
from .core import Exercise, run
from .notes import NOTES

#: Every exercise by name, in the notebook's order.
EXERCISES: dict[str, Exercise] = {exercise.name: exercise for exercise in NOTES + COMPANION}

__all__ = ["check", "Feedback", "EXERCISES", "names", "signature"]


@dataclass
class Feedback:
    """What ``check`` found: ``passed`` (a bool) and ``message`` (a sentence or two)."""

    passed: bool
    message: str
    _printed: bool = field(default=False, repr=False, compare=False)

    def __repr__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.passed

    def _ipython_display_(self) -> None:
        """In a notebook: the message, unless ``check`` has just printed it in this cell
        (so that ``kl.exercises.check(...)`` as a cell's last line shows it once)."""
        if self._printed:
            self._printed = False
        else:
            print(self.message)


def check(name: str, fn: Callable, verbose: bool = True) -> Feedback:
    """Run your ``fn`` on the exercise ``name``'s cases; its feedback, printed (unless
    ``verbose=False``) and returned. Never raises: an error in ``fn`` is described."""
    if name not in EXERCISES:
        feedback = Feedback(False, f"There is no exercise named {name!r}; the exercises are: "
                                   f"{', '.join(EXERCISES)}.")
    elif not callable(fn):
        feedback = Feedback(False, f"{name}: check needs your function itself, as in "
                                   f"check({name!r}, {name}); got {type(fn).__name__}.")
    else:
        try:
            feedback = Feedback(*run(EXERCISES[name], fn))
        except Exception as error:     # a bug of the checker's: still one line, no traceback
            feedback = Feedback(False, f"{name}: the check itself failed ({type(error).__name__}: "
                                       f"{error}); please report it, with your function.")
    if verbose:
        print(feedback.message)
        feedback._printed = True
    return feedback


def names() -> list[str]:
    """The exercises' names, in the notebook's order."""
    return list(EXERCISES)


def signature(name: str) -> str:
    """The signature your function should have, e.g. ``"softloss(ygold, ypred)"``."""
    return EXERCISES[name].signature
