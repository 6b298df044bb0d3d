"""Reading a reply in the context of the question just asked, and contact details in a sentence.

``understand()`` (dialogs/understanding/) reads what a message says about the case
wherever it comes; this module reads what a short reply means *as an answer*: 「いません」
to 「連帯保証人はいますか」 is "no", 「まだです」 to 「手紙は届きましたか」 is "none yet",
「どっちでもいい」 to 「どうしたいですか」 is "no preference". Pure functions, no I/O.

* :func:`polarity` → ``"yes" | "no" | "no_preference" | "dont_know" | None``, in any
  politeness (「いない」「いません」「いないです」「いませんね」), script (居ない/いない,
  無い/ない, 分からない/わからない) and with asides removed (:func:`strip_asides`:
  brackets, 「前にも言いましたが」).
* The dialog's own words per question (``QUESTION_WORDS``, ``POLARITY_ANSWERS``), consent,
  restart and greeting words (``CONSENT_YES``, ``RESTART``, ``GREETING`` ...).
* :func:`find_phone` (digits only, +81 → 0; full-width digits, 漢数字, hyphens of every
  kind, words or spaces between the groups), :func:`find_email` (lower-case; the @
  spelled 「アットマーク」), :func:`find_name` (the name inside a sentence, never the
  sentence), :func:`find_time` (a time slot: morning / afternoon / evening / any).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from dialogs import analyser
from dialogs.understanding.normalize import ME, SPOKEN_NO, english_words

POLARITIES = ("yes", "no", "no_preference", "dont_know")
#: question → {polarity (``polarity``) → answer}: what a bare yes / no / "either" means there
POLARITY_ANSWERS: dict[str, dict[str, Any]] = {
    "arrears": {"no": 0},  # 「遅れていますか」「してないです」
    "notice": {"no": "none"},  # 「届きましたか」「まだです」
    "guarantor": {"yes": True, "no": False},
    "divorce": {"no": "none"},
    "stay": {"no_preference": None},
}

_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九零", "01234567890")
_DASHES = re.compile(r"[‐‑‒–—―−ーｰ~〜～]")
_SCRIPT = (  # kanji spellings of the words matched below → the usual kana
    ("居", "い"), ("無", "な"), ("分か", "わか"), ("解か", "わか"), ("判ら", "わから"), ("有り", "あり"),
    ("在り", "あり"), ("来て", "きて"), ("届いて", "とどいて"), ("御座", "ござ"), ("未だ", "まだ"), ("既に", "すでに"),
    ("判り", "わかり"), ("分り", "わかり"), ("知ら", "しら"), ("結構", "けっこう"), ("違", "ちが"), ("大丈夫", "だいじょうぶ"),
)

#: brackets and "as I said" remarks: not part of the answer
_ASIDES = re.compile(
    r"[（(【\[][^（(【\[）)】\]]*[）)】\]]"  # innermost pair: an opening bracket stops the scan (linear)
    r"|(?:前|まえ|さっき|先ほど|先程|最初|はじめ)に?も?(?:言|い|書|か|伝え|つたえ|答え|こたえ)"
    r"(?:いました|いましたけど|いましたが|った|ったけど|ったけれど|ったが|ました|ましたが|ましたけど|いた|いたけど|きました|きましたが|いたが)"
    r"(?:けど|けれど|が)?[、,]?"
    r"|繰り返しになりますが[、,]?|くりかえしですが[、,]?"
)
_TRAILING = re.compile(r"[\s。．.!！?？、,…〜ー~wｗ笑]+$")
_ENDING_PARTICLES = re.compile(r"(?:ね|よ|よね|な|わ|かな|けど|けれど|です|でーす|っす|さ|ねえ|ねー)+$")

_DONT_KNOW = re.compile(
    r"わから|わかりません|わかんない|しらない|しりません|しらん|不明|覚えて(?:い)?ない|おぼえて(?:い)?ない|"
    r"覚えていません|おぼえてません|忘れ|わすれ|確認(?:中|します|してみ)|見てみないと|はっきりしない"
)
_NO_PREFERENCE = re.compile(
    r"どっちでも|どちらでも|どれでも|こだわらない|こだわりは?ない|決めて(?:い)?ない|決めて(?:い)?ません|きめて(?:い)?ない|"
    r"決まって(?:い)?ない|決まって(?:い)?ません|迷って|まよって|考え中|かんがえ中|検討中|未定|なんとも言えない"
)
_NO = re.compile(
    r"^(?:いいえ|いえ|いや|ううん|うーん、?ない|ノー|no\b|ちがう|ちがいます|なし|ない|ないです|ありません|いない|いません|"
    r"まだ|まだです|まだまだ|ぜんぜん|全然|特に(?:ない|なし|ありません)|とくに(?:ない|なし|ありません)|なにも|何も|してない|してません|"
    r"していない|していません|しておりません|おりません|ございません|べつに|別に)"
    r"|(?:ない|ません|なし|なかった|なかったです|ないです|いない|いません|しない|しません|ません|てない|てません|ておりません|"
    r"ございません|なかったと思います|ないと思います|ないはず|ないかと)$",
    re.I,
)
_YES = re.compile(
    r"^(?:はい|ええ|うん|そう|そうです|そうですね|その通り|そのとおり|イエス|yes\b|ok\b|オーケー|おっけー|いる|います|いるよ|"
    r"あり|あります|ある|した|しました|してます|しています|きました|とどきました|届きました|お願い|おねがい|同意|どうい|"
    r"いいよ|いいです|だいじょうぶ|もちろん)"
    r"|(?:います|いる|あります|ある|ました|てます|ています|ております|そうです|はい|お願いします|おねがいします|ございます)$",
    re.I,
)


_SPOKEN_NO = re.compile(SPOKEN_NO)


#: a short reply written all in katakana (「トクソク」「タンドク」「ナイ」): read as hiragana
_ALL_KATAKANA = re.compile(r"[ァ-ヶー]{2,16}[。、!！?？\s]*")
_KATAKANA_TO_HIRAGANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}


def _plain(text: str) -> str:
    t = english_words(unicodedata.normalize("NFKC", text or "").strip()).lower()
    if _ALL_KATAKANA.fullmatch(t):
        t = t.translate(_KATAKANA_TO_HIRAGANA)
    for a, b in _SCRIPT:
        t = t.replace(a, b)
    return _SPOKEN_NO.sub("いない", t)


def strip_asides(text: str) -> str:
    """The reply without bracketed asides and 「前にも言いましたが」-like remarks."""
    return _ASIDES.sub("", text).strip()


def core(text: str) -> str:
    """Normalised (NFKC, usual script), asides and closing particles/punctuation removed."""
    t = strip_asides(_plain(text))
    for _ in range(3):
        t = _TRAILING.sub("", t)
        t2 = _ENDING_PARTICLES.sub("", t)
        if t2 == t or not t2:
            break
        t = t2
    return t


def polarity(text: str) -> str | None:
    """What a short reply says to a yes/no question: yes, no, no_preference, dont_know or None."""
    t = core(text)
    if not t or len(t) > 40:
        return None
    if _DONT_KNOW.search(t):
        return "dont_know"
    if _NO_PREFERENCE.search(t):
        return "no_preference"
    if _NO.search(t):
        return "no"
    if _YES.search(t):
        return "yes"
    return None


# ---------------------------------------------------------------------------
# Contact details
# ---------------------------------------------------------------------------

_AT = re.compile(r"\s*(?:アットマーク|あっとまーく|アット|あっと|\(at\)|\[at\]| at )\s*", re.I)
_DOT = re.compile(r"\s*(?:ドット|どっと|\(dot\)|\[dot\]| dot )\s*", re.I)
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.I)
#: digit groups with at most a few separators (hyphens, spaces, brackets, 「の」) between them
_PHONE_SPAN = re.compile(r"(?:\+81|0)[\d\-\s()（）の、,.]{8,22}\d")


def find_phone(text: str) -> str | None:
    """A Japanese phone number in ``text`` as digits only (+81 → 0), or None."""
    t = unicodedata.normalize("NFKC", text or "").translate(_KANJI_DIGITS)
    t = _DASHES.sub("-", t).replace("ハイフン", "-").replace("はいふん", "-")
    for m in _PHONE_SPAN.finditer(t):
        span = m.group(0)
        digits = re.sub(r"\D", "", span)
        if span.startswith("+81"):
            digits = "0" + digits[2:]
        if len(digits) in (10, 11):
            return digits
        if len(digits) > 11:  # something typed right after the number (a date, a count)
            return digits[:11] if re.match(r"0[5789]0", digits) else digits[:10]
    return None


def find_email(text: str) -> str | None:
    """An e-mail address in ``text``, lower-case (「アットマーク」「ドット」 read as @ and .)."""
    t = unicodedata.normalize("NFKC", text or "")
    t = _DOT.sub(".", _AT.sub("@", t))
    m = _EMAIL.search(t)
    return m.group(0).lower().strip(".") if m else None


_NAME_CHARS = r"[一-龥々ぁ-んァ-ヶーa-zA-Z]"
_NAME_PATTERNS = (
    re.compile(rf"(?:名前|なまえ|氏名)(?:は|が|:)\s*({_NAME_CHARS}{{1,12}}?)\s*(?:です|といいます|と申します|と言います|で[、,す]|でお願い|$|[、。,\s])"),
    re.compile(rf"(?:^|[、。,\s]|私は|わたしは|僕は|ぼくは)({_NAME_CHARS}{{1,12}}?)\s*(?:と申します|といいます|と言います|でございます)"),
    re.compile(rf"^(?:私は|わたしは|僕は|ぼくは)?({_NAME_CHARS}{{1,8}}?)\s*(?:です|だよ|でーす)(?:[。、,!！\s]|$)"),
    # 「木村でお願いします」: the name to use
    re.compile(rf"^({_NAME_CHARS}{{1,8}}?)\s*で(?:お願い|おねがい|いいです|結構です|大丈夫です)"),
    # 「吉田の妻です」: the family name, said through the person it belongs to
    re.compile(rf"^({_NAME_CHARS}{{1,6}}?)\s*の(?:妻|夫|母|父|娘|息子|家内|主人|家族|家の者|者)(?:です|でございます|と申します)"),
)
_NOT_A_NAME = re.compile(
    r"電話|でんわ|メール|連絡|番号|時間|午前|午後|昼|夜|朝|夕方|いつ|平日|土日|休み|はい|いいえ|お願い|よろしく|大丈夫|"
    r"同意|結構|ライン|line|ちょっと|まだ|ない|わから|相談|ローン|家|名前|なまえ|匿名|本人|私|わたし|自分",
    re.I,
)
_HONORIFIC = re.compile(r"(?:さん|様|さま)$")
_TO_KATAKANA = {c: c + 0x60 for c in range(ord("ぁ"), ord("ゖ") + 1)}


#: parts of speech a name never has (「夫には内緒です」 is not the name 「夫には内緒」)
_NOT_IN_A_NAME = frozenset({"助詞", "助動詞", "動詞", "形容詞", "副詞", "連体詞", "接続詞", "感動詞"})


def looks_like_a_name(candidate: str, labelled: bool = False) -> bool:
    """What the analyser says of a name candidate: no particle, verb or adjective in it,
    and a person's name in the dictionary, or a word it does not know, or katakana /
    latin letters (names it cannot list). ``labelled``: it followed 「名前は」, so a word
    in hiragana is taken too."""
    if labelled and re.fullmatch(r"[ぁ-んー\s]{2,12}", candidate):
        return True
    if re.fullmatch(r"[ぁ-ん]{2,8}", candidate):
        # a name typed in hiragana (「やまもとです」): the analyser splits it into words, but knows
        # its katakana spelling as a name (ヤマモト); a word (だいじょうぶ, よろしく) is not one
        toks = analyser.tokens(candidate.translate(_TO_KATAKANA))
        return len(toks) == 1 and analyser.is_person_name(toks[0])
    toks = [t for t in analyser.tokens(candidate) if t.surface.strip()]
    if not toks or any(t.pos[0] in _NOT_IN_A_NAME for t in toks):
        return False
    return (any(analyser.is_person_name(t) for t in toks) or all(t.oov for t in toks)
            or bool(re.fullmatch(r"[ァ-ヶーa-zA-Z\s]+", candidate))
            or (len(toks) == 1 and _is_a_surname(toks[0].surface)))


def _is_a_surname(word: str) -> bool:
    """「林」「森」「原」: the analyser reads a common noun, but its dictionary also lists the word
    as a surname (人名/姓); 「一人」 is listed only as a given name, 「主婦」「本人」 not at all."""
    try:
        entries = analyser.dictionary().lookup(word)
    except Exception:  # pragma: no cover - an older SudachiPy without lookup()
        return False
    return any(tuple(m.part_of_speech()[2:4]) == ("人名", "姓") for m in entries)


def find_name(text: str) -> str | None:
    """The name given in ``text`` (「山田です」「名前は佐藤で、夜なら出られます」 → 山田, 佐藤).

    A short reply that is only a name (「山田花子」) is the name; a longer sentence
    without a name pattern gives None: the whole sentence is never taken as the name,
    and a candidate the analyser does not see as a name is not one (:func:`looks_like_a_name`).
    """
    t = strip_asides(unicodedata.normalize("NFKC", text or "").strip())
    for i, rx in enumerate(_NAME_PATTERNS):
        m = rx.search(t)
        if m:
            name = _HONORIFIC.sub("", m.group(1)).strip()
            # 「名前は…」 and 「…と申します」 say it is a name: a word in hiragana is taken too
            if name and not _NOT_A_NAME.search(name) and looks_like_a_name(name, labelled=i in (0, 1)):
                return name
    bare = _HONORIFIC.sub("", _TRAILING.sub("", t)).strip()
    if re.fullmatch(rf"{_NAME_CHARS}{{1,10}}(?:[\s　]{_NAME_CHARS}{{1,10}})?", bare) and not _NOT_A_NAME.search(bare) \
            and not re.search(r"(?:ます|です|ない|たい|した|ください)$", bare) and looks_like_a_name(bare):
        return bare
    return None


_HOUR = re.compile(r"(\d{1,2})\s*時")
_TIMES = (
    ("evening", re.compile(r"夕方|夜|晩|ゆうがた|よる|仕事(?:の)?(?:後|あと|終わ)|帰(?:って|宅)")),
    ("morning", re.compile(r"午前|朝|あさ|ごぜん")),
    ("afternoon", re.compile(r"午後|昼|ひる|ごご|ランチ")),
    # last: a slot named with it wins (「夜なら何時でも」 is the evening)
    ("any", re.compile(r"いつでも|何時でも|なんじでも|いつも|何時でもいい|終日|一日中"
                       r"|(?:希望|指定)(?:は)?(?:特に)?(?:ない|なし|ありません)")),
)


def find_time(text: str) -> str | None:
    """The preferred time slot in ``text``: morning, afternoon, evening, any (or None)."""
    t = unicodedata.normalize("NFKC", text or "")
    t = re.sub(r"(?:\+81|0)[\d\-\s]{8,}\d", "", t)  # a phone number is not a time
    m = _HOUR.search(t)
    if m:
        h = int(m.group(1))
        if re.search(r"午後|夜|晩|夕方?", t[: m.start()][-4:]) and h < 12:
            h += 12  # 「夜の8時」「夕方5時」
        if 0 <= h < 12 and ("以降" not in t or h < 5):
            return "morning" if h >= 5 else "evening"
        if 12 <= h < 17:
            return "afternoon"
        return "evening"
    for value, rx in _TIMES:
        if rx.search(t):
            return value
    return None


# ---------------------------------------------------------------------------
# The dialog's context words: a reply read as the answer to the question just asked,
# consent, restart, a greeting (moved from dialogs/diagnosis/vocabulary.py)
# ---------------------------------------------------------------------------

DONT_KNOW_WORDS = re.compile(r"わから|分から|わかりません|分かりません|不明|知らない|しらない|覚えてない|覚えていない")
RESTART = re.compile(r"^(最初から|はじめから|初めから|やり直(し|す)|リセット|もう一度最初)")
#: a 「?」 before 「って」「という」 marks a word not sure of (「さいこくしょ？ってのがきた」), not a question
ASKS = re.compile(r"[?？](?!って|っての|という|とかいう|みたいな)|ですか|ますか|でしょうか|どうなる|どうすれ|どうしたら|教えて|知りたい|とは$")
CONSENT_YES = re.compile(r"^(はい|同意|いいよ|いいです|ok|オーケー|うん|お願い|進む|大丈夫)", re.I)
CONSENT_NO = re.compile(r"^(いいえ|やめ|結構|けっこう|同意しない|しない)")
READ_ONLY = re.compile(r"説明|読むだけ|見るだけ")
WAIT = re.compile(r"待つ|待ちます|このまま")
COURT = re.compile(r"裁判所")
ARREARS_NONE = re.compile(r"(滞納|遅れ|延滞).{0,6}(ない|なし|ありません|していません|してない)|払えて(い|)る|まだ払え|滞納なし")
NOTICE_NONE = re.compile(r"まだ何も|何も(来て|届いて|き)|(来て|届いて)(い)?ない|(来て|届いて)いません|^なし|^ない")
#: one person named as the owner (「夫のみ」「名義は主人のままです」「母の名義です」)
_OWNER = rf"(?:夫|妻|主人|旦那|父|母|親|息子|娘|兄|弟|姉|妹|祖父|祖母|{ME})"
OWN_SINGLE = re.compile(rf"単独|たんどく|^(?:名義は)?{_OWNER}(の?名義)?(です)?$|{ME}(だけ|ひとり|一人|の名義)|一人|ひとり"
                        rf"|^(?:名義は)?{_OWNER}(?:の?名義)?(?:だけ|のみ|のまま|単独)")
OWN_SHARED = re.compile(r"共有|きょうゆう|ふうふ|連名|夫婦|ペアローン|ぺあろーん|二人|ふたり|妻と|夫と")
YES_WORD = re.compile(r"^(いる|います|いた|はい|あり|いるよ)|いる$|います$")
NO_WORD = re.compile(r"^(いない|いません|いいえ|なし|ない)|いない$|いません$")
DIVORCE_NONE = re.compile(r"関係ない|関係ありません|していない|してない|離婚してません|^いいえ|^なし|^ない"
                          # 「夫は昨年他界しました」「死別です」: widowed, no divorce
                          r"|死別|他界|亡くな|なくなりました|独身|未婚"
                          # 「そのようなことはございません」「そんな話はないです」: the question said back as "no"
                          r"|(?:そのような|そういう|そんな|そうした)(?:こと|話|予定)(?:は|も)?(?:一切|全く|まったく|特に)?"
                          r"(?:ございません|ありません|ない|なし)")
LENDER_JHF = re.compile(r"フラット|ふらっと|支援機構|機構|公庫|jhf", re.I)
LENDER_BANK = re.compile(r"銀行|ぎんこう|ぎんこー|バンク|ばんく|地銀|ちぎん|信金|しんきん|信用金庫|労金|ろうきん|ja|農協|組合|保証会社", re.I)
#: asked which letter came last: its word alone names it (most advanced first)
NOTICE_WORDS = (
    (re.compile(r"期間入札|開札|入札"), "bid_notice"),
    (re.compile(r"現況調査|執行官"), "site_inspection"),
    (re.compile(r"開始決定|競売(?:の)?開始"), "auction_start"),
    (re.compile(r"代位弁済|だいいべんさい"), "subrogation"),
    (re.compile(r"期限の利益|一括(?:返済|で)|きげんのりえき"), "acceleration"),
    (re.compile(r"督促|催告|とくそく|さいこく"), "dunning"),
)
#: a lender named as where the loan is (outside the lender question)
LENDER_BANK_NAMED = re.compile(
    r"(?:銀行|信用金庫|信金|労金|ろうきん|信用組合)(?:で借り|のローン|の住宅ローン|から借り)|^\S{0,10}(?:銀行|信用金庫|信金|労金|ろうきん)(?:です)?$"
    # 「借入先は地元の信用組合です」「借りているのは横浜銀行」
    r"|(?:借入先|借り入れ先|借入れ先|借りて(?:いる|る)(?:の|ところ)|借りたの)(?:は|が)[^。!?\n]{0,12}?"
    r"(?:銀行|信用金庫|信金|労金|ろうきん|信用組合|信組|農協|ja)")
_ANSWER_DURATION = re.compile(r"(\d{1,2})\s*(?:年|ねん)(半)?|(半)年|(\d{1,2})\s*(?:ヶ月|か月|カ月|ケ月|ヵ月|かげつ|月分|回分|回)")


def duration_months(text: str) -> int | None:
    """「ちょうど1年」「1年半」「半年」「8ヶ月」 → months, as the answer to 「どのくらい遅れていますか」."""
    m = _ANSWER_DURATION.search(unicodedata.normalize("NFKC", text).translate(_ANSWER_KANJI_NUM))
    if not m:
        return None
    if m.group(1):
        return int(m.group(1)) * 12 + (6 if m.group(2) else 0)
    if m.group(3):
        return 6
    return int(m.group(4))


_ANSWER_KANJI_NUM = str.maketrans("一二三四五六七八九", "123456789")
#: 「この家で暮らしとうございます」「すみたい」: living on in the house, in any politeness or script
STAY_YES = re.compile(r"住み続け|住みたい|住んでいたい|残りたい|リースバック|りーすばっく|離れたくない|出たくない|手放したくない|手放さない"
                      r"|すみ(?:たい|つづけ|続け)|住みとう|(?:暮らし|くらし)(?:たい|とう|続け|つづけ|ていたい)")
STAY_NO = re.compile(r"(?:引っ?越|ひっこ)し?て?(も|)(いい|よい|かまわない|構わない|大丈夫)|出て(も|)(いい|よい)|手放して(も|)(いい|よい)|"
                      r"(?:引っ?越|ひっこ)(す|します|す予定|すつもり|そう|したい)|出て(いく|行く|いき|行き)|手放(す|します|したい|そう)|"
                      r"^(?:家を|ここを)?出ます$|(?:移り|うつり)たい|住み替え|すみかえ|"
                      r"売って(も|)(いい|よい|かまわない)|売(?:って|っちゃ)(?:しまい)?たい|売りたい|売却したい|住まなくて(も|)(いい|よい)|未練はない|こだわ(らない|りはない)")
STAY_UNDECIDED = re.compile(r"決めていない|決めてない|迷って|まだ|考え中")
#: question → (its own words, the answer they give), tried in order before a bare yes / no
QUESTION_WORDS: dict[str, tuple[tuple[re.Pattern[str], Any], ...]] = {
    # asked which letter: a letter's word alone is the answer (「督促の手紙が何通か」)
    "notice": (*NOTICE_WORDS, (COURT, "court"), (NOTICE_NONE, "none")),
    "court_letter": ((re.compile("開始"), "auction_start"), (re.compile("調査"), "site_inspection"),
                     (re.compile("入札|開札"), "bid_notice")),
    "ownership": ((OWN_SHARED, True), (OWN_SINGLE, False)),
    "guarantor": ((NO_WORD, False), (YES_WORD, True)),
    "divorce": ((DIVORCE_NONE, "none"),),
    "lender": ((LENDER_JHF, "jhf"), (LENDER_BANK, "bank"), (re.compile("その他|ほか"), "other")),
    "stay": ((STAY_NO, False), (STAY_YES, True), (STAY_UNDECIDED, None)),
}
#: questions whose own words are a bare yes / no (「いません」): not used when the message
#: states another question's fact (then the "no" is about that)
BARE_WORD_QUESTIONS = frozenset({"guarantor"})
LINE_WORD = re.compile(r"line|ライン", re.I)
SKIP = re.compile(r"伝えない|言いたくない|いいたくない|なし|スキップ|匿名|^いいえ")


GREETING = re.compile(
    r"^(?:こんにちは|こんにちわ|こんばんは|こんばんわ|おはよう(?:ございます)?|はじめまして|初めまして|よろしく|"
    r"もしもし|どうも|失礼します|hello|hi)(?:[、。!！\s]|ございます|お願いします|おねがいします|です)*$", re.I)
