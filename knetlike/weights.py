"""The initial parameters: Knet's mnist.jl ``weights(h...; winit=0.1)``.

In Julia (examples/mnist.jl)::

    function weights(h...; atype=Array{Float32}, winit=0.1)
        w = Any[]
        x = 28*28
        for y in [h..., 10]
            push!(w, convert(atype, winit*randn(y,x)))
            push!(w, convert(atype, zeros(y, 1)))
            x = y
        end
        return w

Knet's tutorial ``40.mlp.ipynb`` (v1.2-v1.4) builds its layers with ``param(o, i)``, whose
default is Knet's ``xavier``: each W uniform in ``[-s, s]`` with
``s = sqrt(2 / (fanin + fanout))``, b = 0. ``init="xavier"`` draws that.
"""
from __future__ import annotations

import math

import numpy as np

from .checks import check_memory, check_number, check_rng, check_whole


INITS = ("gaussian", "xavier")
WINIT = 0.1                       # mnist.jl's default standard deviation


def weights(*hidden: int, classes: int = 10, inputs: int = 784, winit: float | None = None,
            init: str = "gaussian", dtype=np.float32,
            rng: np.random.Generator | None = None) -> list:
    """``[W1, b1, ..., WL, bL]`` for layers of sizes ``inputs -> *hidden -> classes``.

    ``init="gaussian"`` (mnist.jl's): each W is ``winit * randn(out, in)``, ``winit``
    defaulting to 0.1. ``init="xavier"`` (Knet's ``xavier``, the default of its tutorial
    40.mlp): each W uniform in ``[-s, s]``, ``s = sqrt(2 / (in + out))``, a scale that
    comes from the layer's sizes, so a ``winit`` given with it is refused rather than
    ignored. Each b is ``zeros(out, 1)``. The W's are drawn from ``rng`` layer by layer (a
    seed or a Generator; seed it for a reproducible start). ``weights()`` is the lecture's
    softmax model ``[W, b]`` (C x D and C x 1); ``weights(100)`` has one hidden layer. Sizes
    whose arrays would not fit in memory are refused before anything is allocated.
    """
    sizes = layer_sizes(hidden, classes, inputs)
    winit = check_init(init, winit)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a float type (np.float32 or np.float64), got "
                         f"{np.dtype(dtype)}: integer weights cannot take SGD's small steps")
    check_memory(weights_nbytes(*hidden, classes=classes, inputs=inputs, dtype=dtype),
                 f"weights({', '.join(map(str, hidden))}) with {inputs} inputs and "
                 f"{classes} classes")
    rng = check_rng(rng)
    w = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        if init == "gaussian":
            W = winit * rng.standard_normal((n_out, n_in))
        else:                                               # Knet: 2s * rand(out, in) - s
            s = math.sqrt(2 / (n_in + n_out))
            W = rng.uniform(-s, s, (n_out, n_in))
        w.append(W.astype(dtype))
        w.append(np.zeros((n_out, 1), dtype))
    return w


def check_init(init: str, winit: float | None) -> float:
    """The Gaussian's standard deviation (``WINIT`` when None; 0 for ``xavier``, which does
    not use one), after refusing an unknown ``init``, a bad ``winit``, or a ``winit`` given
    with ``xavier``."""
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}, got {init!r}")
    if init == "xavier":
        if winit is not None:
            raise ValueError(f"winit={winit!r} given with init='xavier', whose scale "
                             f"sqrt(2 / (in + out)) comes from each layer's sizes: leave winit "
                             f"out, or use init='gaussian'")
        return 0.0
    if winit is None:
        return WINIT
    return check_number(winit, "winit (the standard deviation of W)")


def layer_sizes(hidden, classes, inputs) -> list[int]:
    """``[inputs, *hidden, classes]``, each checked to be a whole number >= 1."""
    sizes = [check_whole(inputs, "inputs")]
    sizes += [check_whole(h, f"hidden size {k + 1}") for k, h in enumerate(hidden)]
    sizes.append(check_whole(classes, "classes"))
    return sizes


def weights_nbytes(*hidden: int, classes: int = 10, inputs: int = 784,
                   dtype=np.float32) -> int:
    """The bytes that ``weights(*hidden, ...)`` would allocate, in exact integers:
    ``(in + 1) * out`` entries per layer, times the size of ``dtype``."""
    sizes = layer_sizes(hidden, classes, inputs)
    entries = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    return entries * np.dtype(dtype).itemsize


def save_weights(path, w: list, epoch: int, hidden) -> None:
    """Every array of ``w`` as an .npz file, atomically, with the epoch they belong to and
    the hidden sizes. The arrays are named as errors name them (``checks.layer_names``),
    without spaces: ``W, b`` for the lecture's model, ``W1, b1, W2, b2, ...`` deeper."""
    from .checks import layer_names
    from .files import atomic_path
    names = [layer_names(w, k).replace(" of layer ", "") for k in range(len(w))]
    with atomic_path(path) as temp:
        np.savez(temp, **dict(zip(names, w)), epoch=epoch,
                 hidden=np.array(list(hidden), dtype=np.int64))
