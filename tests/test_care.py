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


@pytest.mark.parametrize("text", ["死ぬほど疲れた", "死ぬかと思いました、督促の電話が多くて", "死ぬ気で働いて返します"])
def test_figures_of_speech_are_not_a_crisis(text: str) -> None:
    assert classify(text) is None


def test_every_crisis_message_is_a_crisis_not_anger() -> None:
    assert all(classify(m) == "crisis" for m in CRISIS if is_crisis(m))


@pytest.mark.parametrize("name,min_recall,min_precision", [
    ("care_fresh.yaml", 0.9, 0.9),  # second set (written after the first rules; 10 % recall then)
    ("care_heldout3.yaml", 0.6, 0.85),  # third set, run once on the concept rules: the honest figure
])
def test_crisis_on_later_sets(name: str, min_recall: float, min_precision: float) -> None:
    data = yaml.safe_load((Path(__file__).parent / "data" / name).read_text(encoding="utf-8"))
    p, r, missed, fp = _pr(data["crisis"], data["decoys"], is_crisis)
    print(f"\n{name}: crisis precision {p:.0%}, recall {r:.0%}, missed {missed}, false {fp}")
    assert r >= min_recall and p >= min_precision, (missed, fp)
