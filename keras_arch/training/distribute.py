"""tf.distribute for every arch (document 002 §4.2 sketches distributed
training with torch.multiprocessing; it fails as written: ``parser`` is
undefined and no process group is initialised).

- ``--strategy auto``: MirroredStrategy over all GPUs when there are several,
  otherwise the default strategy; ``one-device``; ``mirrored`` (all GPUs, or
  all logical CPUs when there is no GPU); ``multi-worker``:
  MultiWorkerMirroredStrategy, which reads the cluster from TF_CONFIG.
- ``--logical-devices N`` splits the CPU (or a single GPU) into N logical
  devices before TensorFlow initialises, to run several replicas on one machine.
- ``--batch-size`` is always the global batch; :func:`per_replica_batch` is the
  one place the per-replica batch is derived.

The trainer enters ``strategy.scope()`` around building and compiling; the
builders know nothing of strategies.
"""
import contextlib
import json
import os

import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.config import STRATEGIES
from keras_arch.errors import UsageError

GPU_MEMORY_PER_LOGICAL_GPU_MB = 8192


def configure_devices(logical_devices=None):
    """Split the first GPU (if any) or the CPU into ``logical_devices`` devices.
    Must run before TensorFlow creates its context (before any op)."""
    if not logical_devices or logical_devices == 1:
        return
    gpus = tf.config.list_physical_devices("GPU")
    target, make = (gpus[0], lambda: tf.config.LogicalDeviceConfiguration(
        memory_limit=GPU_MEMORY_PER_LOGICAL_GPU_MB)) if gpus else (
        tf.config.list_physical_devices("CPU")[0], tf.config.LogicalDeviceConfiguration)
    try:
        tf.config.set_logical_device_configuration(target, [make() for _ in range(logical_devices)])
    except RuntimeError as e:  # TensorFlow was already initialised
        if len(tf.config.list_logical_devices(target.device_type)) != logical_devices:
            raise UsageError(f"--logical-devices {logical_devices}: too late, TensorFlow is initialised ({e})") from None


def task():
    """(type, index) of this process in TF_CONFIG, or None."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        t = json.loads(raw)["task"]
        return t["type"], int(t["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise UsageError(f"TF_CONFIG is not valid JSON with a task type and index ({e})") from None


def is_chief():
    """The chief writes checkpoints and exports; the other workers only train.
    Without a "chief" task in the cluster, worker 0 is the chief."""
    t = task()
    if t is None:
        return True
    cluster = json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    if "chief" in cluster:
        return t[0] == "chief"
    return t == ("worker", 0)


def make_strategy(name="auto"):
    if name not in STRATEGIES:
        raise UsageError(f"unknown --strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    if name == "multi-worker":  # first: collective ops must be set up before TensorFlow's context exists
        if task() is None:
            raise UsageError("--strategy multi-worker needs TF_CONFIG (cluster and task); see docs/distribution.md, Multi-worker")
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as e:
            raise UsageError(f"--strategy multi-worker: {e} (create it before anything else runs)") from None
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if name == "one-device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if gpus:  # "mirrored"
        return tf.distribute.MirroredStrategy()
    # "mirrored" without GPUs: every logical CPU; NCCL is GPU-only, so reduce through one device.
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())


def per_replica_batch(global_batch, strategy):
    """The batch each replica sees; the global batch must split evenly."""
    replicas = strategy.num_replicas_in_sync
    if global_batch % replicas:
        raise UsageError(f"--batch-size {global_batch} (the global batch) does not split over {replicas} replicas; "
                         f"use a multiple of {replicas}")
    return global_batch // replicas


def describe(strategy, options):
    """What ``--metrics-json`` records about the run's distribution."""
    default = strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
    return {"strategy": options.strategy or "auto",
            "class": "default" if default else type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync,
            "devices": ["default"] if default else list(strategy.extended.worker_devices),
            "chief": is_chief()}


@contextlib.contextmanager
def scope(name="auto", policy="float32"):
    """The strategy scope of a run (a no-op for the default strategy), under
    its mixed-precision policy; yields the strategy. The global policy is
    float32 again afterwards.

    Args:
        name: the ``--strategy`` (None: auto).
        policy: the Keras mixed-precision policy, already resolved from
            "auto" by :func:`keras_arch.precision.resolve`.
    """
    mixed = policy != "float32"
    if mixed:
        keras.mixed_precision.set_global_policy(policy)
    strategy = make_strategy(name or "auto")
    default = strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
    try:
        if default:  # nothing to enter
            yield strategy
        else:
            with strategy.scope():
                yield strategy
    finally:
        if mixed:
            keras.mixed_precision.set_global_policy("float32")
