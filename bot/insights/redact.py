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

PHONE = "【電話番号】"
EMAIL = "【メール】"
POSTAL = "【郵便番号】"
ADDRESS = "【住所】"
NAME = "【氏名】"

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
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]*\s?@\s?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
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
    rf"|(?:{_PREFS})(?:{_KANA_KANJI}{{1,8}}?(?:市|区|町|村|郡)){{1,3}}{_KANA_KANJI}{{1,8}}?(?=に住|在住|です|$)"
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

_PATTERNS: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    # (pattern, label, use the kanji-digit view)
    (_EMAIL, EMAIL, False),
    (_POSTAL, POSTAL, False),
    (_PHONE, PHONE, False),
    (_PHONE, PHONE, True),
    (_ADDRESS, ADDRESS, False),
    (_NAME_LABEL, NAME, False),
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


def _spans(norm: str, known: Iterable[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    kanji_view = None
    digits = sum(c.isdigit() for c in norm)
    for pattern, label, use_kanji in _PATTERNS:
        if not _worth_trying(label, use_kanji, norm, digits):
            continue
        view = norm
        if use_kanji:
            if not re.search("[〇一二三四五六七八九零]", norm):
                continue
            kanji_view = kanji_view or norm.translate(_KANJI_DIGITS)
            view = kanji_view
        for m in pattern.finditer(view):
            start, end = m.span("x") if "x" in pattern.groupindex else m.span()
            if label == NAME and norm[start:end].strip() in _NOT_NAMES:
                continue
            if label == PHONE and not _phone_ok(view[start:end]):
                continue
            if end > start:
                spans.append((start, end, label))
    for value in known:
        compiled = _known_pattern((value or "").strip())
        if compiled is None:
            continue
        pat, label = compiled
        for m in pat.finditer(norm):
            spans.append((m.start(), m.end(), label))
    return spans


_NAME_TRIGGERS = re.compile(r"です|でござ|だよ|だ。|申|言い|いいます|いう者|名|氏")
_ADDRESS_TRIGGERS = re.compile(r"[市区町村郡都道府県丁番]")


def _worth_trying(label: str, use_kanji: bool, norm: str, digits: int) -> bool:
    """Cheap checks that skip patterns which cannot match (most messages have nothing)."""
    if label == EMAIL:
        return "@" in norm
    if label == POSTAL:
        return digits >= 7
    if label == PHONE:
        return digits >= 9 if not use_kanji else True
    if label == ADDRESS:
        return bool(_ADDRESS_TRIGGERS.search(norm))
    return bool(_NAME_TRIGGERS.search(norm))


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
    return re.compile(r"[ \u3000]?".join(map(re.escape, nv.replace(" ", "").replace("\u3000", "")))), label


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
    # earliest first, longest first; drop overlaps
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if merged and start < merged[-1][1]:
            continue
        merged.append((start, end, label))
    out: list[str] = []
    pos = 0  # in the original text
    for start, end, label in merged:
        o_start = index[start]
        o_end = index[end - 1] + 1
        # keep surrounding spaces as written
        while o_start < o_end and text[o_start] in " \u3000":
            o_start += 1
        while o_end > o_start and text[o_end - 1] in " \u3000":
            o_end -= 1
        if o_start < pos:
            continue
        out.append(text[pos:o_start])
        out.append(label)
        pos = o_end
    out.append(text[pos:])
    return "".join(out)
