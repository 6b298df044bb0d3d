"""dialogs.faq_classifier.LinearText: the three classifiers (FAQ topic, crisis, mood) read one
message with the fitted model's own arithmetic instead of scikit-learn's ``predict_proba``,
whose per-call input checks cost more than the sum. Same probabilities, a fraction of the CPU."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from dialogs import care
from dialogs.understanding.faq import faq_classifier

DATA = Path(__file__).parent / "data"


def _texts() -> list[str]:
    corpus = yaml.safe_load((DATA / "understanding_corpus.yaml").read_text(encoding="utf-8"))["items"]
    crisis = yaml.safe_load((DATA / "care_heldout11.yaml").read_text(encoding="utf-8"))
    texts = [item["text"] for item in corpus]
    texts += [t for v in crisis.values() if isinstance(v, list) for t in v if isinstance(t, str)]
    # no known feature at all (only the intercept speaks), one character, a long message
    return texts + ["", "ｚ", "Qwxz", "家" * 2000]


def _classifiers() -> list[tuple[str, object]]:
    care.train_classifier()
    faq = faq_classifier()
    assert faq is not None and care.crisis_classifier() is not None and care.mood_classifier() is not None
    return [("faq", faq), ("crisis", care.crisis_classifier()), ("mood", care.mood_classifier())]


@pytest.mark.parametrize("name", ["faq", "crisis", "mood"])
def test_same_probabilities_as_scikit_learn(name: str) -> None:
    classifier = dict(_classifiers())[name]
    texts = _texts()
    assert len(texts) > 300
    expected = classifier.pipeline.predict_proba(texts)
    got = np.array([classifier.linear.probabilities(t) for t in texts])
    assert classifier.linear.classes == [str(c) for c in classifier.pipeline.classes_]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_a_fraction_of_the_cpu_of_predict_proba() -> None:
    """CPU of the thread (not wall time: no flake on a loaded machine), both ways on the same
    texts; LinearText's figure includes the analyser (character n-grams and SudachiPy's words),
    which both pay."""
    texts = _texts()[:150]
    for _name, classifier in _classifiers():
        t = time.thread_time()
        for text in texts:
            classifier.pipeline.predict_proba([text])
        sklearn_cpu = time.thread_time() - t
        t = time.thread_time()
        for text in texts:
            classifier.linear.probabilities(text)
        linear_cpu = time.thread_time() - t
        assert linear_cpu * 2.5 < sklearn_cpu, (linear_cpu, sklearn_cpu)
