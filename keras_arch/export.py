"""``python -m keras_arch.export``: TF Serving exports outside of training.

  python -m keras_arch.export ARCH --model PATH --base BASE        a saved Keras model
  python -m keras_arch.export --checkpoint-dir DIR --base BASE     a run's best checkpoint
  python -m keras_arch.export --model-config BASE                  BASE/models.config for every model
                                                                   (and BASE/batching_parameters.txt)
  python -m keras_arch.export --show PATH                          saved_model_cli show --all, TF-Text ops loaded
  python -m keras_arch.export --example-request ARCH               a REST request body for ARCH's export
"""
import argparse
import json
import os
import sys

from keras_arch import cli, quiet, registry
from keras_arch.errors import UsageError
from keras_arch.serving import model_config
from keras_arch.serving.export import _import_custom_ops, resolve_version
from keras_arch.serving.rest import example_body
from keras_arch.tasks.base import for_arch
from keras_arch.training.checkpoints import load_model

PROG = "python -m keras_arch.export"


def build_parser():
    p = cli.Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("arch", nargs="?", help="registered arch (see python -m keras_arch.run --list)")
    p.add_argument("--model", metavar="PATH", help="a saved Keras model (.keras file or SavedModel directory)")
    p.add_argument("--checkpoint-dir", metavar="DIR", help="a run's --checkpoint-dir")
    p.add_argument("--base", metavar="BASE", help="TF Serving base directory to export into")
    p.add_argument("--model-config", metavar="BASE",
                   help="write BASE/models.config for every model under BASE, and BASE/batching_parameters.txt")
    p.add_argument("--mount-path", default="/models", help="where BASE is mounted in the server (default /models)")
    p.add_argument("--version-policy", default="latest", metavar="POLICY",
                   help="versions the server loads, with --model-config: latest (default: the newest), "
                        "latest:N, all, or specific:V1,V2")
    p.add_argument("--batch-threads", type=cli.positive_int, metavar="N",
                   help="num_batch_threads (and max_enqueued_batches) in batching_parameters.txt: "
                        "the serving machine's CPU cores (default: 2, measured here)")
    p.add_argument("--show", metavar="PATH", help="print every signature of an export (saved_model_cli show --all)")
    p.add_argument("--example-request", metavar="ARCH", help="print a REST predict body for ARCH")
    p.add_argument("--format", choices=("instances", "inputs"), default="instances",
                   help="REST body format for --example-request (row or columnar)")
    p.add_argument("--signature", default="serving_default", help="signature for --example-request")
    return p


def show(path):
    """saved_model_cli show --all, after registering the TF-Text ops text-in exports use."""
    version_dir = resolve_version(path)
    _import_custom_ops()
    from tensorflow.python.tools import saved_model_cli
    # saved_model_cli.main() reads sys.argv through absl; run it as its own command would.
    sys.argv = ["saved_model_cli", "show", "--dir", version_dir, "--all"]
    try:
        saved_model_cli.main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def example_request(arch, fmt, signature, n=2):
    task = for_arch(arch)
    samples = task.serving_samples(task.load_data(), n)
    if signature not in samples:
        raise UsageError(f"{arch} has no sample inputs for signature {signature!r}; have {sorted(samples)}")
    return example_body(samples[signature], fmt, signature)


def main(argv=None):
    return cli.run_main(PROG, _main, argv)


def _main(argv):
    args = build_parser().parse_args(argv)
    if args.model_config:
        policy = model_config.parse_policy(args.version_policy)
        config, batching, names = model_config.write(args.model_config, args.mount_path, policy,
                                                     args.batch_threads)
        print(f"{config}: {', '.join(names)}")
        print(f"{batching}: for --enable_batching --batching_parameters_file="
              f"{args.mount_path.rstrip('/')}/{model_config.BATCHING_FILE}")
        return 0
    if args.version_policy != "latest" or args.batch_threads:
        raise UsageError("--version-policy and --batch-threads go with --model-config BASE")
    quiet.enable()  # every mode below imports TensorFlow
    if args.show:
        return show(args.show)
    if args.example_request:
        print(json.dumps(example_request(args.example_request, args.format, args.signature)))
        return 0
    if not args.base:
        raise UsageError("--base is required to export (or use --model-config, --show, --example-request)")
    if args.checkpoint_dir:
        arch, model = load_model(args.checkpoint_dir)
        if args.arch and args.arch != arch:
            raise UsageError(f"--checkpoint-dir holds a {arch!r} run, not {args.arch!r}")
    elif args.model:
        if not args.arch:
            raise UsageError("ARCH is required with --model")
        recipe = registry.get(args.arch)
        model = _load_keras_model(args.model)
        arch = recipe.name
    else:
        raise UsageError("give --model PATH or --checkpoint-dir DIR")
    recipe = registry.get(arch)
    from keras_arch.serving.servable import export_arch  # imports TensorFlow
    task = for_arch(arch)
    print(export_arch(model, recipe, args.base, task.load_data(), task))
    return 0


def _load_keras_model(path):
    from keras_arch.backend import keras
    if not os.path.exists(path):
        raise UsageError(f"--model {path}: no such file or directory")
    try:
        return keras.models.load_model(path, compile=False)
    except (OSError, ValueError, IOError) as e:
        raise UsageError(f"--model {path}: cannot load ({str(e).splitlines()[0]})") from None


if __name__ == "__main__":
    sys.exit(main())
