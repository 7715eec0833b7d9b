"""Every runnable arch: builder, default data and training recipe.

Add an arch here with :func:`keras_arch.registry.register`; the CLI picks it up.
"""
from keras_arch.registry import Recipe, register

IMAGES = "keras_arch.data.images:load"

register(Recipe(
    name="cnn",
    summary="Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10 with BatchNorm, on 28x28 digits",
    source="document 000 §4.1 (CNN实现); formula y=f(Wx+b) of document 003 §3.1",
    builder="keras_arch.models.cnn:doc000_cnn",
    builder_kwargs={"batch_norm": True, "dropout": 0.25},
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=4, batch_size=128, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 30, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="cnn-doc000",
    summary="document 000 §4.1 CNN exactly as written (no BatchNorm), Adam, batch 64",
    source="document 000 §4.1 (CNN实现)",
    builder="keras_arch.models.cnn:doc000_cnn",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=10, batch_size=64, learning_rate=1e-3,
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="cnn-doc001",
    summary="document 001's functional CNN with its output Dense actually applied",
    source="document 001 CNN实现 (functional API)",
    builder="keras_arch.models.cnn:doc001_cnn",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=5, batch_size=64, learning_rate=1e-3,
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="distill",
    summary="knowledge distillation: the cnn teacher, then a 5,258-parameter student (T=4, alpha=0.1)",
    source="document 002 §3.3 (知识蒸馏)",
    builder="keras_arch.models.cnn:tiny_cnn",
    runner="keras_arch.training.distill:run",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=6, batch_size=128, learning_rate=5e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 40, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))
