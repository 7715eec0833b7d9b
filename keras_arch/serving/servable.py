"""Export a trained arch: its signatures plus warmup requests from real samples."""
from keras_arch.serving import warmup
from keras_arch.serving.export import export_servable


def sample_inputs(recipe, splits, n=8, task=None):
    """{signature_name: {input_name: array}} of real examples for warmup and
    checks: the arch's task says (``Task.serving_samples``)."""
    from keras_arch.tasks.base import for_arch
    return (task or for_arch(recipe.name)).serving_samples(splits, n)


def export_arch(model, recipe, base_dir, splits, task=None):
    """Export (returns the version directory). Under MultiWorkerMirroredStrategy
    saving is collective, so every worker saves; the others write to a
    temporary directory that is deleted, and get None."""
    from keras_arch.training.distribute import is_chief
    if not is_chief():
        import shutil
        import tempfile
        scratch = tempfile.mkdtemp(prefix="keras_arch-worker-export-")
        try:
            export_arch_to(model, recipe, scratch, splits, task)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None
    return export_arch_to(model, recipe, base_dir, splits, task)


def export_arch_to(model, recipe, base_dir, splits, task=None):
    """The export itself: the task's signatures and warmup requests."""
    from keras_arch.tasks.base import for_arch
    task = task or for_arch(recipe.name)
    requests = [req for sig, inputs in task.serving_samples(splits).items()
                for req in warmup.sample_requests(sig, inputs)]
    return export_servable(model, base_dir, recipe.name, task.signatures(model), requests)
