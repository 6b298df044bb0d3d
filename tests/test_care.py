"""dialogs/care.py on the held-out messages of tests/data/care_corpus.yaml (written before the detector).

Run with -s to see the figures: ``.venv/bin/python -m pytest tests/test_care.py -q -s``.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialogs.care import classify, is_crisis

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "care_corpus.yaml").read_text(encoding="utf-8"))
CRISIS = CORPUS["crisis_direct"] + CORPUS["crisis_indirect"]
ANGER = CORPUS["anger_offtopic"]
DECOYS = CORPUS["decoys"]


def _pr(positives: list[str], negatives: list[str], hit) -> tuple[float, float, list[str], list[str]]:
    tp = [m for m in positives if hit(m)]
    fp = [m for m in negatives if hit(m)]
    missed = [m for m in positives if not hit(m)]
    precision = len(tp) / (len(tp) + len(fp)) if tp or fp else 1.0
    return precision, len(tp) / len(positives), missed, fp


def test_corpus_is_big_enough() -> None:
    assert len(CRISIS) >= 40 and len(CORPUS["crisis_indirect"]) >= 25
    assert len(ANGER) >= 20 and len(DECOYS) >= 40


def test_crisis_precision_and_recall() -> None:
    p, r, missed, fp = _pr(CRISIS, ANGER + DECOYS, is_crisis)
    _, r_ind, missed_ind, _ = _pr(CORPUS["crisis_indirect"], [], is_crisis)
    print(f"\ncrisis: precision {p:.0%}, recall {r:.0%} (indirect {r_ind:.0%}), missed {missed}, false {fp}")
    assert r >= 0.95 and r_ind >= 0.9, missed
    assert p >= 0.95, fp


def test_anger_and_offtopic_precision_and_recall() -> None:
    hit = lambda m: classify(m) in ("anger", "offtopic")  # noqa: E731
    p, r, missed, fp = _pr(ANGER, CRISIS + DECOYS, hit)
    print(f"\nanger/off-topic: precision {p:.0%}, recall {r:.0%}, missed {missed}, false {fp}")
    assert r >= 0.9 and p >= 0.9, (missed, fp)


@pytest.mark.parametrize("text", ["死ぬほど疲れた", "死ぬかと思いました、督促の電話が多くて", "死ぬ気で働いて返します",
                                  "必死で払ってきました", "夫が死んだら家はどうなりますか", "母が死んでから相続しました",
                                  "死亡したら団信はどうなりますか", "死ぬまでローンを払うんですか"])
def test_figures_of_speech_are_not_a_crisis(text: str) -> None:
    assert classify(text) is None


def test_every_crisis_message_is_a_crisis_not_anger() -> None:
    assert all(classify(m) == "crisis" for m in CRISIS if is_crisis(m))


@pytest.mark.parametrize("name,min_recall,min_precision", [
    # Each set was run once on the rules of its time (the honest figure, in the README), then
    # the rules were widened to kinds of saying: these floors only guard against regressions.
    ("care_fresh.yaml", 0.95, 0.9),  # 2nd set: 10 % recall on the first (phrase) rules
    ("care_heldout3.yaml", 0.95, 0.9),  # 3rd set: 60 % recall, 86 % precision when first run
    ("care_heldout4.yaml", 0.95, 0.9),  # 4th set: 35 % recall, 100 % precision when first run
])
def test_crisis_on_later_sets(name: str, min_recall: float, min_precision: float) -> None:
    data = yaml.safe_load((Path(__file__).parent / "data" / name).read_text(encoding="utf-8"))
    p, r, missed, fp = _pr(data["crisis"], data["decoys"], is_crisis)
    print(f"\n{name}: crisis precision {p:.0%}, recall {r:.0%}, missed {missed}, false {fp}")
    assert r >= min_recall and p >= min_precision, (missed, fp)


def test_no_message_of_the_understanding_corpus_is_a_crisis_or_anger() -> None:
    """250 ordinary homeowners' messages (tests/data/understanding_corpus.yaml): no false alarm."""
    data = yaml.safe_load((Path(__file__).parent / "data" / "understanding_corpus.yaml").read_text(encoding="utf-8"))
    items = data if isinstance(data, list) else next(v for v in data.values() if isinstance(v, list))
    texts = [i["text"] if isinstance(i, dict) else i for i in items]
    assert len(texts) >= 200
    assert [t for t in texts if classify(t) is not None] == []
