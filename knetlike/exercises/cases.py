"""The inputs the checks run on: small ones first (the clearest diagnosis), then MNIST-sized,
then the numerically hard ones. Seeded: a check says the same thing every time."""
from __future__ import annotations

import numpy as np

from .core import Case, float_case

F32, F64 = np.float32, np.float64
BIG = 1e4           # "very large scores": exp(1e4) overflows, exp(-1e4) underflows to 0


def generator(name: str) -> np.random.Generator:
    """A generator seeded by the exercise's name, so that each exercise has its own cases."""
    return np.random.default_rng(sum(name.encode()) + 27)


def onehot_targets(rng, nclasses: int, n: int, dtype) -> np.ndarray:
    """C x N one-hot columns for random labels."""
    y = np.zeros((nclasses, n), dtype=dtype)
    y[rng.integers(nclasses, size=n), np.arange(n)] = 1
    return y


def soft_targets(rng, nclasses: int, n: int, dtype) -> np.ndarray:
    """C x N probabilistic targets: each column a random probability vector."""
    return rng.dirichlet(np.ones(nclasses), size=n).T.astype(dtype)


def spread_scores(rng, nclasses: int, n: int, dtype) -> np.ndarray:
    """Scores with the best of each column near 0 and a third of the others near -1e4: their
    probabilities underflow to exactly 0 (log 0 = -inf), yet the right answer is finite."""
    y = 3 * rng.standard_normal((nclasses, n))
    low = rng.random((nclasses, n)) < 0.34
    low[np.argmax(y, axis=0), np.arange(n)] = False
    y[low] -= BIG
    return y.astype(dtype)


def score_cases(name: str, targets: bool) -> list[Case]:
    """Scores (and, with ``targets``, gold columns before them) of every kind: small and
    MNIST-sized, float64 and float32, one-hot and probabilistic targets, scores near +1e4 or
    -1e4 (tag "shifted": exp overflows, or every exp of a column underflows to 0) and down to
    1e4 below the best (tag "spread": a probability underflows to 0)."""
    rng = generator(name)
    kinds = [  # (label, C, N, dtype, targets, how the scores are made, only with targets)
        ("3 x 4 float64 scores", 3, 4, F64, onehot_targets, "normal", False),
        ("3 x 4 float64 scores", 3, 4, F64, soft_targets, "normal", True),
        ("10 x 100 float32 scores (MNIST-sized)", 10, 100, F32, onehot_targets, "normal", False),
        ("10 x 100 float32 scores (MNIST-sized)", 10, 100, F32, soft_targets, "normal", True),
        ("3 x 4 float64 scores near +1e4", 3, 4, F64, onehot_targets, "shifted", False),
        ("10 x 100 float32 scores near +1e4", 10, 100, F32, soft_targets, "shifted", False),
        ("3 x 4 float64 scores near -1e4", 3, 4, F64, onehot_targets, "shifted down", False),
        ("3 x 5 float64 scores, some 1e4 below the best", 3, 5, F64, soft_targets, "spread",
         False),
        ("10 x 100 float32 scores, some 1e4 below the best", 10, 100, F32, soft_targets,
         "spread", False),
    ]
    cases = []
    for label, c, n, dtype, make_targets, how, only_with_targets in kinds:
        if only_with_targets and not targets:
            continue
        if how == "spread":
            y = spread_scores(rng, c, n, dtype)
        else:
            shift = {"shifted": BIG, "shifted down": -BIG}.get(how, 0.0)
            y = (3 * rng.standard_normal((c, n)) + shift).astype(dtype)
        if targets:
            kind = "one-hot" if make_targets is onehot_targets else "probabilistic"
            label = f"{label}, {kind} targets"
        args = (make_targets(rng, c, n, dtype), y) if targets else (y,)
        scale = BIG if how != "normal" else 10.0
        tags = ("shifted",) if how.startswith("shifted") else (how,)
        cases.append(float_case(label, args, dtype, scale, tags))
    return cases


def model_cases(name: str) -> list[Case]:
    """``(w, x, labels)`` for a linear model ``w = [W, b]`` whose predictions are right for
    most columns. First 5 classes of 5 points, square so that a wrong axis still gives a
    number, and drawn (seed 123) so that each mistake gives a number of its own; then 6
    points in 2-D and MNIST-sized. The b's are large, so that forgetting them shows."""
    cases = []
    for label, c, d, n, dtype, wrong, seed in [
            ("5 points of 3 features in 5 classes", 5, 3, 5, F64, 2, 123),
            ("6 points of 2 features in 3 classes", 3, 2, 6, F64, 2, None),
            ("100 MNIST-sized columns (784 x 100, float32, 10 classes)", 10, 784, 100, F32, 30,
             None)]:
        rng = np.random.default_rng(seed) if seed is not None else generator(name + label)
        W = rng.standard_normal((c, d))
        b = 3 * rng.standard_normal((c, 1))
        x = rng.random((d, n))
        labels = np.argmax(W @ x + b, axis=0)
        labels[:wrong] = (labels[:wrong] + 1 + rng.integers(c - 1, size=wrong)) % c
        cases.append(float_case(label, ([W.astype(dtype), b.astype(dtype)], x.astype(dtype),
                                        labels), dtype))
    return cases


def layer_cases(name: str) -> list[Case]:
    """``(x, dy)`` for one layer: 5 features, 3 classes, 4 instances in float64; then
    MNIST-sized in float32 (784 x 100 inputs, 10 x 100 gradients)."""
    rng = generator(name)
    cases = []
    for label, c, d, n, dtype in [("x 5 x 4, dy 3 x 4, float64", 3, 5, 4, F64),
                                  ("x 784 x 100, dy 10 x 100, float32", 10, 784, 100, F32)]:
        x = rng.random((d, n)).astype(dtype)
        dy = (rng.standard_normal((c, n)) / n).astype(dtype)
        cases.append(float_case(label, (x, dy), dtype))
    return cases


def sgd_cases(name: str) -> list[Case]:
    """``(w, data, lr)`` for one epoch: 4 small batches in float64, then 3 MNIST-sized batches
    of 100 in float32 (the lecture's lr 0.15)."""
    rng = generator(name)
    cases = []
    for label, c, d, n, batches, dtype, lr in [
            ("4 batches of 6 (3 classes, 5 features, float64), lr 0.5", 3, 5, 6, 4, F64, 0.5),
            ("3 MNIST-sized batches of 100 (float32), lr 0.15", 10, 784, 100, 3, F32, 0.15)]:
        w = [(0.1 * rng.standard_normal((c, d))).astype(dtype),
             (0.1 * rng.standard_normal((c, 1))).astype(dtype)]
        data = [(rng.random((d, n)).astype(dtype), onehot_targets(rng, c, n, dtype))
                for _ in range(batches)]
        cases.append(float_case(label, (w, data, lr), dtype, scale=10.0))
    return cases


def softmax_cases(name: str) -> list[Case]:
    """``(w, x, ygold)`` for the notes' model: small with one-hot and with probabilistic
    targets in float64, then MNIST-sized in float32. The b's are large, so that forgetting
    them shows."""
    rng = generator(name)
    cases = []
    for label, c, d, n, dtype, make_targets in [
            ("3 classes, 5 features, 4 instances, one-hot targets (float64)", 3, 5, 4, F64,
             onehot_targets),
            ("3 classes, 5 features, 4 instances, probabilistic targets (float64)", 3, 5, 4, F64,
             soft_targets),
            ("10 classes, 784 features, 100 instances (float32)", 10, 784, 100, F32,
             onehot_targets)]:
        w = [(0.1 * rng.standard_normal((c, d))).astype(dtype),
             (3 * rng.standard_normal((c, 1))).astype(dtype)]
        x = rng.random((d, n)).astype(dtype)
        cases.append(float_case(label, (w, x, make_targets(rng, c, n, dtype)), dtype, 10.0))
    return cases
