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

from .checks import check_whole


def weights(*hidden: int, classes: int = 10, inputs: int = 784, winit: float = 0.1,
            dtype=np.float32, rng: np.random.Generator | None = None) -> list:
    """``[W1, b1, ..., WL, bL]`` for layers of sizes ``inputs -> *hidden -> classes``.

    Each W is ``winit * randn(out, in)``, each b is ``zeros(out, 1)``, drawn from ``rng``
    layer by layer (seed it for a reproducible start). ``weights()`` is the lecture's
    softmax model ``[W, b]`` (C x D and C x 1); ``weights(64)`` has one hidden layer.
    """
    sizes = [check_whole(inputs, "inputs")]
    sizes += [check_whole(h, f"hidden size {k + 1}") for k, h in enumerate(hidden)]
    sizes.append(check_whole(classes, "classes"))
    if isinstance(winit, bool) or not isinstance(winit, (int, float, np.number)) \
            or not np.isfinite(winit) or winit < 0:
        raise ValueError(f"winit (the standard deviation of W) must be a finite number >= 0, "
                         f"got {winit!r}")
    rng = np.random.default_rng() if rng is None else rng
    w = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        w.append((winit * rng.standard_normal((n_out, n_in))).astype(dtype))
        w.append(np.zeros((n_out, 1), dtype))
    return w
