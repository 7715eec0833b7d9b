"""Filtered link-prediction ranking (Bordes et al. 2013's protocol, as ConvE
and PyKEEN report it).

For a test triple (h, r, t), the tail query (h, r, ?) ranks t among all
entities after removing every *other* tail known to be true for (h, r) in
train, valid or test; the head query is the tail query of the inverse
relation, (t, r^-1, ?). Ties count half ("realistic" rank): a model that
scores everything equal gets the mean rank, not rank 1.
"""
import numpy as np


def filtered_ranks(scores, heads, relations, targets, known):
    """Rank of ``targets[i]`` in ``scores[i]`` (queries x entities) after
    filtering the other true tails of (heads[i], relations[i]) in ``known``."""
    scores = np.array(scores, dtype=np.float64)
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets]
    for i, (h, r) in enumerate(zip(heads, relations)):
        scores[i, known.get((int(h), int(r)), [])] = -np.inf
    scores[rows, targets] = target_scores
    higher = (scores > target_scores[:, None]).sum(1)
    ties = (scores == target_scores[:, None]).sum(1) - 1  # the target itself is not a tie
    return 1.0 + higher + ties / 2.0


def metrics(ranks, prefix=""):
    ranks = np.asarray(ranks, np.float64)
    out = {f"{prefix}mrr": float(np.mean(1.0 / ranks)), f"{prefix}mean_rank": float(np.mean(ranks))}
    for k in (1, 3, 10):
        out[f"{prefix}hits@{k}"] = float(np.mean(ranks <= k))
    return out


def ranks(score_fn, triples, num_relations, known, batch_size=512):
    """{"tail": ranks, "head": ranks}: the filtered rank of every test
    triple's tail for (h, r, ?) and of its head for (t, r^-1, ?).

    Args:
        score_fn: ``score_fn(heads, relations)`` -> (batch, entities) scores.
        triples: (n, 3) int array of (head, relation, tail).
        num_relations: relations without inverses (r + num_relations is r's inverse).
        known: {(head, relation): true tails} over train, valid and test, inverses included.
        batch_size: queries scored at once.
    """
    tail_q = (triples[:, 0], triples[:, 1], triples[:, 2])
    head_q = (triples[:, 2], triples[:, 1] + num_relations, triples[:, 0])
    out = {}
    for side, (h, r, t) in (("tail", tail_q), ("head", head_q)):
        parts = []
        for s in range(0, len(t), batch_size):
            sl = slice(s, s + batch_size)
            parts.append(filtered_ranks(score_fn(h[sl], r[sl]), h[sl], r[sl], t[sl], known))
        out[side] = np.concatenate(parts) if parts else np.zeros(0)
    return out


def evaluate(score_fn, triples, num_relations, known, batch_size=512):
    """Filtered MRR and Hits@1/3/10 of ``triples`` (n, 3), tails and heads
    (arguments as :func:`ranks`)."""
    both = ranks(score_fn, triples, num_relations, known, batch_size)
    out = metrics(np.concatenate([both["tail"], both["head"]]))
    out.update(metrics(both["tail"], "tail_"))
    out.update(metrics(both["head"], "head_"))
    return out
