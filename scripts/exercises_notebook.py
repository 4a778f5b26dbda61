"""Write docs/exercises.ipynb: the lecture's notes in order, one exercise per step.

    .venv/bin/python scripts/exercises_notebook.py           # write the notebook
    .venv/bin/python scripts/exercises_notebook.py --check   # exit 1 if it is not current

The notebook is committed without outputs, every exercise left as ``raise
NotImplementedError``; edit the cells below, not the notebook, and run this script.
tests/lecture/test_exercises_notebook.py holds the committed file to what this script writes and
executes it, as it is and with the library's answers filled in.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from knetlike.files import atomic_write
from knetlike.run import run_script

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "exercises.ipynb"
TODO = "    raise NotImplementedError  # your code here"


def exercise(name: str, args: str, doc: str) -> list:
    """An exercise: the function to write, its body left to the student, then its check."""
    lines = textwrap.wrap(f'"""{doc}"""', width=88, initial_indent="    ",
                          subsequent_indent="    ")
    return [("code", f"def {name}({args}):\n" + "\n".join(lines) + f"\n{TODO}"),
            ("code", f'check("{name}", {name})')]


CELLS = [
    ("markdown", """# Softmax classification, as exercises

The notes of Knet.jl's lecture on softmax classification, step by step: at each step you write
one function and run the cell after it, which checks your function on its own cases (small and
MNIST-sized, float64 and float32, one-hot and probabilistic targets, scores near ±1e4) and
tells you whether it is right, and if not, which classic mistake it looks like. At the end your
own functions train the softmax classifier on MNIST and draw the notes' curves.

Conventions (Knet's): one column per instance. `x` is D x N, scores `y` and targets are C x N,
the model is a list `w = [W, b]` with `W` C x D and `b` C x 1; labels are 0..C-1 (digit d is
label d). Use numpy; loops are fine at first, the checks only look at the results.

The solutions are the library's own functions: `kl.probs`, `kl.softloss`, ... (`kl.probs??`
shows one's code). Try first."""),
    ("code", """import numpy as np
import knetlike as kl
from knetlike.exercises import check"""),

    ("markdown", """## The zero-one loss

The number of misclassified examples, as a fraction, is the zero-one loss: what we care about,
but no use for training, since it is flat or jumps as the parameters move. The model's scores
are `W x + b`; its prediction for a column is the class with the highest score."""),
    *exercise("zeroone", "w, x, labels",
              "The fraction of the columns of x whose highest score in W x + b is not their "
              "label; w = [W, b], x is D x N, labels are N integers in 0..C-1."),

    ("markdown", """## The softmax function

From C scores `y` to probabilities: $p_i = \\exp y_i / \\sum_c \\exp y_c$, for each column.
Large scores are the trap: `exp(1e4)` is `inf` in floating point. Shifting a column by any
constant leaves its softmax unchanged."""),
    *exercise("probs", "y", "The softmax of each column of the C x N scores y: C x N "
              "probabilities, each column summing to 1."),

    ("markdown", """## The backward pass of the softmax

$\\partial p_i / \\partial y_j = [i=j]\\, p_i - p_i p_j$, where $[i=j]$ is 1 when $i = j$ and 0
otherwise. First the C x C Jacobian of one probability vector:"""),
    *exercise("softmax_jacobian", "p",
              "The C x C matrix J[i, j] = dp_i/dy_j of the softmax at one probability "
              "vector p (shape (C,))."),
    ("markdown", """A score $y_j$ reaches the objective $J$ through every $p_i$ (it is in each
denominator), so the paths add up: $\\partial J/\\partial y_j = \\sum_i \\partial J/\\partial p_i
\\; \\partial p_i/\\partial y_j$. For a whole C x N batch, column by column:"""),
    *exercise("softmax_backward", "p, dp",
              "dJ/dy from dJ/dp through the softmax, for C x N arrays p (probabilities) and dp "
              "(dJ/dp), column by column."),

    ("markdown", """## One-hot vectors

The correct class $c$ as a vector with a 1 in row $c$ and 0 elsewhere: a probability vector
with all its mass on $c$. Targets may also be any probability vectors (probabilistic
targets). The lecture's arrays are float32."""),
    *exercise("onehot", "labels, nclasses",
              "C x N float32 targets, C = nclasses: column n is 1 in row labels[n] and 0 "
              "elsewhere."),

    ("markdown", """## The loss: negative log likelihood

With targets $p$ (one-hot or probabilistic) and predictions $\\hat p$, the log likelihood of
one instance is $\\ell = \\sum_c p_c \\log \\hat p_c$. The loss is its negative, averaged over the
N instances: the NLL, or cross-entropy. First the log of the softmax, which must stay finite
where the softmax itself underflows to 0:"""),
    *exercise("logp", "y",
              "log(probs(y)) for C x N scores y, computed so that it is finite for any finite "
              "scores."),
    ("markdown", """The notes' Julia:

```julia
function softloss(ygold, ypred)
    ynorm = ypred .- log(sum(exp(ypred),1))
    -sum(ygold .* ynorm) / size(ygold,2)
```"""),
    *exercise("softloss", "ygold, ypred",
              "The mean NLL of C x N scores ypred against C x N targets ygold (columns that "
              "sum to 1): one number."),

    ("markdown", """## The gradient of the loss

With the normalisation made explicit, the gradient of $\\ell$ with respect to the scores is
$p - \\hat p$; the NLL is $-\\ell$ averaged over N columns. Going through $\\partial
\\ell/\\partial \\hat p = p/\\hat p - 1$ instead divides by probabilities that can underflow to 0:
compute the gradient with respect to the scores directly."""),
    *exercise("softloss_grad", "ygold, ypred",
              "The gradient of softloss(ygold, ypred) with respect to ypred: C x N."),

    ("markdown", """## From the scores to the weights

The scores are `y = W x + b` (b is added to every column). Given `dy`, the gradient of the
loss with respect to `y`, find the gradients with respect to `W` and `b`: same shapes as `W`
and `b`."""),
    *exercise("predict_backward", "x, dy",
              "[dW, db] for the layer y = W x + b, from x (D x N) and dy = dJ/dy (C x N)."),
    ("markdown", """## The softmax classifier

The notes' model in Julia, `w = [W, b]`: the scores of a linear model, then their loss.

```julia
function softmax(w,x,ygold)
    ypred = w[1] * x .+ w[2]
    return softloss(ygold, ypred)
```

(Julia counts from 1: its `w[1]` is `w[0]` here.)"""),
    *exercise("softmax", "w, x, ygold",
              "The mean NLL of the linear model w = [W, b] on the columns of x (D x N) "
              "against targets ygold (C x N), with your softloss: one number."),
    ("markdown", """Its gradient: your two backward passes, chained. The same numbers as the
notes' `softmax_gradient = grad(softmax)` (here `kl.softmax_gradient`):"""),
    ("code", """def gradient(w, x, ygold):
    \"\"\"[dW, db] of the mean NLL of the scores W x + b: your softloss_grad, then your
    predict_backward.\"\"\"
    return predict_backward(x, softloss_grad(ygold, w[0] @ x + w[1]))"""),

    ("markdown", """## Training: one epoch of SGD

The notes' loop over the minibatches, `dtrn` a list of `(x, y)` pairs:

```julia
for (x,y) in dtrn
    g = softmax_gradient(w, x, y)
    for i in 1:length(w)
        w[i] -= lr * g[i]
```

Write one epoch, with `gradient` above; it updates the list `w` in place."""),
    *exercise("train", "w, data, lr",
              "One epoch of SGD over data, a list of (x, ygold) batches: one step w[i] -= lr * "
              "g[i] per batch, g = gradient(w, x, ygold). Updates w in place."),

    ("markdown", """## Representational power

The border between classes i and j is where their scores tie: $(w_i - w_j)\\, x + (b_i - b_j)
= 0$, with $w_i, b_i$ the i'th rows of W and b: a straight line (a hyperplane), whatever the
weights. Return it as `(normal, offset)`, oriented so that class i is on the side where
`normal @ x + offset > 0`. (Any positive multiple describes the same line and passes.)"""),
    *exercise("border", "w, i, j",
              "The border between classes i and j of the model w = [W, b]: (normal, offset), "
              "a vector of D numbers and a number."),

    ("markdown", """## Beyond the notes: relu, dropout and penalties

Knet's `examples/mnist.jl` puts layers with a relu between them, `h = max(z, 0)`, and the
lecture's companion notebook adds dropout and L1/L2 penalties. Back through a relu, from
`dh = dJ/dh` to `dJ/dz`, given its output `h` (Knet takes the derivative at exactly 0 to be 0):"""),
    *exercise("relu_backward", "h, dh",
              "dJ/dz for h = relu(z), from h and dh = dJ/dh (arrays of one shape)."),
    ("markdown", """Dropout zeroes each entry of `x` with probability `p` and divides the kept
ones by `1 - p`, so that every entry keeps its expected value; `p = 0` returns `x`. Draw the
random numbers from `rng`, a numpy `Generator` (`rng.random(shape)`)."""),
    *exercise("dropout", "x, p, rng", "x with each entry zeroed with probability p, and the "
              "others divided by (1 - p), the random numbers drawn from rng."),
    ("markdown", """The companion notebook's penalty, over a model `w = [W1, b1, W2, b2, ...]`:
$l_1 \\sum |W| + l_2 \\sum W^2$, summed over every layer's W (never the b's)."""),
    *exercise("penalty", "w, l1, l2",
              "l1 * sum|W| + l2 * sum W^2 over the W's of w = [W1, b1, ...]: one number."),
    *exercise("penalty_grad", "W, l1, l2",
              "The gradient of l1 * sum|W| + l2 * sum W^2 with respect to one W (take the "
              "derivative of |W| at 0 to be 0)."),

    ("markdown", """## MNIST, with your functions

The notes' experiment on your own functions: the reference run behind the notes' figure (W ~
0.001 randn, b = 0, float32, minibatches of 100 in the file's order, lr = 0.15), for
`EPOCHS` epochs, printing the loss and the error on the training and test sets after each.
It runs once every function it needs passes its check. (MNIST is fetched and cached on first
use: 11 MB.)"""),
    ("code", """EPOCHS = 5
needed = {"onehot": onehot, "softloss": softloss, "softmax": softmax, "zeroone": zeroone,
          "softloss_grad": softloss_grad, "predict_backward": predict_backward, "train": train}
waiting = [name for name, fn in needed.items() if not check(name, fn, verbose=False).passed]
history = []
if waiting:
    print(f"Skipped: training on MNIST needs your {', '.join(waiting)} to pass their checks.")
else:
    xtrn, ytrn, xtst, ytst = kl.mnist()
    rng = np.random.default_rng(0)
    w = [0.001 * rng.standard_normal((10, 784)).astype(np.float32),
         np.zeros((10, 1), dtype=np.float32)]
    gtrn, gtst = onehot(ytrn, 10), onehot(ytst, 10)
    dtrn = kl.minibatch(xtrn, gtrn, 100)
    for epoch in range(1, EPOCHS + 1):
        with kl.one_blas_thread():     # a small product per step: one BLAS thread is fastest
            train(w, dtrn, 0.15)
        history.append((epoch, float(softmax(w, xtrn, gtrn)), float(softmax(w, xtst, gtst)),
                        zeroone(w, xtrn, ytrn), zeroone(w, xtst, ytst)))
        print("epoch:%d softloss:%.6f/%.6f zeroone:%.6f/%.6f" % history[-1])"""),
    ("markdown", """Your curves over the notes' (the notes ran 100 epochs; change `EPOCHS` above to
run more, a second or less each):"""),
    ("code", """%matplotlib inline
import matplotlib.pyplot as plt
from knetlike.reference import knet_2016

# the notes' numbers, as rows like yours: (epoch, train NLL, test NLL, train error, test error)
notes = [(e.epoch, e.train_nll, e.test_nll, e.train_error, e.test_error) for e in knet_2016()]
if not history:
    print("Skipped: there is no run of yours to draw yet.")
else:
    shown = notes[:max(len(history), 10)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, title, k in [(axes[0], "negative log likelihood", 1),
                         (axes[1], "misclassification error", 3)]:
        for split, column, color in [("train", k, "C0"), ("test", k + 1, "C1")]:
            ax.plot([row[0] for row in shown], [row[column] for row in shown], lw=1,
                    color=color, label=f"notes, {split}")
            ax.plot([row[0] for row in history], [row[column] for row in history], "o",
                    color=color, label=f"yours, {split}")
        ax.set(title=title, xlabel="epochs")
        ax.legend()
    plt.show()
    worst = max(abs(mine[k] - theirs[k]) for mine, theirs in zip(history, notes)
                for k in range(1, 5))
    print(f"the largest difference from the notes' numbers, over {len(history)} epochs:",
          f"{worst:.6f}")"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs, with stable cell ids."""
    cells = []
    for k, (kind, source) in enumerate(CELLS):
        make = new_code_cell if kind == "code" else new_markdown_cell
        cells.append(make(source, id=f"cell-{k:02d}"))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    return nb


def text(nb: nbformat.NotebookNode) -> str:
    """The notebook as the file's text."""
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare: exit 1 if docs/exercises.ipynb is not current")
    args = parser.parse_args(argv)
    wanted = text(build())
    if args.check:
        current = NOTEBOOK.exists() and NOTEBOOK.read_text() == wanted
        print(f"{NOTEBOOK.name} is {'current' if current else 'stale: run this script'}")
        return 0 if current else 1
    atomic_write(NOTEBOOK, wanted)
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script("exercises_notebook.py", main))
