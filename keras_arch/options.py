"""Which ``run`` options each arch honours: one declaration, free of
TensorFlow, checked by ``python -m keras_arch.run`` as soon as the arch is
known (exit 2, one line, before any data is read), and rendered into README's
arch x option table (a test compares).

Only what an arch really ignores (or cannot do) is refused; everything else is
honoured. The compression refusals reuse the support matrix's reasons
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
    "--strategy", "--logical-devices", "--mixed-precision", "--jit",
    "--export", "--checkpoint-dir", "--plot", "--logdir", "--metrics-json", "--quiet",
)

# Reasons (short: they are README cells too). Compression ones quote the
# support matrix where it says "no".
BERT_ONLY = "bert only"
KG_ONLY = "kg archs only"
KG_MLP_ONLY = "kg's MLP scorer only"
TRANSFER_ONLY = "transfer only"
GENERATED = "generated data only"
FULL_BATCH = "single-fit archs only (this one runs its own fits)"
NO_COMPRESSION_STAGE = "its runner has no compression stage"
NO_COMPRESSION = "needs --qat, --tflite or --prune, all refused here"
NO_RESUME = "its runner neither checkpoints nor resumes"
SEVERAL_INPUTS = "several inputs; the TFLite path converts one-input models (support matrix)"
SUBCLASSED = "TFBertModel is a subclassed model; tfmot wraps functional layers only (support matrix)"
EARLY_EXIT_QUANT = "tfmot finds no layer to quantize (support matrix)"
ATTENTION_INT8 = "TF's int8 converter crashes on Embedding+LSTM+Attention (support matrix)"


def _family_options(*keep):
    """Refusals of the family-specific options, except the ``keep`` ones."""
    out = {"--pretrained": BERT_ONLY, "--max-length": BERT_ONLY, "--freeze-encoder": BERT_ONLY,
           "--combine": KG_ONLY, "--negatives": KG_ONLY, "--labels-per-class": TRANSFER_ONLY}
    for flag in keep:
        del out[flag]
    return out


def _runner(prune=NO_COMPRESSION_STAGE, qat=NO_COMPRESSION_STAGE, tflite=NO_COMPRESSION_STAGE,
            resume=False):
    """Refusals shared by the archs with their own runner (training/<name>.py)."""
    out = {"--full-batch": FULL_BATCH, "--prune": prune, "--qat": qat, "--tflite": tflite,
           "--per-channel": NO_COMPRESSION, "--compress-epochs": NO_COMPRESSION}
    if not resume:
        out["--checkpoint-dir"] = NO_RESUME
    return out


_SINGLE_FIT = _family_options()
_KG = {**_family_options("--combine", "--negatives"),
       **_runner(tflite=SEVERAL_INPUTS),
       "--test-dir": "put test.txt in --data-dir"}

# arch -> {option: why it is refused}. Any option not listed is honoured.
REFUSED = {
    "cnn": _SINGLE_FIT,
    "cnn-doc000": _SINGLE_FIT,
    "cnn-doc001": _SINGLE_FIT,
    "distill": {**_family_options(), **_runner(),
                "--plot": "only the cnn teacher's curves would be drawn",
                "--logdir": "only the cnn teacher's fit would be logged"},
    "lstm": {**_SINGLE_FIT, "--data-dir": GENERATED, "--test-dir": GENERATED},
    "lstm-doc001": _SINGLE_FIT,
    "attention": {**_SINGLE_FIT, "--tflite": ATTENTION_INT8},
    "transformer": _SINGLE_FIT,
    "seq2seq": {**_SINGLE_FIT, "--data-dir": GENERATED, "--test-dir": GENERATED, "--tflite": SEVERAL_INPUTS},
    "bert": {**_family_options("--pretrained", "--max-length", "--freeze-encoder"),
             **_runner(prune=SUBCLASSED, qat=SUBCLASSED, tflite=SEVERAL_INPUTS),
             "--optimizer": "fine-tuning uses AdamW with clipnorm 1.0",
             "--lr-schedule": "fine-tuning uses 10% linear warmup, then linear decay",
             "--jit": "fine-tuning compiles without XLA",
             "--plot": "draws no plots"},
    "moe": _SINGLE_FIT,
    "early-exit": {**_family_options(), **_runner(qat=EARLY_EXIT_QUANT)},
    "transfer": {**_family_options("--labels-per-class"), **_runner(),
                 "--lr-schedule": "constant rates per phase (the learning rate, then a tenth)",
                 "--jit": "its phases compile without XLA",
                 "--plot": "keeps no training history to plot",
                 "--logdir": "its fits have no callbacks"},
    "multitask": {**_family_options(), **_runner()},
    "crossmodal": {**_family_options(), **_runner(tflite=SEVERAL_INPUTS, resume=True)},
    "kg": _KG,
    "kg-distmult": {**_KG, "--combine": KG_MLP_ONLY},
    "kg-transe": {**_KG, "--combine": KG_MLP_ONLY},
}


def refused(arch):
    """{option: reason} for ``arch`` (empty for an arch that honours everything)."""
    return REFUSED.get(arch, {})


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
