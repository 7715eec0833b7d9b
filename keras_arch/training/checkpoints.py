"""The checkpoint directory of a run (--checkpoint-dir DIR):

- DIR/backup/             BackupAndRestore's state, to resume an interrupted fit
- DIR/best.weights.h5     the weights with the best validation loss so far
- DIR/run.json            arch, builder arguments and data shape, to rebuild the model
"""
import json
import os

from keras_arch.errors import UsageError
from keras_arch.io import write_atomic

BEST = "best.weights.h5"
RUN = "run.json"


def callbacks(directory, run_info):
    from keras_arch.backend import keras
    os.makedirs(directory, exist_ok=True)
    write_atomic(os.path.join(directory, RUN), json.dumps(run_info, indent=2))
    return [keras.callbacks.BackupAndRestore(os.path.join(directory, "backup")),
            keras.callbacks.ModelCheckpoint(os.path.join(directory, BEST), monitor="val_loss",
                                            save_best_only=True, save_weights_only=True)]


def load_model(directory):
    """Rebuild the arch recorded in DIR/run.json and load its best weights."""
    from keras_arch import registry
    run_path, best = os.path.join(directory, RUN), os.path.join(directory, BEST)
    if not os.path.isdir(directory):
        raise UsageError(f"--checkpoint-dir {directory}: no such directory")
    if not (os.path.isfile(run_path) and os.path.isfile(best)):
        raise UsageError(f"--checkpoint-dir {directory}: no {RUN} and {BEST} (not a keras_arch checkpoint directory)")
    try:
        with open(run_path) as f:
            info = json.load(f)
        args = dict(info["model_args"])
        if "input_shape" in args:
            args["input_shape"] = tuple(args["input_shape"])
        model = registry.build(info["arch"], **args)
        model.load_weights(best)
    except (ValueError, KeyError, OSError, TypeError) as e:
        raise UsageError(f"--checkpoint-dir {directory}: corrupt checkpoint ({str(e).splitlines()[0]})") from None
    return info["arch"], model
