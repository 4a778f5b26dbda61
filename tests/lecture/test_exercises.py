"""kl.exercises.check: wrong answers are caught and their mistake named; right answers written
in other styles pass; a function that raises or returns nonsense gets one clear sentence.

Every student function below is written out here, in plain numpy, so that these tests do not
lean on the checker's own way of computing the right answer or the mistakes.
"""
from pathlib import Path

import numpy as np
import pytest

import knetlike as kl
from knetlike.exercises import check


def logp(y):
    """A student's own stable log-softmax, over the columns."""
    m = y.max(axis=0, keepdims=True)
    return (y - m) - np.log(np.exp(y - m).sum(axis=0, keepdims=True))


def probs(y):
    """A student's own stable softmax, over the columns."""
    e = np.exp(y - y.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def scores(w, x):
    return w[0] @ x + w[1]


def gradient(w, x, ygold):
    """A student's [dW, db] of the mean NLL, by hand."""
    dy = (probs(scores(w, x)) - ygold) / ygold.shape[1]
    return [dy @ x.T, dy.sum(axis=1, keepdims=True)]


def rows_logp(y):
    """A log-softmax over the wrong axis (the rows)."""
    m = y.max(axis=1, keepdims=True)
    return (y - m) - np.log(np.exp(y - m).sum(axis=1, keepdims=True))


def raises(error):
    def fn(*args):
        raise error
    return fn


def train_with(step):
    """A student's SGD epoch whose update of one array is ``step(w, i, g)``."""
    def train(w, data, lr):
        for x, ygold in data:
            g = gradient(w, x, ygold)
            for i in range(len(w)):
                step(w, i, lr * g[i])
    return train


def climb(w, i, update):
    w[i] += update


def only_first_batch(w, data, lr):
    for x, ygold in data:
        g = gradient(w, x, ygold)
        for i in range(len(w)):
            w[i] -= lr * g[i]
        return w


def rebinds(w, data, lr):
    for x, ygold in data:
        g = gradient(w, x, ygold)
        w = [wi - lr * gi for wi, gi in zip(w, g)]
    return w


def last_batch_only(w, data, lr):
    for x, ygold in data:
        g = gradient(w, x, ygold)
    for i in range(len(w)):
        w[i] -= lr * g[i]


def summed_gradient_train(w, data, lr):
    for x, ygold in data:
        g = gradient(w, x, ygold)
        for i in range(len(w)):
            w[i] -= lr * x.shape[1] * g[i]


def through_phat(ygold, ypred):
    """dJ/dphat = -p/phat / N, then back through the softmax: right, until phat is 0."""
    p = probs(ypred)
    dp = -ygold / p / ygold.shape[1]
    return p * (dp - (dp * p).sum(axis=0, keepdims=True))


def seeded_dropout(x, p, rng):
    mask = np.random.default_rng(0).random(x.shape) > p
    return x * mask / (1 - p)


def global_dropout(x, p, rng):
    return x * (np.random.random(x.shape) > p) / (1 - p)


def inplace_dropout(x, p, rng):
    x *= (rng.random(x.shape) > p) / (1 - p)
    return x


def inplace_probs(y):
    y -= y.max(axis=0)
    np.exp(y, out=y)
    y /= y.sum(axis=0)
    return y


def penalty_with(square=lambda W: (W * W).sum(), arrays=lambda w: w[0::2], absolute=np.abs):
    def penalty(w, l1, l2):
        return sum(l1 * absolute(W).sum() + l2 * square(W) for W in arrays(w))
    return penalty


OFF_BY_ONE = "off by one"

# (exercise, a wrong answer, a phrase its message must contain)
WRONG = {
    # the zero-one loss
    "zeroone labels+1": ("zeroone", lambda w, x, labels: np.mean(
        np.argmax(scores(w, x), axis=0) + 1 != labels), OFF_BY_ONE),
    "zeroone accuracy": ("zeroone", lambda w, x, labels: np.mean(
        np.argmax(scores(w, x), axis=0) == labels), "accuracy"),
    "zeroone count": ("zeroone", lambda w, x, labels: np.sum(
        np.argmax(scores(w, x), axis=0) != labels), "number misclassified"),
    "zeroone no bias": ("zeroone", lambda w, x, labels: np.mean(
        np.argmax(w[0] @ x, axis=0) != labels), "lack the bias"),
    "zeroone rows": ("zeroone", lambda w, x, labels: np.mean(
        np.argmax(scores(w, x), axis=1) != labels), "along the rows"),
    # the softmax function
    "probs overflow": ("probs", lambda y: np.exp(y) / np.exp(y).sum(axis=0), "overflows"),
    "probs rows": ("probs", lambda y: probs(y.T).T, "along the rows"),
    "probs whole matrix": ("probs", lambda y: np.exp(y) / np.exp(y).sum(), "whole matrix"),
    "probs unnormalised": ("probs", np.exp, "not yet normalised"),
    "probs float64": ("probs", lambda y: probs(y.astype(np.float64)), "float64 where float32"),
    "probs in place": ("probs", inplace_probs, "in place"),
    "probs list": ("probs", lambda y: probs(y).tolist(), "make it a numpy array"),
    "probs wrong shape": ("probs", lambda y: probs(y)[:, :1], "shape"),
    "probs log": ("probs", logp, "log probabilities"),
    # log-softmax
    "logp overflow": ("logp", lambda y: y - np.log(np.exp(y).sum(axis=0)), "overflows"),
    "logp of probs": ("logp", lambda y: np.log(probs(y)), "log(0) = -inf"),
    "logp rows": ("logp", rows_logp, "along the rows"),
    "logp no log": ("logp", probs, "these are the probabilities"),
    "logp sign": ("logp", lambda y: -logp(y), "sign"),
    "logp whole matrix": ("logp", lambda y: y - np.log(np.exp(y).sum()), "whole matrix"),
    # the Jacobian and the backward pass
    "jacobian no diagonal": ("softmax_jacobian", lambda p: -np.outer(p, p), "diagonal term"),
    "jacobian no product": ("softmax_jacobian", np.diag, "-p_i p_j is missing"),
    "jacobian sign": ("softmax_jacobian", lambda p: np.outer(p, p) - np.diag(p), "sign"),
    "jacobian diagonal only": ("softmax_jacobian", lambda p: np.diag(p * (1 - p)),
                               "only the diagonal"),
    "backward one path": ("softmax_backward", lambda p, dp: p * dp, "direct path"),
    "backward rows": ("softmax_backward", lambda p, dp: p * (
        dp - (dp * p).sum(axis=1, keepdims=True)), "along the rows"),
    "backward unweighted": ("softmax_backward", lambda p, dp: p * (dp - dp.sum(axis=0)),
                            "not weighted by p_i"),
    "backward no diagonal": ("softmax_backward", lambda p, dp: -p * (dp * p).sum(axis=0),
                             "diagonal term"),
    "backward sign": ("softmax_backward", lambda p, dp: p * ((dp * p).sum(axis=0) - dp), "sign"),
    # one-hot targets
    "onehot transposed": ("onehot", lambda labels, c: np.eye(c, dtype=np.float32)[labels],
                          "transposed"),
    "onehot labels-1": ("onehot", lambda labels, c: np.eye(c, dtype=np.float32)[:, labels - 1],
                        OFF_BY_ONE),
    "onehot float64": ("onehot", lambda labels, c: np.eye(c)[:, labels], "float64 where float32"),
    "onehot too few rows": ("onehot", lambda labels, c: np.eye(
        labels.max() + 1, dtype=np.float32)[:, labels], "nclasses rows"),
    # the loss
    "softloss sum": ("softloss", lambda ygold, ypred: -np.sum(ygold * logp(ypred)),
                     "divide by N"),
    "softloss sign": ("softloss", lambda ygold, ypred: np.sum(ygold * logp(ypred))
                      / ygold.shape[1], "log likelihood"),
    "softloss np.mean": ("softloss", lambda ygold, ypred: -np.mean(ygold * logp(ypred)),
                         "C x N"),
    "softloss overflow": ("softloss", lambda ygold, ypred: -np.sum(
        ygold * (ypred - np.log(np.exp(ypred).sum(axis=0)))) / ygold.shape[1], "overflows"),
    "softloss log of probs": ("softloss", lambda ygold, ypred: -np.sum(
        ygold * np.log(probs(ypred))) / ygold.shape[1], "log(0) = -inf"),
    "softloss rows": ("softloss", lambda ygold, ypred: -np.sum(ygold * rows_logp(ypred))
                      / ygold.shape[1], "along the rows"),
    "softloss one-hot only": ("softloss", lambda ygold, ypred: -np.mean(
        logp(ypred)[np.argmax(ygold, axis=0), np.arange(ygold.shape[1])]), "one-hot targets only"),
    "softloss swapped": ("softloss", lambda ygold, ypred: -np.sum(ypred * logp(ygold))
                         / ygold.shape[1], "swapped"),
    "softloss scores": ("softloss", lambda ygold, ypred: -np.sum(ygold * ypred) / ygold.shape[1],
                        "not normalised"),
    "softloss no log": ("softloss", lambda ygold, ypred: -np.sum(ygold * probs(ypred))
                        / ygold.shape[1], "log is missing"),
    # its gradient
    "grad sign": ("softloss_grad", lambda ygold, ypred: (ygold - probs(ypred)) / ygold.shape[1],
                  "sign is flipped"),
    "grad sum": ("softloss_grad", lambda ygold, ypred: probs(ypred) - ygold, "N times too large"),
    "grad np.mean": ("softloss_grad", lambda ygold, ypred: (probs(ypred) - ygold) / ygold.size,
                     "divided by C x N"),
    "grad overflow": ("softloss_grad", lambda ygold, ypred: (
        np.exp(ypred) / np.exp(ypred).sum(axis=0) - ygold) / ygold.shape[1], "overflows"),
    "grad through phat": ("softloss_grad", through_phat, "-p/phat divides by 0"),
    "grad rows": ("softloss_grad", lambda ygold, ypred: (probs(ypred.T).T - ygold)
                  / ygold.shape[1], "along the rows"),
    "grad one-hot only": ("softloss_grad", lambda ygold, ypred: (
        probs(ypred) - np.eye(len(ygold), dtype=ygold.dtype)[:, np.argmax(ygold, axis=0)])
        / ygold.shape[1], "one-hot targets only"),
    "grad scores": ("softloss_grad", lambda ygold, ypred: (ypred - ygold) / ygold.shape[1],
                    "uses the scores"),
    # one layer's backward pass
    "dW transposed": ("predict_backward", lambda x, dy: [x @ dy.T, dy.sum(1, keepdims=True)],
                      "dW is transposed"),
    "db not summed": ("predict_backward", lambda x, dy: [dy @ x.T, dy], "not summed"),
    "db (C,)": ("predict_backward", lambda x, dy: [dy @ x.T, dy.sum(1)], "C x C"),
    "db mean": ("predict_backward", lambda x, dy: [dy @ x.T, dy.mean(1, keepdims=True)],
                "db is a mean"),
    "db rows": ("predict_backward", lambda x, dy: [dy @ x.T, dy.sum(0)], "over the classes"),
    "dW mean": ("predict_backward", lambda x, dy: [dy @ x.T / x.shape[1],
                                                   dy.sum(1, keepdims=True)], "dW is divided by N"),
    "backward layer sign": ("predict_backward", lambda x, dy: [-dy @ x.T,
                                                               -dy.sum(1, keepdims=True)], "sign"),
    "backward not a list": ("predict_backward", lambda x, dy: dy @ x.T, "a list of 2 arrays"),
    # the notes' model
    "softmax no bias": ("softmax", lambda w, x, ygold: -np.sum(ygold * logp(w[0] @ x))
                        / x.shape[1], "lack the bias"),
    "softmax twice": ("softmax", lambda w, x, ygold: -np.sum(ygold * logp(probs(scores(w, x))))
                      / x.shape[1], "applied twice"),
    "softmax sign": ("softmax", lambda w, x, ygold: np.sum(ygold * logp(scores(w, x)))
                     / x.shape[1], "log likelihood"),
    "softmax sum": ("softmax", lambda w, x, ygold: -np.sum(ygold * logp(scores(w, x))),
                    "divide by N"),
    # the SGD epoch
    "train climbs": ("train", train_with(climb), "climbs"),
    "train one batch": ("train", only_first_batch, "`return` inside the loop"),
    "train rebinds w": ("train", rebinds, "w is unchanged"),
    "train summed gradient": ("train", summed_gradient_train, "N times too long"),
    "train last batch": ("train", last_batch_only, "only the last batch"),
    # the border between two classes
    "border swapped": ("border", lambda w, i, j: (w[0][j] - w[0][i], w[1][j, 0] - w[1][i, 0]),
                       "swapped"),
    "border no offset": ("border", lambda w, i, j: (w[0][i] - w[0][j], 0.0), "offset is missing"),
    "border offset sign": ("border", lambda w, i, j: (w[0][i] - w[0][j], w[1][j] - w[1][i]),
                           "offset's sign"),
    "border columns": ("border", lambda w, i, j: (w[0][:, i] - w[0][:, j], w[1][i] - w[1][j]),
                       "columns of W"),
    "border Julia's classes": ("border", lambda w, i, j: (w[0][i - 1] - w[0][j - 1],
                                                          w[1][i - 1] - w[1][j - 1]), OFF_BY_ONE),
    # relu's backward pass
    "relu'(0) = 1": ("relu_backward", lambda h, dh: dh * (h >= 0), "[h >= 0]"),
    "relu mask only": ("relu_backward", lambda h, dh: (h > 0).astype(dh.dtype), "alone"),
    "relu mask from dh": ("relu_backward", lambda h, dh: np.maximum(dh, 0), "comes from dh"),
    "relu times h": ("relu_backward", lambda h, dh: h * dh, "multiplied by h"),
    "relu sign": ("relu_backward", lambda h, dh: -dh * (h > 0), "sign"),
    # dropout
    "dropout unscaled": ("dropout", lambda x, p, rng: x * (rng.random(x.shape) > p),
                         "not scaled"),
    "dropout keeps with p": ("dropout", lambda x, p, rng: x * (rng.random(x.shape) < p) / p,
                             "probability of dropping"),
    "dropout one mask": ("dropout", seeded_dropout, "same entries"),
    "dropout ignores rng": ("dropout", global_dropout, "different masks"),
    "dropout in place": ("dropout", inplace_dropout, "in place"),
    "dropout float64": ("dropout", lambda x, p, rng: x * ((rng.random(x.shape) > p) / (1 - p)),
                        "a float64 mask converts"),
    # the penalties
    "penalty on b": ("penalty", penalty_with(arrays=lambda w: w), "b's are penalised"),
    "penalty half L2": ("penalty", penalty_with(square=lambda W: (W * W).sum() / 2), "1/2"),
    "penalty norm": ("penalty", penalty_with(square=lambda W: np.linalg.norm(W)), "not the norm"),
    "penalty no abs": ("penalty", penalty_with(absolute=lambda W: W), "absolute values"),
    "penalty first W": ("penalty", penalty_with(arrays=lambda w: w[:1]), "only the first W"),
    "penalty last W": ("penalty", penalty_with(arrays=lambda w: w[-2:-1]), "only the last W"),
    "penalty swapped": ("penalty", lambda w, l1, l2: penalty_with()(w, l2, l1), "swapped"),
    "penalty_grad swapped": ("penalty_grad", lambda W, l1, l2: l2 * np.sign(W) + 2 * l1 * W,
                             "swapped"),
    "penalty_grad no 2": ("penalty_grad", lambda W, l1, l2: l1 * np.sign(W) + l2 * W, "2 l2 W"),
    "penalty_grad L1 as W": ("penalty_grad", lambda W, l1, l2: l1 * W + 2 * l2 * W, "sign(W)"),
    "penalty_grad sign(0)": ("penalty_grad", lambda W, l1, l2: l1 * np.where(W >= 0, 1.0, -1.0)
                             .astype(W.dtype) + 2 * l2 * W, "np.sign(0)"),
    "penalty_grad sign": ("penalty_grad", lambda W, l1, l2: -l1 * np.sign(W) - 2 * l2 * W,
                          "sign"),
    # not an answer at all
    "not written": ("softloss", raises(NotImplementedError), "not written yet"),
    "raises": ("probs", raises(ValueError("bad things")), "raised ValueError: bad things"),
    "returns None": ("softloss_grad", lambda ygold, ypred: None, "returned None"),
    "returns an array for a number": ("softloss", lambda ygold, ypred: ygold, "one number"),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_answer_fails_and_its_mistake_is_named(case):
    name, fn, phrase = WRONG[case]
    feedback = check(name, fn, verbose=False)
    assert not feedback.passed, feedback.message
    assert phrase in feedback.message, feedback.message
    assert feedback.message.startswith(name)
    if "raised" not in phrase:      # (the line quoted from the student's code could match)
        assert " raised " not in feedback.message, feedback.message
    assert "Traceback" not in feedback.message and len(feedback.message) < 400


# --- right answers in other styles -------------------------------------------------------

def loop_probs(y):
    out = np.empty_like(y)
    for n in range(y.shape[1]):
        e = np.exp(y[:, n] - max(y[:, n]))
        out[:, n] = e / sum(e)
    return out


def logsumexp_logp(y):
    m = np.max(y, axis=0)
    return y - (m + np.log(np.sum(np.exp(y - m), axis=0)))


def einsum_softloss(ygold, ypred):
    return -np.einsum("cn,cn->", ygold, logp(ypred)) / ygold.shape[1]


def loop_softloss(ygold, ypred):
    total = 0.0
    for n in range(ygold.shape[1]):
        y = ypred[:, n]
        m = y.max()
        total -= np.dot(ygold[:, n], y - m - np.log(np.exp(y - m).sum()))
    return total / ygold.shape[1]


def loop_jacobian(p):
    C = len(p)
    return np.array([[(p[i] if i == j else 0) - p[i] * p[j] for j in range(C)]
                     for i in range(C)], dtype=p.dtype)


def jacobian_backward(p, dp):
    J = np.einsum("ic,ij->ijc", p, np.eye(len(p), dtype=p.dtype)) - np.einsum("ic,jc->ijc", p, p)
    return np.einsum("ijc,ic->jc", J, dp)


def einsum_layer(x, dy):
    return [np.einsum("cn,dn->cd", dy, x), dy.sum(axis=1)[:, None]]


def loop_zeroone(w, x, labels):
    wrong = 0
    for n in range(x.shape[1]):
        wrong += int(np.argmax(w[0] @ x[:, n] + w[1][:, 0]) != labels[n])
    return wrong / x.shape[1]


def notes_train(w, data, lr):
    for x, ygold in data:
        g = gradient(w, x, ygold)
        for i in range(len(w)):
            w[i] -= lr * g[i]


RIGHT = {
    "zeroone": loop_zeroone,
    "probs": loop_probs,
    "logp": logsumexp_logp,
    "softmax_jacobian": loop_jacobian,
    "softmax_backward": jacobian_backward,
    "onehot": lambda labels, c: np.eye(c, dtype=np.float32)[:, labels],
    "softloss": einsum_softloss,
    "softloss_grad": lambda ygold, ypred: (np.exp(logp(ypred)) - ygold) / ygold.shape[1],
    "predict_backward": einsum_layer,
    "softmax": lambda w, x, ygold: einsum_softloss(ygold, w[0] @ x + w[1]),
    "train": notes_train,
    "border": lambda w, i, j: (2 * (w[0][i] - w[0][j]), 2 * (w[1][i] - w[1][j])),
    "relu_backward": lambda h, dh: np.where(h > 0, dh, 0),
    "dropout": lambda x, p, rng: x * (rng.random(x.shape) >= p) / (1 - p) if p else x,
    "penalty": lambda w, l1, l2: sum(l1 * np.abs(W).sum() + l2 * np.sum(W ** 2) for W in w[::2]),
    "penalty_grad": lambda W, l1, l2: l1 * np.sign(W) + 2 * l2 * W,
}
RIGHT_TOO = [("softloss", loop_softloss), ("probs", probs), ("logp", logp),
             ("train", train_with(lambda w, i, update: w.__setitem__(i, w[i] - update)))]


@pytest.mark.parametrize("name, fn", list(RIGHT.items()) + RIGHT_TOO)
def test_a_right_answer_in_another_style_passes(name, fn):
    feedback = check(name, fn, verbose=False)
    assert feedback.passed, feedback.message


def test_every_mistake_of_every_table_is_named_for_some_wrong_answer_here():
    from knetlike.exercises.notes import BORDER_MISTAKES
    named = {}
    for name, fn, _ in WRONG.values():
        named.setdefault(name, set()).add(check(name, fn, verbose=False).message)
    for name, exercise in kl.exercises.EXERCISES.items():
        messages = {m.message for m in exercise.mistakes}
        if name == "border":
            messages = {message for message, _ in BORDER_MISTAKES}
        for message in messages:
            assert any(message in said for said in named[name]), (name, message)


def test_every_exercise_has_a_right_answer_here_and_the_library_passes_its_own_checks():
    assert set(RIGHT) == set(kl.exercises.names())
    for name in kl.exercises.names():
        assert check(name, getattr(kl, name, None) or kl.exercises.EXERCISES[name].answer,
                     verbose=False).passed, name


# --- how feedback reads ------------------------------------------------------------------

def test_check_prints_its_message_and_returns_it(capsys):
    feedback = check("softloss", raises(NotImplementedError))
    printed = capsys.readouterr().out
    assert printed.strip() == feedback.message == repr(feedback)
    assert feedback.passed is False and not feedback
    assert check("probs", probs, verbose=False).passed


def test_an_unknown_exercise_or_a_non_function_is_named_not_raised():
    assert "no exercise named 'softmx'" in check("softmx", probs, verbose=False).message
    assert "your function itself" in check("probs", None, verbose=False).message


def test_an_exception_names_its_case_and_the_line_of_the_students_code():
    def probs(y):
        s = np.exp(y).sum(axis=1)
        return np.exp(y) / s                    # (C, N) / (C,): shapes do not broadcast
    message = check("probs", probs, verbose=False).message
    assert message.startswith("probs raised ValueError: operands could not be broadcast")
    assert "on 3 x 4 float64 scores" in message
    assert "`return np.exp(y) / s`" in message


def test_a_label_off_by_one_that_indexes_past_the_end_is_described_in_one_line():
    def onehot(labels, c):
        y = np.zeros((c, len(labels)), dtype=np.float32)
        y[labels + 1, np.arange(len(labels))] = 1
        return y
    message = check("onehot", onehot, verbose=False).message
    assert message.startswith("onehot raised IndexError") and "\n" not in message


def test_softloss_with_autograd_numpy_passes_and_so_trains():
    import autograd.numpy as anp

    def softloss(ygold, ypred):
        ynorm = ypred - anp.max(ypred, axis=0)
        ynorm = ynorm - anp.log(anp.sum(anp.exp(ynorm), axis=0))
        return -anp.sum(ygold * ynorm) / ygold.shape[1]
    assert check("softloss", softloss, verbose=False).passed


def test_a_function_that_calls_one_not_written_yet_names_that_one():
    def softloss_grad(ygold, ypred):
        raise NotImplementedError

    def train(w, data, lr):
        for x, ygold in data:
            dy = softloss_grad(ygold, w[0] @ x + w[1])
            g = [dy @ x.T, dy.sum(axis=1, keepdims=True)]
            for i in range(len(w)):
                w[i] -= lr * g[i]
    message = check("train", train, verbose=False).message
    assert message == ("train calls softloss_grad, which is not written yet (it raises "
                       "NotImplementedError): write softloss_grad first.")


def test_a_notebook_cell_shows_the_message_once(capsys):
    feedback = check("probs", probs)
    feedback._ipython_display_()          # the cell's result, right after check printed it
    assert capsys.readouterr().out == feedback.message + "\n"
    feedback._ipython_display_()          # shown again later, on its own
    assert capsys.readouterr().out == feedback.message + "\n"


def test_the_readme_example_prints_what_the_readme_says(capsys):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("\n## Exercises\n")[1].split("\n## ")[0]
    code = section.split("```python\n")[1].split("```")[0]
    exec(compile(code, "readme_example.py", "exec"), {})
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("softloss, on ") and f"\n    {printed}\n" in section
