"""``run kg`` / ``kg-distmult`` / ``kg-transe``: train a triple scorer and report
filtered MRR and Hits@1/3/10 in both directions (document 004 §3.3, §4.3).

Two objectives, one task (:class:`KGTask`):

- 1-N scoring (default): every (head, relation) query of train, inverse
  relations included, is scored against all entities at once; the target is
  the normalised multi-hot vector of its true tails (softmax cross-entropy);
- ``negatives=K``: each triple's true tail against K tails drawn uniformly
  once per batch (sampled softmax), for graphs where a (batch, entities)
  score matrix is too big.

Every ``eval_every`` epochs the filtered validation MRR is measured; the best
weights are restored before the test split is scored.

Defaults scale with the graph (:func:`scale_plan`): on a graph where 1-N
scoring would cost more than ``ONE_TO_N_LIMIT`` per epoch, the run trains on
sampled negatives with a large batch, for a fixed budget of optimizer steps,
compiled with XLA, and validates on a fixed sample of the validation triples.
Every choice is reported and each option overrides its part.
"""
import resource
import time

import numpy as np

from keras_arch.data.kg import group_tails
from keras_arch.reasons import KG_MLP_ONLY, SEVERAL_INPUTS
from keras_arch.tasks.base import Task


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
    """Infinite tf.data of ({head, relation, tail (batch,), negatives (K,)}, 0):
    K tails drawn uniformly once per batch and shared by its triples (the
    label 0 is the true tail's column in :class:`SharedNegativeModel`'s scores)."""
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((train[:, 0], train[:, 1], train[:, 2]))
    ds = ds.shuffle(len(train), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)

    def with_negatives(step, batch):
        h, r, t = batch
        # Stateless and keyed by the global step: same seed, same negatives.
        neg = tf.random.stateless_uniform([negatives], [seed, step], 0, num_entities, tf.int32)  # (K,)
        return {"head": h, "relation": r, "tail": t, "negatives": neg}, tf.zeros_like(t)

    ds = ds.enumerate().map(with_negatives, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE), -(-len(train) // batch_size)


def score_function(model):
    """(heads, relations) numpy -> (batch, entities) numpy; compiled with XLA
    once per model and batch length (XLA fuses the MLP scorer's
    relu(q + t) · w2 over (batch, entities, hidden) into one loop: 13x faster
    than TensorFlow's kernels at 40,000 entities here)."""
    import tensorflow as tf
    if not hasattr(model, "_kg_score_fn"):
        spec = tf.TensorSpec([None], tf.int32)
        model._kg_score_fn = tf.function(lambda h, r: model({"head": h, "relation": r}, training=False),
                                         input_signature=[spec, spec], jit_compile=True)
    fn = model._kg_score_fn
    return lambda h, r: fn(tf.constant(h, tf.int32), tf.constant(r, tf.int32)).numpy()


EVAL_ELEMENTS = 256 * 2 ** 20  # the largest scoring tensor evaluation may build (1 GiB of float32)


def eval_batch_size(model):
    """Queries per evaluation batch: the MLP scorer builds (batch, entities,
    hidden), the others (batch, entities)."""
    layer = model.get_layer("scorer")
    width = layer.num_entities * getattr(layer, "hidden", 1)
    return int(max(1, min(512, EVAL_ELEMENTS // width)))


def make_ranking_callback(model, graph, known, every, verbose, valid=None):
    """A callback measuring filtered MRR on ``valid`` (default: all of
    ``graph.valid``) every ``every`` epochs and restoring the best weights."""
    from keras_arch.backend import keras
    from keras_arch.training import ranking
    valid = graph.valid if valid is None else valid

    class BestValidationMRR(keras.callbacks.Callback):
        """Filtered validation MRR every ``every`` epochs; keeps the best weights."""
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.best_weights, self.history = -1.0, 0, None, []

        def on_epoch_end(self, epoch, logs=None):
            last = epoch + 1 == self.params["epochs"]
            if (epoch + 1) % every and not last:
                return
            mrr = ranking.evaluate(score_function(model), valid, graph.num_relations, known,
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


# --- defaults that scale with the graph ---------------------------------------------------------

ONE_TO_N_LIMIT = 2e10  # queries x entities x scorer width per epoch; the family default is 0.4e9, UMLS 0.04e9
LARGE_GRAPH = {  # sampled negatives, batch, optimizer-step budget (4-6 minutes of training here)
    # Each MLP step costs batch x negatives x hidden. At a fixed batch of 128, more negatives
    # and a narrower hidden layer learn faster per epoch (3 epochs on the 40k-entity sparse
    # family graph: 32 negatives x 200 hidden MRR 0.026, 128 x 200 0.092, 512 x 50 0.132,
    # 2048 x 50 0.158 at six times the time); learning rate 3e-2 diverges. With 512 x 50 for
    # 30,000 steps: sparse graph 0.31 in 4.7 minutes, dense 35k-entity graph 0.53 in 5.6
    # (32 x 200 for 22,000 steps, the previous plan: 0.121 and 0.161 in 6.9 minutes).
    "mlp": {"negatives": 512, "batch_size": 128, "steps": 30_000, "learning_rate": 1e-2,
            "builder_kwargs": {"hidden": 50, "dropout": 0.0, "hidden_dropout": 0.0}},
    "distmult": {"negatives": 1024, "batch_size": 4096, "steps": 1500},
    "transe": {"negatives": 1024, "batch_size": 4096, "steps": 1500},
}
VALID_SAMPLE = 1000  # validation triples measured during training on a large graph (test: all)


def scale_plan(graph, settings, config, eval_every=None, fixed=()):
    """The objective, batch, epochs, compilation and validation of a run on
    ``graph``, from its size; every option the user gave wins over its part.

    1-N scoring costs (training queries x entities x scorer width) per epoch
    (the MLP's width is its hidden layer, the others' their embedding).
    Up to ``ONE_TO_N_LIMIT`` the recipe's settings stand. Above it the run
    trains each triple against K negatives shared by its batch (DistMult and
    TransE: many negatives, large batches; the MLP: many negatives, small
    batches, a narrower hidden layer, no dropout; the numbers are in
    ``LARGE_GRAPH``), for a budget of optimizer steps (epochs = budget /
    steps per epoch, at most the recipe's), compiled with XLA, and validates
    on ``VALID_SAMPLE`` fixed validation triples about five times.

    Args:
        graph: the :class:`keras_arch.data.kg.KnowledgeGraph`.
        settings: the run's resolved :class:`keras_arch.config.Settings`.
        config: the run's :class:`keras_arch.config.RunConfig` (what was asked).
        eval_every: epochs between validation measurements, if the caller fixes it.
        fixed: builder arguments the caller sets itself (the plan leaves them alone).

    Returns:
        dict: negatives (0 for 1-N), batch_size, epochs, learning_rate, jit,
        builder_kwargs (over the recipe's), eval_every (None: the task's), valid
        (triples validated on), large, why (one line).
    """
    scorer = settings.builder_kwargs["scorer"]
    width = settings.builder_kwargs.get("hidden", 1) if scorer == "mlp" else settings.builder_kwargs["dim"]
    queries = len(group_tails(graph.with_inverses(graph.train)))
    cost = float(queries) * graph.num_entities * width
    large = cost > ONE_TO_N_LIMIT
    plan = LARGE_GRAPH[scorer] if large else {}
    negatives = config.negatives if config.negatives is not None else plan.get("negatives", 0)
    batch = config.batch_size or (plan["batch_size"] if large and negatives else settings.batch_size)
    examples = 2 * len(graph.train) if negatives else queries
    steps = -(-examples // batch)
    epochs = settings.epochs
    if large and config.epochs is None:
        epochs = int(max(1, min(settings.epochs, round(plan["steps"] / steps))))
    learning_rate = config.learning_rate or plan.get("learning_rate", settings.learning_rate)
    out = {"negatives": negatives, "batch_size": batch, "epochs": epochs, "jit": settings.jit or large,
           "learning_rate": learning_rate, "builder_kwargs": dict(settings.builder_kwargs),
           "eval_every": None, "valid": None, "large": large, "why": None}
    if not large:
        return out
    planned = {k: v for k, v in plan.get("builder_kwargs", {}).items() if k not in fixed}
    out["builder_kwargs"].update(planned)
    out["eval_every"] = eval_every or max(1, epochs // 5)
    if len(graph.valid) > VALID_SAMPLE:
        pick = np.random.default_rng(0).choice(len(graph.valid), VALID_SAMPLE, replace=False)
        out["valid"] = graph.valid[np.sort(pick)]
    validated = len(out["valid"]) if out["valid"] is not None else len(graph.valid)
    dropped = [k for k, v in planned.items() if "dropout" in k and v == 0.0]
    narrowed = {k: v for k, v in planned.items() if "dropout" not in k}
    out["why"] = (f"1-N would score {cost:.1e} (query, entity, unit) per epoch (> {ONE_TO_N_LIMIT:.0e}): "
                  + (f"{negatives} shared negatives, " if negatives else "1-N as asked, ")
                  + f"batch {batch}, {epochs} epochs ({epochs * steps:,} steps), learning rate {learning_rate:g}, "
                  + "".join(f"{k} {v} (the recipe: {settings.builder_kwargs.get(k)}), " for k, v in narrowed.items())
                  + (f"no {' or '.join(d.replace('_', ' ') for d in dropped)}, " if dropped else "")
                  + f"XLA, validation on {validated:,} of {len(graph.valid):,} triples every {out['eval_every']} epochs")
    return out


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class KGTask(Task):
    """Knowledge-graph completion: build the scorer over the graph's entities
    and relations (inverses included), fit 1-N or with K sampled negatives,
    keep the weights of the best filtered validation MRR, rank the test
    triples. Reports ranking metrics, not accuracy.

    Args:
        recipe: the arch's recipe (``kg``, ``kg-distmult``, ``kg-transe``).
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    own_options = ("--combine", "--negatives")
    no_full_batch = "trains on (head, relation) queries over an infinite shuffled stream, not (x, y) arrays"
    no_resume = "keeps the best weights by validation MRR in memory, which no checkpoint holds"
    no_compression = {"--prune": "ranking metrics; the compression stages score classifier accuracy",
                      "--qat": "ranking metrics; the compression stages score classifier accuracy",
                      "--tflite": SEVERAL_INPUTS}
    refused = {"--test-dir": "put test.txt in --data-dir"}
    float32_only = ("scores over every entity are ranked, and bfloat16's 8-bit mantissa ties thousands "
                    "of them (TransE's |q|^2 - 2 q.e + |e|^2 also cancels)")

    def __init__(self, recipe, config, graph=None, builder_kwargs=None, eval_every=None):
        """Args (beyond Task's):
            graph: train on this in-memory KnowledgeGraph instead of reading
                the run's data (tests, benchmarks).
            builder_kwargs: builder arguments over the recipe's (a smaller model).
            eval_every: epochs between filtered validation MRR measurements
                (default 5, or about five times a run on a large graph).
        """
        super().__init__(recipe, config)
        self.graph, self.builder_overrides, self.eval_every = graph, dict(builder_kwargs or {}), eval_every
        self.plan = None

    def load_data(self):
        if self.graph is not None:
            from keras_arch.data.kg import to_splits
            return to_splits(self.graph)
        return super().load_data()

    @classmethod
    def refusals(cls, recipe):
        out = super().refusals(recipe)
        if recipe.builder_kwargs.get("scorer") != "mlp":
            out["--combine"] = KG_MLP_ONLY
        return out

    def extra_settings(self, splits):
        by_data = self.recipe.by_data.get(splits.family, {})
        return {"combine": self.config.combine, "negatives": self.config.negatives,
                "label_smoothing": by_data.get("label_smoothing", 0.0)}

    def resolve(self, splits):
        """The recipe's settings, then what the graph's size asks for (:func:`scale_plan`)."""
        settings = super().resolve(splits)
        self.plan = scale_plan(splits.graph, settings, self.config, self.eval_every, fixed=self.builder_overrides)
        p = self.plan
        self.settings = settings.replace(
            epochs=p["epochs"], batch_size=p["batch_size"], learning_rate=p["learning_rate"], jit=p["jit"],
            builder_kwargs=p["builder_kwargs"],
            extras={**settings.extras, "negatives": p["negatives"], "scale": p["why"],
                    "eval_every": self.eval_every or p["eval_every"] or 5})
        return self.settings

    def build_model(self, splits):
        from keras_arch import registry
        kwargs = {**self.settings.builder_kwargs, **self.builder_overrides}
        if self.settings.extras["combine"]:
            kwargs["combine"] = self.settings.extras["combine"]
        graph = splits.graph
        return registry.resolve(self.recipe.builder)(num_entities=graph.num_entities,
                                                     num_relations=2 * graph.num_relations, **kwargs)

    def fit(self, trainer, model, splits):
        from keras_arch.backend import keras
        from keras_arch.models.kg import shared_negative_model
        from keras_arch.training.schedules import optimizer_for
        s, graph = self.settings, splits.graph
        train = graph.with_inverses(graph.train)
        negatives = s.extras["negatives"]
        if negatives:
            ds, steps = negative_dataset(train, graph.num_entities, s.batch_size, negatives, s.seed)
            fit_model = shared_negative_model(model)
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        else:
            ds, steps = one_to_n_dataset(train, graph.num_entities, s.batch_size, s.seed,
                                         s.extras["label_smoothing"])
            fit_model = model
            loss = keras.losses.CategoricalCrossentropy(from_logits=True)
        fit_model.compile(optimizer=optimizer_for(s, steps), loss=loss, jit_compile=s.jit)
        self.known = graph.known_tails()
        self.best = make_ranking_callback(model, graph, self.known, s.extras["eval_every"], trainer.verbose,
                                          self.plan["valid"])
        return trainer.fit(fit_model, ds, None, s.epochs, steps, callbacks=[self.best])

    def evaluate(self, model, splits):
        import time
        from keras_arch.training import ranking
        graph, start = splits.graph, time.perf_counter()
        test = ranking.evaluate(score_function(model), graph.test, graph.num_relations, self.known,
                                eval_batch_size(model))
        negatives = self.settings.extras["negatives"]
        return {**{f"test_{k}": v for k, v in test.items()},
                "best_val_mrr": self.best.best, "best_epoch": self.best.best_epoch,
                "val_mrr_history": self.best.history, "eval_seconds": round(time.perf_counter() - start, 3),
                "objective": f"{negatives} shared negatives" if negatives else "1-N",
                "scale": self.settings.extras["scale"],
                "peak_rss_mb": round(peak_rss_mb(), 1)}

    def data_row(self, splits):
        g = splits.graph
        return (f"{g.name} ({g.num_entities:,} entities, {g.num_relations} relations; "
                f"train {len(g.train):,}, valid {len(g.valid):,}, test {len(g.test):,} triples)")

    def summary_rows(self, m):
        skipped = ", ".join(f"{v} {k}" for k, v in m["data"]["skipped"].items()) or "none"
        scale = [("chosen for the graph's size", m["scale"])] if m.get("scale") else []
        return [("skipped (unseen in train)", skipped), ("objective", m["objective"]), *scale,
                ("test MRR (filtered)", f"{m['test_mrr']:.4f}"),
                ("test Hits@1/3/10", f"{m['test_hits@1']:.4f} / {m['test_hits@3']:.4f} / {m['test_hits@10']:.4f}"),
                ("tail / head MRR", f"{m['test_tail_mrr']:.4f} / {m['test_head_mrr']:.4f}"),
                ("best val MRR (epoch)", f"{m['best_val_mrr']:.4f} ({m['best_epoch']})"),
                ("seconds/epoch", f"{m['seconds_per_epoch']:.2f}"), ("peak memory", f"{m['peak_rss_mb']:.0f} MB")]

    def signatures(self, model):
        return signatures(model)

    def serving_samples(self, splits, n=8):
        return serving_samples(splits, n)


def train_on_graph(arch, graph, config=None, builder_kwargs=None, eval_every=5):
    """Train ``arch`` on an in-memory graph through the one trainer (what
    ``run`` does after reading ``--data-dir``); returns (model, metrics).

    Args:
        arch: ``kg``, ``kg-distmult`` or ``kg-transe``.
        graph: a :class:`keras_arch.data.kg.KnowledgeGraph`.
        config: the :class:`keras_arch.config.RunConfig` (default: the recipe's settings).
        builder_kwargs: builder arguments over the recipe's.
        eval_every: epochs between validation MRR measurements.
    """
    from keras_arch import registry
    from keras_arch.config import RunConfig
    from keras_arch.training.trainer import Trainer
    task = KGTask(registry.get(arch), config or RunConfig(quiet=True), graph, builder_kwargs, eval_every)
    return Trainer(task).run()


# --- serving ------------------------------------------------------------------------------------

TOP_K = 10


def signatures(model):
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

