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
weights are restored before the test split is scored. Defaults scale with the
graph (:mod:`keras_arch.tasks.kg_scale`). The pieces: batches
(:mod:`keras_arch.data.kg_batches`), scoring and the validation callback
(:mod:`keras_arch.training.kg_scoring`), ranking
(:mod:`keras_arch.training.ranking`), serving
(:mod:`keras_arch.serving.kg_signatures`).
"""
import resource
import time

from keras_arch import registry
from keras_arch.config import RunConfig
from keras_arch.data.kg import to_splits
from keras_arch.reasons import KG_MLP_ONLY
from keras_arch.tasks.base import Fitted, Task
from keras_arch.tasks.kg_scale import scale_plan, validation_triples
from keras_arch.training import ranking


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
        graph: train on this in-memory KnowledgeGraph instead of reading
            the run's data (tests, benchmarks).
        builder_kwargs: builder arguments over the recipe's (a smaller model).
        eval_every: epochs between filtered validation MRR measurements
            (default 5, or about five times a run on a large graph).
    """
    own_options = ("--combine", "--negatives")
    no_full_batch = "trains on (head, relation) queries over an infinite shuffled stream, not (x, y) arrays"
    no_resume = "keeps the best weights by validation MRR in memory, which no checkpoint holds"
    no_compression = {flag: "ranking metrics; the compression stages score classifier accuracy"
                      for flag in ("--prune", "--qat", "--tflite")}
    refused = {"--test-dir": "put test.txt in --data-dir"}
    float32_only = ("scores over every entity are ranked, and bfloat16's 8-bit mantissa ties thousands "
                    "of them (TransE's |q|^2 - 2 q.e + |e|^2 also cancels)")

    def __init__(self, recipe, config, graph=None, builder_kwargs=None, eval_every=None):
        super().__init__(recipe, config)
        self.graph, self.builder_overrides, self.eval_every = graph, dict(builder_kwargs or {}), eval_every

    def load_data(self):
        if self.graph is not None:
            return to_splits(self.graph)
        return super().load_data()

    @classmethod
    def refusals(cls, recipe):
        out = super().refusals(recipe)
        if recipe.builder_kwargs.get("scorer") != "mlp":
            out["--combine"] = KG_MLP_ONLY
        return out

    def settings(self, splits, precision="float32"):
        """The recipe's settings, then what the graph's size asks for
        (:func:`keras_arch.tasks.kg_scale.scale_plan`)."""
        settings = super().settings(splits, precision)
        p = scale_plan(splits.graph, settings, self.config, self.eval_every, fixed=self.builder_overrides)
        return settings.replace(
            epochs=p["epochs"], batch_size=p["batch_size"], learning_rate=p["learning_rate"], jit=p["jit"],
            builder_kwargs={**p["builder_kwargs"], **self.builder_overrides},
            extras={**settings.extras, "negatives": p["negatives"], "scale": p["why"],
                    "eval_every": self.eval_every or p["eval_every"] or 5})

    def extra_settings(self, splits):
        by_data = self.recipe.by_data.get(splits.family, {})
        return {"combine": self.config.combine, "negatives": self.config.negatives,
                "label_smoothing": by_data.get("label_smoothing", 0.0)}

    def build_model(self, splits, settings):
        kwargs = dict(settings.builder_kwargs)
        if settings.extras["combine"]:
            kwargs["combine"] = settings.extras["combine"]
        graph = splits.graph
        return registry.resolve(self.recipe.builder)(num_entities=graph.num_entities,
                                                     num_relations=2 * graph.num_relations, **kwargs)

    def fit(self, model, splits, settings, fit, start_epoch=0):
        from keras_arch.backend import keras
        from keras_arch.data.kg_batches import negative_dataset, one_to_n_dataset
        from keras_arch.models.kg import shared_negative_model
        from keras_arch.training.kg_scoring import BestValidationMRR
        from keras_arch.training.schedules import optimizer_for
        s, graph = settings, splits.graph
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
        known = graph.known_tails()
        valid = validation_triples(graph) if s.extras["scale"] else graph.valid  # a large graph: a sample
        best = BestValidationMRR(model, graph, known, s.extras["eval_every"], verbose=not self.config.quiet,
                                 valid=valid)
        history = fit(fit_model, ds, None, s.epochs, steps, callbacks=[best])
        return Fitted(model, history, {"known": known, "best_val_mrr": best.best, "best_epoch": best.best_epoch,
                                       "val_mrr_history": best.history})

    def evaluate(self, fitted, splits, settings):
        from keras_arch.training.kg_scoring import eval_batch_size, score_function
        graph, start, model = splits.graph, time.perf_counter(), fitted.model
        score = score_function(model)
        test = ranking.evaluate(score, graph.test, graph.num_relations, fitted.state["known"], eval_batch_size(model))
        seen = {}
        if graph.unseen.get("test"):  # beside the standard figures: the triples training saw every part of
            seen = ranking.evaluate(score, graph.seen(graph.test), graph.num_relations, fitted.state["known"],
                                    eval_batch_size(model))
        negatives = settings.extras["negatives"]
        return {**{f"test_{k}": v for k, v in test.items()}, **{f"test_seen_{k}": v for k, v in seen.items()},
                "best_val_mrr": fitted.state["best_val_mrr"], "best_epoch": fitted.state["best_epoch"],
                "val_mrr_history": fitted.state["val_mrr_history"],
                "eval_seconds": round(time.perf_counter() - start, 3),
                "objective": f"{negatives} shared negatives" if negatives else "1-N",
                "scale": settings.extras["scale"], "peak_rss_mb": round(peak_rss_mb(), 1)}

    def data_row(self, splits, metrics):
        g = splits.graph
        return (f"{g.name} ({g.num_entities:,} entities, {g.num_relations} relations; "
                f"train {len(g.train):,}, valid {len(g.valid):,}, test {len(g.test):,} triples)")

    def summary_rows(self, m):
        unseen = ", ".join(f"{v} {k}" for k, v in m["data"]["unseen"].items()) or "none"
        scale = [("chosen for the graph's size", m["scale"])] if m.get("scale") else []
        seen = ([("test MRR, seen triples only", f"{m['test_seen_mrr']:.4f} (Hits@10 {m['test_seen_hits@10']:.4f})")]
                if "test_seen_mrr" in m else [])
        return [("triples naming what train lacks", f"{unseen} (ranked like the rest)"), ("objective", m["objective"]),
                *scale, ("test MRR (filtered)", f"{m['test_mrr']:.4f}"), *seen,
                ("test Hits@1/3/10", f"{m['test_hits@1']:.4f} / {m['test_hits@3']:.4f} / {m['test_hits@10']:.4f}"),
                ("tail / head MRR", f"{m['test_tail_mrr']:.4f} / {m['test_head_mrr']:.4f}"),
                ("best val MRR (epoch)", f"{m['best_val_mrr']:.4f} ({m['best_epoch']})"),
                ("seconds/epoch", f"{m['seconds_per_epoch']:.2f}"), ("peak memory", f"{m['peak_rss_mb']:.0f} MB")]

    def signatures(self, model):
        from keras_arch.serving.kg_signatures import signatures
        return signatures(model)

    def serving_samples(self, splits, n=8):
        g = splits.graph
        t = g.test[:n]
        return {"serving_default": {"head": t[:, 0], "relation": t[:, 1], "tail": t[:, 2]},
                "top_k_tails": {"head": t[:, 0], "relation": t[:, 1]}}


def train_on_graph(arch, graph, config=None, builder_kwargs=None, eval_every=5):
    """Train ``arch`` on an in-memory graph through the one pipeline (what
    ``run`` does after reading ``--data-dir``); returns (model, metrics).

    Args:
        arch: ``kg``, ``kg-distmult`` or ``kg-transe``.
        graph: a :class:`keras_arch.data.kg.KnowledgeGraph`.
        config: the :class:`keras_arch.config.RunConfig` (default: the recipe's settings, quiet).
        builder_kwargs: builder arguments over the recipe's.
        eval_every: epochs between validation MRR measurements.
    """
    from keras_arch.training import train_lib
    config = config or RunConfig(quiet=True)
    return train_lib.train(arch, config, KGTask(registry.get(arch), config, graph, builder_kwargs, eval_every))
