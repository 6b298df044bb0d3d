"""``flask --app app nlu eval``: how well ``understand`` reads text it was not tuned on.

Like ``rasa test nlu``: per field and per FAQ topic precision and recall with the
confusions, on

* the held-out corpora ``tests/data/understanding_heldout_fields.yaml`` and
  ``tests/data/understanding_heldout_faq.yaml``, set 2, set 3 (``understanding_heldout3_faq.yaml``,
  LINE-style questions) and set 4 (``understanding_heldout4_faq.yaml``, LINE-style, mostly
  questions implied by a worry told as a statement) (written before tuning, never tuned on, but
  seen: later rounds were tuned while looking at them), and set 5 (``understanding_heldout5_faq.yaml``,
  every style mixed, written before the third round and never tuned on: the clean figure);
* k-fold cross-validation of the FAQ examples in ``content/faq.yaml``;
* the tuned-on corpus ``tests/data/understanding_corpus.yaml`` (for regressions only).

The scoring functions are plain and used by ``tests/test_nlu_heldout.py`` too.
"""
from __future__ import annotations

import datetime as dt
import pathlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import click
import yaml
from flask.cli import AppGroup

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
FIELDS_HELDOUT = DATA / "understanding_heldout_fields.yaml"
FAQ_HELDOUT = DATA / "understanding_heldout_faq.yaml"
#: a second held-out pair, written after the mechanisms and before they were ever run on it
FIELDS_HELDOUT2 = DATA / "understanding_heldout2_fields.yaml"
#: a third field set with contact replies (``contacts``), written before the "fields" round: the
#: clean figure; sets 1 and 2 were looked at while fixing (SEEN)
FIELDS_HELDOUT3 = DATA / "understanding_heldout3_fields.yaml"
#: a fourth field set, written after that round's mechanisms and before it was ever run (set 3's
#: misses were seen once, in its BEFORE run)
FIELDS_HELDOUT4 = DATA / "understanding_heldout4_fields.yaml"
#: a fifth field set, written after the second round of mechanisms and before it was ever run
FIELDS_HELDOUT5 = DATA / "understanding_heldout5_fields.yaml"
#: a sixth field set, written after the third round and before it was ever run: the final clean figure
FIELDS_HELDOUT6 = DATA / "understanding_heldout6_fields.yaml"
#: a seventh, written after the fourth round and before it was ever run: the clean figure the round ends on
FIELDS_HELDOUT7 = DATA / "understanding_heldout7_fields.yaml"
#: an eighth, written the frightened LINE way (stories, dialect, kana, numbers in words, traps)
#: before the understand3 round changed anything, and never tuned on: that round's clean figure
FIELDS_HELDOUT8 = DATA / "understanding_heldout8_fields.yaml"
FAQ_HELDOUT2 = DATA / "understanding_heldout2_faq.yaml"
#: a third FAQ set, written LINE-style (colloquial, typos, hiragana) before the model was changed
FAQ_HELDOUT3 = DATA / "understanding_heldout3_faq.yaml"
#: a fourth FAQ set, LINE-style and mostly implied questions (worries told as statements), written
#: before the second round of changes and never tuned on: the clean figure of that round
FAQ_HELDOUT4 = DATA / "understanding_heldout4_faq.yaml"
#: a fifth FAQ set, every style mixed (explicit, implied, stories, kana, emoji) and statements,
#: written before the third round of changes and never tuned on: the clean figure of that round
FAQ_HELDOUT5 = DATA / "understanding_heldout5_faq.yaml"
#: a sixth FAQ set, written the worried LINE way (dialect, kana, stories) before the understand3
#: round changed anything, and never tuned on: the clean figure of that round
FAQ_HELDOUT6 = DATA / "understanding_heldout6_faq.yaml"
#: every FAQ held-out set, oldest first (1-5 have been seen while tuning; 6 has not)
FAQ_HELDOUTS = (FAQ_HELDOUT, FAQ_HELDOUT2, FAQ_HELDOUT3, FAQ_HELDOUT4, FAQ_HELDOUT5, FAQ_HELDOUT6)
SEEN_FAQ_SETS = frozenset(FAQ_HELDOUTS[:-1])
TUNED_CORPUS = DATA / "understanding_corpus.yaml"
#: the field sets printed, and those whose misses were looked at after their first run
FIELD_SETS = (FIELDS_HELDOUT, FIELDS_HELDOUT2, FIELDS_HELDOUT3, FIELDS_HELDOUT4, FIELDS_HELDOUT5, FIELDS_HELDOUT6,
              FIELDS_HELDOUT7, FIELDS_HELDOUT8)
#: all but set 8: each was looked at after its first run (README)
SEEN_FIELD_SETS = frozenset(FIELD_SETS[:-1])

#: the fields of a Reading scored on the held-out field corpus
FIELDS = (
    "arrears_months",
    "co_owned",
    "joint_guarantor",
    "guarantor_self",
    "divorce",
    "notices",
    "dates",
    "tax_seizure",
    "wants_human",
)


# ---------------------------------------------------------------------------
# Scoring (pure)
# ---------------------------------------------------------------------------


def load(path: pathlib.Path) -> tuple[dt.date, list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["today"], data["items"]


#: contact details read at the contact steps, scored like the fields (``score_contacts``)
CONTACT_FIELDS = ("phone", "email", "name", "time")


def load_contacts(path: pathlib.Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("contacts") or []


def read_contact(text: str, step: str) -> dict[str, str | None]:
    """The contact details of a reply at ``step``, read as the dialog reads them
    (dialogs/diagnosis/routing.py ``_contact_text``): a name only at the name step or next to
    a phone or e-mail, a time only at the time step or next to another detail."""
    from dialogs.understanding import find_email, find_name, find_phone, find_time

    phone, email = find_phone(text), find_email(text)
    name = find_name(text) if step == "contact_name" or phone or email else None
    slot = find_time(text)
    time = slot if step == "contact_time" or phone or email or name else None
    return {"phone": phone, "email": email, "name": name, "time": time}


def score_contacts(items: list[dict[str, Any]]) -> dict[str, FieldScore]:
    """Per contact detail: the same figures as ``score_fields``."""
    scores = {name: FieldScore(name) for name in CONTACT_FIELDS}
    for item in items:
        expect = item.get("expect") or {}
        got_all = read_contact(item["text"], item["step"])
        for name, s in scores.items():
            want = str(expect[name]) if name in expect else None
            s.count(want, got_all[name], None, name in expect, f"[{item['step']}] {item['text']}", repr)
    return scores


def _expected(name: str, value: Any) -> Any:
    if name == "notices":
        return frozenset(value or [])
    if name == "dates":
        return tuple(sorted({v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)) for v in value or []}))
    return value


def _nothing(name: str) -> Any:
    if name == "notices":
        return frozenset()
    if name == "dates":
        return ()
    if name in ("tax_seizure", "wants_human"):
        return False
    return None


def _got(reading: Any, name: str) -> Any:
    value = getattr(reading, name)
    if name == "notices":
        return frozenset(value)
    if name == "dates":
        return tuple(sorted(set(value)))
    return value


def _show(value: Any) -> str:
    if isinstance(value, frozenset):
        return "{" + ",".join(sorted(value)) + "}"
    if isinstance(value, tuple):
        return "[" + ",".join(d.isoformat() for d in value) + "]"
    return repr(value)


@dataclass
class FieldScore:
    name: str
    mentioned: int = 0  # messages labelled with the field
    right_mentioned: int = 0
    total: int = 0
    right_total: int = 0
    said: int = 0  # readings that say something
    said_right: int = 0
    mentioned_something: int = 0  # messages whose label is not "nothing"
    right_mentioned_something: int = 0
    confusions: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy_mentioned(self) -> float:
        return self.right_mentioned / self.mentioned if self.mentioned else 1.0

    @property
    def accuracy_total(self) -> float:
        return self.right_total / self.total if self.total else 1.0

    @property
    def precision(self) -> float:
        return self.said_right / self.said if self.said else 1.0

    @property
    def recall(self) -> float:
        """Right readings among the messages that say something about the field."""
        return self.right_mentioned_something / self.mentioned_something if self.mentioned_something else 1.0

    def count(self, want: Any, got: Any, nothing: Any, mentioned: bool, text: str, show: Any) -> None:
        """One message: ``want`` and ``got`` compared (``nothing``: the value that says nothing)."""
        right = got == want
        self.total += 1
        self.right_total += right
        self.mentioned += mentioned
        self.right_mentioned += right and mentioned
        if want != nothing:
            self.mentioned_something += 1
            self.right_mentioned_something += right
        if got != nothing:
            self.said += 1
            self.said_right += right
        if not right:
            self.confusions[(show(want), show(got))] += 1
            self.misses.append(f"{self.name}: want {show(want)} got {show(got)}  {text}")


def score_fields(items: list[dict[str, Any]], today: dt.date, understand: Any) -> dict[str, FieldScore]:
    """Per field: accuracy on the messages that mention it and on all, precision, recall, confusions."""
    scores = {name: FieldScore(name) for name in FIELDS}
    for item in items:
        expect = item.get("expect") or {}
        unknown = set(expect) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)} in {item['text']!r}")
        reading = understand(item["text"], item.get("today", today))
        for name, s in scores.items():
            want = _expected(name, expect[name]) if name in expect else _nothing(name)
            s.count(want, _got(reading, name), _nothing(name), name in expect, item["text"], _show)
    return scores


@dataclass
class TopicScore:
    topic: str
    support: int = 0  # questions labelled with it
    predicted: int = 0  # top-1 readings of it
    right: int = 0
    top3: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.support if self.support else 1.0


@dataclass
class FaqScore:
    topics: dict[str, TopicScore]
    questions: int = 0
    top1: int = 0
    first: int = 0  # answered, or offered first below the threshold
    top3: int = 0
    statements: int = 0
    statements_quiet: int = 0  # statements read with no topic and no candidates
    confusions: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.questions if self.questions else 1.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.questions if self.questions else 1.0

    @property
    def first_rate(self) -> float:
        return self.first / self.questions if self.questions else 1.0

    @property
    def quiet_rate(self) -> float:
        return self.statements_quiet / self.statements if self.statements else 1.0


def _labels(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else [value]


def score_faq(items: list[dict[str, Any]], today: dt.date, predict: Any) -> FaqScore:
    """``predict(text, today) -> (topic or None, candidates)``; labels may list equally right topics."""
    result = FaqScore(topics={})
    for item in items:
        top, candidates = predict(item["text"], item.get("today", today))
        ranked = ([top] if top else []) + [c for c in candidates if c != top]
        labels = _labels(item["topic"])
        if item["topic"] is None:
            result.statements += 1
            quiet = top is None and not candidates
            result.statements_quiet += quiet
            if not quiet:
                result.confusions[("(nothing asked)", top or f"?{'/'.join(candidates)}")] += 1
                result.misses.append(f"statement read as {top or candidates}: {item['text']}")
            if top:
                result.topics.setdefault(top, TopicScore(top)).predicted += 1
            continue
        result.questions += 1
        for t in labels:
            result.topics.setdefault(t, TopicScore(t))
        main = result.topics[labels[0]]
        main.support += 1
        right = top in labels
        in3 = any(t in labels for t in ranked[:3])
        result.top1 += right
        result.first += bool(ranked) and ranked[0] in labels
        result.top3 += in3
        if top:
            result.topics.setdefault(top, TopicScore(top)).predicted += 1
        if right:
            result.topics[top].right += 1
        else:
            got = top or ("?" + "/".join(candidates) if candidates else "None")
            result.confusions[(labels[0], top or "None")] += 1
            result.misses.append(f"want {'|'.join(labels)} got {got}: {item['text']}")
        if in3:
            main.top3 += 1
    return result


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def format_fields(scores: dict[str, FieldScore], title: str) -> list[str]:
    lines = [
        title,
        f"{'field':<16} {'mention':>7} {'right':>5} {'acc(m)':>7} {'acc(all)':>8} {'prec':>6} {'recall':>6}",
    ]
    for s in scores.values():
        lines.append(
            f"{s.name:<16} {s.mentioned:>7} {s.right_mentioned:>5} {s.accuracy_mentioned:>7.1%} "
            f"{s.accuracy_total:>8.1%} {s.precision:>6.1%} {s.recall:>6.1%}"
        )
    confusions = [(s.name, k, n) for s in scores.values() for k, n in s.confusions.most_common()]
    if confusions:
        lines.append("confusions (want -> got: count)")
        lines.extend(f"  {name:<16} {w} -> {g}: {n}" for name, (w, g), n in confusions)
    return lines


def format_faq(score: FaqScore, title: str) -> list[str]:
    lines = [
        title,
        f"questions {score.questions}: top-1 {score.top1_rate:.1%} (answered or first button {score.first_rate:.1%}), "
        f"top-3 {score.top3_rate:.1%}; "
        f"statements {score.statements}: nothing read on {score.quiet_rate:.1%}",
        f"{'topic':<22} {'support':>7} {'prec':>6} {'recall':>6} {'top-3':>6}",
    ]
    for t in sorted(score.topics.values(), key=lambda t: t.topic):
        top3 = t.top3 / t.support if t.support else 1.0
        lines.append(f"{t.topic:<22} {t.support:>7} {t.precision:>6.1%} {t.recall:>6.1%} {top3:>6.1%}")
    if score.confusions:
        lines.append("confusions (want -> got: count)")
        lines.extend(f"  {w} -> {g}: {n}" for (w, g), n in score.confusions.most_common())
    return lines


def cross_validate(pairs: list[tuple[str, str]], folds: int = 5, seed: int = 0) -> list[tuple[str, list[tuple[str, float]]]]:
    """Stratified k-fold over the FAQ examples: (true topic, ranked topics with probabilities) per example.
    Every fold is trained with the messages that ask nothing too (``load_statements``), as at run time."""
    from sklearn.model_selection import StratifiedKFold

    from dialogs.faq_classifier import FaqClassifier, load_statements
    from dialogs.understanding.normalize import _nfkc, _normalize

    texts = [t for t, _ in pairs]
    labels = [topic for _, topic in pairs]
    out: list[tuple[str, list[tuple[str, float]]]] = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        model = FaqClassifier.train([pairs[i] for i in train] + load_statements(), normalize=lambda t: _normalize(_nfkc(t)))
        out.extend((labels[i], model.rank(texts[i])) for i in test)
    return out


def format_cv(results: list[tuple[str, list[tuple[str, float]]]], threshold: float, folds: int) -> list[str]:
    topics = sorted({want for want, _ in results})
    n = len(results)
    top1 = sum(r[0][0] == want for want, r in results)
    top3 = sum(want in [t for t, _ in r[:3]] for want, r in results)
    lines = [
        f"== FAQ classifier, {folds}-fold cross-validation of the {n} examples (content/faq.yaml, faq_more_examples.yaml)",
        f"top-1 {top1 / n:.1%}, top-3 {top3 / n:.1%} (classifier alone, no keywords, no threshold)",
        f"{'topic':<22} {'support':>7} {'prec':>6} {'recall':>6}",
    ]
    confusions: Counter = Counter()
    for topic in topics:
        support = sum(want == topic for want, _ in results)
        predicted = sum(r[0][0] == topic for _, r in results)
        right = sum(want == topic and r[0][0] == topic for want, r in results)
        prec = right / predicted if predicted else 1.0
        lines.append(f"{topic:<22} {support:>7} {prec:>6.1%} {right / support:>6.1%}")
    for want, r in results:
        if r[0][0] != want:
            confusions[(want, r[0][0])] += 1
    lines.append("threshold sweep: answered = top probability >= threshold (else the 3 closest are offered)")
    for th in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        answered = [(want, r) for want, r in results if r[0][1] >= th]
        right = sum(r[0][0] == want for want, r in answered)
        acc = right / len(answered) if answered else 1.0
        mark = "  <- THRESHOLD" if abs(th - threshold) < 1e-9 else ""
        lines.append(f"  {th:.2f}: answered {len(answered) / n:>6.1%}, right when answered {acc:>6.1%}{mark}")
    lines.append("confusions (want -> got: count)")
    lines.extend(f"  {w} -> {g}: {c}" for (w, g), c in confusions.most_common(12))
    return lines


def reading_faq(text: str, today: dt.date) -> tuple[str | None, list[str]]:
    from dialogs.understanding import understand

    r = understand(text, today)
    return r.faq_topic, list(r.faq_candidates)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


@click.group("nlu", cls=AppGroup, help="自由入力の読み取り（understanding）の評価")
def nlu_group() -> None:
    pass


@nlu_group.command("eval", help="読み取りの精度と再現率を表示します（held-out コーパスと交差検証）")
@click.option("--misses/--no-misses", default=False, help="外れた文を全部表示します")
@click.option("--folds", default=5, show_default=True, help="交差検証の分割数")
def nlu_eval(misses: bool, folds: int) -> None:
    from dialogs.understanding import understand, warm_up

    warm_up(background=False)
    for path in FIELD_SETS:
        seen = " SEEN" if path in SEEN_FIELD_SETS else ""
        today, items = load(path)
        fields = score_fields(items, today, understand)
        click.echo("\n".join(format_fields(fields, f"== fields, held-out{seen} ({len(items)} messages, {path.name})")))
        if misses:
            click.echo("misses:")
            click.echo("\n".join(f"  {m}" for s in fields.values() for m in s.misses))
        contacts = load_contacts(path)
        if contacts:
            details = score_contacts(contacts)
            click.echo("\n".join(format_fields(details, f"== contact details, held-out{seen} ({len(contacts)} replies, {path.name})")))
            if misses:
                click.echo("misses:")
                click.echo("\n".join(f"  {m}" for s in details.values() for m in s.misses))
        click.echo("")
    for path in FAQ_HELDOUTS:
        today, items = load(path)
        faq = score_faq(items, today, reading_faq)
        seen = " SEEN" if path in SEEN_FAQ_SETS else ""
        click.echo("\n".join(format_faq(faq, f"== FAQ topic, held-out{seen} ({len(items)} messages, {path.name})")))
        if misses:
            click.echo("misses:")
            click.echo("\n".join(f"  {m}" for m in faq.misses))
        click.echo("")
    from dialogs.faq_classifier import THRESHOLD, training_examples

    click.echo("\n".join(format_cv(cross_validate(training_examples(), folds), THRESHOLD, folds)))
