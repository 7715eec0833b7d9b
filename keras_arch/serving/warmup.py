"""TF Serving warmup requests: assets.extra/tf_serving_warmup_requests, a
TFRecord of PredictionLog protos that the server replays before it reports the
version available, so the first real request does not pay for graph set-up."""
import numpy as np

WARMUP_FILE = "tf_serving_warmup_requests"


def write(path, model_name, requests):
    """``requests``: list of (signature_name, {input_name: array})."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            request = predict_pb2.PredictRequest()
            request.model_spec.name = model_name
            request.model_spec.signature_name = signature_name
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def read(path):
    """The requests in a warmup file: list of (model_name, signature_name, {input: array})."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2
    out = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        out.append((request.model_spec.name, request.model_spec.signature_name, inputs))
    return out


def sample_requests(signature_name, inputs, batch_sizes=(1, 8)):
    """Requests of each batch size, cut from real sample inputs {name: array}."""
    n = min(len(v) for v in inputs.values())
    return [(signature_name, {k: np.asarray(v[:b]) for k, v in inputs.items()})
            for b in batch_sizes if b <= n]
