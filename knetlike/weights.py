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
"""
from __future__ import annotations

import numpy as np

from .checks import check_memory, check_rng, check_whole


def weights(*hidden: int, classes: int = 10, inputs: int = 784, winit: float = 0.1,
            dtype=np.float32, rng: np.random.Generator | None = None) -> list:
    """``[W1, b1, ..., WL, bL]`` for layers of sizes ``inputs -> *hidden -> classes``.

    Each W is ``winit * randn(out, in)``, each b is ``zeros(out, 1)``, drawn from ``rng``
    layer by layer (a seed or a Generator; seed it for a reproducible start). ``weights()``
    is the lecture's softmax model ``[W, b]`` (C x D and C x 1); ``weights(64)`` has one
    hidden layer. Sizes whose arrays would not fit in memory are refused before anything
    is allocated.
    """
    sizes = layer_sizes(hidden, classes, inputs)
    if isinstance(winit, bool) or not isinstance(winit, (int, float, np.number)) \
            or not np.isfinite(winit) or winit < 0:
        raise ValueError(f"winit (the standard deviation of W) must be a finite number >= 0, "
                         f"got {winit!r}")
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a float type (np.float32 or np.float64), got "
                         f"{np.dtype(dtype)}: integer weights cannot take SGD's small steps")
    check_memory(weights_nbytes(*hidden, classes=classes, inputs=inputs, dtype=dtype),
                 f"weights({', '.join(map(str, hidden))}) with {inputs} inputs and "
                 f"{classes} classes")
    rng = check_rng(rng)
    w = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w.append((winit * rng.standard_normal((n_out, n_in))).astype(dtype))
        w.append(np.zeros((n_out, 1), dtype))
    return w


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
