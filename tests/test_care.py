"""dialogs/care.py on the held-out messages of tests/data/care_corpus.yaml (written before the detector).

Run with -s to see the figures: ``.venv/bin/python -m pytest tests/test_care.py -q -s``.

The first four sets (care_corpus, care_fresh, care_heldout3, care_heldout4) are now also the
training examples of the crisis classifier (copied into content/care.yaml): on them the
figures below are in-sample; the honest figures are the cross-validated ones
(``test_threshold_is_the_cross_validated_one``) and set 5 (``test_crisis_on_set_5``).
"""
from __future__ import annotations

import logging
import statistics
import threading
import time
from pathlib import Path

import pytest
import yaml

from bot.content import check_content, load_content
from dialogs import care
from dialogs.care import classify, is_crisis

DATA = Path(__file__).parent / "data"

CORPUS = yaml.safe_load((DATA / "care_corpus.yaml").read_text(encoding="utf-8"))
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
                                  "死亡したら団信はどうなりますか", "死ぬまでローンを払うんですか",
                                  "夫とは死別しました", "離婚ではなく、死別です"])
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


# ---------------------------------------------------------------------------
# The classifier (second layer)
# ---------------------------------------------------------------------------

#: veiled words of despair that the rules miss and the classifier catches (written for this
#: test, in none of the sets)
VEILED = ["もう限界です。家族に申し訳ない", "もう何も考えたくない"]


def _rules(text: str) -> bool:
    return care._rules_say_crisis(care._without_figures(text))


@pytest.fixture(scope="module")
def trained() -> care.CareClassifier:
    classifier = care.crisis_classifier()
    assert classifier is not None
    return classifier


def _understanding_texts() -> list[str]:
    data = yaml.safe_load((DATA / "understanding_corpus.yaml").read_text(encoding="utf-8"))
    return [i["text"] for i in data["items"]]


def test_threshold_is_the_cross_validated_one() -> None:
    """THRESHOLD is the lowest with no ordinary message and at most 5 % of the near misses flagged
    in 5-fold CV of content/care.yaml (+ the FAQ questions). Measured after the follow-up
    (125 crisis / 142 not-crisis / 803 ordinary): at 0.7, 58/125, 7/142, 0/803.
    First measured (2026-12-03, 103 crisis / 120 not-crisis / 660 ordinary):
    at 0.7 the classifier alone (messages of 8+ characters) finds 49/103 crisis messages out
    of fold, flags 3/120 near misses and 0/660 ordinary messages (0/250 of
    tests/data/understanding_corpus.yaml, rules included). (At 0.55, 71/103 but 3 ordinary
    worries flagged: 「家の中を見に来られるのがつらい」「住む家がなくなったらどうしよう」.)"""
    examples = care.load_examples()
    cv = care.cross_validate(examples)
    threshold = care.choose_threshold(cv)
    counts = cv.at(threshold)
    ordinary = dict(zip(examples.ordinary, cv.ordinary, strict=True))
    corpus = _understanding_texts()
    corpus_false = [t for t in corpus if _rules(t) or ordinary[t] >= threshold]
    print(f"\n5-fold CV at {threshold}: classifier alone: crisis {counts['crisis']}/{len(cv.crisis)}, "
          f"not_crisis flagged {counts['not_crisis']}/{len(cv.not_crisis)}, ordinary flagged "
          f"{counts['ordinary']}/{len(cv.ordinary)}; rules or classifier on understanding_corpus "
          f"{len(corpus_false)}/{len(corpus)}")
    assert threshold == care.THRESHOLD
    assert counts["ordinary"] == 0 and corpus_false == []
    assert counts["crisis"] >= 0.44 * len(cv.crisis), counts  # 46 % measured (48 % before the follow-up)
    assert counts["not_crisis"] <= 0.05 * len(cv.not_crisis), counts  # 4.9 % measured


def test_choose_threshold_is_the_lowest_without_an_ordinary_false_alarm() -> None:
    near_misses = [0.1] * 39 + [0.6]  # one in 40 (2.5 %) may be flagged, two (5 %) may
    cv = care.CrossValidation(crisis=[0.9, 0.5, 0.3], not_crisis=near_misses, ordinary=[0.1, 0.42, 0.2])
    assert care.choose_threshold(cv) == 0.45
    assert cv.at(0.45) == {"crisis": 2, "not_crisis": 1, "ordinary": 0}
    assert care.choose_threshold(care.CrossValidation([0.9], [], [1.0])) == 1.0


def test_choose_threshold_keeps_the_near_misses_under_five_percent() -> None:
    near_misses = [0.1] * 17 + [0.5, 0.55, 0.62]  # 3 of 20 (15 %) at 0.45, 1 of 20 (5 %) at 0.6
    cv = care.CrossValidation(crisis=[0.9, 0.5], not_crisis=near_misses, ordinary=[0.1, 0.42])
    assert care.choose_threshold(cv) == 0.6


def test_crisis_on_set_5(trained) -> None:
    """The fifth set (tests/data/care_heldout5.yaml), written by the integrator and never tuned on.
    First run, rules alone: recall 14/25, false alarms 0/15. With the classifier (2026-12-03):
    20/25, 0/15; without the two messages that were already in the earlier sets (「ロープを
    買ってきました」, a decoy 「海の近くの家です」): 19/24, 0/14. (The first version, threshold
    0.55 without the length floor and the typed answers, made 20/25, 1/15: 「全部売って
    しまいたい気持ちです」; it was changed for the typed answers it flagged, not for set 5.)
    Then missed: the train platform, the letter to the children, the insurance papers laid
    out, 「家と一緒に私も終わりにします」, 「償う方法がひとつしか」. With the rule family for plans
    told as acts (``_CRISIS_KINDS["plan_as_act"]``, written after reading these misses, so no
    longer an independent measure for them): rules alone 19/25, with the classifier 25/25, 0/15."""
    data = yaml.safe_load((DATA / "care_heldout5.yaml").read_text(encoding="utf-8"))
    # 20 since 首をくくる joined the means (second round, after this set had been looked at)
    assert (sum(map(_rules, data["crisis"])), sum(map(_rules, data["decoys"]))) == (20, 0)
    hits = [m for m in data["crisis"] if is_crisis(m)]
    false = [m for m in data["decoys"] if is_crisis(m)]
    print(f"\ncare_heldout5.yaml: recall {len(hits)}/{len(data['crisis'])} (rules alone 19), "
          f"false alarms {len(false)}/{len(data['decoys'])} {false}")
    assert len(hits) >= 24 and false == [], false


@pytest.mark.parametrize("text", [
    "印鑑と通帳は引き出しにまとめておきました。妻にはメモを書き残しています",  # affairs in order
    "娘への手紙を書いて机に置きました",
    "指輪は妹にあげました。私にはもう必要ないので",  # giving away
    "これが最後の連絡です。お世話になりました",  # farewell
    "もう二度と会えないと思うけど、元気でいてください。思い残すことはありません",
    "退去の日が来たら、私もそこで終わりにするつもりです",  # a day set
    "家がなくなるなら、私も一緒に終わらせます",
    "迷惑をかけた分、償う方法はこれしかないと思っています",  # atonement
    "台所の包丁をじっと見てしまいます",  # the means looked at
    "踏切で電車を眺めていました",
])
def test_plans_told_as_acts_are_caught_by_the_rules_alone(text: str) -> None:
    assert _rules(text)


@pytest.mark.parametrize("text", [
    "通帳と印鑑を持って行けばいいですか",
    "最後の支払いは去年の春でした",
    "書類は全部まとめて机の上に置いてあります",
    "引き渡しの日が来たら鍵を渡せばいいですか",
    "家具は友人に譲りました",
    "私には難しい言葉が多くてわかりません",
    "電車の駅まで歩いて10分です",
    "子どもに手紙で引っ越しのことを伝えました",
    "夫の保険金でローンは払い終わりました",
])
def test_acts_for_the_sale_or_the_loan_are_not_a_crisis(trained, text: str) -> None:
    assert not is_crisis(text)


def test_crisis_on_set_6(trained) -> None:
    """The sixth set (tests/data/care_heldout6.yaml): veiled kinds not in the earlier sets
    (farewells, giving things away, means, self-blame, burden, a day set) and hard negatives
    (money despair, anger, dark humour, 「終わった」 about the loan). Written and committed
    before any change. First run (rules + classifier at 0.7): 12/26 caught, 2/23 false alarms
    (「もう家なんてどうでもいいから…」 by the classifier, 「夫の保険金でローンは完済できました」 by
    the insurance rule). After the plan-as-act rules, the fresh examples and the threshold
    rule with at most 5 % near misses: 26/26, 0/23 (the same developer wrote the set and the
    rules: the after-figure is not independent)."""
    data = yaml.safe_load((DATA / "care_heldout6.yaml").read_text(encoding="utf-8"))
    assert len(data["crisis"]) >= 25 and len(data["decoys"]) >= 20
    hits = [m for m in data["crisis"] if is_crisis(m)]
    false = [m for m in data["decoys"] if is_crisis(m)]
    print(f"\ncare_heldout6.yaml: recall {len(hits)}/{len(data['crisis'])} "
          f"(rules alone {sum(map(_rules, data['crisis']))}), false alarms {len(false)}/{len(data['decoys'])} {false}")
    assert len(hits) >= 25 and false == [], false


def test_crisis_on_set_7(trained) -> None:
    """The seventh set (tests/data/care_heldout7.yaml), written and committed before any change of
    the second round, never tuned on: veiled kinds (not waking, a place or a means looked at,
    leaving without a word, one's own insurance, "all is ready") and hard negatives (ending the
    loan or the consultation, selling, insurance after someone else's death, dark jokes, anger).
    Before the round: 18/28 caught (rules alone 14), 6/28 false alarms (rules 5). After (the
    object of a soft act, the hard negatives in content/care.yaml): 18/28, 3/28 (rules 2)."""
    data = yaml.safe_load((DATA / "care_heldout7.yaml").read_text(encoding="utf-8"))
    assert len(data["crisis"]) >= 25 and len(data["decoys"]) >= 25
    hits = [m for m in data["crisis"] if is_crisis(m)]
    false = [m for m in data["decoys"] if is_crisis(m)]
    print(f"\ncare_heldout7.yaml: recall {len(hits)}/{len(data['crisis'])} "
          f"(rules alone {sum(map(_rules, data['crisis']))}), false alarms {len(false)}/{len(data['decoys'])} {false}")
    assert len(hits) >= 17 and len(false) <= 4, false


def test_crisis_on_set_8(trained) -> None:
    """The eighth set (tests/data/care_heldout8.yaml), written and committed before the concern
    tier, without reading the rules, the examples or the earlier sets; never tuned on.
    Before (alarm only): 21/28 caught, 2/28 false alarms. The alarm is unchanged by the tier."""
    data = yaml.safe_load((DATA / "care_heldout8.yaml").read_text(encoding="utf-8"))
    assert len(data["crisis"]) >= 25 and len(data["decoys"]) >= 25
    hits = [m for m in data["crisis"] if is_crisis(m)]
    false = [m for m in data["decoys"] if is_crisis(m)]
    print(f"\ncare_heldout8.yaml: recall {len(hits)}/{len(data['crisis'])} "
          f"(rules alone {sum(map(_rules, data['crisis']))}), false alarms {len(false)}/{len(data['decoys'])} {false}")
    assert len(hits) >= 20 and len(false) <= 3, false


def _care_level(text: str) -> str:
    return "alarm" if is_crisis(text) else "gentle" if care.is_concern(text) else "none"


# set: (care shown on crisis at least, gentle lines on decoys at most), measured 2026-12-03 after
# the third round (alarm 0.7, concern 0.5 and the concern rules)
#: (care shown floor, gentle lines on decoys ceiling); set 6: 3 -> 4 gentle lines on decoys with the hedged
#: answers of the fourth round (one more gentle line, no alarm; a plain answer raising the alarm is worse)
#: set 7: 4 -> 6 gentle lines in the fourth care round: its two classifier-only false alarms on hard
#: news (a new life planned, a message that vanished) now get the gentle line, not the page (``told_as_news``)
#: sixth care round (new families of wordings by kind): care shown on set 7 26 -> 27, set 8 27 -> 28
CARE_SHOWN_FLOORS = {5: (25, 3), 6: (26, 4), 7: (27, 6), 8: (28, 2)}


@pytest.mark.parametrize("n", sorted(CARE_SHOWN_FLOORS))
def test_care_shown_on_the_held_out_sets(trained, n: int) -> None:
    """With the concern tier, how many crisis messages get at least the gentle line (care shown)
    and how many hard negatives get the gentle line (no page). Set 8 is the clean figure:
    alarm 21/28 -> care shown 26/28; decoys: 2 alarms, 3 gentle lines."""
    data = yaml.safe_load((DATA / f"care_heldout{n}.yaml").read_text(encoding="utf-8"))
    crisis = [_care_level(m) for m in data["crisis"]]
    decoys = [_care_level(m) for m in data["decoys"]]
    shown, gentle = sum(v != "none" for v in crisis), decoys.count("gentle")
    print(f"\ncare_heldout{n}.yaml: alarm {crisis.count('alarm')}/{len(crisis)}, care shown {shown}/{len(crisis)}; "
          f"decoys: alarm {decoys.count('alarm')}/{len(decoys)}, gentle {gentle}/{len(decoys)}")
    floor, ceiling = CARE_SHOWN_FLOORS[n]
    assert shown >= floor and gentle <= ceiling


def test_the_ordinary_corpus_gets_no_alarm_and_one_gentle_line(trained) -> None:
    """The understanding corpus (homeowners' ordinary messages; they are also training
    examples, so this is a check, not a measure): no alarm; one gentle line, from the concern
    rules, for a person who says it is truly hard (decided: care shown, nobody paged)."""
    items = yaml.safe_load((DATA / "understanding_corpus.yaml").read_text(encoding="utf-8"))["items"]
    flagged = {i["text"]: _care_level(i["text"]) for i in items if _care_level(i["text"]) != "none"}
    print(f"\nunderstanding_corpus.yaml: {len(flagged)}/{len(items)} flagged {flagged}")
    assert flagged == {"住宅ローンが払えなくて本当につらいです": "gentle"}


@pytest.mark.parametrize("text", [
    # what ends is the loan, the sale or this consultation; the death and the insurance someone else's
    "相談は今日で最後にします。ありがとうございました",
    "返済はもう終わりにしたいので売りたいです",
    "死亡保険金でローンを返した人はいますか",
    "このチャットでのご相談は今日で終わりにします",
    "父が亡くなったので保険金で住宅ローンを払いました",
])
def test_a_soft_act_about_the_loan_or_the_consultation_is_not_a_crisis(text: str) -> None:
    assert not _rules(text)


@pytest.mark.parametrize("text", [
    "もう全部終わりにしたい",  # no object: about oneself
    "ローンも私の人生も終わりにします",  # the loan, and oneself
    "私の保険金でローンを返してください",  # one's own insurance
    "最後にお礼だけ伝えておきたくて",
])
def test_a_soft_act_about_oneself_stays_a_crisis(text: str) -> None:
    assert _rules(text)


def test_no_ordinary_training_message_and_no_faq_question_is_a_crisis(trained) -> None:
    """In-sample: the classifier flags none of the 660 ordinary messages. The rules flag one
    FAQ example, 「保証人を頼んだ叔父に合わせる顔がない」 (合わせる顔がない: the burden kind; a
    care reply to shame is cheap): their decision, unchanged here."""
    examples = care.load_examples()
    assert [t for t in examples.ordinary if is_crisis(t) and not _rules(t)] == []
    assert [t for t in examples.ordinary if _rules(t)] == ["保証人を頼んだ叔父に合わせる顔がない"]


def test_veiled_words_need_the_classifier(trained) -> None:
    assert not any(map(_rules, VEILED))
    assert all(map(is_crisis, VEILED))
    assert all(classify(m) == "crisis" for m in VEILED)


def _labels(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["label"]] if isinstance(node.get("label"), str) else []) + [x for v in node.values() for x in _labels(v)]
    return [x for v in node for x in _labels(v)] if isinstance(node, list) else []


#: answers in the plain negative form, written before the typed answers of content/care.yaml
#: and kept out of them: the classifier alone flagged 10 of 12 (P 0.56–0.91) before those
PLAIN_ANSWERS = ["まだ決めていない", "まだ何も決めていない", "まだ決めていないです", "特に何も来ていない",
                 "まだ何も届いていない", "何も考えていない", "どうするか決めていない", "まだ誰にも相談していない",
                 "家族には話していない", "まだ何もしていない", "何もできていない", "誰にも言っていない"]


def test_plain_answers_are_not_a_crisis(trained) -> None:
    shipped = {*care.load_examples().ordinary}
    assert not shipped & set(PLAIN_ANSWERS)
    assert [m for m in PLAIN_ANSWERS if is_crisis(m)] == []


#: hedged answers to the dialog's questions, written before the hedged examples of content/care.yaml
#: (the typed personas found 「いないと思います」 raising the alarm; 5 of these did, 3 more got the
#: gentle line, before those examples)
HEDGED_ANSWERS = ['いないと思います', 'たぶんいないと思う', '保証人はたぶんいないかな', 'ないと思いますけど', '来てないと思います', 'まだ来てないはずです', 'たぶん単独だと思います', '共有ではないと思う', '夫だけだったと思います', '銀行だったと思うけど', '離婚はしないと思います', 'してないと思う、たぶん', 'もう払ってないと思います', '多分まだ大丈夫だと思います', '届いてないと思うんですけど', 'わからないけど、いないと思う']


def test_hedged_answers_are_not_a_crisis(trained) -> None:
    shipped = {*care.load_examples().ordinary}
    assert not shipped & set(HEDGED_ANSWERS)
    assert [m for m in HEDGED_ANSWERS if care.level(m) is not None] == []


#: very polite messages the way older people write (greetings, apologies for being slow): the
#: first one, a fresh typed persona's (tests/data/personas_heldout5.yaml), raised the alarm
#: (P 0.70); the polite examples of content/care.yaml (fifth round) were written after it and
#: these three more after those. One more written then still does (「このたびはお世話になります。
#: 近所の方から、こちらのことを伺いました」, P ≥ 0.7): a second batch of polite examples removed it
#: but cost set 10 one despair message's care, so it was not kept (README "Crisis care"). Sixth
#: round: a classifier-only alarm on a polite greeting or introduction is told as news (the gentle
#: line, nobody paged), so it is in the list now.
POLITE_MESSAGES = ['このたびはお世話になります。近所の方から、こちらのことを伺いました', 'こんにちは。息子に勧められて、このLINEを登録いたしました。文字を打つのが遅いもので、お待たせしましたらごめんなさい。ご説明を読みまして、内容に同意いたします。', 'おはようございます。嫁に手伝ってもらって送っております。至らない点はご容赦くださいませ', '先日はありがとうございました。その後、家内とも話をいたしました', '不慣れで申し訳ございません。何から書けばよいのか分からず、失礼があったらお詫びいたします']


def test_very_polite_messages_are_not_a_crisis(trained) -> None:
    shipped = {*care.load_examples().ordinary}
    assert not shipped & set(POLITE_MESSAGES)
    assert [m for m in POLITE_MESSAGES if care.level(m) == "crisis"] == []


def test_button_labels_and_short_answers_are_not_a_crisis(trained) -> None:
    """Answers typed instead of tapped: the first version flagged 「いない」「まだ決めていない」."""
    labels = _labels(yaml.safe_load((Path(care.CARE_PATH).parent / "dialog.yaml").read_text(encoding="utf-8")))
    assert "いない" in labels and len(labels) >= 40
    answers = ["いない", "ない", "していない", "してない", "来ていない", "何も来ていない", "もう疲れた", "もう無理かも"]
    assert [m for m in [*labels, *answers] if is_crisis(m)] == []


def test_short_messages_are_left_to_the_rules(monkeypatch) -> None:
    """Below MIN_CLASSIFIER_CHARS the classifier is not asked (a bare negation scored 0.7–0.8)."""
    class Sure:
        threshold = care.THRESHOLD

        def probability(self, text: str) -> float:
            return 1.0

    monkeypatch.setattr(care, "_classifier", Sure())
    assert not is_crisis("まだしていない"[: care.MIN_CLASSIFIER_CHARS - 1])
    assert is_crisis("何もかも投げ出したくて"[: care.MIN_CLASSIFIER_CHARS])
    assert is_crisis("消えたい") and is_crisis("死にたい")  # short direct words: the rules


def test_rules_only_until_trained(monkeypatch) -> None:
    monkeypatch.setattr(care, "_classifier", None)
    monkeypatch.setattr(care, "_classifier_failed", False)
    monkeypatch.setattr(care, "_training_in_background", True)  # the warm-up thread is on it
    assert not any(map(is_crisis, VEILED))
    assert is_crisis("死にたい") and is_crisis("消えてしまいたいです")  # the rules still answer
    assert care._classifier is None  # is_crisis did not train it on the caller's time


def test_warm_up_trains_it_in_the_one_background_thread(monkeypatch) -> None:
    import dialogs.understanding as u
    from dialogs.understanding import faq

    gate = threading.Event()
    real = care.load_examples

    def slow():
        gate.wait(30)
        return real()

    monkeypatch.setattr(faq, "_classifier", None)
    monkeypatch.setattr(faq, "_classifier_failed", False)
    monkeypatch.setattr(care, "_classifier", None)
    monkeypatch.setattr(care, "_classifier_failed", False)
    monkeypatch.setattr(care, "load_examples", slow)
    before = threading.active_count()
    u.warm_up()  # returns at once; the thread trains the FAQ classifier, then waits on the gate
    assert care._training_in_background
    assert threading.active_count() <= before + 1
    assert not any(map(is_crisis, VEILED)) and is_crisis("死にたい")
    gate.set()
    deadline = time.monotonic() + 60
    while care._classifier is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert care._classifier is not None and not care._training_in_background
    assert faq._classifier is not None
    assert all(map(is_crisis, VEILED))


def test_training_failure_leaves_the_rules_and_never_raises(monkeypatch, caplog) -> None:
    monkeypatch.setattr(care, "_classifier", None)
    monkeypatch.setattr(care, "_classifier_failed", False)
    monkeypatch.setattr(care, "CARE_PATH", Path("/nonexistent/care.yaml"))
    monkeypatch.setattr(care, "load_examples", lambda path=care.CARE_PATH: care.CareExamples([], [], []))
    with caplog.at_level(logging.ERROR, logger="dialogs.care"):
        assert not any(map(is_crisis, VEILED))
    assert care._classifier_failed and "could not be trained" in caplog.text
    assert is_crisis("死にたい")


def test_a_failing_classifier_falls_back_to_the_rules(monkeypatch, caplog) -> None:
    class Broken:
        threshold = care.THRESHOLD

        def probability(self, text: str) -> float:
            raise RuntimeError("boom")

    monkeypatch.setattr(care, "_classifier", Broken())
    with caplog.at_level(logging.ERROR, logger="dialogs.care"):
        assert is_crisis(VEILED[0]) is False
        assert is_crisis("死にたい") is True
    assert "the rules alone decide" in caplog.text


def test_cpu_time_per_call(trained) -> None:
    """p99 CPU time of ``is_crisis`` (rules + classifier) per message; measured 1.5–4 ms with
    character n-grams, 5 ms (median 2.4) since the SudachiPy words joined the features."""
    examples = care.load_examples()
    texts = [*examples.crisis, *examples.not_crisis, *examples.ordinary[:200], "あ" * 5000 + "もう限界です"]
    times = []
    for text in texts:
        start = time.process_time()
        is_crisis(text)
        times.append(time.process_time() - start)
    p99 = statistics.quantiles(times, n=100)[98]
    print(f"\nis_crisis CPU time: median {statistics.median(times) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    assert p99 < 0.03, p99


def test_training_takes_little_cpu() -> None:
    """Measured: ~0.1 s CPU for the fit (scikit-learn already imported by then)."""
    examples = care.load_examples()
    care.CareClassifier.train(examples)  # imports done
    start = time.process_time()
    care.CareClassifier.train(examples)
    spent = time.process_time() - start
    print(f"\ncrisis classifier training: {spent:.2f} s CPU")
    assert spent < 2.0


def test_training_examples_ship_with_the_app_and_pass_the_content_check(tmp_path) -> None:
    content = load_content(Path(care.CARE_PATH).parent)
    assert not [p for p in check_content(content) if p.startswith("care")]
    examples = care.load_examples()
    assert len(examples.crisis) >= 100 and len(examples.not_crisis) >= 100 and len(examples.ordinary) >= 500
    heldout5 = yaml.safe_load((DATA / "care_heldout5.yaml").read_text(encoding="utf-8"))
    heldout6 = yaml.safe_load((DATA / "care_heldout6.yaml").read_text(encoding="utf-8"))
    heldout7 = yaml.safe_load((DATA / "care_heldout7.yaml").read_text(encoding="utf-8"))
    heldout8 = yaml.safe_load((DATA / "care_heldout8.yaml").read_text(encoding="utf-8"))
    shipped = {*examples.crisis, *examples.not_crisis, *examples.ordinary}
    # set 8, written without reading the examples: three short lines were already there
    heldout9 = yaml.safe_load((DATA / "care_heldout9.yaml").read_text(encoding="utf-8"))
    # set 9, written before this round's examples: only the two bare direct words, already there
    assert shipped & {m for v in heldout9.values() for m in v} == {"死にたい", "しにたい"}
    assert not {*examples.anger, *examples.offtopic} & {m for v in heldout9.values() for m in v}
    assert len(examples.anger) >= 30 and len(examples.offtopic) >= 30
    assert shipped & {*heldout8["crisis"], *heldout8["decoys"]} == {
        "今夜で全部終わらせます", "誰にも必要とされていない", "最後に一つだけ質問させてください"}
    # written without reading the examples: one crisis message was already there word for word
    assert shipped & {*heldout7["crisis"], *heldout7["decoys"]} == {"生まれてこなければよかった"}
    assert not shipped & {*heldout6["crisis"], *heldout6["decoys"]}
    # set 5 stays held out; these two were already in the earlier sets (copied as they are):
    # a crisis the rules catch anyway, and a decoy
    assert shipped & {*heldout5["crisis"], *heldout5["decoys"]} == {"ロープを買ってきました", "海の近くの家です"}
    (tmp_path / "care.yaml").write_text("crisis: []\nnot_crisis: [ok, 3]\n", encoding="utf-8")
    problems = check_content(load_content(tmp_path))
    assert {p for p in problems if p.startswith("care")} == {
        "care.crisis: need a non-empty list of messages",
        "care.not_crisis: need a non-empty list of messages",
        "care.ordinary: need a non-empty list of messages",
        "care.anger: need a non-empty list of messages",
        "care.offtopic: need a non-empty list of messages",
    }


# -- the second tier: concern (a gentle line, nobody paged) ---------------------------

CONCERN = "何もする気が起きなくて、ずっと横になっています"  # P(crisis) ≈ 0.6: below the alarm, above concern


def test_concern_threshold_is_the_chosen_one(trained) -> None:
    """``CONCERN_THRESHOLD`` is the lowest at which cross-validation flags at most 1 % of the
    ordinary messages (2026-12-03: 0.45, 8 of 852 ordinary, 98/125 crisis, 30/158 near misses)."""
    cv = care.cross_validate(care.load_examples())
    assert care.choose_concern_threshold(cv) == care.CONCERN_THRESHOLD < care.THRESHOLD
    assert cv.at(care.CONCERN_THRESHOLD)["ordinary"] <= care.CONCERN_ORDINARY_MAX * len(cv.ordinary)


def test_choose_concern_threshold_keeps_ordinary_messages_under_the_share() -> None:
    cv = care.CrossValidation(crisis=[0.9], not_crisis=[0.5], ordinary=[0.1] * 98 + [0.32, 0.52])
    assert care.choose_concern_threshold(cv) == 0.35  # 1 of 100 at 0.35, 2 of 100 at 0.3


def test_concern_is_below_the_alarm_and_above_the_ordinary(trained) -> None:
    assert care.is_concern(CONCERN) and not is_crisis(CONCERN)
    for ordinary in ("3ヶ月滞納しています", "督促状が届きました。どうすればいいですか", "はい"):
        assert not care.is_concern(ordinary)


def _consented_dialog():
    """(content, session, step) of a LINE dialog just past the consent step."""
    from dialogs.base import DialogInput, Session
    from dialogs.diagnosis import DiagnosisDialog

    content = load_content(Path(care.CARE_PATH).parent)
    dialog, session = DiagnosisDialog(content), Session()
    today = __import__("datetime").date(2026, 12, 3)

    def step(kind: str, **kw):
        return dialog.step(session, DialogInput(kind=kind, today=today, channel="line", **kw))

    step("follow")
    step("postback", data="consent:yes")
    return content, session, step


def test_concern_gets_one_gentle_line_with_the_hotlines_and_the_question_still_follows(trained) -> None:
    content, session, step = _consented_dialog()
    state = session.state
    r = step("text", text=CONCERN)
    said = r.answer.plain_text()
    assert all(n in said for n in ("0120-279-338", "0120-061-338", "0570-064-556")), said
    assert "相談員" in said and "読み取れ" not in said
    assert "crisis" not in r.signals and not r.summary.get("crisis") and r.summary.get("urgency") != "hot"
    assert session.state in (state, "ownership")  # not derailed: the dialog goes on as it would
    question = content.text(f"dialog.states.{session.state}.text")
    assert said.index("0570-064-556") < said.index(question)  # the gentle line first, then the question
    assert r.answer.quick_replies  # the question's buttons
    # the full list once per conversation: the next near-despair message gets a short line
    # (the 24-hour hotline and a person) and the question, never nothing
    r = step("text", text=CONCERN)
    said = r.answer.plain_text()
    assert "0570-064-556" not in said and "0120-279-338" in said and "相談員（人）" in said, said
    assert "crisis" not in r.signals and r.answer.quick_replies
    # words of despair still get the full crisis reply and the alarm
    r = step("text", text="もう死にたい")
    assert "crisis" in r.signals and r.summary["urgency"] == "hot"


# -- third round: set 9, any script, the concern rules, the mood classifier -----------

#: set 9 (tests/data/care_heldout9.yaml), written and committed before the round, never tuned on.
#: Before: alarm 41/72 (rules 32), care shown 58/72; decoys: alarm 5/51, gentle 10/51; insults and
#: off-topic: calm reply 2/13, alarm 0/13. After (same developer, misses seen: not independent):
#: alarm 61/72 (rules 40), care shown 71/72; decoys: alarm 4/51, gentle 5/51; calm reply 13/13.
#: Fourth care round (hard news told as news gets the concern tier, not the alarm: ``told_as_news``):
#: alarm 61/72, care shown 71/72; decoys: alarm 0/51 (5 at the round's start), gentle 9/51 (4).
#: Sixth care round: care shown 71 -> 72/72.
SET9_FLOORS = {"alarm": 58, "shown": 71, "decoy_alarm_max": 1, "decoy_gentle_max": 10, "calm": 11}


def test_set_9(trained) -> None:
    data = yaml.safe_load((DATA / "care_heldout9.yaml").read_text(encoding="utf-8"))
    assert len(data["crisis"]) >= 70 and len(data["decoys"]) >= 50 and len(data["anger_offtopic"]) >= 12
    crisis = [_care_level(m) for m in data["crisis"]]
    decoys = [_care_level(m) for m in data["decoys"]]
    rude = data["anger_offtopic"]
    calm = [m for m in rude if classify(m) in ("anger", "offtopic")]
    print(f"\ncare_heldout9.yaml: alarm {crisis.count('alarm')}/{len(crisis)} (rules alone "
          f"{sum(map(_rules, data['crisis']))}), care shown {len(crisis) - crisis.count('none')}/{len(crisis)}, "
          f"missed {[m for m, v in zip(data['crisis'], crisis, strict=True) if v == 'none']}; decoys: alarm "
          f"{decoys.count('alarm')}/{len(decoys)} {[m for m, v in zip(data['decoys'], decoys, strict=True) if v == 'alarm']}, "
          f"gentle {decoys.count('gentle')}/{len(decoys)}; insults and off-topic: calm reply {len(calm)}/{len(rude)}")
    assert crisis.count("alarm") >= SET9_FLOORS["alarm"]
    assert len(crisis) - crisis.count("none") >= SET9_FLOORS["shown"]
    assert decoys.count("alarm") <= SET9_FLOORS["decoy_alarm_max"]
    assert decoys.count("gentle") <= SET9_FLOORS["decoy_gentle_max"]
    assert len(calm) >= SET9_FLOORS["calm"] and not any(map(is_crisis, rude))


def test_set_10(trained) -> None:
    """Set 10 (tests/data/care_heldout10.yaml): written after the third round by its developer,
    committed alone, run once, never tuned on (dialect, young and elderly styles, emoji). First
    and only run: alarm 13/20 (rules alone 3), care shown 18/20; negatives: 4/20 false alarms
    (all the classifier's), 1/20 gentle line. Fourth care round (``told_as_news``, the misses of
    sets 9 and 10 seen): alarm 15/20, care shown 18/20; negatives: 0/20 false alarms, 6/20 gentle lines."""
    data = yaml.safe_load((DATA / "care_heldout10.yaml").read_text(encoding="utf-8"))
    crisis = [_care_level(m) for m in data["crisis"]]
    decoys = [_care_level(m) for m in data["decoys"]]
    print(f"\ncare_heldout10.yaml: alarm {crisis.count('alarm')}/{len(crisis)}, care shown "
          f"{len(crisis) - crisis.count('none')}/{len(crisis)}; decoys: alarm {decoys.count('alarm')}/{len(decoys)}, "
          f"gentle {decoys.count('gentle')}/{len(decoys)}")
    assert crisis.count("alarm") >= 12 and len(crisis) - crisis.count("none") >= 19  # sixth round: 18 -> 20/20
    assert decoys.count("alarm") <= 1 and decoys.count("gentle") <= 7


@pytest.mark.parametrize("text", [
    "シニタイ", "ｼﾆﾀｲ", "ジサツしたい", "しにたぃ", "タヒにたい", "4にたい", "氏にたいです", "市にたい",
    "死にてー", "しにてぇ", "消えてぇ", "kietai", "Shinitai", "jisatsu kangaeteru", "モウキエタイ",
])
def test_the_direct_words_in_any_script_or_typo_are_the_rules_crisis(text: str) -> None:
    """Written for this test (none is in a set or the examples): the rules alone, no classifier."""
    assert _rules(text)


@pytest.mark.parametrize("text", [
    "シネマに行ってきました", "市にたいして固定資産税の相談をしました", "4にんで暮らしています",
    "タヒチに旅行した頃が懐かしい", "キエフ出身の同僚", "ローンがしんどい時期もありました",
])
def test_look_alike_spellings_are_not_read_as_the_direct_words(text: str) -> None:
    assert not _rules(text)


@pytest.mark.parametrize("text", [
    "もう疲れた", "限界です", "つらい…", "助けて", "ごめんなさい", "がんばれない",
    "疲れ果てました", "未来なんて真っ暗だ",
])
def test_the_concern_rules_give_care_without_the_classifier(monkeypatch, text: str) -> None:
    """Short words of despair, which the classifier never reads (under MIN_CLASSIFIER_CHARS),
    and any message while it is not trained yet: at least the gentle line."""
    monkeypatch.setattr(care, "_classifier", None)
    monkeypatch.setattr(care, "_classifier_failed", False)
    monkeypatch.setattr(care, "_training_in_background", True)
    assert care.level(text) in ("concern", "crisis")


@pytest.mark.parametrize("text", [
    "はい", "いいえ", "まだ", "4ヶ月", "疲れたので明日にします", "仕事で疲れました",
    "限界までがんばって払ってきました", "もう無理ですよね?", "特に希望はない", "夫にごめんと言われました",
])
def test_the_concern_rules_leave_ordinary_answers_alone(text: str) -> None:
    assert care._rules_level(care._without_figures(text)) is None


@pytest.mark.parametrize("text,kind", [
    # written for this test, in none of the sets or the examples
    ("なんなんだよこのポンコツ機械は", "anger"), ("もうお前とは話さない、最悪", "anger"),
    ("使い物にならねえな", "anger"), ("好きな動物は何ですか?", "offtopic"),
    ("今週末のおすすめの映画は?", "offtopic"), ("最近ハマってる趣味ある?", "offtopic"),
])
def test_mood_reads_anger_and_offtopic_beyond_the_words(trained, text: str, kind: str) -> None:
    assert classify(text) == kind


def test_mood_threshold_is_the_cross_validated_one(trained) -> None:
    """``MOOD_THRESHOLD`` is the lowest at which 5-fold cross-validation flags at most 1 % of the
    other messages (2026-12-03: 0.4; anger 37/49, off-topic 22/37, other 10/1,270)."""
    labels, scores = care.cross_validate_mood(care.load_examples())
    assert care.choose_mood_threshold(labels, scores) == care.MOOD_THRESHOLD
    other = [s for label, s in zip(labels, scores, strict=True) if label == "other"]
    anger = [s for label, s in zip(labels, scores, strict=True) if label == "anger"]
    assert sum(s >= care.MOOD_THRESHOLD for s in other) <= care.MOOD_OTHER_MAX * len(other)
    assert sum(s >= care.MOOD_THRESHOLD for s in anger) >= 0.6 * len(anger)


def test_no_ordinary_message_has_a_mood(trained) -> None:
    items = yaml.safe_load((DATA / "understanding_corpus.yaml").read_text(encoding="utf-8"))["items"]
    assert [i["text"] for i in items if care.mood(i["text"])] == []
    assert [m for m in PLAIN_ANSWERS if care.mood(m)] == []


def test_a_short_word_of_despair_gets_the_hotlines_and_a_person_in_the_dialog(trained) -> None:
    """「もう疲れた」 (5 characters: the classifier never reads it) gets the gentle line with the
    three hotlines and the offer of a person; asking for one then reaches the contact step."""
    content, session, step = _consented_dialog()
    said = step("text", text="もう疲れた").answer.plain_text()
    assert all(n in said for n in ("0120-279-338", "0120-061-338", "0570-064-556")), said
    assert "相談員（人）" in said and "読み取れ" not in said
    step("text", text="相談員と話したい")
    assert session.state in ("contact", "handoff"), session.state


# -- fourth care round: hard news told as news gets the concern tier, not the page --------

SEEN_SETS = ["care_corpus", "care_fresh", *(f"care_heldout{n}" for n in range(3, 11))]


def _seen(key: str) -> list[str]:
    out: list[str] = []
    for name in SEEN_SETS:
        data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
        for k in ([key] if key == "decoys" else ["crisis", "crisis_direct", "crisis_indirect"]):
            out += data.get(k, [])
    return out


@pytest.mark.parametrize("text", [
    # written for this test (not from a held-out set): what vanishes, ends or is last is named
    "振込の控えが消えてしまいました", "家がなくなるのは寂しいけど仕方ない", "返済の話し合いはもう終わりました",
    "最後の入金は3月でした", "来週、市役所に行ってきます", "話を聞いてもらって安心しました",
    "売ったら実家に帰るつもりです", "家を出ていくことになるなんて思わなかった",
])
def test_hard_news_is_told_as_news(text: str) -> None:
    assert care.told_as_news(care._without_figures(text))


@pytest.mark.parametrize("text", [
    # the same kinds of words said of the writer, a life or a death: never demoted
    "家がなくなったら、私も消えます", "ローンが終わる前に命が終わりそう", "最後の支払いの日に死のうと思う",
    "銀行に行ったら、そのまま自分も終わりにする", "あの世に行けば話し合いも終わる",
])
def test_news_about_the_writer_is_not_told_as_news(text: str) -> None:
    assert not care.told_as_news(care._without_figures(text))


def test_no_despair_of_the_seen_sets_is_told_as_news() -> None:
    """The gate only ever turns a classifier-only alarm into the concern tier; on the despair of
    every seen set (and, see README, on the out-of-fold crisis examples) it demotes nothing."""
    demoted = [m for m in _seen("crisis") if care._rules_level(care._without_figures(m)) is None
               and care.told_as_news(care._without_figures(m))]
    assert demoted == []


def test_hard_news_gets_care_but_no_page(trained) -> None:
    """Classifier-only alarms on hard news of the seen sets (9 before the gate) now get the gentle
    line: care shown, nobody paged; the one decoy alarm left is the rules' (「全部終わらせて…」)."""
    news = [m for m in _seen("decoys") if care.told_as_news(care._without_figures(m))
            and care._rules_level(care._without_figures(m)) is None]
    levels = [care.level(m) for m in news]
    assert len(news) >= 9 and "crisis" not in levels and levels.count("concern") >= 9
    assert [m for m in _seen("decoys") if is_crisis(m)] == ["全部終わらせてすっきりしたい。売却の手続きを進めてください"]


def test_set_11(trained) -> None:
    """Set 11 (tests/data/care_heldout11.yaml): written at the start of the fourth care round, before
    its change and without reading content/care.yaml's examples, committed alone, run once before
    and once after, never tuned on (the messages are not printed). BEFORE: alarm 32/34, care shown
    34/34; hard news: false alarms 4/45, gentle 6/45; answers: 0/10 alarm, 0/10 gentle. AFTER
    (``told_as_news``): alarm 32/34, care shown 34/34; false alarms 3/45, gentle 7/45; answers 0/10, 0/10."""
    data = yaml.safe_load((DATA / "care_heldout11.yaml").read_text(encoding="utf-8"))
    assert (len(data["crisis"]), len(data["decoys"]), len(data["answers"])) >= (30, 40, 10)
    crisis = [_care_level(m) for m in data["crisis"]]
    decoys = [_care_level(m) for m in data["decoys"]]
    answers = [_care_level(m) for m in data["answers"]]
    print(f"\ncare_heldout11.yaml: alarm {crisis.count('alarm')}/{len(crisis)}, care shown "
          f"{len(crisis) - crisis.count('none')}/{len(crisis)}; hard news: alarm {decoys.count('alarm')}/{len(decoys)}, "
          f"gentle {decoys.count('gentle')}/{len(decoys)}; answers: alarm {answers.count('alarm')}, "
          f"gentle {answers.count('gentle')}/{len(answers)}")
    assert crisis.count("alarm") >= 30 and len(crisis) - crisis.count("none") >= 33
    assert decoys.count("alarm") <= 4 and decoys.count("gentle") <= 9
    assert answers.count("alarm") == 0 and answers.count("gentle") <= 1


# -- sixth care round: set 12 ----------------------------------------------------------

@pytest.mark.parametrize("text", [
    # written for this round from the seen sets' misses and the dialog checks, by family (not set 12)
    "開札の日が来る前に、自分で終わりにします", "俺で全部おしまいにする", "息が苦しくて、もう終わりにしたくて",
    "連絡はいりません。今夜いなくなるので", "明日にはもうこの世にいません", "最後にだれかと話したくて連絡しました",
])
def test_new_families_of_despair_are_the_rules_crisis(text: str) -> None:
    assert care._rules_level(care._without_figures(text)) == "crisis"


@pytest.mark.parametrize("text", [
    "息をするのも苦しいです", "布団から起き上がれない日が続いています", "いっそ、って思ってしまう",
    "未来が見えない", "真っ暗です", "通帳は引き出しです。あとは頼みます", "準備はできました。あとは決めるだけ",
])
def test_new_families_near_despair_are_the_rules_concern(text: str) -> None:
    assert care._rules_level(care._without_figures(text)) == "concern"


@pytest.mark.parametrize("text", [
    "終わりにしたいのは滞納です", "返済はもう終わりにしたいです", "この話は終わりにしたいです", "明日は家にいません",
    "今日は仕事でいないので夜に連絡します", "最後に一つだけ質問させてください", "いっそ売ってしまいたい",
    "最後に担当の方と話して決めます", "明日、銀行の人が来ます",
])
def test_the_new_families_leave_their_everyday_sense_alone(text: str) -> None:
    assert care._rules_level(care._without_figures(text)) is None


@pytest.mark.parametrize("text", [
    # the classifier alone raised the alarm on these (P 0.83, 0.85): now the gentle line, nobody paged
    "このたびはお世話になります。近所の方から、こちらのことを伺いました", "いっそ売ってしまいたい",
])
def test_a_polite_greeting_or_the_sale_alone_is_no_page(trained, text: str) -> None:
    assert care.told_as_news(care._without_figures(text)) and care.level(text) != "crisis"


#: set 12 (tests/data/care_heldout12.yaml): written at the start of the sixth care round, before
#: its changes and without reading content/care.yaml's examples, committed alone, never tuned on
#: (the messages are not printed). BEFORE (clean, first run): alarm 37/42, care shown 42/42;
#: hard negatives: false alarms 4/50, gentle 7/50; insults and off-topic: calm reply 9/12, alarm 0;
#: answers: alarm 0/12, gentle 0/12. AFTER (the new families of wordings, the greeting and the sale told
#: as news; tuned on the seen sets only, set 12 run for counts, its misses not read): alarm 38/42,
#: care shown 42/42; false alarms 3/50, gentle 8/50; calm reply 9/12; answers 0/12, 0/12.
SET12_FLOORS = {"alarm": 36, "shown": 42, "decoy_alarm_max": 4, "decoy_gentle_max": 10, "calm": 9}


def test_set_12(trained) -> None:
    data = yaml.safe_load((DATA / "care_heldout12.yaml").read_text(encoding="utf-8"))
    assert (len(data["crisis"]), len(data["decoys"]), len(data["anger_offtopic"]), len(data["answers"])) \
        >= (35, 45, 10, 10)
    crisis = [_care_level(m) for m in data["crisis"]]
    decoys = [_care_level(m) for m in data["decoys"]]
    answers = [_care_level(m) for m in data["answers"]]
    rude = data["anger_offtopic"]
    calm = [m for m in rude if classify(m) in ("anger", "offtopic")]
    print(f"\ncare_heldout12.yaml: alarm {crisis.count('alarm')}/{len(crisis)}, care shown "
          f"{len(crisis) - crisis.count('none')}/{len(crisis)}; hard negatives: alarm {decoys.count('alarm')}/"
          f"{len(decoys)}, gentle {decoys.count('gentle')}/{len(decoys)}; insults and off-topic: calm reply "
          f"{len(calm)}/{len(rude)}; answers: alarm {answers.count('alarm')}, gentle {answers.count('gentle')}/{len(answers)}")
    assert crisis.count("alarm") >= SET12_FLOORS["alarm"]
    assert len(crisis) - crisis.count("none") >= SET12_FLOORS["shown"]
    assert decoys.count("alarm") <= SET12_FLOORS["decoy_alarm_max"]
    assert decoys.count("gentle") <= SET12_FLOORS["decoy_gentle_max"]
    assert len(calm) >= SET12_FLOORS["calm"] and not any(map(is_crisis, rude))
    assert answers.count("alarm") == 0 and answers.count("gentle") <= 1
