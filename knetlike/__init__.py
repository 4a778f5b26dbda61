"""knetlike: Knet.jl's softmax classification lecture, in Python on autograd.

A flat API in Knet's style (``import knetlike as kl``; ``kl.softmax``, ``kl.grad``, ...).
Where each concept of the lecture lives:

* ``softmax.py``      the model and its loss: predict, logp, probs, softloss, softmax;
                      mnist.jl's any-depth model: relu, predict, loss
* ``weights.py``      mnist.jl's weights(hidden...): the initial parameters
* ``derivatives.py``  the hand derivations: Jacobian, backward pass, p - phat, [dW, db]
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
from .derivatives import (analytic_gradient, layer_primitive, loss_primitive, penalty_grad,
                          penalty_primitive, predict_backward, predict_primitive, relu_backward,
                          softloss_grad, softloss_primitive, softmax_backward, softmax_jacobian)
from .gradcheck import GradCheck, gradcheck
from .minibatch import minibatch
from .machinery import Interrupted, one_blas_thread
from .softmax import dropout, logp, loss, penalty, predict, probs, relu, softloss, softmax
from .targets import accuracy, onehot, zeroone
from .history import Epoch, load_history, save_history
from .measuring import Diverged, evaluate
from .train import fit, train, train_gradient
from .weights import weights

#: The notes' ``softmax_gradient = grad(softmax)``: ``[dW, db]`` through the plain formula.
softmax_gradient = grad(softmax)

__version__ = "0.1.0"

__all__ = [
    # the model and its loss
    "predict", "logp", "probs", "softloss", "softmax", "grad", "softmax_gradient",
    # Knet's mnist.jl: the model at any depth
    "weights", "relu", "loss",
    # the companion notebook: penalties and dropout
    "penalty", "dropout", "penalty_grad", "penalty_primitive",
    # the derivations, and the same declared to autograd
    "softmax_jacobian", "softmax_backward", "softloss_grad", "predict_backward",
    "analytic_gradient", "relu_backward", "softloss_primitive", "layer_primitive",
    "predict_primitive", "loss_primitive",
    "gradcheck", "GradCheck",
    # targets, batches, training
    "onehot", "zeroone", "accuracy", "minibatch", "train", "train_gradient", "evaluate",
    "fit", "Diverged", "Interrupted", "one_blas_thread", "Epoch", "save_history", "load_history",
    # data
    "mnist", "fashion_mnist",
]
