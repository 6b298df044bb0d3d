"""Understanding measured on text it was not tuned on (issue 10, item 6).

The held-out corpora in tests/data/understanding_heldout_*.yaml were written before
the rules and the FAQ examples were changed, and are never tuned on. The thresholds
below are the levels reached (see the README, "Evaluation"); a change that lowers
them fails here. ``flask --app app nlu eval`` prints the same figures in full.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from bot.nlu_cli import (
    FAQ_HELDOUT,
    FAQ_HELDOUT2,
    FAQ_HELDOUT3,
    FAQ_HELDOUT4,
    FAQ_HELDOUT5,
    FAQ_HELDOUT6,
    FAQ_HELDOUTS,
    FIELDS,
    FIELDS_HELDOUT,
    FIELDS_HELDOUT2,
    FIELDS_HELDOUT3,
    FIELDS_HELDOUT4,
    FIELDS_HELDOUT5,
    FIELDS_HELDOUT6,
    FIELDS_HELDOUT7,
    FIELDS_HELDOUT8,
    TUNED_CORPUS,
    cross_validate,
    load,
    load_contacts,
    reading_faq,
    score_faq,
    score_contacts,
    score_fields,
)
from dialogs.faq_classifier import STATEMENT, FaqClassifier, load_examples, load_statements, training_examples
from dialogs.understanding import understand, warm_up

#: every field, on the held-out messages that mention it / on all held-out messages
#: (set 2 is smaller and was written after the mechanisms: its floor is the issue's target)
#: Sets 3-5 (the "fields" round, README "Understanding: evaluation"): set 3 written before the
#: round (BEFORE 60.9-88.2 % on mentioned messages), set 4 after its first mechanisms (clean: 60.0-100 %),
#: set 5 after its second (clean: 83.3-100 %), set 6 after its third (clean: 71.4-100 %), set 7 after
#: its fourth (clean: 85.7-100 %, the figure the round ends on); each was
#: looked at after its first run, so the floors are the levels reached now minus a margin of about
#: one message per field. Set 8 (the understand3 round) was written before that round: BEFORE 78.6-100 %
#: on mentioned messages (arrears 80.8, guarantor_self 78.6), AFTER 95.2-100 %; its floor is the
#: issue's target (85 / 95 %) with room for one message's drift per field.
FIELD_MINS = {FIELDS_HELDOUT: (0.95, 0.98), FIELDS_HELDOUT2: (0.85, 0.95), FIELDS_HELDOUT3: (0.95, 0.98),
              FIELDS_HELDOUT4: (0.85, 0.97), FIELDS_HELDOUT5: (0.85, 0.97), FIELDS_HELDOUT6: (0.85, 0.97),
              FIELDS_HELDOUT7: (0.85, 0.97), FIELDS_HELDOUT8: (0.90, 0.97)}
#: contact details read at the contact steps (phone, e-mail, name, time): set 3 / sets 4-5
#: (set 7's first run missed 「林です」, a one-kanji surname that is also a common noun: read since)
CONTACT_MINS = {FIELDS_HELDOUT3: 0.95, FIELDS_HELDOUT4: 0.8, FIELDS_HELDOUT5: 0.8, FIELDS_HELDOUT6: 0.8,
                FIELDS_HELDOUT7: 0.5}
#: FAQ topic on held-out questions, top-1 / top-3: the levels reached minus ~2 points (README,
#: "Understanding: evaluation"). The issue's targets are 0.80 / 0.90. Set 5 was written before the
#: third round and never tuned on (88.8 / 93.7 % before it, 89.5 / 95.1 % after): the clean
#: figure. Sets 1-4 have been looked at while tuning (seen): 89.3 / 94.6, 95.5 / 100, 81.0 / 89.0
#: and 74.5 / 87.3 % after the third round (set 4, questions implied by a worry: 56.4 / 70.9 % before).
FAQ_MINS = {FAQ_HELDOUT: (0.87, 0.92), FAQ_HELDOUT2: (0.93, 0.97), FAQ_HELDOUT3: (0.79, 0.87),
            FAQ_HELDOUT4: (0.72, 0.85), FAQ_HELDOUT5: (0.87, 0.93), FAQ_HELDOUT6: (0.87, 0.92)}
#: Set 6 (the understand3 round, worried LINE wording and dialect) was written before that round:
#: 87.4 / 91.6 % before, 89.9 / 94.1 % after (README, "Understanding: evaluation").
#: the classifier alone, 5-fold cross-validation of the examples (faq.yaml + faq_more_examples.yaml: 84.0 / 95.2 %)
CV_TOP1_MIN = 0.81
CV_TOP3_MIN = 0.93


@pytest.mark.parametrize("path", list(FIELD_MINS), ids=lambda p: p.stem)
def test_heldout_fields_meet_their_targets(path):
    mentioned_min, overall_min = FIELD_MINS[path]
    today, items = load(path)
    assert len(items) >= (100 if path == FIELDS_HELDOUT else 40)
    scores = score_fields(items, today, understand)
    for name in FIELDS:
        s = scores[name]
        assert s.mentioned > 0, f"held-out corpus has no message labelled with {name}"
        assert s.accuracy_mentioned >= mentioned_min, (name, s.accuracy_mentioned, s.misses)
        assert s.accuracy_total >= overall_min, (name, s.accuracy_total, s.misses)


@pytest.mark.parametrize("path", list(CONTACT_MINS), ids=lambda p: p.stem)
def test_heldout_contact_details_meet_their_targets(path):
    items = load_contacts(path)
    assert len(items) >= (50 if path == FIELDS_HELDOUT3 else 7)
    for name, s in score_contacts(items).items():
        assert s.mentioned > 0, name
        assert s.accuracy_mentioned >= CONTACT_MINS[path], (name, s.accuracy_mentioned, s.misses)
        assert s.accuracy_total >= 0.85, (name, s.accuracy_total, s.misses)


def test_set_8_has_the_size_the_brief_asks():
    """At least 120 messages, 12 mentioning each field, 25 mentioning none (understand3 brief)."""
    _, items = load(FIELDS_HELDOUT8)
    assert len(items) >= 120
    labelled = [item.get("expect") or {} for item in items]
    for name in FIELDS:
        assert sum(name in e for e in labelled) >= 12, name
    assert sum(not e for e in labelled) >= 25


def test_faq_set_6_has_ten_per_topic_and_twenty_statements():
    from collections import Counter

    _, items = load(FAQ_HELDOUT6)
    per_topic = Counter(t for i in items if i["topic"] is not None
                        for t in (i["topic"] if isinstance(i["topic"], list) else [i["topic"]]))
    assert len(per_topic) == 11 and min(per_topic.values()) >= 10, per_topic
    assert sum(i["topic"] is None for i in items) >= 20


def test_heldout3_has_the_size_the_brief_asks():
    """At least 150 messages, 15 mentioning each field, 30 mentioning none; 15 replies per contact detail."""
    _, items = load(FIELDS_HELDOUT3)
    assert len(items) >= 150
    labelled = [item.get("expect") or {} for item in items]
    for name in FIELDS:
        assert sum(name in e for e in labelled) >= 15, name
    assert sum(not e for e in labelled) >= 30
    contacts = [item["expect"] for item in load_contacts(FIELDS_HELDOUT3)]
    for name in ("phone", "email", "name", "time"):
        assert sum(name in e for e in contacts) >= 15, name


def test_heldout_covers_the_new_readings():
    _, items = load(FIELDS_HELDOUT)
    labelled = [item.get("expect") or {} for item in items]
    assert sum(e.get("guarantor_self") is True for e in labelled) >= 8
    assert sum(e.get("tax_seizure") is True for e in labelled) >= 8
    assert sum("divorce" in e for e in labelled) >= 20
    assert sum(len(e.get("dates") or []) >= 2 for e in labelled) >= 3


@pytest.mark.parametrize("path", list(FAQ_MINS), ids=lambda p: p.stem)
def test_heldout_faq_meets_its_targets(path):
    top1_min, top3_min = FAQ_MINS[path]
    today, items = load(path)
    score = score_faq(items, today, reading_faq)
    assert score.questions >= (40 if path == FAQ_HELDOUT2 else 100)
    assert score.top1_rate >= top1_min, (score.top1_rate, score.misses)
    assert score.top3_rate >= top3_min, (score.top3_rate, score.misses)
    assert score.quiet_rate == 1.0, score.misses  # a statement never gets an FAQ answer


def test_cross_validation_of_the_examples():
    results = cross_validate(training_examples(), folds=5)
    n = len(results)
    top1 = sum(ranked[0][0] == want for want, ranked in results) / n
    top3 = sum(want in [t for t, _ in ranked[:3]] for want, ranked in results) / n
    assert top1 >= CV_TOP1_MIN
    assert top3 >= CV_TOP3_MIN


def test_every_topic_has_ten_examples():
    from collections import Counter

    counts = Counter(topic for _, topic in load_examples())  # faq.yaml alone (the content check)
    for topic in (
        "moving_costs", "credit_blacklist", "residual_debt", "stay_after_sale", "timeline", "costs_fees",
        "auction_vs_voluntary", "eligibility", "divorce", "guarantor", "other",
    ):
        assert counts[topic] >= 11, topic  # 10 examples + the entry's own question at least


def test_heldout_and_examples_do_not_overlap():
    heldout = {item["text"] for path in FAQ_HELDOUTS for item in load(path)[1]}
    assert not heldout & {text for text, _ in training_examples()}
    assert not heldout & {text for text, _ in load_statements()}


def test_the_more_examples_are_labelled_by_their_entry_and_kept_from_the_crisis_classifier():
    from dialogs import care
    from dialogs.faq_classifier import load_more_examples

    more = load_more_examples()
    assert len(more) >= 100 and {t for _, t in more} <= {t for _, t in load_examples()}
    ordinary = set(care.load_examples().ordinary)
    assert not {text for text, _ in more} & ordinary


def test_training_is_fast():
    pairs = training_examples() + load_statements()
    FaqClassifier.train(pairs[::10])  # imports scikit-learn (and the dictionary) outside the measure
    started = time.process_time()  # CPU of this process, whatever else the machine runs
    FaqClassifier.train(pairs)
    assert time.process_time() - started < 2.0  # ~0.2 s measured


def test_understand_stays_fast_with_the_classifier():
    warm_up(background=False)
    paths = (FIELDS_HELDOUT, FIELDS_HELDOUT2, *FAQ_HELDOUTS, TUNED_CORPUS)
    texts = [item["text"] for path in paths for item in load(path)[1]]
    today = dt.date(2026, 12, 3)
    costs = []
    for text in texts:
        started = time.thread_time()  # this thread's CPU, not the machine's load
        understand(text, today)
        costs.append(time.thread_time() - started)
    costs.sort()
    p99 = costs[int(len(costs) * 0.99)]
    assert p99 < 0.010, f"p99 {p99 * 1000:.1f} ms"


def test_the_eval_command_prints_the_tables(runner):
    result = runner.invoke(args=["nlu", "eval", "--folds", "3"])
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("== fields, held-out", "== FAQ topic, held-out", "3-fold cross-validation", "threshold sweep"):
        assert heading in out
    for name in FIELDS:
        assert f"\n{name} " in out
    assert "guarantor_self" in out and "tax_seizure" in out
    assert "top-1" in out and "top-3" in out


def test_an_unsure_question_offers_the_three_closest_topics():
    r = understand("これってどうなの？", dt.date(2026, 12, 3))
    assert r.faq_topic is None
    assert len(r.faq_candidates) == 3 == len(set(r.faq_candidates))


def test_a_clear_question_is_answered_and_the_other_close_topics_follow():
    r = understand("保証人の父に請求がいきますか", dt.date(2026, 12, 3))
    assert r.faq_topic == "guarantor"
    assert len(r.faq_candidates) == 2 and "guarantor" not in r.faq_candidates


def test_a_vague_worry_is_offered_the_closest_topics_not_answered():
    # a button costs little: 「こちらのことですか?」 with the topics about money, no answer chosen
    r = understand("お金のことが心配です", dt.date(2026, 12, 3))
    assert r.faq_topic is None
    assert {"costs_fees", "moving_costs"} <= set(r.faq_candidates) and len(r.faq_candidates) == 3


def test_without_a_classifier_questions_read_as_other(monkeypatch):
    from dialogs.understanding import faq as u

    def broken():
        raise OSError("no faq.yaml")

    monkeypatch.setattr(u, "_classifier", None)
    monkeypatch.setattr(u, "_classifier_failed", False)
    monkeypatch.setattr(u, "load_examples", broken)
    r = understand("これってどうなの？", dt.date(2026, 12, 3))
    assert (r.faq_topic, r.faq_candidates) == ("other", [])
    assert understand("引越し代は出ますか？", dt.date(2026, 12, 3)).faq_topic == "moving_costs"  # keywords


def test_warm_up_trains_in_the_background_and_questions_are_read_meanwhile(monkeypatch):
    import threading

    import dialogs.understanding as understanding
    from dialogs.understanding import faq as u

    gate = threading.Event()
    real = u.load_examples

    def slow():
        gate.wait(30)
        return real()

    monkeypatch.setattr(u, "_classifier", None)
    monkeypatch.setattr(u, "_classifier_failed", False)
    monkeypatch.setattr(u, "load_examples", slow)
    understanding.warm_up()  # returns at once: the training waits on the gate
    assert u._training_in_background
    meanwhile = understand("これってどうなの？", dt.date(2026, 12, 3))
    assert (meanwhile.faq_topic, meanwhile.faq_candidates) == ("other", [])
    gate.set()
    deadline = time.monotonic() + 60
    while u._classifier is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert u._classifier is not None and not u._training_in_background
    after = understand("これってどうなの？", dt.date(2026, 12, 3))
    assert after.faq_topic is None and len(after.faq_candidates) == 3


def test_the_content_check_wants_ten_examples_per_topic():
    import copy

    import yaml

    from bot.content import _check_faq
    from dialogs.faq_classifier import FAQ_PATH

    faq = yaml.safe_load(FAQ_PATH.read_text(encoding="utf-8"))
    problems: list[str] = []
    _check_faq(faq, problems)
    assert problems == []

    thin = copy.deepcopy(faq)
    for entry in thin:
        if entry["topic"] == "divorce":
            entry["examples"] = entry.get("examples", [])[:2]
        if entry["id"] == "costs_consult_free":
            entry["examples"] = ["", 3]
    problems = []
    _check_faq(thin, problems)
    assert any("topic 'divorce' has 4 examples, need 10" in p for p in problems), problems
    assert any("costs_consult_free" in p and "examples" in p for p in problems), problems


@pytest.mark.parametrize("text", ["今日の天気は?", "おすすめのラーメン屋は？"])
def test_a_question_about_another_subject_is_not_an_faq_question(text):
    r = understand(text, dt.date(2026, 12, 3))
    assert (r.faq_topic, r.faq_candidates) == (None, [])


@pytest.mark.parametrize("text,topic", [
    ("保証人の叔父にはいつ連絡がいく", "guarantor"),  # an interrogative word, no question mark
    ("売ったあと残ったローンは誰に払う", "residual_debt"),
])
def test_a_plain_question_with_an_interrogative_word_is_read(text, topic):
    assert understand(text, dt.date(2026, 12, 3)).faq_topic == topic


@pytest.mark.parametrize("text", ["誰にも相談できていません", "何も届いていません", "いつも遅れて払っています"])
def test_indefinite_words_do_not_make_a_question(text):
    r = understand(text, dt.date(2026, 12, 3))
    assert (r.faq_topic, r.faq_candidates) == (None, [])


def test_set_5_mixes_every_style_and_has_twenty_statements():
    _, items = load(FAQ_HELDOUT5)
    asked = [i for i in items if i["topic"] is not None]
    statements = [i for i in items if i["topic"] is None]
    assert len(items) >= 150 and len(statements) >= 20
    from collections import Counter

    per_topic = Counter(i["topic"][0] if isinstance(i["topic"], list) else i["topic"] for i in asked)
    assert len(per_topic) == 11 and min(per_topic.values()) >= 12, per_topic
    texts = [i["text"] for i in asked]
    assert sum(not any(c in t for c in "?？") for t in texts) >= 0.4 * len(texts)  # implied, half sentences


def test_the_classifier_learns_the_messages_that_ask_nothing():
    statements = load_statements()
    assert len(statements) >= 100 and {topic for _, topic in statements} == {STATEMENT}
    assert STATEMENT not in {topic for _, topic in load_examples()}  # never an FAQ topic id
    warm_up(background=False)
    from dialogs.understanding import faq_classifier

    classifier = faq_classifier()
    ranked, statement = classifier.read("先月から引き落としができなくなっています")  # fresh: a fact
    assert statement > 0.5
    assert STATEMENT not in [t for t, _ in ranked]
    assert abs(sum(p for _, p in ranked) - 1.0) < 1e-6  # the topics' probabilities among themselves
    ranked, statement = classifier.read("売ったあとも借金が残るなんて耐えられない")  # fresh: a worry
    assert statement < 0.2 and ranked[0][0] == "residual_debt"


def test_the_classifier_decides_a_question_over_a_keyword_when_it_is_sure():
    from dialogs.understanding import faq as u

    # 「いつ」 is the timeline's keyword; the classifier is sure it is about the guarantor
    text = "保証人をしてくれた叔父にはいつ打ち明ければいいでしょう"  # fresh
    assert u._topic_in(text) == "timeline"
    assert understand(text, dt.date(2026, 12, 3)).faq_topic == "guarantor"


def test_set_4_asks_mostly_by_implication_and_has_plain_statements():
    _, items = load(FAQ_HELDOUT4)
    statements = [i for i in items if i["topic"] is None]
    asked = [i["text"] for i in items if i["topic"] is not None]
    assert len(asked) >= 100 and len(statements) >= 10
    no_question_mark = [t for t in asked if not any(c in t for c in "?？")]
    assert len(no_question_mark) >= 0.9 * len(asked)


# fresh sentences, in none of the held-out sets nor the examples
@pytest.mark.parametrize("text,topic", [
    ("引っ越しにかかるお金の用意がまだなくて", "moving_costs"),  # no question, no worry word
    ("売ったら借金が残るのか気になってて", "residual_debt"),  # a worry
    ("保証人の伯母に話すのが気が重くて", "guarantor"),
])
def test_a_question_implied_by_a_statement_is_read(text, topic):
    assert understand(text, dt.date(2026, 12, 3)).faq_topic == topic


@pytest.mark.parametrize("text", [
    "督促状が先週届いてて",  # a letter: the fact, not a question
    "3ヶ月滞納してて",  # arrears
    "開札は令和9年1月20日です",  # a date
    "まだ滞納はしていないんですが",
    "はい、それでお願いします",  # an assent
    "売るしかないと言われた",  # a thing reported as done
    "保証会社がついてるローンです",  # a description
    "家の名義は私ひとりです",
])
def test_a_statement_of_a_fact_or_an_answer_is_not_an_implied_question(text):
    r = understand(text, dt.date(2026, 12, 3))
    assert (r.faq_topic, r.faq_candidates) == (None, [])


def test_a_worry_is_never_answered_with_the_catch_all():
    from dialogs.understanding import faq as u

    r = understand("誰にも話せなくてずっと一人で抱えています", dt.date(2026, 12, 3))
    assert r.faq_topic != "other"
    assert u.OFFER_THRESHOLD < min(u.WORRY_THRESHOLD, u.IMPLIED_THRESHOLD) <= u.FACT_THRESHOLD


# ---------------------------------------------------------------------------
# In the dialog: an implied question answered, an unsure worry offered topics, a fact kept
# ---------------------------------------------------------------------------


def _consented_line_session():
    from bot.content import load_content
    from dialogs.base import DialogInput, Session
    from dialogs.diagnosis import DiagnosisDialog

    dialog = DiagnosisDialog(load_content("content"))
    session = Session()
    today = dt.date(2026, 12, 3)

    def send(kind: str, **kw):
        return dialog.step(session, DialogInput(kind=kind, today=today, channel="line", **kw))

    send("follow")
    send("postback", data="consent:yes")
    assert session.state == "arrears"
    return session, send


def test_the_dialog_answers_a_question_implied_by_a_statement():
    warm_up(background=False)
    session, send = _consented_line_session()
    r = send("text", text="引っ越しにかかるお金の用意がまだなくて")
    assert "引っ越し代" in r.answer.plain_text()
    assert session.state == "arrears"  # the question is asked again after the answer


def test_the_dialog_offers_the_closest_topics_for_an_unsure_worry():
    warm_up(background=False)
    _, send = _consented_line_session()
    text = "これからの生活が心配で"  # a worry the classifier is unsure of
    reading = understand(text, dt.date(2026, 12, 3))
    assert reading.faq_topic is None and len(reading.faq_candidates) == 3
    r = send("text", text=text)
    topics = [q.data for q in r.answer.quick_replies if q.data.startswith("faq:")]
    # 「こちらのことですか?」: the closest topics that have an answer, then "none of these"
    assert topics[0] == f"faq:{reading.faq_candidates[0]}" and len(topics) >= 3 and topics[-1] == "faq:none"


def test_the_dialog_reads_a_stated_fact_as_the_fact_not_a_question():
    warm_up(background=False)
    session, send = _consented_line_session()
    r = send("text", text="4ヶ月払えてなくて、督促状も届いてて")
    assert not [q for q in r.answer.quick_replies if q.data.startswith("faq:")]
    assert session.state != "arrears"  # the arrears were read and the dialog moved on
