"""Same seed, same metrics."""
import tensorflow as tf

from keras_arch.backend import keras


def seed_everything(seed, replayable=False, deterministic=True):
    """Python/NumPy/TensorFlow seeds plus op determinism.

    Args:
        seed: the run's seed.
        replayable: runs with ``--checkpoint-dir``: dropout & co. draw from
            tf.random.Generators, which :class:`keras_arch.training.trainer.EpochSeeds`
            rewinds at every epoch, so a resumed run draws what an
            uninterrupted one would have (Keras's legacy random ops keep
            hidden state that no checkpoint holds).
        deterministic: op determinism (XLA, ``--jit``, has no deterministic
            MaxPool gradient: ``--jit`` trades this away).
    """
    if replayable:
        keras.backend.experimental.enable_tf_random_generator()
    else:
        keras.backend.experimental.disable_tf_random_generator()
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
