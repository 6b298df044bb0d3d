"""Words that need care before anything else: despair or self-harm, anger, off-topic.

``classify(text)`` → ``"crisis" | "anger" | "offtopic" | None``. Pure; no I/O.

* **crisis**: a wish to die or disappear, said directly (死にたい, 消えたい, 自殺) or
  indirectly, the way people say it without those words: ending everything
  (「もう全部終わりにしたい」), life without worth (「生きていても仕方ない」), being a
  burden (「いないほうが家族のため」「迷惑をかけるくらいなら」), paying with one's life
  insurance (「保険で返せるなら」), not waking up, a plan or its preparation (遺書,
  身辺整理, 飛び降り, 線路, 薬をたくさん), taking the family along (道連れ). The
  pattern groups (``_CRISIS_KINDS``) are these kinds of saying, not single sentences.
  Figures of speech are NOT a crisis: 「死ぬほど疲れた」「死ぬかと思った」「死ぬ気で働く」
  (an intensifier; answering them with hotlines would feel absurd and lose trust). A
  tired 「もう疲れた」 alone is not one either; 「疲れた、もう消えたい」 is.
  When in doubt the detector prefers a false alarm: a warm word and a hotline do no
  harm, a missed crisis does.
* **anger**: insults and anger at the bot or the company (「使えない」「ふざけるな」).
* **offtopic**: small talk and questions about other things (天気, ラーメン, 「AIですか」).

The dialog checks ``crisis`` on every message, before anything else; ``anger`` and
``offtopic`` only when the message was otherwise not understood (a message that
also states facts is read for its facts). Measured on the held-out
tests/data/care_corpus.yaml by tests/test_care.py (figures in the README).

Second layer: a classifier for the veiled wording the rules miss
---------------------------------------------------------------------
``is_crisis`` runs the rules first; when they find nothing, a small text
classifier (``CareClassifier``: TF-IDF of character 1–3-grams + logistic
regression, like ``dialogs.faq_classifier``) trained from ``content/care.yaml``
(``crisis`` against ``not_crisis`` and ``ordinary``) and the FAQ questions of
``content/faq.yaml`` (ordinary worries) says crisis at or above ``THRESHOLD``,
for messages of at least ``MIN_CLASSIFIER_CHARS`` characters (shorter ones are
answers, where a bare negation looks like despair). The threshold is the lowest
at which 5-fold cross-validation of those examples raises no false alarm on the
ordinary messages (``choose_threshold``; a test keeps ``THRESHOLD`` equal to it). It is trained once per process, in the
background thread of ``dialogs.understanding.warm_up`` (with the FAQ
classifier) or on first use; until then, and if training fails, the rules
alone decide. It never raises.

Second tier (concern): ``is_concern`` is true for a message the alarm missed whose
P(crisis) is at least ``CONCERN_THRESHOLD`` (the lowest at which cross-validation flags
at most ``CONCERN_ORDINARY_MAX`` of the ordinary messages: ``choose_concern_threshold``).
The dialog then adds one gentle line with the hotlines and the offer of a person to its
answer, pages nobody, and goes on with its question. The concern rules (``_CONCERN_KINDS``:
worn out, cannot go on, a burden, sorry as a last word, no future, farewells) give the same
tier without the classifier, to short messages too (「もう疲れた」).

Hard news told as news (``told_as_news``): an alarm from the classifier alone on a message
that names what vanishes, ends or is last and it is not the writer (「家が消える」「最後の
面談」), an errand, relief told in the past, a house lost or a new life planned gives the
concern tier instead (care shown, nobody paged), unless the message speaks of the writer,
a life or a death.

Every text is first read by ``_plain``: NFKC, and the direct words in one spelling whatever
the script or typo (シニタイ, ｼﾆﾀｲ, しにたぃ, タヒにたい, 4にたい, 氏にたい, 死にてー, shinitai).

Anger and off-topic: the words (``_ANGER``, ``_OFFTOPIC``), then ``MoodClassifier`` trained
from the ``anger`` and ``offtopic`` lists of content/care.yaml (with the crisis classifier,
in the same background thread) at ``MOOD_THRESHOLD``.
"""
from __future__ import annotations

import logging
import pathlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

logger = logging.getLogger(__name__)

CARE_PATH = pathlib.Path(__file__).resolve().parents[1] / "content" / "care.yaml"
#: Probability of "crisis" at or above which the classifier flags a message the rules did
#: not: the lowest with no false alarm on the ordinary messages and at most 5 % on the near
#: misses in 5-fold cross-validation of the training examples (``choose_threshold``;
#: re-check after adding examples).
THRESHOLD = 0.7
#: The classifier reads at most this many characters (a longer text is not typed by hand).
MAX_CLASSIFIER_CHARS = 3000
#: The second tier: a message below ``THRESHOLD`` but at or above this P(crisis) gets one
#: gentle line with the hotlines and the offer of a person in the dialog's answer, without
#: paging the staff. Chosen by ``choose_concern_threshold`` (a test keeps them equal).
CONCERN_THRESHOLD = 0.5
#: ... and only messages at least this long: shorter ones are answers (「いない」「していない」
#: 「何も来ていない」), where a negation alone looks like despair to character n-grams (P 0.7–0.8
#: measured); the short direct words (死にたい, 消えたい) are the rules' job.
MIN_CLASSIFIER_CHARS = 8

_ME = r"(?:私|わたし|あたし|自分|じぶん|俺|おれ|僕|ぼく)"
_KIN = r"(?:家族|みんな|皆|子ども|子供|こども|子|妻|夫|主人|親)"
#: the ways people say it, by kind (each a general form, not one sentence)
_CRISIS_KINDS = {
    "wish_to_die": (
        r"(?:死|し)(?:にたい|にたく|のう|ねば|ねたら|ねる方法|ねるなら|んでしまい|んでしまお|んだほうが|んだ方が|ぬしか|ぬつもり|"
        r"んで償|んでお詫び|んでわび|にます|にそう)|楽に(?:死|しね)|死に(?:方|場所)|逝(?:きたい|こう|く(?:しか|のが))",
        rf"{_ME}が?(?:死|し)(?:んだら|ねば)|(?:死|し)んだら.{{0,12}}(?:ローン|借金|保険|団信).{{0,8}}(?:なくな|消え|払|チャラ|おり|下り)",
        r"自殺|自死|じさつ|命を(?:絶|断)|いのちを(?:絶|断)|命で(?:払|償|詫|返)|首(?:吊|つ)り|首を(?:吊|つ|くく|括)|練炭|自傷|自分を傷つけ|リスカ|リストカット",
    ),
    "disappear": (
        r"(?:消|き)え(?:たい|たく|てしまいたい|ちゃいたい|てなくなりたい|てなくなれ|てしまおう|てしまえ|られたら|れたら|たくなる)",
        r"いなくな(?:りたい|れば|ったほうが|った方が|っても(?:誰|だれ))",
        rf"{_ME}(?:さえ|なんか|なんて)?(?:が)?いな(?:ければ|いほうが|い方が|くなれば)|いない(?:ほう|方)が(?:いい|まし|{_KIN})",
        r"この世|あの世|お迎えが",
        r"(?:今夜|今晩|今日|明日|あした|明朝|もうすぐ|近いうちに)[^。]{0,8}(?:いなくな(?:る|ります|ってる|っている)|(?:もう|この世に)(?:い|居)(?:ない|ません))",
    ),
    "no_worth": (
        r"生き(?:る|て(?:いく|ゆく|いける|る|いる|いて|て)?)(?:の|こと)?(?:が|は|に)?(?:しんどい|つらい|辛い|苦しい|嫌|いや|疲れ)",
        r"生き(?:る|て(?:いる|る|いく|ゆく|いける))(?:意味|理由|自信|気力|希望|価値)|何のために生き|生きる(?:意味|気力|希望)",
        r"生きて(?:いけ|いき|ゆけ)(?:ない|ません)|生きて(?:いて|て)?も(?:仕方|しかた|意味|しょうが)",
        r"生きていたくない|生きたくない|生きられない|生きていられない|生きてい?る(?:の|こと)が(?:つらい|辛い|しんどい|苦しい)|生まれてこなければ|生まれてこなきゃ|生まれてこなかったら|生まれてきたくなかった",
    ),
    "ending": (
        r"(?:もう|全部|ぜんぶ|すべて|全て|何もかも|なにもかも|人生|自分)(?:を|は|も)?"
        r"(?:終わり(?:に|だ|です|かな|にし)|おわり(?:に|だ)|終わらせ|おしまい)",
        rf"{_ME}で(?:終わりに|終わらせ|おしまいに|けりを)|(?<![をがはもでと])(?:終わりに|おしまいに)した(?:い|くて)(?!の)",
        r"^終わりに(?:しよう|します|したい)(?!の)|(?:もう|疲れ|無理|限界|ごめん).{0,12}(?:さよなら|さようなら|お別れ)|(?<![てで])楽になりたい|楽になれる(?:かな|なら)",
    ),
    "burden": (
        r"迷惑を?かける(?:くらい|ぐらい)なら|合わせる顔がない|誰も困らない|いなくても(?:誰|だれ)も|邪魔者",
        rf"{_KIN}の(?:重荷|足手まとい|お荷物)|{_ME}は?(?:重荷|お荷物|足手まとい)|重荷になる(?:だけ|ばかり)",
        # one's own insurance paying the loan (not a late spouse's: 「夫の保険金で完済できました」)
        r"(?<!夫の)(?<!妻の)(?<!父の)(?<!母の)(?<!親の)(?<!主人の)保険金?で.{0,8}(?:返|払|完済)|保険金を?(?:残|遺)|保険金?で(?:[、。…]|$)",
        r"保険金?が(?:入|おり|下り|出)(?:れば|たら).{0,20}(?:解放|楽に|払え|なくな|消え|助か)|これで迷惑を?かけ(?:ずに|なくて)",
    ),
    "no_waking": (
        r"目が覚め(?:なければ|なかったら|ないといい|ないで)|目覚めなければ|朝が(?:来|こ)な(?:ければ|いで|かったら)|"
        r"ずっと眠って(?:いたい|たい)|永遠に眠|眠り続け(?:たい|られたら)|目覚めたくない|"
        r"(?:明日|朝)(?:は|が)?(?:来|こ)なくて(?:いい|いい)",
    ),
    "plan": (
        r"遺書|身辺整理|道連れ|心中|飛び(?:降り|込|おり|こ)|線路|ホームから|橋の上|睡眠薬|"
        r"薬を?(?:たくさん|大量|全部|まとめて|一度に|いっぱい|ため|貯め|集め)|誰にも見つからない(?:ところ|場所)|"
        r"ロープを(?:買|用意|準備)|練炭を|(?:海|川|崖)に(?:飛び|入|沈)|車ごと",
        r"方法.{0,6}(?:死|しね)|(?:死|しね).{0,6}方法",
    ),
}
#: a plan told as an act: affairs put in order, things given away, farewells said, a day set,
#: the means looked at; each form says it of oneself, and a loan, a house or a letter from the
#: bank alone never matches (「最後の支払い」「車はもう売りました」「書類をまとめました」)
_CRISIS_KINDS["plan_as_act"] = (
    # affairs in order: where the bankbook, the seal, the policy are, written down or laid out
    r"(?:通帳|印鑑|はんこ|ハンコ|保険(?:の)?証書|証書|権利証|暗証番号|遺言)[^。]{0,12}"
    r"(?:書き残|書き置|書いて(?:おき|おい|残)|まとめて(?:おき|おい)|出して(?:おき|おい)|机の上に|わかるところに|分かるところに)",
    r"(?:子ども|子供|こども|家族|妻|夫|息子|娘|親|母|父|みんな)[^。]{0,6}(?:に|へ|宛て?)の?手紙を(?:書|残|遺)",
    # giving away what one will not need
    r"(?:私|自分|僕|俺)には(?:もう)?(?:必要(?:ない|なくな)|いらな)|形見|遺品|世話(?:が)?できなくなる"
    r"|(?:貯金|預金|財産|お金)[^。]{0,12}(?:全部|すべて|全て)[^。]{0,12}(?:移し|渡し|譲)",
    # farewells
    r"最後の(?:メッセージ|連絡|挨拶|あいさつ|言葉|日)|最後に(?:誰か|だれか|声を|一言|ひとこと)[^。]{0,6}(?:話|聞|伝)|思い残すこと(?:は|も)?(?:ない|ありません)|悔いは(?:ない|ありません)"
    r"|(?:もう|二度と)会(?:わない|えない)(?:つもり|と決め|でしょう)|(?:お|皆さん|みなさん)元気で(?:[。!…]|$)|元気でいてくれれば",
    r"(?:今まで|これまで|長い間).{0,8}(?:お世話になりました|ありがとう).{0,30}(?:さようなら|さよなら|お別れ)",
    # a day set for it, or oneself ending with the house
    rf"(?:日|とき|時)が(?:来|き)たら.{{0,12}}(?:終わらせ|終わりに|決めた|最後)|決めた(?:とおり|通り)にし|見届け(?:たら|れば|てから)"
    rf"|{_ME}も.{{0,6}}(?:終わりに|終わらせ|おしまいに)",
    # self-blame that pays with oneself
    r"償(?:う|い)(?:方法|ため|しか)|(?:自分|私)で(?:けじめ|始末|責任)を(?:つけ|付け|取)",
    # the means looked at
    r"(?:包丁|刃物|ナイフ)[^。]{0,10}(?:見て|見る|眺め|握)|高い(?:ところ|所|場所)から(?:飛|落ち)"
    r"|(?:電車|線路|踏切|ホーム)[^。]{0,6}(?:見て(?:い|る)|眺め|見つめ)|(?:睡眠)?薬を[^。]{0,10}(?:飲まずに|とって(?:あ|お)|取って(?:あ|お))",
)
_CRISIS_KINDS["death_word"] = (
    # 死 said about oneself: any form, except 死亡 / 死活, figures of speech (removed first),
    # someone else's death (「母が死んで」) and 「死ぬまで(払う)」
    r"(?<![がの])(?<!亡く)(?:死|しぬ|しね|しん(?:だら|で))(?![亡活去因後体別])(?!ぬまで)(?!んでから)(?!んだ(?:後|あと))",
    r"(?:消|き)えれば|(?:消|き)えたら",
)
_CRISIS_KINDS["no_hope"] = (
    r"(?<!特に)希望(?:が|なんて|も|は)?(?:ない|持てない|見えない)|必要とされて(?:い)?ない|どうなっても(?:いい|かまわない)|"
    r"(?:人生|もう).{0,2}(?:詰ん|終わった|おしまい)(?=[、。,!！…]|$|な|よ|ね|し)|諦め(?:ました|た)[。、,].{0,12}(?:ごめん|さよなら|伝えて)|"
    r"今まで(?:ありがとう|お世話に).{0,20}最後|最後に.{0,10}(?:お礼|ありがとう|お別れ)|衰弱して(?:も|いい)|本望",
    r"手首を(?:切|きっ)|屋上に(?:来|い|立)|ビルの上",
)
_CRISIS = re.compile("|".join(p for ps in _CRISIS_KINDS.values() for p in ps))
#: kinds whose words may be about something other than oneself: ending or a last time, a farewell,
#: insurance paying a loan. 「返済はもう終わりにしたい」 ends the loan, 「相談は今日で最後に
#: します」 the consultation, 「死亡保険金でローンを返した人は」 asks about other people: a match
#: of these kinds counts only when its sentence does not give the act such an object (``_OBJECT``)
#: or also speaks of oneself (``_SELF``). The other kinds (死にたい, 消えたい, 遺書 …) always count.
_SOFT_KINDS = ("ending", "burden", "plan_as_act", "no_hope")
_SOFT = re.compile("|".join(p for kind in _SOFT_KINDS for p in _CRISIS_KINDS[kind]))
_HARD = re.compile("|".join(p for kind, ps in _CRISIS_KINDS.items() if kind not in _SOFT_KINDS for p in ps))
#: what ends or is paid is the loan, the sale or this consultation; or the act is someone else's
#: (another person's death, 「…した人はいますか」)
_OBJECT = re.compile(
    r"(?:ローン|返済|支払い?|借金|債務|滞納|督促|残債|相談|やり(?:取|と)り|お話|手続き?|売却|任意売却|競売|取引|契約|"
    r"この家|家の話|今日|今回|本日)(?:は|を|も|の|で(?!す)|とは|とも)"
    r"|(?:売りたい|売ります|売却し|手放し|片付け|完済)"
    r"|(?:た|る|い)(?:人|方|ケース|例)(?:は|も|が|って|っている|っています|いますか)"
    r"|(?:夫|妻|父|母|親|主人|旦那|家族|義父|義母|祖父|祖母|兄|姉|弟|妹)(?:が|の)[^。]{0,10}(?:亡くな|死亡|他界)"
    # a compound of the loan (「ローン生活を」「返済生活は」), a marriage that ends, money that is short
    r"|(?:ローン|返済|借金|滞納)[^、。!?\s]{1,4}?(?:は|を|も|とは)"
    r"|(?:夫|妻|主人|旦那|彼|彼女|元夫|元妻|嫁|あの人)(?:と|とは|との)|夫婦|結婚生活|離婚"
    r"|(?:払え|返せ)(?:ない|ません|なく)|お金が(?:ない|ありません|足りな)"
)
#: ... unless the sentence also speaks of oneself or one's life
_SELF = re.compile(rf"{_ME}(?:も|が|は|の(?:人生|命|最後|保険|生命保険))|人生|命|生き|この世")
_SENTENCE_END = re.compile(r"[。！？!?\n]")


def _sentence_at(text: str, start: int, end: int) -> str:
    """The sentence(s) around ``text[start:end]``."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    left = max([e for e in ends if e <= start], default=0)
    right = min([e for e in ends if e >= end], default=len(text))
    return text[left:right]


def _rules_level(t: str) -> str | None:
    """The rules: ``crisis`` for a hard kind anywhere or a soft kind whose sentence is about
    oneself; ``concern`` for a concern kind (``_CONCERN_KINDS``); else None."""
    if _HARD.search(t):
        return "crisis"
    for m in _SOFT.finditer(t):
        sentence = _sentence_at(t, m.start(), m.end())
        if not _OBJECT.search(sentence) or _SELF.search(sentence):
            return "crisis"
    return "concern" if _CONCERN.search(t) else None


def _rules_say_crisis(t: str) -> bool:
    return _rules_level(t) == "crisis"
#: The concern tier's own rules: words near despair that are no alarm on their own but must
#: never go without care (a gentle line with the hotlines and a person; nobody paged), short
#: ones included, which the classifier does not read. By kind, each said of oneself:
_CONCERN_KINDS = {
    # worn out by everything, not by one day's work (「仕事で疲れました」 is not one)
    "exhausted": (
        r"(?:もう|何もかも|なにもかも|全部|ぜんぶ|すべて|全て|生きる(?:の|こと)?に|人生に|毎日に|ほんとに|本当に)"
        r"[^。]{0,4}(?:疲れ(?:た|ました|ちゃった|てしまった|果て|切っ|きっ)|くたびれ)",
        r"疲れ(?:果て|切っ|きっ)",
    ),
    # cannot go on
    "cannot_go_on": (
        r"(?:がんばれ|頑張れ|耐えられ|持たな|もたな|続けられ)(?:ない|ません|そうにない)(?!か[?？]?$)"
        r"|(?:もう|ほんとに|本当に)[^。]{0,3}(?:限界|だめ|ダメ|駄目|無理|しんどい|つらい|辛い|きつい|耐えられ)"
        r"(?!(?:です|でしょう)?(?:よね|か)|(?:なので|なら|だから|だし|ですので))",
        r"^(?:もう)?(?:限界|しんどい|つらい|辛い|苦しい|たすけて|助けて)(?:です|だ|[。…!.]|$)",
        r"息を?する(?:の|こと)(?:も|が)(?:つら|辛|苦し|しんど)|(?:ベッド|布団|ふとん)から(?:出られ|起き(?:られ|上がれ))(?:ない|ません)"
        r"|いっそ(?:[、,…。]|って|のこと|…)",
    ),
    # a burden, worthless, ashamed
    "burden": (
        r"迷惑(?:を|ばかり|ばっかり)?(?:かけ|掛け)(?:る|て(?:きた|いる|る))?(?:だけ|ばかり|ばっかり)|お荷物|足手まとい|重荷",
        r"(?:自分|私|俺|僕|わたし)(?:に|なんか|なんて)?(?:は)?(?:価値|意味)(?:が|なんて|も)?(?:ない|ありません)|情けない(?:父親|母親|親|夫|妻|人間)"
        r"|(?:いて|生きてて|生きていて)(?:すみません|ごめん|申し訳)|(?:いない|いなくなった)(?:ほう|方)が",
    ),
    # sorry to the family, said as a last word
    "sorry": (
        r"(?:家族|妻|夫|子ども|子供|こども|息子|娘|みんな|お母さん|お父さん|父さん|母さん)(?:へ|に|には)?[^。]{0,8}"
        r"(?:ごめん|申し訳ない|申し訳ありません|すまない|許して)[^。、]{0,4}(?:[。…!]|$)",
        r"^(?:ごめんなさい|ごめんね|ごめん)[。、…!]*$",
    ),
    # no future, nothing left, numb
    "no_future": (
        r"(?:未来|将来|この先|明日|来年|これから)(?:の自分)?(?:が|は|に|なんて|も)?[^。]{0,6}(?:真っ暗|想像(?:でき|も)|何もない|なにもない|いいことなんて)"
        r"|(?:来年|明日|将来)の(?:自分|私)|(?:未来|将来)(?:が|は|も)?(?:見えない|見えません|ない)|^[^。]{0,6}真っ暗(?:です|だ|。|…|$)",
        r"何も(?:残(?:ら|って)|感じ)(?:ない|ません|なくな)|どうでも(?:いい|よく)(?:です|。|…|$|な)|(?<!特に)(?:希望|望み)(?:が|は|も)?(?:ない|ありません|持てない)",
    ),
    # leaving, a farewell, things given away
    "farewell": (
        r"さよう?なら|これでお別れ|お別れ(?:を言|の(?:挨拶|あいさつ|言葉))|もう(?:連絡|会|話)(?:する|う|す)?(?:こと)?(?:は)?(?:ない|ありません)|探さないで|もう戻(?:らない|りません)",
        r"(?:あげ|譲|渡し)(?:た|ました|てきた)[^。]{0,12}(?:もう)?(?:使わない|いらない|要らない|必要(?:ない|なくな))",
        r"(?:あと|後)(?:のこと)?は(?:頼(?:みます|む|んだ)|たの(?:みます|む)|よろしく頼)|(?:あと|後)は(?:決める|実行する|やる)だけ",
    ),
}
_CONCERN = re.compile("|".join(p for ps in _CONCERN_KINDS.values() for p in ps))


#: figures of speech with 死: an intensifier, not a wish (decided: not a crisis)
_FIGURE = re.compile(r"死ぬ(?:ほど|かと|気で|ほどの|くらい|ぐらい|思い)|死んだ(?:よう|みたい)に|死活|必死|決死")

_ANGER = re.compile(
    r"ふざけ|役に立たない|役立たず|使えない(?:な|ね|ボット|bot|$)|ばか|バカ|馬鹿|あほ|アホ|いい加減に|うるさい|うざい|ウザい|"
    r"むかつく|ムカつく|腹が立つ|腹立つ|頭にくる|頭に来る|しつこい|同じこと(?:ばかり|ばっかり)|何もわかって(?:い)?ない|"
    r"金儲け|詐欺だ|詐欺じゃ|詐欺でしょ|詐欺だろ|話にならない|最低だ|最低な|^最低$|なめて(?:る|ん)|舐め|^くそ|くそ(?:が|ボット|野郎|[!！]|$)|クソ|黙れ|だまれ|"
    r"馬鹿にして|ばかにして|いらいら|イライラ|怒ってる|怒ります"
)
_OFFTOPIC = re.compile(
    r"天気|ラーメン|野球|サッカー|しりとり|好きな(?:食べ物|色|動物|映画|歌)|あなたは(?:ai|ロボット|人間|誰|だれ|何)|"
    r"aiですか|ロボットですか|人間ですか|おすすめの(?:店|映画|本|ラーメン)|レシピ|占い|恋愛|ゲーム|歌って|冗談|ジョーク|"
    r"暇|ひま(?:だ|です)|競馬|宝くじ"
)


#: small hiragana vowels written for effect (「死にたぃ」「つらぁい」) read as the full ones
_SMALL_VOWELS = str.maketrans("ぁぃぅぇぉ", "あいうえお")
_KATAKANA = re.compile(r"[ァ-ヶー]+")
#: stems of the direct words: a katakana run that contains one of them once read in hiragana
#: (「シニタイ」「キエタイ」「ジサツ」) is written in hiragana, which the rules read; other
#: katakana words stay as they are (「シネマ」, 「ローン」)
_KANA_STEMS = re.compile(r"しにた|しにて|しのう|きえた|きえて|じさつ|いなくなりた")
#: 死 typed another way: net slang (タヒ), a digit (4にたい), an IME slip (氏にたい, 市にたい)
_DEATH_SPELLINGS = re.compile(
    r"(?:タヒ|ﾀﾋ)(?=[にぬねのん])|(?:氏|市|師|詩|4)(?=に(?:たい(?![しすさせ])|たく|て[ぇえー〜~]))")
#: the spoken 「〜てえ」 form of 〜たい (「死にてー」「消えてぇ」)
_SPOKEN_TAI = re.compile(r"((?:死|(?<![ぁ-ん])し)に|(?:消|(?<![ぁ-ん])き)え)て[ぇえー〜~]+")
#: the direct words typed in romaji
_ROMAJI = {"shinitai": "死にたい", "sinitai": "死にたい", "shinitaku": "死にたく", "shinou": "死のう",
           "kietai": "消えたい", "kietaku": "消えたく", "jisatsu": "自殺", "jisatu": "自殺", "zisatu": "自殺"}
_ROMAJI_WORD = re.compile("|".join(sorted(_ROMAJI, key=len, reverse=True)))


def _hiragana(run: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in run)


def _kana_word(m: re.Match[str]) -> str:
    soft = _hiragana(m.group())
    return soft if _KANA_STEMS.search(soft) else m.group()


def _plain(text: str) -> str:
    """NFKC, lower case, and the direct words in one spelling whatever the script or typo
    (katakana, small vowels, net slang, a digit or an IME slip for 死, the spoken form, romaji)."""
    t = unicodedata.normalize("NFKC", text or "").strip().lower().translate(_SMALL_VOWELS)
    t = _KATAKANA.sub(_kana_word, t)
    t = _DEATH_SPELLINGS.sub("死", t)
    t = _SPOKEN_TAI.sub(r"\1たい", t)
    return _ROMAJI_WORD.sub(lambda m: _ROMAJI[m.group()], t)


def _without_figures(text: str) -> str:
    return _FIGURE.sub("", _plain(text))


def level(text: str) -> str | None:
    """``crisis`` (words of despair or self-harm, direct or indirect: the rules, then the
    classifier at its threshold), ``concern`` (not a crisis, but the classifier's P(crisis)
    is at least ``CONCERN_THRESHOLD``: a gentle word with the hotlines, not an alarm) or
    None. The classifier runs once."""
    t = _without_figures(text)
    if not t:
        return None
    near = _rules_level(t)
    if near == "crisis":
        return "crisis"
    if len(t) < MIN_CLASSIFIER_CHARS:
        return near
    classifier = crisis_classifier()
    if classifier is None:  # not trained (yet): the rules alone
        return near
    try:
        p = classifier.probability(t)
    except Exception:
        logger.exception("care: the crisis classifier failed; the rules alone decide")
        return near
    if p >= classifier.threshold:
        return "concern" if told_as_news(t) and near is None else "crisis"
    return "concern" if p >= CONCERN_THRESHOLD else near


#: Hard news that is not despair, by kind: what the words of ending, vanishing or a last time
#: are about is named, and it is not the writer (「家が消えるなんて」「最後の面談」「消えた書類」
#: 「ローンが終わる」), an errand, relief told in the past, a new life planned. The classifier
#: reads these words as despair (P 0.7–0.85 on sets 7–10); an alarm from the classifier ALONE
#: on such a message gives the concern tier instead (care shown, nobody paged) unless the
#: message also speaks of the writer, of life or death (``_WRITER``) or the concern rules match.
_NEWS_KINDS = {
    "named_vanishes": (
        r"(?:書類|メッセージ|請求書|通知|手紙|通帳|お金|貯金|預金|給料|給与|ボーナス|退職金|残高|データ|写真|財布|カード|"
        r"家(?!族)|自宅|マイホーム|家財|収入|資料|封筒|メール|控え|領収書|明細|証明書|契約書|権利証)[^。、]{0,6}(?:消え|なくな)",
        r"(?:消え|なくなっ)(?:た|てしまった|ちゃった)(?:と思っ(?:た|ていた|てた))?(?:[^。、]{0,3})"
        r"(?:書類|メッセージ|請求書|通知|手紙|通帳|お金|データ|写真|財布|カード|資料|封筒|メール|控え|領収書|明細|証明書|契約書|権利証)",
    ),
    "named_ends": (
        r"(?:ローン|返済|支払い?|手続き?|話し合い|面談|相談|売却|競売|契約|取引|審査|引き渡し|引渡し)"
        r"(?:の手続き)?(?:が|は|も|を)?[^。、]{0,6}(?:終わ|済ん|済ま|終え)",
    ),
    "named_last": (
        r"最後の(?:支払い?|入金|返済|振込|引き落とし|面談|話し合い|相談|打ち合わせ|チャンス|手続き|審査|回|月|ボーナス|説明)"
        r"|最後に(?:入金|返済|払|支払|振り?込)",
    ),
    "errand": (
        r"(?:銀行|役所|市役所|区役所|裁判所|法務局|税務署|会社|職場|不動産屋|不動産会社|保証会社|面談|相談|話し合い|説明会)"
        r"(?:に|へ)(?:行|出かけ|伺)",
    ),
    "relief": (
        r"(?:楽に|軽く)なりました|安心しました|ほっとしました|(?:相談|話)して(?:よかった|良かった)|希望が見え",
    ),
    "house_lost": (
        r"(?:家|自宅|マイホーム)(?:を|が|は|も)?(?:出て|出な|手放|失|取られ|明け渡|人手に)|出て(?:行|い)く(?:こと|なんて|の)|住めなく|立ち退",
    ),
    "new_life": (r"新しい生活|一から(?:やり直|出直)|引っ越|引越|実家に(?:帰|戻)",),
    # the sale itself (「いっそ売ってしまいたい」: P 0.85 from the classifier alone)
    "sale": (r"売(?:って|り(?:たい|ます|に)|る(?:しか|こと|の)|却|れ(?:る|ば|ない))|任売",),
    # a polite greeting or introduction, the way older people write
    # (「このたびはお世話になります。近所の方から…伺いました」: P 0.83 from the classifier alone)
    "greeting": (
        r"お世話になります|お世話になっております|はじめまして|初めまして|失礼いたします|よろしくお願い(?:いた)?します"
        r"|(?:紹介|すすめ|勧め)(?:で|られ|を受け)|(?:伺|うかが|聞き)(?:いました|まして)|(?:知り|拝見し)ました",
    ),
}
_NEWS = re.compile("|".join(p for ps in _NEWS_KINDS.values() for p in ps))
#: ... unless the message speaks of the writer, a life or a death (死ぬまで / 死亡 are not)
_WRITER = re.compile(rf"{_ME}|わし|うち(?:が|は|なんか)|命|この世|あの世|(?:死|しぬ|しね)(?!ぬまで)(?![亡活去因後体別])")


def told_as_news(t: str) -> bool:
    """Hard news, not despair (``_NEWS_KINDS``), and nothing about the writer (``_WRITER``)."""
    return bool(_NEWS.search(t)) and not _WRITER.search(t)


def is_crisis(text: str) -> bool:
    return level(text) == "crisis"


def is_concern(text: str) -> bool:
    """Near a crisis but below the alarm (see :func:`level`)."""
    return level(text) == "concern"


def is_offtopic(text: str) -> bool:
    """Small talk or another subject (天気, ラーメン, 「AIですか」): the off-topic words."""
    return bool(_OFFTOPIC.search(_plain(text)))


def classify(text: str) -> str | None:
    """``crisis``, ``anger``, ``offtopic`` or None."""
    t = _plain(text)
    if not t:
        return None
    if is_crisis(t):
        return "crisis"
    return mood(t)


def _word_mood(t: str) -> str | None:
    if _ANGER.search(t):
        return "anger"
    return "offtopic" if _OFFTOPIC.search(t) else None


#: The bar for the mood to win over an FAQ answer the message also got (``mood(text, sure=True)``):
#: on the FAQ held-out questions (sets 1-6 and the dev set, 758) the classifier gives at most
#: 0.54 (「リースバックって詐欺じゃないの?」), and the words alone misread 「…うるさいって聞きました」;
#: insults read as a question (「お前に何がわかる」「バカにしてるの?」) get 0.8-0.93.
MOOD_OVER_FAQ = 0.7


def mood(text: str, sure: bool = False) -> str | None:
    """``anger``, ``offtopic`` or None: :func:`classify` for a text already read as no crisis
    (the dialog asks :func:`is_crisis` first; the classifier is not run twice on one message).
    ``sure``: the classifier alone, at ``MOOD_OVER_FAQ`` (the message was also read as a question)."""
    t = _plain(text)
    if not sure and (word_mood := _word_mood(t)):
        return word_mood
    classifier = mood_classifier()
    if classifier is None or not t:
        return None
    try:
        return classifier.mood(t, MOOD_OVER_FAQ if sure else None)
    except Exception:
        logger.exception("care: the mood classifier failed; the words alone decide")
        return None


# ---------------------------------------------------------------------------
# The classifier (second layer)
# ---------------------------------------------------------------------------


@dataclass
class CareExamples:
    """Training messages: ``crisis`` (positives), ``not_crisis`` (decoys, anger,
    off-topic) and ``ordinary`` (homeowners' usual messages and FAQ questions)."""

    crisis: list[str]
    not_crisis: list[str]
    ordinary: list[str]
    #: the mood classifier's own examples (insults and anger; small talk and other subjects)
    anger: list[str] = field(default_factory=list)
    offtopic: list[str] = field(default_factory=list)

    def mood_texts_and_labels(self) -> tuple[list[str], list[str]]:
        """anger, offtopic, and ``other``: the ordinary messages, the words of despair and the
        near misses (those the anger / off-topic words match join their kind)."""
        near = [_word_mood(_plain(t)) or "other" for t in self.not_crisis]
        other = [*self.ordinary, *self.crisis]
        return ([*self.anger, *self.offtopic, *self.not_crisis, *other],
                ["anger"] * len(self.anger) + ["offtopic"] * len(self.offtopic) + near + ["other"] * len(other))

    def texts_and_labels(self) -> tuple[list[str], list[int]]:
        texts = [*self.crisis, *self.not_crisis, *self.ordinary]
        return texts, [1] * len(self.crisis) + [0] * (len(self.not_crisis) + len(self.ordinary))


def _strings(items: Iterable[Any] | None) -> list[str]:
    return [t for t in items or [] if isinstance(t, str) and t.strip()]


def examples_from(care: dict[str, Any], more_ordinary: Iterable[str] = ()) -> CareExamples:
    return CareExamples(
        crisis=_strings(care.get("crisis")),
        not_crisis=_strings(care.get("not_crisis")),
        ordinary=[*_strings(care.get("ordinary")), *_strings(more_ordinary)],
        anger=_strings(care.get("anger")),
        offtopic=_strings(care.get("offtopic")),
    )


def load_examples(path: pathlib.Path = CARE_PATH) -> CareExamples:
    """content/care.yaml, plus every FAQ question and example as an ordinary message."""
    from dialogs.faq_classifier import load_examples as faq_examples

    care = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return examples_from(care, [text for text, _ in faq_examples()])


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from dialogs.faq_classifier import features

    # character 1–3-grams and SudachiPy's normalized words, as the FAQ classifier: in 5-fold
    # cross-validation of the examples (180 crisis, 198 near misses, 852 ordinary) 101 crisis
    # out of fold at the alarm against 94 for the character n-grams alone, near misses 8 vs 9
    return make_pipeline(
        TfidfVectorizer(analyzer=features, sublinear_tf=True),
        LogisticRegression(C=4, class_weight="balanced", max_iter=3000),
    )


@dataclass
class CareClassifier:
    """A fitted pipeline; ``probability`` is the chance a (normalised) text is a crisis."""

    pipeline: Any
    threshold: float = THRESHOLD

    def __post_init__(self) -> None:
        from dialogs.faq_classifier import LinearText

        self.linear = LinearText(self.pipeline)

    @classmethod
    def train(cls, examples: CareExamples, threshold: float = THRESHOLD) -> CareClassifier:
        from threadpoolctl import threadpool_limits

        texts, labels = examples.texts_and_labels()
        if not examples.crisis or len(set(labels)) < 2:
            raise ValueError("care: need crisis and non-crisis examples")
        pipeline = _pipeline()
        with threadpool_limits(1):  # see dialogs.faq_classifier: more BLAS threads cost 10x the CPU
            pipeline.fit([_without_figures(t) for t in texts], labels)
        return cls(pipeline, threshold)

    def probability(self, text: str) -> float:
        """P(crisis) of an already normalised text (``_without_figures``)."""
        return self.linear.probabilities(text[:MAX_CLASSIFIER_CHARS])[1]


@dataclass
class CrossValidation:
    """Out-of-fold P(crisis) of every training example, by group."""

    crisis: list[float]
    not_crisis: list[float]
    ordinary: list[float]

    def at(self, threshold: float) -> dict[str, int]:
        """How many of each group the classifier alone flags at ``threshold``."""
        return {
            group: sum(p >= threshold for p in getattr(self, group))
            for group in ("crisis", "not_crisis", "ordinary")
        }


def cross_validate(examples: CareExamples, folds: int = 5) -> CrossValidation:
    """Stratified ``folds``-fold cross-validation (fixed shuffle: reproducible); a message
    shorter than ``MIN_CLASSIFIER_CHARS`` counts as P = 0, as ``is_crisis`` never asks."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    texts, labels = examples.texts_and_labels()
    plain = [_without_figures(t) for t in texts]
    with threadpool_limits(1):
        probs = cross_val_predict(
            _pipeline(), plain, labels, cv=StratifiedKFold(folds, shuffle=True, random_state=0), method="predict_proba",
        )[:, 1]
    probs[[len(t) < MIN_CLASSIFIER_CHARS for t in plain]] = 0.0  # never read by the classifier
    a, b = len(examples.crisis), len(examples.crisis) + len(examples.not_crisis)
    return CrossValidation(list(map(float, probs[:a])), list(map(float, probs[a:b])), list(map(float, probs[b:])))


#: ... and at most this share of the near misses (money despair, anger, figures of speech):
#: each false alarm pages the staff at night
NEAR_MISS_MAX = 0.05


def choose_threshold(cv: CrossValidation, step: float = 0.05) -> float:
    """The lowest threshold (on a ``step`` grid) at which no ordinary message and at most
    ``NEAR_MISS_MAX`` of the near misses are flagged."""
    steps = round(1 / step)
    for i in range(1, steps + 1):
        threshold = round(i * step, 2)
        counts = cv.at(threshold)
        if counts["ordinary"] == 0 and counts["not_crisis"] <= NEAR_MISS_MAX * len(cv.not_crisis):
            return threshold
    return 1.0


#: The concern tier's rule: at most this share of the ordinary messages (cross-validated)
#: get the gentle line (it pages nobody, but an ordinary question should rarely get hotlines)
CONCERN_ORDINARY_MAX = 0.01


def choose_concern_threshold(cv: CrossValidation, step: float = 0.05) -> float:
    """The lowest threshold (on a ``step`` grid) at which at most ``CONCERN_ORDINARY_MAX`` of
    the ordinary messages are flagged."""
    steps = round(1 / step)
    for i in range(1, steps + 1):
        threshold = round(i * step, 2)
        if cv.at(threshold)["ordinary"] <= CONCERN_ORDINARY_MAX * len(cv.ordinary):
            return threshold
    return 1.0


#: The mood classifier says anger or off-topic when P(other) is at most 1 - this: the lowest
#: (on a 0.05 grid) at which cross-validation flags at most ``MOOD_OTHER_MAX`` of the ordinary
#: messages and words of despair (``choose_mood_threshold``; a test keeps them equal).
MOOD_THRESHOLD = 0.4
MOOD_OTHER_MAX = 0.01


@dataclass
class MoodClassifier:
    """Anger or off-topic for a message the words of ``_ANGER`` / ``_OFFTOPIC`` miss
    (「ポンコツ」, 「株ってどれ買えばいい?」): the same features as the crisis classifier, three
    classes (anger, offtopic, other). The dialog asks it only for a message that is no crisis
    and that it did not otherwise understand, so a wrong guess costs one calm line."""

    pipeline: Any
    threshold: float = MOOD_THRESHOLD

    def __post_init__(self) -> None:
        from dialogs.faq_classifier import LinearText

        self.linear = LinearText(self.pipeline)

    @classmethod
    def train(cls, examples: CareExamples, threshold: float = MOOD_THRESHOLD) -> MoodClassifier:
        from threadpoolctl import threadpool_limits

        texts, labels = examples.mood_texts_and_labels()
        if not examples.anger or not examples.offtopic:
            raise ValueError("care: need anger and offtopic examples")
        pipeline = _pipeline()
        with threadpool_limits(1):
            pipeline.fit([_plain(t) for t in texts], labels)
        return cls(pipeline, threshold)

    def mood(self, text: str, threshold: float | None = None) -> str | None:
        """``anger`` or ``offtopic`` (the likelier) when P(other) <= 1 - threshold, else None."""
        probs = dict(zip(self.linear.classes, self.linear.probabilities(text[:MAX_CLASSIFIER_CHARS]), strict=True))
        if 1 - probs["other"] < (self.threshold if threshold is None else threshold):
            return None
        return "anger" if probs["anger"] >= probs["offtopic"] else "offtopic"


def cross_validate_mood(examples: CareExamples, folds: int = 5) -> tuple[list[str], list[float]]:
    """Out-of-fold 1 - P(other) of every mood example, with its label."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    texts, labels = examples.mood_texts_and_labels()
    with threadpool_limits(1):
        probs = cross_val_predict(_pipeline(), [_plain(t) for t in texts], labels,
                                  cv=StratifiedKFold(folds, shuffle=True, random_state=0), method="predict_proba")
    other = sorted(set(labels)).index("other")
    return labels, [float(1 - p[other]) for p in probs]


def choose_mood_threshold(labels: list[str], scores: list[float], step: float = 0.05) -> float:
    """The lowest threshold (on a ``step`` grid) at which at most ``MOOD_OTHER_MAX`` of the
    ``other`` messages are flagged."""
    others = [score for label, score in zip(labels, scores, strict=True) if label == "other"]
    for i in range(1, round(1 / step) + 1):
        threshold = round(i * step, 2)
        if sum(s >= threshold for s in others) <= MOOD_OTHER_MAX * len(others):
            return threshold
    return 1.0


_classifier: CareClassifier | None = None
_mood: MoodClassifier | None = None
_classifier_failed = False
_training_in_background = False


def crisis_classifier() -> CareClassifier | None:
    """The classifier, trained on first use unless ``warm_up`` is training it (None meanwhile)."""
    if _classifier is None and not _classifier_failed and not _training_in_background:
        train_classifier()
    return _classifier


def mood_classifier() -> MoodClassifier | None:
    """The mood classifier, trained with the crisis classifier (None meanwhile or if it failed)."""
    crisis_classifier()
    return _mood


def train_in_background() -> None:
    """Called by ``dialogs.understanding.warm_up`` before its thread runs ``train_classifier``:
    meanwhile ``is_crisis`` uses the rules alone instead of training on the caller's time."""
    global _training_in_background
    if _classifier is None and not _classifier_failed:
        _training_in_background = True


def train_classifier() -> None:
    global _classifier, _classifier_failed, _training_in_background, _mood
    try:
        if _classifier is None and not _classifier_failed:
            examples = load_examples()
            classifier, mood = CareClassifier.train(examples), None
            try:
                mood = MoodClassifier.train(examples)
            except Exception:
                logger.exception("care: the mood classifier could not be trained; the words alone decide")
            _classifier, _mood = classifier, mood
    except Exception:
        _classifier_failed = True
        logger.exception("care: the crisis classifier could not be trained; the rules alone decide")
    finally:
        _training_in_background = False
