"""Knet-style minibatches: order, sizes, the partial batch, shuffling, coverage."""
import numpy as np
import pytest

import knetlike as kl


@pytest.fixture
def data():
    # column n holds n, 10+n, 20+n
    x = np.asfortranarray(np.arange(30, dtype=np.float32).reshape(3, 10))
    return x, np.arange(10)


def test_batches_follow_the_data_order_and_drop_the_partial_one(data):
    x, labels = data
    batches = kl.minibatch(x, labels, 3)
    assert [y.tolist() for _, y in batches] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    for xb, yb in batches:
        assert np.array_equal(xb[0], yb)               # columns travel with their labels
        assert xb.flags.f_contiguous and np.shares_memory(xb, x)   # views, not copies


def test_partial_keeps_the_last_short_batch(data):
    batches = kl.minibatch(*data, 3, partial=True)
    assert [len(y) for _, y in batches] == [3, 3, 3, 1]


def test_targets_are_split_by_columns(data):
    x, labels = data
    batches = kl.minibatch(x, kl.onehot(labels, 10), 5)
    assert [yb.shape for _, yb in batches] == [(10, 5), (10, 5)]
    assert np.array_equal(np.argmax(batches[1][1], axis=0), [5, 6, 7, 8, 9])


def test_shuffling_is_reproducible_with_a_seeded_rng(data):
    a = kl.minibatch(*data, 3, shuffle=True, rng=np.random.default_rng(7))
    b = kl.minibatch(*data, 3, shuffle=True, rng=np.random.default_rng(7))
    c = kl.minibatch(*data, 3, shuffle=True, rng=np.random.default_rng(8))

    def labels(batches):
        return [y.tolist() for _, y in batches]
    assert labels(a) == labels(b) != labels(c)
    assert labels(a) != labels(kl.minibatch(*data, 3))
    for xb, yb in a:
        assert xb.flags.f_contiguous and np.array_equal(xb[0], yb)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("partial", [False, True])
def test_each_instance_is_in_at_most_one_batch(data, shuffle, partial):
    batches = kl.minibatch(*data, 4, shuffle=shuffle, partial=partial, rng=np.random.default_rng(0))
    seen = np.concatenate([y for _, y in batches])
    assert len(seen) == len(set(seen.tolist())) == (10 if partial else 8)


@pytest.mark.parametrize("batchsize, message", [
    (0, "batchsize must be a whole number >= 1, got 0"),
    (2.5, "batchsize must be a whole number >= 1, got 2.5"),
    (11, "batchsize 11 is larger than the N = 10 instances"),
])
def test_bad_batch_sizes_are_refused(data, batchsize, message):
    with pytest.raises(ValueError, match=message):
        kl.minibatch(*data, batchsize)


def test_mismatched_or_empty_data_is_refused(data):
    x, labels = data
    with pytest.raises(ValueError, match=r"y must be C x N targets or N labels with N = 10"):
        kl.minibatch(x, labels[:9], 2)
    with pytest.raises(ValueError, match="x has no columns"):
        kl.minibatch(np.zeros((3, 0)), np.zeros(0, int), 2)
    with pytest.raises(ValueError, match="x must be D x N"):
        kl.minibatch(np.zeros(5), np.zeros(5, int), 2)
