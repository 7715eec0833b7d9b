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
from keras_arch.config import RunConfig
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
    p.add_argument("--model", metavar="PATH",
                   help="a saved Keras model of ARCH (.keras, .h5 or SavedModel directory): only its weights are "
                        "read, into ARCH's own model (no code in the file runs)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="with --model: the data the model was trained on (its vocabulary and shapes); "
                        "default: ARCH's embedded data")
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
        registry.get(args.arch)
        arch, model = args.arch, None
    else:
        raise UsageError("give --model PATH or --checkpoint-dir DIR")
    if args.data_dir and not args.model:
        raise UsageError("--data-dir goes with --model (a checkpoint directory records its data)")
    from keras_arch.serving.servable import export_arch  # imports TensorFlow
    task = for_arch(arch, RunConfig(data_dir=args.data_dir))
    splits = task.load_data()
    if model is None:
        model = arch_model_from_file(task, splits, args.model)
    print(export_arch(model, task.recipe, args.base, splits, task))
    return 0


def _check_saved_layers(model, checkpoint):
    """The SavedModel's weights, layer by layer, have the model's shapes."""
    import tensorflow as tf
    saved = {}
    for key, shape in tf.train.list_variables(checkpoint):
        if key.startswith("layer_with_weights-") and key.endswith("/.ATTRIBUTES/VARIABLE_VALUE"):
            saved.setdefault(int(key.split("/")[0].split("-")[1]), []).append(tuple(shape))
    ours = [sorted(tuple(w.shape) for w in layer.weights) for layer in model.layers if layer.weights]
    theirs = [sorted(saved[i]) for i in sorted(saved)]
    if theirs != ours:
        raise ValueError(f"its {len(theirs)} layers with weights have other shapes than the {len(ours)} of the model")


def arch_model_from_file(task, splits, path):
    """The task's own model for ``splits``, with the weights of the saved
    model at ``path`` (.keras, .h5 or a SavedModel directory). Nothing of the
    file but its weights is read, so no code in it runs (a Lambda layer's
    included); a file whose weights do not fit the arch's model is one line.

    Args:
        task: the arch's task (its builder and settings).
        splits: the data the model was trained on (vocabulary, shapes).
        path: the saved model.
    """
    if not os.path.exists(path):
        raise UsageError(f"--model {path}: no such file or directory")
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "variables", "variables.index")):
            raise UsageError(f"--model {path}: a directory, but not a SavedModel (no variables/variables.index)")
        source = os.path.join(path, "variables", "variables")
    elif path.endswith((".keras", ".h5", ".hdf5")):
        source = path
    else:
        raise UsageError(f"--model {path}: expected a .keras or .h5 file or a SavedModel directory")
    model = task.build_model(splits, task.settings(splits))
    try:
        if os.path.isdir(path):  # compare shapes first: a failed restore leaves TensorFlow warnings behind
            _check_saved_layers(model, source)
            model.load_weights(source).assert_existing_objects_matched()
        else:
            model.load_weights(source)
    except Exception as e:  # h5py, TensorFlow and Keras raise many types for a file that does not fit
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"--model {path}: does not fit {task.name}'s model ({first[:200]})") from None
    return model


if __name__ == "__main__":
    sys.exit(main())
