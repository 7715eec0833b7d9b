"""Knowledge graphs as integer triples (document 004 §3.3, §4.3).

- embedded default (``--dataset family``): a family-tree graph the code
  generates, whose relations follow from rules (father_of, son_of, uncle_of,
  cousin_of...), so held-out triples can be inferred from training ones;
- ``--data-dir DIR``: ``train.txt``, ``valid.txt``, ``test.txt`` with one
  ``head<TAB>relation<TAB>tail`` triple a line (../shared/data/kg holds UMLS,
  Nations and Kinship in this format).

Entities and relations are numbered over all three splits, as LibKGE and
ConvE's released code do: a valid or test triple naming an entity or
relation absent from training is still ranked (the model has only its
untrained embedding for it, and usually ranks it low). Such triples are
counted (``KnowledgeGraph.unseen``) and the task also reports the metrics
without them, beside the standard ones.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional

import numpy as np

from keras_arch.data.splits import Splits
from keras_arch.errors import UsageError
from keras_arch.io import write_atomic

SPLIT_SEED = 0
SPLIT_NAMES = ("train", "valid", "test")


@dataclasses.dataclass
class KnowledgeGraph:
    """Triples as (n, 3) int32 arrays of (head, relation, tail) ids."""
    name: str
    entities: List[str]
    relations: List[str]
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    unseen: Dict[str, int] = dataclasses.field(default_factory=dict)

    def seen(self, triples):
        """The rows of ``triples`` whose head, relation and tail all occur in train."""
        entities = np.zeros(self.num_entities, bool)
        entities[self.train[:, [0, 2]].ravel()] = True
        relations = np.zeros(max(self.num_relations, 1), bool)
        relations[self.train[:, 1]] = True
        keep = entities[triples[:, 0]] & entities[triples[:, 2]] & relations[triples[:, 1]]
        return triples[keep]

    @property
    def num_entities(self):
        return len(self.entities)

    @property
    def num_relations(self):
        return len(self.relations)

    def with_inverses(self, triples):
        """(h, r, t) plus (t, r + R, h): tail prediction then covers both
        directions (ConvE's reciprocal relations)."""
        inverse = np.stack([triples[:, 2], triples[:, 1] + self.num_relations, triples[:, 0]], axis=1)
        return np.concatenate([triples, inverse]).astype(np.int32)

    def known_tails(self):
        """{(head, relation): sorted tail ids} over every split, inverses included:
        the filter of the filtered ranking protocol."""
        everything = self.with_inverses(np.concatenate([self.train, self.valid, self.test]))
        return group_tails(everything)


def group_tails(triples):
    """{(h, r): sorted unique tail ids}."""
    order = np.lexsort((triples[:, 2], triples[:, 1], triples[:, 0]))
    triples = triples[order]
    keys = triples[:, 0].astype(np.int64) * (1 << 32) + triples[:, 1]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(triples)]
    return {(int(triples[s, 0]), int(triples[s, 1])): np.unique(triples[s:e, 2]) for s, e in zip(starts, ends)}


def read_triples(path):
    """[(head, relation, tail)] strings from a TSV file."""
    triples = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                parts = line.rstrip("\n\r").split("\t")
                if len(parts) != 3 or not all(p.strip() for p in parts):
                    raise UsageError(f"{path}:{number}: expected head<TAB>relation<TAB>tail, got {line.strip()[:80]!r}")
                triples.append(tuple(p.strip() for p in parts))
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return triples


def from_string_triples(name, splits):
    """Number entities and relations over all splits (training's first);
    count the valid/test triples that name anything unseen in training."""
    if not splits["train"]:
        raise UsageError(f"{name}: train has no triples")
    everything = [t for split in SPLIT_NAMES for t in splits[split]]
    train_entities = {h for h, _, _ in splits["train"]} | {t for _, _, t in splits["train"]}
    train_relations = {r for _, r, _ in splits["train"]}
    entities = sorted(train_entities) + sorted(({h for h, _, _ in everything} | {t for _, _, t in everything})
                                               - train_entities)
    relations = sorted(train_relations) + sorted({r for _, r, _ in everything} - train_relations)
    e_id = {e: i for i, e in enumerate(entities)}
    r_id = {r: i for i, r in enumerate(relations)}
    arrays = {split: np.array([(e_id[h], r_id[r], e_id[t]) for h, r, t in splits[split]],
                              dtype=np.int32).reshape(-1, 3) for split in SPLIT_NAMES}
    unseen = {split: sum(1 for h, r, t in splits[split] if h not in train_entities or t not in train_entities
                         or r not in train_relations) for split in SPLIT_NAMES[1:]}
    return KnowledgeGraph(name, entities, relations, arrays["train"], arrays["valid"], arrays["test"],
                          {k: v for k, v in unseen.items() if v})


def read_graph_dir(directory, flag="--data-dir"):
    if not os.path.isdir(directory):
        raise UsageError(f"{flag} {directory}: no such directory")
    missing = [f"{s}.txt" for s in SPLIT_NAMES if not os.path.isfile(os.path.join(directory, f"{s}.txt"))]
    if missing:
        raise UsageError(f"{flag} {directory}: missing {', '.join(missing)} (one head<TAB>relation<TAB>tail a line)")
    name = os.path.basename(os.path.normpath(directory)).lower()
    return from_string_triples(name, {s: read_triples(os.path.join(directory, f"{s}.txt")) for s in SPLIT_NAMES})


# --- the embedded family-tree graph -------------------------------------------------------------

def _people_relations(families, generations, rng):
    """Yield (head, relation, tail) facts of ``families`` independent trees."""
    facts = []
    for fam in range(families):
        count = 0

        def person(gender):
            nonlocal count
            count += 1
            return (f"f{fam:04d}_p{count:02d}", gender)

        parents_of, children_of = {}, {}
        couples = [(person("m"), person("f"))]
        for generation in range(generations):
            next_couples = []
            for father, mother in couples:
                facts += [(father[0], "husband_of", mother[0]), (mother[0], "wife_of", father[0])]
                kids = [person("m" if rng.random() < 0.5 else "f") for _ in range(rng.integers(2, 4))]
                children_of[(father, mother)] = kids
                for kid in kids:
                    parents_of[kid] = (father, mother)
                    if generation + 1 < generations:
                        spouse = person("f" if kid[1] == "m" else "m")  # marries in: no parents in the tree
                        next_couples.append((kid, spouse) if kid[1] == "m" else (spouse, kid))
            couples = next_couples

        def siblings(p):
            if p not in parents_of:
                return []
            return [s for s in children_of[parents_of[p]] if s != p]

        everyone = {p for kids in children_of.values() for p in kids} | {p for c in children_of for p in c}
        for p in sorted(everyone):
            for parent in parents_of.get(p, ()):
                facts.append((parent[0], "father_of" if parent[1] == "m" else "mother_of", p[0]))
                facts.append((p[0], "son_of" if p[1] == "m" else "daughter_of", parent[0]))
                for grand in parents_of.get(parent, ()):
                    facts.append((grand[0], "grandfather_of" if grand[1] == "m" else "grandmother_of", p[0]))
                    facts.append((p[0], "grandson_of" if p[1] == "m" else "granddaughter_of", grand[0]))
                for aunt in siblings(parent):
                    facts.append((aunt[0], "uncle_of" if aunt[1] == "m" else "aunt_of", p[0]))
                    facts.append((p[0], "nephew_of" if p[1] == "m" else "niece_of", aunt[0]))
                    for cousin in children_of.get(next((c for c in children_of if aunt in c), None), []):
                        facts.append((p[0], "cousin_of", cousin[0]))
            for sib in siblings(p):
                facts.append((p[0], "brother_of" if p[1] == "m" else "sister_of", sib[0]))
    return sorted(set(facts))


def family_graph(families=12, generations=3, seed=SPLIT_SEED, valid_fraction=0.1, test_fraction=0.1, keep=1.0):
    """A generated kinship graph: ``families`` trees of ``generations``
    generations, 2-3 children per couple, spouses marrying in. Triples are
    split at random 80/10/10; rules tie them together (a held-out father_of
    follows from a training son_of and the father's gender).

    Args:
        families, generations: the size of the graph (about 35 people a
            family at 3 generations).
        seed: draws the trees, the kept facts and the split.
        valid_fraction, test_fraction: of the kept facts, held out.
        keep: the fraction of all true facts kept before splitting. Below 1
            the graph is sparse like a real one (``keep=0.2`` with 1,200
            families: about 40,000 entities and 90,000 training triples,
            WN18RR's size), and many held-out facts no longer follow from
            training ones.
    """
    rng = np.random.default_rng(seed)
    facts = _people_relations(families, generations, rng)
    if keep < 1.0:
        facts = [facts[i] for i in np.sort(rng.permutation(len(facts))[:int(len(facts) * keep)])]
    order = rng.permutation(len(facts))
    n_valid, n_test = int(len(facts) * valid_fraction), int(len(facts) * test_fraction)
    pick = lambda idx: [facts[i] for i in idx]  # noqa: E731
    return from_string_triples("family", {
        "valid": pick(order[:n_valid]), "test": pick(order[n_valid:n_valid + n_test]),
        "train": pick(order[n_valid + n_test:])})


@dataclasses.dataclass
class GraphSplits(Splits):
    """Splits over a knowledge graph: x = {head, relation} queries (inverses
    included), y = the true tail; ``graph`` keeps everything the ranking needs."""
    graph: Optional[KnowledgeGraph] = None

    def model_args(self):
        # Builders see the relation count with inverses: tail prediction for
        # (t, r^-1, ?) is how heads are predicted.
        return {"num_entities": self.graph.num_entities, "num_relations": 2 * self.graph.num_relations}

    def sizes(self):
        g = self.graph
        return {"train": len(g.train), "val": len(g.valid), "test": len(g.test), "entities": g.num_entities,
                "relations": g.num_relations, "unseen": dict(g.unseen)}


def _queries(graph, triples):
    both = graph.with_inverses(triples)
    return {"head": both[:, 0], "relation": both[:, 1]}, both[:, 2]


def to_splits(graph):
    x_train, y_train = _queries(graph, graph.train)
    x_val, y_val = _queries(graph, graph.valid)
    x_test, y_test = _queries(graph, graph.test)
    return GraphSplits(graph.name, x_train, y_train, x_val, y_val, graph.num_entities, x_test, y_test,
                       vocabulary=graph.entities, graph=graph)


def load(dataset="family", data_dir=None, test_dir=None):
    """GraphSplits for the CLI: ``--data-dir`` wins over ``--dataset``."""
    if test_dir is not None:
        raise UsageError("--test-dir is not used by knowledge graphs: put test.txt in --data-dir")
    if data_dir is not None:
        return to_splits(read_graph_dir(data_dir))
    if dataset != "family":
        raise UsageError(f"--dataset {dataset!r}: only 'family' is embedded; give --data-dir for others")
    return to_splits(family_graph())


def write_graph_dir(graph, directory):
    """Write ``graph`` as train/valid/test.txt TSV files (atomically), the
    format ``--data-dir`` reads: e.g. to benchmark a large generated graph."""
    os.makedirs(directory, exist_ok=True)
    for split in SPLIT_NAMES:
        rows = getattr(graph, split)
        text = "".join(f"{graph.entities[h]}\t{graph.relations[r]}\t{graph.entities[t]}\n" for h, r, t in rows)
        write_atomic(os.path.join(directory, f"{split}.txt"), text)
    return directory
