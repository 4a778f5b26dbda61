"""The representational-power section: softmax draws linear borders between convex regions.

The models are trained here with the package's own loop (``minibatch``, ``onehot``,
``train``) on the seeded toy sets, in float64, in well under a second.
"""
import numpy as np
import pytest
from matplotlib.figure import Figure

import knetlike as kl
from knetlike.boundaries import blobs, border, borders, boundary, plot_boundaries, regions, xor

BOX = (-4.0, 4.0)


def trained(x, labels, epochs=30, lr=0.1, seed=0):
    C = int(labels.max()) + 1
    w = [0.1 * np.random.default_rng(seed).standard_normal((C, 2)), np.zeros((C, 1))]
    dtrn = kl.minibatch(x, kl.onehot(labels, C, dtype=np.float64), 10)
    for _ in range(epochs):
        kl.train(w, dtrn, lr=lr)
    return w


@pytest.fixture(scope="module")
def separable():
    x, labels = blobs(n=50, seed=1)
    return trained(x, labels), x, labels


@pytest.fixture(scope="module")
def inseparable():
    x, labels = xor(n=200, seed=1)
    return trained(x, labels), x, labels


def classify(w, points):
    return np.argmax(kl.predict(w, points), axis=0)


def along(segment, fractions):
    """Points of a segment (2 x 2, columns = end points) at the given fractions of its length."""
    return segment[:, :1] + np.outer(segment[:, 1] - segment[:, 0], fractions)


def test_separable_set_is_learned_and_xor_is_not(separable, inseparable):
    # Measured: 0.0 on the blobs, 0.445 on XOR (a line gets at best 3 of the 4 quadrants: 0.25).
    assert kl.zeroone(*separable) <= 0.01
    assert kl.zeroone(*inseparable) >= 0.2


def test_points_on_a_border_tie_and_points_beside_it_fall_in_i_and_j(separable):
    w = separable[0]
    segments = borders(w, BOX, BOX)
    assert set(segments) == {(0, 1), (0, 2), (1, 2)}      # three blobs meet at one point
    for (i, j), segment in segments.items():
        a, c = boundary(w, i, j)
        on = along(segment, np.linspace(0.05, 0.95, 19))
        np.testing.assert_allclose(a @ on + c, 0, atol=1e-9)
        p = kl.probs(kl.predict(w, on))
        np.testing.assert_allclose(p[i], p[j], rtol=1e-9)
        assert np.all(p[i] >= p.max(axis=0) - 1e-12)       # i and j are the top two there
        step = 1e-6 * a[:, None] / np.linalg.norm(a)
        assert np.all(classify(w, on + step) == i)
        assert np.all(classify(w, on - step) == j)


def test_borders_cover_every_edge_between_regions(separable):
    w, n = separable[0], 200
    x1, x2, classes = regions(w, BOX, BOX, n)
    segments = borders(w, BOX, BOX)
    pixel = np.hypot(x1[1] - x1[0], x2[1] - x2[0])
    rows, cols = np.nonzero(classes[:, :-1] != classes[:, 1:])         # horizontal neighbours
    assert rows.size > 0
    for r, c in zip(rows, cols):
        i, j = sorted((classes[r, c], classes[r, c + 1]))
        points = along(segments[i, j], np.linspace(0, 1, 2001))
        assert np.min(np.hypot(points[0] - x1[c], points[1] - x2[r])) < pixel


def test_a_line_that_is_no_border_is_not_drawn():
    # Scores x1, 1, -x1: class 2 left of x1 = -1, class 1 in the middle, class 0 right of 1.
    # The line of classes 0 and 2 is x1 = 0, but class 1 wins there, so it is no border.
    w = [np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]), np.array([[0.0], [1.0], [0.0]])]
    segments = borders(w, (-3, 3), (-2, 2))
    assert set(segments) == {(0, 1), (1, 2)}
    np.testing.assert_allclose(np.sort(segments[0, 1], axis=1), [[1, 1], [-2, 2]])
    np.testing.assert_allclose(np.sort(segments[1, 2], axis=1), [[-1, -1], [-2, 2]])
    assert border(w, 0, 2, (-3, 3), (-2, 2)) is None
    assert border(w, 0, 1, (-3, 0), (-2, 2)) is None                   # outside the box


@pytest.mark.parametrize("model", ["separable", "inseparable"])
def test_every_region_is_convex(model, request):
    w = request.getfixturevalue(model)[0]
    x1, x2, classes = regions(w, BOX, BOX, 100)
    grid = np.stack([np.tile(x1, x2.size), np.repeat(x2, x1.size)])
    labels = classes.ravel()
    np.testing.assert_array_equal(classify(w, grid), labels)
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 50)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        for a, b in rng.choice(members, (100, 2)):
            segment = grid[:, [a]] + np.outer(grid[:, b] - grid[:, a], t)
            assert np.all(classify(w, segment) == c)


def test_panel_draws_each_border_and_titles_the_error(separable):
    w, x, labels = separable
    ax = plot_boundaries(Figure().subplots(), w, x, labels, "blobs", xlim=BOX, ylim=BOX)
    assert ax.get_title() == f"blobs: training error {kl.zeroone(w, x, labels):.1%}"
    assert len(ax.get_lines()) == len(borders(w, BOX, BOX))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x_1$", "$x_2$")


def test_data_sets_are_seeded_and_in_knet_layout():
    x, labels = blobs(n=20, seed=3)
    assert x.shape == (2, 60) and labels.shape == (60,) and set(labels) == {0, 1, 2}
    np.testing.assert_array_equal(x, blobs(n=20, seed=3)[0])
    x, labels = xor(n=40, seed=3)
    assert x.shape == (2, 40) and np.all((x[0] * x[1] < 0) == (labels == 1))


@pytest.mark.parametrize("call, name", [
    (lambda w: boundary(w, 1, 1), "i and j"),
    (lambda w: boundary(w, 0, 3), "j must be a class index"),
    (lambda w: boundary(w, -1, 0), "i must be a class index"),
    (lambda w: border([np.ones((3, 4)), np.zeros((3, 1))], 0, 1, BOX, BOX), r"w\[0\] \(W\)"),
    (lambda w: border(w, 0, 1, (1, -1), BOX), "xlim"),
    (lambda w: regions(w, BOX, BOX, 1), "resolution"),
    (lambda w: regions([w[0], w[1].ravel()], BOX, BOX), r"w\[1\] \(b\)"),
    (lambda w: blobs(n=0), "n"),
    (lambda w: plot_boundaries(Figure().subplots(), w, np.zeros((2, 4)), [0, 1]), "labels"),
])
def test_bad_input_names_the_argument(call, name):
    w = [np.eye(3, 2), np.zeros((3, 1))]
    with pytest.raises(ValueError, match=name):
        call(w)
