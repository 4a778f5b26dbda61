"""One epoch of SGD, evaluation, and the epoch loop's history, divergence and interruption."""
import os
import signal

import numpy as np
import pytest

import knetlike as kl


def test_train_is_sgd_over_the_batches_in_place(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    expected = [wi.copy() for wi in w]
    for xb, yb in data:                           # the notes' loop, written out
        g = kl.analytic_gradient(expected, xb, yb)
        expected = [wi - 0.5 * gi for wi, gi in zip(expected, g)]
    W, b = w
    assert kl.train(w, data, lr=0.5) is w
    assert w[0] is W and w[1] is b                # updated in place
    for got, want in zip(w, expected):
        assert np.allclose(got, want, atol=1e-6)


def test_every_gradient_path_gives_the_same_weights(toy):
    w0, x, labels = toy(N=1000)
    data = kl.minibatch(x, kl.onehot(labels, 4), 100)
    results = {}
    for name, gradient in [("default", None), ("softmax_gradient", kl.softmax_gradient),
                           ("analytic", kl.analytic_gradient)]:
        w = [wi.copy() for wi in w0]
        kl.train(w, data, lr=0.3, gradient=gradient)
        results[name] = w
    for name in ("softmax_gradient", "analytic"):
        for a, b in zip(results[name], results["default"]):
            assert np.max(np.abs(a - b)) <= 1e-5, name


def test_training_lowers_the_loss_and_the_error(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 20)
    before = kl.evaluate(w, x, labels)
    for _ in range(20):
        kl.train(w, data, lr=0.5)
    after = kl.evaluate(w, x, labels)
    assert after[0] < before[0] / 2 and after[1] < 0.1


def test_evaluate_matches_softmax_and_zeroone_in_any_block_size(toy):
    w, x, labels = toy(dtype=np.float64)
    nll, err = kl.evaluate(w, x, labels, blocksize=7)
    assert nll == pytest.approx(kl.softmax(w, x, kl.onehot(labels, 4, dtype=np.float64)))
    assert err == kl.zeroone(w, x, labels)
    assert (nll, err) == pytest.approx(kl.evaluate(w, x, labels, blocksize=10_000))


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_a_bad_learning_rate_is_refused(lr, toy):
    w, x, labels = toy()
    with pytest.raises(ValueError, match="lr .*must be a finite number > 0"):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4), 50), lr=lr)


def test_train_names_shape_mismatches_and_empty_data(toy):
    w, x, labels = toy()
    with pytest.raises(ValueError, match="ygold must be C x N"):
        kl.train(w, [(x[:, :10], kl.onehot(labels[:10], 5))], lr=0.1)
    with pytest.raises(ValueError, match="x must be D x N with D = 6"):
        kl.train(w, [(x[:5, :10], kl.onehot(labels[:10], 4))], lr=0.1)
    with pytest.raises(ValueError, match="column 1 sums to 2; use onehot"):
        kl.train(w, [(x[:, :3], np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0], [0, 0, 0]]))], lr=0.1)
    with pytest.raises(ValueError, match="data has no batches"):
        kl.train(w, [], lr=0.1)


def test_fit_reports_one_line_per_epoch_and_keeps_the_history(toy):
    w, x, labels = toy()
    lines = []
    batches = kl.minibatch(x, kl.onehot(labels, 4), 50)
    history = kl.fit(w, batches, (x, labels), (x[:, :50], labels[:50]), epochs=3, lr=0.5,
                     report=lambda e: lines.append(str(e)))
    assert [e.epoch for e in history] == [0, 1, 2, 3]          # mnist.jl's report(0) first
    assert lines[1].startswith("epoch:1 softloss:") and " zeroone:" in lines[1]
    assert history[-1].train_nll < history[0].train_nll
    last = history[-1]
    assert (last.train_nll, last.train_error) == pytest.approx(kl.evaluate(w, x, labels))
    assert history[-1].test_nll == pytest.approx(kl.evaluate(w, x[:, :50], labels[:50])[0])


def test_a_diverging_run_stops_and_keeps_the_last_finite_weights(toy):
    w, x, labels = toy()
    x = x * np.float32(1e18)        # products overflow float32 once w has moved
    history = []
    before = [wi.copy() for wi in w]
    with pytest.raises(kl.Diverged, match="epoch 1: the loss is not finite.*try a smaller lr"):
        kl.fit(w, kl.minibatch(x, kl.onehot(labels, 4), 50), (x, labels), (x, labels),
               epochs=5, lr=1e30, history=history, report=None)
    assert [e.epoch for e in history] == [0]
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


def ctrl_c_at(step: int):
    """The hand gradient, with a Ctrl-C (KeyboardInterrupt) at step ``step`` of training."""
    calls = []

    def gradient(w, x, ygold):
        calls.append(1)
        if len(calls) == step:
            raise KeyboardInterrupt
        return kl.analytic_gradient(w, x, ygold)
    return gradient


def test_an_interrupted_run_keeps_the_finished_epochs(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)      # 4 steps per epoch
    two_epochs = [wi.copy() for wi in w]
    kl.fit(two_epochs, data, (x, labels), (x, labels), epochs=2, lr=0.5,
           gradient=kl.analytic_gradient, report=None)
    history = []
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, data, (x, labels), (x, labels), epochs=5, lr=0.5, gradient=ctrl_c_at(10),
               history=history, report=None)
    assert [e.epoch for e in history] == [0, 1, 2]         # epoch 2 was being measured: kept
    assert all(np.array_equal(a, b) for a, b in zip(w, two_epochs))   # not half of epoch 3


def test_fit_takes_a_function_for_new_batches_every_epoch(toy):
    w, x, labels = toy()
    y = kl.onehot(labels, 4)
    rng, seen = np.random.default_rng(3), []

    def shuffled(epoch):
        seen.append(epoch)
        return kl.minibatch(x, y, 50, shuffle=True, rng=rng)
    history = kl.fit(w, shuffled, (x, labels), (x, labels), epochs=3, lr=0.5, report=None)
    assert seen == [1, 2, 3] and len(history) == 4


def test_fit_continues_numbering_from_an_existing_history(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    history = kl.fit(w, data, (x, labels), (x, labels), epochs=2, lr=0.5, report=None)
    kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.5, history=history, report=None)
    assert [e.epoch for e in history] == [0, 1, 2, 3]


def test_an_interruption_inside_report_leaves_history_and_w_in_step(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    history = []

    def report(epoch):
        if epoch.epoch == 2:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, data, (x, labels), (x, labels), epochs=5, lr=0.5, history=history, report=report)
    assert [e.epoch for e in history] == [0, 1, 2]
    last = history[-1]
    assert (last.train_nll, last.train_error) == pytest.approx(kl.evaluate(w, x, labels))


def test_fit_checks_the_evaluation_sets_before_training(toy):
    w, x, labels = toy()
    before = w[0].copy()
    with pytest.raises(ValueError, match="labels has 10 entries but x has 200 columns"):
        kl.fit(w, kl.minibatch(x, kl.onehot(labels, 4), 50), (x, labels), (x, labels[:10]),
               epochs=1, lr=0.5, report=None)
    assert np.array_equal(w[0], before)


def test_ctrl_c_while_waiting_for_a_measurement_still_records_that_epoch(monkeypatch, toy):
    import importlib
    train_module = importlib.import_module("knetlike.measuring")
    real_measure = train_module.measure

    def interrupted_measure(*args):
        """Ctrl-C arrives while epoch 1 is being measured: wherever the main thread is then
        (finishing the loop, or waiting for this result), the epoch must be kept."""
        if not np.array_equal(args[0][0], w0):      # not the initial weights: epoch 1
            os.kill(os.getpid(), signal.SIGINT)
        return real_measure(*args)
    monkeypatch.setattr(train_module, "measure", interrupted_measure)
    w, x, labels = toy()
    w0 = w[0].copy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    trained = [wi.copy() for wi in w]
    kl.train(trained, data, lr=0.5)
    history = []
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.5, history=history, report=None)
    assert [e.epoch for e in history] == [0, 1]
    assert all(np.array_equal(a, b) for a, b in zip(w, trained))


def test_divergence_after_good_epochs_keeps_the_last_good_one(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    good = kl.fit(w, data, (x, labels), (x, labels), epochs=2, lr=0.5, report=None)
    after_two = [wi.copy() for wi in w]
    huge = [(x * np.float32(1e18), y) for x, y in data]           # now the products overflow
    with pytest.raises(kl.Diverged, match="epoch 3: the loss is not finite"):
        kl.fit(w, huge, (x, labels), (x, labels), epochs=3, lr=1e30, history=good, report=None)
    assert [e.epoch for e in good] == [0, 1, 2]
    assert all(np.array_equal(a, b) for a, b in zip(w, after_two))


def test_fit_refuses_an_iterator_of_batches(toy):
    w, x, labels = toy()
    with pytest.raises(ValueError, match="an iterator would be used up after the first epoch"):
        kl.fit(w, iter(kl.minibatch(x, kl.onehot(labels, 4), 50)), (x, labels), (x, labels),
               epochs=2, lr=0.5, report=None)


def test_evaluate_refuses_a_bad_block_size(toy):
    w, x, labels = toy()
    for blocksize in (0, -5):
        with pytest.raises(ValueError, match="blocksize must be a whole number >= 1"):
            kl.evaluate(w, x, labels, blocksize=blocksize)


def swallowing_gradient(at_step: int, calls: list):
    """A gradient that gets Ctrl-C at step ``at_step`` inside code that swallows every
    exception, as autograd's function wrapper does on every call of ``grad``."""
    def gradient(w, x, ygold):
        calls.append(len(calls) + 1)
        if len(calls) == at_step:
            try:
                os.kill(os.getpid(), signal.SIGINT)      # the handler runs at once, here
            except BaseException:                       # autograd's wrap_util.wraps
                pass
        return kl.analytic_gradient(w, x, ygold)
    return gradient


def test_ctrl_c_stops_training_after_the_step_even_where_library_code_swallows_it(toy):
    w, x, labels = toy()
    batches = kl.minibatch(x, kl.onehot(labels, 4), 20)          # 10 steps
    calls = []
    with pytest.raises(KeyboardInterrupt):
        kl.train(w, batches, 0.5, gradient=swallowing_gradient(3, calls))
    assert calls == [1, 2, 3]                          # stopped right after that step
    expected, _, _ = toy()
    kl.train(expected, batches[:3], 0.5, gradient=kl.analytic_gradient)
    assert all(np.array_equal(a, e) for a, e in zip(w, expected))   # w and b both updated
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_the_last_step_is_not_lost(toy):
    w, x, labels = toy()
    batches = kl.minibatch(x, kl.onehot(labels, 4), 50)          # 4 steps
    with pytest.raises(KeyboardInterrupt):
        kl.train(w, batches, 0.5, gradient=swallowing_gradient(4, []))


def test_ctrl_c_swallowed_in_a_step_stops_fit_and_keeps_the_finished_epochs(toy):
    w, x, labels = toy()
    batches = kl.minibatch(x, kl.onehot(labels, 4), 20)          # 10 steps per epoch
    history, calls = [], []
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, batches, (x, labels), (x, labels), epochs=5, lr=0.5, history=history,
               gradient=swallowing_gradient(25, calls), report=None)
    assert len(calls) == 25 and [e.epoch for e in history] == [0, 1, 2]
    assert kl.evaluate(w, x, labels) == (history[-1].train_nll, history[-1].train_error)


def test_a_sigint_handler_installed_during_training_is_kept(toy):
    w, x, labels = toy()

    def mine(signum, frame):
        pass

    def gradient(w, x, ygold):
        signal.signal(signal.SIGINT, mine)
        return kl.analytic_gradient(w, x, ygold)
    try:
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4), 50), 0.5, gradient=gradient)
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_training_after_the_step_where_the_program_asks(signum, toy):
    from knetlike.machinery import stop_signals_raise
    w, x, labels = toy()
    batches = kl.minibatch(x, kl.onehot(labels, 4), 20)          # 10 steps
    calls = []

    def gradient(w, x, ygold):
        calls.append(1)
        if len(calls) == 3:
            try:
                os.kill(os.getpid(), signum)
            except BaseException:                       # swallowed, as autograd would
                pass
        return kl.analytic_gradient(w, x, ygold)
    with stop_signals_raise(), pytest.raises(kl.Interrupted, match=signal.Signals(signum).name):
        kl.train(w, batches, 0.5, gradient=gradient)
    assert len(calls) == 3
    assert signal.getsignal(signum) is signal.SIG_DFL        # put back as it was


def test_train_refuses_a_tuple_before_changing_anything(toy):
    w, x, labels = toy()
    W = w[0].copy()
    with pytest.raises(ValueError, match="w must be a list .*in place.*pass list"):
        kl.train(tuple(w), kl.minibatch(x, kl.onehot(labels, 4), 50), lr=0.5)
    assert np.array_equal(w[0], W)


def with_nan(x, column):
    x = x.copy(order="F")
    x[3, column] = np.nan
    return x


def test_evaluate_and_zeroone_refuse_data_with_a_nan_naming_the_first_bad_column(toy):
    w, x, labels = toy()
    bad = with_nan(x, 57)
    with pytest.raises(ValueError, match=r"x\[:, 0:\] holds non-finite values .* column 57"):
        kl.evaluate(w, bad, labels)
    with pytest.raises(ValueError, match=r"x\[:, 50:\] holds non-finite values .* column 7"):
        kl.evaluate(w, bad, labels, blocksize=50)      # the column within that block
    with pytest.raises(ValueError, match="x holds non-finite values .* column 57"):
        kl.zeroone(w, bad, labels)
    bad[3, 57] = np.inf
    with pytest.raises(ValueError, match="column 57"):
        kl.accuracy(w, bad, labels)


def test_evaluate_gives_nan_for_weights_that_diverged(toy):
    w, x, labels = toy()
    w[0][0, 0] = np.nan
    with np.errstate(invalid="ignore"):
        nll, _ = kl.evaluate(w, x, labels)
    assert np.isnan(nll)


def test_fit_blames_the_data_not_the_learning_rate(toy):
    w, x, labels = toy()
    bad = with_nan(x, 120)
    with pytest.raises(ValueError, match="trn's x holds non-finite values .* column 120"):
        kl.fit(w, kl.minibatch(bad, kl.onehot(labels, 4), 50), (bad, labels), (x, labels),
               epochs=1, lr=0.5, report=None)
    batches = kl.minibatch(bad, kl.onehot(labels, 4), 50)      # only the batches are bad
    with pytest.raises(ValueError, match="training batch 2's x holds non-finite values"):
        kl.fit(w, batches, (x, labels), (x, labels), epochs=1, lr=0.5, report=None)


def test_mixed_float_types_are_named_in_a_warning(toy):
    w, x, labels = toy()
    data = kl.minibatch(x.astype(np.float64), kl.onehot(labels, 4), 50)
    with pytest.warns(UserWarning, match="float32, float64.*Convert once"):
        kl.train(w, data, lr=0.5)


def trained(w, data, epochs):
    w = [wi.copy() for wi in w]
    for _ in range(epochs):
        kl.train(w, data, lr=0.5, gradient=kl.analytic_gradient)
    return w


def test_fit_can_measure_only_after_the_last_epoch(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    expected, lines = trained(w, data, 3), []
    history = kl.fit(w, data, (x, labels), (x, labels), epochs=3, lr=0.5, fast=True,
                     gradient=kl.analytic_gradient, report=lines.append)
    assert [e.epoch for e in history] == [0, 3] and [e.epoch for e in lines] == [0, 3]
    assert all(np.array_equal(a, b) for a, b in zip(w, expected))
    assert (history[1].train_nll, history[1].train_error) == pytest.approx(
        kl.evaluate(w, x, labels))
    assert (history[0].train_nll, history[0].train_error) == pytest.approx(
        kl.evaluate(toy()[0], x, labels))             # epoch 0: the initial weights


def test_fit_starts_with_epoch_0_and_measures_every_epoch(toy):
    w, x, labels = toy()
    w0 = [wi.copy() for wi in w]
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    lines = []
    history = kl.fit(w, data, (x, labels), (x, labels), epochs=2, lr=0.5, report=lines.append)
    assert [e.epoch for e in history] == [0, 1, 2] and lines == history
    assert (history[0].train_nll, history[0].train_error) == pytest.approx(
        kl.evaluate(w0, x, labels))
    kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.5, history=history, report=None)
    assert [e.epoch for e in history] == [0, 1, 2, 3]   # numbering goes on; no second epoch 0


def test_an_interrupted_unmeasured_run_measures_the_epoch_it_reached(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)      # 4 steps per epoch
    two_epochs, history = trained(w, data, 2), []
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, data, (x, labels), (x, labels), epochs=100, lr=0.5, fast=True,
               gradient=ctrl_c_at(10), history=history, report=None)
    assert [e.epoch for e in history] == [0, 2]
    assert all(np.array_equal(a, b) for a, b in zip(w, two_epochs))
    assert history[1].train_nll == pytest.approx(kl.evaluate(w, x, labels)[0])


def test_divergence_between_measurements_keeps_the_last_finite_epoch(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    history, steps = [], []

    def blows_up_in_epoch_3(w, x, ygold):
        steps.append(1)
        g = kl.analytic_gradient(w, x, ygold)
        return [gi * np.float32(np.inf) for gi in g] if len(steps) > 8 else g
    with pytest.raises(kl.Diverged, match="epoch 3: the loss is not finite.*weights of epoch 2"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=50, lr=0.5, fast=True,
               gradient=blows_up_in_epoch_3, history=history, report=None)
    assert [e.epoch for e in history] == [0, 2] and len(steps) == 12   # no epoch 4 trained
    assert all(np.isfinite(wi).all() for wi in w)


def test_after_epoch_sees_each_epochs_weights(toy):
    w, x, labels = toy()
    data = kl.minibatch(x, kl.onehot(labels, 4), 50)
    seen = []
    kl.fit(w, data, (x, labels), (x, labels), epochs=3, lr=0.5, report=None,
           gradient=kl.analytic_gradient, after_epoch=lambda e, w: seen.append((e, w[0].copy())))
    w0, _, _ = toy()
    assert [e for e, _ in seen] == [1, 2, 3]
    for epoch, W in seen:
        assert np.array_equal(W, trained(w0, data, epoch)[0])


def test_an_unknown_option_is_refused_before_anything_changes(toy):
    w, x, labels = toy()
    before = [wi.copy() for wi in w]
    with pytest.raises(ValueError, match="unknown option 'measure_every'"):
        kl.fit(w, kl.minibatch(x, kl.onehot(labels, 4), 50), (x, labels), (x, labels),
               epochs=1, lr=0.5, measure_every=2, report=None)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))
