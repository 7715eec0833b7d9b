"""Command line: ``python -m keras_arch.run ARCH [options]`` (also ``keras-arch``).

Thin by design: the options are :class:`keras_arch.config.RunConfig`'s fields,
:func:`keras_arch.experiment.prepare` checks them once, and
:func:`keras_arch.training.train_lib.run` runs the experiment. Nothing here
imports TensorFlow before the run is known to be valid, so ``--help``,
``--list``, an unknown ARCH and every refusal answer at once.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from keras_arch import cli, errata, quiet, registry
from keras_arch.config import RunConfig
from keras_arch.errors import UsageError
from keras_arch.experiment import prepare
from keras_arch.io import write_atomic
from keras_arch.options import PROG, build_parser


def list_text():
    rows = [(n, registry.get(n)) for n in registry.names()]
    width = max(len(n) for n, _ in rows)
    return "\n".join(f"{n:<{width}}  {r.summary}  [{r.source}]" for n, r in rows) + "\n\n" + errata.text()


def summary_table(m):
    """The rows the run put in ``m["summary"]``, plus the export path."""
    rows = [tuple(r) for r in m["summary"]]
    if m.get("export_path"):
        rows.append(("export", m["export_path"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv=None):
    return cli.run_main(PROG, _main, argv)


def _main(argv):
    args = build_parser().parse_args(argv)
    if args.list:
        print(list_text())
        return 0
    experiment = _prepare(args)
    quiet.enable()  # the command line's choice: TensorFlow's known start-up noise stays out of the output
    _, metrics = _run(experiment)
    print(summary_table(metrics))
    return 0


def _prepare(args):
    if not args.arch:
        raise UsageError("an ARCH is required (see --list)")
    return prepare(args.arch, RunConfig.from_args(args))


def _run(experiment):
    """Run a prepared experiment and write --metrics-json; (model, metrics)."""
    from keras_arch.training import train_lib  # imports TensorFlow: only once the run is known to be valid
    model, metrics = train_lib.run(experiment)
    if experiment.config.metrics_json:
        write_atomic(experiment.config.metrics_json, json.dumps(metrics, indent=2, sort_keys=True))
    return model, metrics


def option_names(parser=None):
    """{keyword: flag} of every ``run`` option (``data_dir``: ``--data-dir``)."""
    parser = parser or build_parser()
    return {a.dest: a.option_strings[0] for a in parser._actions
            if a.option_strings and a.dest not in ("help", "list")}


def argv_for(arch, **options):
    """The command line ``python -m keras_arch.run`` would get for these
    keyword options: True adds a switch, False and None leave the option out,
    anything else becomes ``--flag=value``."""
    parser = build_parser()
    flags = option_names(parser)
    switches = {a.dest for a in parser._actions if isinstance(a, argparse._StoreTrueAction)}
    argv = [arch]
    for key, value in options.items():
        if key not in flags:
            raise UsageError(f"unknown option {key!r}; options: {', '.join(sorted(flags))}")
        if key in switches:
            if not isinstance(value, bool):
                raise UsageError(f"{flags[key]} ({key}=) is a switch: pass True or False, got {value!r}")
            argv += [flags[key]] if value else []
        elif value is not None:
            argv.append(f"{flags[key]}={os.fspath(value) if isinstance(value, os.PathLike) else value}")
    return argv


def train(arch, **options):
    """Train ``arch`` as ``python -m keras_arch.run ARCH`` would, from Python.

    The keyword options are the command line's, spelled with underscores
    (``data_dir="../shared/data/mnist"`` is ``--data-dir``; ``quiet=True`` is
    ``--quiet``). They go through the same parser and the same checks before
    anything is read or trained, so the same options give the same
    refusals (a :class:`keras_arch.errors.UsageError` with the line the
    command prints) and, for the same seed, the same metrics. Unlike the
    command line, it leaves TensorFlow's logging as the caller has it
    (:func:`keras_arch.quiet.enable` quiets it).

    Args:
        arch: a registered arch (``python -m keras_arch.run --list``).
        **options: ``run``'s options; see ``python -m keras_arch.run --help``.

    Returns:
        (the trained tf_keras model, the metrics dict that ``--metrics-json``
        writes).
    """
    return _run(_prepare(build_parser().parse_args(argv_for(arch, **options))))


if __name__ == "__main__":
    sys.exit(main())
