"""The representational-power section: softmax draws linear borders between convex regions;
linear layers stacked with no relu are one linear model (straight borders again); one relu
between them bends the borders and separates what no line can.

The models are built with ``weights`` and trained with the package's own loop
(``minibatch``, ``onehot``, ``train``) on the seeded toy sets, in float64, each in well
under a second; scripts/boundaries.py is run in-process.
"""

import numpy as np
import pytest
from matplotlib.figure import Figure

import knetlike as kl
from knetlike.boundaries import (blobs, border, border_curves, borders, boundary, collapse,
                                 linear_stack, linear_stack_gradient, linear_stack_loss,
                                 plot_boundaries, regions, rings, xor)

from conftest import load_script

BOX = (-4.0, 4.0)
SQUARE = (-1.2, 1.2)           # the XOR quadrants' box


def trained(x, labels, epochs=30, lr=0.1, seed=0, hidden=(), gradient=None):
    """``weights(*hidden)`` for 2-D inputs after ``epochs`` epochs of ``train`` (batch 10)."""
    C = int(labels.max()) + 1
    w = kl.weights(*hidden, classes=C, inputs=2, dtype=np.float64,
                   rng=np.random.default_rng(seed))
    dtrn = kl.minibatch(x, kl.onehot(labels, C, dtype=np.float64), 10)
    for _ in range(epochs):
        kl.train(w, dtrn, lr=lr, gradient=gradient)
    return w


@pytest.fixture(scope="module")
def separable():
    x, labels = blobs(n=50, seed=1)
    return trained(x, labels), x, labels


@pytest.fixture(scope="module")
def inseparable():
    x, labels = xor(n=200, seed=1)
    return trained(x, labels), x, labels


@pytest.fixture(scope="module")
def stacked():
    """Two linear layers (8 hidden units) with no relu, trained on XOR through both layers."""
    x, labels = xor(n=200, seed=1)
    return trained(x, labels, hidden=(8,), gradient=linear_stack_gradient), x, labels


@pytest.fixture(scope="module")
def mlp():
    """One relu hidden layer (16 units), trained on the same XOR set as ``stacked``."""
    x, labels = xor(n=200, seed=1)
    return trained(x, labels, epochs=40, hidden=(16,)), x, labels


def classify(w, points, forward=kl.predict):
    return np.argmax(forward(w, points), axis=0)


def grid(lim, n):
    """The n x n points of the square lim x lim, as a 2 x n^2 array (columns)."""
    g1, g2 = np.meshgrid(np.linspace(*lim, n), np.linspace(*lim, n))
    return np.stack([g1.ravel(), g2.ravel()])


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


# --- stacked linear layers: still one linear model ------------------------------------

def test_a_stack_predicts_what_its_collapse_predicts(stacked):
    (W1, b1, W2, b2), x, labels = stacked
    W, b = W2 @ W1, W2 @ b1 + b2                 # the lecture's algebra, written out here
    collapsed = collapse(stacked[0])
    np.testing.assert_allclose(collapsed[0], W, rtol=1e-12)
    np.testing.assert_allclose(collapsed[1], b, rtol=1e-12)
    points = grid((-3, 3), 201)
    np.testing.assert_allclose(linear_stack(stacked[0], points), W @ points + b, atol=1e-12)
    np.testing.assert_array_equal(classify(stacked[0], points, linear_stack),
                                  np.argmax(W @ points + b, axis=0))
    assert kl.zeroone(collapsed, x, labels) >= 0.2        # still no line does better


def test_collapse_of_three_layers_multiplies_them_all(rng):
    w = kl.weights(5, 4, classes=3, inputs=2, dtype=np.float64, rng=rng)
    w[1::2] = [rng.standard_normal(b.shape) for b in w[1::2]]      # nonzero biases
    W1, b1, W2, b2, W3, b3 = w
    W, b = collapse(w)
    np.testing.assert_allclose(W, W3 @ W2 @ W1, rtol=1e-12)
    np.testing.assert_allclose(b, W3 @ (W2 @ b1 + b2) + b3, rtol=1e-12)
    points = rng.standard_normal((2, 50))
    np.testing.assert_allclose(linear_stack(w, points), W @ points + b, atol=1e-12)
    assert collapse(w[:2])[0] is w[0]                            # one layer is itself


def test_a_stack_is_trained_through_both_layers(stacked):
    w, x, labels = stacked
    start = kl.weights(8, classes=2, inputs=2, dtype=np.float64, rng=np.random.default_rng(0))
    for moved, initial in zip(w, start):          # every layer learned, not only the last
        assert np.abs(moved - initial).max() > 1e-3
    ygold = kl.onehot(labels, 2, dtype=np.float64)
    assert float(kl.gradcheck(linear_stack_loss, w, x[:, :20], ygold[:, :20])) < 1e-6
    g = linear_stack_gradient(w, x, ygold)
    assert [gi.shape for gi in g] == [wi.shape for wi in w]


def test_points_on_a_multilinear_border_tie():
    x, labels = blobs(n=50, seed=1)
    w = trained(x, labels, hidden=(6,), gradient=linear_stack_gradient)
    assert kl.zeroone(collapse(w), x, labels) <= 0.01
    segments = borders(collapse(w), BOX, BOX)
    assert set(segments) == {(0, 1), (0, 2), (1, 2)}
    for (i, j), segment in segments.items():
        on = along(segment, np.linspace(0.05, 0.95, 19))
        y = linear_stack(w, on)                   # the stack itself, not its collapse
        np.testing.assert_allclose(y[i], y[j], rtol=0, atol=1e-9)
        assert np.all(y[i] >= y.max(axis=0) - 1e-9)        # i and j are the top two there


def test_lines_are_only_for_the_linear_model(stacked):
    for call in (lambda w: boundary(w, 0, 1), lambda w: borders(w, BOX, BOX)):
        with pytest.raises(ValueError, match="collapse"):
            call(stacked[0])


# --- one relu bends the border -----------------------------------------------------------

def test_one_relu_separates_xor(mlp, inseparable, stacked):
    # Measured with these seeds: mlp 0.0 after 40 epochs (0.01 after 20); softmax and the
    # stack 0.445 (a line gets at best 3 of the 4 quadrants: 0.25).
    assert kl.zeroone(*mlp) <= 0.02
    assert kl.zeroone(*inseparable) >= 0.2
    w, x, labels = stacked
    assert np.mean(classify(w, x, linear_stack) != labels) >= 0.2


def test_points_on_a_relu_border_tie(mlp):
    w = mlp[0]
    curves = border_curves(w, SQUARE, SQUARE, 200)
    assert set(curves) == {(0, 1)}
    points = np.concatenate(curves[0, 1], axis=1)
    y = kl.predict(w, points)
    gap = np.abs(y[0] - y[1])
    # A contour point is exact unless a relu hinge crosses its grid edge: measured 99% exact,
    # the worst off by 2.4% of the largest score.
    assert np.mean(gap <= 1e-9) >= 0.9
    assert gap.max() <= 0.05 * np.abs(y).max()


def test_relu_border_curves_cover_every_edge_between_regions(mlp):
    w, n = mlp[0], 200
    x1, x2, classes = regions(w, SQUARE, SQUARE, n)
    points = np.concatenate(border_curves(w, SQUARE, SQUARE, n)[0, 1], axis=1)
    pixel = np.hypot(x1[1] - x1[0], x2[1] - x2[0])
    rows, cols = np.nonzero(classes[:, :-1] != classes[:, 1:])
    assert rows.size > 0
    for r, c in zip(rows, cols):
        assert np.min(np.hypot(points[0] - x1[c], points[1] - x2[r])) < pixel


def test_relu_borders_of_three_classes_keep_only_the_top_two():
    x, labels = blobs(n=50, seed=1)
    w = trained(x, labels, hidden=(16,))
    curves = border_curves(w, BOX, BOX, 150)
    assert set(curves) == {(0, 1), (0, 2), (1, 2)}
    for (i, j), pieces in curves.items():
        y = kl.predict(w, np.concatenate(pieces, axis=1))
        k = 3 - i - j
        assert np.all(np.minimum(y[i], y[j]) >= y[k])


def test_panel_of_a_relu_model_draws_its_curves(mlp):
    w, x, labels = mlp
    ax = plot_boundaries(Figure().subplots(), w, x, labels, "xor mlp", SQUARE, SQUARE,
                         resolution=100, legend=False)
    assert ax.get_title() == f"xor mlp: training error {kl.zeroone(w, x, labels):.1%}"
    assert len(ax.get_lines()) == sum(map(len, border_curves(w, SQUARE, SQUARE, 100).values()))
    assert ax.get_legend() is None


def test_rings_are_seeded_and_apart():
    x, labels = rings(n=30, seed=2)
    assert x.shape == (2, 60) and np.bincount(labels).tolist() == [30, 30]
    np.testing.assert_array_equal(x, rings(n=30, seed=2)[0])
    radius = np.hypot(*x)
    assert radius[labels == 0].mean() < 1.2 < 1.8 < radius[labels == 1].mean()


@pytest.mark.parametrize("w, name", [
    ([np.ones((4, 2)), np.zeros((4, 1)), np.ones((3, 4))], r"layer 2 \(w\[2\]\) has a W but no b"),
    ([np.ones((4, 2)), np.zeros((4, 1)), np.ones((3, 5)), np.zeros((3, 1))],
     r"w\[2\] \(W of layer 2\)"),
    ([np.ones((4, 2)), np.zeros((4, 1)), np.ones((3, 4)), np.zeros((3,))],
     r"w\[3\] \(b of layer 2\)"),
])
def test_collapse_names_the_layer_that_does_not_fit(w, name):
    with pytest.raises(ValueError, match=name):
        collapse(w)


# --- scripts/boundaries.py ---------------------------------------------------------------

@pytest.fixture
def script(monkeypatch):
    """scripts/boundaries.py imported as a module; ``trainings`` counts calls of kl.train."""
    module = load_script("boundaries")
    module.trainings = []
    train = kl.train
    monkeypatch.setattr(kl, "train", lambda *a, **k: module.trainings.append(1) or train(*a, **k))
    return module


def test_script_prints_one_line_per_panel_and_writes_both_figures(script, tmp_path, capsys):
    script.main(["--out", str(tmp_path), "--epochs", "1", "--hidden", "8"])
    lines = capsys.readouterr().out.splitlines()
    panels = [f"{data} {model}" for data, model in script.PANELS]
    assert [line.split(":")[0] for line in lines[:len(panels)]] == panels
    assert all(" training error " in line and line.endswith("%") for line in lines[:7])
    assert "XOR quadrants mlp: training error" in lines[3]
    for name in ("boundaries.png", "boundaries_mlp.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_script_refuses_a_file_as_out_before_training(script, tmp_path, capsys):
    out = tmp_path / "figures"
    out.write_text("not a directory")
    with pytest.raises(SystemExit) as exit:
        script.main(["--out", str(out)])
    assert exit.value.code == 2
    assert "--out" in capsys.readouterr().err
    assert script.trainings == []                     # refused before any training
    assert out.read_text() == "not a directory"


@pytest.mark.parametrize("args, message", [
    (["--epochs", "-1"], "--epochs: must be a whole number >= 0, got '-1'"),
    (["--seed", "-5"], "--seed: must be a whole number >= 0, got '-5'"),
    (["--seed", "1.5"], "--seed: must be a whole number >= 0"),
    (["--lr", "0"], "--lr: must be a finite number > 0"),
    (["--lr", "nan"], "--lr: must be a finite number > 0"),
    (["--hidden", "0"], "--hidden: must be a whole number >= 1"),
])
def test_script_refuses_bad_numbers_in_the_parser(script, tmp_path, args, message, capsys):
    with pytest.raises(SystemExit) as exit:
        script.main(["--out", str(tmp_path), *args])
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
    assert script.trainings == []


@pytest.mark.parametrize("call, name", [
    (lambda w: boundary(w, 1, 1), "i and j"),
    (lambda w: boundary(w, 0, 3), "j must be a class index"),
    (lambda w: boundary(w, -1, 0), "i must be a class index"),
    (lambda w: border([np.ones((3, 4)), np.zeros((3, 1))], 0, 1, BOX, BOX), r"w\[0\] \(W\)"),
    (lambda w: border_curves([np.ones((4, 3)), np.zeros((4, 1)), np.ones((3, 4)),
                              np.zeros((3, 1))], BOX, BOX), r"w\[0\] \(W of layer 1\)"),
    (lambda w: border_curves(w, BOX, (2, 2)), "ylim"),
    (lambda w: rings(n=0), "n"),
    (lambda w: linear_stack([w[0], w[1].ravel()], np.ones((2, 3))), r"w\[1\] \(b\)"),
    (lambda w: linear_stack(w, np.ones((3, 2))), "x must be D x N"),
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
