"""The checkpoint directory of a run (--checkpoint-dir DIR):

- DIR/backup/             BackupAndRestore's state, to resume an interrupted fit
- DIR/best.weights.h5     the weights with the best validation loss so far
- DIR/run.json            arch, builder arguments and data shape, to rebuild the model
- DIR/history.csv         one line per finished epoch (the chief's), across restarts

A rerun of the same command resumes after the last finished epoch: the
trainer reads that epoch from the backup and starts its data pipeline there.
"""
import csv
import json
import os

from keras_arch import registry
from keras_arch.errors import UsageError
from keras_arch.io import write_atomic

BEST = "best.weights.h5"
RUN = "run.json"


BACKUP = "backup"
HISTORY = "history.csv"
# What must match for a run to resume from DIR: anything else (epochs, say) may change.
# The data and the model's arguments too: resumed on other data or another vocabulary,
# the weights would either not load or go on learning something else.
SAME_RUN = ("arch", "dataset", "data_dir", "test_dir", "batch_size", "optimizer", "lr_schedule",
            "learning_rate", "seed", "builder_kwargs", "model_args")


def completed_epochs(directory):
    """Epochs a previous run in DIR finished (0 for a fresh DIR), read from
    BackupAndRestore's own checkpoint. A backup that cannot be read is an error:
    silently starting over would throw the user's training away."""
    import tensorflow as tf
    backup = os.path.join(directory, BACKUP)
    if not _has_backup(directory):
        return 0
    try:
        latest = tf.train.latest_checkpoint(os.path.join(backup, "chief")) or tf.train.latest_checkpoint(backup)
        if latest is None:
            raise ValueError(f"no checkpoint index in {backup}")
        reader = tf.train.load_checkpoint(latest)
        key = next((k for k in reader.get_variable_to_shape_map() if "ckpt_saved_epoch" in k), None)
        if key is None:
            raise ValueError("the checkpoint has no saved epoch")
        return int(reader.get_tensor(key)) + 1
    except (ValueError, tf.errors.OpError, OSError) as e:
        raise UsageError(f"--checkpoint-dir {directory}: the backup in {backup} is corrupt "
                         f"({str(e).splitlines()[0][:160]}); move it away to start over") from None


def _has_backup(directory):
    """An interrupted run left files in DIR/backup (a finished one leaves it empty)."""
    return any(files for _, _, files in os.walk(os.path.join(directory, BACKUP)))


START_OVER = "remove it or choose another --checkpoint-dir"


def _state(directory):
    return "was interrupted" if _has_backup(directory) else "finished"


def _recorded(directory):
    """DIR/run.json as a dict, None when there is none (a fresh directory)."""
    path = os.path.join(directory, RUN)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            before = json.load(f)
    except (ValueError, OSError) as e:
        raise UsageError(f"--checkpoint-dir {directory}: corrupt {RUN} ({e}); {START_OVER}") from None
    if not (isinstance(before, dict) and isinstance(before.get("arch"), str)
            and isinstance(before.get("config"), dict)):
        raise UsageError(f"--checkpoint-dir {directory}: corrupt {RUN} (no arch and config); {START_OVER}")
    return before


def check_arch(directory, arch):
    """Refuse DIR when its run.json names another arch, finished or not.
    TensorFlow-free: ``run`` calls it before reading any data."""
    before = _recorded(directory)
    if before is not None and before["arch"] != arch:
        raise UsageError(f"--checkpoint-dir {directory}: holds a different run (arch {before['arch']!r} -> "
                         f"{arch!r}) that {_state(directory)}; {START_OVER}")


def check_same_run(directory, run_info):
    """Refuse DIR when it holds a different run (arch or SAME_RUN config),
    whether that run finished or was interrupted. The same run again resumes
    an interrupted run; after a finished one it trains again from epoch 1
    (BackupAndRestore leaves nothing to resume), replacing best.weights.h5
    and run.json and appending its epochs to history.csv."""
    before = _recorded(directory)
    if before is None:
        return
    old, new = _identity(before), _identity(json.loads(json.dumps(run_info, default=str)))
    changed = {k: (old[k], new[k]) for k in SAME_RUN if old[k] != new[k]}
    if changed:
        what = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changed.items())
        raise UsageError(f"--checkpoint-dir {directory}: holds a different run ({what}) that "
                         f"{_state(directory)}; {START_OVER}")


def _identity(info):
    """The SAME_RUN fields of a run.json (model_args beside config)."""
    config = info.get("config", {})
    out = {"arch": info.get("arch")}
    for key in SAME_RUN[1:]:
        out[key] = info.get(key) if key == "model_args" else config.get(key)
    return out


def check_writable(directory):
    """Everything a resumed run rewrites (the backup, best weights, run.json,
    history.csv) must be writable, or the run would fail after an epoch."""
    backup = os.path.join(directory, BACKUP)
    paths = [directory] + [os.path.join(directory, n) for n in (BEST, RUN, HISTORY)]
    for root, dirs, files in os.walk(backup):
        paths += [root] + [os.path.join(root, f) for f in files]
    for path in paths:
        if os.path.exists(path) and not os.access(path, os.W_OK | (os.X_OK if os.path.isdir(path) else 0)):
            raise UsageError(f"--checkpoint-dir {directory}: {path} is not writable; the run rewrites it every epoch")


def check_backup(directory):
    """Every tensor of an interrupted run's backup reads back: a truncated or
    zeroed file is one line now, not a traceback inside fit."""
    import tensorflow as tf
    if not _has_backup(directory):
        return
    backup = os.path.join(directory, BACKUP)
    try:
        latest = tf.train.latest_checkpoint(os.path.join(backup, "chief")) or tf.train.latest_checkpoint(backup)
        reader = tf.train.load_checkpoint(latest)
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except Exception as e:  # a damaged file raises ValueError, IndexError, DataLossError...
        raise UsageError(f"--checkpoint-dir {directory}: the backup in {backup} is corrupt "
                         f"({str(e).splitlines()[0][:160]}); move it away to start over") from None


def best_so_far(directory, monitor="val_loss"):
    """The best (lowest) ``monitor`` of the epochs history.csv records, or None."""
    path = os.path.join(directory, HISTORY)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, newline="") as f:
            values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor) not in (None, "")]
    except (OSError, ValueError) as e:
        raise UsageError(f"--checkpoint-dir {directory}: {HISTORY} cannot be read ({e}); {START_OVER}") from None
    return min(values) if values else None


def callbacks(directory, run_info, chief=True, resumed=False):
    """BackupAndRestore (resume), the best weights and, on the chief, run.json
    and an epoch log (history.csv, appended across restarts).

    Args:
        directory: the --checkpoint-dir.
        run_info: what run.json records.
        chief: whether this process writes run.json and history.csv.
        resumed: the run resumes an interrupted one: best.weights.h5 is kept
            unless an epoch beats the best val_loss history.csv records.
    """
    from keras_arch.backend import keras
    os.makedirs(directory, exist_ok=True)
    best = keras.callbacks.ModelCheckpoint(os.path.join(directory, BEST), monitor="val_loss",
                                           save_best_only=True, save_weights_only=True)
    if resumed:  # the best so far is in history.csv: an epoch after the restart must beat it to replace the file
        previous = best_so_far(directory)
        if previous is not None:
            best.best = previous
    out = [keras.callbacks.BackupAndRestore(os.path.join(directory, BACKUP)), best]
    if chief:
        write_atomic(os.path.join(directory, RUN), json.dumps(run_info, indent=2, default=str))
        out.append(keras.callbacks.CSVLogger(os.path.join(directory, HISTORY), append=True))
    return out


def load_model(directory):
    """Rebuild the arch recorded in DIR/run.json and load its best weights."""
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
        # the run's own builder arguments (a recipe's per-data-set ones, e.g. attention's
        # 128-wide embedding on real sentences), then the data's
        model = registry.build(info["arch"], **{**info.get("config", {}).get("builder_kwargs", {}), **args})
        model.load_weights(best)
    except (ValueError, KeyError, OSError, TypeError) as e:
        raise UsageError(f"--checkpoint-dir {directory}: corrupt checkpoint ({str(e).splitlines()[0]})") from None
    return info["arch"], model
