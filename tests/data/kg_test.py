import os

import numpy as np
import pytest

from keras_arch.data import kg
from keras_arch.errors import UsageError
from tests.conftest import SHARED_DATA, needs_shared


def write_graph(directory, train, valid, test):
    os.makedirs(directory, exist_ok=True)
    for name, rows in (("train", train), ("valid", valid), ("test", test)):
        with open(os.path.join(directory, f"{name}.txt"), "w") as f:
            f.writelines("\t".join(r) + "\n" for r in rows)


def test_unseen_entities_are_numbered_ranked_and_counted(tmp_path):
    """The standard protocol (ConvE, LibKGE): every valid and test triple is
    kept and ranked, entities and relations numbered over all splits
    (training's first); those naming something train lacks are counted, and
    ``seen`` picks the others."""
    write_graph(tmp_path, [("a", "r", "b"), ("b", "s", "c")],
                [("a", "s", "c"), ("a", "r", "zzz")],  # zzz never in train
                [("c", "new_relation", "a"), ("c", "r", "a")])
    g = kg.read_graph_dir(str(tmp_path))
    assert g.entities == ["a", "b", "c", "zzz"] and g.relations == ["r", "s", "new_relation"]
    assert g.unseen == {"valid": 1, "test": 1}
    assert g.valid.tolist() == [[0, 1, 2], [0, 0, 3]] and g.test.tolist() == [[2, 2, 0], [2, 0, 0]]
    assert g.seen(g.test).tolist() == [[2, 0, 0]] and g.seen(g.valid).tolist() == [[0, 1, 2]]


def test_inverses_and_filter():
    g = kg.KnowledgeGraph("t", list("abc"), ["r"], np.array([[0, 0, 1], [0, 0, 2]]), np.zeros((0, 3), int),
                          np.array([[2, 0, 1]]))
    both = g.with_inverses(g.train)
    assert both.tolist() == [[0, 0, 1], [0, 0, 2], [1, 1, 0], [2, 1, 0]]
    known = g.known_tails()
    assert known[(0, 0)].tolist() == [1, 2] and known[(1, 1)].tolist() == [0, 2] and known[(2, 0)].tolist() == [1]


@pytest.mark.parametrize("line, why", [("a\tb\n", "expected head<TAB>relation<TAB>tail"),
                                       ("a\t\tc\n", "expected head")])
def test_malformed_lines_are_usage_errors(tmp_path, line, why):
    write_graph(tmp_path, [("a", "r", "b")], [], [])
    with open(tmp_path / "valid.txt", "w") as f:
        f.write(line)
    with pytest.raises(UsageError, match=why):
        kg.read_graph_dir(str(tmp_path))


def test_missing_split_files(tmp_path):
    (tmp_path / "train.txt").write_text("a\tr\tb\n")
    with pytest.raises(UsageError, match="missing valid.txt, test.txt"):
        kg.read_graph_dir(str(tmp_path))


def test_family_graph_follows_its_rules():
    g = kg.family_graph(families=3)
    names = lambda split: {(g.entities[h], g.relations[r], g.entities[t]) for h, r, t in split}  # noqa: E731
    facts = names(g.train) | names(g.valid) | names(g.test)
    assert not g.unseen and len(facts) == len(g.train) + len(g.valid) + len(g.test)
    for h, r, t in facts:
        if r == "father_of":
            assert (t, "son_of", h) in facts or (t, "daughter_of", h) in facts
            assert any(x == h and rel == "husband_of" for x, rel, _ in facts)  # a father is a husband
        if r == "uncle_of":  # uncle = brother of a parent
            parents = {p for p, rel, c in facts if c == t and rel in ("father_of", "mother_of")}
            assert any((h, "brother_of", p) in facts for p in parents)
        if r == "cousin_of":
            assert (t, "cousin_of", h) in facts
    assert {"grandmother_of", "aunt_of", "niece_of", "sister_of", "wife_of"} <= set(g.relations)
    # 80/10/10 split of the facts, fixed by the seed
    assert abs(len(g.valid) / len(facts) - 0.1) < 0.01
    assert kg.family_graph(families=3).train.tolist() == g.train.tolist()


@needs_shared("kg/umls")
def test_umls_counts():
    g = kg.read_graph_dir(os.path.join(SHARED_DATA, "kg", "umls"))
    assert (g.num_entities, g.num_relations, len(g.train), len(g.valid), len(g.test)) == (135, 46, 5216, 652, 661)
