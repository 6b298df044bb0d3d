"""The person's free question: which FAQ topic it asks (the classifier of ``dialogs.faq_classifier``
and the topic keywords), or the three closest topics when unsure."""
from __future__ import annotations

import logging
import re

from dialogs import care
from dialogs.faq_classifier import CANDIDATES, FaqClassifier, load_examples
from dialogs.understanding.context import GREETING, polarity
from dialogs.understanding.normalize import _nfkc, _normalize, _sentences

logger = logging.getLogger(__name__)



# ---------------------------------------------------------------------------
# FAQ topics
# ---------------------------------------------------------------------------

FAQ_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    ("moving_costs", re.compile(r"引越(?:代|費|の?(?:お金|費用|代金|資金)|資金|料|代金)|立ち?退き料|転居(?:費|の費用)")),
    ("credit_blacklist", re.compile(
        r"ブラック|信用情報|クレジット|クレカ|カード(?:が|は|を)?(?:作れ|使え|止ま|持て|作る)"
        r"|(?:ローン|借り入れ|借入)(?:が|は|を|とか|も)?(?:組め|組む|組ん|通ら|借りれ|借りられ)|事故(?:情報|扱い)"
        r"|審査(?:に|が|は)?(?:通|落|影響)|個人信用|cic|jicc"
    )),
    ("residual_debt", re.compile(
        r"残債|残った(?:ローン|借金|債務|分|お金)|残り(?:の)?(?:ローン|借金|債務|返済)|残る(?:借金|ローン|債務|分)"
        r"|(?:借金|ローン|債務)(?:が|は|って)?(?:残|のこ)|売っても(?:残|足り|返しきれ|払いきれ|完済でき)|足りない分"
        r"|オーバーローン|完済でき(?:ない|なかっ)|払いきれない分|返しきれない"
    )),
    ("stay_after_sale", re.compile(
        r"住み続け|リースバック|(?:家|自宅|今の家|ここ|この家)に(?:残|住め|住み|いられ|居られ|住んで)|住んだまま"
        r"|出て(?:いか|行か)(?:なきゃ|ないと|なければ|なく)|退去(?:しな|させ|が必要)"
        r"|親(?:族|戚)?(?:に|が)(?:買|購入)|親子間売買|買い戻"
    )),
    ("timeline", re.compile(
        r"どのくらいの期間|どれくらいの期間|(?:どのくらい|どれくらい|どれぐらい|どのぐらい)(?:かか|で|時間|の期間|の時間|先|後)"
        r"|何(?:ヶ月|日|年|週間|カ月)|いつ(?!も|か)|期間|期限(?!の利益)|スケジュール|流れ|猶予|あと何"
    )),
    ("costs_fees", re.compile(
        r"費用|手数料|料金|お金(?:が|は|って)?(?:かか|必要|いる|要る)|いくら(?:かか|必要|払|取られ|ぐらい|くらい)?"
        r"|無料|タダ|報酬|相談料|諸費用|実費|持ち出し|自己負担"
    )),
    ("auction_vs_voluntary", re.compile(
        r"違い|何が違う|比べ|どっち|どちら|メリット|デメリット|任意売却(?:とは|って(?:何|なに|なん))"
        r"|競売(?:より|のほうが|の方が)|任意売却(?:より|のほうが|の方が)|競売(?:と|か)任意売却|任意売却(?:と|か)競売"
    )),
    ("eligibility", re.compile(
        r"私でも|自分でも|僕でも|うちでも|誰でも|条件|対象(?:に|で|外)|今からでも|間に合"
        r"|任意売却(?:は|って|を|が)?(?:でき|出来|可能|利用|受け|頼め|お願いでき|してもらえ)"
    )),
    ("divorce", re.compile(
        r"離婚(?:したら|した場合|すると|する場合|しても|後|の場合|のとき|の時|時|の際|した後|で(?:家|ローン|名義))|財産分与"
    )),
    ("guarantor", re.compile(
        r"保証人[^。!?\n]{0,10}?(?:迷惑|請求|影響|どうな|大丈夫|責任|負担|バレ|ばれ|知られ|連絡|払わ|支払|返済|行く|いく)"
        r"|保証人への|連帯保証(?:人)?(?:って|とは)"
    )),
]
QUESTION = re.compile(
    r"\?|ですか|ますか|でしょうか|ませんか|(?<!くらい)(?<!ぐらい)(?<!程度)(?<!ほど)かな(?:[ぁあー〜~…。!?\n]|$|と(?:思|おも))|かね(?:[ぇえー〜~…。!?\n]|$)|教えて|知りたい|どうなる|どうなり|どうすれば|どうしたら"
    r"|どうやって|どうする(?:の|ん|べき)|なんですか|何ですか|いくら|どのくらい|どれくらい|どっち|どちら|いつまで|って何|ってなに|とは(?:$|[。!?])"
    r"|か(?:[。!?…〜ー~]*)$|[るいたえ]の$|可能$|大丈夫$|本当$|ほんと$"
    # colloquial LINE questions without a question mark: 「…払うの」「…いくの」「何を準備すればいい」
    # 「…のでは」「…だろう」「言うと何」, and hearsay asking to be confirmed 「…ってきいた」
    r"|の[ぉおー〜~…]*$|(?:ば|たら)(?:いい|よい)(?:の|ん)?$|(?:のでは|んじゃ(?:ない)?|だろう?|でしょう?|っけ)[ねぇえー〜~…]*$"
    r"|(?:何|なに|なん)[ー〜~…]*$|(?:って|と)(?:聞い|きい|聞き|きき|見|読ん)(?:た|だ|ました)(?:けど|んですが|んだけど|が)?$"
    # wondering left open (「…出なきゃいけないのかなって」「…無理なのかなと」) and hearsay left open
    # (「…残るって聞いて」)
    r"|かな(?:って|っと|と)[ぇえー〜~…]*$|(?:って|と)(?:聞い|きい|見|読ん)(?:て|で)[ー〜~…]*$"
    # an interrogative word makes a plain sentence a question (「いつ始まる」「誰に請求いく」);
    # not their indefinite uses (いつも, 誰にも, どこにも, 何も)
    r"|いつ(?!も|か|の間)|(?:誰|だれ)(?!にも|も|か)|どこ(?!にも|も|か)|なぜ|なんで|どうして|(?:何|なに)(?:を|が|から)"
)
#: Worry or wish: a sentence that carries a topic word and one of these asks about it.
CONCERN = re.compile(
    r"心配|不安|気にな(?:る|り|っ)|知りたい|わからない|分からない|困る|困って|(?<!み)(?:たい|たくない)(?:です|んです|のです)?(?:けど|けれど|が)?$|希望|避けたい|怖い|こわい"
    r"|どうしよう|つらい|辛い|耐えられ|(?<!み)たくない(?:んです|です)?、"
    # at a loss, torn, ashamed, or a statement left open for an answer (「…払えてないんだけど」)
    r"|わかりません|分かりません|わからなくて|迷って|悩んで|悩み|顔向けでき|合わせる顔"
    r"|(?:し|協力し|同意し)てくれ(?:ない|ません)|(?:けど|けれど|んですが|のですが|んだが)$"
    r"|気がしない|そうに(?:ない|ありません)|すぎ(?:る|ます)$|なんて$|真っ白|覚悟ができ|(?:よ|だよ|んだよ)ね[ぇえー〜~…]*$"
    # a difficulty left open (「…の用意ができなくて」「…決まらなくて」)
    r"|なく(?:て|って)[ぇえー〜~…]*$"
)
#: A worry without a question is answered only at this confidence of the classifier: the lowest
#: at which, in 5-fold cross-validation of the examples, 95 % of the answered ones are right
#: (0.70 with char + word features: 95.5 %, 48 % answered; with the implied-question examples
#: of the second round, 0.60: 95.9 %, 58 % answered; re-check after adding examples).
WORRY_THRESHOLD = 0.6
#: ... and when the message also states a fact of the dialog, at the first round's bar
WORRY_WITH_A_FACT_THRESHOLD = 0.7
#: Below ``WORRY_THRESHOLD``, a worry that states no fact of the dialog is offered the three
#: closest topics (「こちらのことですか?」) when the first has at least this probability; under
#: it the classifier has no idea (「お金のことが心配です」: 0.38) and nothing is offered.
WORRY_OFFER = 0.4
#: A plain statement (no question form, no worry word) that states no fact of the dialog is read
#: as the question it implies (「保証人の兄に請求がいくのがこわくて」 has a worry word;
#: 「引っ越しのお金がまだ用意できてなくて」 has none) at this confidence of the classifier: the
#: lowest above every statement of the tuned corpus (tests/data/understanding_corpus.yaml; the
#: highest, 「夫と連帯債務でローンを組んでます」, scored 0.79), where 5-fold cross-validation of the
#: examples answers 98 % right.
IMPLIED_THRESHOLD = 0.8
#: ... and only from this many characters: shorter ones are answers (「夫の名義です」「はい」).
IMPLIED_MIN_CHARS = 9
#: a noun sentence or a state: it describes (「…ローンです」「…連帯債務で組んでます」), it does not ask
DESCRIPTION = re.compile(r"[一-龥ァ-ヶー]です$|[てで]い?ます$")
TRAILING_NOISE = re.compile(r"[\W_wｗ笑]+$")


# ---------------------------------------------------------------------------
# FAQ topic
# ---------------------------------------------------------------------------


def _topic_in(sentence: str) -> str | None:
    first: tuple[int, int, str] | None = None
    for topic, pattern in FAQ_TOPICS:
        m = pattern.search(sentence)
        if m and (first is None or (m.start(), -m.end()) < (first[0], -first[1])):
            first = (m.start(), m.end(), topic)
    return first[2] if first else None


def _is_question(sentence: str) -> bool:
    core = TRAILING_NOISE.sub("", sentence)
    return bool(QUESTION.search(core) or QUESTION.search(sentence))


def _answers_or_reports(text: str) -> bool:
    """A statement that answers or reports rather than implies a question: short (「夫の名義です」),
    an assent (「はい、お願いします」), or a thing done, told in the past (「…と言われた」
    「…が届きました」); an implied question is left open (「…のかなって」「…なくて」)."""
    plain = TRAILING_NOISE.sub("", text)
    return len(plain) < IMPLIED_MIN_CHARS or polarity(plain) == "yes" or bool(GREETING.match(plain)) or plain.endswith("た")


def read_faq(text: str, states_a_fact: bool = False) -> tuple[str | None, list[str]]:
    """(topic, candidates) of the free question in ``text``.

    Only sentences that ask (a question) or worry (``CONCERN``) are read, by the
    classifier trained from the FAQ examples (``dialogs.faq_classifier``), which ranks
    every topic. A topic keyword (``FAQ_TOPICS``) in such a sentence decides when the
    classifier ranks that topic among its three closest too (the words and the examples
    agree); otherwise the classifier's first topic is answered at or above its
    threshold. Below it: ``(None, the three closest topics)`` for a question (the
    dialog offers them). A worry below ``WORRY_THRESHOLD`` is offered the closest topics
    (``WORRY_OFFER``); a plain statement is read as the question it implies when the
    classifier is confident (``IMPLIED_THRESHOLD``); neither when the message states a
    fact of the dialog (``states_a_fact``: 「督促状が来て」 is the letter, not a question).
    With a topic, the candidates are the other close topics, best first.
    """
    asked: list[str] = []
    worried: list[str] = []
    keyword: str | None = None
    for _, sentence in _sentences(text):
        question = _is_question(sentence)
        concern = bool(CONCERN.search(TRAILING_NOISE.sub("", sentence)))
        if not (question or concern):
            continue
        keyword = keyword or _topic_in(sentence)
        (asked if question else worried).append(sentence)
    implied = not (asked or worried)
    if implied and (states_a_fact or _answers_or_reports(text)):
        return None, []
    if keyword is None and care.is_offtopic(text):  # 「今日の天気は?」: not a question about the house
        return None, []
    classifier = faq_classifier()
    if classifier is None:  # not trained (yet): the topic keywords, else "other"
        return (keyword, []) if keyword and not implied else (("other", []) if asked else (None, []))
    ranked = classifier.rank("".join(asked + worried) if not implied else text)
    if implied:
        closest = [str(t) for t, _ in ranked[:CANDIDATES]]
        if ranked[0][1] >= IMPLIED_THRESHOLD and closest[0] != "other":  # "other" answers questions only
            return closest[0], closest[1:]
        # unsure: the closest topics, not for a yes/no answer (「通知はまだ来ていません」) nor a
        # description (a noun and です: 「保証会社がついてるローンです」)
        plain = TRAILING_NOISE.sub("", text)
        offer = ranked[0][1] >= WORRY_OFFER and closest[0] != "other"
        offer = offer and polarity(plain) is None and not DESCRIPTION.search(plain)
        return (None, closest) if offer else (None, [])
    closest = [str(t) for t, _ in ranked[:CANDIDATES]]
    if keyword and keyword in closest:
        return keyword, [t for t in closest if t != keyword]
    if asked:
        if ranked[0][1] >= classifier.threshold:
            return closest[0], closest[1:]
        return None, closest
    # a worry or a wish alone (「競売になる前に何とかしたい」) is answered only when it is clear
    # with a fact (「まだ滞納していないけど…不安」) at the first round's bar: the dialog records the
    # fact and answers a statement's topic only when the message brought no new fact
    bar = WORRY_WITH_A_FACT_THRESHOLD if states_a_fact else WORRY_THRESHOLD
    if ranked[0][1] >= bar and closest[0] != "other":  # "other" answers questions only
        return closest[0], closest[1:]
    # unsure: the closest topics, unless the best guess is the catch-all "other" (「誰にも相談できなくて」)
    offer = ranked[0][1] >= WORRY_OFFER and closest[0] != "other" and not states_a_fact
    return (None, closest) if offer else (None, [])


def read_faq_topic(text: str) -> str | None:
    """The FAQ topic asked about (see ``read_faq``), None if nothing is asked or it is unsure."""
    return read_faq(text)[0]


_classifier: FaqClassifier | None = None
_classifier_failed = False
_training_in_background = False


def faq_classifier() -> FaqClassifier | None:
    """The FAQ classifier, trained on first use unless ``warm_up`` is training it (None meanwhile)."""
    if _classifier is None and not _classifier_failed and not _training_in_background:
        _train_classifier()
    return _classifier


def _train_classifier() -> None:
    global _classifier, _classifier_failed, _training_in_background
    try:
        _classifier = FaqClassifier.train(load_examples(), normalize=lambda t: _normalize(_nfkc(t)))
    except Exception:
        _classifier_failed = True
        logger.exception("understanding: the FAQ classifier could not be trained; questions read as 'other'")
    finally:
        _training_in_background = False
