"""Run an export the way TF Serving does, without a server.

TF Serving loads a version into a TF1-style session (SavedModelBundle) and,
for each request, feeds the request's tensors to the signature's input
tensors by name and fetches the output tensors. Nothing on that path compares
a tensor with the declared shape (a loaded ``tf.function`` signature would, in
Python, before the graph runs), so only the graph's own checks stand between
a bad request and the model. :class:`SessionServable` takes the same path.
"""
import numpy as np

from keras_arch.serving.export import _import_custom_ops, resolve_version


class SessionServable:
    """One export version loaded into its own graph and session.

    Args:
        path: BASE/name (newest version) or a version directory.
    """

    def __init__(self, path):
        import tensorflow as tf
        self.path = resolve_version(path)
        _import_custom_ops()
        self._graph = tf.Graph()
        self._session = tf.compat.v1.Session(graph=self._graph)
        meta = tf.compat.v1.saved_model.loader.load(self._session, ["serve"], self.path)
        # "__saved_model_init_op" is the loader's, not a signature clients call.
        self.signature_defs = {k: v for k, v in meta.signature_def.items() if not k.startswith("__")}

    @property
    def signature_names(self):
        return sorted(self.signature_defs)

    def input_specs(self, signature_name="serving_default"):
        """{input name: tf.TensorSpec} declared by the signature."""
        import tensorflow as tf
        sig = self.signature_defs[signature_name]
        return {k: tf.TensorSpec([None if d.size < 0 else d.size for d in v.tensor_shape.dim]
                                 if not v.tensor_shape.unknown_rank else None,
                                 tf.dtypes.as_dtype(v.dtype), name=k) for k, v in sig.inputs.items()}

    def run(self, signature_name, inputs):
        """Feed ``inputs`` {name: array} by name, as TF Serving does.

        Args:
            signature_name: e.g. "serving_default".
            inputs: {input name: array-like}; every input of the signature.

        Returns:
            {output name: numpy array}.

        Raises:
            tf.errors.InvalidArgumentError: what the server answers with
                INVALID_ARGUMENT (the graph's checks, or a kernel's own error).
            KeyError: an unknown signature or input name.
        """
        sig = self.signature_defs[signature_name]
        if set(inputs) != set(sig.inputs):
            raise KeyError(f"signature {signature_name} takes {sorted(sig.inputs)}, got {sorted(inputs)}")
        get = self._graph.get_tensor_by_name
        feeds = {get(sig.inputs[k].name)._as_tf_output(): _as_array(v, sig.inputs[k].dtype)
                 for k, v in inputs.items()}
        names = sorted(sig.outputs)
        fetches = [get(sig.outputs[k].name)._as_tf_output() for k in names]
        # Session.run would compare each feed with the placeholder's static
        # shape in Python first; the server does not, so neither does this.
        values = self._session._call_tf_sessionrun(None, feeds, fetches, [], None)
        return dict(zip(names, values))

    def close(self):
        self._session.close()


def _as_array(value, dtype_enum):
    import tensorflow as tf
    dtype = tf.dtypes.as_dtype(dtype_enum)
    if dtype == tf.string:
        return np.asarray(value, dtype=object)
    return np.asarray(value, dtype=dtype.as_numpy_dtype)
