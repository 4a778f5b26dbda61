"""Refusals and bookkeeping that a mutation audit found unpinned: what must be refused, named
or kept, each held against a number or a state worked out here."""
import numpy as np
import pytest

import knetlike as kl


def batches(toy, n=40, size=10):
    """A float64 toy model and its one-hot batches."""
    w, x, labels = toy(N=n, winit=0.3, dtype=np.float64)
    return w, x, labels, kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), size)


# --- train: batches checked before they are used ---------------------------------------------

def test_a_bad_batch_anywhere_in_a_tuple_is_refused_before_any_change(toy):
    """A tuple is a sequence, checked whole before the first step, as a list is."""
    w, x, labels, data = batches(toy)
    data[3] = (data[3][0], 1.05 * data[3][1])
    before = [wi.copy() for wi in w]
    with pytest.raises(ValueError, match="batch 3 of the data: .*sums to 1.05"):
        kl.train(w, tuple(data), lr=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


def test_the_batches_of_an_iterator_are_each_checked_before_their_step(toy):
    """An iterator's batches are checked one by one: the steps before a bad batch are taken
    (the same as training on those batches alone), and the bad one is refused."""
    w, x, labels, data = batches(toy)
    expected = kl.train([wi.copy() for wi in w], data[:2], lr=0.1)
    data[2] = (data[2][0], 1.05 * data[2][1])
    with pytest.raises(ValueError, match="sums to 1.05"):
        kl.train(w, iter(data), lr=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(w, expected))


def test_an_iterator_of_no_batches_is_refused(toy):
    w, x, labels, data = batches(toy)
    with pytest.raises(ValueError, match="data has no batches"):
        kl.train(w, iter([]), lr=0.1)


def test_float16_weights_and_data_warn_of_slow_steps(toy):
    w, x, labels = toy(N=20, dtype=np.float16)
    with pytest.warns(UserWarning, match="float16"):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float16), 10), lr=0.1)


def test_a_bad_batch_from_a_batch_function_is_refused_before_that_epoch_trains(toy):
    """``dtrn(epoch)``'s batches are checked whole, each epoch, before its first step: the
    run stops with the weights and history of the epoch before."""
    w, x, labels, data = batches(toy)
    bad = list(data)
    bad[3] = (bad[3][0], 1.05 * bad[3][1])
    history = []
    with pytest.raises(ValueError, match="batch 3 of the data: .*sums to 1.05"):
        kl.fit(w, lambda epoch: bad if epoch == 2 else data, (x, labels), (x, labels),
               epochs=3, lr=0.1, report=None, history=history)
    assert [e.epoch for e in history] == [0, 1]
    assert kl.evaluate(w, x, labels) == (history[-1].train_nll, history[-1].train_error)


@pytest.mark.parametrize("lr, l2, says", [
    (0.1, 2.0, "lr = 0.1 is too large for this model with l2 = 2"),    # lr l2 = 0.2
    (1.0, 2.0, "lr * l2 = 2 is above 1"),
    (0.5, 2.0, "lr = 0.5 is too large"),                                # lr l2 = 1: not above
])
def test_the_l2_penalty_is_blamed_only_when_lr_times_l2_is_above_1(lr, l2, says):
    from knetlike.train import likely_cause
    assert says in likely_cause(lr, {"l2": l2})


# --- fit: the epoch loop -------------------------------------------------------------------

def test_fit_of_no_epochs_measures_the_initial_weights_only(toy):
    w, x, labels, data = batches(toy)
    before = [wi.copy() for wi in w]
    history = kl.fit(w, data, (x, labels), (x, labels), epochs=0, lr=0.1, report=None)
    assert [e.epoch for e in history] == [0]
    assert history[0].train_nll == pytest.approx(np.log(4), abs=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


@pytest.mark.parametrize("progress", [True, False])
def test_the_progress_bar_shows_on_stderr_when_asked_and_only_then(progress, toy, capsys):
    w, x, labels, data = batches(toy)
    kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.1, report=None,
           progress=progress)
    err = capsys.readouterr().err
    assert ("epoch 1" in err) == progress


@pytest.mark.parametrize("loss, diverged", [(19.9, False), (20.1, True)])
def test_the_divergence_rule_measures_from_the_first_epoch_not_the_last(loss, diverged):
    """A run that began at 2.0 and fell to 0.5 diverges above 10 x 2.0, not 10 x 0.5."""
    from knetlike.history import Epoch
    from knetlike.measuring import Measuring
    w = kl.weights(classes=4, inputs=3, rng=0)
    history = [Epoch(0, 2.0, 2.0, 0.5, 0.5), Epoch(1, 0.5, 0.5, 0.1, 0.1)]
    record = Measuring(w, None, None, history, None, "")
    assert bool(record.divergence(Epoch(2, loss, 1.0, 0.5, 0.5))) == diverged


# --- checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rng", [True, False])
def test_a_bool_is_not_a_seed(rng):
    x, y = np.ones((2, 4)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="rng must be None, a seed"):
        kl.minibatch(x, y, 2, shuffle=True, rng=rng)


def test_targets_with_a_small_negative_entry_are_refused_though_they_sum_to_1():
    w, x = [np.zeros((2, 3)), np.zeros((2, 1))], np.ones((3, 2))
    targets = np.array([[1.0, 1.01], [0.0, -0.01]])
    with pytest.raises(ValueError, match="column 1 holds a negative entry, -0.01"):
        kl.loss(w, x, targets)


def test_non_finite_data_is_named_by_its_first_bad_column(toy):
    w, x, labels = toy(N=8, dtype=np.float64)
    x[1, 5], x[0, 2] = np.inf, np.nan
    with pytest.raises(ValueError, match=r"holds non-finite values \(NaN or inf\), first in "
                                         r"column 2;"):
        kl.evaluate(w, x, labels)


@pytest.mark.parametrize("above, below, says", [
    (False, False, "[0, 1]"), (True, False, "(0, 1]"), (False, True, "[0, 1)"),
    (True, True, "(0, 1)")])
def test_a_refused_number_is_told_its_range_with_open_and_closed_ends(above, below, says):
    from knetlike.checks import check_number
    with pytest.raises(ValueError) as refused:
        check_number(2.0, "v", 0, 1, above=above, below=below)
    assert str(refused.value) == f"v must be a number in {says}, got 2.0"


# --- what the scripts check before a run (options.py) -----------------------------------------

def test_a_directory_the_user_cannot_write_is_not_an_output_directory(tmp_path, monkeypatch):
    """As a user without write permission sees it (root may write anywhere, so the test
    stands in for the permission check: readable and searchable, not writable)."""
    import os

    from knetlike import options as opts
    monkeypatch.setattr(os, "access", lambda path, mode: not mode & os.W_OK)
    with pytest.raises(ValueError, match=f"{tmp_path} is not writable"):
        opts.check_out(str(tmp_path / "run"))


def test_each_column_of_a_batch_costs_its_input_mask_and_four_values_per_unit():
    """Per column of a batch: the input's dropout mask (784 values) and, per layer unit,
    W x, + b, relu and its gradient (4 values): (784 + 4 (64 + 10)) float32s."""
    from knetlike import options as opts

    def need(batchsize):
        return opts.training_nbytes(64, classes=10, inputs=784, dtype=np.float32,
                                    batchsize=batchsize)
    assert need(101) - need(100) == (784 + 4 * (64 + 10)) * 4


# --- a script's run (run.py) ------------------------------------------------------------------

def test_write_files_goes_on_past_a_file_that_cannot_be_written(tmp_path):
    from knetlike.run import write_files

    def full_disk(path):
        raise OSError(28, "No space left on device")
    failed = write_files(tmp_path, {"a.png": full_disk, "b.txt": lambda p: p.write_text("b"),
                                    "c.txt": lambda p: p.write_text("c")})
    assert list(failed) == ["a.png"]
    assert (tmp_path / "b.txt").read_text() == "b" and (tmp_path / "c.txt").read_text() == "c"


def test_a_runs_epoch_is_the_last_in_its_history_not_their_number(tmp_path):
    """A --fast run's history is epochs 0 and 10: its weights are those of epoch 10."""
    from knetlike.history import Epoch
    from knetlike.run import Run
    run = Run("mnist.py", str(tmp_path / "out"), False, [], {})
    assert run.epoch == 0
    run.history += [Epoch(0, 2.3, 2.3, 0.9, 0.9), Epoch(10, 0.3, 0.3, 0.1, 0.1)]
    assert run.epoch == 10


@pytest.mark.parametrize("in_use, hint", [
    (False, " (--out runs/mnist --overwrite reuses it, replacing its run)"), (True, "")])
def test_a_moved_run_says_how_to_reuse_the_directory_unless_a_run_holds_it(in_use, hint):
    from pathlib import Path

    from knetlike.files import Claim
    from knetlike.run import moved
    claim = Claim(Path("runs/mnist-2"), "runs/mnist already holds a run", None, in_use,
                  (Path("runs/mnist"),))
    assert moved(claim) == f"runs/mnist already holds a run; writing to runs/mnist-2 instead{hint}"


@pytest.mark.parametrize("what, status", [("", "diverged: epoch 3: the loss is not finite"),
                                          ("mlp64", "diverged of mlp64: epoch 3: the loss is "
                                                    "not finite")])
def test_a_diverged_loop_is_the_runs_status(tmp_path, what, status):
    from knetlike.run import Run
    run = Run("mnist.py", str(tmp_path / "out"), False, [], {})
    with run.loop(what):
        raise kl.Diverged("epoch 3: the loss is not finite")
    assert run.status == status and run.stopped


def test_a_stopped_loop_names_the_last_epoch_kept(tmp_path):
    from knetlike.history import Epoch
    from knetlike.run import Run
    run = Run("mnist.py", str(tmp_path / "out"), False, [], {})
    run.history += [Epoch(0, 2.3, 2.3, 0.9, 0.9), Epoch(3, 0.3, 0.3, 0.1, 0.1)]
    with run.loop():
        raise KeyboardInterrupt
    assert run.status == "interrupted by Ctrl-C after epoch 3"


def test_a_run_whose_directory_was_removed_stops_writing_there(tmp_path):
    import shutil

    from knetlike.history import Epoch
    from knetlike.run import Run
    with Run("mnist.py", str(tmp_path / "out"), False, ["history.csv"], {}) as run:
        shutil.rmtree(run.path)
        with run.loop():
            run.history.append(Epoch(0, 2.3, 2.3, 0.9, 0.9))
            run.report(run.history[-1])
    assert run.status == (f"stopped after epoch 0: {tmp_path / 'out'} was removed or replaced, "
                          f"so nothing more is written there")
    assert not (tmp_path / "out").exists()


# --- IDX files ------------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [b"\0", b"\0\0\0"])
def test_a_raw_idx_file_with_even_one_trailing_byte_is_refused(tmp_path, extra):
    """A 2 x 3 uint8 array is 4 + 2*4 header bytes and 6 values: 18 bytes, no more."""
    from knetlike.data.errors import IdxFormatError
    from knetlike.data.idx import idx_bytes, read_idx
    path = tmp_path / "x.idx"
    data = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert len(data) == 18
    path.write_bytes(data + extra)
    with pytest.raises(IdxFormatError, match=f"has trailing bytes: {18 + len(extra)} bytes, "
                                             f"but its header .* needs 18"):
        read_idx(path)
    path.write_bytes(data)
    assert np.array_equal(read_idx(path), [[0, 1, 2], [3, 4, 5]])


@pytest.mark.parametrize("code, fmt", [(0x0D, ">2f"), (0x0E, ">2d"), (0x0C, ">2i"),
                                       (0x0B, ">2h")])
def test_idx_values_are_big_endian_as_the_format_says(code, fmt):
    """Bytes written here with struct, as the IDX format lays them out."""
    import struct

    from knetlike.data.idx import parse_idx
    data = bytes([0, 0, code, 1]) + struct.pack(">I", 2) + struct.pack(fmt, 3, -2)
    assert parse_idx(data).tolist() == [3, -2]


def test_an_idx_file_larger_than_expected_is_refused_from_its_header(tmp_path):
    from knetlike.data.errors import IdxFormatError
    from knetlike.data.idx import idx_bytes, read_bytes
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 3), dtype=np.uint8)))          # 18 bytes
    assert len(read_bytes(path, limit=18)) == 18
    with pytest.raises(IdxFormatError, match="declares 2 x 3 values of 1 byte.*, 18 bytes, "
                                             "more than the 17 bytes expected"):
        read_bytes(path, limit=17)
