"""BASE/models.config (TF Serving's ModelServerConfig, text format) for every
model under BASE, with a version policy, and BASE/batching_parameters.txt
(BatchingParameters) for ``--enable_batching``.

Batching values: measured with ``python -m benchmarks --only serving_contract``
on this project's machine (2 CPU cores); see docs/serving.md.
"""
import os

from keras_arch.errors import UsageError
from keras_arch.io import write_atomic
from keras_arch.serving.export import versions

CONFIG_FILE = "models.config"
BATCHING_FILE = "batching_parameters.txt"

# From benchmarks/serving_contract.py (choose()), on the `cnn`'s guarded
# export through the server's path, 2 CPU cores (2026-11-24):
# - max_batch_size 32: the smallest batch within 10% of the best throughput
#   (13,200 images/s at 32, 14,600 at 128, 10,600 at 256; 2.4 ms per batch of
#   32 against 8.7 ms at 128: larger batches buy little and cost latency);
# - batch_timeout_micros 300: one batch-1 service time (0.33 ms), so a lone
#   request waits at most that long for company;
# - num_batch_threads 2: the CPU cores (TF Serving's batching guide; 4
#   concurrent callers gave no more than 2: 15,100 images/s both);
# - max_enqueued_batches 2: num_batch_threads (the guide's online setting).
BATCHING = {"max_batch_size": 32, "batch_timeout_micros": 300, "num_batch_threads": 2, "max_enqueued_batches": 2}

POLICY_HELP = "latest (the newest version, default), latest:N, all, or specific:V1,V2,..."


def parse_policy(text):
    """A --version-policy value -> ("latest", N) | ("all", None) | ("specific", [versions]).

    Args:
        text: "latest", "latest:N", "all" or "specific:V1,V2,...".

    Raises:
        UsageError: anything else, or a non-positive number.
    """
    kind, _, arg = text.partition(":")
    try:
        if kind == "latest":
            n = int(arg) if arg else 1
            if n > 0:
                return ("latest", n)
        elif kind == "all" and not arg:
            return ("all", None)
        elif kind == "specific" and arg:
            found = sorted({int(v) for v in arg.split(",")})
            if all(v > 0 for v in found):
                return ("specific", found)
    except ValueError:
        pass
    raise UsageError(f"--version-policy {text!r}: expected {POLICY_HELP}")


def render_policy(policy):
    kind, arg = policy
    if kind == "latest":
        return f"model_version_policy {{ latest {{ num_versions: {arg} }} }}"
    if kind == "all":
        return "model_version_policy { all {} }"
    return "model_version_policy { specific { " + " ".join(f"versions: {v}" for v in arg) + " } }"


def render(base_dir, mount_path="/models", policy=("latest", 1)):
    """(models.config text, model names) for every model under ``base_dir``."""
    names = sorted(n for n in os.listdir(base_dir)
                   if not n.startswith(".") and versions(os.path.join(base_dir, n)))
    if not names:
        raise UsageError(f"{base_dir}: no exported models (BASE/<name>/<version>/) found")
    if policy[0] == "specific":
        for n in names:
            missing = sorted(set(policy[1]) - set(versions(os.path.join(base_dir, n))))
            if missing:
                have = ", ".join(map(str, versions(os.path.join(base_dir, n))))
                raise UsageError(f"--version-policy specific: model {n} has no version "
                                 f"{', '.join(map(str, missing))} (has {have})")
    entries = "".join(
        "  config {\n"
        f'    name: "{n}"\n'
        f'    base_path: "{mount_path.rstrip("/")}/{n}"\n'
        '    model_platform: "tensorflow"\n'
        f"    {render_policy(policy)}\n"
        "  }\n" for n in names)
    return "model_config_list {\n" + entries + "}\n", names


def render_batching(num_batch_threads=None):
    """batching_parameters.txt (TF Serving's BatchingParameters, text format).

    Args:
        num_batch_threads: the serving machine's CPU cores, if not the
            measured default (max_enqueued_batches follows it).
    """
    values = dict(BATCHING)
    if num_batch_threads:
        values["num_batch_threads"] = values["max_enqueued_batches"] = num_batch_threads
    return ("# TF Serving batching (--enable_batching --batching_parameters_file=this file), written by\n"
            "# python -m keras_arch.export --model-config. Values measured on a 2-core CPU machine\n"
            "# (python -m benchmarks --only serving_contract); docs/serving.md in keras_arch.\n"
            "# Variable-length inputs (token_ids, source, sequence) are not padded by the server\n"
            "# (it would pad with each tensor's first element, a real token): clients send\n"
            "# equal lengths, 0-padded, when batching is on.\n"
            + "".join(f"{k} {{ value: {values[k]} }}\n" for k in
                      ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads")))


def write(base_dir, mount_path="/models", policy=("latest", 1), num_batch_threads=None):
    """Write BASE/models.config and BASE/batching_parameters.txt atomically.

    Args:
        base_dir: TF Serving's base directory (BASE/<name>/<version>/).
        mount_path: where BASE is mounted in the server.
        policy: from :func:`parse_policy`; the newest version by default.
        num_batch_threads: override for the serving machine's core count.

    Returns:
        (models.config path, batching_parameters.txt path, model names).
    """
    if not os.path.isdir(base_dir):
        raise UsageError(f"--model-config {base_dir}: no such directory")
    text, names = render(base_dir, mount_path, policy)
    config = write_atomic(os.path.join(base_dir, CONFIG_FILE), text)
    batching = write_atomic(os.path.join(base_dir, BATCHING_FILE), render_batching(num_batch_threads))
    return config, batching, names
