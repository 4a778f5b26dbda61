#!/usr/bin/env python
"""The lecture's MNIST experiment, and Knet's mnist.jl around it.

    python scripts/mnist.py                  # the notes' run: softmax, 100 epochs, lr 0.15
    python scripts/mnist.py --hidden 64 --lr 0.4 --winit 0.01 --out runs/mnist-mlp
    python scripts/mnist.py --epochs 10 --dataset fashion --out runs/fashion

The model is mnist.jl's: ``w = weights(hidden...)``, no hidden layer being the lecture's
softmax classifier. After every epoch it prints the training and test loss and error, as
the notes do (``--fast``: once, after the last epoch). It writes into the output directory
settings.json (the flags, as soon as the run starts), history.csv (kept current),
curves.png (our curves over the notes', or over the next lecture's for ``--hidden 64``),
images.png (the first 8 training images), weights.png (the rows of the first W as
images), weights.npz (every array of w) and summary.txt.

Ctrl-C, SIGTERM, SIGHUP, a learning rate that diverges, or a closed standard output
(``mnist.py | head``) stops the run and keeps what the finished epochs produced (``fit``
sets w back to the last finished epoch); further stop signals wait until those files are
written. The output directory is claimed atomically and holds one run only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import knetlike as kl
from knetlike import plots
from knetlike.data import DATASETS, MNIST, DataError
from knetlike.files import DirectoryInUse, atomic_path, atomic_write, claim_directory
from knetlike.history import save_history
from knetlike.machinery import Interrupted, stop_signals_noted, stop_signals_raise
from knetlike.reference import REFERENCE_RUN, TOLERANCE, compare, knet_2016, knet_mlp_2016

# What a run writes into its directory (and ``--overwrite`` removes before a new run).
OUTPUTS = ("settings.json", "history.csv", "curves.png", "images.png", "weights.png",
           "weights.npz", "summary.txt")

# --gcheck: the largest relative error that passes. In float64 with central differences of
# step 1e-6, the smallest derivatives (near gradcheck's floor of 1e-8) are compared with the
# differences' rounding, |loss| * 1e-16 / 1e-6, so a correct gradient can show relative
# errors of a few 1e-3; so can a relu input within 1e-6 of 0. A wrong gradient (sign,
# factor, transposition, missing term) is wrong by about 1, at many entries and every epoch.
GCHECK_TOLERANCE = 1e-2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    dataset = DATASETS[args.dataset]
    refuse_unusable_out(parser, args.out or f"runs/{args.dataset}")   # nothing written yet
    try:
        xtrn, ytrn, xtst, ytst = dataset.load(root=args.data)
    except DataError as err:        # the message lists what was tried and how to fix it
        sys.exit(f"mnist.py: {err}")
    except KeyboardInterrupt:
        sys.exit("mnist.py: interrupted by Ctrl-C while loading the data; nothing was written")
    if args.batchsize > xtrn.shape[1]:
        parser.error(f"argument --batchsize: {args.batchsize} is larger than the "
                     f"{xtrn.shape[1]} training instances")

    with stop_signals_raise(), claim(parser, args) as claimed:
        out = claimed.path
        say(f"writing to {out}")
        try:
            atomic_write(out / "settings.json", json.dumps(settings(args), indent=2) + "\n")
        except OSError as err:
            say(f"mnist.py: cannot write {err.filename}: {err.strerror}; nothing was "
                f"trained. Choose a writable --out")
            return 1

        # mnist.jl: w = weights(hidden...; winit), data in --dtype, batches of --batchsize
        dtype = np.dtype(args.dtype)
        xtrn, xtst = xtrn.astype(dtype, copy=False), xtst.astype(dtype, copy=False)
        rng = np.random.default_rng(args.seed)
        w = kl.weights(*args.hidden, classes=dataset.nclasses, inputs=dataset.ninputs,
                       winit=args.winit, dtype=dtype, rng=rng)
        ygold = kl.onehot(ytrn, dataset.nclasses, dtype=dtype)
        if args.shuffle:   # a new order every epoch
            def dtrn(epoch: int) -> list:
                return kl.minibatch(xtrn, ygold, args.batchsize, shuffle=True, rng=rng)
        else:              # the notes: file order, the same batches every epoch
            dtrn = kl.minibatch(xtrn, ygold, args.batchsize)

        history: list[kl.Epoch] = []
        checks: list[tuple[int, kl.GradCheck]] = []
        first_batch = (xtrn[:, :args.batchsize], ytrn[:args.batchsize])
        check_rng = np.random.default_rng(args.seed)   # apart from rng: same run with or without

        unsaved: list[OSError] = []     # per-epoch saves of history.csv that failed

        def report(epoch: kl.Epoch) -> None:
            keep_current(out / "history.csv", history, unsaved)
            show(epoch)

        def gcheck(epoch: int, w: list) -> None:
            checks.append((epoch, gradient_check(w, *first_batch, dataset.nclasses, args.gcheck,
                                                 check_rng)))
            show(gcheck_line(*checks[-1], w))

        status, start = "finished", time.perf_counter()
        try:
            kl.fit(w, dtrn, (xtrn, ytrn), (xtst, ytst), epochs=args.epochs, lr=args.lr,
                   history=history, report=report, measure_every=None if args.fast else 1,
                   after_epoch=gcheck if args.gcheck else None)
        except KeyboardInterrupt as err:      # Ctrl-C, SIGTERM, SIGHUP
            status = f"interrupted by {stop_name(err)} after epoch {last_epoch(history)}"
        except kl.Diverged as err:
            status = f"diverged: {err}"
        except OutputClosed:            # `mnist.py | head`: the reader left; stop, keep the run
            status = f"stopped after epoch {last_epoch(history)}: standard output was closed"
        seconds = time.perf_counter() - start

        signals: list[int] = []         # stop signals now wait until everything is written
        with stop_signals_noted(signals.append):
            summary = summary_text(args, dataset, status, history, seconds, checks)
            written, failed = write_outputs(out, args, dataset, (xtrn, ytrn), history, w,
                                            summary)
            return finish(out, status, checks, written, failed, signals, summary)


def write_outputs(out: Path, args: argparse.Namespace, dataset, trn: tuple, history: list,
                  w: list, summary: str) -> tuple[list[str], dict[str, OSError]]:
    """Write every output file that the run produced; a file that cannot be written (a full
    disk, a directory gone) is noted and the others are still written."""
    reference = reference_curves(args, dataset)
    x, y = trn
    title = f"{dataset.title}: {model_name(args.hidden)}, lr {args.lr}, batch {args.batchsize}"
    writers = {
        "history.csv": lambda path: save_history(path, history),
        "weights.npz": lambda path: save_weights(path, w, args.hidden, last_epoch(history)),
        "curves.png": lambda path: plots.save(plots.curves(history, reference, title), path),
        "images.png": lambda path: plots.save(plots.images(
            x[:, :8], [dataset.classes[k] for k in y[:8]], dataset.image_shape), path),
        "weights.png": lambda path: plots.save(weights_figure(w, dataset), path),
        "summary.txt": lambda path: atomic_write(path, summary),
    }
    written, failed = ["settings.json"], {}      # settings.json: written at the start
    for name, write in writers.items():
        try:
            write(out / name)
            written.append(name)
        except OSError as err:
            failed[name] = err
    return written, failed


def finish(out: Path, status: str, checks: list, written: list[str],
           failed: dict[str, OSError], signals: list[int], summary: str) -> int:
    """Print the summary, say on stderr what went wrong and what was kept; the exit status."""
    show_quietly(summary)
    kept = f"kept in {out}: {', '.join(written) or 'nothing'}"
    if status != "finished":
        say(f"mnist.py: {status}; {kept}")
    if failed:
        errors = "; ".join(f"{name}: {err.strerror or err}" for name, err in failed.items())
        say(f"mnist.py: could not write {', '.join(failed)} in {out} ({errors}); {kept}. "
            f"Free some space or choose a writable --out, and run again")
    failures = [(epoch, check) for epoch, check in checks if check.max_relerr > GCHECK_TOLERANCE]
    if failures:
        epochs = ", ".join(str(epoch) for epoch, _ in failures)
        say(f"mnist.py: the gradient check failed after epoch {epochs} (worst relative error "
            f"above {GCHECK_TOLERANCE:g}); see summary.txt")
    if signals:
        names = ", ".join(sorted({stop_name(Interrupted(s)) for s in signals}))
        say(f"mnist.py: {names} during the wrap-up waited until the files were written")
    return 0 if status == "finished" and not failed and not failures else 1


def build_parser() -> argparse.ArgumentParser:
    """Flags whose defaults are the notes' reference run; mnist.jl's options beside them."""
    p = argparse.ArgumentParser(description="Train the lecture's softmax classifier (or "
                                "mnist.jl's MLP: --hidden) on MNIST and draw its loss plot "
                                "beside the notes'. The defaults are the notes' run.")
    p.add_argument("--epochs", type=whole(0), default=REFERENCE_RUN["epochs"],
                   help="epochs to train (default %(default)s)")
    p.add_argument("--hidden", type=whole(1), nargs="+", default=[], metavar="H",
                   help="sizes of relu hidden layers, e.g. --hidden 64 or --hidden 128 64 "
                   "(default: none, the lecture's softmax model)")
    p.add_argument("--lr", type=positive, default=REFERENCE_RUN["lr"],
                   help="SGD learning rate (default %(default)s)")
    p.add_argument("--batchsize", type=whole(1), default=REFERENCE_RUN["batchsize"],
                   help="minibatch size (default %(default)s)")
    p.add_argument("--winit", type=nonnegative, default=REFERENCE_RUN["winit"],
                   help="standard deviation of the initial W of every layer; b starts at 0 "
                   "(default %(default)s)")
    p.add_argument("--seed", type=whole(0), default=0,
                   help="seed of the initial W, of --shuffle and of --gcheck's entries "
                   "(default %(default)s)")
    p.add_argument("--shuffle", action="store_true", help="shuffle the batches every epoch "
                   "(the notes keep the file order)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="float type of data and weights, mnist.jl's --atype on a CPU "
                   "(default %(default)s)")
    p.add_argument("--fast", action="store_true", help="measure loss and error only after "
                   "the last epoch, and report the training time")
    p.add_argument("--gcheck", type=whole(0), default=0, metavar="N",
                   help="after each epoch, check N random entries of every array of the "
                   "training gradient against central differences, in float64 on the first "
                   f"batch; an error above {GCHECK_TOLERANCE:g} fails the run (default 0: off)")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="mnist",
                   help="mnist (the notes') or fashion (Fashion-MNIST) (default %(default)s)")
    p.add_argument("--data", metavar="DIR", help="a directory holding the four IDX files "
                   "(default: $KNETLIKE_DATA, then the cache, then fetch)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/DATASET; if it "
                   "holds a run, a new DIR-2, DIR-3, ... is made unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="write into --out even if it "
                   "holds a run: that run's files are removed first (other files stay)")
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


def refuse_unusable_out(parser: argparse.ArgumentParser, path: str) -> None:
    """Refuse an output path that cannot become a writable directory, before any work and
    without writing anything: its nearest existing ancestor must be a writable directory."""
    for place in (Path(path), *Path(path).parents):
        if place.exists():
            if not place.is_dir():
                problem = f"{place} is a file, not a directory"
            elif not os.access(place, os.W_OK | os.X_OK):
                problem = f"{place} is not writable"
            else:
                return
            parser.error(f"argument --out: cannot use {path}: {problem}; choose a writable "
                         f"directory")


def claim(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """The output directory, held for this run (see ``claim_directory``); a message if the
    one asked for was not used."""
    path = args.out or f"runs/{args.dataset}"
    try:
        claimed = claim_directory(path, args.overwrite, OUTPUTS)
    except DirectoryInUse as err:
        parser.error(f"argument --out: {err.filename} {err.strerror}, or choose another --out")
    except OSError as err:
        parser.error(f"argument --out: cannot use {err.filename}: {err.strerror}; choose a "
                     f"writable directory")
    if claimed.instead:
        hint = "" if claimed.in_use else " (--overwrite replaces it)"
        say(f"{claimed.instead}; writing to {claimed.path} instead{hint}")
    return claimed


def settings(args: argparse.Namespace) -> dict:
    """The run's settings, as settings.json holds them (compare.py labels runs from it)."""
    return dict(script="mnist.py", dataset=args.dataset, hidden=args.hidden,
                epochs=args.epochs, lr=args.lr, batchsize=args.batchsize, winit=args.winit,
                seed=args.seed, shuffle=args.shuffle, dtype=args.dtype, fast=args.fast,
                gcheck=args.gcheck, knetlike=kl.__version__)


class OutputClosed(Exception):
    """Standard output cannot be written any more: its reader left, or the terminal closed."""


def show(line) -> None:
    """Print a line of the run's report; OutputClosed if stdout is gone."""
    try:
        print(line, flush=True)
    except OSError as err:          # BrokenPipeError, or EIO from a hung-up terminal
        silence_stdout()
        raise OutputClosed(str(err)) from err


def show_quietly(text: str) -> None:
    """Print ``text`` if stdout still takes it (the files hold it anyway)."""
    try:
        print(text, end="", flush=True)
    except OSError:
        silence_stdout()


def say(message: str) -> None:
    """A note on stderr, if stderr still takes it (2>&1 | head closes it with stdout)."""
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone, so that nothing more (not even
    Python's flush at exit) fails on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def keep_current(path: Path, history: list, failures: list[OSError]) -> None:
    """Save the history after each epoch (cheap); if that fails, say so the first time and
    go on: the wrap-up writes it again and says what was kept."""
    try:
        save_history(path, history)
    except OSError as err:
        if not failures:
            say(f"mnist.py: cannot update {path} ({err.strerror}); training goes on, the "
                f"history is written again at the end")
        failures.append(err)


def stop_name(err: BaseException) -> str:
    """"Ctrl-C", "SIGTERM" or "SIGHUP": what stopped the run."""
    return str(err) if isinstance(err, Interrupted) else "Ctrl-C"


def last_epoch(history: list) -> int:
    """The epoch the run's weights belong to: the last in history (0 before any)."""
    return history[-1].epoch if history else 0


def param_names(w: list) -> list[str]:
    """``W, b`` for the lecture's model, ``W1, b1, W2, b2, ...`` for deeper ones."""
    if len(w) == 2:
        return ["W", "b"]
    return [f"{name}{k // 2 + 1}" for k in range(0, len(w), 2) for name in ("W", "b")]


def model_name(hidden: list[int]) -> str:
    return "softmax" if not hidden else "MLP " + "-".join(str(h) for h in hidden)


def gradient_check(w: list, x: np.ndarray, labels: np.ndarray, nclasses: int, nsample: int,
                   rng: np.random.Generator) -> kl.GradCheck:
    """mnist.jl's --gcheck: ``nsample`` random entries of every array of the gradient that
    training uses (``train_gradient``) against central differences of ``loss``, on float64
    copies of ``w`` and of the batch."""
    w64 = [wi.astype(np.float64) for wi in w]
    x64, y64 = x.astype(np.float64), kl.onehot(labels, nclasses, dtype=np.float64)
    return kl.gradcheck(kl.loss, w64, x64, y64, nsample=nsample, rng=rng,
                        gradient=kl.train_gradient)


def gcheck_line(epoch: int, check: kl.GradCheck, w: list) -> str:
    """``gcheck:3 worst relative error 2.1e-06 at W1[12, 345] (...)``, and FAILED if so."""
    where = f"{param_names(w)[check.param]}[{', '.join(map(str, check.index))}]"
    verdict = "ok" if check.max_relerr <= GCHECK_TOLERANCE else f"FAILED (> {GCHECK_TOLERANCE:g})"
    return (f"gcheck:{epoch} worst relative error {check.max_relerr:.2g} at {where} "
            f"(gradient {check.autograd:.6g}, central difference {check.numeric:.6g}): {verdict}")


def save_weights(path: Path, w: list, hidden: list[int], epoch: int) -> None:
    """Every array of ``w`` under its name (W, b; or W1, b1, W2, b2, ...), the epoch they
    belong to and the hidden sizes, as an .npz file, atomically."""
    arrays = dict(zip(param_names(w), w))
    with atomic_path(path) as temp:
        np.savez(temp, **arrays, epoch=epoch, hidden=np.array(hidden, dtype=np.int64))


def weights_figure(w: list, dataset):
    """The rows of the first W as images: the classes' for the softmax model, the hidden
    units' for an MLP."""
    if len(w) == 2:
        return plots.weights(w[0], dataset.classes, dataset.image_shape)
    return plots.weights(w[0], shape=dataset.image_shape,
                         title=f"first layer: the {w[0].shape[0]} hidden units' weights (W1)")


def reference_curves(args: argparse.Namespace, dataset) -> dict | None:
    """The lecture's numbers to draw under ours: the notes' for the softmax model on MNIST,
    the next lecture's for one hidden layer of 64; else none."""
    if dataset is not MNIST:
        return None
    if not args.hidden:
        return {"notes": knet_2016()}
    if args.hidden == [64]:
        return {"next lecture": knet_mlp_2016()}
    return None


def summary_text(args: argparse.Namespace, dataset, status: str, history: list, seconds: float,
                 checks: list) -> str:
    """Status, settings, time, final numbers, the largest deviation from the lecture's
    numbers per column, and the gradient checks."""
    trained = last_epoch(history)
    lines = [f"status: {status}",
             f"settings: dataset={args.dataset} hidden={' '.join(map(str, args.hidden)) or 'none'} "
             f"epochs={args.epochs} lr={args.lr} batchsize={args.batchsize} winit={args.winit} "
             f"seed={args.seed} shuffle={args.shuffle} dtype={args.dtype} fast={args.fast} "
             f"gcheck={args.gcheck}",
             f"model: {model_name(args.hidden)}, "
             f"{' -> '.join(map(str, [dataset.ninputs, *args.hidden, dataset.nclasses]))}",
             f"wall time: {seconds:.1f} s for {trained} epochs"
             + (f" ({seconds / trained:.3f} s per epoch; --fast: measured after the last only)"
                if args.fast and trained else "")]
    if history:
        lines.append(f"final: {history[-1]}")
    reference = reference_curves(args, dataset)
    if history and reference:
        (name, numbers), = reference.items()
        deviations = compare(history, numbers)
        ours = dict(lr=args.lr, batchsize=args.batchsize, winit=args.winit, shuffle=args.shuffle)
        if name == "next lecture":
            lines.append("largest deviation from the next lecture's MLP-64 run (for "
                         "information: an MLP run depends on its seed; compare in distribution):")
        elif all(REFERENCE_RUN[key] == value for key, value in ours.items()) \
                and args.dtype == "float32":
            worst = max(d.max_abs for d in deviations)
            verdict = "within" if worst <= TOLERANCE else "NOT within"
            lines.append(f"largest deviation from the notes ({verdict} {TOLERANCE}):")
        else:
            lines.append("largest deviation from the notes (for information only: these "
                         "settings differ from the notes' run):")
        lines += [f"  {d}" for d in deviations]
    if checks:
        worst_epoch, worst = max(checks, key=lambda c: c[1].max_relerr)
        verdict = "passed" if worst.max_relerr <= GCHECK_TOLERANCE else "FAILED"
        lines.append(f"gradient check ({args.gcheck} entries per array, after each of "
                     f"{len(checks)} epochs): {verdict}, worst relative error "
                     f"{worst.max_relerr:.2g} after epoch {worst_epoch} (tolerance "
                     f"{GCHECK_TOLERANCE:g})")
        if verdict == "FAILED":
            lines.append("  a relu input within 1e-6 of 0 can make one correct entry look "
                         "wrong; a wrong gradient fails at many entries and every epoch")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
