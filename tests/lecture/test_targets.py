"""One-hot targets, the zero-one loss, and the label checks."""
import numpy as np
import pytest

import knetlike as kl


def test_onehot_puts_one_in_the_gold_row_of_each_column():
    y = kl.onehot([2, 0, 1, 2], 3)
    assert y.dtype == np.float32 and y.shape == (3, 4)
    assert np.array_equal(y, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    assert np.array_equal(np.argmax(y, axis=0), [2, 0, 1, 2])


@pytest.mark.parametrize("labels, message", [
    ([0, 3], r"labels must lie in 0..2 \(C = 3 classes\), found 3"),
    ([-1, 0], r"found -1"),
    ([0.0, 1.5], r"labels must be integers 0..2, got dtype float64"),
    ([[0, 1]], r"labels must be a 1-D array of class indices, got shape \(1, 2\)"),
])
def test_onehot_refuses_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        kl.onehot(labels, 3)


def test_onehot_refuses_a_bad_number_of_classes():
    with pytest.raises(ValueError, match="nclasses must be a whole number >= 1"):
        kl.onehot([0], 0)


def test_zeroone_counts_the_columns_whose_top_score_is_wrong():
    # W = identity, b = 0: the predicted class is the largest coordinate of x.
    w = [np.eye(3), np.zeros((3, 1))]
    x = np.array([[5.0, 0, 0, 1], [0, 5, 0, 0], [0, 0, 5, 0]])   # columns: classes 0, 1, 2, 0
    assert kl.zeroone(w, x, [0, 1, 2, 0]) == 0
    assert kl.zeroone(w, x, [0, 1, 1, 1]) == 0.5
    assert kl.accuracy(w, x, [0, 1, 1, 1]) == 0.5


def test_zeroone_checks_its_arguments():
    w = [np.eye(3), np.zeros((3, 1))]
    with pytest.raises(ValueError, match="labels has 2 entries but x has 4 columns"):
        kl.zeroone(w, np.zeros((3, 4)), [0, 1])
    with pytest.raises(ValueError, match="found 5"):
        kl.zeroone(w, np.zeros((3, 2)), [0, 5])
    with pytest.raises(ValueError, match=r"x must be D x N with D = 3"):
        kl.zeroone(w, np.zeros((4, 2)), [0, 1])
