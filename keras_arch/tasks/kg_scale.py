"""Knowledge-graph training defaults that scale with the graph (document 004
§4.3 at WN18RR's size): above a cost limit, sampled negatives with a large
batch for a budget of optimizer steps, XLA, and validation on a fixed sample.
The measurements behind the numbers are in ``benchmarks/results/`` (the KG
large-graph runs) and ``docs/kg.md``.
"""
import numpy as np

from keras_arch.data.kg import group_tails

# 1-N's cost per epoch, in (training query, entity, scorer unit) triples, above which a graph is
# "large": two orders of magnitude above the embedded family graph's and UMLS's.
ONE_TO_N_LIMIT = 2e10
# Sampled negatives, batch and optimizer-step budget on a large graph: a budget that trains
# within 10 minutes on 2 cores. The MLP's step costs batch x negatives x hidden, and for a
# fixed cost more negatives with a narrower hidden layer learn faster (docs/kg.md).
LARGE_GRAPH = {
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
        builder_kwargs (over the recipe's), eval_every (None: the task's),
        large, why (one line; None on a graph that is not large).
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
           "eval_every": None, "large": large, "why": None}
    if not large:
        return out
    planned = {k: v for k, v in plan.get("builder_kwargs", {}).items() if k not in fixed}
    out["builder_kwargs"].update(planned)
    out["eval_every"] = eval_every or max(1, epochs // 5)
    validated = len(validation_triples(graph))
    dropped = [k for k, v in planned.items() if "dropout" in k and v == 0.0]
    narrowed = {k: v for k, v in planned.items() if "dropout" not in k}
    out["why"] = (f"1-N would score {cost:.1e} (query, entity, unit) per epoch (> {ONE_TO_N_LIMIT:.0e}): "
                  + (f"{negatives} shared negatives, " if negatives else "1-N as asked, ")
                  + f"batch {batch}, {epochs} epochs ({epochs * steps:,} steps), learning rate {learning_rate:g}, "
                  + "".join(f"{k} {v} (the recipe: {settings.builder_kwargs.get(k)}), " for k, v in narrowed.items())
                  + (f"no {' or '.join(d.replace('_', ' ') for d in dropped)}, " if dropped else "")
                  + f"XLA, validation on {validated:,} of {len(graph.valid):,} triples every {out['eval_every']} epochs")
    return out


def validation_triples(graph):
    """What a run on a large graph validates on during training: a fixed
    sample of ``VALID_SAMPLE`` validation triples (the test split is always
    ranked whole)."""
    if len(graph.valid) <= VALID_SAMPLE:
        return graph.valid
    pick = np.random.default_rng(0).choice(len(graph.valid), VALID_SAMPLE, replace=False)
    return graph.valid[np.sort(pick)]
