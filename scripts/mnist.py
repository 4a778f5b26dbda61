#!/usr/bin/env python
"""The lecture's MNIST experiment, and Knet's mnist.jl around it.

    python scripts/mnist.py                  # the notes' run: softmax, 100 epochs, lr 0.15
    python scripts/mnist.py --hidden 100 --winit 0.001 --lr 0.5 --out runs/mnist-mlp
    python scripts/mnist.py --hidden 64 --init xavier --lr 0.1   # Knet's tutorial 40.mlp

The model is mnist.jl's ``w = weights(hidden...)``, no hidden layer being the lecture's
softmax classifier. After every epoch it prints the training and test loss and error, as
the notes do. It writes settings.json, history.csv, weights.npz, curves.png (ours over the
lecture's), images.png, weights.png and summary.txt; what a run needs around the lecture
(its directory, stop signals, files that cannot be written) is ``knetlike.run.Run``'s.
"""
from __future__ import annotations

import argparse
import sys

try:                                   # Ctrl-C while the modules load: a line, no traceback
    import numpy as np

    import knetlike as kl
    from knetlike import plots
    from knetlike.data import DATASETS, MNIST
    from knetlike.history import save_history
    from knetlike.weights import INITS, save_weights
    from knetlike.reference import (NEXT_LECTURE_RUN, REFERENCE_RUN, deviation_lines,
                                    knet_2016, knet_mlp_2016)
    from knetlike.gradcheck import GCHECK_TOLERANCE, GradientChecks
    from knetlike.options import (check_fits, check_out, check_training_memory, load_data,
                                  nonnegative, positive, probability, whole)
    from knetlike.run import Run, model_name, run_script, show
except KeyboardInterrupt:
    sys.exit("mnist.py: interrupted by Ctrl-C while starting; nothing was written")

OUTPUTS = ("settings.json", "history.csv", "weights.npz", "curves.png", "images.png",
           "weights.png", "summary.txt")
# The notes' run as settings.json records it, for any --epochs: only such a run is held to
# the notes' numbers; any other is compared with them for information.
NOTES_RUN = {key: REFERENCE_RUN[key] for key in ("lr", "batchsize", "winit", "shuffle")} \
    | dict(hidden=[], dtype="float32", l1=0, l2=0, dropout=[0, 0], init="gaussian")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_init(parser, args)
    dataset = DATASETS[args.dataset]
    out = check_options(parser, args, dataset)              # nothing is written before
    xtrn, ytrn, xtst, ytst = load_data("mnist.py", dataset, args.data)

    with Run("mnist.py", out, args.overwrite, OUTPUTS, settings(args)) as run:
        # mnist.jl: w = weights(hidden...; winit), data in --atype, batches of --batchsize
        dtype = np.dtype(args.dtype)
        xtrn, xtst = xtrn.astype(dtype, copy=False), xtst.astype(dtype, copy=False)
        rng = np.random.default_rng(args.seed)   # the notebook's srand(seed): W, then the masks
        w = kl.weights(*args.hidden, classes=dataset.nclasses, inputs=dataset.ninputs,
                       winit=args.winit, init=args.init, dtype=dtype, rng=rng)
        ygold = kl.onehot(ytrn, dataset.nclasses, dtype=dtype)
        if args.shuffle:   # a new order every epoch, from a generator of its own
            order = np.random.default_rng((args.seed, 1))

            def dtrn(epoch: int) -> list:
                return kl.minibatch(xtrn, ygold, args.batchsize, shuffle=True, rng=order)
        else:              # the notes: file order, the same batches every epoch
            dtrn = kl.minibatch(xtrn, ygold, args.batchsize)

        checks = GradientChecks(w, args.gcheck)
        check_rng = np.random.default_rng(args.seed)   # apart from rng: same run with or without
        held: dict[int, str] = {}                      # gcheck lines waiting for their epoch's

        def gcheck(epoch: int, w: list) -> None:       # mnist.jl's --gcheck, after each epoch
            batch = (xtrn[:, :args.batchsize], ytrn[:args.batchsize])
            held[epoch] = checks.add(epoch, gradient_check(w, *batch, dataset.nclasses, args,
                                                           check_rng))
            show_checks()

        def report(e: kl.Epoch) -> None:               # an epoch's line, then its gcheck line
            run.report(e)
            show_checks()

        def show_checks() -> None:
            """The gcheck lines of the epochs whose line is out (with --fast, of the epochs
            that have none, once epoch 0's is out), in order: fit measures an epoch while
            the next one trains, so a check can be done before its epoch is reported."""
            out = run.epoch if run.history else -1
            for k in sorted(held):
                if k <= out or (args.fast and out >= 0 and k < args.epochs):
                    show(held.pop(k))

        with run.loop():   # the epoch loop: train, measure, report; a stop ends it, not the run
            kl.fit(w, dtrn, (xtrn, ytrn), (xtst, ytst), epochs=args.epochs, lr=args.lr,
                   history=run.history, report=report, fast=args.fast,
                   after_epoch=gcheck if args.gcheck else None,
                   l1=args.l1, l2=args.l2, pdrop=tuple(args.dropout), rng=rng)

        sizes = " -> ".join(map(str, [dataset.ninputs, *args.hidden, dataset.nclasses]))
        notes_run = all(run.settings[key] == value for key, value in NOTES_RUN.items())
        run.finish(outputs(args, dataset, (xtrn, ytrn), run.history, w),
                   [f"model: {model_name(args.hidden)}, {sizes}",
                    *deviation_lines(run.history, reference_curves(args, dataset, legend=False),
                                     notes_run),
                    *checks.summary()],
                   problems=checks.failures())
    return run.exit_status


def build_parser() -> argparse.ArgumentParser:
    """Flags whose defaults are the notes' reference run; mnist.jl's options beside them."""
    p = argparse.ArgumentParser(description="Train the lecture's softmax classifier (or mnist.jl's "
                                "MLP: --hidden) on MNIST and draw its loss plot beside the notes'.")
    add, notes = p.add_argument, REFERENCE_RUN        # the defaults are the notes' run
    add("--epochs", type=whole(0), default=notes["epochs"], help="epochs (default %(default)s)")
    add("--hidden", type=whole(1), nargs="+", default=[], metavar="H", help="sizes of relu "
        "hidden layers, e.g. 64 or 128 64 (default: none, the lecture's softmax model)")
    add("--lr", type=positive, default=notes["lr"], help="learning rate (default %(default)s)")
    add("--batchsize", type=whole(1), default=notes["batchsize"],
        help="minibatch size (default %(default)s)")
    add("--init", choices=INITS, default="gaussian", help="initial W of every layer: "
        "gaussian, N(0, winit^2) (mnist.jl's); xavier, uniform in +-sqrt(2 / (in + out)) "
        "(Knet's tutorial 40.mlp; takes no --winit); b starts at 0 (default %(default)s)")
    add("--winit", type=nonnegative, default=None, help="standard deviation of the gaussian "
        f"initial W (default {notes['winit']:g})")
    add("--l1", type=nonnegative, default=0.0, metavar="L",
        help="add L sum|W| over the W's to the training loss (default 0)")
    add("--l2", type=nonnegative, default=0.0, metavar="L",
        help="add L sum W^2 over the W's to the training loss (default 0)")
    add("--dropout", type=probability, nargs="+", default=[0.0], metavar=("P_INPUT", "P_HIDDEN"),
        help="in training, drop inputs with probability P_INPUT and hidden relu outputs with "
        "P_HIDDEN: the companion notebook's pdrop. P_HIDDEN defaults to 0, so --dropout 0.2 is "
        "its pdrop=(0.2, 0) (default: no dropout)")
    add("--seed", type=whole(0), default=0, help="seed of the initial W and then of the "
        "dropout masks (one stream, as the notebook's srand(seed) before train), of --shuffle's "
        "order and of --gcheck's entries (default %(default)s)")
    add("--shuffle", action="store_true", help="shuffle the batches every epoch (the notes "
        "keep the file order)")
    add("--dtype", choices=("float32", "float64"), default="float32", help="float type of "
        "data and weights, mnist.jl's --atype (default %(default)s)")
    add("--fast", action="store_true", help="measure loss and error after the last epoch only")
    add("--gcheck", type=whole(0), default=0, metavar="N", help="after each epoch, check N "
        "entries of every array of the training gradient (with --l1, --l2; without dropout) "
        f"against central differences; an error above {GCHECK_TOLERANCE:g} fails the run")
    add("--dataset", type=dataset_name, choices=list(dict.fromkeys(map(dataset_name, DATASETS))),
        default="mnist", help="mnist (the notes') or fashion (Fashion-MNIST)")
    add("--data", metavar="DIR", help="a directory holding the four IDX files (default: "
        "$KNETLIKE_DATA, then the cache, then fetch)")
    add("--out", metavar="DIR", help="output directory (default: runs/DATASET; if it holds a "
        "run, a new DIR-2, DIR-3, ... unless --overwrite)")
    add("--overwrite", action="store_true", help="write into --out even if it holds a run, "
        "removing that run's files first")
    return p


def check_init(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """--winit belongs to the gaussian init: its default there is the notes' 0.001; with
    --init xavier it is refused (status 2), and settings.json records it as null."""
    if args.init == "xavier" and args.winit is not None:
        parser.error("argument --winit: --init xavier takes its scale sqrt(2 / (in + out)) "
                     "from each layer's sizes; leave --winit out, or use --init gaussian")
    if args.init == "gaussian" and args.winit is None:
        args.winit = REFERENCE_RUN["winit"]


def dataset_name(text: str) -> str:
    """A dataset by the name --dataset shows: ``fashion`` for its alias ``fashion-mnist``."""
    return next((name for name, data in DATASETS.items() if data is DATASETS.get(text)), text)


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace, dataset) -> str:
    """Refuse (status 2, before anything is written) what argparse cannot check alone: the
    output directory, a batch larger than the data, the dropout pair, a number that
    overflows --dtype, a model too large for memory. Returns --out."""
    out = f"runs/{args.dataset}" if args.out is None else args.out
    ntrain = dataset.files[0].shape[0]              # the training images' file: N x 28 x 28
    if args.batchsize > ntrain:
        parser.error(f"argument --batchsize: {args.batchsize} is larger than the {ntrain} "
                     f"training instances")
    try:
        check_out(out)
    except ValueError as err:
        parser.error(f"argument --out: {err}")
    if len(args.dropout) > 2 or (args.dropout[-1] and len(args.dropout) == 2 and not args.hidden):
        parser.error("argument --dropout: give P_INPUT, then P_HIDDEN only with --hidden")
    args.dropout = [args.dropout[0], args.dropout[1] if len(args.dropout) == 2 else 0.0]
    numbers = dict(lr=args.lr, l1=args.l1, l2=args.l2, winit=args.winit or 0.0)
    try:
        check_fits(args.dtype, **numbers)
    except ValueError as err:
        parser.error(str(err))
    measured = ntrain + dataset.files[2].shape[0]   # the training and test sets, measured
    try:
        check_training_memory(args.hidden, dataset.nclasses, dataset.ninputs, args.dtype,
                              args.batchsize, measured)
    except ValueError as err:
        parser.error(f"argument --hidden: {err}")
    return out


def settings(args: argparse.Namespace) -> dict:
    """The run's settings, as settings.json holds them (compare.py labels runs from it)."""
    flags = {key: value for key, value in vars(args).items()
             if key not in ("data", "out", "overwrite")}      # where, not how, it runs
    return dict(script="mnist.py", **flags, knetlike=kl.__version__)


def gradient_check(w: list, x: np.ndarray, labels: np.ndarray, nclasses: int,
                   args: argparse.Namespace, rng: np.random.Generator) -> kl.GradCheck:
    """mnist.jl's --gcheck: ``args.gcheck`` random entries of every array of the gradient
    that training uses (``train_gradient`` with the penalties; dropout's masks are random,
    so without it) against central differences of ``loss``, in float64."""
    w64 = [wi.astype(np.float64) for wi in w]
    x64, y64 = x.astype(np.float64), kl.onehot(labels, nclasses, dtype=np.float64)

    def loss(w, x, ygold):
        return kl.loss(w, x, ygold, l1=args.l1, l2=args.l2)

    def train_gradient(w, x, ygold):
        return kl.train_gradient(w, x, ygold, l1=args.l1, l2=args.l2)
    return kl.gradcheck(loss, w64, x64, y64, nsample=args.gcheck, rng=rng,
                        gradient=train_gradient)


def outputs(args: argparse.Namespace, dataset, trn: tuple, history: list, w: list) -> dict:
    """The files that the run writes at its end, each by its writer (see ``Run.finish``)."""
    (x, y), epoch = trn, history[-1].epoch if history else 0
    title = f"{dataset.title}: {model_name(args.hidden)}, lr {args.lr}, batch {args.batchsize}"
    return {
        "history.csv": lambda path: save_history(path, history),
        "weights.npz": lambda path: save_weights(path, w, epoch, args.hidden),
        "curves.png": lambda path: plots.save(
            plots.curves(history, reference_curves(args, dataset), title), path),
        "images.png": lambda path: plots.save(plots.images(
            x[:, :8], [dataset.classes[k] for k in y[:8]], dataset.image_shape), path),
        "weights.png": lambda path: plots.save(
            plots.first_layer(w, dataset.classes, dataset.image_shape), path),
    }


def reference_curves(args: argparse.Namespace, dataset, legend: bool = True) -> dict | None:
    """The lecture's numbers to draw under ours, on MNIST: the notes' for the softmax model;
    the next lecture's 784-100-10 MLP (NEXT_LECTURE_RUN's model) for any MLP, its legend
    saying "for information" when the run's model is another (``legend``: the figure's
    label; the summary's comparison is for information for every MLP); else none."""
    if dataset is not MNIST:
        return None
    if not args.hidden:
        return {"notes": knet_2016()}
    same = args.hidden == NEXT_LECTURE_RUN["hidden"]
    return {"next lecture" if same or not legend else
            "next lecture: 784-100-10, for information": knet_mlp_2016()}


if __name__ == "__main__":
    sys.exit(run_script("mnist.py", main))
