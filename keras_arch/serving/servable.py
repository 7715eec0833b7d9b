"""Export a trained arch: its task's signatures plus warmup requests from real samples."""
import shutil
import tempfile

from keras_arch.serving import warmup
from keras_arch.serving.export import export_servable
from keras_arch.tasks.base import for_arch
from keras_arch.training.distribute import is_chief


def export_arch(model, recipe, base_dir, splits, task=None):
    """Export ``model`` as the next version of BASE/<arch>; returns the
    version directory. Under MultiWorkerMirroredStrategy saving is
    collective, so every worker saves; the others write to a temporary
    directory that is deleted, and get None.

    Args:
        model: the trained model (what the task's signatures call).
        recipe: the arch's recipe (its name under BASE).
        base_dir: TF Serving's base directory.
        splits: the run's data (real samples for the warmup requests).
        task: the run's Task (its signatures and sample inputs); default:
            the arch's task with every option at the recipe's value.
    """
    task = task or for_arch(recipe.name)
    if not is_chief():
        scratch = tempfile.mkdtemp(prefix="keras_arch-worker-export-")
        try:
            _export(model, recipe, scratch, splits, task)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None
    return _export(model, recipe, base_dir, splits, task)


def _export(model, recipe, base_dir, splits, task):
    requests = [req for sig, inputs in task.serving_samples(splits).items()
                for req in warmup.sample_requests(sig, inputs)]
    return export_servable(model, base_dir, recipe.name, task.signatures(model), requests)
