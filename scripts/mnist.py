#!/usr/bin/env python
"""The lecture's MNIST experiment: the softmax classifier trained with grad(softmax).

    python scripts/mnist.py                  # the notes' run: 100 epochs, lr 0.15, batch 100
    python scripts/mnist.py --epochs 10 --dataset fashion --out runs/fashion

After every epoch it prints the training and test loss and error, as the notes do. It
writes history.csv, curves.png (our curves beside the notes'), images.png (the first 8
training images), weights.png and weights.npz (W as 10 images), and summary.txt into
the output directory. Ctrl-C, a learning rate that diverges, or a closed standard output
(``mnist.py | head``) stops the run and keeps what the finished epochs produced (``fit``
sets w back to the last finished epoch).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import knetlike as kl
from knetlike import plots
from knetlike.data import DataError
from knetlike.files import atomic_path, atomic_write
from knetlike.history import save_history
from knetlike.reference import REFERENCE_RUN, TOLERANCE, compare, knet_2016

DATASETS = {"mnist": kl.mnist, "fashion": kl.fashion_mnist}
FASHION = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        out = output_dir(args.out or f"runs/{args.dataset}", args.overwrite)
    except OSError as err:
        parser.error(f"argument --out: cannot use {err.filename}: {err.strerror}; "
                     f"choose a writable directory")
    try:
        xtrn, ytrn, xtst, ytst = DATASETS[args.dataset](root=args.data)
    except DataError as err:        # the message lists what was tried and how to fix it
        sys.exit(f"mnist.py: {err}")
    if args.batchsize > xtrn.shape[1]:
        parser.error(f"argument --batchsize: {args.batchsize} is larger than the "
                     f"{xtrn.shape[1]} training instances")
    print(f"writing to {out}", file=sys.stderr)
    classes = FASHION if args.dataset == "fashion" else None
    plots.save(plots.images(xtrn[:, :8], [label(y, classes) for y in ytrn[:8]]), out / "images.png")

    # The notes' model: w = [W, b], W ~ N(0, winit^2), b = 0, in float32.
    rng = np.random.default_rng(args.seed)
    w = [(args.winit * rng.standard_normal((10, 784))).astype(np.float32),
         np.zeros((10, 1), np.float32)]
    ygold = kl.onehot(ytrn, 10)
    if args.shuffle:   # a new order every epoch
        def dtrn(epoch: int) -> list:
            return kl.minibatch(xtrn, ygold, args.batchsize, shuffle=True, rng=rng)
    else:              # the notes: file order, the same batches every epoch
        dtrn = kl.minibatch(xtrn, ygold, args.batchsize)

    def report(epoch: kl.Epoch) -> None:
        save_history(out / "history.csv", history)      # cheap: keep it current
        print(epoch, flush=True)

    history, status, start = [], "finished", time.perf_counter()
    try:
        kl.fit(w, dtrn, (xtrn, ytrn), (xtst, ytst), epochs=args.epochs, lr=args.lr,
               history=history, report=report)
    except KeyboardInterrupt:
        status = f"interrupted by Ctrl-C after epoch {len(history)}"
    except kl.Diverged as err:
        status = f"diverged: {err}"
    except BrokenPipeError:         # `mnist.py | head`: the reader left; stop, keep the run
        status = f"stopped after epoch {len(history)}: standard output was closed"
        silence_stdout()
    seconds = time.perf_counter() - start

    save_history(out / "history.csv", history)
    save_weights(out / "weights.npz", w, history)
    reference = knet_2016() if args.dataset == "mnist" else None
    title = f"{args.dataset}: softmax, lr {args.lr}, batch {args.batchsize}"
    plots.save(plots.curves(history, reference, title), out / "curves.png")
    plots.save(plots.weights(w[0], classes), out / "weights.png")
    text = summary(args, history, reference, seconds, status)
    atomic_write(out / "summary.txt", text)
    try:
        print(text, end="", flush=True)
    except BrokenPipeError:
        silence_stdout()
    if status.startswith("stopped"):   # the summary went nowhere: say where the run is
        try:
            print(f"mnist.py: {status}; what it had is in {out}", file=sys.stderr)
        except BrokenPipeError:        # stderr went to the same closed pipe (2>&1 | head)
            pass
    return 0 if status == "finished" else 1


def build_parser() -> argparse.ArgumentParser:
    """Flags whose defaults are the notes' reference run."""
    p = argparse.ArgumentParser(description="Train the lecture's softmax classifier on MNIST "
                                "and draw its loss plot beside the notes'. The defaults are the "
                                "notes' run.")
    p.add_argument("--epochs", type=whole(0), default=REFERENCE_RUN["epochs"],
                   help="epochs to train (default %(default)s)")
    p.add_argument("--lr", type=positive, default=REFERENCE_RUN["lr"],
                   help="SGD learning rate (default %(default)s)")
    p.add_argument("--batchsize", type=whole(1), default=REFERENCE_RUN["batchsize"],
                   help="minibatch size (default %(default)s)")
    p.add_argument("--winit", type=nonnegative, default=REFERENCE_RUN["winit"],
                   help="standard deviation of the initial W; b starts at 0 (default %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial W and of --shuffle (default %(default)s)")
    p.add_argument("--shuffle", action="store_true", help="shuffle the batches every epoch "
                   "(the notes keep the file order)")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                   help="mnist (the notes') or fashion (Fashion-MNIST) (default %(default)s)")
    p.add_argument("--data", metavar="DIR", help="a directory holding the four IDX files "
                   "(default: $KNETLIKE_DATA, then the cache, then fetch)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/DATASET; if it "
                   "holds files, a new DIR-2, DIR-3, ... is made unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into --out even if it holds files")
    return p


def whole(least: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value
    return parse


def positive(text: str) -> float:
    value = number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def nonnegative(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value


def output_dir(path: str, overwrite: bool) -> Path:
    """``path``, created; if it already holds files, a fresh ``path-2``, ``path-3``, ... instead."""
    base = candidate = Path(path)
    k = 1
    while not overwrite and candidate.exists() and any(candidate.iterdir()):
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    if candidate != base:
        print(f"{base} already holds a run; writing to {candidate} instead "
              f"(--overwrite replaces it)", file=sys.stderr)
    candidate.mkdir(parents=True, exist_ok=True)
    return candidate


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone, so that nothing more (not even
    Python's flush at exit) fails on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def label(y: int, classes: list[str] | None) -> str:
    return str(y) if classes is None else classes[y]


def save_weights(path: Path, w: list, history: list) -> None:
    """``W``, ``b`` and the epoch they belong to, as an .npz file, atomically."""
    with atomic_path(path) as temp:
        np.savez(temp, W=w[0], b=w[1], epoch=len(history))


def summary(args: argparse.Namespace, history: list, reference: list | None,
            seconds: float, status: str) -> str:
    """Final numbers, wall time, and the largest deviation from the notes per column."""
    lines = [f"status: {status}",
             f"settings: dataset={args.dataset} epochs={args.epochs} lr={args.lr} "
             f"batchsize={args.batchsize} winit={args.winit} seed={args.seed} "
             f"shuffle={args.shuffle}",
             f"wall time: {seconds:.1f} s for {len(history)} epochs"]
    if history:
        lines.append(f"final: {history[-1]}")
    if history and reference:
        deviations = compare(history, reference)
        ours = dict(lr=args.lr, batchsize=args.batchsize, winit=args.winit, shuffle=args.shuffle)
        if all(REFERENCE_RUN[key] == value for key, value in ours.items()):
            worst = max(d.max_abs for d in deviations)
            verdict = "within" if worst <= TOLERANCE else "NOT within"
            lines.append(f"largest deviation from the notes ({verdict} {TOLERANCE}):")
        else:
            lines.append("largest deviation from the notes (for information only: these "
                         "settings differ from the notes' run):")
        lines += [f"  {d}" for d in deviations]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
