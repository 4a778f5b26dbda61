"""One model: what trains is kl.predict and kl.loss, the update is the notes' w[i] -= lr * g[i],
and everything a call needs is checked once, before the first change."""
import os
import signal
import sys

import autograd.numpy as anp
import numpy as np
import pytest

import knetlike as kl


def calls_of(functions, run) -> dict:
    """How often each of ``functions`` was entered while ``run()`` ran, as a debugger's
    breakpoint in it would stop: by its code object, however it was imported."""
    codes = {getattr(f, "__wrapped__", f).__code__: f.__name__ for f in functions}
    counts = dict.fromkeys(codes.values(), 0)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            counts[codes[frame.f_code]] += 1
    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return counts


def test_training_enters_kl_loss_and_kl_predict_at_every_step(rng, toy):
    """The student's breakpoints in kl.loss and kl.predict stop during training, with the
    companion notebook's options on (mnist.py --hidden 5 --dropout 0.2 0 --l2 4e-5)."""
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5,))
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)      # 4 steps
    counts = calls_of([kl.loss, kl.predict], lambda: kl.fit(
        w, data, (x, labels), (x, labels), epochs=2, lr=0.1, report=None, pdrop=(0.2, 0),
        l2=4e-5, rng=1))
    assert counts["loss"] == 8                       # one per step
    assert counts["predict"] >= 8                    # and the measurements predict too


def test_the_default_step_is_w_minus_lr_times_grad_of_loss(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5,))
    y = kl.onehot(labels, 4, dtype=np.float64)
    g = kl.grad(kl.loss)(w, x, y, 0.01, 0.02)
    expected = [wi - 0.3 * gi for wi, gi in zip(w, g)]           # the notes' update, here
    kl.train(w, [(x, y)], lr=0.3, l1=0.01, l2=0.02)
    for ours, theirs in zip(w, expected):
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_train_gradient_is_grad_of_kl_loss_with_penalties_and_seeded_dropout(rng, depth, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5, 3)[:depth])
    y = kl.onehot(labels, 4, dtype=np.float64)
    options = dict(l1=0.01, l2=0.02, pdrop=(0.2, 0.3), rng=7)
    ours = kl.train_gradient(w, x, y, **options)
    for a, b in zip(ours, kl.grad(kl.loss)(w, x, y, **options)):
        assert np.allclose(a, b, rtol=1e-13, atol=1e-15)
    other_masks = kl.train_gradient(w, x, y, **(options | dict(rng=8)))
    assert not np.allclose(ours[0], other_masks[0])              # the seed reaches the masks


def test_the_softmax_model_trains_as_the_notes_gradient_says(toy):
    """For [W, b], the default path and the notes' grad(softmax) give the same gradient."""
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    y = kl.onehot(labels, 4, dtype=np.float64)
    for a, b in zip(kl.train_gradient(w, x, y), kl.softmax_gradient(w, x, y)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gradient, option, value", [
    (kl.analytic_gradient, "pdrop", 0.2),
    (kl.softmax_gradient, "l2", 1e-4),
    (kl.softmax_gradient, "pdrop", (0.5, 0)),
])
def test_an_option_the_gradient_does_not_take_is_named_before_any_change(
        gradient, option, value, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    before = [wi.copy() for wi in w]
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    with pytest.raises(ValueError, match=f"{option} was given, but the gradient function "
                                         f"{gradient.__name__} does not take it"):
        kl.train(w, data, lr=0.1, gradient=gradient, **{option: value})
    with pytest.raises(ValueError, match=f"{option} was given"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.1, gradient=gradient,
               report=None, **{option: value})
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


def test_options_that_do_nothing_pass_to_any_gradient(rng, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    kl.train(w, data, lr=0.1, gradient=kl.analytic_gradient, l1=0, l2=0.0, pdrop=0, rng=3)


@pytest.mark.parametrize("options, message", [
    (dict(lr2=0.1), "unknown option 'lr2'; train and fit take l1, l2, pdrop, rng"),
    (dict(l1=-1), r"l1 must be a finite number >= 0, got -1"),
    (dict(l2=float("inf")), r"l2 must be a finite number >= 0, got inf"),
    (dict(pdrop=1.0), r"the dropout probability p must be a number in \[0, 1\), got 1.0"),
    (dict(pdrop=(0.1, 0.2, 0.3)), r"pdrop must be a number or a pair"),
    (dict(pdrop=0.1, rng="seed"), r"rng must be None, a seed"),
    (dict(rng=-1), r"rng must be None, a seed"),
])
def test_options_are_checked_before_the_first_step(options, message, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    before = [wi.copy() for wi in w]
    with pytest.raises(ValueError, match=message):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10), lr=0.1,
                 **options)
    assert all(np.array_equal(a, b) for a, b in zip(w, before))


@pytest.mark.parametrize("where", [0, 3])
def test_a_bad_batch_anywhere_in_a_list_is_refused_before_any_change(where, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    before = [wi.copy() for wi in w]
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    data[where] = (data[where][0], 1.05 * data[where][1])
    for run in (lambda: kl.train(w, data, lr=0.1),
                lambda: kl.train(w, data, lr=0.1, gradient=kl.analytic_gradient),
                lambda: kl.fit(w, data, (x, labels), (x, labels), epochs=1, lr=0.1,
                               report=None)):
        with pytest.raises(ValueError, match="sums to 1.05"):
            run()
        assert all(np.array_equal(a, b) for a, b in zip(w, before))


@pytest.mark.parametrize("targets, message", [
    (np.array([[1.0, 0.4], [0.0, 0.6]]), None),                   # probabilities: fine
    (np.array([[1.0, 0.5], [0.0, 0.5009]]), None),                # within 1e-3 of 1
    (np.array([[1.0, 0.5], [0.0, 0.5011]]), "column 1 sums to 1.0011"),
    (np.array([[1.0, 0.52], [0.0, 0.53]]), "column 1 sums to 1.05"),
    (np.array([[1.0, 1.2], [0.0, -0.2]]), "column 1 holds a negative entry, -0.2"),
    (np.array([[1.0, np.nan], [0.0, 0.0]]), "column 1 sums to nan"),
])
def test_targets_must_be_probability_vectors(targets, message):
    w = [np.zeros((2, 3)), np.zeros((2, 1))]
    x = np.ones((3, 2))
    if message is None:                          # every score 0: phat = 1/2 everywhere
        assert kl.loss(w, x, targets) == pytest.approx(targets.sum() * np.log(2) / 2)
    else:
        with pytest.raises(ValueError, match=message):
            kl.loss(w, x, targets)


def test_a_penalty_that_overshoots_is_named_as_the_cause(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    with pytest.raises(kl.Diverged, match=r"lr \* l2 = 3 is above 1, so the L2 penalty alone "
                                          r"overshoots.*try a smaller l2 or lr"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=30, lr=1.0, l2=3.0, report=None)


def test_a_large_lr_is_named_as_the_cause_with_the_penalties_in_force(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    x = x * 1e3
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    with pytest.raises(kl.Diverged, match=r"lr = 1000.0 is too large for this model with "
                                          r"l1 = 0.001; try a smaller lr"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=30, lr=1e3, l1=1e-3, report=None)


def test_initial_weights_that_give_no_finite_loss_are_named_as_the_cause(toy):
    w, x, labels = toy(N=40, winit=0.3)
    w[0][:] = np.float32(3e38)                  # finite, but the scores overflow float32
    data = kl.minibatch(x.astype(np.float32), kl.onehot(labels, 4), 10)
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(kl.Diverged, match=r"epoch 0 \(the initial weights\): the loss is "
                                              r"not finite.*try a smaller winit"):
            kl.fit(w, data, (x, labels), (x, labels), epochs=3, lr=0.1, report=None)


def test_penalty_checks_w_as_the_model_does():
    with pytest.raises(ValueError, match=r"w must be a list \[W, b\]"):
        kl.penalty(np.ones((4, 3)), l1=1.0)
    with pytest.raises(ValueError, match=r"w\[1\] \(b\) must have shape"):
        kl.penalty([np.ones((4, 3)), np.ones((3, 1))], l2=1.0)
    assert kl.penalty([np.ones((4, 3)), np.ones((4, 1))], l1=0.5, l2=0.25) == 12 * 0.75


def test_dropout_refuses_integer_arrays_and_keeps_the_expected_value():
    with pytest.raises(ValueError, match="x must hold floats, got dtype int64"):
        kl.dropout(np.ones((100, 100), dtype=np.int64), 0.5, rng=0)
    kept = kl.dropout(np.ones((400, 400)), 0.25, rng=0)
    assert set(np.unique(kept)) == {0.0, 1 / 0.75}
    assert kept.mean() == pytest.approx(1, abs=0.01)
    assert (kept == 0).mean() == pytest.approx(0.25, abs=0.01)


@pytest.mark.parametrize("value, low, high, above, below, ok", [
    (0.0, 0, np.inf, False, False, True),
    (0.0, 0, np.inf, True, False, False),
    (1.0, 0, 1, False, False, True),
    (1.0, 0, 1, False, True, False),
    (np.float32(0.5), 0, 1, False, True, True),
    (True, 0, 1, False, False, False),
    (float("nan"), 0, 1, False, False, False),
    ("0.5", 0, 1, False, False, False),
])
def test_one_number_check_says_the_range(value, low, high, above, below, ok):
    from knetlike.checks import check_number
    if ok:
        assert check_number(value, "v", low, high, above=above, below=below) == float(value)
    else:
        with pytest.raises(ValueError, match="v must be a"):
            check_number(value, "v", low, high, above=above, below=below)


@pytest.mark.parametrize("scale", [1.0, -2.5])
def test_every_backward_pass_scales_with_its_incoming_gradient(rng, scale, toy):
    """The chain rule multiplies each node's derivative by the gradient that reaches it: a
    backward pass that assumed dJ/dJ = 1 would fail for a loss scaled by -2.5."""
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5,))
    y = kl.probs(rng.standard_normal((4, 40)))          # probabilistic targets

    def nll(w, x, y):                                   # written here with autograd.numpy
        z = w[0] @ x + w[1]
        s = w[2] @ (z * (z > 0)) + w[3]
        return -anp.sum(y * (s - anp.log(anp.sum(anp.exp(s), axis=0)))) / 40

    def penalty(w):
        return 0.1 * (anp.abs(w[0]).sum() + anp.abs(w[2]).sum()) \
            + 0.2 * ((w[0] ** 2).sum() + (w[2] ** 2).sum())
    for argnum in (0, 1, 2):                            # w, x and the targets
        ours = kl.grad(lambda *a: scale * kl.loss(*a), argnum)(w, x, y)
        theirs = kl.grad(lambda *a: scale * nll(*a), argnum)(w, x, y)
        for a, b in zip(*(([ours], [theirs]) if argnum else (ours, theirs))):
            assert np.allclose(a, b, atol=1e-12), argnum
    for a, b in zip(kl.grad(lambda w: scale * kl.penalty(w, 0.1, 0.2))(w),
                    kl.grad(lambda w: scale * penalty(w))(w)):
        assert np.allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("option", ["l1", "l2"])
def test_each_penalty_reaches_a_given_gradient_alone(option, toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    y = kl.onehot(labels, 4, dtype=np.float64)
    W = w[0].copy()
    g = kl.analytic_gradient(w, x, y)[0]
    extra = 0.5 * np.sign(W) if option == "l1" else 2 * 0.5 * W     # l sign(W), or 2 l W
    kl.train(w, [(x, y)], lr=0.1, gradient=kl.analytic_gradient, **{option: 0.5})
    assert np.allclose(w[0], W - 0.1 * (g + extra), atol=1e-14)


def test_fit_draws_new_masks_every_epoch_from_one_seeded_stream(rng, toy):
    """fit(rng=5) is train with one Generator made from 5, going on across epochs (a stream
    remade per epoch would drop the same inputs every epoch)."""
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5,))
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    by_hand, stream = [wi.copy() for wi in w], np.random.default_rng(5)
    for _ in range(2):
        kl.train(by_hand, data, lr=0.1, pdrop=(0.3, 0.3), rng=stream)
    same_every_epoch = [wi.copy() for wi in w]
    for _ in range(2):
        kl.train(same_every_epoch, data, lr=0.1, pdrop=(0.3, 0.3), rng=5)
    kl.fit(w, data, (x, labels), (x, labels), epochs=2, lr=0.1, report=None,
           pdrop=(0.3, 0.3), rng=5)
    assert all(np.array_equal(a, b) for a, b in zip(w, by_hand))
    assert not np.array_equal(w[0], same_every_epoch[0])


def test_an_unseeded_dropout_run_differs_from_run_to_run(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64, hidden=(5,))
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)
    runs = [kl.train([wi.copy() for wi in w], data, lr=0.1, pdrop=0.3) for _ in range(2)]
    assert not np.array_equal(runs[0][0], runs[1][0])


@pytest.mark.parametrize("start, loss, diverged", [
    (0.5, 13.8, False),            # began at log 4 = 1.386 (the floor), 10x = 13.86
    (0.5, 13.9, True),
    (2.0, 19.9, False),            # began at 2.0, above the floor: 10x = 20
    (2.0, 20.1, True),
    (2.0, float("nan"), True),
])
def test_the_divergence_rule_is_ten_times_where_the_run_began_or_log_c(start, loss, diverged):
    from knetlike.history import Epoch
    from knetlike.measuring import Measuring
    w = kl.weights(classes=4, inputs=3, rng=0)
    record = Measuring(w, None, None, [Epoch(0, start, start, 0.5, 0.5)], None, "")
    assert bool(record.divergence(Epoch(1, loss, 1.0, 0.5, 0.5))) == diverged


def test_a_fast_blow_up_names_the_epoch_it_keeps(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)      # 4 steps
    steps = []

    def blows_up_in_epoch_4(w, x, ygold):
        steps.append(1)
        g = kl.analytic_gradient(w, x, ygold)
        return [gi * np.inf for gi in g] if len(steps) > 12 else g
    history = []
    with np.errstate(invalid="ignore"), pytest.raises(
            kl.Diverged, match="epoch 4: the loss is not finite.*weights of epoch 3"):
        kl.fit(w, data, (x, labels), (x, labels), epochs=10, lr=0.1, fast=True, report=None,
               gradient=blows_up_in_epoch_4, history=history)
    assert [e.epoch for e in history] == [0, 3]


def test_a_ctrl_c_inside_after_epoch_keeps_that_epoch_trained_and_measured(toy):
    w, x, labels = toy(N=40, winit=0.3, dtype=np.float64)
    data = kl.minibatch(x, kl.onehot(labels, 4, dtype=np.float64), 10)

    def after_epoch(epoch, w):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)        # Ctrl-C while the hook runs
    history = []
    with pytest.raises(KeyboardInterrupt):
        kl.fit(w, data, (x, labels), (x, labels), epochs=5, lr=0.1, report=None,
               after_epoch=after_epoch, history=history)
    assert [e.epoch for e in history] == [0, 1, 2]
    assert kl.evaluate(w, x, labels) == (history[-1].train_nll, history[-1].train_error)


def test_a_partial_batch_larger_than_the_data_is_the_whole_set(rng):
    x, y = rng.standard_normal((3, 7)), rng.integers(0, 2, 7)
    batches = kl.minibatch(x, y, 10, partial=True)
    assert len(batches) == 1 and np.array_equal(batches[0][0], x)
    assert [b[0].shape[1] for b in kl.minibatch(x, y, 3, partial=True)] == [3, 3, 1]
    assert [b[0].shape[1] for b in kl.minibatch(x, y, 3)] == [3, 3]


def test_a_gradient_that_does_not_take_a_batch_is_named(toy):
    w, x, labels = toy()
    with pytest.raises(ValueError, match=r"the gradient function two_arguments must take the "
                                         r"arguments \(w, x, ygold\)"):
        kl.train(w, kl.minibatch(x, kl.onehot(labels, 4), 50), lr=0.1, gradient=two_arguments)


def two_arguments(w, x):
    return [np.zeros_like(wi) for wi in w]
