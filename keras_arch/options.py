"""``python -m keras_arch.run``'s options: the parser, and which options each
arch honours.

Both come from one list, :class:`keras_arch.config.RunConfig`'s fields: the
parser is built from them (:func:`build_parser`), :data:`ALL_OPTIONS` is their
flags, and the arch x option table of ``docs/options.md`` is rendered from the
refusals each Task declares (``keras_arch/tasks/``, TensorFlow-free at import)
plus its recipe's own (:func:`refused`). ``run`` refuses an option the arch
does not honour as soon as the arch is known: exit 2, one line, before any
data is read. Only what an arch really cannot do is refused.
"""
from __future__ import annotations

from keras_arch import cli, precision, registry
from keras_arch.config import GROUPS, RunConfig, options
from keras_arch.errors import UsageError

PROG = "python -m keras_arch.run"
ALL_OPTIONS = tuple(spec.flag for _, spec in options())


def build_parser():
    """The ``run`` command line: ARCH, ``--list``, and one option per RunConfig field."""
    p = cli.Parser(prog=PROG, description="Train, evaluate and export a registered architecture.",
                   epilog="Example: python -m keras_arch.run cnn --epochs 3 --export /tmp/servables")
    p.add_argument("arch", nargs="?", help="architecture name (see --list)")
    p.add_argument("--list", action="store_true", help="list the registered architectures and exit")
    groups = {name: p.add_argument_group(name) for name in GROUPS}
    defaults = RunConfig()
    for dest, spec in options():
        kwargs = {"dest": dest, "default": getattr(defaults, dest), "help": spec.help or None}
        if spec.switch:
            kwargs["action"] = "store_true"
        else:
            kwargs.update(type=spec.type, choices=spec.choices, metavar=spec.metavar)
        groups[spec.group].add_argument(spec.flag, **kwargs)
    return p


def refused(arch):
    """{option: reason} for ``arch``, as its task and recipe declare
    (:meth:`keras_arch.tasks.base.Task.refusals`); empty when it honours everything."""
    recipe = registry.get(arch)
    return registry.resolve(recipe.task).refusals(recipe)


def check(recipe, task_class, config):
    """Refuse the first option ``config`` sets that the arch does not honour,
    then contradictory combinations, then a mixed-precision policy the run
    cannot train under: one line, before any data is read.

    Args:
        recipe: the arch's :class:`keras_arch.recipe.Recipe`.
        task_class: its Task class (its declared refusals).
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    reasons = task_class.refusals(recipe)
    given = config.given()
    for flag in ALL_OPTIONS:
        if flag in given and flag in reasons:
            raise UsageError(f"{flag} is not supported for {recipe.name}: {reasons[flag]}")
    check_combinations(given)
    precision.check(recipe.name, config.precision, config.compress, task_class.float32_only)


def check_combinations(given):
    """Options that only mean something together with another."""
    if "--per-channel" in given and not {"--qat", "--tflite"} & set(given):
        raise UsageError("--per-channel only changes --qat or --tflite; give one of them")
    if "--compress-epochs" in given and not {"--prune", "--qat"} & set(given):
        raise UsageError("--compress-epochs only changes --prune or --qat fine-tuning; give one of them")
    if "--full-batch" in given and "--batch-size" in given:
        raise UsageError("--full-batch and --batch-size contradict each other; give one")


def render(archs=None):
    """The arch x option table: an arch per row, a column per option some
    arch refuses; the options every arch honours are listed below it."""
    archs = registry.names() if archs is None else archs
    table = {arch: refused(arch) for arch in archs}
    columns = [f for f in ALL_OPTIONS if any(f in r for r in table.values())]
    everywhere = [f for f in ALL_OPTIONS if f not in columns]
    lines = ["| arch | " + " | ".join(f"`{c}`" for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for arch, reasons in table.items():
        cells = [f"refused: {reasons[c]}" if c in reasons else "yes" for c in columns]
        lines.append(f"| `{arch}` | " + " | ".join(cells) + " |")
    lines += ["", "Honoured by every arch: " + ", ".join(f"`{f}`" for f in everywhere) + "."]
    float32_only = {}
    for arch in archs:
        why = registry.resolve(registry.get(arch).task).float32_only
        if why:
            float32_only.setdefault(why, []).append(f"`{arch}`")
    for why, names in float32_only.items():
        lines += ["", f"`--precision`: {', '.join(names)} refuse mixed_bfloat16 and mixed_float16 (`auto` gives "
                      f"float32): {why}. With `--prune`, `--qat` or `--tflite`, every arch refuses them (`auto` "
                      f"gives float32): the compression stages work on float32 models."]
    return "\n".join(lines)
