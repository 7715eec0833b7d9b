"""Which ``run`` options each arch honours, as its Task declares them
(``keras_arch/tasks/``, TensorFlow-free at import) plus its recipe's own
refusals: checked by ``python -m keras_arch.run`` as soon as the arch is known
(exit 2, one line, before any data is read), and rendered into README's arch x
option table (a test compares).

Only what an arch really cannot do is refused; everything else is honoured.
The compression refusals reuse the support matrix's reasons where it says no
(``keras_arch.optimize.support``; a test checks that every "no" cell of
README's matrix is refused here).

    python -m keras_arch.options --readme README.md     rewrite README's table
"""
import argparse
import sys

from keras_arch.errors import UsageError

BEGIN, END = "<!-- options-table:begin -->", "<!-- options-table:end -->"

# Every option of ``python -m keras_arch.run`` (a test compares with its parser).
ALL_OPTIONS = (
    "--dataset", "--data-dir", "--test-dir",
    "--epochs", "--batch-size", "--learning-rate", "--optimizer", "--lr-schedule", "--full-batch", "--seed",
    "--pretrained", "--max-length", "--freeze-encoder",
    "--combine", "--negatives", "--labels-per-class",
    "--prune", "--qat", "--tflite", "--per-channel", "--compress-epochs",
    "--strategy", "--logical-devices", "--precision", "--jit",
    "--export", "--checkpoint-dir", "--plot", "--logdir", "--metrics-json", "--quiet",
)


def refused(arch):
    """{option: reason} for ``arch``, as its task and recipe declare
    (:meth:`keras_arch.tasks.base.Task.refusals`); empty when it honours everything."""
    from keras_arch import registry
    from keras_arch.tasks.base import task_class
    recipe = registry.get(arch)
    return task_class(recipe).refusals(recipe)


def check_config(arch, config):
    """:func:`check` for a :class:`keras_arch.config.RunConfig` (Python
    callers of the trainer): the options it sets that are not the defaults."""
    import dataclasses
    from keras_arch.config import RunConfig
    default = RunConfig()
    given = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(config)
             if getattr(config, f.name) != getattr(default, f.name)]
    check(arch, [g for g in given if g in ALL_OPTIONS])
    from keras_arch import precision
    precision.check(arch, config.precision, config.compress)


def check(arch, given):
    """Refuse the first option in ``given`` (flags like "--tflite") that
    ``arch`` does not honour, then contradictory combinations."""
    reasons = refused(arch)
    for flag in ALL_OPTIONS:
        if flag in given and flag in reasons:
            raise UsageError(f"{flag} is not supported for {arch}: {reasons[flag]}")
    check_combinations(given)


def check_combinations(given):
    """Options that only mean something together with another."""
    if "--per-channel" in given and not {"--qat", "--tflite"} & set(given):
        raise UsageError("--per-channel only changes --qat or --tflite; give one of them")
    if "--compress-epochs" in given and not {"--prune", "--qat"} & set(given):
        raise UsageError("--compress-epochs only changes --prune or --qat fine-tuning; give one of them")
    if "--full-batch" in given and "--batch-size" in given:
        raise UsageError("--full-batch and --batch-size contradict each other; give one")


def render(archs=None):
    """README's table: an arch per row, a column per option some arch refuses;
    the options every arch honours are listed below it."""
    if archs is None:
        from keras_arch import registry
        archs = registry.names()
    columns = [f for f in ALL_OPTIONS if any(f in refused(a) for a in archs)]
    everywhere = [f for f in ALL_OPTIONS if f not in columns]
    lines = ["| arch | " + " | ".join(f"`{c}`" for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for arch in archs:
        reasons = refused(arch)
        cells = [f"refused: {reasons[c]}" if c in reasons else "yes" for c in columns]
        lines.append(f"| `{arch}` | " + " | ".join(cells) + " |")
    lines += ["", "Honoured by every arch: " + ", ".join(f"`{f}`" for f in everywhere) + "."]
    from keras_arch import precision
    float32_only = {}
    for arch in archs:
        why = precision.float32_only(arch)
        if why:
            float32_only.setdefault(why, []).append(f"`{arch}`")
    for why, names in float32_only.items():
        lines += ["", f"`--precision`: {', '.join(names)} refuse mixed_bfloat16 and mixed_float16 (`auto` gives "
                      f"float32): {why}. With `--prune`, `--qat` or `--tflite`, every arch refuses them (`auto` "
                      f"gives float32): the compression stages work on float32 models."]
    return "\n".join(lines)


def readme_block(text):
    """The table between this module's markers in README ``text``."""
    from keras_arch.readme import block
    return block(text, BEGIN, END)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m keras_arch.options", description=__doc__.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("--readme", metavar="FILE", help="rewrite the table between the options-table markers of FILE")
    args = p.parse_args(argv)
    table = render()
    if args.readme:
        from keras_arch.readme import rewrite
        rewrite(args.readme, BEGIN, END, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
