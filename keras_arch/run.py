"""Command line: ``python -m keras_arch.run ARCH [options]`` (also ``keras-arch``).

Thin by design: the registry holds the recipes, the trainer runs them. Nothing
here imports TensorFlow before an arch is known to exist, so ``--help``,
``--list`` and an unknown ARCH answer at once.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from keras_arch import cli, options as arch_options, paths, precision, registry
from keras_arch.errors import UsageError
from keras_arch.io import write_atomic

PROG = "python -m keras_arch.run"


def build_parser():
    p = cli.Parser(prog=PROG, description="Train, evaluate and export a registered architecture.",
                epilog="Example: python -m keras_arch.run cnn --epochs 3 --export /tmp/servables")
    p.add_argument("arch", nargs="?", help="architecture name (see --list)")
    p.add_argument("--list", action="store_true", help="list the registered architectures and exit")
    d = p.add_argument_group("data")
    d.add_argument("--dataset", help="named data set (default: the arch's embedded default)")
    d.add_argument("--data-dir", help="read the data set from this directory (e.g. MNIST IDX files)")
    d.add_argument("--test-dir", help="evaluate the final model on this directory's test files")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=cli.positive_int)
    t.add_argument("--batch-size", type=cli.positive_int)
    t.add_argument("--learning-rate", type=cli.positive_float)
    t.add_argument("--optimizer", choices=("sgd", "momentum", "adam", "adamw"))
    t.add_argument("--lr-schedule", choices=("constant", "step", "exponential", "cosine", "warmup-cosine", "warmup-linear"))
    t.add_argument("--full-batch", action="store_true",
                   help="full-batch gradient descent: one step per epoch over the whole training set")
    t.add_argument("--seed", type=cli.seed, default=0, help="same seed, same metrics (0 .. 2**32-1, default 0)")
    b = p.add_argument_group("pretrained encoders (bert)")
    b.add_argument("--pretrained", metavar="DIR",
                   help="a local Hugging Face BERT directory (tf_model.h5 or model.safetensors, vocab.txt); "
                        "default: the packaged all-MiniLM-L6-v2")
    b.add_argument("--max-length", type=cli.positive_int, help="tokens per sentence, [CLS] and [SEP] included (default 128)")
    b.add_argument("--freeze-encoder", action="store_true", help="train only the classification head")
    k = p.add_argument_group("knowledge graphs (kg, kg-distmult, kg-transe)")
    k.add_argument("--combine", choices=("concat", "sum"),
                   help="kg: how E(h), E(t), E(r) enter the MLP: concatenated (default) or added (document 004's text)")
    k.add_argument("--negatives", type=cli.non_negative_int, metavar="K",
                   help="train each triple against K sampled tails shared by its batch instead of scoring "
                        "every entity (1-N); 0: 1-N. Default: 1-N, or sampled negatives on a graph too large "
                        "for 1-N (the run says what it chose)")
    p.add_argument_group("transfer").add_argument(
        "--labels-per-class", type=cli.positive_int, metavar="N",
        help="transfer: labelled target images per class (default 20 on digits, 100 on MNIST)")
    c = p.add_argument_group("compression (applied after training, in this order)")
    c.add_argument("--prune", type=cli.sparsity, metavar="S",
                   help="magnitude-prune to target sparsity S in (0, 1), fine-tuning with a PolynomialDecay schedule")
    c.add_argument("--qat", action="store_true",
                   help="quantization-aware fine-tuning (pruning-preserving after --prune)")
    c.add_argument("--tflite", metavar="PATH", help="write a full-int8 .tflite to PATH and a float one beside it")
    c.add_argument("--per-channel", action="store_true",
                   help="quantize conv kernels per channel (default per tensor: a smaller .tflite)")
    c.add_argument("--compress-epochs", type=cli.positive_int, help="fine-tuning epochs for --prune (default 2; --qat uses half)")
    s = p.add_argument_group("distribution and devices")
    s.add_argument("--strategy", choices=("auto", "one-device", "mirrored", "multi-worker"),
                   help="tf.distribute strategy (default auto: MirroredStrategy over several GPUs, else none); "
                        "multi-worker reads TF_CONFIG")
    s.add_argument("--logical-devices", type=cli.positive_int, metavar="N",
                   help="split the CPU (or a single GPU) into N logical devices, e.g. to run mirrored on one machine")
    s.add_argument("--precision", choices=precision.CHOICES,
                   help="float32 (default); mixed_bfloat16: bfloat16 compute, float32 weights, outputs and softmaxes "
                        "(about 2x faster matmuls on CPUs with AVX512_BF16/AMX and on GPUs of compute capability "
                        ">= 8.0); mixed_float16 (GPUs with tensor cores; emulated and slower on CPU); auto: "
                        "mixed_bfloat16 where the hardware has it and the run does not compress, else float32")
    s.add_argument("--jit", action="store_true", help="XLA-compile the train step (GPUs; small models get slower on CPU)")
    o = p.add_argument_group("output")
    o.add_argument("--export", metavar="DIR", help="write a TF Serving SavedModel to DIR/<arch>/<version>/")
    o.add_argument("--checkpoint-dir", metavar="DIR",
                   help="resume an interrupted run from DIR and keep the best weights there")
    o.add_argument("--plot", metavar="DIR", help="write training curves (and attention heat maps) as PNGs")
    o.add_argument("--logdir", metavar="DIR", help="TensorBoard scalars (and pruning summaries with --prune)")
    o.add_argument("--metrics-json", metavar="PATH", help="write metrics and the full config used as JSON")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def list_text():
    rows = [(n, registry.get(n)) for n in registry.names()]
    width = max(len(n) for n, _ in rows)
    from keras_arch import errata
    return "\n".join(f"{n:<{width}}  {r.summary}  [{r.source}]" for n, r in rows) + "\n\n" + errata.text()


def summary_table(m):
    """The rows the trainer put in ``m["summary"]``, plus the export path."""
    rows = [tuple(r) for r in m["summary"]]
    if m.get("export_path"):
        rows.append(("export", m["export_path"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def write_json_atomic(path, payload):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--metrics-json {path}: directory {directory} does not exist")
    write_atomic(path, json.dumps(payload, indent=2, sort_keys=True))


def main(argv=None):
    return cli.run_main(PROG, _main, argv)


def given_options(parser, args):
    """The options this command line sets (flags whose value is not the default)."""
    return [a.option_strings[0] for a in parser._actions
            if a.option_strings and a.dest not in ("help", "list")
            and getattr(args, a.dest) != a.default]


def pre_checks(parser, args):
    """Everything that can be refused from the command line alone, before any
    data is read or TensorFlow is imported: options the arch does not honour,
    output paths it could not write, a checkpoint directory of another arch."""
    arch_options.check(args.arch, given_options(parser, args))
    from keras_arch.config import RunConfig  # TensorFlow-free
    config = RunConfig.from_args(args)
    precision.check(args.arch, config.precision, config.compress)
    paths.check_outputs(args, args.arch)
    if args.checkpoint_dir:
        from keras_arch.training import checkpoints  # TensorFlow-free at import
        checkpoints.check_arch(args.checkpoint_dir, args.arch)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print(list_text())
        return 0
    _, metrics = run_parsed(parser, args)
    print(summary_table(metrics))
    return 0


def run_parsed(parser, args):
    """Check, train, write: what ``run`` does after parsing, for the command
    line and for :func:`keras_arch.train` alike. Returns (model, metrics)."""
    if not args.arch:
        raise UsageError("an ARCH is required (see --list)")
    registry.get(args.arch)  # unknown arch: answer before TensorFlow loads
    pre_checks(parser, args)

    from keras_arch.training import distribute
    distribute.configure_devices(args.logical_devices)  # before TensorFlow initialises
    from keras_arch.config import RunConfig
    from keras_arch.training.trainer import train
    config = RunConfig.from_args(args)
    model, metrics = train(args.arch, config)
    if args.metrics_json:
        write_json_atomic(args.metrics_json, metrics)
    return model, metrics


def option_names(parser=None):
    """{keyword: flag} of every ``run`` option (``data_dir``: ``--data-dir``)."""
    parser = parser or build_parser()
    return {a.dest: a.option_strings[0] for a in parser._actions
            if a.option_strings and a.dest not in ("help", "list")}


def argv_for(arch, **options):
    """The command line ``python -m keras_arch.run`` would get for these
    keyword options: True adds a switch, False and None leave the option out,
    anything else becomes ``--flag=value``."""
    parser = build_parser()
    flags = option_names(parser)
    switches = {a.dest for a in parser._actions if isinstance(a, argparse._StoreTrueAction)}
    argv = [arch]
    for key, value in options.items():
        if key not in flags:
            raise UsageError(f"unknown option {key!r}; options: {', '.join(sorted(flags))}")
        if key in switches:
            if not isinstance(value, bool):
                raise UsageError(f"{flags[key]} ({key}=) is a switch: pass True or False, got {value!r}")
            argv += [flags[key]] if value else []
        elif value is not None:
            argv.append(f"{flags[key]}={os.fspath(value) if isinstance(value, os.PathLike) else value}")
    return argv


def train(arch, **options):
    """Train ``arch`` as ``python -m keras_arch.run ARCH`` would, from Python.

    The keyword options are the command line's, spelled with underscores
    (``data_dir="../shared/data/mnist"`` is ``--data-dir``; ``quiet=True`` is
    ``--quiet``). They go through the same parser and the same checks before
    anything is read or trained, so the same options give the same
    refusals (a :class:`keras_arch.errors.UsageError` with the line the
    command prints) and, for the same seed, the same metrics.

    Args:
        arch: a registered arch (``python -m keras_arch.run --list``).
        **options: ``run``'s options; see ``python -m keras_arch.run --help``.

    Returns:
        (the trained tf_keras model, the metrics dict that ``--metrics-json``
        writes).
    """
    parser = build_parser()
    return run_parsed(parser, parser.parse_args(argv_for(arch, **options)))


if __name__ == "__main__":
    sys.exit(main())
