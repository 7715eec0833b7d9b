"""--precision: what auto chooses, what is refused, and that every arch's
outputs stay float32 under a mixed policy (keras_arch/precision.py)."""
import json

import pytest

from keras_arch import precision, registry
from keras_arch.errors import UsageError
from keras_arch.tasks.base import task_class


def float32_only(arch):
    return task_class(registry.get(arch)).float32_only


@pytest.mark.parametrize("flags, gpus, expected", [
    ({"avx512f", "avx512_bf16"}, [], "mixed_bfloat16"),
    ({"amx_bf16", "amx_tile"}, [], "mixed_bfloat16"),
    ({"avx512f", "avx512_vnni"}, [], "float32"),  # AVX-512 without BF16: emulated, slower
    (set(), [], "float32"),
    ({"avx512_bf16"}, [(7, 5)], "float32"),  # a T4 decides, not the host CPU
    (set(), [(8, 0)], "mixed_bfloat16"),
    (set(), [(9, 0), (7, 0)], "float32"),  # every replica must have it
])
def test_auto_follows_the_hardware(flags, gpus, expected):
    policy, why = precision.resolve("cnn", "auto", compress=False, flags=flags, gpus=gpus)
    assert policy == expected and why.startswith("auto: ")


def test_auto_is_float32_when_compressing_or_for_float32_only_archs():
    bf16 = {"avx512_bf16"}
    assert precision.resolve("cnn", "auto", compress=True, flags=bf16, gpus=[])[0] == "float32"
    policy, why = precision.resolve("kg-distmult", "auto", compress=False, float32_only=float32_only("kg-distmult"),
                                    flags=bf16, gpus=[])
    assert policy == "float32" and "ranked" in why
    assert precision.resolve("cnn", "mixed_float16", compress=False, flags=set(), gpus=[])[0] == "mixed_float16"


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\nbugs\t: x\n")
    assert precision.cpu_flags(str(info)) == {"fpu", "avx512f", "avx512_bf16"}
    assert precision.cpu_flags(str(tmp_path / "missing")) == set()


def test_explicit_mixed_policies_are_refused_where_they_cannot_be_honoured():
    with pytest.raises(UsageError, match=r"--precision mixed_bfloat16 is not supported for kg-transe: .*ranked"):
        precision.check("kg-transe", "mixed_bfloat16", compress=False, float32_only=float32_only("kg-transe"))
    with pytest.raises(UsageError, match=r"--precision mixed_float16 is not supported with --prune, --qat or "
                                         r"--tflite \(cnn\)"):
        precision.check("cnn", "mixed_float16", compress=True)
    with pytest.raises(UsageError, match="must be one of"):
        precision.check("cnn", "bfloat16", compress=False)
    precision.check("kg", "float32", compress=True)
    precision.check("kg", "auto", compress=False)


def test_the_command_line_refuses_before_any_work():
    from tests.conftest import run_cli
    out = run_cli("kg", "--precision", "mixed_bfloat16")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "--precision mixed_bfloat16 is not supported for kg" in out.stderr
    out = run_cli("cnn", "--precision", "mixed_bfloat16", "--tflite", "x.tflite")
    assert out.returncode == 2 and "--precision mixed_bfloat16 is not supported with" in out.stderr


MIXED_ARCHS = [a for a in registry.names() if not float32_only(a)]


@pytest.mark.parametrize("arch", MIXED_ARCHS)
def test_every_output_is_float32_under_mixed_bfloat16(arch):
    """Softmax probabilities, logits and similarities leave every model in
    float32 (the Keras guide's float32 output layer), while its layers compute
    in bfloat16: the losses and the exported signature see float32."""
    import tensorflow as tf
    from keras_arch.backend import keras
    recipe = registry.get(arch)
    splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = registry.build(arch, **splits.model_args(), **recipe.small_builder_kwargs)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    outputs = tf.nest.flatten(model.outputs)
    assert all(o.dtype == tf.float32 for o in outputs), [(o.name, o.dtype) for o in outputs]
    compute = {layer.compute_dtype for layer in model.submodules if isinstance(layer, keras.layers.Layer)}
    assert "bfloat16" in compute, compute
    assert all(w.dtype == tf.float32 for w in model.weights)


def test_float32_only_archs_are_the_knowledge_graphs():
    assert sorted(set(registry.names()) - set(MIXED_ARCHS)) == ["kg", "kg-distmult", "kg-transe"]


@pytest.mark.slow  # trains two epochs and exports (about 15 s)
def test_a_bfloat16_run_learns_records_its_policy_and_exports_a_float32_signature(tmp_path):
    """Two epochs of cnn-doc000 in mixed_bfloat16, exported: the layers
    computed in bfloat16, the run says so, the policy is float32 again
    afterwards, and the SavedModel's signature takes and returns float32."""
    import keras_arch
    import tensorflow as tf
    from keras_arch.backend import keras
    model, m = keras_arch.train("cnn-doc000", precision="mixed_bfloat16", epochs=2, quiet=True,
                                export=str(tmp_path / "serving"))
    assert m["config"]["precision"] == "mixed_bfloat16"
    assert m["distribution"]["precision"] == "mixed_bfloat16"
    assert model.get_layer(index=1).compute_dtype == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert m["test_accuracy"] > 0.75, m["test_accuracy"]  # float32 and bfloat16: 0.84-0.86 (seeds 0, 1)
    signature = tf.saved_model.load(m["export_path"]).signatures["serving_default"]
    assert all(s.dtype == tf.float32 for s in signature.structured_input_signature[1].values())
    assert all(t.dtype == tf.float32 for t in signature.structured_outputs.values())
    json.dumps(m)  # the metrics stay JSON-serialisable
