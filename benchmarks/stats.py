"""Accuracy over several seeds and folds, not one lucky split.

Every accuracy a benchmark reports goes through :func:`spread` (mean, standard
deviation, min-max, n); rt-polarity figures come from :func:`text_folds`,
five stratified folds each held out in turn, whose split nobody tuned on
(recipes were tuned on the inner validation splits of folds 0 and 1).
"""
import contextlib
import os
import tempfile

import numpy as np

FOLD_SEED = 12345
SEEDS = (0, 1, 2)


def spread(values):
    """{"mean", "std", "min", "max", "n"} of ``values`` (population std)."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max()),
            "n": int(v.size)}


def text(values, digits=4):
    """"0.7812 ± 0.0101 (0.7650-0.7950, n=15)"."""
    s = spread(values)
    return (f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f} "
            f"({s['min']:.{digits}f}-{s['max']:.{digits}f}, n={s['n']})")


@contextlib.contextmanager
def text_folds(data_dir, folds=5, seed=FOLD_SEED):
    """Yield [(fold, train_dir, test_dir)]: ``data_dir``'s class files split
    into ``folds`` stratified folds, each written as a test directory beside
    a training directory of the other folds, in a temporary directory that is
    removed afterwards (the data is never copied into the repository). Feed
    them to ``run ARCH --data-dir TRAIN --test-dir TEST``."""
    from sklearn.model_selection import StratifiedKFold
    from keras_arch.data.text import read_class_dir
    texts, labels, classes = read_class_dir(data_dir)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with tempfile.TemporaryDirectory(prefix="keras-arch-folds-") as root:
        out = []
        for k, (train, test) in enumerate(splitter.split(texts, labels)):
            dirs = []
            for part, idx in (("train", train), ("test", test)):
                directory = os.path.join(root, f"fold{k}", part)
                os.makedirs(directory)
                for c, name in enumerate(classes):
                    with open(os.path.join(directory, name + ".txt"), "w", encoding="utf-8") as f:
                        f.write("\n".join(texts[idx][labels[idx] == c]) + "\n")
                dirs.append(directory)
            out.append((k, *dirs))
        yield out
