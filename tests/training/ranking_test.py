import itertools

import numpy as np
import pytest

from keras_arch.data.kg import KnowledgeGraph
from keras_arch.training import ranking


def brute_force(score, graph):
    """The protocol written out: for each test triple and direction, count the
    entities that beat the answer, skipping every other true triple."""
    true = {tuple(t) for t in np.concatenate([graph.train, graph.valid, graph.test])}
    ranks = []
    for h, r, t in graph.test:
        for side in ("tail", "head"):
            target = score(h, r, t)
            higher = ties = 0
            for e in range(graph.num_entities):
                cand = (h, r, e) if side == "tail" else (e, r, t)
                if cand == (h, r, t) or cand in true:
                    continue
                s = score(*cand)
                higher += s > target
                ties += s == target
            ranks.append(1 + higher + ties / 2)
    return np.array(ranks)


def test_filtered_ranking_equals_brute_force():
    rng = np.random.default_rng(0)
    n, r = 9, 2
    triples = np.array(sorted({(int(rng.integers(n)), int(rng.integers(r)), int(rng.integers(n)))
                               for _ in range(40)}), np.int32)
    rng.shuffle(triples)
    graph = KnowledgeGraph("toy", [str(i) for i in range(n)], ["a", "b"], triples[:24], triples[24:28], triples[28:])
    # A table of scores with deliberate ties (rounded), for relations and inverses.
    table = np.round(rng.normal(size=(n, 2 * r, n)), 1)

    def score(h, rel, t):  # f(h, r, t); the head query scores f(t, r^-1, h)
        return table[h, rel, t]

    # The vectorised path asks (t, r^-1, ?) for heads: the inverse relation's
    # scores are the same function read backwards.
    for h_, r_, t_ in itertools.product(range(n), range(r), range(n)):
        table[t_, r_ + r, h_] = table[h_, r_, t_]
    got = ranking.evaluate(lambda hs, rs: table[hs, rs], graph.test, r, graph.known_tails())
    expected = brute_force(score, graph)
    tail, head = expected[0::2], expected[1::2]
    assert np.isclose(got["tail_mrr"], np.mean(1 / tail)) and np.isclose(got["head_mrr"], np.mean(1 / head))
    assert np.isclose(got["mrr"], np.mean(1 / expected))
    for k in (1, 3, 10):
        assert np.isclose(got[f"hits@{k}"], np.mean(expected <= k))
    assert got["mrr"] < 1.0  # the random scores are not perfect: the check is not vacuous


def test_ties_count_half_and_filtering_removes_other_answers():
    scores = np.array([[0.0, 1.0, 1.0, 1.0, 2.0]])
    # target 1; entity 4 is another true tail (filtered); 2 and 3 tie with it
    ranks = ranking.filtered_ranks(scores, [0], [0], np.array([1]), {(0, 0): np.array([1, 4])})
    assert ranks.tolist() == [2.0]  # 1 + 0 higher + 2 ties / 2
    assert ranking.metrics([1, 2, 4])["mrr"] == np.mean([1, 0.5, 0.25])


def test_filtered_ranks_with_ties_on_a_hand_computed_graph():
    """6 entities, one relation (1 is its inverse). True triples: train (0,0,1),
    (0,0,2); valid (0,0,3); test (0,0,4), (5,0,4). Scores per query, written out:

      tail (0, 0, ?), answer 4: [.7, .9, .7, .95, .7, .8]: 1, 2 and 3 are other
        true tails (3 only in valid) and are filtered; 5 beats it, 0 ties:
        rank 1 + 1 + 1/2 = 2.5 (3.5 if valid were not filtered, 3 if ties counted whole)
      head (4, 1, ?), answer 0: [.2, .3, .3, .1, .2, .6]: 5 is filtered ((5,0,4) is
        true); 1 and 2 beat it, 4 ties: rank 1 + 2 + 1/2 = 3.5
      tail (5, 0, ?), answer 4: [.1, .1, .1, .1, .4, .4]: nothing to filter, 5 ties: 1.5
      head (4, 1, ?), answer 5: the same row; 0 is filtered, nothing beats .6: rank 1
    """
    graph = KnowledgeGraph("hand", [str(i) for i in range(6)], ["r"], np.array([[0, 0, 1], [0, 0, 2]], np.int32),
                           np.array([[0, 0, 3]], np.int32), np.array([[0, 0, 4], [5, 0, 4]], np.int32))
    table = np.zeros((6, 2, 6))
    table[0, 0] = [.7, .9, .7, .95, .7, .8]
    table[4, 1] = [.2, .3, .3, .1, .2, .6]
    table[5, 0] = [.1, .1, .1, .1, .4, .4]
    got = ranking.evaluate(lambda hs, rs: table[hs, rs], graph.test, 1, graph.known_tails(), batch_size=1)
    tail, head = np.array([2.5, 1.5]), np.array([3.5, 1.0])
    assert got["tail_mean_rank"] == pytest.approx(2.0) and got["head_mean_rank"] == pytest.approx(2.25)
    assert got["tail_mrr"] == pytest.approx((1 / 2.5 + 1 / 1.5) / 2)
    assert got["head_mrr"] == pytest.approx((1 / 3.5 + 1) / 2)
    assert got["mrr"] == pytest.approx(np.mean(1 / np.r_[tail, head]))
    assert got["mean_rank"] == pytest.approx(8.5 / 4)
    assert (got["hits@1"], got["hits@3"], got["hits@10"]) == (0.25, 0.75, 1.0)  # 1.5 is not a hit at 1
    assert got["tail_hits@1"] == 0.0 and got["head_hits@1"] == 0.5


def test_known_tails_cover_every_split_and_the_inverses():
    graph = KnowledgeGraph("hand", [str(i) for i in range(4)], ["r", "s"], np.array([[0, 0, 1]], np.int32),
                           np.array([[0, 0, 2]], np.int32), np.array([[3, 1, 0]], np.int32))
    known = {k: v.tolist() for k, v in graph.known_tails().items()}
    assert known == {(0, 0): [1, 2], (1, 2): [0], (2, 2): [0], (3, 1): [0], (0, 3): [3]}
