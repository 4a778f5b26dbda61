"""No stale figure: every PNG in docs/figures is what its script draws today from the
committed data (scripts/figures.py), and the comparison notices a changed drawing."""

import numpy as np
import pytest

from knetlike import plots

from conftest import load_script



@pytest.mark.mnist
@pytest.mark.slow
def test_every_committed_figure_is_what_its_script_draws_today(mnist_data):
    """Fails on a drawing function, a script or the committed data changed without the
    figures redrawn (`python scripts/figures.py`), or a figure no script draws."""
    problems = load_script("figures").check()
    assert problems == [], "\n".join(problems)


@pytest.mark.slow
@pytest.mark.mnist
def test_the_comparison_sees_a_changed_drawing_function(mnist_data, tmp_path, monkeypatch):
    """The same run redrawn is the committed figure (to the pixel, with the matplotlib that
    drew it); with the run's curves in another colour, or one more character in the title,
    it is not."""
    figures = load_script("figures")
    committed = figures.FIGURES / "mnist_curves.png"
    figures.redraw_runs(tmp_path)
    assert figures.difference(committed, tmp_path / "mnist_curves.png") is None

    monkeypatch.setitem(plots.OURS, "train", "#d1495b")
    figures.redraw_runs(tmp_path)
    assert "mnist_curves.png: pixels differ" in figures.difference(committed,
                                                                   tmp_path / "mnist_curves.png")
    monkeypatch.undo()

    curves = plots.curves
    monkeypatch.setattr(plots, "curves", lambda runs, reference=None, title=None:
                        curves(runs, reference, f"{title}."))
    figures.redraw_runs(tmp_path)
    assert figures.difference(committed, tmp_path / "mnist_curves.png") is not None


def test_figures_of_other_sizes_or_missing_ones_are_named(tmp_path):
    figures = load_script("figures")
    small, large = tmp_path / "a.png", tmp_path / "b.png"
    plots.save(plots.images(np.zeros((4, 1)), ["0"], 2), small)
    plots.save(plots.images(np.zeros((4, 2)), ["0", "1"], 2), large)
    assert "pixels, drawn today" in figures.difference(small, large)
    assert figures.difference(tmp_path / "none.png", small) == "none.png: not committed"
    assert figures.difference(small, small) is None
