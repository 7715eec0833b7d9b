"""``--precision``: the Keras mixed-precision policy a run trains under.

- ``float32`` (default): everything in float32.
- ``mixed_bfloat16``: layers compute in bfloat16, variables stay float32.
  On CPUs with AMX (and on GPUs of compute capability 8.0 and later)
  bfloat16 matrix products run several times faster than float32; a whole
  BERT step gains less, since its elementwise ops, dropout and optimizer do
  not (docs/measurements.md, "float32 against bfloat16").
  bfloat16 has float32's exponent range, so no loss scaling is needed.
- ``mixed_float16``: layers compute in float16 with dynamic loss scaling
  (Keras wraps the optimizer in a LossScaleOptimizer); for GPUs with tensor
  cores. On CPU float16 is emulated and slower than float32.
- ``auto``: mixed_bfloat16 where the hardware multiplies bfloat16 natively (see
  above), float32 elsewhere, and float32 whenever the run compresses
  (``--prune``, ``--qat``, ``--tflite``: TFMOT's wrappers and the int8
  converter work in float32) or its arch is float32-only.

Under either mixed policy the numerically sensitive parts stay float32: every
builder's output layer (softmax probabilities and the losses computed on
them), the attention and fusion softmaxes (:func:`keras_arch.layers.numerics.softmax`),
the MoE router, Batch/LayerNormalization statistics (Keras computes them in
float32) and the optimizer's variables. An exported SavedModel's signature
takes and returns float32.

Anchor: the Keras mixed-precision guide
(https://www.tensorflow.org/guide/mixed_precision): a float32 output
activation, float32 variables, loss scaling for float16 only.

This module reads no TensorFlow at import (``run --help`` stays instant).
"""
from __future__ import annotations

from keras_arch.errors import UsageError

CHOICES = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
MIXED = ("mixed_bfloat16", "mixed_float16")
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    """The feature flags the (first) CPU reports; empty where there is no
    ``/proc/cpuinfo`` (macOS, Windows)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def gpu_compute_capabilities():
    """(major, minor) of every visible GPU (imports TensorFlow)."""
    import tensorflow as tf
    out = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if capability:
            out.append(tuple(capability))
    return out


def native_bfloat16(flags=None, gpus=None):
    """(True/False, why): whether this machine multiplies bfloat16 natively.
    ``flags`` and ``gpus`` default to this machine's (:func:`cpu_flags`,
    :func:`gpu_compute_capabilities`)."""
    gpus = gpu_compute_capabilities() if gpus is None else gpus
    if gpus:
        if all(c >= (8, 0) for c in gpus):
            return True, f"GPU compute capability {'.'.join(map(str, min(gpus)))} >= 8.0"
        return False, f"GPU compute capability {'.'.join(map(str, min(gpus)))} < 8.0 has no bfloat16 tensor cores"
    flags = cpu_flags() if flags is None else flags
    found = [f for f in CPU_BF16_FLAGS if f in flags]
    if found:
        return True, f"CPU reports {' and '.join(found)}"
    return False, "CPU reports neither avx512_bf16 nor amx_bf16"


def check(arch, precision, compress, float32_only=None):
    """Refuse an explicit mixed policy that ``arch`` or the run cannot honour
    (one line, before any work starts).

    Args:
        arch: the arch's name, for the message.
        precision: the asked policy (one of :data:`CHOICES`).
        compress: whether the run prunes, quantizes or converts to TFLite.
        float32_only: why the arch's task trains in float32 only, or None.
    """
    if precision not in CHOICES:
        raise UsageError(f"--precision must be one of {', '.join(CHOICES)}, got {precision!r}")
    if precision not in MIXED:
        return
    if float32_only:
        raise UsageError(f"--precision {precision} is not supported for {arch}: {float32_only}")
    if compress:
        raise UsageError(f"--precision {precision} is not supported with --prune, --qat or --tflite "
                         f"({arch}): TFMOT's pruning and quantization wrappers and the int8 TFLite converter "
                         f"work on float32 models; train in float32 (or --precision auto) to compress")


def resolve(arch, precision, compress, float32_only=None, flags=None, gpus=None):
    """(policy name, why) for a run of ``arch`` asking for ``precision``
    (after :func:`check`); ``auto`` decides here (TensorFlow is imported to
    look for GPUs).

    Args:
        arch: the arch's name.
        precision: the asked policy.
        compress: whether the run compresses.
        float32_only: why the arch trains in float32 only, or None.
        flags, gpus: this machine's CPU flags and GPU compute capabilities
            (default: read them).
    """
    if precision != "auto":
        return precision, "asked for"
    if float32_only:
        return "float32", f"auto: {arch} is float32-only ({float32_only})"
    if compress:
        return "float32", "auto: compression works on float32 models"
    native, reason = native_bfloat16(flags, gpus)
    return ("mixed_bfloat16" if native else "float32"), f"auto: {reason}"
