"""models.config in TF Serving's model config text format, for every model under BASE."""
import os

from keras_arch.errors import UsageError
from keras_arch.io import write_atomic
from keras_arch.serving.export import versions

CONFIG_FILE = "models.config"


def render(base_dir, mount_path="/models"):
    names = sorted(n for n in os.listdir(base_dir)
                   if not n.startswith(".") and versions(os.path.join(base_dir, n)))
    if not names:
        raise UsageError(f"{base_dir}: no exported models (BASE/<name>/<version>/) found")
    entries = "".join(
        "  config {\n"
        f'    name: "{n}"\n'
        f'    base_path: "{mount_path.rstrip("/")}/{n}"\n'
        '    model_platform: "tensorflow"\n'
        "  }\n" for n in names)
    return "model_config_list {\n" + entries + "}\n", names


def write(base_dir, mount_path="/models"):
    """Write BASE/models.config atomically; return (path, model names)."""
    if not os.path.isdir(base_dir):
        raise UsageError(f"--model-config {base_dir}: no such directory")
    text, names = render(base_dir, mount_path)
    return write_atomic(os.path.join(base_dir, CONFIG_FILE), text), names
