"""Personal data out of free text: ``redact(text) -> str``.

Replaces phone numbers, e-mail addresses, postal codes, street addresses and
self-introduced names with 【電話番号】【メール】【郵便番号】【住所】【氏名】.

Matching runs on a normalized copy of the text (NFKC per character, dashes and
long vowel marks between digits unified, optionally 漢数字 as digits for phone
numbers) with a map back to the original positions, so full-width and mixed
input is caught while everything that is not personal data is returned exactly
as written (full-width stays full-width).

``known`` adds exact strings to hide (the name/phone/e-mail the dialog stored
for this conversation), matched after the same normalization.

Deliberately *not* redacted: durations (「3ヶ月」「1〜2ヶ月」), dates
(「令和8年12月11日」「2026-12-11」), amounts (「10万円」「1,200,000円」).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from dialogs import analyser

PHONE = "【電話番号】"
EMAIL = "【メール】"
POSTAL = "【郵便番号】"
ADDRESS = "【住所】"
NAME = "【氏名】"
ACCOUNT = "【口座番号】"
WORKPLACE = "【勤務先】"
PLATE = "【ナンバー】"
LINE_ID = "【ID】"  # a LINE id or another account (Instagram, Facebook …)

# Dash-like characters people type between digits (NFKC keeps most of them).
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−ー－ｰ﹣⁃"), "-")
_KANJI_DIGITS = dict(zip(map(ord, "〇一二三四五六七八九零"), "01234567890", strict=False))

_SEP = r"[ \-.()\u3000]"

# -- phone numbers -------------------------------------------------------------
# A number starting with 0 (or +81 / 81 then the area code without its 0) with 10–11
# digits in all, separators anywhere (spaces, dashes, dots, parentheses).
_PHONE = re.compile(
    rf"(?<![\dA-Za-z])(?:"
    rf"\+\s?81{_SEP}{{0,2}}(?:\(?0\)?{_SEP}{{0,2}})?\d(?:{_SEP}{{0,2}}\d){{8,9}}"  # +81 ...
    rf"|\(?0(?:{_SEP}{{0,2}}\d){{9,10}}"  # 0...
    rf")(?!\d)"
)
# -- e-mail ---------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}\s?@\s?(?:[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
                    r"|(?:gmail|yahoo|icloud|docomo|ezweb|softbank|outlook|hotmail|au|me|live|nifty|biglobe|ocn)(?![A-Za-z0-9.]))")
# -- postal codes -----------------------------------------------------------------
_POSTAL = re.compile(r"〒\s?\d{3}\s?-?\s?\d{4}(?!\d)|(?<![\d\-])\d{3}-\d{4}(?![\d\-])")

# -- addresses --------------------------------------------------------------------
_PREFS = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|"
    "熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_KANA_KANJI = r"[\u4e00-\u9fff々ヶケぁ-んァ-ヴー]"
_KANJI1 = r"[\u4e00-\u9fff々]"
_D = r"[0-9〇一二三四五六七八九十百]"
_BLOCK = (
    rf"{_D}+(?:丁目|-){_D}*(?:番地?|-)?{_D}*(?:号|-{_D}+)?"
    rf"|{_D}+番地?(?:{_D}+号?)?"
)
_BUILDING = r"(?:[ \u3000]?[A-Za-z\u4e00-\u9fffァ-ヴー]{1,15}(?:マンション|ハイツ|コーポ|レジデンス|荘|ビル|タワー)?[ \u3000]?\d{1,4}(?:号室)?)?"
_ADDRESS = re.compile(
    rf"(?:(?:{_PREFS})(?:{_KANA_KANJI}{{1,8}}?(?:市|区|町|村|郡)){{0,3}}|(?:{_KANJI1}{_KANA_KANJI}{{0,5}}?(?:市|区|郡)){{1,3}})"
    rf"(?:{_KANA_KANJI}|{_D}{{1,3}}条){{0,8}}?(?:{_BLOCK}){_BUILDING}"
    rf"|{_KANA_KANJI}{{0,8}}?{_D}+丁目{_D}+番(?:地)?(?:{_D}+号?)?"
    rf"|(?:{_PREFS})(?:{_KANA_KANJI}{{1,8}}?(?:市|区|町|村|郡)){{1,3}}[\u4e00-\u9fff々ァ-ヴ]{_KANA_KANJI}{{0,7}}?(?=に住|在住|です|$)"
)

# -- names --------------------------------------------------------------------------
_KANJI_NAME = r"[\u4e00-\u9fff々]{1,4}(?:[ \u3000]?[\u4e00-\u9fff々]{1,3})?"
_KATA_NAME = r"[ァ-ヴー]{2,8}(?:[ \u3000・]?[ァ-ヴー]{2,8})?"
_HIRA_NAME = r"[ぁ-ん]{2,6}(?:[ \u3000][ぁ-ん]{2,6})?"
_ANY_NAME = rf"(?:{_KANJI_NAME}|{_KATA_NAME}|{_HIRA_NAME})"
_NAME_LABEL = re.compile(
    rf"(?:お?名前|氏名|なまえ|名義人)[ \u3000]*(?:は|が|:|：|を)?[ \u3000]*(?P<x>{_ANY_NAME})(?=$|[ \u3000]*(?:です|だ|と|で|、|。|\n|$))"
)
_NAME_INTRO = re.compile(
    rf"(?P<x>{_KANJI_NAME}|{_KATA_NAME})[ \u3000]*(?:と申します|ともうします|と言います|といいます|と申し|と言う者|という者)"
)
# Common surnames: 「山田です」 is a name only when it starts like one.
_SURNAMES = (
    "佐藤 鈴木 高橋 田中 伊藤 渡辺 渡部 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 斉藤 清水 "
    "山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本 斉木 "
    "福田 太田 西村 藤井 岡本 藤原 松田 中川 中野 原田 小野 田村 竹内 金子 和田 中山 石田 上田 森田 原 柴田 "
    "酒井 工藤 横山 宮崎 宮本 内田 高木 安藤 谷口 大野 丸山 今井 高田 藤本 武田 村田 上野 杉山 増田 "
    "平野 大塚 千葉 久保 松井 小島 岩崎 桜井 野口 松尾 野村 木下 菊地 菊池 佐野 大西 杉本 新井 浜田 菅原 "
    "市川 水野 小松 島田 古川 小山 高野 西田 菊田 山内 西川 五十嵐 北村 安田 中田 川口 平田 川崎 飯田 "
    "吉川 本田 久保田 沢田 辻 関 吉村 渡邊 岩田 中西 服部 樋口 福島 川上 永井 松岡 田口 山中 森本 土屋 "
    "矢野 広瀬 秋山 石原 松下 大橋 松浦 吉岡 小池 馬場 浅野 荒木 大久保 野田 小沢 田辺 川村 星野 黒田 "
    "堀 尾崎 望月 永田 熊谷 内藤 松村 西山 大谷 平井 大島 岩本 片山 本間 早川 横田 岡崎 荒井 大石 鎌田 "
    "成田 宮田 小田 石橋 篠原 須藤 河野 大沢 小西 南 高山 栗原 伊東 松原 三浦 福井 大森 奥村 岡 内山 "
    "萩原 山根 蔵本 田島 比嘉 金城 宮城 大城 新垣 ヤマダ サトウ スズキ タナカ"
).split()
_SURNAME_ALT = "|".join(sorted(map(re.escape, set(_SURNAMES)), key=len, reverse=True))
_NAME_DESU = re.compile(
    rf"(?:^|(?<=[。、!?！？\n \u3000]))(?:私は|わたしは|わたくしは|僕は|ぼくは|こちらは|妻の|夫の|主人の|家内の|本人の)?"
    rf"(?P<x>(?:{_SURNAME_ALT})(?:[ \u3000]?[\u4e00-\u9fff々ぁ-んァ-ヴー]{{0,3}}?)?)[ \u3000]*(?:です|でございます|だよ|だ。)"
)
_NAME_DESU_CONTEXT = re.compile(
    rf"(?:^|(?<=[。、!?！？\n \u3000]))(?:私は|わたしは|わたくしは|僕は|ぼくは)(?P<x>{_KANJI_NAME}|{_KATA_NAME})[ \u3000]*(?:です|でございます)"
)
# Words that look like 「Xです」 answers but are not names.
_NOT_NAMES = frozenset(
    "督促状 催告書 競売 共有 単独 離婚 銀行 大丈夫 不明 未定 本人 夫婦 名義 保証人 連帯保証人 無職 会社員 "
    "自営業 年金 初めて 心配 不安 本当 了解 相談 希望 同意 同じ 未定 予定 無理 本気 自宅 持ち家 "
    "住宅 ローン 機構 保証会社 代位弁済 期限 通知 裁判所 開札 入札 現況調査 任意売却 任売 売却 専門家 担当".split()
)

# Kin, roles and answers: never a name on their own.
_NOT_NAMES |= frozenset(
    "夫 妻 主人 家内 嫁 私 自分 わたし 僕 父 母 兄 弟 姉 妹 息子 娘 長男 長女 次男 次女 義父 義母 祖父 祖母 "
    "元夫 元妻 旦那 配偶者 子ども 子供 家族 親 両親 義理 担当者 弁護士 司法書士 銀行員 債権者 債務者 所有者 "
    "共有者 連帯保証人 保証人 名義人 契約者 申込者 相続人 親族 知人 友人 不動産屋 業者 無し なし 未定 はい いいえ "
    "令和 平成 昭和 大正 明治 元年 今年 去年 来年 先月 今月 来月".split()
)

# -- birthdates and court case numbers ------------------------------------------------------
_ERA = r"(?:明治|大正|昭和|平成|令和|[MTSHRmtshr]\.?)"
_N = r"[0-9〇一二三四五六七八九十]"
_YMD_SEP = r"[ ]?(?:[.\-/]|年[ ]?(?:の[ ]?)?)[ ]?"
_MD_SEP = r"[ ]?(?:[.\-/]|月)[ ]?"
_DATE = (
    rf"(?:{_ERA}[ ]?(?:{_N}{{1,3}}|元){_YMD_SEP}{_N}{{1,2}}{_MD_SEP}{_N}{{1,3}}[ ]?日?"
    rf"|(?:19|20)\d{{2}}{_YMD_SEP}\d{{1,2}}{_MD_SEP}\d{{1,2}}[ ]?日?"
    rf"|(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    rf"|(?:19|20)\d{{2}}[ ]?年?[ ]?\([^)\n]{{1,10}}\)[ ]?\d{{1,2}}[ ]?[月/.][ ]?\d{{1,2}}[ ]?日?"
    rf"|{_ERA}[ ]?(?:{_N}{{1,3}}|元)[ ]?年|(?:19|20)\d{{2}}[ ]?年"
    rf"|{_N}{{1,2}}[ ]?年[ ]?(?:の[ ]?)?{_N}{{1,2}}[ ]?月[ ]?{_N}{{1,3}}[ ]?日"

    rf"|\d{{1,2}}[ ]?月[ ]?\d{{1,2}}[ ]?日)"
)
_MONTH_DAY = r"(?:1[0-2]|0?[1-9])[/.](?:3[01]|[12]\d|0?[1-9])(?![\d/.])"
_BIRTH = re.compile(
    rf"(?:生年月日|誕生日|生まれた日|生まれは|生年|birthday|Birthday|DOB|D\.O\.B\.?)[^\d\n。明大昭平令MTSHR]{{0,8}}?(?P<x>{_DATE}|{_MONTH_DAY})"
    rf"|(?P<y>{_DATE})[ ]?[)）]?[ ]?(?:の[ ]?)?(?:生まれ|産まれ|うまれ|生(?![活命産])|誕生)"
    # a year alone: 「55年生まれ」「80年生まれ」「S55生まれ」 (not 「小学3年生」: 生まれ, or an era letter)
    rf"|(?<![\d.])(?P<w>(?:{_N}{{2}}|元)[ ]?年)[ ]?(?:の[ ]?)?(?:生まれ|産まれ|うまれ)"
    rf"|(?<![A-Za-z\d])(?P<v>[MTSHRmtshr]\.?[ ]?\d{{1,2}})[ ]?(?:年[ ]?)?(?:生まれ|産まれ|うまれ|生(?![活命産]))"
    rf"|(?:生年月日|誕生日|DOB)[^\d\n。]{{0,6}}?(?P<u>\d{{2}}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}})(?![\d/.\-])"
)
BIRTHDATE = "【生年月日】"
CASE = "【事件番号】"
_CASE = re.compile(
    rf"(?:(?:{_ERA}|令和|平成)[ ]?(?:{_N}{{1,3}}|元)[ ]?年?[ ]?)?\([ ]?[ァ-ヶ\u4e00-\u9fff]{{1,3}}[ ]?\)[ ]?第?[ ]?{_N}{{1,6}}[ ]?号"
    rf"|(?:令和|平成|[RH])[ ]?(?:{_N}{{1,3}}|元)[ ]?年[ ]?[ァ-ヶ][ ]?第?[ ]?{_N}{{1,6}}[ ]?号"
    rf"|(?:令和|平成|[RH])[ ]?(?:{_N}{{1,3}}|元)[ ]?年?[ ]?\([ ]?[ァ-ヶ]{{1,2}}[ ]?\)[ ]?第?[ ]?{_N}{{1,6}}"
    rf"|(?<![ァ-ヶー])[ァ-ヶ]{{1,2}}[ ]?第[ ]?{_N}{{1,6}}[ ]?号"
    rf"|事件番号[ ]*(?:は|:|：)?[ ]*(?P<x>[^\n。、]{{1,30}}?(?:号|$|(?=[\n。、])))"
)

# -- postcodes without 〒 or hyphen, spoken phone numbers, spelled-out e-mails -----------------
_POSTAL_BARE = re.compile(
    r"(?:〒|郵便番号|郵便|ゆうびん(?:ばんごう)?|postal|zip|ZIP)[ ]*(?:は|:|：)?[ ]*(?P<x>\d{3}[ ]?[-の]?[ ]?\d{4})(?!\d)"
    r"|(?<![\d\-.,/])\d{7}(?![\d\-.,/]|[ ]?(?:円|万|千|件|人|回|年|個|株|位|歳|才|%|％))"
)
_DIGIT_WORDS = {"ゼロ": "0", "レイ": "0", "マル": "0", "イチ": "1", "ニ": "2", "サン": "3", "ヨン": "4", "ゴ": "5",
                "ロク": "6", "ナナ": "7", "ハチ": "8", "キュウ": "9", "キュー": "9",
                "ニー": "2", "ゴー": "5", "ヨ": "4", "シ": "4", "ク": "9", "シチ": "7", "ハッ": "8"}
_DIGIT_WORDS |= {"".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in k): v
                 for k, v in _DIGIT_WORDS.items() if "ー" not in k}  # ぜろ, いち ... in hiragana
_UNIT = "(?:\\d|" + "|".join(sorted(_DIGIT_WORDS, key=len, reverse=True)) + ")"
_FILL = r"(?:[ \-.,、・/()]|の|ハイフン|と)"
_PHONE_WORDS = re.compile(rf"(?<![\dA-Za-z])(?:0|ゼロ|レイ|マル|ぜろ|れい|まる)(?:{_FILL}{{0,3}}{_UNIT}){{9,10}}(?!\d)")
_UNIT_RE = re.compile(_UNIT)
_AT = r"(?:@|\((?:at|あっと|アット|アットマーク)\)|\[at\]|\(a\)|\[a\]|[★☆◎]|(?<![A-Za-z])at(?![A-Za-z])|アットマーク|あっとまーく|アット|あっと)"
_DOT = r"(?:\.|ドット|どっと|\(dot\)|\[dot\]|(?<![A-Za-z])dot(?![A-Za-z]))"
_EMAIL_SPELLED = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}}[ ]*{_AT}[ ]*[A-Za-z0-9\-]+(?:[ ]*{_DOT}[ ]*[A-Za-z0-9\-]+)*[ ]*{_DOT}[ ]*[A-Za-z]{{2,}}"
)

# -- addresses: labelled, over several lines, 字 ------------------------------------------------
_ADDRESS_MORE = re.compile(
    rf"{_KANA_KANJI}{{0,8}}?{_D}+[ ]?丁目\s*{_D}+(?:[ ]?(?:番地?|-)[ ]?{_D}+)*(?:[ ]?号)?"
    rf"|{_KANA_KANJI}{{1,8}}?(?:町|村)?(?:大)?字{_KANA_KANJI}{{1,8}}?{_D}+(?:番地?|-{_D}+)*"
    rf"|{_KANJI1}[\u4e00-\u9fff々ヶケァ-ヴー]{{1,6}}?[1-9一二三四五六七八九十]{_D}{{0,3}}-{_D}{{1,4}}-{_D}{{1,4}}"
    rf"|{_KANJI1}[\u4e00-\u9fff々ヶケァ-ヴー]{{1,6}}?{_D}{{1,3}}丁目"
    rf"|(?<=[市区町村郡])\s*\n\s*{_KANA_KANJI}{{1,8}}?{_D}+(?:[ ]?(?:丁目|番地?|-)[ ]?{_D}+)+(?:号)?"
)
_ADDRESS_LABEL = re.compile(r"(?:ご?住所|所在地|物件の場所)[ \u3000]*(?:は|:|：)?[ \u3000]*(?P<x>[^\n。]+(?:\n[^\n。]+)?)")
_ADDRESS_LIKE = re.compile(rf"{_D}+[ ]?(?:丁目|番|号|-[ ]?{_D})|字|\d{{3}}-?\d{{4}}")
_ADDRESS_END = re.compile(r"(?:です|にあります|に住んでいます|に住んで|に住み|在住).*$", re.S)

# -- names by the analyser (SudachiPy, core dictionary) ------------------------------------------
_HONORIFICS = frozenset("さん 様 さま 氏 殿 くん 君 ちゃん 先生 どの".split())
_RELATIONS = frozenset(
    "夫 妻 元夫 元妻 前夫 前妻 主人 旦那 家内 嫁 父 母 義父 義母 兄 弟 姉 妹 息子 娘 長男 長女 次男 次女 "
    "祖父 祖母 叔父 伯父 叔母 伯母 配偶者 元配偶者 担当 担当者 弁護士 司法書士 行員 名義人 保証人 連帯保証人 相手".split()
)
# Words after a surname that make it a company, a shop or a place, not a person.
_NOT_PERSON_AFTER = frozenset(
    "銀行 信用金庫 信金 支店 店 駅 市 区 町 村 県 郡 病院 医院 会社 建設 不動産 事務所 法律事務所 工務店 "
    "商事 商店 通り 線 大学 高校 小学校 中学校 学園 ホーム 地所 ハウス 住宅 産業 興業 工業 電機 本店 家具".split()
)
_ROMAJI_WORD = re.compile(r"(?:(?:[kgsztdnhbpmr]y?|sh|ch|ts|j|f|w|y)?[aiueo]h?|n)+", re.I)
_ROMAJI_PAIR = re.compile(r"(?<![A-Za-z])(?:(?P<a>[A-Z][a-z]+|[A-Z]\.|[A-Z]{2,})[ ]?(?P<b>[A-Z][a-z]+|[A-Z]{2,})|(?P<c>[A-Z][a-z]{2,})[ -]?(?:san|sama|さん|様))(?![A-Za-z])")
_ROMAJI_INTRO = re.compile(r"(?:[Mm]y name is|I am|I'm|This is|[Nn]ame ?:|\bM(?:r|s|rs)\.?)[ ]+(?P<x>[A-Za-z]+(?:[ ][A-Z][a-z]+)?)")
_KANA_HONORIFIC = re.compile(r"(?P<x>[ぁ-ん]{2,6}|[ァ-ヴー]{2,8})[ ]?(?:さん|さま|様|ちゃん|くん)")
_KIN_KANA = frozenset(
    "おかあ おとう かあ とう おばあ おじい ばあ じい おにい おねえ にい ねえ おく だんな みな おじ おば "
    "あかちゃ おまわり おいしゃ たんとう べんごし ぎんこう おにいちゃ おねえちゃ おばちゃ おじちゃ おきゃく "
    "おこさ こども まご おひめ おうじ おとな ママ パパ".split()
)
_NAME_LABEL2 = re.compile(
    r"(?:氏名|お名前|名前|なまえ|ふりがな|フリガナ|よみがな|名義人|差出人|署名|契約者|申込者|債務者|旧姓|ニックネーム|あだ名|"
    r"呼び名|ハンドルネーム)[ \u3000]*(?:は|が|:|：|=)?[ \u3000]*"
    r"(?P<x>[^\s、。,:：!?！？()（）「」]{1,12}(?:[ \u3000・][^\s、。,:：!?！？()（）「」]{1,12})?)"
)
_LABEL_STOP = re.compile(
    r"(?:です|でございます|と申します|といいます|と言います|だよ|だ|になります|の名義)$"
    r"|[ \u3000・](?:電話|TEL|Tel|tel|住所|メール|携帯|生年月日|年齢|mail|Mail|〒)\S*$"
)
_ANALYSABLE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
def _is_person(t: tuple) -> bool:
    return t[3][1] == "固有名詞" and t[3][2] == "人名" and t[2] not in _NOT_NAMES


def _is_proper(t: tuple) -> bool:
    """A proper noun that is not a place, or a word the dictionary does not know."""
    pos = t[3]
    return pos[0] == "名詞" and ((pos[1] == "固有名詞" and pos[2] != "地名") or t[4]) and t[2] not in _NOT_NAMES


def _is_space(t: tuple) -> bool:
    return t[3][0] == "空白" or t[2] in ("・", " ", "\u3000")


def _analyser_names(norm: str) -> list[tuple[int, int, str]]:
    """Person names the analyser sees: 人名 parts (joined), before an honorific, after a relation."""
    toks = analyser.tokens(norm)
    spans: list[tuple[int, int, str]] = []
    n = len(toks)

    def extend(i: int) -> int:
        """Last index of the name starting at token i (parts joined over one space or ・)."""
        j = i
        while True:
            if j + 1 < n and (_is_person(toks[j + 1]) or (toks[j + 1][4] and toks[j + 1][3][1] == "固有名詞")
                              or (toks[j + 1][2] in _NAME_ENDINGS and toks[j][3][3] == "名")):
                j += 1
            elif (j + 2 < n and _is_space(toks[j + 1]) and "\n" not in toks[j + 1][2]
                  and (_is_person(toks[j + 2]) or (_is_proper(toks[j + 2]) and _kana_or_kanji(toks[j + 2][2])))):
                j += 2
            else:
                return j

    def add(i: int, j: int, cued: bool = False) -> None:
        after = toks[j + 1][2] if j + 1 < n else ""
        if after in _NOT_PERSON_AFTER:
            return
        end = toks[j][1]
        if (not cued and i == j and toks[i][3][3] == "姓" and _PLACE_AFTER.match(norm, end)
                and _also_a_place(toks[i][2])):
            return  # 「山口の家」「市川に住んでいます」: the place
        reading = _KANA_AFTER_NAME.match(norm, end)  # 山田太郎（やまだ たろう）
        spans.append((toks[i][0], reading.end() if reading else end, NAME))

    for m in _BRACKET_RELATION.finditer(norm):  # たかし（夫）, 山田（元夫）
        inner = [t for t in analyser.tokens(m.group("x")) if not _is_space(t)]
        if inner and all(_is_person(t) or _is_proper(t) and t[3][2] != "地名" or _can_be_person(t[2]) for t in inner):
            spans.append((*m.span("x"), NAME))
    for m in _RELATION_BRACKET.finditer(norm):  # 元夫（たかし）: the analyser reads it as one word
        inner = [t for t in analyser.tokens(m.group("x")) if not _is_space(t)]
        if (re.fullmatch(r"[ぁ-ん]{2,8}", m.group("x")) and not any(t[3][1] == "普通名詞" for t in inner)) or all(
                _is_person(t) or _is_proper(t) for t in inner):
            spans.append((*m.span("x"), NAME))
    i = 0
    while i < n:
        t = toks[i]
        if _is_person(t) and _kana_or_kanji(t[2]):
            j = extend(i)
            # one kanji alone (督, 誠) or one kana word alone (かい, ゆう) is a word more often than a name
            nxt = j + 2 if j + 2 < n and _is_space(toks[j + 1]) and "\n" not in toks[j + 1][2] else j + 1
            introduced = (nxt < n and toks[nxt][2] in ("です", "と") and _SELF_INTRO.match(norm, toks[nxt][0])
                          and (i == 0 or toks[i - 1][2] in "。、!?！？\n " or _is_space(toks[i - 1])))
            if j > i or (len(t[2]) >= 2 and re.search(r"[\u4e00-\u9fff々]", t[2])) or (
                    len(t[2]) >= 3 and re.fullmatch(r"[ァ-ヴー]+", t[2])) or (introduced and len(t[2]) >= 2):
                add(i, j)
            i = j + 1
            continue
        if t[2] in _RELATIONS and i + 1 < n:
            k = i + 1
            if toks[k][2] in ("の", "は", ":", "：", "、", "(", "・") or _is_space(toks[k]):
                k += 1
            if k < n and _is_space(toks[k]):
                k += 1
            kana_name = (k < n and toks[k - 1][2] != "は" and re.fullmatch(r"[ぁ-んァ-ヴー]{2,6}", toks[k][2]) and toks[k][2] not in _KANA_WORDS
                         and toks[k][3][0] == "名詞" and _can_be_person(toks[k][2])  # not 「夫はスーパーで」
                         and (k + 1 == n or toks[k + 1][3][0] in ("助詞", "補助記号", "空白", "助動詞")))  # 長女のさき
            if (k < n and (_is_proper(toks[k]) or _is_person(toks[k]) or kana_name) and toks[k][3][2] != "地名"
                    and _kana_or_kanji(toks[k][2])):
                j = extend(k)
                run = _KANA_RUN.match(norm, toks[k][0])  # 長男のりょうたは: the analyser cut りょう|た
                if run and j == k and re.fullmatch(r"[ぁ-ん]+", toks[k][2]) and run.end() > toks[k][1]:
                    spans.append((toks[k][0], run.end(), NAME))
                else:
                    add(k, j, cued=True)
                i = j + 1
                continue
        if t[2] in _HONORIFICS and (t[3][0] == "接尾辞" or t[2] == "先生") and i > 0:
            k = i - 1
            if _is_space(toks[k]) and k > 0 and t[3][0] == "接尾辞":
                k -= 1
            p = toks[k]
            surname_noun = (t[2] == "先生" and p[3][1] == "普通名詞" and re.fullmatch(r"[\u4e00-\u9fff々]{2,3}", p[2])
                            and _can_be_person(p[2]))  # 大木先生
            if p[3][0] == "名詞" and (p[3][1] == "固有名詞" and (p[3][2] != "地名" or _can_be_person(p[2])) or p[4]
                                      or surname_noun) and p[2] not in _NOT_NAMES:
                s = k
                while s - 2 >= 0 and _is_space(toks[s - 1]) and _is_person(toks[s - 2]):
                    s -= 2
                spans.append((toks[s][0], p[1], NAME))
        i += 1
    return spans


def _looks_like_name(value: str) -> bool:
    """A cue-found name (「松本市です」「宮崎出身です」 are not): no place, no common word in it."""
    if not _ANALYSABLE.search(value):
        return True
    return all(_is_space(t) or t[4] or (t[3][1] == "固有名詞" and t[3][2] != "地名") for t in analyser.tokens(value.strip()))


_RELATION_BRACKET = re.compile(
    "(?:" + "|".join(sorted(_RELATIONS, key=len, reverse=True)) + r")[(（](?P<x>[ぁ-んァ-ヴー\u4e00-\u9fff々]{1,8})[)）]")
# Kana nouns after a relation that are words, not names (夫のこと, 母のところ).
_KANA_WORDS = frozenset(
    "こと ため ところ とこ ほう もの ぶん かた あと まま せい おかげ かわり かわりに ほか ほかに ため よう ふり "
    "うち いえ なか まえ あいだ ころ とき ばあい みんな ぜんぶ ぶんも ローン カード パート ボーナス".split())
_BRACKET_RELATION = re.compile(
    r"(?:^|(?<=[、。,!！?？\n \u3000・]))(?P<x>[ぁ-んァ-ヴー\u4e00-\u9fff々]{2,8})[(（](?:"
    + "|".join(sorted(_RELATIONS, key=len, reverse=True)) + r")[)）]")
_NAME_ENDINGS = frozenset("子 郎 美 江 代 恵 男 雄 枝 香".split())
_SELF_INTRO = re.compile(r"(?:です(?:$|[。、!！\s])|と申し|といいます|と言います)")
_KANA_RUN = re.compile(r"[ぁ-ん]{2,6}?(?=[はがをにともの、。)）]|\s|$)")
_PLACE_AFTER = re.compile(
    r"(?:に住|に引っ越|に引越|出身|の実家|の家|に家|から来|で働|に転勤|在住|の物件|のマンション|の戸建|に戻|に帰|へ|の親|"
    r"市|県|駅|に土地|で生まれ|育ち)")
_KANA_AFTER_NAME = re.compile(r"[ \u3000]?[（(][ぁ-んァ-ヴー \u3000・]{2,20}[)）]")


def _also_a_place(surface: str) -> bool:
    return any(m.part_of_speech()[2] == "地名" for m in analyser.dictionary().lookup(surface))


def _kana_or_kanji(s: str) -> bool:
    return bool(re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff々ー]+", s))


def _label_names(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _NAME_LABEL2.finditer(norm):
        start, end = m.span("x")
        value = norm[start:end]
        while True:
            cut = _LABEL_STOP.search(value)
            if not cut or cut.start() == 0:
                break
            value = value[:cut.start()]
        value = value.rstrip(" \u3000・")
        if not value or value in _NOT_NAMES or re.fullmatch(r"[\d\W]+", value):
            continue
        toks = [t for t in analyser.tokens(value) if not _is_space(t)] if _ANALYSABLE.search(value) else []
        strong = norm[m.start():m.start() + 7].startswith(("氏名", "お名前", "名前", "なまえ", "ふりがな", "フリガナ",
                                                            "よみがな", "旧姓", "ニックネーム", "あだ名", "呼び名",
                                                            "ハンドルネーム"))
        if (strong and re.fullmatch(r"[ぁ-んァ-ヴー \u3000・]{2,12}", value)
                and not re.search(r"(?:ない|ません|たい|です)$", value)
                and not any(t[3][0] == "助動詞" for t in toks)):  # 「名前だけだったはず」
            spans.append((start, start + len(value), NAME))  # 「名前はやまだはなこです」: kana the analyser cuts up
            continue
        if any(t[3][0] in ("助詞", "助動詞", "動詞", "形容詞") for t in toks):
            continue
        if not re.search(r"[:：=]", norm[m.start():start]) and not all(
                _is_person(t) or _is_proper(t) for t in toks):
            continue  # 「名義人全員」: without a colon, only words that are names
        spans.append((start, start + len(value), NAME))
    return spans


def _romaji_names(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _ROMAJI_PAIR.finditer(norm):
        if m.group("c"):
            if _ROMAJI_WORD.fullmatch(m.group("c")):
                spans.append((m.start("c"), m.end("c"), NAME))
            continue
        a, b = m.group("a"), m.group("b")
        if (a.endswith(".") or _ROMAJI_WORD.fullmatch(a)) and _ROMAJI_WORD.fullmatch(b):
            spans.append((m.start(), m.end(), NAME))
    for m in _ROMAJI_INTRO.finditer(norm):
        spans.append((*m.span("x"), NAME))
    return spans


def _kana_honorific_names(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    # a word of the analyser that runs over the honorific: 「たくさん」「かさんで」, not a name + さん
    bounds = {t[0] for t in analyser.tokens(norm)} if _KANA_HONORIFIC.search(norm) else set()
    for m in _KANA_HONORIFIC.finditer(norm):
        if m.end("x") not in bounds:
            continue
        word = m.group("x")
        if word in _KIN_KANA or word.lstrip("お") in _KIN_KANA or word in _NOT_NAMES:
            continue
        start = m.start("x")
        if start > 0 and re.match(r"[ぁ-んァ-ヴー]", norm[start - 1]):
            continue  # inside a longer word
        if len(word) >= 4 and word[0] in "のはがをにとも" and start > 0 and re.match(r"[\u4e00-\u9fff々]", norm[start - 1]):
            start += 1  # 夫のたかしさん: the particle is not part of the name
        spans.append((start, m.end("x"), NAME))
    return spans


def _signature(norm: str) -> list[tuple[int, int, str]]:
    """A short last line made only of names (or initials) under a longer message."""
    lines = norm.rstrip().split("\n")
    last = lines[-1]
    if len(lines) < 2:
        tail = re.search(r"[。!！][ \u3000]+([^。!！?？\s][^。!！?？]{0,15})$", last)  # 「…お願いします。　ささき」
        if not tail:
            return []
        last = tail.group(1)
    stripped = last.strip(" \u3000-–—~〜_=*")
    if not stripped or len(stripped) > 20 or not re.search(r"[A-Za-z\u3040-\u30ff\u4e00-\u9fff]", stripped):
        return []
    start = norm.rstrip().rfind(last) + last.find(stripped)
    if re.fullmatch(r"(?:[A-Z]\.[ ]?)?[A-Za-z]+(?:[ ][A-Za-z.]+)?", stripped):
        words = re.findall(r"[A-Za-z]{2,}", stripped)
        if words and all(_ROMAJI_WORD.fullmatch(w) for w in words):
            return [(start, start + len(stripped), NAME)]
        return []
    toks = [t for t in analyser.tokens(stripped) if not _is_space(t)]
    if toks and all(_is_person(t) or _is_proper(t) and t[3][2] != "地名" for t in toks):
        return [(start, start + len(stripped), NAME)]
    return []


def _address_label(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _ADDRESS_LABEL.finditer(norm):
        start, end = m.span("x")
        value = norm[start:end]
        first, _, second = value.partition("\n")
        if second and not _ADDRESS_LIKE.search(second):
            value = first
        value = _ADDRESS_END.sub("", value).rstrip(" \u3000、")
        lead = re.match(r"〒?[ ]?\d{3}-?\d{4}[ \u3000]*", value)  # a postcode first: its own label
        if lead:
            start, value = start + lead.end(), value[lead.end():]
        if value and _ADDRESS_LIKE.search(value):
            spans.append((start, start + len(value), ADDRESS))
    return spans


def _joined_addresses(norm: str) -> list[tuple[int, int, str]]:
    """Addresses written over several lines or with gaps (「東京都練馬区\n豊玉北\n1-2-3」「熊本市東区 健軍本町 の
    5-23」), read as one line: line breaks and spaces dropped (not between two digits), and a の before the number."""
    def gap(i: int) -> bool:
        c = norm[i]
        if c in "\n \u3000":
            return not (0 < i < len(norm) - 1 and norm[i - 1].isdigit() and norm[i + 1].isdigit())
        if c == "の" and 0 < i < len(norm) - 1:
            after = norm[i + 1:].lstrip(" \u3000")
            before = norm[:i].rstrip(" \u3000")
            return bool(after[:1].isdigit() and before and re.match(r"[\u4e00-\u9fff々ヶケァ-ヴー]", before[-1]))
        return False

    keep = [i for i in range(len(norm)) if not gap(i)]
    joined = "".join(norm[i] for i in keep)
    spans = []
    for pattern in (_ADDRESS, _ADDRESS_MORE):
        for m in pattern.finditer(joined):
            if m.end() > m.start() and keep[m.end() - 1] - keep[m.start()] >= m.end() - m.start():  # a gap inside
                spans.append((keep[m.start()], keep[m.end() - 1] + 1, ADDRESS))
    return spans


def _spoken_phones(view: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _PHONE_WORDS.finditer(view):
        found, end = m.group(), m.end()
        while found[-1] in "にご":  # a particle or a prefix after the number, not a digit
            found, end = found[:-1], end - 1
        digits = "".join(_DIGIT_WORDS.get(u, u) for u in _UNIT_RE.findall(found))
        if digits.startswith("0") and 10 <= len(digits) <= 11:
            spans.append((m.start(), end, PHONE))
    return spans


# -- bank accounts, employers, car plates, LINE ids (redact2) -------------------------------------
# An account number: 4–8 digits after a banking cue (口座, 普通, 当座, 預金, ゆうちょの記号 / 番号 …).
_ACCOUNT = re.compile(
    r"(?P<cue>口座(?:番号)?|普通(?:預金)?|当座(?:預金)?|記号|(?<!電話)(?<!携帯)(?<!FAX)(?<!郵便)番号|ナンバー|支店|"
    r"No\.?|NO\.?|ID)[ ]*(?:は|:|：|No\.?|NO\.?)?[ ]*"
    r"(?P<x>[A-Za-z]{0,3}\d{4,12}(?:[ -]\d{1,8}){0,3})(?![\d,.万千百円年月日歳才%％件回人号ヶか]|[ ]?(?:円|万|年|ヶ月|か月|歳))"
)
ID_NUMBER = "【番号】"
_BANK_CUE = re.compile(r"口座|普通|当座|貯金|預金|記号|支店")
# A Japanese number plate: place, class number, one kana, the number (12-34, ・・・7, 1234).
_PLATE = re.compile(
    r"(?<![\u4e00-\u9fff\d])(?:[\u4e00-\u9fff]{1,4}|(?<![ぁ-ん])[ぁ-ん]{2,4})[ ]?\d{2,3}[ ]?[あ-ろを][ ]?"
    r"(?:\d{1,2}-\d{2}|[・.]{1,3}[ ]?\d{1,3}|\d{4})(?![\d-]|[ ]?(?:円|万|千|百|人|年|件|回|個|台|歳|ヶ|か月|日|%|％))"
)
_LINE_ID = re.compile(
    r"(?:(?:LINE|Line|line|ライン|らいん)[ ]?(?:の)?[ ]?(?:ID|ＩＤ|id|アイディー)(?![A-Za-z])"
    r"|(?:インスタ(?:グラム)?|Instagram|instagram|Facebook|facebook|フェイスブック|Twitter|twitter|ツイッター|TikTok|"
    r"ティックトック|Threads|スレッズ|mixi|ミクシィ|アカウント)(?:の)?(?:ID|id|アカウント)?)[^A-Za-z0-9@\n]{0,8}?(?P<x>@?[A-Za-z0-9][A-Za-z0-9._\-]{3,29})"
    r"|(?<![A-Za-z])(?:ID|id)(?![A-Za-z])(?:検索)?[^A-Za-z0-9@\n。]{0,8}?(?P<y>@?[A-Za-z0-9][A-Za-z0-9._\-]{3,19})"
    r"|(?<![A-Za-z0-9._%+\-@])(?P<z>@[A-Za-z][A-Za-z0-9._\-]{2,19})(?![A-Za-z0-9@])"
)
# Building names (a proper katakana/latin name with a building word) and room numbers.
_BUILDING_WORDS = ("マンション|ハイツ|メゾン|コーポ|レジデンス|パレス|ハイム|ヒルズ|タワー|コート|シティ|ガーデン|テラス|"
                   "プラザ|ヴィラ|ビラ|カーサ|ドミール|ハウス|ビル|荘")
_GENERIC_BUILDING = re.compile(r"(?:タワー|ワンルーム|リゾート|デザイナーズ|ファミリー|シニア|ウィークリー|シェア|ツイン)?"
                               rf"(?:{_BUILDING_WORDS})")
_BUILDING = re.compile(
    rf"(?P<b>(?<![ァ-ヴーA-Za-z])[ァ-ヴーA-Za-z・]{{0,15}}(?:{_BUILDING_WORDS})[ァ-ヴーA-Za-z]{{0,8}}|[ァ-ヴーA-Za-z]{{2,12}}荘)"
    r"(?P<p>[\u4e00-\u9fff々ヶケ]{0,6}(?:第?[0-9IVX]{1,2}号?館)?)"
    r"(?P<r>(?:の)?[ \u3000]?(?:[A-Z]?-?\d{3,4}(?:号室|号)?|\d{1,4}(?:号室|号)|[A-Z]棟[ ]?\d{1,4}(?:号室|号)?)"
    r"(?![\d\-階F万千円年ヶか人台件回歳]))?"
    r"|(?<![\d\-])(?:\d{1,4}-){0,3}\d{2,4}号室"
    r"|(?:[\u4e00-\u9fffぁ-んァ-ヴー々ヶ]{1,10}?(?:団地|住宅|ハイツ|荘|マンション|コーポ))?[ \u3000]?(?<![\d\-])\d{1,3}(?:号棟|棟|号館)"
    r"(?:の)?[ \u3000]?\d{2,4}(?:号室|号)?(?![\d\-階])"
)
# A workplace: named after a cue (勤務先は / 勤め先: / 会社は …) or before 「で働いて」「でパート」….
_WORK_LABEL = re.compile(
    r"(?<![\u4e00-\u9fff々])(?:勤務先|勤め先|勤め|職場|会社名|会社|就職先|勤務|バイト先|パート先|転職先)[ ]*(?:は|が|:|：|の|\(|「)[ ]*"
    r"(?P<x>[^\n。、,!?！？()「」]{1,30}?)(?=です|でした|だった|という|っていう|って|といって|で働|に勤|で|$|[\n。、,!?！？)」])"
)
_JOBS = ("パート|アルバイト|バイト|派遣|夜勤|日勤|正社員|契約社員|教員|教師|看護師|介護士|保育士|事務|社員|職員|講師|"
         "ドライバー|運転手|店員|店長|期間工|作業員|薬剤師|医師|美容師|調理師")
_WORK_AFTER = re.compile(
    rf"(?:で|に)(?:は)?(?:働|勤め|勤務|{_JOBS})|(?<=[^\s\d])(?=勤務(?!先)|勤め(?!先))|の(?={_JOBS})"
    r"|を(?=経営|営ん|やって)"
)
_ORG_SUFFIXES = frozenset(
    "苑 園 荘 館 店 会 舎 堂 工務店 運送 運輸 建設 精機 工業 産業 商事 商店 製作所 興業 物産 電機 電気 病院 医院 "
    "クリニック 学校 中学校 小学校 高校 高等学校 大学 幼稚園 保育園 営業所 支店 工場 事業所 センター 物流 食品 "
    "不動産 設備 電工 技研 製作 化学 鉄工 鉄工所 自動車 整備 交通 タクシー 急便 ホーム".split()
)
_ORG_SUFFIX_ENDINGS = ("センター", "病院", "医院", "学校", "工場", "営業所", "事業所", "ホーム", "クリニック")
_COMPANY_FORMS = frozenset("株式会社 有限会社 合同会社 (株) (有) (合) ㈱ ㈲".split())


def _org_span(toks: list, start: int, end: int) -> tuple[int, int] | None:
    """The part of the noun phrase toks[start:end] that names an organisation (from its first proper
    word, or the word before an organisation suffix); None for generic words (工場, スーパー, 大阪)."""
    words = [k for k in range(start, end) if not _is_space(toks[k]) and toks[k][2] not in _COMPANY_FORMS]
    if not words:
        return None
    if any(toks[k][2] in _COMPANY_FORMS for k in range(start, end)):  # 株式会社青木電設: a company's name
        return toks[words[0]][0], toks[words[-1]][1]
    first = next((k for k in words if toks[k][4] or toks[k][3][1] == "固有名詞"), None)
    last = toks[words[-1]][2]
    suffix = last in _ORG_SUFFIXES or (len(last) >= 3 and last.endswith(_ORG_SUFFIX_ENDINGS))  # ケアセンター
    if first is not None and (suffix or toks[first][3][2] != "地名"
                              or any(toks[k][4] or toks[k][3][1] == "固有名詞" and toks[k][3][2] != "地名"
                                     for k in words)):
        if first > start and toks[first - 1][3][0] == "接頭辞":  # 聖マリア病院
            first -= 1
        return toks[first][0], toks[words[-1]][1]
    if suffix and len(words) >= 2:
        kana = [k for k in words[:-1] if re.fullmatch(r"[ぁ-んァ-ヴー]{2,}", toks[k][2]) or toks[k][4]]
        if kana and kana[-1] == words[-2]:  # さくら苑, ひまわり園, あおぞらケアセンター
            first = len(kana) - 1
            while first > 0 and words.index(kana[first]) - words.index(kana[first - 1]) == 1:
                first -= 1
            return toks[kana[first]][0], toks[words[-1]][1]
    return None


def _workplaces(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _WORK_LABEL.finditer(norm):
        value = m.group("x").strip()
        if not value or not _ANALYSABLE.search(value) and not re.search("[A-Za-z]{2}", value):
            continue
        toks = analyser.tokens(value)
        if any(t[3][0] in ("動詞", "形容詞", "助動詞", "副詞", "代名詞") for t in toks):
            continue
        if any(t[3][0] == "助詞" and t[2] != "の" for t in toks):
            continue
        cut = [k for k, t in enumerate(toks) if t[2] == "の"]
        pieces = [(0 if not i else cut[i - 1] + 1, c) for i, c in enumerate(cut)] + [(cut[-1] + 1 if cut else 0, len(toks))]
        found = [_org_span(toks, a, b) for a, b in pieces]
        found = [f for f in found if f]
        if found:
            base = m.start("x") + m.group("x").index(value)
            spans.append((base + found[0][0], base + found[-1][1], WORKPLACE))
    for m in _WORK_AFTER.finditer(norm):
        line_start = max(norm.rfind(c, 0, m.start()) for c in "\n。、,!?！？ \u3000") + 1
        head = norm[line_start:m.start()]
        quoted = re.search(r"[「『]([^」』]{1,20})[」』]$", head)  # 居酒屋「とりまる」を経営
        if quoted:
            spans.append((line_start + quoted.start(1), line_start + quoted.end(1), WORKPLACE))
            continue
        if not head or not _ANALYSABLE.search(head):
            continue
        toks = analyser.tokens(head)
        k = len(toks)
        while k > 0 and (toks[k - 1][3][0] in ("名詞", "接尾辞", "接頭辞") or toks[k - 1][2] in _COMPANY_FORMS) \
                and toks[k - 1][2] not in _RELATIONS and toks[k - 1][3][0] != "代名詞":
            k -= 1
        found = _org_span(toks, k, len(toks))
        if found:
            spans.append((line_start + found[0], line_start + found[1], WORKPLACE))
    return spans


def _buildings(norm: str) -> list[tuple[int, int, str]]:
    spans = []
    for m in _BUILDING.finditer(norm):
        if m.group("b") is None:  # a room number alone
            spans.append((*m.span(), ADDRESS))
            continue
        generic = _GENERIC_BUILDING.fullmatch(m.group("b"))
        if generic and not m.group("r"):
            continue  # 「中古マンション」「タワーマンション」「マンション購入」
        start, end = m.span()
        if generic and not m.group("p"):  # 「マンションの805号室」: only the room number
            start = m.start("r") + len(m.group("r")) - len(m.group("r").lstrip("の \u3000"))
        while end > start and norm[end - 1] == "の":
            end -= 1
        spans.append((start, end, ADDRESS))
    return spans


_ROMAJI_DESU = re.compile(r"(?<![A-Za-z])(?P<x>[A-Z][a-z]+(?:[ ][A-Z][a-z]+)?)[ ]+(?:desu|desu\.|des|to mou?shimasu|to iimasu)(?![A-Za-z])")


def _can_be_person(surface: str) -> bool:
    """Whether the dictionary knows this word as a person's name (among its other readings)."""
    return any(m.part_of_speech()[2] == "人名" for m in analyser.dictionary().lookup(surface))


# A word standing alone beside a phone number or an e-mail (「けいこ 090-…」「090-… 山田」).
_BESIDE_CONTACT = re.compile(r"(?:^|(?<=[、。,!！?？\n]))[ \u3000]*(?P<x>[ぁ-んァ-ヴー\u4e00-\u9fff々]{2,8})[ \u3000:：]*$")
_AFTER_CONTACT = re.compile(r"[ \u3000]*[(（][ \u3000]*(?P<x>[ぁ-んァ-ヴー\u4e00-\u9fff々]{2,8})[ \u3000]*[)）]")
_CONTACT_WORDS = frozenset("電話 携帯 自宅 固定 連絡 連絡先 番号 メール 夫 妻 主人 旦那 嫁 私 自分 本人 会社 職場 日中 夜 昼 夕方 "
                           "平日 土日 休日 仕事 仕事中 こちら ここ 下記 以下 番号は 携帯は".split())


def _names_beside_contacts(norm: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out = []
    for start, _end, label in spans:
        if label not in (PHONE, EMAIL):
            continue
        m = _BESIDE_CONTACT.search(norm, 0, start) or _AFTER_CONTACT.match(norm, _end)
        if not m or m.group("x") in _CONTACT_WORDS or m.group("x") in _NOT_NAMES:
            continue
        toks = [t for t in analyser.tokens(m.group("x")) if not _is_space(t)]
        if len(toks) <= 2 and (_is_person(toks[0]) or _can_be_person(toks[0][2])) and all(
                _is_person(t) or _can_be_person(t[2]) or t[3][0] == "接尾辞" for t in toks[1:]):  # のぶ|こ
            out.append((*m.span("x"), NAME))
    return out


def _everywhere(norm: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """A name found once is hidden wherever else it stands in the message (北条浩一 → 北条建設)."""
    names = set()
    for start, end, label in spans:
        if label == NAME:
            value = norm[start:end]
            parts = re.split(r"[ \u3000・]", value)
            if _ANALYSABLE.search(value):
                parts += [t[2] for t in analyser.tokens(value) if _is_person(t)]
            names |= {part for part in parts if len(part) >= 2 and part not in _NOT_NAMES}
    out = []
    for name in names:
        out += [(m.start(), m.end(), NAME) for m in re.finditer(re.escape(name), norm)]
    return out


_PATTERNS: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    # (pattern, label, use the kanji-digit view)
    (_CASE, CASE, True),
    (_BIRTH, BIRTHDATE, False),
    (_EMAIL, EMAIL, False),
    (_EMAIL_SPELLED, EMAIL, False),
    (_ACCOUNT, ACCOUNT, False),
    (_POSTAL, POSTAL, False),
    (_POSTAL_BARE, POSTAL, False),
    (_POSTAL_BARE, POSTAL, True),
    (_PHONE, PHONE, False),
    (_PHONE, PHONE, True),
    (_ADDRESS, ADDRESS, False),
    (_ADDRESS_MORE, ADDRESS, False),
    (_PLATE, PLATE, False),
    (_LINE_ID, LINE_ID, False),
    (_NAME_INTRO, NAME, False),
    (_NAME_DESU_CONTEXT, NAME, False),
    (_NAME_DESU, NAME, False),
)


_DASH_CHARS = frozenset("‐‑‒–—―−ー－ｰ﹣⁃")


def _normalize(text: str) -> tuple[str, Any]:
    """NFKC per character (+ dashes unified); returns (normalized, index → original index)."""
    if unicodedata.is_normalized("NFKC", text) and _DASH_CHARS.isdisjoint(text):
        return text, range(len(text))
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            out.append(ch)
            index.append(i)
            continue
        n = unicodedata.normalize("NFKC", ch)
        n = n.translate(_DASHES) if ch != "ー" else ch  # ー is a long vowel mark in words
        for c in n:
            out.append(c)
            index.append(i)
    normalized = "".join(out)
    # ー between digits is a dash (「090ー1234ー5678」)
    if "ー" in normalized:
        normalized = re.sub(r"(?<=\d)ー(?=\d)", "-", normalized)
    return normalized, index


def _match_span(m: re.Match[str], pattern: re.Pattern[str]) -> tuple[int, int]:
    for group in ("x", "y", "z", "w", "v", "u"):
        if group in pattern.groupindex and m.group(group) is not None:
            return m.span(group)
    return m.span()


def _spans(norm: str, known: Iterable[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    kanji_view = None
    digits = sum(c.isdigit() for c in norm)
    for pattern, label, use_kanji in _PATTERNS:
        if not _worth_trying(pattern, label, use_kanji, norm, digits):
            continue
        view = norm
        if use_kanji:
            if label != CASE and not _KANJI_DIGIT_RE.search(norm):
                continue
            kanji_view = kanji_view or norm.translate(_KANJI_DIGITS)
            view = kanji_view
        for m in pattern.finditer(view):
            start, end = _match_span(m, pattern)
            if label == NAME and (norm[start:end].strip() in _NOT_NAMES or not _looks_like_name(norm[start:end])):
                continue
            if label == PHONE and not _phone_ok(view[start:end]):
                continue
            if label == CASE and not re.search(r"\d", view[start:end]):
                continue  # 「事件番号は分かりません」
            if label == ACCOUNT:
                if _phone_ok(view[start:end]) and view[start:end].lstrip("( ").startswith("0") and \
                        not _BANK_CUE.search(m.group("cue")):
                    continue
                if not _BANK_CUE.search(m.group("cue")):
                    spans.append((start, end, ID_NUMBER))
                    continue
            if end > start:
                spans.append((start, end, label))
    if _GAP_RE.search(norm.strip()) and _ADDRESS_TRIGGERS.search(norm):
        spans += _joined_addresses(norm)
    if digits >= 7 or _SPOKEN_RE.search(norm):
        spans += _spoken_phones(norm.translate(_KANJI_DIGITS))
    if _ADDRESS_LABEL_TRIGGER.search(norm):
        spans += _address_label(norm)
    if _NAME_LABEL_TRIGGER.search(norm):
        spans += _label_names(norm)
    if _LATIN2_RE.search(norm):
        spans += _romaji_names(norm)
        spans += [(*m.span("x"), NAME) for m in _ROMAJI_DESU.finditer(norm)
                  if all(_ROMAJI_WORD.fullmatch(w) for w in m.group("x").split())]
    if _BUILDING_TRIGGER.search(norm):
        spans += _buildings(norm)
    if _WORK_TRIGGER.search(norm):
        spans += _workplaces(norm)
    if _ANALYSABLE.search(norm):
        spans += _analyser_names(norm)
        spans += _kana_honorific_names(norm)
    if "\n" in norm.strip() or _SENTENCE_GAP_RE.search(norm):
        spans += _signature(norm)
    for value in known:
        compiled = _known_pattern((value or "").strip())
        if compiled is None:
            continue
        pat, label = compiled
        for m in pat.finditer(norm):
            spans.append((m.start(), m.end(), label))
    if _ANALYSABLE.search(norm):
        spans += _names_beside_contacts(norm, spans)
    spans += _everywhere(norm, spans)
    return [_municipality_kept(norm, span) for span in spans]


_MUNICIPALITY_FIRST = re.compile(
    rf"(?:{_PREFS})?[ \u3000]?(?:[\u4e00-\u9fff々ヶケ]{{1,6}}?(?:市|区|郡)[ \u3000]?){{1,3}}?(?:の[ \u3000]?|[ \u3000])")


def _municipality_kept(norm: str, span: tuple[int, int, str]) -> tuple[int, int, str]:
    """「豊中市の東豊中町3丁目」: the municipality written apart from the street stays visible (marketing needs it;
    it names no one), the rest is hidden."""
    start, end, label = span
    if label != ADDRESS:
        return span
    lead = _LEAD_PARTICLE.match(norm, start, end)  # 「家は 熊本市東区 …」: the sentence before the place
    for at in ([lead.end()] if lead else []) + [start]:
        m = _MUNICIPALITY_FIRST.match(norm, at, end)
        if m and m.end() < end and re.search(r"\d|[一二三四五六七八九十]", norm[m.end():end]):
            return m.end(), end, label
    return span


_LEAD_PARTICLE = re.compile(r"[\u4e00-\u9fff]{1,3}[はがもで][ \u3000]*")


_NAME_TRIGGERS = re.compile(r"です|でござ|だよ|だ。|申|言い|いいます|いう者|名|氏")
_NAME_LABEL_TRIGGER = re.compile(r"名|なまえ|差出人|署名|契約者|申込者|債務者|ふりがな|フリガナ|よみがな|旧姓|ネーム")
_ADDRESS_TRIGGERS = re.compile(r"[市区町村郡都道府県丁番字]|\d-\d")
_WORK_TRIGGER = re.compile(r"勤|働|職場|会社|経営|営ん|パート|バイト|派遣|社員|職員|教員|教師|看護師|介護士|保育士|講師|事務|ドライバー|運転手")
_ADDRESS_LABEL_TRIGGER = re.compile(r"住所|所在地|物件の場所")


# Cheap triggers, compiled once.
_KANJI_DIGIT_RE = re.compile("[〇一二三四五六七八九零]")
_GAP_RE = re.compile(r"\S[\n \u3000の]")
_SPOKEN_RE = re.compile("[〇一二三四五六七八九]|ゼロ|レイ|マル|ぜろ|れい|まる")
_LATIN2_RE = re.compile("[A-Za-z]{2}")
_SENTENCE_GAP_RE = re.compile(r"[。!！][ \u3000]+\S")
_BUILDING_TRIGGER = re.compile(f"{_BUILDING_WORDS}|号室|棟|号館")
_AT_TRIGGER = re.compile(r"at|アット|あっと|@|\(a\)|\[a\]|[★☆◎]")
_ACCOUNT_TRIGGER = re.compile(r"口座|普通|当座|記号|番号|支店|ナンバー|No|NO|ID")
_BIRTH_TRIGGER = re.compile(r"生|誕|birth|Birth|DOB|D\.O\.B|うまれ")
_ID_TRIGGER = re.compile(r"ID|id|ＩＤ|アイディー|@|インスタ|Instagram|instagram|Facebook|facebook|フェイスブック|"
                         r"Twitter|twitter|ツイッター|TikTok|ティックトック|Threads|スレッズ|mixi|ミクシィ|アカウント")


def _worth_trying(pattern: re.Pattern[str], label: str, use_kanji: bool, norm: str, digits: int) -> bool:
    """Cheap checks that skip patterns which cannot match (most messages have nothing)."""
    if pattern is _EMAIL:
        return "@" in norm
    if pattern is _EMAIL_SPELLED:
        return bool(_AT_TRIGGER.search(norm))
    if label == POSTAL:
        return digits >= 7 or use_kanji
    if label == PHONE:
        return digits >= 9 if not use_kanji else True
    if label == ADDRESS:
        return bool(_ADDRESS_TRIGGERS.search(norm))
    if label == CASE:
        return "号" in norm or "(" in norm
    if label == ACCOUNT:
        return digits >= 4 and bool(_ACCOUNT_TRIGGER.search(norm))
    if label == PLATE:
        return digits >= 3
    if label == LINE_ID:
        return bool(_ID_TRIGGER.search(norm))
    if label == BIRTHDATE:
        return bool(_BIRTH_TRIGGER.search(norm))
    return bool(_NAME_TRIGGERS.search(norm))


_KANA_ROMAJI = dict(zip(
    "ア イ ウ エ オ カ キ ク ケ コ サ シ ス セ ソ タ チ ツ テ ト ナ ニ ヌ ネ ノ ハ ヒ フ ヘ ホ マ ミ ム メ モ ヤ ユ ヨ "
    "ラ リ ル レ ロ ワ ヲ ン ガ ギ グ ゲ ゴ ザ ジ ズ ゼ ゾ ダ ヂ ヅ デ ド バ ビ ブ ベ ボ パ ピ プ ペ ポ".split(),
    "a i u e o ka ki ku ke ko sa shi su se so ta chi tsu te to na ni nu ne no ha hi fu he ho ma mi mu me mo "
    "ya yu yo ra ri ru re ro wa o n ga gi gu ge go za ji zu ze zo da ji zu de do ba bi bu be bo pa pi pu pe po".split(),
    strict=True))


def _romaji(kana: str) -> str:
    """Hepburn romaji of a katakana reading (ヤマダ → yamada, ショウタ → shouta)."""
    out = ""
    for c in kana:
        if c in "ャュョ" and out and out[-1] == "i":
            out = out[:-1] + ("" if out[-2:-1] in ("h", "j") else "y") + {"ャ": "a", "ュ": "u", "ョ": "o"}[c]
        elif c == "ッ":
            out += "\0"
        elif c == "ー":
            continue
        else:
            r = _KANA_ROMAJI.get(c, "")
            out = out.replace("\0", r[:1]) + r if "\0" in out else out + r
    return out.replace("\0", "")


def _hiragana(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s)


def _name_variants(value: str) -> set[str]:
    """The stored name, its parts and their readings (katakana and hiragana)."""
    whole = re.sub(r"[ \u3000]", "", value)
    variants = {whole}
    for part in re.split(r"[^\w\u3040-\u30ff\u4e00-\u9fff々ー]+", value):
        part = part.strip("_")
        if len(part) >= 2:
            variants.add(part)
    if _ANALYSABLE.search(whole):
        toks = list(analyser.tokenizer().tokenize(whole))
        readings = []
        for m in toks:
            pos = m.part_of_speech()
            namelike = pos[1] == "固有名詞" or m.is_oov() or pos[2] == "人名"
            if len(m.surface()) >= 2 and namelike:
                variants.add(m.surface())
            reading = m.reading_form()
            readings.append(reading)
            if len(reading) >= 2 and namelike:
                variants |= {reading, _hiragana(reading)}
        full = "".join(readings)
        romaji = {_romaji(r) for r in readings if len(r) >= 2}
        variants |= {full, _hiragana(full), *romaji, *(r.replace("ou", "o").replace("uu", "u") for r in romaji)}
    return {v for v in variants if len(v) >= 2 and v not in _NOT_NAMES}


@lru_cache(maxsize=4096)
def _known_pattern(value: str) -> tuple[re.Pattern[str], str] | None:
    if len(value) < 2:
        return None
    nv, _ = _normalize(value)
    label = EMAIL if "@" in nv else PHONE if re.fullmatch(r"[\d+\- ()]+", nv) else NAME
    if label == PHONE:
        digits = re.sub(r"\D", "", nv)
        if len(digits) < 6:
            return None
        return re.compile(f"{_SEP}{{0,2}}".join(map(re.escape, digits))), label
    if label == EMAIL:
        return re.compile(r"[ \u3000]?".join(map(re.escape, nv.replace(" ", "")))), label
    variants = sorted(_name_variants(nv), key=len, reverse=True)
    if not variants:
        return None
    return re.compile("|".join(r"[ \u3000]?".join(map(re.escape, v)) for v in variants), re.I), label


def _phone_ok(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith("+") or digits.startswith("81") and not candidate.lstrip("( ").startswith("0"):
        digits = "0" + digits[2:].lstrip("0") if digits.startswith("81") else digits
    return digits.startswith("0") and 10 <= len(digits) <= 11


def redact(text: str | None, known: Iterable[str] = ()) -> str:
    """``text`` with personal data replaced by 【…】 labels (None → "")."""
    if not text:
        return text or ""
    norm, index = _normalize(text)
    spans = _spans(norm, known)
    if not spans:
        return text
    if "【" in norm:  # already redacted parts stay as they are (redacting twice changes nothing)
        labels = [m.span() for m in _LABELS.finditer(norm)]
        spans = [s for s in spans if not any(s[0] < end and start < s[1] for start, end in labels)]
    # earliest first, longest first; drop overlaps
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            if end > merged[-1][1] and merged[-1][2] == label:
                merged[-1] = (merged[-1][0], end, label)  # the same kind, overlapping: one span
            continue
        merged.append((start, end, label))
    out: list[str] = []
    pos = 0  # in the original text
    for start, end, label in merged:
        o_start = index[start]
        o_end = index[end - 1] + 1
        # keep surrounding spaces as written
        while o_start < o_end and text[o_start] in " \u3000\n":
            o_start += 1
        while o_end > o_start and text[o_end - 1] in " \u3000\n":
            o_end -= 1
        if o_start < pos:
            continue
        out.append(text[pos:o_start])
        out.append(label)
        pos = o_end
    out.append(text[pos:])
    return "".join(out)


_LABELS = re.compile("|".join(map(re.escape, (PHONE, EMAIL, POSTAL, ADDRESS, NAME, BIRTHDATE, CASE, ACCOUNT, WORKPLACE,
                                               PLATE, LINE_ID, ID_NUMBER))))


def mentions_known(text: str | None, known: Iterable[str]) -> bool:
    """Whether ``text`` still holds one of the ``known`` strings (or a part or reading of the name)."""
    if not text:
        return False
    norm, _ = _normalize(text)
    for value in known:
        compiled = _known_pattern((value or "").strip())
        if compiled is not None and compiled[0].search(norm):
            return True
    return False
