"""Representational power: the softmax classifier can only draw linear boundaries.

Class i wins at ``x`` when its score ``y_i = w_i x + b_i`` is the largest (``p_i`` grows
with ``y_i``). Classes i and j are equally likely where ``y_i = y_j``, that is on the line

    (w_i - w_j) x + (b_i - b_j) = 0

(a hyperplane in D dimensions). The region of class i is the intersection of the
half-planes ``y_i >= y_k`` for every other k, so it is convex; the visible border between
regions i and j is the part of their line where i and j are the top two.

Here, in 2-D: seeded toy data sets, the class of every point of a grid (``regions``), each
pairwise line (``boundary``), the exact part of it that is a border (``border``,
``borders``), and one figure panel that draws them (``plot_boundaries``). The library
draws on an ``Axes`` you hand it and never touches matplotlib's global backend.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from .checks import check_labelled, check_model
from .softmax import predict
from .targets import zeroone

#: Light colours for the regions and strong ones of the same hues for the points.
REGION_COLORS = ["#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6", "#ffffcc"]
POINT_COLORS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#cccc00"]
MARKERS = ["o", "s", "^", "D", "v", "P"]


# --- data sets -------------------------------------------------------------------------

def blobs(n: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three round clusters that lines can separate, like the notes' R1/R2/R3 sketch.

    Class c is ``n`` points drawn from a Gaussian of standard deviation 0.5 centred at
    angle ``90 + 120 c`` degrees on a circle of radius 2. Returns Knet-layout ``x``
    (2 x 3n float64, one column per point, in a seeded random order) and labels 0..2.
    """
    _check_int(n, "n", 1, "points per class")
    rng = np.random.default_rng(seed)
    angles = np.deg2rad(90 + 120 * np.arange(3))
    centres = 2 * np.stack([np.cos(angles), np.sin(angles)])      # 2 x 3
    labels = np.repeat(np.arange(3), n)
    x = centres[:, labels] + 0.5 * rng.standard_normal((2, 3 * n))
    return _shuffled(x, labels, rng)


def xor(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR quadrants: no line separates them.

    ``n`` points uniform in the square [-1, 1]^2, away from the axes (|x1|, |x2| >= 0.1);
    the label is 1 where ``x1 x2 < 0`` (second and fourth quadrants) and 0 elsewhere. A
    single line gets at best three of the four quadrants right. Returns ``x`` (2 x n
    float64) and labels 0..1.
    """
    _check_int(n, "n", 1, "points")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 1.0, (2, n)) * rng.choice([-1.0, 1.0], (2, n))
    labels = (x[0] * x[1] < 0).astype(np.int64)
    return np.asfortranarray(x), labels


def _check_int(value, name: str, low: int, meaning: str) -> None:
    """A whole number >= ``low``, or a ValueError naming ``name`` and what it counts."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} ({meaning}) must be an integer >= {low}, got {value!r}")


def _shuffled(x: np.ndarray, labels: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Columns in a random order, so Knet's fixed-order minibatches mix the classes."""
    order = rng.permutation(labels.size)
    return np.asfortranarray(x[:, order]), labels[order]


# --- regions and boundaries ------------------------------------------------------------

def regions(w: list, xlim: tuple[float, float], ylim: tuple[float, float],
            resolution: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision regions on a grid: the winning class ``argmax_c y_c`` at each grid point.

    Returns ``(x1, x2, classes)``: the ``resolution`` grid coordinates along each axis and
    the integer array ``classes[r, c]``, the class at the point ``(x1[c], x2[r])`` (the
    layout ``pcolormesh`` and ``contourf`` take).
    """
    check_model(w)
    _check_2d(w)
    _check_int(resolution, "resolution", 2, "grid points per axis")
    x1 = np.linspace(*_check_limits(xlim, "xlim"), resolution)
    x2 = np.linspace(*_check_limits(ylim, "ylim"), resolution)
    g1, g2 = np.meshgrid(x1, x2)
    points = np.stack([g1.ravel(), g2.ravel()])                      # 2 x resolution^2
    classes = np.argmax(predict(w, points), axis=0).reshape(g1.shape)
    return x1, x2, classes


def boundary(w: list, i: int, j: int) -> tuple[np.ndarray, float]:
    """The line where classes i and j tie: ``(a, c)`` with ``a = w_i - w_j``, ``c = b_i - b_j``.

    ``y_i = y_j`` means ``w_i x + b_i = w_j x + b_j``, i.e. ``a x + c = 0``: a line in 2-D
    (a hyperplane in D dimensions). Class i has the higher score on the side ``a x + c > 0``.
    """
    check_model(w)
    _check_pair(w, i, j)
    W, b = np.asarray(w[0]), np.asarray(w[1])
    return W[i] - W[j], float(b[i, 0] - b[j, 0])


def border(w: list, i: int, j: int, xlim: tuple[float, float],
           ylim: tuple[float, float]) -> np.ndarray | None:
    """The part of the line ``y_i = y_j`` that is the border between regions i and j.

    On the line, i and j are the top two where ``y_i >= y_k`` for every other class k:
    the line clipped to those half-planes, ``(w_i - w_k) x + (b_i - b_k) >= 0``, and to the
    box ``xlim`` x ``ylim``. Clipping a line to half-planes leaves one segment (or nothing),
    computed exactly: write the line as ``p + t d`` and intersect the intervals of t that
    each half-plane allows. Returns a 2 x 2 array whose columns are the two end points, or
    None where i and j never meet inside the box (or their scores never tie: ``w_i = w_j``).
    """
    a, c = boundary(w, i, j)
    _check_2d(w)
    if not np.any(a):
        return None
    p = -c * a / (a @ a)                        # the point of the line nearest the origin
    d = np.array([-a[1], a[0]])                 # the line's direction
    W, b = np.asarray(w[0]), np.asarray(w[1])[:, 0]
    (x0, x1), (y0, y1) = _check_limits(xlim, "xlim"), _check_limits(ylim, "ylim")
    halfplanes = [(W[i] - W[k], b[i] - b[k]) for k in range(W.shape[0]) if k not in (i, j)]
    halfplanes += [(np.array([1.0, 0.0]), -x0), (np.array([-1.0, 0.0]), x1),
                   (np.array([0.0, 1.0]), -y0), (np.array([0.0, -1.0]), y1)]
    lo, hi = -math.inf, math.inf
    for g, h in halfplanes:                     # g (p + t d) + h >= 0  <=>  (g d) t >= -(g p + h)
        slope, offset = g @ d, g @ p + h
        if slope > 0:
            lo = max(lo, -offset / slope)
        elif slope < 0:
            hi = min(hi, -offset / slope)
        elif offset < 0:
            return None                         # the line lies wholly outside this half-plane
    if not lo < hi:
        return None
    return np.stack([p + lo * d, p + hi * d], axis=1)


def borders(w: list, xlim: tuple[float, float], ylim: tuple[float, float]) -> dict:
    """Every border inside the box: ``{(i, j): segment}`` for the pairs i < j that meet.

    Pairs of classes whose regions do not touch inside the box are left out: their lines
    exist, but nowhere on them are i and j the two best classes.
    """
    check_model(w)
    C = np.shape(w[0])[0]
    pairs = ((i, j) for i in range(C) for j in range(i + 1, C))
    segments = {(i, j): border(w, i, j, xlim, ylim) for i, j in pairs}
    return {pair: s for pair, s in segments.items() if s is not None}


def _check_pair(w: list, i, j) -> None:
    """Two different class indices in ``0..C-1``: a boundary is between two classes."""
    C = np.shape(w[0])[0]
    for name, k in (("i", i), ("j", j)):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < C:
            raise ValueError(f"{name} must be a class index in 0..{C - 1} (C = {C} classes), "
                             f"got {k!r}")
    if i == j:
        raise ValueError(f"i and j must be two different classes, got i = j = {i}; a boundary "
                         f"separates class i from another class j")


def _check_2d(w: list) -> None:
    """Regions and border segments are drawn in the plane, so the inputs must be 2-D."""
    if np.shape(w[0])[1] != 2:
        raise ValueError(f"w[0] (W) must be C x 2 to draw regions and borders in the plane, got "
                         f"shape {np.shape(w[0])}; train on 2-D inputs (x of shape 2 x N)")


def _check_limits(lim, name: str) -> tuple[float, float]:
    """A plot range ``(low, high)`` as two finite floats with ``low < high``."""
    try:
        lo, hi = (float(v) for v in lim)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {lim!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {lim!r}; "
                         f"swap them if reversed")
    return lo, hi


# --- the figure ------------------------------------------------------------------------

def plot_boundaries(ax: Axes, w: list, x: np.ndarray, labels, name: str = "",
                    xlim: tuple[float, float] | None = None,
                    ylim: tuple[float, float] | None = None, resolution: int = 400) -> Axes:
    """One panel: the regions, the points, and the borders, titled with the training error.

    Regions in light colours (from ``regions``), each point in the strong colour and marker
    of its gold class (a point on a region of another colour is an error), and in black the
    border segments ``(w_i - w_j) x + (b_i - b_j) = 0`` (from ``borders``). The box defaults
    to the data's range with a margin. Returns ``ax``.
    """
    labels = check_labelled(w, x, labels)
    C = np.shape(w[0])[0]
    if C > len(MARKERS):
        raise ValueError(f"plot_boundaries draws up to {len(MARKERS)} classes, w has C = {C}")
    xlim = _padded(x[0]) if xlim is None else xlim
    ylim = _padded(x[1]) if ylim is None else ylim
    x1, x2, classes = regions(w, xlim, ylim, resolution)
    ax.pcolormesh(x1, x2, classes, shading="nearest", cmap=ListedColormap(REGION_COLORS[:C]),
                  vmin=-0.5, vmax=C - 0.5)
    for c in range(C):
        ax.scatter(*x[:, labels == c], s=16, c=POINT_COLORS[c], marker=MARKERS[c],
                   edgecolors="white", linewidths=0.4, label=f"class {c}")
    for n, segment in enumerate(borders(w, xlim, ylim).values()):
        ax.plot(*segment, color="black", linewidth=1.8,
                label=r"border $y_i = y_j$" if n == 0 else None)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    error = f"training error {zeroone(w, x, labels):.1%}"
    ax.set_title(f"{name}: {error}" if name else error)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=C + 1, fontsize="small",
              frameon=False)
    return ax


def _padded(values: np.ndarray, margin: float = 0.1) -> tuple[float, float]:
    """The range of ``values`` widened by ``margin`` of its length on each side."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = margin * (hi - lo) or 1.0
    return lo - pad, hi + pad
