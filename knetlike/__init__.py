"""knetlike: Knet.jl's softmax classification lecture, in Python on autograd.

A flat API in Knet's style (``import knetlike as kl``; ``kl.softmax``, ``kl.grad``, ...).
Where each concept of the lecture lives:

* ``softmax.py``      the notes' formulas: logp, probs, softloss, softmax (plain)
* ``derivatives.py``  the hand derivations: Jacobian, backward pass, p - phat, [dW, db]
* ``model.py``        the one model: mnist.jl's predict and loss at any depth, from
                      primitives declared beside their derivatives (layer, relu, nll);
                      the companion notebook's penalty and dropout; backprop by hand
* ``weights.py``      mnist.jl's weights(hidden...): the initial parameters
* ``gradcheck.py``    autograd against finite differences
* ``targets.py``      one-hot targets, the zero-one loss
* ``minibatch.py``    Knet-style minibatches
* ``train.py``        one epoch of SGD, the epoch loop
* ``measuring.py``    evaluation after an epoch, and the record fit keeps of it
* ``machinery.py``    BLAS threads and stop signals, out of the loop's way
* ``history.py``      the per-epoch record and its CSV file
* ``reference/``      the notes' own numbers, and how far a run is from them
* ``plots.py``        the figures: curves, images, weights
* ``boundaries.py``   representational power in 2-D: straight borders of softmax and of
                      stacked linear layers (collapse), bent ones of a relu network
* ``data/``           MNIST and Fashion-MNIST: fetched, verified, cached, loaded
"""
from autograd import grad

from .data import fashion_mnist, mnist
from .derivatives import (penalty_grad, predict_backward, relu_backward, softloss_grad,
                          softmax_backward, softmax_jacobian)
from .gradcheck import GradCheck, gradcheck
from .minibatch import minibatch
from .machinery import Interrupted, one_blas_thread
from .model import analytic_gradient, dropout, layer, loss, nll, penalty, predict, relu
from .softmax import logp, probs, softloss, softmax
from .targets import accuracy, onehot, zeroone
from .history import Epoch, load_history, save_history
from .measuring import Diverged, evaluate
from .train import fit, train, train_gradient
from .weights import weights
from . import exercises

#: The notes' ``softmax_gradient = grad(softmax)``: ``[dW, db]`` through the plain formula.
softmax_gradient = grad(softmax)
# named, and with softmax's signature, so that errors name it and train sees what it takes
softmax_gradient.__name__, softmax_gradient.__wrapped__ = "softmax_gradient", softmax

__version__ = "0.1.0"

__all__ = [
    # the model and its loss
    "predict", "logp", "probs", "softloss", "softmax", "grad", "softmax_gradient",
    # Knet's mnist.jl: the model at any depth
    "weights", "relu", "loss",
    # the companion notebook: penalties and dropout
    "penalty", "dropout", "penalty_grad",
    # the derivations, the model's primitives they are the backward passes of, backprop by hand
    "softmax_jacobian", "softmax_backward", "softloss_grad", "predict_backward",
    "relu_backward", "layer", "nll", "analytic_gradient",
    "gradcheck", "GradCheck",
    # targets, batches, training
    "onehot", "zeroone", "accuracy", "minibatch", "train", "train_gradient", "evaluate",
    "fit", "Diverged", "Interrupted", "one_blas_thread", "Epoch", "save_history", "load_history",
    # data
    "mnist", "fashion_mnist",
    # the lecture as exercises: kl.exercises.check(name, fn)
    "exercises",
]
