"""Representational power: what borders between classes a model can draw.

Class i wins at ``x`` when its score ``y_i`` is the largest (``p_i`` grows with ``y_i``), so
the border between classes i and j is where ``y_i = y_j`` and they are the top two.

The softmax classifier, ``y = W x + b``: ``y_i = y_j`` is the line

    (w_i - w_j) x + (b_i - b_j) = 0

(a hyperplane in D dimensions). The region of class i is the intersection of the
half-planes ``y_i >= y_k`` for every other k, so it is convex; the visible border between
regions i and j is the part of their line where i and j are the top two.

Stacking linear layers does not help (the next lecture): ``W2 (W1 x + b1) + b2`` is
``(W2 W1) x + (W2 b1 + b2)``, one linear model again (``collapse``), so its borders are
lines too. One relu between the layers (``predict`` at any depth) bends them: its scores
are piecewise linear in ``x`` and its borders are curves made of straight pieces.

Here, in 2-D: seeded toy data sets, the class of every point of a grid (``regions``), each
pairwise line (``boundary``), the exact part of it that is a border (``border``,
``borders``), the stacked model with no relu (``linear_stack``, trained with
``linear_stack_gradient``) and its one-layer equivalent (``collapse``), the border curves
of a relu model (``border_curves``), and one figure panel that draws them
(``plot_boundaries``). The library draws on an ``Axes`` you hand it and never touches
matplotlib's global backend.
"""
from __future__ import annotations

import math

import numpy as np
from autograd import grad
from contourpy import LineType, contour_generator
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from .checks import check_labelled, check_model, check_whole, layer_names, nclasses
from .model import predict
from .softmax import softloss
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
    check_whole(n, "n (points per class)")
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
    check_whole(n, "n (points)")
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.1, 1.0, (2, n)) * rng.choice([-1.0, 1.0], (2, n))
    labels = (x[0] * x[1] < 0).astype(np.int64)
    return np.asfortranarray(x), labels


def rings(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two rings around the origin: class 0 inside, class 1 around it. No line separates them.

    ``n`` points per class at uniform angles, at radius 1 (class 0) or 2 (class 1) plus
    Gaussian noise of standard deviation 0.2. Every line leaves points of the inner ring on
    both of its sides, so a linear model errs on about half of them. Returns ``x``
    (2 x 2n float64, in a seeded random order) and labels 0..1.
    """
    check_whole(n, "n (points per class)")
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(2), n)
    radius = 1.0 + labels + 0.2 * rng.standard_normal(2 * n)
    angle = rng.uniform(0, 2 * np.pi, 2 * n)
    x = radius * np.stack([np.cos(angle), np.sin(angle)])
    return _shuffled(x, labels, rng)


def _shuffled(x: np.ndarray, labels: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Columns in a random order, so Knet's fixed-order minibatches mix the classes."""
    order = rng.permutation(labels.size)
    return np.asfortranarray(x[:, order]), labels[order]


# --- regions and boundaries ------------------------------------------------------------

def regions(w: list, xlim: tuple[float, float], ylim: tuple[float, float],
            resolution: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision regions on a grid: the winning class ``argmax_c y_c`` at each grid point.

    ``y = predict(w, x)``: the linear model for ``w = [W, b]``, a relu network for longer
    ``w``. Returns ``(x1, x2, classes)``: the ``resolution`` grid coordinates along each axis
    and the integer array ``classes[r, c]``, the class at the point ``(x1[c], x2[r])`` (the
    layout ``pcolormesh`` and ``contourf`` take).
    """
    x1, x2, y = grid_scores(w, xlim, ylim, resolution)
    return x1, x2, np.argmax(y, axis=0)


def grid_scores(w: list, xlim: tuple[float, float], ylim: tuple[float, float],
                resolution: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scores on a grid: ``(x1, x2, y)`` with ``y[:, r, c] = predict(w, (x1[c], x2[r]))``."""
    check_model(w)
    _check_2d(w)
    check_whole(resolution, "resolution (grid points per axis)", 2)
    x1 = np.linspace(*_check_limits(xlim, "xlim"), resolution)
    x2 = np.linspace(*_check_limits(ylim, "ylim"), resolution)
    g1, g2 = np.meshgrid(x1, x2)
    points = np.stack([g1.ravel(), g2.ravel()])                      # 2 x resolution^2
    return x1, x2, predict(w, points).reshape(-1, *g1.shape)


def boundary(w: list, i: int, j: int) -> tuple[np.ndarray, float]:
    """The line where classes i and j tie: ``(a, c)`` with ``a = w_i - w_j``, ``c = b_i - b_j``.

    ``y_i = y_j`` means ``w_i x + b_i = w_j x + b_j``, i.e. ``a x + c = 0``: a line in 2-D
    (a hyperplane in D dimensions). Class i has the higher score on the side ``a x + c > 0``.
    Only a linear model ``w = [W, b]`` has such lines (``collapse`` a stack of linear layers).
    """
    check_model(w)
    _check_linear(w)
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
    scale = np.abs(a).max()                     # the same line, a and c scaled to stay finite
    a, c = a / scale, c / scale
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
    _check_linear(w)
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


def _check_linear(w: list) -> None:
    """Border lines are the linear model's: ``w = [W, b]``."""
    if len(w) != 2:
        raise ValueError(f"boundary and border are the lines of the linear model w = [W, b], "
                         f"got w with {len(w) // 2} layers; for linear layers stacked with no "
                         f"relu use collapse(w), for a relu network border_curves(w, ...)")


def _check_2d(w: list) -> None:
    """Regions and border segments are drawn in the plane, so the inputs must be 2-D."""
    if np.shape(w[0])[1] != 2:
        raise ValueError(f"w[0] ({layer_names(w, 0)}) must have 2 columns to draw regions and "
                         f"borders in the plane, got shape {np.shape(w[0])}; train on 2-D inputs "
                         f"(x of shape 2 x N)")


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


# --- deeper models: linear layers stacked, and one relu between them -------------------

def linear_stack(w: list, x):
    """The scores of linear layers stacked with no relu: ``x = W x + b`` for each layer in turn.

    For ``w = [W1, b1, W2, b2]`` that is ``W2 (W1 x + b1) + b2``: ``predict`` without its
    relu. Only ``@`` and ``+`` (autograd traces them), so ``grad`` differentiates through
    every layer: ``linear_stack_gradient`` trains the layers as layers.
    """
    check_model(w, x)
    for i in range(0, len(w), 2):
        x = w[i] @ x + w[i + 1]
    return x


def linear_stack_loss(w: list, x, ygold):
    """The mean NLL of the stack: ``softloss(ygold, linear_stack(w, x))``."""
    return softloss(ygold, linear_stack(w, x))


#: ``[dW1, db1, ..., dWL, dbL]``: autograd's gradient of ``linear_stack_loss``, through every
#: layer. Train the stack with ``train(w, data, lr, gradient=linear_stack_gradient)``.
linear_stack_gradient = grad(linear_stack_loss)


def collapse(w: list) -> list:
    """The one linear layer ``[W, b]`` equal to the stack ``w = [W1, b1, ..., WL, bL]``.

    Substitute one layer into the next: ``W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)``,
    and so on, so

        W = WL ... W2 W1,    b = WL (... (W2 b1 + b2) ...) + bL

    and ``linear_stack(w, x) = W x + b`` for every ``x``: the stack is a linear model, and
    its borders are the lines of ``[W, b]``. Raises a ValueError naming the layer when ``w``
    has an odd number of arrays or its shapes do not chain.
    """
    if isinstance(w, (list, tuple)) and len(w) % 2:
        raise ValueError(f"collapse: w has {len(w)} arrays, an odd number: layer "
                         f"{len(w) // 2 + 1} (w[{len(w) - 1}]) has a W but no b; w must be "
                         f"[W1, b1, ..., WL, bL]")
    check_model(w)
    W, b = w[0], w[1]
    for k in range(2, len(w), 2):
        W, b = w[k] @ W, w[k] @ b + w[k + 1]
    return [W, b]


def border_curves(w: list, xlim: tuple[float, float], ylim: tuple[float, float],
                  resolution: int = 400) -> dict:
    """The borders of any model ``predict(w, x)``: ``{(i, j): [curve, ...]}`` for i < j.

    The border between i and j is where ``y_i - y_j = 0`` and i, j are the top two classes.
    Traced as the 0-contour of ``y_i - y_j`` on a ``resolution`` grid (matplotlib's contour
    engine, contourpy), whose points lie on grid edges, linearly interpolated. A relu
    network's scores are piecewise linear in ``x``, so a point is exact (``y_i = y_j`` to
    rounding) unless a relu's hinge crosses its grid edge. The contour points where another
    class beats i and j are dropped, splitting a curve there. Each curve is a 2 x K array of
    points (columns), in order.
    """
    x1, x2, y = grid_scores(w, xlim, ylim, resolution)
    curves = {}
    for i in range(y.shape[0]):
        for j in range(i + 1, y.shape[0]):
            lines = contour_generator(x1, x2, y[i] - y[j], line_type=LineType.Separate).lines(0.0)
            found = [piece for line in lines for piece in _top_two(w, line.T, i, j)]
            if found:
                curves[i, j] = found
    return curves


def _top_two(w: list, points: np.ndarray, i: int, j: int) -> list:
    """The runs of consecutive ``points`` (2 x K) where i and j score at least every other class."""
    y = predict(w, points)
    others = np.delete(y, [i, j], axis=0)
    keep = np.minimum(y[i], y[j]) >= (others.max(axis=0) if others.size else -np.inf)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(int), [0]])))
    return [points[:, a:b] for a, b in zip(edges[::2], edges[1::2]) if b - a >= 2]


# --- the figure ------------------------------------------------------------------------

def plot_boundaries(ax: Axes, w: list, x: np.ndarray, labels, name: str = "",
                    xlim: tuple[float, float] | None = None,
                    ylim: tuple[float, float] | None = None, resolution: int = 400,
                    legend: bool = True) -> Axes:
    """One panel: the regions, the points, and the borders, titled with the training error.

    Regions in light colours (from ``regions``), each point in the strong colour and marker
    of its gold class (a point on a region of another colour is an error), and in black the
    borders ``y_i = y_j``: for the linear model ``w = [W, b]`` the exact segments of
    ``(w_i - w_j) x + (b_i - b_j) = 0`` (from ``borders``), for a relu network
    (``predict`` at any depth) the curves from ``border_curves``. The box defaults to the
    data's range with a margin; ``legend=False`` leaves the legend to the caller (one for a
    whole figure). Returns ``ax``.
    """
    labels = check_labelled(w, x, labels)
    C = nclasses(w)
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
    if len(w) == 2:
        lines = list(borders(w, xlim, ylim).values())
    else:
        lines = [curve for curves in border_curves(w, xlim, ylim, resolution).values()
                 for curve in curves]
    for n, line in enumerate(lines):
        ax.plot(*line, color="black", linewidth=1.8,
                label=r"border $y_i = y_j$" if n == 0 else None)
    ax.set(xlim=xlim, ylim=ylim, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    error = f"training error {zeroone(w, x, labels):.1%}"
    ax.set_title(f"{name}: {error}" if name else error)
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=C + 1,
                  fontsize="small", frameon=False)
    return ax


def _padded(values: np.ndarray, margin: float = 0.1) -> tuple[float, float]:
    """The range of ``values`` widened by ``margin`` of its length on each side."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = margin * (hi - lo) or 1.0
    return lo - pad, hi + pad
