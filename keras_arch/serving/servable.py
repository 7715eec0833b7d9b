"""Export a trained arch: its signatures plus warmup requests from real samples."""
from keras_arch.serving import signatures as signatures_lib
from keras_arch.serving import warmup
from keras_arch.serving.export import export_servable


def sample_inputs(recipe, splits, n=8):
    """{signature_name: {input_name: array}} of real examples for warmup and checks."""
    if recipe.serving_samples:
        from keras_arch.registry import resolve
        return resolve(recipe.serving_samples)(splits, n)
    _, x, _ = splits.eval_split()
    return {"serving_default": {recipe.serving_input: x[:n]}}


def export_arch(model, recipe, base_dir, splits):
    """Export (returns the version directory). Under MultiWorkerMirroredStrategy
    saving is collective, so every worker saves; the others write to a
    temporary directory that is deleted, and get None."""
    from keras_arch.training.distribute import is_chief
    if not is_chief():
        import shutil
        import tempfile
        scratch = tempfile.mkdtemp(prefix="keras_arch-worker-export-")
        try:
            export_arch_to(model, recipe, scratch, splits)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None
    return export_arch_to(model, recipe, base_dir, splits)


def export_arch_to(model, recipe, base_dir, splits):
    requests = [req for sig, inputs in sample_inputs(recipe, splits).items()
                for req in warmup.sample_requests(sig, inputs)]
    return export_servable(model, base_dir, recipe.name,
                           signatures_lib.for_recipe(model, recipe), requests)
