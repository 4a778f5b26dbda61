"""Time one epoch of the lecture's training, path by path, beside a hand-written numpy loop.

The same training everywhere: MNIST's 60000 training images in file order, 600 batches of
100 (float32, column-major), plain SGD with lr 0.15 from W ~ Normal(0, 0.001^2), b = 0
(seed 1), for two models: the lecture's softmax classifier [W, b] and a 784-64-10 relu MLP.
After one warm-up epoch each, the paths are timed side by side, --epochs rounds of one
epoch per path from the initial weights, so that a slow moment of the machine hits all
alike. Each path's ratio is its median over the median of its model's numpy loop in the
same rounds. The per-step products run on one BLAS thread, PyTorch and JAX on one thread.

Every path must end its first epoch within 1e-5 of the default path's weights, else it is
flagged and the exit status is 1: its time would not be that of the same training. The MLP
paths are checked on that epoch run in float64: in float32, a relu input within rounding
of 0 can be on for one path and off for another, and the weights drift apart from there.

  numpy, default, softmax_gradient, analytic_gradient        the softmax classifier
  torch, jax-jit, jax-scan                                   peers, skipped if not installed
  mlp-numpy, mlp-default, mlp-grad_loss, mlp-analytic_gradient   the MLP

    python scripts/bench.py --epochs 15                 # the README's table
    python scripts/bench.py --synthetic --batches 20    # a quick run without MNIST
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from importlib import metadata

import numpy as np

import knetlike as kl
from knetlike.data import MNIST, DataError
from knetlike.machinery import one_blas_thread

SEED, BATCHSIZE, LR, WINIT = 1, 100, 0.15, 0.001
HIDDEN = {"softmax": (), "mlp": (64,)}
FLOOR = {"softmax": "numpy", "mlp": "mlp-numpy"}
SAME = 1e-5               # how far from the default path's weights after one epoch
JAX_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
           "JAX_PLATFORMS": "cpu"}


def synthetic(n: int):
    """An MNIST-shaped set: D x n float32 in [0, 1], about 19% of pixels non-zero, labels
    from a random linear teacher (learnable, so SGD on it is as tame as on MNIST)."""
    rng = np.random.default_rng(SEED)
    x = rng.random((n, MNIST.ninputs), dtype=np.float32).T
    x[x < 0.81] = 0.0
    teacher = rng.standard_normal((MNIST.nclasses, MNIST.ninputs)).astype(np.float32)
    return x, np.argmax(teacher @ x, axis=0)


def load(data: str | None, use_synthetic: bool, n: int):
    """``(source, x, labels)``: MNIST's first ``n`` training images, or the synthetic set if
    asked for, or if MNIST is not here and no place was named (DataError if one was)."""
    if not use_synthetic:
        try:
            x, y, _, _ = kl.mnist(data, download=False)
            return "MNIST", x[:, :n], y[:n]
        except DataError as err:
            if data is not None or os.environ.get("KNETLIKE_DATA"):
                raise
            print(f"bench.py: MNIST not found, timing on a synthetic MNIST-shaped set instead "
                  f"({str(err).splitlines()[0]})", file=sys.stderr)
    return "synthetic", *synthetic(n)


def in_float64(batches):
    """The batches converted to float64 one at a time, as they are used (once)."""
    return ((x.astype(np.float64), y.astype(np.float64)) for x, y in batches)


# Each maker takes the batches and returns ``epoch(w) -> w``, one epoch of SGD from the
# list of numpy arrays ``w``; setup (conversion, compilation) happens in the maker.

def lr_dscores(s, y):
    """Scores ``s`` (C x N) become ``lr (p - y) / N``, the notes' p - y times lr / N, in place."""
    s -= s.max(axis=0)
    np.exp(s, out=s)
    s /= s.sum(axis=0)
    s -= y
    s *= LR / s.shape[1]


def numpy_softmax(batches):
    """The floor: every step in place, lr / N folded into p - y, so each update is one pass."""
    def epoch(w):
        W, b = w
        for x, y in batches:
            s = W @ x
            s += b
            lr_dscores(s, y)
            W -= s @ x.T
            b -= s.sum(axis=1, keepdims=True)
        return w
    return epoch


def numpy_mlp(batches):
    """The MLP floor: the same, and backprop by hand through W2 and the relu."""
    def epoch(w):
        W1, b1, W2, b2 = w
        for x, y in batches:
            h = W1 @ x
            h += b1
            np.maximum(h, 0, out=h)
            s = W2 @ h
            s += b2
            lr_dscores(s, y)
            dh = W2.T @ s
            dh *= (h > 0)
            W2 -= s @ h.T
            b2 -= s.sum(axis=1, keepdims=True)
            W1 -= dh @ x.T
            b1 -= dh.sum(axis=1, keepdims=True)
        return w
    return epoch


def plain_loss(w, x, ygold):
    """mnist.jl's loss written with autograd.numpy only, no primitives of the package: what
    the model's primitives save is what ``grad`` of this costs more."""
    for i in range(0, len(w) - 2, 2):
        z = w[i] @ x + w[i + 1]
        x = z * (z > 0)                       # relu, with Knet's derivative 0 at 0
    return kl.softloss(ygold, w[-2] @ x + w[-1])


def with_train(gradient, **options):
    """A maker for ``kl.train`` with ``gradient`` (None: its default) and ``options``."""
    return lambda batches: lambda w: kl.train(w, batches, LR, gradient=gradient, **options)


# The companion notebook's options, timed on the default path beside the same path without
# them (a seed as rng: every epoch draws the same masks, so the weights can be compared).
OPTIONS = {"default-l2": dict(l2=4e-5),
           "mlp-default-dropout-l1": dict(pdrop=(0.2, 0), l1=4e-5, rng=SEED)}


def torch_eager(batches):
    """PyTorch eager: F.cross_entropy on N x C scores, backward(), SGD under no_grad."""
    import torch
    torch.set_num_threads(1)
    F = torch.nn.functional
    data = [(torch.from_numpy(x.T), torch.from_numpy(y.argmax(axis=0))) for x, y in batches]

    def epoch(w):
        W = torch.from_numpy(w[0]).requires_grad_()   # shares w's memory: trained in place
        b = torch.from_numpy(w[1].reshape(-1)).requires_grad_()
        for x, y in data:
            F.cross_entropy(F.linear(x, W, b), y).backward()
            with torch.no_grad():
                W -= LR * W.grad
                b -= LR * b.grad
            W.grad = b.grad = None
        return w
    return epoch


def jax_step():
    """JAX on one CPU thread, and one SGD step of the softmax model by jax.grad."""
    if "jax" not in sys.modules:
        for key, value in JAX_ENV.items():
            os.environ.setdefault(key, value)
    import jax

    def loss(W, b, x, y):
        return -jax.numpy.sum(y * jax.nn.log_softmax(W @ x + b, axis=0)) / x.shape[1]

    def step(w, xy):
        return [a - LR * g for a, g in zip(w, jax.grad(loss, argnums=(0, 1))(*w, *xy))]
    return jax, step


def jax_jit(batches):
    """JAX: one jitted step per batch, the batches already on the device."""
    jax, step = jax_step()
    step, data = jax.jit(step), jax.device_put(batches)

    def epoch(w):
        w = jax.device_put(w)
        for xy in data:
            w = step(w, xy)
        return [np.asarray(a) for a in w]           # waits for the result
    return epoch


def jax_scan(batches):
    """JAX: the whole epoch in one jitted ``lax.scan`` over the stacked batches."""
    jax, step = jax_step()
    data = jax.device_put([np.stack(a) for a in zip(*batches)])
    run = jax.jit(lambda w, data: jax.lax.scan(lambda w, xy: (step(w, xy), None), w, data)[0])
    return lambda w: [np.asarray(a) for a in run(jax.device_put(w), data)]


PATHS = {   # name: (model, maker, description)
    "numpy": ("softmax", numpy_softmax, "numpy loop, p - y in place (the floor)"),
    "default": ("softmax", with_train(None), "kl.train(w, data, lr), default gradient"),
    "softmax_gradient": ("softmax", with_train(kl.softmax_gradient), "grad of the plain formula"),
    "analytic_gradient": ("softmax", with_train(kl.analytic_gradient), "the gradient by hand"),
    "torch": ("softmax", torch_eager, "PyTorch eager, F.cross_entropy"),
    "jax-jit": ("softmax", jax_jit, "JAX, jit of one step"),
    "jax-scan": ("softmax", jax_scan, "JAX, jit of the whole epoch (lax.scan)"),
    "mlp-numpy": ("mlp", numpy_mlp, "numpy backprop loop in place (the MLP floor)"),
    "mlp-default": ("mlp", with_train(None), "kl.train(w, data, lr), default gradient"),
    "mlp-grad_loss": ("mlp", with_train(kl.grad(plain_loss)), "grad of the plain formula"),
    "mlp-analytic_gradient": ("mlp", with_train(kl.analytic_gradient), "the gradient by hand"),
    "default-l2": ("softmax", with_train(None, **OPTIONS["default-l2"]),
                   "default gradient with l2 = 4e-5"),
    "mlp-default-dropout-l1": ("mlp", with_train(None, **OPTIONS["mlp-default-dropout-l1"]),
                               "default gradient with pdrop = (0.2, 0), l1 = 4e-5"),
}


def copy(w: list, dtype=None) -> list:
    return [wi.astype(dtype or wi.dtype) for wi in w]


def prepare(names: list, batches: list, w0: dict) -> list:
    """Set each path up, run its warm-up epoch, and hold its weights against the default's
    (the MLP's on the same epoch in float64)."""
    references: dict = {}

    def reference(model: str, name: str) -> list:
        """The default path's weights after one epoch, with this path's options."""
        options = OPTIONS.get(name, {})
        key = (model, repr(options))
        if key not in references:
            references[key] = (kl.train(copy(w0[model]), batches, LR, **options)
                               if model == "softmax" else
                               kl.train(copy(w0[model], np.float64), in_float64(batches), LR,
                                        **options))
        return references[key]
    rows = []
    for name in names:
        model, maker, description = PATHS[name]
        row = {"path": name, "model": model, "description": description, "times_s": []}
        rows.append(row)
        try:
            row["epoch"] = maker(batches)
        except ImportError as err:           # an optional peer that is not installed
            row["skipped"] = f"not installed ({err})"
            continue
        trained = row["epoch"](copy(w0[model]))
        if model == "mlp":
            trained = maker(in_float64(batches))(copy(w0[model], np.float64))
        diff = max(float(np.max(np.abs(a - b)))
                   for a, b in zip(trained, reference(model, name)))
        row.update(max_abs_diff=diff, same_weights=diff <= SAME)
    return rows


def time_rounds(rows: list, w0: dict, rounds: int) -> list:
    """``rounds`` rounds of one epoch per path, each from the initial weights, in an order
    that rotates (no path always follows the same one); medians and ratios."""
    ready = [row for row in rows if "epoch" in row]
    for k in range(rounds):
        for row in ready[k % len(ready):] + ready[:k % len(ready)]:
            w = copy(w0[row["model"]])
            t = time.perf_counter()
            row["epoch"](w)
            row["times_s"].append(time.perf_counter() - t)
    for row in ready:
        row["median_s"] = statistics.median(row["times_s"])
    return with_ratios(rows)


def with_ratios(rows: list) -> list:
    """Each path's median over the median of its model's numpy loop, from the same rows."""
    floor = {row["model"]: row["median_s"] for row in rows if row["path"] == FLOOR[row["model"]]}
    default = {row["path"]: row["median_s"] for row in rows
               if row["path"] in ("default", "mlp-default") and "median_s" in row}
    for row in rows:
        if "median_s" in row:
            row["ratio"] = row["median_s"] / floor[row["model"]]
        plain = "mlp-default" if row["model"] == "mlp" else "default"
        if row["path"] in OPTIONS and plain in default and "median_s" in row:
            row["vs_default"] = row["median_s"] / default[plain]
    return rows


def print_table(report: dict) -> None:
    print(f"knetlike benchmark: {report['source']}, {report['batches']} batches of "
          f"{report['batchsize']}, "
          f"float32, lr {LR}; median of {report['epochs']} epochs per path after a warm-up")
    print(f"{'ratio':>6} {'s/epoch':>8} {'|w - default|':>13}  path")
    for row in report["results"]:
        if "skipped" in row:
            print(f"{'-':>6} {'-':>8} {'-':>13}  {row['path']}: skipped, {row['skipped']}")
        else:
            flag = "" if row["same_weights"] else f"  <- NOT the same weights (> {SAME})"
            if "vs_default" in row:
                flag += f"  ({row['vs_default']:.2f}x the same path without them)"
            print(f"{row['ratio']:6.2f} {row['median_s']:8.4f} {row['max_abs_diff']:13.1e}  "
                  f"{row['path']}: {row['description']}{flag}")
    if report["loaded"]:
        print(f"with another process spinning on one core:\n{'ratio':>6} {'s/epoch':>8} "
              f"{'/ unloaded':>13}  path")
        for row in report["loaded"]:
            print(f"{row['ratio']:6.2f} {row['median_s']:8.4f} {row['vs_unloaded']:13.2f}  "
                  f"{row['path']}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=9, help="timed epochs per path (9)")
    parser.add_argument("--paths", help="comma list of the paths to run (default: all)")
    parser.add_argument("--data", metavar="DIR", help="the directory holding MNIST (default: "
                        "$KNETLIKE_DATA, else the cache, else the synthetic set)")
    parser.add_argument("--synthetic", action="store_true", help="time on a synthetic "
                        "MNIST-shaped set (the timings do not depend on pixel values)")
    parser.add_argument("--batches", type=int, default=None,
                        help="batches per epoch (default: all of MNIST's 60000 images)")
    parser.add_argument("--batchsize", type=int, default=BATCHSIZE,
                        help=f"instances per batch ({BATCHSIZE}; try 10 and 1000)")
    parser.add_argument("--load", action="store_true", help="time the numpy loops and the "
                        "default paths again while another process spins on one core")
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    args = parser.parse_args(argv)
    if args.batchsize is not None and not 1 <= args.batchsize <= 60000:
        parser.error("--batchsize must be 1 to 60000")
    if args.batches is None:
        args.batches = 60000 // args.batchsize
    if args.epochs < 1 or not 1 <= args.batches <= 60000 // args.batchsize:
        parser.error(f"--epochs must be at least 1, and --batches 1 to {60000 // args.batchsize}")
    names = list(PATHS) if args.paths is None else [n.strip() for n in args.paths.split(",")]
    unknown = [n for n in names if n not in PATHS]
    if unknown:
        parser.error(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    names += [FLOOR[PATHS[n][0]] for n in names]
    names += ["mlp-default" if PATHS[n][0] == "mlp" else "default" for n in names if n in OPTIONS]
    args.paths = [n for n in PATHS if n in names]         # in the listed order, floors included
    return args


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        source, x, labels = load(args.data, args.synthetic, args.batchsize * args.batches)
    except DataError as err:
        named = f"--data {args.data}" if args.data is not None else "$KNETLIKE_DATA"
        print(f"bench.py: error: {named} does not hold MNIST: {err}", file=sys.stderr)
        return 2
    ygold = kl.onehot(labels, MNIST.nclasses)
    batches = kl.minibatch(np.asfortranarray(x, np.float32), ygold, args.batchsize)
    w0 = {m: kl.weights(*HIDDEN[m], winit=WINIT, rng=np.random.default_rng(SEED))
          for m in {PATHS[n][0] for n in args.paths}}
    loaded = []
    with one_blas_thread():
        rows = time_rounds(prepare(args.paths, batches, w0), w0, args.epochs)
        if args.load:
            loaded = [{**row, "times_s": []} for row in rows if "epoch" in row and
                      row["path"] in ("numpy", "default", "mlp-numpy", "mlp-default")]
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                time_rounds(loaded, w0, args.epochs)
            finally:
                spinner.kill()
                spinner.wait()
            for row in loaded:
                unloaded = next(r for r in rows if r["path"] == row["path"])
                row["vs_unloaded"] = row["median_s"] / unloaded["median_s"]
    for row in rows + loaded:
        row.pop("epoch", None)
    report = {"source": source, "batches": len(batches), "batchsize": args.batchsize,
              "epochs": args.epochs, "lr": LR,
              "results": rows, "loaded": loaded, "cpus": os.cpu_count(),
              "versions": {n: version(n) for n in ("numpy", "autograd", "torch", "jax")}}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_table(report)
    differ = [row["path"] for row in rows if row.get("same_weights") is False]
    if differ:
        print(f"bench.py: {', '.join(differ)} trained to other weights than the default path "
              f"(more than {SAME} apart after one epoch): their times are not comparable",
              file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
