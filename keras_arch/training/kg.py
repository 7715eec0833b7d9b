"""``run kg`` / ``kg-distmult`` / ``kg-transe``: train a triple scorer and report
filtered MRR and Hits@1/3/10 in both directions (document 004 §3.3, §4.3).

Two objectives, one trainer:

- 1-N scoring (default): every (head, relation) query of train, inverse
  relations included, is scored against all entities at once; the target is
  the normalised multi-hot vector of its true tails (softmax cross-entropy);
- ``negatives=K``: each triple's true tail against K uniformly sampled tails
  (sampled softmax), for graphs where a (batch, entities) score matrix is too big.

Every ``eval_every`` epochs the filtered validation MRR is measured; the best
weights are restored before the test split is scored.
"""
import resource
import time

import numpy as np

from keras_arch import registry
from keras_arch.data.kg import group_tails


def one_to_n_dataset(train, num_entities, batch_size, seed, label_smoothing=0.0):
    """Infinite tf.data of ({head, relation}, normalised multi-hot tails)."""
    import tensorflow as tf
    groups = group_tails(train)
    keys = np.array(list(groups), dtype=np.int32).reshape(-1, 2)
    tails = tf.RaggedTensor.from_row_lengths(
        np.concatenate(list(groups.values())).astype(np.int32), [len(v) for v in groups.values()])

    def to_dense(x, tails):
        rows = tails.value_rowids()
        batch = tf.shape(tails.row_lengths())[0]
        idx = tf.stack([tf.cast(rows, tf.int32), tails.flat_values], axis=1)
        target = tf.scatter_nd(idx, tf.ones_like(tails.flat_values, tf.float32), [batch, num_entities])
        target /= tf.reduce_sum(target, axis=1, keepdims=True)  # (batch, entities), rows sum to 1
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / num_entities
        return x, target

    ds = tf.data.Dataset.from_tensor_slices(({"head": keys[:, 0], "relation": keys[:, 1]}, tails))
    ds = ds.shuffle(len(keys), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size).map(to_dense, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE), -(-len(keys) // batch_size)


def negative_dataset(train, num_entities, batch_size, negatives, seed):
    """Infinite tf.data of ({head, relation, candidates=[tail, K random]}, 0)."""
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((train[:, 0], train[:, 1], train[:, 2]))
    ds = ds.shuffle(len(train), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)

    def with_negatives(step, batch):
        h, r, t = batch
        # Stateless and keyed by the global step: same seed, same negatives.
        neg = tf.random.stateless_uniform([tf.shape(t)[0], negatives], [seed, step], 0, num_entities, tf.int32)
        cands = tf.concat([t[:, None], neg], axis=1)  # (batch, 1 + negatives); the true tail is column 0
        return {"head": h, "relation": r, "candidates": cands}, tf.zeros_like(t)

    ds = ds.enumerate().map(with_negatives, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE), -(-len(train) // batch_size)


def score_function(model):
    """(heads, relations) numpy -> (batch, entities) numpy; traced once per model."""
    import tensorflow as tf
    if not hasattr(model, "_kg_score_fn"):
        spec = tf.TensorSpec([None], tf.int32)
        model._kg_score_fn = tf.function(lambda h, r: model({"head": h, "relation": r}, training=False),
                                         input_signature=[spec, spec])
    fn = model._kg_score_fn
    return lambda h, r: fn(tf.constant(h, tf.int32), tf.constant(r, tf.int32)).numpy()


EVAL_ELEMENTS = 256 * 2 ** 20  # the largest scoring tensor evaluation may build (1 GiB of float32)


def eval_batch_size(model):
    """Queries per evaluation batch: the MLP scorer builds (batch, entities,
    hidden), the others (batch, entities)."""
    layer = model.get_layer("scorer")
    width = layer.num_entities * getattr(layer, "hidden", 1)
    return int(max(1, min(512, EVAL_ELEMENTS // width)))


def make_ranking_callback(model, graph, known, every, verbose):
    from keras_arch.backend import keras
    from keras_arch.training import ranking

    class BestValidationMRR(keras.callbacks.Callback):
        """Filtered validation MRR every ``every`` epochs; keeps the best weights."""
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.best_weights, self.history = -1.0, 0, None, []

        def on_epoch_end(self, epoch, logs=None):
            last = epoch + 1 == self.params["epochs"]
            if (epoch + 1) % every and not last:
                return
            mrr = ranking.evaluate(score_function(model), graph.valid, graph.num_relations, known,
                                   eval_batch_size(model))["mrr"]
            self.history.append((epoch + 1, mrr))
            if logs is not None:
                logs["val_mrr"] = mrr
            if verbose:
                print(f" - val_mrr (filtered): {mrr:.4f}")
            if mrr > self.best:
                self.best, self.best_epoch, self.best_weights = mrr, epoch + 1, model.get_weights()

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                model.set_weights(self.best_weights)

    return BestValidationMRR()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train_graph(name, graph, cfg, seed=0, verbose=0, eval_every=5, callbacks=()):
    """Train arch ``name`` on ``graph``; returns (model, metrics)."""
    from keras_arch.models.kg import candidate_model
    from keras_arch.backend import keras
    from keras_arch.training import ranking
    from keras_arch.training.trainer import seed_everything
    from keras_arch.training.schedules import optimizer_for
    seed_everything(seed, deterministic=not cfg.get("jit"))
    kwargs = dict(cfg["builder_kwargs"])
    if cfg.get("combine"):
        kwargs["combine"] = cfg["combine"]
    model = registry.build(name, num_entities=graph.num_entities, num_relations=2 * graph.num_relations, **kwargs)
    train = graph.with_inverses(graph.train)
    negatives = cfg.get("negatives") or 0
    if negatives:
        ds, steps = negative_dataset(train, graph.num_entities, cfg["batch_size"], negatives, seed)
        fit_model = candidate_model(model)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    else:
        ds, steps = one_to_n_dataset(train, graph.num_entities, cfg["batch_size"], seed,
                                     cfg.get("label_smoothing", 0.0))
        fit_model = model
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    fit_model.compile(optimizer=optimizer_for(cfg, steps), loss=loss,
                      jit_compile=bool(cfg.get("jit")))
    known = graph.known_tails()
    best = make_ranking_callback(model, graph, known, eval_every, verbose)
    start = time.perf_counter()
    history = fit_model.fit(ds, epochs=cfg["epochs"], steps_per_epoch=steps, callbacks=[best, *callbacks],
                            verbose=verbose)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    test = ranking.evaluate(score_function(model), graph.test, graph.num_relations, known, eval_batch_size(model))
    metrics = {
        "arch": name, "eval_split": "test", **{f"test_{k}": v for k, v in test.items()},
        "best_val_mrr": best.best, "best_epoch": best.best_epoch, "val_mrr_history": best.history,
        "epochs": cfg["epochs"], "train_seconds": round(seconds, 3),
        "seconds_per_epoch": round(seconds / cfg["epochs"], 3),
        "eval_seconds": round(time.perf_counter() - start, 3),
        "objective": f"{negatives} negatives" if negatives else "1-N",
        "parameters": int(model.count_params()), "peak_rss_mb": round(peak_rss_mb(), 1),
        "history": {"loss": [float(v) for v in history.history["loss"]]},
        "data": {"name": graph.name, "entities": graph.num_entities, "relations": graph.num_relations,
                 "train": len(graph.train), "val": len(graph.valid), "test": len(graph.test),
                 "skipped": dict(graph.skipped)},
        "config": cfg,
    }
    return model, metrics


def summary(m):
    d = m["data"]
    skipped = ", ".join(f"{v} {k}" for k, v in d["skipped"].items()) or "none"
    return [("arch", m["arch"]),
            ("data", f"{d['name']} ({d['entities']:,} entities, {d['relations']} relations; "
                     f"train {d['train']:,}, valid {d['val']:,}, test {d['test']:,} triples)"),
            ("skipped (unseen in train)", skipped),
            ("objective", m["objective"]),
            ("test MRR (filtered)", f"{m['test_mrr']:.4f}"),
            ("test Hits@1/3/10", f"{m['test_hits@1']:.4f} / {m['test_hits@3']:.4f} / {m['test_hits@10']:.4f}"),
            ("tail / head MRR", f"{m['test_tail_mrr']:.4f} / {m['test_head_mrr']:.4f}"),
            ("best val MRR (epoch)", f"{m['best_val_mrr']:.4f} ({m['best_epoch']})"),
            ("epochs", m["epochs"]), ("training seconds", f"{m['train_seconds']:.1f}"),
            ("seconds/epoch", f"{m['seconds_per_epoch']:.2f}"), ("peak memory", f"{m['peak_rss_mb']:.0f} MB"),
            ("parameters", f"{m['parameters']:,}")]


def run(name, options):
    from keras_arch.training.trainer import finish, prepare, standard_callbacks
    recipe, cfg, splits = prepare(name, options)
    overrides = recipe.by_data.get(splits.family, {})
    cfg.update(combine=options.combine, negatives=options.negatives,
               label_smoothing=overrides.get("label_smoothing", 0.0))
    cfg["builder_kwargs"] = {**recipe.builder_kwargs, **overrides.get("builder_kwargs", {})}
    model, metrics = train_graph(name, splits.graph, cfg, seed=options.seed, verbose=0 if options.quiet else 1,
                                 callbacks=standard_callbacks(options))
    metrics["summary"] = summary(metrics)
    return finish(name, model, recipe, splits, options, metrics)


# --- serving ------------------------------------------------------------------------------------

TOP_K = 10


def signatures(model, recipe):
    """serving_default: (head, relation, tail) ids -> score;
    top_k_tails: (head, relation) ids -> the TOP_K best tails and their scores."""
    import tensorflow as tf
    from keras_arch.models.kg import triple_model
    triples = triple_model(model)
    k = min(TOP_K, model.get_layer("scorer").num_entities)
    ids = lambda name: tf.TensorSpec([None], tf.int32, name=name)  # noqa: E731

    @tf.function(input_signature=[ids("head"), ids("relation"), ids("tail")])
    def score(head, relation, tail):
        return {"scores": triples({"head": head, "relation": relation, "tail": tail}, training=False)}

    @tf.function(input_signature=[ids("head"), ids("relation")])
    def top_k(head, relation):
        scores = model({"head": head, "relation": relation}, training=False)
        best = tf.math.top_k(scores, k)  # (batch, k)
        return {"tails": best.indices, "scores": best.values}

    return {"serving_default": score, "top_k_tails": top_k}


def serving_samples(splits, n):
    g = splits.graph
    t = g.test[:n]
    return {"serving_default": {"head": t[:, 0], "relation": t[:, 1], "tail": t[:, 2]},
            "top_k_tails": {"head": t[:, 0], "relation": t[:, 1]}}

