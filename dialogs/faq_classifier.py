"""Which FAQ topic a free question is about: a small text classifier trained at start-up.

Trained from the ``examples:`` (and the ``question``) of every entry in
``content/faq.yaml`` and of ``content/faq_more_examples.yaml`` (by entry id), labelled with
the entry's ``topic``, and from the messages that ask
nothing (``content/faq_statements.yaml``: dialog facts, answers, greetings), labelled
``STATEMENT``: a message with no question form is read as the question it implies only when it
looks more like the FAQ examples than like those (``read``). Model: TF-IDF of
character 1–3-grams (Japanese has no spaces; character n-grams need no analyser
and cope with typos and kana/kanji variants) + multinomial logistic regression,
whose probabilities give the confidence for the two-stage fallback: at or above
``THRESHOLD`` the top topic is answered, below it the three closest topics are
offered (「こちらのことですか?」). Measured with ``flask --app app nlu eval``.

Training takes ~0.2 s CPU (measured in the README; importing scikit-learn ~1.3 s more), so the model is trained once per
process on first use (``warm_up`` at start-up) and not cached on disk.
"""
from __future__ import annotations

import logging
import pathlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

logger = logging.getLogger(__name__)

FAQ_PATH = pathlib.Path(__file__).resolve().parents[1] / "content" / "faq.yaml"
STATEMENTS_PATH = FAQ_PATH.with_name("faq_statements.yaml")
MORE_EXAMPLES_PATH = FAQ_PATH.with_name("faq_more_examples.yaml")
#: the class of the messages that ask nothing (never an FAQ topic id)
STATEMENT = "statement"

#: Probability of the top topic at or above which it is answered outright: the lowest
#: at which, in 5-fold cross-validation of the examples, at least 80 % of the answered
#: questions are right (``flask --app app nlu eval`` prints the sweep; re-check after
#: adding examples).
THRESHOLD = 0.25
#: At most this many topics are offered below the threshold.
CANDIDATES = 3


def words(text: str) -> list[str]:
    """SudachiPy's normalized forms of the short units (split mode A), punctuation left out:
    引越し/引っ越し, 払えない/はらえない and 出来る/できる become one feature each."""
    from sudachipy import SplitMode

    from dialogs.analyser import tokenizer

    return [m.normalized_form() for m in tokenizer().tokenize(text, SplitMode.A)
            if m.part_of_speech()[0] not in ("補助記号", "空白")]


def features(text: str) -> list[str]:
    """Character 1–3-grams of the text (spaces around it, as scikit-learn's ``char_wb``) and its
    words (``words``, marked ``w:``), in one vectorizer: a FeatureUnion of two vectorizers
    costs ~2 ms more per message in joblib's dispatch (measured)."""
    padded = f" {text} "
    grams = [padded[i:i + n] for n in (1, 2, 3) for i in range(len(padded) - n + 1)]
    return grams + [f"w:{w}" for w in words(text)]


def examples_from(faq: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(text, topic) pairs: each entry's question and its examples."""
    pairs: list[tuple[str, str]] = []
    for entry in faq:
        topic = entry.get("topic")
        if not isinstance(topic, str):
            continue
        for text in [entry.get("question"), *(entry.get("examples") or [])]:
            if isinstance(text, str) and text.strip():
                pairs.append((text, topic))
    return pairs


def load_examples(path: pathlib.Path = FAQ_PATH) -> list[tuple[str, str]]:
    return examples_from(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def load_more_examples(path: pathlib.Path = MORE_EXAMPLES_PATH, faq_path: pathlib.Path = FAQ_PATH) -> list[tuple[str, str]]:
    """(text, topic) pairs of ``content/faq_more_examples.yaml`` (entry id → examples), labelled with
    the topic of the faq.yaml entry. Kept out of ``load_examples``, which the crisis classifier
    reads as ordinary messages (``dialogs.care.load_examples``)."""
    topics = {e.get("id"): e.get("topic") for e in yaml.safe_load(faq_path.read_text(encoding="utf-8")) or []}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(t), str(topics[entry])) for entry, texts in data.items() for t in texts or [] if str(t).strip()]


def training_examples() -> list[tuple[str, str]]:
    """Every (text, topic) pair the FAQ classifier learns topics from: faq.yaml and the more examples."""
    return load_examples() + load_more_examples()


def load_statements(path: pathlib.Path = STATEMENTS_PATH) -> list[tuple[str, str]]:
    """(text, ``STATEMENT``) pairs: the messages that ask nothing."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(t), STATEMENT) for t in data.get("examples") or [] if str(t).strip()]


class LinearText:
    """A fitted ``TfidfVectorizer(sublinear_tf=True)`` + ``LogisticRegression`` pipeline applied
    to one text at a time: the same probabilities as ``pipeline.predict_proba([text])[0]``
    (tests/test_faq_classifier.py compares them), without scikit-learn's per-call checks of
    its input (array validation, dataframe detection, parameter validation), which cost
    ~1 ms of CPU per message and per classifier, about ten times the arithmetic
    (README "Performance")."""

    def __init__(self, pipeline: Any):
        import numpy as np

        vectorizer, model = pipeline[0], pipeline[-1]
        self.classes = [str(c) for c in model.classes_]
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_
        self._coef, self._intercept = model.coef_, model.intercept_
        self._np = np

    def probabilities(self, text: str) -> list[float]:
        np = self._np
        counts: dict[int, int] = {}
        for token in self._analyze(text):
            j = self._vocabulary.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        scores = self._intercept.copy()
        if counts:
            idx = np.fromiter(counts, dtype=np.intp, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * self._idf[idx]
            scores += self._coef[:, idx] @ (weights / np.sqrt(weights @ weights))
        if len(self.classes) == 2:  # binary: the logistic of one score
            p = 1.0 / (1.0 + np.exp(-scores[0]))
            return [1.0 - p, p]
        e = np.exp(scores - scores.max())
        return (e / e.sum()).tolist()


#: What the classifier reads of a message (see ``rank``).
MAX_QUESTION_CHARS = 600


@dataclass
class FaqClassifier:
    """A fitted pipeline and the text normalisation it was trained with."""

    pipeline: Any
    normalize: Callable[[str], str]
    threshold: float = THRESHOLD

    def __post_init__(self) -> None:
        self.linear = LinearText(self.pipeline)

    @classmethod
    def train(
        cls,
        pairs: list[tuple[str, str]],
        normalize: Callable[[str], str] = str,
        threshold: float = THRESHOLD,
    ) -> FaqClassifier:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from threadpoolctl import threadpool_limits

        pipeline = make_pipeline(
            TfidfVectorizer(analyzer=features, sublinear_tf=True),
            LogisticRegression(C=50, class_weight="balanced", max_iter=3000),
        )
        # one BLAS thread: with more, lbfgs spins them and costs 10x the CPU (1.7 s instead of 0.14 s)
        with threadpool_limits(1):
            pipeline.fit([normalize(t) for t, _ in pairs], [topic for _, topic in pairs])
        return cls(pipeline, normalize, threshold)

    def read(self, text: str) -> tuple[list[tuple[str, float]], float]:
        """(every FAQ topic with its probability among the topics, most likely first; the
        probability that the message asks nothing, ``STATEMENT``). Read on the first
        ``MAX_QUESTION_CHARS``: the longest example or held-out question is 194 characters,
        and a 10,000-character message cost 35 ms of CPU whole."""
        probs = self.linear.probabilities(self.normalize(text[:MAX_QUESTION_CHARS]))
        pairs = list(zip(self.linear.classes, probs, strict=True))
        statement = sum(p for c, p in pairs if c == STATEMENT)
        rest = (1.0 - statement) or 1.0
        topics = [(c, p / rest) for c, p in pairs if c != STATEMENT]
        return sorted(topics, key=lambda tp: -tp[1]), statement

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every FAQ topic with its probability among the topics, most likely first (``read``)."""
        return self.read(text)[0]

    def classify(self, text: str) -> tuple[str | None, list[str]]:
        """(topic, []) when confident, else (None, the closest topics best first)."""
        ranked = self.rank(text)
        if ranked[0][1] >= self.threshold:
            return str(ranked[0][0]), []
        return None, [str(t) for t, _ in ranked[:CANDIDATES]]
