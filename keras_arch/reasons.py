"""Why an option is refused, in the words the arch x option table (docs/options.md) shows
(short: they are table cells). Compression ones quote the support matrix
(keras_arch/optimize/support.py) where it says "no". Imported by the tasks and
by the recipes (``Recipe.refused``); imports nothing."""

BERT_ONLY = "bert only"
KG_ONLY = "kg archs only"
KG_MLP_ONLY = "kg's MLP scorer only"
TRANSFER_ONLY = "transfer only"
GENERATED = "generated data only"
NO_COMPRESSION = "needs --qat, --tflite or --prune, all refused here"
EARLY_EXIT_QUANT = "tfmot finds no layer to quantize (support matrix)"
SEVERAL_OUTPUTS = "the compression stages fine-tune and score one softmax output; this model has several"
