"""Image classifiers with several softmax outputs, fitted at once with one
loss per output: the early-exit CNN (document 002 §3.4, adaptive networks)
and the digit + parity multitask CNN (document 000 §3.3, document 002 §3.4).
"""
import os

from keras_arch import plots
from keras_arch.data.splits import make_dataset
from keras_arch.reasons import EARLY_EXIT_QUANT, SEVERAL_OUTPUTS
from keras_arch.tasks.base import Task


class MultiOutputTask(Task):
    """One epoch-keyed fit of a model with named softmax outputs.

    ``OUTPUTS`` maps each output to its loss weight; :meth:`targets` gives
    each output's labels. Resumable; the compression stages, which fine-tune
    and score one softmax output, are refused.

    Args:
        recipe: the arch's recipe.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    OUTPUTS = {}
    no_compression = {"--prune": SEVERAL_OUTPUTS, "--qat": SEVERAL_OUTPUTS, "--tflite": SEVERAL_OUTPUTS}

    def targets(self, y):
        return {name: y for name in self.OUTPUTS}

    def compile_model(self, model, settings, steps_per_epoch):
        from keras_arch.training.schedules import optimizer_for
        loss = self.recipe.loss
        model.compile(optimizer=optimizer_for(settings, steps_per_epoch),
                      loss={name: loss for name in self.OUTPUTS}, loss_weights=dict(self.OUTPUTS),
                      metrics={name: ["accuracy"] for name in self.OUTPUTS}, jit_compile=settings.jit)
        return model

    def evaluate(self, fitted, splits, settings):
        split, x, y = splits.eval_split()
        result = fitted.model.evaluate(make_dataset(x, self.targets(y), 256), verbose=0, return_dict=True)
        return {f"{split}_{name}_accuracy": float(result[f"{name}_accuracy"]) for name in self.OUTPUTS} | {
            f"{split}_loss": float(result["loss"])}

    def summary_rows(self, m):
        split = m["eval_split"]
        return [(f"{split} {name} accuracy", f"{m[f'{split}_{name}_accuracy']:.4f}") for name in self.OUTPUTS]


class MultitaskTask(MultiOutputTask):
    """The shared-trunk CNN on digit + parity with weighted losses
    L = w_digit · CE(digit) + w_parity · CE(parity), w = 1.0, 0.5."""
    OUTPUTS = {"digit": 1.0, "parity": 0.5}

    def targets(self, y):
        return {"digit": y, "parity": y % 2}

    def extra_settings(self, splits):
        return {"loss_weights": dict(self.OUTPUTS)}

    def summary_rows(self, m):
        return [("loss weights", ", ".join(f"{k} {v:g}" for k, v in self.OUTPUTS.items()))] + super().summary_rows(m)

    def signatures(self, model):
        """serving_default: image -> digit and parity probabilities."""
        from keras_arch.serving.signatures import single_input_outputs
        return single_input_outputs(model, "image", {"probabilities": "digit", "parity_probabilities": "parity"})


class EarlyExitTask(MultiOutputTask):
    """The three-exit CNN (every head's cross-entropy, equal weights), then
    accuracy against compute as the exit threshold moves."""
    no_compression = {**MultiOutputTask.no_compression, "--qat": EARLY_EXIT_QUANT, "--tflite": EARLY_EXIT_QUANT}

    @property
    def OUTPUTS(self):  # noqa: N802
        from keras_arch.models.early_exit import NUM_EXITS
        return {f"exit_{i}": 1.0 for i in range(1, NUM_EXITS + 1)}

    def evaluate(self, fitted, splits, settings):
        from keras_arch.models.early_exit import tradeoff
        split, x, y = splits.eval_split()
        rows, flops = tradeoff(fitted.model, x, y)
        by_t = {r["threshold"]: r for r in rows}
        return {"tradeoff": rows, **flops, f"{split}_accuracy_full": by_t[1.0]["accuracy"],
                f"{split}_accuracy_first_exit": by_t[0.0]["accuracy"]}

    def summary_rows(self, m):
        rows = [("threshold", "accuracy / compute vs plain CNN / exits 1-2-3")]
        return rows + [(f"  {r['threshold']:g}", f"{r['accuracy']:.4f} / {r['relative_compute']:.2f} / "
                                                + "-".join(f"{s:.2f}" for s in r["exit_shares"]))
                       for r in m["tradeoff"]]

    def plots(self, model, splits, metrics, directory):
        return [plots.early_exit_tradeoff(metrics["tradeoff"], os.path.join(directory, "early_exit.png"))]

    def signatures(self, model):
        """serving_default: image -> probabilities of every exit (clients choose a threshold)."""
        from keras_arch.models.early_exit import NUM_EXITS
        from keras_arch.serving.signatures import single_input_outputs
        heads = {f"exit_{i}": f"exit_{i}" for i in range(1, NUM_EXITS + 1)}
        return single_input_outputs(model, "image", {"probabilities": f"exit_{NUM_EXITS}", **heads})
