"""Time one epoch of the lecture's training, implementation after implementation.

The same training everywhere: MNIST's 60000 training images in file order, 600 minibatches
of 100 (``kl.minibatch``, float32, column-major so each batch is one contiguous block),
W ~ Normal(0, 0.001^2) from a fixed seed, b = 0, lr = 0.15, plain SGD. Each path trains
one warm-up epoch from the initial weights (its weights are checked against the default
path's); then the paths are timed side by side, ``--epochs`` rounds of one epoch per path,
each from the same initial weights, so a slow moment of the machine hits every path
alike. The median wall time is reported with its ratio to the hand-written numpy loop
(the floor) timed in the same rounds: the package's paths run first, then the peers in
rounds of their own beside the numpy loop again.

Paths (``--paths`` selects a comma list; ``numpy`` always runs, it is the denominator):
  numpy              hand-written numpy loop, p - y gradient in place, one BLAS thread
  default            kl.train(w, data, lr): the package's default gradient, two primitives
  softloss           the same with the loss traced op by op: grad of the plain kl.softloss
                     on kl.predict_primitive's scores (what the loss primitive buys)
  softmax_gradient   kl.train(..., gradient=kl.softmax_gradient): autograd through the
                     whole plain formula, w[0] * x .+ w[1] included
  analytic_gradient  kl.train(..., gradient=kl.analytic_gradient): no tracing
  torch              PyTorch eager, F.cross_entropy + autograd, manual SGD (if installed)
  torch-compile      torch.compile of one functional step (opt-in: compiling takes ~20 s)
  jax-jit            JAX, one jitted step per batch (if installed)
  jax-scan           JAX, the whole epoch in one jitted lax.scan (if installed)
PyTorch and JAX are optional extras, not dependencies: missing ones are skipped with a note.
They run with one thread (torch.set_num_threads(1); for JAX, unless XLA_FLAGS is already
set: XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" and
JAX_PLATFORMS=cpu before jax is imported).

Also: the time of ``kl.evaluate`` on all 70,000 images, the peak memory of the process,
and with ``--load`` the numpy and default paths again while another process spins on one
core (and evaluate). Timings are printed, never asserted. A path whose weights after its
warm-up epoch differ from the default path's by more than 1e-5 is flagged, and the exit
status is 1: its time would not be the time of the same training.

    python scripts/bench.py                    # table, 9 timed epochs per path
    python scripts/bench.py --epochs 25 --load # steadier medians; and under load
    python scripts/bench.py --json --paths numpy,default,jax-scan
    python scripts/bench.py --synthetic        # no MNIST files needed
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import knetlike as kl

SEED = 1
BATCHSIZE = 100
LR = 0.15
SAME = 1e-5        # every path's weights after one epoch must equal the default path's to this
JAX_ENV = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
           "JAX_PLATFORMS": "cpu"}


class Unavailable(Exception):
    """A path that cannot run here (an optional peer is not installed)."""


# ----------------------------------------------------------------------------- the problem

@dataclass
class Problem:
    """Everything a path trains on: the batches, the initial weights, the learning rate."""

    source: str                 # "MNIST" or "synthetic"
    batches: list               # [(x D x B float32 F-order view, ygold C x B one-hot)]
    labels: list                # [labels (B,) int64] of the same batches
    W0: np.ndarray              # C x D float32
    b0: np.ndarray              # C x 1 float32
    lr: float
    full: dict = field(default_factory=dict)   # "train"/"test": (x, labels) for evaluate


def synthetic(seed: int = SEED, ntrain: int = 60000, ntest: int = 10000):
    """A seeded MNIST-shaped set: 784 x N float32 in [0, 1], F-order, labels 0..9.

    About 19% of the pixels are non-zero (as in MNIST) and the labels come from a random
    linear teacher, so the problem is learnable and SGD on it is as tame as on MNIST (on
    pure noise with random labels, float32 rounding differences grow from step to step and
    the weight comparison would measure chaos, not bugs). Step timings do not depend on the
    pixel values.
    """
    rng = np.random.default_rng(seed)
    n = ntrain + ntest
    x = rng.random((n, 784), dtype=np.float32).T          # 784 x n, F-order, no copy
    x[x < 0.81] = 0.0
    teacher = rng.standard_normal((10, 784)).astype(np.float32)
    y = np.concatenate([np.argmax(teacher @ x[:, i:i + 10000], axis=0)
                        for i in range(0, n, 10000)]).astype(np.int64)
    return x[:, :ntrain], y[:ntrain], x[:, ntrain:], y[ntrain:]


def load_data(root: str | None, use_synthetic: bool):
    """``(source, xtrn, ytrn, xtst, ytst)``: MNIST if it loads (no download), else synthetic."""
    if not use_synthetic:
        try:
            from knetlike.data import mnist
            return ("MNIST",) + tuple(mnist(root, download=False))
        except Exception as err:   # noqa: BLE001 - any failure means: fall back, say why
            print(f"note: MNIST not loaded ({type(err).__name__}: {str(err).splitlines()[0]}); "
                  f"using the seeded synthetic MNIST-shaped set (timings do not depend on "
                  f"pixel values; fetch the data with `python -m knetlike.data fetch mnist`)",
                  file=sys.stderr)
    return ("synthetic",) + synthetic()


def make_problem(root: str | None = None, use_synthetic: bool = False) -> Problem:
    source, xtrn, ytrn, xtst, ytst = load_data(root, use_synthetic)
    xtrn = np.asfortranarray(xtrn, dtype=np.float32)
    batches = kl.minibatch(xtrn, kl.onehot(ytrn, 10), BATCHSIZE)
    labels = [yb for _, yb in kl.minibatch(xtrn, np.asarray(ytrn, np.int64), BATCHSIZE)]
    rng = np.random.default_rng(SEED)
    W0 = (0.001 * rng.standard_normal((10, xtrn.shape[0]))).astype(np.float32)
    b0 = np.zeros((10, 1), np.float32)
    return Problem(source, batches, labels, W0, b0, LR,
                   {"train": (xtrn, ytrn), "test": (np.asfortranarray(xtst, np.float32), ytst)})


# ------------------------------------------------------------------------ the implementations
# Each maker takes the Problem and returns ``epoch(W, b) -> (W, b)``: one epoch of SGD from
# the numpy weights W (C x D) and b (C x 1), returning numpy weights. Setup (conversions,
# compilation that can happen ahead) is done in the maker, outside the timing.

def numpy_loop(p: Problem) -> Callable:
    """The floor: a hand-written numpy loop with the notes' gradient ``(p - y) / N``.

    Knet's layout, as the package (scores C x N), every elementwise step in place, and the
    scale lr / N folded into the score gradient once, so that dW and db come from one
    scaled C x N matrix and each update is one subtraction. One BLAS thread (see
    DESIGN.md). Measured here, this is the fastest of the plain numpy loops tried: the
    N x C layout (scores x^T W^T) was 4-6% slower, its reductions running along rows of 10.
    """
    k = p.lr / BATCHSIZE

    def epoch(W, b):
        with threadpool_limits(limits=1, user_api="blas"):
            for x, y in p.batches:
                s = W @ x                               # scores, C x N
                s += b
                s -= s.max(axis=0)                      # stable softmax, column by column
                np.exp(s, out=s)
                s /= s.sum(axis=0)                      # p
                s -= y                                  # p - y
                s *= k                                  # lr * dJ/dscores
                W -= s @ x.T                            # W -= lr * (p - y) x^T / N
                b -= s.sum(axis=1, keepdims=True)       # b -= lr * sum_n (p - y) / N
        return W, b
    return epoch


def _kl_train(gradient) -> Callable:
    """A maker for ``kl.train`` with ``gradient`` (None: the call without it, the default)."""
    def maker(p: Problem) -> Callable:
        def epoch(W, b):
            w = [W, b]
            kl.train(w, p.batches, p.lr, gradient=gradient)
            return w[0], w[1]
        return epoch
    return maker


def composed_softloss(w: list, x, ygold):
    """The default model with the plain, composed ``kl.softloss``: autograd traces the loss
    operation by operation (log, exp, sum, ...) instead of taking ``p - phat`` as its
    derivative; the scores still come from the primitive ``kl.predict_primitive``. Set
    against the default path it isolates what declaring the loss a primitive buys; against
    ``softmax_gradient`` (everything traced), what the primitive ``predict`` buys."""
    return kl.softloss(ygold, kl.predict_primitive(w, x))


def _torch():
    try:
        import torch
    except ImportError as err:
        raise Unavailable(f"torch not installed ({err})") from None
    torch.set_num_threads(1)
    return torch


def torch_eager(p: Problem) -> Callable:
    """PyTorch eager: F.cross_entropy on N x C scores, loss.backward(), SGD under no_grad."""
    torch = _torch()
    import torch.nn.functional as F
    # x^T of an F-order batch is C-contiguous: from_numpy shares the memory, no copy.
    data = [(torch.from_numpy(x.T), torch.from_numpy(y)) for (x, _), y in zip(p.batches, p.labels)]
    lr = p.lr

    def epoch(W, b):
        Wt = torch.from_numpy(W).requires_grad_()          # C x D
        bt = torch.from_numpy(b.reshape(-1)).requires_grad_()
        for x, y in data:
            loss = F.cross_entropy(F.linear(x, Wt, bt), y)  # x W^T + b: N x C scores
            loss.backward()
            with torch.no_grad():
                Wt -= lr * Wt.grad
                bt -= lr * bt.grad
            Wt.grad = bt.grad = None
        return Wt.detach().numpy(), bt.detach().numpy().reshape(-1, 1)
    return epoch


def torch_compile(p: Problem) -> Callable:
    """torch.compile of one functional step (torch.func.grad, inductor); compiled on warm-up."""
    torch = _torch()
    import torch.nn.functional as F
    data = [(torch.from_numpy(x.T), torch.from_numpy(y)) for (x, _), y in zip(p.batches, p.labels)]
    lr = p.lr

    def loss(params, x, y):
        return F.cross_entropy(F.linear(x, params[0], params[1]), y)
    g = torch.func.grad(loss)

    @torch.compile(dynamic=False)
    def step(W, b, x, y):
        gW, gb = g((W, b), x, y)
        return W - lr * gW, b - lr * gb

    def epoch(W, b):
        Wt, bt = torch.from_numpy(W), torch.from_numpy(b.reshape(-1))
        for x, y in data:
            Wt, bt = step(Wt, bt, x, y)
        return Wt.numpy(), bt.numpy().reshape(-1, 1)
    return epoch


def _jax():
    if "jax" not in sys.modules:
        for key, value in JAX_ENV.items():
            os.environ.setdefault(key, value)
    try:
        import jax
    except ImportError as err:
        raise Unavailable(f"jax not installed ({err})") from None
    return jax


def _jax_step(jax, lr):
    """One SGD step in the Knet layout (C x N scores), gradient by jax.grad."""
    jnp = jax.numpy

    def loss(W, b, x, y):
        return -jnp.sum(y * jax.nn.log_softmax(W @ x + b, axis=0)) / x.shape[1]

    def step(W, b, x, y):
        gW, gb = jax.grad(loss, argnums=(0, 1))(W, b, x, y)
        return W - lr * gW, b - lr * gb
    return step


def jax_jit(p: Problem) -> Callable:
    """JAX: one jitted step per batch, batches already on the device."""
    jax = _jax()
    step = jax.jit(_jax_step(jax, p.lr))
    data = [(jax.device_put(x), jax.device_put(y)) for x, y in p.batches]

    def epoch(W, b):
        W, b = jax.device_put(W), jax.device_put(b)
        for x, y in data:
            W, b = step(W, b, x, y)
        return np.asarray(W), np.asarray(b)                 # waits for the result
    return epoch


def jax_scan(p: Problem) -> Callable:
    """JAX: the whole epoch in one jitted ``lax.scan`` over the batches stacked in one array."""
    jax = _jax()
    step = _jax_step(jax, p.lr)
    X = jax.device_put(np.stack([x for x, _ in p.batches]))  # nbatches x D x B
    Y = jax.device_put(np.stack([y for _, y in p.batches]))  # nbatches x C x B

    @jax.jit
    def run(W, b, X, Y):
        def body(wb, xy):
            return step(*wb, *xy), None
        return jax.lax.scan(body, (W, b), (X, Y))[0]

    def epoch(W, b):
        W, b = run(jax.device_put(W), jax.device_put(b), X, Y)
        return np.asarray(W), np.asarray(b)
    return epoch


# name: (maker, description, runs by default)
PATHS = {
    "numpy": (numpy_loop, "numpy loop, p - y gradient, 1 BLAS thread (the floor)", True),
    "default": (_kl_train(None), "kl.train(w, data, lr), default gradient", True),
    "softloss": (_kl_train(kl.grad(composed_softloss)),
                 "kl.train(..., gradient=grad(softloss on predict_primitive)) (plain softloss)",
                 True),
    "softmax_gradient": (_kl_train(kl.softmax_gradient),
                         "kl.train(..., gradient=kl.softmax_gradient) (all of it plain)", True),
    "analytic_gradient": (_kl_train(kl.analytic_gradient),
                          "kl.train(..., gradient=kl.analytic_gradient) (no tracing)", True),
    "torch": (torch_eager, "PyTorch eager, F.cross_entropy, 1 thread", True),
    "torch-compile": (torch_compile, "torch.compile of the step, 1 thread", False),
    "jax-jit": (jax_jit, "JAX jit of one step, per-batch loop", True),
    "jax-scan": (jax_scan, "JAX jit of the whole epoch (lax.scan)", True),
}
NOT_DEFAULT_NOTE = {"torch-compile": "compiling takes ~5-20 s here (warm/cold cache); "
                                     "select it with --paths"}


# ------------------------------------------------------------------------------ measuring

def prepare(name: str, p: Problem, reference=None) -> tuple[dict, Callable | None]:
    """Set a path up and run its warm-up epoch (checked against ``reference``)."""
    maker, description, _ = PATHS[name]
    result = {"path": name, "description": description, "times_s": []}
    try:
        t = time.perf_counter()
        epoch = maker(p)
        result["setup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        W1, b1 = epoch(p.W0.copy(), p.b0.copy())
        result["warmup_s"] = time.perf_counter() - t
    except Unavailable as err:
        result["skipped"] = str(err)
        return result, None
    except Exception as err:  # noqa: BLE001 - an optional peer that breaks is reported, not fatal
        result["skipped"] = f"failed: {type(err).__name__}: {err}"
        return result, None
    result["weights"] = (np.asarray(W1, np.float32), np.asarray(b1, np.float32).reshape(-1, 1))
    if reference is not None:
        result["max_abs_diff_vs_default"] = diff = max_diff(result["weights"], reference)
        result["same_weights"] = diff <= SAME
    return result, epoch


def run_paths(names: list, p: Problem, epochs: int, reference=None, log=lambda msg: None) -> list:
    """Warm every path up, then time them side by side: ``epochs`` rounds, one epoch of
    each path per round (each from the initial weights), so that a slow moment of the
    machine hits all paths alike instead of one. Medians per path."""
    prepared = []
    for name in names:
        log(f"setting up {name} ...")
        prepared.append(prepare(name, p, reference))
    for k in range(epochs):
        log(f"round {k + 1} of {epochs} ...")
        for result, epoch in prepared:
            if epoch is not None:
                W, b = p.W0.copy(), p.b0.copy()
                t = time.perf_counter()
                epoch(W, b)
                result["times_s"].append(time.perf_counter() - t)
    results = [result for result, _ in prepared]
    for r in results:
        if r["times_s"]:
            r["median_s"] = statistics.median(r["times_s"])
    return results


def with_ratios(group: list) -> list:
    """Each path's median over the median of the numpy loop timed in the same rounds."""
    floor = next(r for r in group if r["path"] == "numpy")["median_s"]
    for r in group:
        if "median_s" in r:
            r["ratio_to_numpy"] = r["median_s"] / floor
    return group


def max_diff(a, b) -> float:
    """The largest absolute difference between two ``(W, b)`` pairs."""
    return float(max(np.max(np.abs(a[0] - b[0])), np.max(np.abs(a[1] - b[1]))))


def time_evaluate(p: Problem, w: list, repeats: int = 5) -> dict:
    """Median time of ``kl.evaluate`` on the training and the test set together."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = [kl.evaluate(w, *p.full["train"]), kl.evaluate(w, *p.full["test"])]
        times.append(time.perf_counter() - t)
    (trn_nll, trn_err), (tst_nll, tst_err) = out
    n = sum(x.shape[1] for x, _ in p.full.values())
    return {"median_s": statistics.median(times), "times_s": times, "images": n,
            "train_nll": trn_nll, "train_error": trn_err,
            "test_nll": tst_nll, "test_error": tst_err}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _spin(seconds: float, started) -> None:
    """A busy loop on one core, for at most ``seconds`` (the parent terminates it sooner)."""
    started.set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def run_loaded(names: list, p: Problem, epochs: int, unloaded: dict, reference,
               evaluation: dict | None = None, limit_s: float = 900.0) -> dict:
    """The paths ``names`` (``numpy`` among them: the ratios divide by it) and ``evaluate``
    again while a child process spins on one core."""
    ctx = multiprocessing.get_context("spawn")     # no fork of a process with BLAS/XLA threads
    started = ctx.Event()
    spinner = ctx.Process(target=_spin, args=(limit_s, started), daemon=True)
    spinner.start()
    out = {}
    try:
        started.wait(30)
        for r in with_ratios(run_paths(names, p, epochs, reference)):
            if "median_s" in r and "median_s" in unloaded.get(r["path"], {}):
                r["loaded_over_unloaded"] = r["median_s"] / unloaded[r["path"]]["median_s"]
            out[r["path"]] = r
        if evaluation is not None:
            r = time_evaluate(p, [reference[0].copy(), reference[1].copy()])
            r["loaded_over_unloaded"] = r["median_s"] / evaluation["median_s"]
            out["evaluate"] = r
    finally:
        spinner.terminate()
        spinner.join(10)
    return out


def machine_info() -> dict:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(), "cpus_usable": affinity,
            "numpy": np.__version__, "autograd": _dist_version("autograd"),
            "knetlike": kl.__version__, "torch": _dist_version("torch"),
            "jax": _dist_version("jax"), "jaxlib": _dist_version("jaxlib"),
            "blas": [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                     for i in threadpool_info()]}


def _dist_version(name: str):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------ reporting

def print_table(report: dict) -> None:
    info, results = report["machine"], report["results"]
    print(f"knetlike benchmark: {report['data']} ({report['batches']} batches of {BATCHSIZE}, "
          f"float32, lr {LR}), median of {report['epochs']} timed epochs after 1 warm-up; "
          f"{info['cpu_count']} cpus, numpy {info['numpy']}, autograd {info['autograd']}, "
          f"torch {info['torch']}, jax {info['jax']}")
    print(f"{'ratio':>7} {'s/epoch':>8} {'|dW| vs default':>16}  path")
    for r in results:
        if "median_s" in r:
            ratio = r.get("ratio_to_numpy")
            diff = r.get("max_abs_diff_vs_default")
            flag = "" if r.get("same_weights", True) else f"  <- NOT the same weights (> {SAME})"
            print(f"{ratio:7.2f} {r['median_s']:8.4f} {diff:16.1e}  {r['path']}: {r['description']}"
                  + flag)
        else:
            print(f"{'-':>7} {'-':>8} {'-':>16}  {r['path']}: skipped, {r['skipped']}")
    for name, note in report["not_selected"].items():
        print(f"{'':>7} {'':>8} {'':>16}  {name}: not run, {note}")
    ev = report["evaluate"]
    print(f"evaluate (NLL and error on {ev['images']} images): {ev['median_s']:.4f} s "
          f"(median of {len(ev['times_s'])})")
    peers = any(r["path"].startswith(("torch", "jax")) for r in results)
    before = f" (before the torch/jax paths: {report['peak_rss_mb_package']:.0f} MB)"
    print(f"peak memory: {report['peak_rss_mb']:.0f} MB" + (before if peers else ""))
    if report.get("loaded"):
        print("under load (a child process spinning on one core):")
        print(f"{'loaded/unloaded':>16} {'s/epoch':>8}  path")
        for name, r in report["loaded"].items():
            if name == "evaluate":
                print(f"{r['loaded_over_unloaded']:16.2f} {r['median_s']:8.4f}  evaluate "
                      f"(s per evaluation of all {r['images']} images)")
            elif "median_s" in r:
                slower = r.get("loaded_over_unloaded", float("nan"))
                print(f"{slower:16.2f} {r['median_s']:8.4f}  {name}  (ratio to numpy under "
                      f"load: {r.get('ratio_to_numpy', float('nan')):.2f})")
            else:
                print(f"{'-':>16} {'-':>8}  {name}: skipped, {r['skipped']}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=9,
                        help="timed epochs per path (default 9; more give steadier medians)")
    parser.add_argument("--paths", default=None,
                        help="comma list of paths to run (default: all but the opt-in ones); "
                             "numpy always runs, it is the floor every ratio divides by")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="directory with the MNIST IDX files (default: the usual places, "
                             "no download)")
    parser.add_argument("--synthetic", action="store_true",
                        help="use a seeded synthetic MNIST-shaped set instead of MNIST")
    parser.add_argument("--load", action="store_true",
                        help="also time numpy, default and evaluate while another process "
                             "spins on one core")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object with all figures")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    args.paths_given = args.paths is not None
    if args.paths is None:
        args.paths = [n for n, (_, _, default) in PATHS.items() if default]
    else:
        args.paths = [n.strip() for n in args.paths.split(",") if n.strip()]
        unknown = [n for n in args.paths if n not in PATHS]
        if unknown:
            parser.error(f"unknown path(s) {', '.join(unknown)}; choose from {', '.join(PATHS)}")
    if "numpy" not in args.paths:
        args.paths.insert(0, "numpy")
    args.paths = [n for n in PATHS if n in args.paths]     # in the listed order
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    p = make_problem(args.data, args.synthetic)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else \
        (lambda msg: print(msg, file=sys.stderr, flush=True) if sys.stderr.isatty() else None)

    # The reference weights: the default path after one epoch from the initial weights.
    w = [p.W0.copy(), p.b0.copy()]
    kl.train(w, p.batches, p.lr)
    reference = (w[0].copy(), w[1].copy())

    # The package's own paths first, so the peak memory before torch/jax is known; then the
    # peers, with the numpy loop timed again beside them for their ratios.
    own = [n for n in args.paths if not n.startswith(("torch", "jax"))]
    peers = [n for n in args.paths if n.startswith(("torch", "jax"))]
    results = with_ratios(run_paths(own, p, args.epochs, reference, log))
    peak_package = peak_rss_mb()
    if peers:
        group = with_ratios(run_paths(["numpy"] + peers, p, args.epochs, reference, log))
        group[0].update(path="numpy-again", description="the numpy loop again, in the peers' "
                        "rounds: their ratios divide by this one")
        results += group

    evaluation = time_evaluate(p, [reference[0].copy(), reference[1].copy()])

    loaded = None
    if args.load:
        names = [n for n in ("numpy", "default") if n in args.paths]
        log(f"running {', '.join(names)} under load ...")
        loaded = run_loaded(names, p, args.epochs, {r["path"]: r for r in results}, reference,
                            evaluation)

    for r in results + list((loaded or {}).values()):
        r.pop("weights", None)
    report = {
        "data": f"{p.source}, {sum(x.shape[1] for x, _ in p.batches)} training images",
        "source": p.source, "batches": len(p.batches), "batchsize": BATCHSIZE, "lr": LR,
        "epochs": args.epochs, "results": results,
        "not_selected": {n: NOT_DEFAULT_NOTE.get(n, "select it with --paths")
                         for n in PATHS if n not in args.paths and n in NOT_DEFAULT_NOTE
                         and not args.paths_given},
        "evaluate": evaluation, "peak_rss_mb": peak_rss_mb(), "peak_rss_mb_package": peak_package,
        "loaded": loaded,
        "settings": {"blas_threads_per_step": 1, "torch_num_threads": 1,
                     "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
                     "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS")},
        "machine": machine_info(),
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_table(report)
    differ = [r["path"] for r in results if r.get("same_weights") is False]
    if differ:
        print(f"bench.py: {', '.join(differ)} trained to other weights than the default path "
              f"(more than {SAME} apart after one epoch): their times are not comparable",
              file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
