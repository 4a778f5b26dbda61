"""The figures: one curves function for one run or several, weights as a row or a grid."""
import numpy as np
import pytest

from knetlike import plots
from knetlike.history import Epoch
from knetlike.reference import knet_2016, knet_mlp_2016


def history(epochs: int, scale: float = 1.0) -> list:
    return [Epoch(e, scale / e, 1.1 * scale / e, 0.1 * scale / e, 0.11 * scale / e)
            for e in range(1, epochs + 1)]


def legend_labels(fig) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    return [t.get_text() for legend in legends[:1] for t in legend.get_texts()]


def test_one_run_over_the_notes_keeps_the_lectures_look(tmp_path):
    fig = plots.curves(history(3), knet_2016(), title="softmax")
    left, right = fig.axes
    titles = (left.get_title(), right.get_title())
    assert titles == ("negative log likelihood", "misclassification error")
    assert legend_labels(fig) == ["train (notes)", "test (notes)", "train", "test"]
    notes_train, _, train, test = left.get_lines()
    assert len(notes_train.get_xdata()) == 3             # the notes cut to our epochs
    assert (train.get_color(), test.get_color()) == (plots.OURS["train"], plots.OURS["test"])
    assert left.get_xlim() == (0, 3)
    plots.save(fig, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_named_reference_is_labelled_by_its_name():
    fig = plots.curves(history(2), {"next lecture": knet_mlp_2016()})
    assert legend_labels(fig)[:2] == ["train (next lecture)", "test (next lecture)"]


def test_several_runs_get_a_colour_each_and_one_legend_below():
    fig = plots.curves({"softmax": history(4), "MLP 64": history(2, 0.5)},
                       {"notes": knet_2016(), "next lecture": knet_mlp_2016()})
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    labels = legend_labels(fig)
    assert labels[:4] == ["train (notes)", "train (next lecture)", "train (softmax)",
                          "train (MLP 64)"]                      # trains left, tests right
    runs = [line for line in fig.axes[0].get_lines() if line.get_linewidth() < 4]
    assert len({line.get_color() for line in runs}) == 2
    assert fig.axes[0].get_xlim() == (0, 4)


def test_a_single_measured_epoch_is_drawn_as_a_point():
    fig = plots.curves([Epoch(100, 0.2, 0.3, 0.05, 0.07)])
    assert all(line.get_marker() == "o" for line in fig.axes[0].get_lines())


def test_an_empty_history_draws_empty_panels():
    fig = plots.curves([], knet_2016())
    assert fig.axes[0].get_xlim() == (0, 1)


@pytest.mark.parametrize("rows, grid, titled", [(10, (1, 10), True), (64, (8, 8), False),
                                                (20, (4, 5), False)])
def test_weights_as_a_row_of_classes_or_a_grid_of_units(rows, grid, titled):
    W = np.random.default_rng(0).standard_normal((rows, 784))
    fig = plots.weights(W, title="units" if not titled else None)
    axes = fig.axes
    assert len(axes) == grid[0] * grid[1]
    assert sum(1 for ax in axes if ax.images) == rows
    assert bool(axes[0].get_title()) == titled


def test_weights_and_images_take_the_image_shape():
    W = np.zeros((3, 12))
    assert plots.weights(W, ["a", "b", "c"], shape=(3, 4)).axes[2].get_title() == "c"
    x = np.zeros((16, 2))
    fig = plots.images(x, ["T-shirt", "Bag"], 4)              # an int: the side of a square
    assert [ax.get_title() for ax in fig.axes] == ["T-shirt", "Bag"]
    assert fig.axes[0].images[0].get_array().shape == (4, 4)


def test_each_curve_draws_its_own_column():
    """Train is not drawn as test, nor NLL as error: every line's y values are the column
    its label names (the four columns differ, so any swap shows)."""
    ours = [Epoch(1, 0.5, 0.6, 0.05, 0.07), Epoch(2, 0.4, 0.55, 0.04, 0.065)]
    notes = [Epoch(1, 0.36, 0.34, 0.10, 0.094), Epoch(2, 0.31, 0.30, 0.09, 0.088)]
    fig = plots.curves(ours, notes)
    expected = {"negative log likelihood": {"train (notes)": [0.36, 0.31],
                                            "test (notes)": [0.34, 0.30],
                                            "train": [0.5, 0.4], "test": [0.6, 0.55]},
                "misclassification error": {"train (notes)": [0.10, 0.09],
                                            "test (notes)": [0.094, 0.088],
                                            "train": [0.05, 0.04], "test": [0.07, 0.065]}}
    for ax in fig.axes:
        drawn = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
        assert drawn == expected[ax.get_title()]
        assert all(list(line.get_xdata()) == [1, 2] for line in ax.get_lines())


def test_a_grid_of_units_shares_one_colour_scale_and_says_so():
    """Units that barely moved from small initial weights stay pale beside trained ones,
    instead of each showing as full-contrast noise on its own scale."""
    rng = np.random.default_rng(0)
    trained, untrained = rng.standard_normal((8, 784)), rng.standard_normal((56, 784))
    W = np.concatenate([0.5 * trained, 0.001 * untrained])
    fig = plots.weights(W, title="units")
    limits = {ax.images[0].get_clim() for ax in fig.axes if ax.images}
    largest = np.abs(W).max()
    assert limits == {(-largest, largest)}
    assert fig._suptitle.get_text() == f"units\n(one colour scale for all: |W| up to {largest:.2g})"


def test_a_row_of_classes_keeps_a_colour_scale_each_and_says_so():
    W = np.random.default_rng(0).standard_normal((10, 784)) * np.arange(1, 11)[:, None]
    fig = plots.weights(W)
    limits = [ax.images[0].get_clim() for ax in fig.axes]
    assert limits == [(-np.abs(row).max(), np.abs(row).max()) for row in W]
    assert fig._suptitle.get_text() == "(each image on its own colour scale)"
    assert plots.weights(W, shared=True).axes[0].images[0].get_clim()[1] == np.abs(W).max()


def test_the_first_layer_is_the_classes_or_the_hidden_units():
    rng = np.random.default_rng(0)
    softmax = [rng.standard_normal((10, 784)), np.zeros((10, 1))]
    fig = plots.first_layer(softmax, [f"c{k}" for k in range(10)])
    assert [ax.get_title() for ax in fig.axes] == [f"c{k}" for k in range(10)]
    mlp = [rng.standard_normal((16, 784)), np.zeros((16, 1)), np.ones((10, 16)), np.zeros((10, 1))]
    fig = plots.first_layer(mlp)
    assert fig._suptitle.get_text().startswith("first layer: the 16 hidden units' weights (W1)")
    assert sum(1 for ax in fig.axes if ax.images) == 16


def test_a_short_run_marks_its_epochs_and_scales_to_the_trained_ones():
    """A quick look of two epochs: each measurement is a visible point, and the y scale is
    that of epochs 1 and 2, not stretched to epoch 0's loss near log 10 = 2.30 (the x label
    says where epoch 0 is)."""
    start = Epoch(0, 2.30, 2.30, 0.90, 0.91)
    trained = [start, Epoch(1, 0.36, 0.34, 0.103, 0.094), Epoch(2, 0.32, 0.31, 0.092, 0.088)]
    fig = plots.curves(trained, knet_2016())
    nll, error = fig.axes
    train = [line for line in nll.get_lines() if line.get_label() == "train"][0]
    assert train.get_marker() == "o" and list(train.get_xdata()) == [0, 1, 2]
    spread = 0.36 - 0.31                                  # the trained epochs' NLL range
    low, high = nll.get_ylim()
    assert 0.31 - spread < low < 0.31 and 0.36 < high < 0.36 + spread
    assert "epoch 0, the initial weights, is off the scale: 2.30" in nll.get_xlabel()
    assert "off the scale: 0.91" in error.get_xlabel()


def test_a_long_run_is_drawn_as_lines_and_an_epoch_0_on_scale_changes_nothing():
    long = [Epoch(e, 0.5 - 0.01 * e, 0.55 - 0.01 * e, 0.1 - 0.002 * e, 0.11 - 0.002 * e)
            for e in range(0, plots.MARKED + 1)]           # epoch 0: one step above epoch 1
    fig = plots.curves(long)
    assert all(line.get_marker() in ("None", None, "") for line in fig.axes[0].get_lines())
    assert fig.axes[0].get_xlabel() == "epochs"           # epoch 0 is within the range


def test_a_long_reference_label_puts_the_legend_below_the_panels():
    """"for information" makes a label too long to sit inside a panel without covering a
    curve: one legend goes below both, as for several runs."""
    fig = plots.curves(history(2), {"next lecture: 784-100-10, for information": knet_mlp_2016()})
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    assert "train (next lecture: 784-100-10, for information)" in legend_labels(fig)
    assert all(ax.get_legend() is not None
               for ax in plots.curves(history(2), {"next lecture": knet_mlp_2016()}).axes)
