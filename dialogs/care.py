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
"""
from __future__ import annotations

import re
import unicodedata

_ME = r"(?:私|わたし|あたし|自分|じぶん|俺|おれ|僕|ぼく)"
_KIN = r"(?:家族|みんな|皆|子ども|子供|こども|子|妻|夫|主人|親)"
#: the ways people say it, by kind (each a general form, not one sentence)
_CRISIS_KINDS = {
    "wish_to_die": (
        r"(?:死|し)(?:にたい|にたく|のう|ねば|ねたら|ねる方法|ねるなら|んでしまい|んでしまお|んだほうが|んだ方が|ぬしか|ぬつもり|"
        r"んで償|んでお詫び|んでわび|にます|にそう)|楽に(?:死|しね)|死に(?:方|場所)|逝(?:きたい|こう|く(?:しか|のが))",
        rf"{_ME}が?(?:死|し)(?:んだら|ねば)|(?:死|し)んだら.{{0,12}}(?:ローン|借金|保険|団信).{{0,8}}(?:なくな|消え|払|チャラ|おり|下り)",
        r"自殺|自死|じさつ|命を(?:絶|断)|いのちを(?:絶|断)|命で(?:払|償|詫|返)|首(?:吊|つ)り|首を(?:吊|つ)|練炭|自傷|自分を傷つけ|リスカ|リストカット",
    ),
    "disappear": (
        r"(?:消|き)え(?:たい|たく|てしまいたい|ちゃいたい|てなくなりたい|てなくなれ|てしまおう|てしまえ|られたら|れたら|たくなる)",
        r"いなくな(?:りたい|れば|ったほうが|った方が|っても(?:誰|だれ))",
        rf"{_ME}(?:さえ|なんか|なんて)?(?:が)?いな(?:ければ|いほうが|い方が|くなれば)|いない(?:ほう|方)が(?:いい|まし|{_KIN})",
        r"この世|あの世|お迎えが",
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
        r"^終わりに(?:しよう|します|したい)(?!の)|(?:もう|疲れ|無理|限界|ごめん).{0,12}(?:さよなら|さようなら|お別れ)|(?<![てで])楽になりたい|楽になれる(?:かな|なら)",
    ),
    "burden": (
        r"迷惑を?かける(?:くらい|ぐらい)なら|合わせる顔がない|誰も困らない|いなくても(?:誰|だれ)も|邪魔者",
        rf"{_KIN}の(?:重荷|足手まとい|お荷物)|{_ME}は?(?:重荷|お荷物|足手まとい)|重荷になる(?:だけ|ばかり)",
        r"保険金?で.{0,8}(?:返|払|完済)|保険金を?(?:残|遺)|保険金?で(?:[、。…]|$)",
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
_CRISIS_KINDS["death_word"] = (
    # 死 said about oneself: any form, except 死亡 / 死活, figures of speech (removed first),
    # someone else's death (「母が死んで」) and 「死ぬまで(払う)」
    r"(?<![がの])(?<!亡く)(?:死|しぬ|しね|しん(?:だら|で))(?![亡活去因後体])(?!ぬまで)(?!んでから)(?!んだ(?:後|あと))",
    r"(?:消|き)えれば|(?:消|き)えたら",
)
_CRISIS_KINDS["no_hope"] = (
    r"希望(?:が|なんて|も|は)?(?:ない|持てない|見えない)|必要とされて(?:い)?ない|どうなっても(?:いい|かまわない)|"
    r"(?:人生|もう).{0,2}(?:詰ん|終わった|おしまい)(?=[、。,!！…]|$|な|よ|ね|し)|諦め(?:ました|た)[。、,].{0,12}(?:ごめん|さよなら|伝えて)|"
    r"今まで(?:ありがとう|お世話に).{0,20}最後|最後に.{0,10}(?:お礼|ありがとう|お別れ)|衰弱して(?:も|いい)|本望",
    r"手首を(?:切|きっ)|屋上に(?:来|い|立)|ビルの上",
)
_CRISIS = re.compile("|".join(p for ps in _CRISIS_KINDS.values() for p in ps))
#: figures of speech with 死: an intensifier, not a wish (decided: not a crisis)
_FIGURE = re.compile(r"死ぬ(?:ほど|かと|気で|ほどの|くらい|ぐらい|思い)|死活|必死|決死")

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


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().lower()


def is_crisis(text: str) -> bool:
    """Words of despair or self-harm, direct or indirect."""
    t = _plain(text)
    if not t:
        return False
    return bool(_CRISIS.search(_FIGURE.sub("", t)))


def classify(text: str) -> str | None:
    """``crisis``, ``anger``, ``offtopic`` or None."""
    t = _plain(text)
    if not t:
        return None
    if is_crisis(t):
        return "crisis"
    if _ANGER.search(t):
        return "anger"
    if _OFFTOPIC.search(t):
        return "offtopic"
    return None
