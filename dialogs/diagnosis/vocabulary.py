"""The dialog's vocabulary: the questions, the postbacks, the constants and the context words."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterable

from dialogs import understanding
from dialogs.assessment import NOTICES
from dialogs.base import format_date  # noqa: F401  (the dialog's modules import it from here)

# ---------------------------------------------------------------------------
# The questions (machine.py declares the states from them)
# ---------------------------------------------------------------------------

#: The questions, in the order they are asked.
QUESTIONS: tuple[str, ...] = (
    "arrears",  # how far behind
    "notice",  # the latest official letter
    "court_letter",  # "a letter from the court": which one?
    "dates",  # 開札日 / 入札期間 / 開始決定の日 (only while an auction runs)
    "ownership",  # 単独 / 共有名義
    "guarantor",  # 連帯保証人
    "divorce",
    "lender",  # 住宅金融支援機構 (フラット35) or a bank
    "stay",  # wants to stay (リースバック)
)
#: Collecting contact details, in order; ``handoff`` follows.
CONTACT_STEPS: tuple[str, ...] = ("contact", "contact_name", "contact_phone", "contact_time")

# ---------------------------------------------------------------------------
# Vocabulary of the postbacks (content/dialog.yaml buttons)
# ---------------------------------------------------------------------------

#: postback name → (question, {value → stored value})
ANSWER_POSTBACKS: dict[str, tuple[str, dict[str, Any]]] = {
    # representative months of each range (the assessment's thresholds: 3 = credit
    # record, 6 = acceleration likely)
    "arrears": ("arrears", {"0": 0, "1-2": 2, "3-5": 4, "6+": 6, "unknown": None}),
    "notice": ("notice", {**{n: n for n in NOTICES}, "none": "none", "unknown": "unknown", "court": "court"}),
    "court": ("court_letter", {"auction_start": "auction_start", "site_inspection": "site_inspection",
                               "bid_notice": "bid_notice", "unknown": "unknown"}),
    "own": ("ownership", {"single": False, "shared": True, "unknown": None}),
    "guarantor": ("guarantor", {"yes": True, "no": False, "unknown": None}),
    "divorce": ("divorce", {"none": "none", "in_progress": "in_progress", "done": "done", "unknown": None}),
    "lender": ("lender", {"jhf": "jhf", "bank": "bank", "unknown": "unknown"}),
    "stay": ("stay", {"yes": True, "no": False, "undecided": None}),
}
#: question → the Case field it fills
FIELD_OF = {
    "arrears": "arrears_months", "ownership": "co_owned", "guarantor": "joint_guarantor",
    "divorce": "divorce", "lender": "lender", "stay": "wants_to_stay",
}
#: question → what わからない (or two replies not understood) records
UNKNOWN_ANSWER: dict[str, Any] = {"arrears": None, "notice": "unknown", "court_letter": "unknown", "dates": {},
                                  "ownership": None, "guarantor": None, "divorce": None, "lender": "unknown",
                                  "stay": None}
#: question → {polarity (dialogs/reply.py) → answer}: what a bare yes / no / "either" means there
POLARITY_ANSWERS: dict[str, dict[str, Any]] = {
    "arrears": {"no": 0},  # 「遅れていますか」「してないです」
    "notice": {"no": "none"},  # 「届きましたか」「まだです」
    "guarantor": {"yes": True, "no": False},
    "divorce": {"no": "none"},
    "stay": {"no_preference": None},
}
DATE_FIELDS = {"kaisatsu": "kaisatsu_date", "start_decision": "start_decision_date",
               "bidding_start": "bidding_start", "bidding_end": "bidding_end", "inspection": "inspection_date"}
EXPLAIN_TOPICS = ("ninbai", "keibai", "merits", "cautions", "steps", "faq", "start")
#: The rich menu's postbacks (bot/channels/richmenu.py): menu:<area> → explanation topic.
RICH_MENU_TOPICS = {"ninbai": "ninbai", "compare": "keibai"}
#: The FAQ topic ids, as dialogs/understanding.py reads them in free text (defined there once).
FAQ_TOPICS: tuple[str, ...] = tuple(topic for topic, _pattern in understanding.FAQ_TOPICS)
CONTACT_TIMES = ("morning", "afternoon", "evening", "any")
DEADLINE_KEYS = ("legal_last_day", "plan_by", "ideal_by", "days_left", "estimate", "auction_window",
                 "no_date", "after_kaisatsu")
MEDIA_KINDS = frozenset({"sticker", "image", "video", "audio", "file", "location"})
MAX_MESSAGES = 5  # LINE's reply limit
MAX_QUICK_REPLIES = 13
HISTORY_MAX = 30
_NOTICE_RANK = {n: i for i, n in enumerate(NOTICES)}

# ---------------------------------------------------------------------------
# Reading free text (what dialogs/understanding.py does not cover: context words)
# ---------------------------------------------------------------------------

_DONT_KNOW = re.compile(r"わから|分から|わかりません|分かりません|不明|知らない|しらない|覚えてない|覚えていない")
_RESTART = re.compile(r"^(最初から|はじめから|初めから|やり直(し|す)|リセット|もう一度最初)")
_QUESTION = re.compile(r"[?？]|ですか|ますか|でしょうか|どうなる|どうすれ|どうしたら|教えて|知りたい|とは$")
_YES = re.compile(r"^(はい|同意|いいよ|いいです|ok|オーケー|うん|お願い|進む|大丈夫)", re.I)
_NO = re.compile(r"^(いいえ|やめ|結構|けっこう|同意しない|しない)")
_READ = re.compile(r"説明|読むだけ|見るだけ")
_WAIT = re.compile(r"待つ|待ちます|このまま")
_COURT = re.compile(r"裁判所")
_ARREARS_NONE = re.compile(r"(滞納|遅れ|延滞).{0,6}(ない|なし|ありません|していません|してない)|払えて(い|)る|まだ払え|滞納なし")
_NOTICE_NONE = re.compile(r"まだ何も|何も(来て|届いて|き)|(来て|届いて)(い)?ない|(来て|届いて)いません|^なし|^ない")
_OWN_SINGLE = re.compile(r"単独|たんどく|じぶん(だけ|ひとり|の名義)|^(夫|妻|主人|旦那|父|母|親|私|わたし|自分)(の?名義)?(です)?$|自分(だけ|ひとり|一人|の名義)|私(だけ|ひとり|一人|の名義)|一人|ひとり")
_OWN_SHARED = re.compile(r"共有|きょうゆう|ふうふ|連名|夫婦|ペアローン|二人|ふたり|妻と|夫と")
_YES_WORD = re.compile(r"^(いる|います|いた|はい|あり|いるよ)|いる$|います$")
_NO_WORD = re.compile(r"^(いない|いません|いいえ|なし|ない)|いない$|いません$")
_DIVORCE_NONE = re.compile(r"関係ない|関係ありません|していない|してない|離婚してません|^いいえ|^なし|^ない")
_LENDER_JHF = re.compile(r"フラット|ふらっと|支援機構|機構|公庫|jhf", re.I)
_LENDER_BANK = re.compile(r"銀行|ぎんこう|バンク|信金|信用金庫|労金|ろうきん|ja|農協|組合|保証会社", re.I)
#: asked which letter came last: its word alone names it (most advanced first)
_NOTICE_WORDS = (
    (re.compile(r"期間入札|開札|入札"), "bid_notice"),
    (re.compile(r"現況調査|執行官"), "site_inspection"),
    (re.compile(r"開始決定|競売(?:の)?開始"), "auction_start"),
    (re.compile(r"代位弁済|だいいべんさい"), "subrogation"),
    (re.compile(r"期限の利益|一括(?:返済|で)|きげんのりえき"), "acceleration"),
    (re.compile(r"督促|催告|とくそく|さいこく"), "dunning"),
)
#: a lender named as where the loan is (outside the lender question)
_LENDER_BANK_NAMED = re.compile(
    r"(?:銀行|信用金庫|信金|労金|ろうきん|信用組合)(?:で借り|のローン|の住宅ローン|から借り)|^\S{0,10}(?:銀行|信用金庫|信金|労金|ろうきん)(?:です)?$")
_DURATION = re.compile(r"(\d{1,2})\s*(?:年|ねん)(半)?|(半)年|(\d{1,2})\s*(?:ヶ月|か月|カ月|ケ月|ヵ月|かげつ|月分|回分|回)")


def _duration_months(text: str) -> int | None:
    """「ちょうど1年」「1年半」「半年」「8ヶ月」 → months, as the answer to 「どのくらい遅れていますか」."""
    m = _DURATION.search(unicodedata.normalize("NFKC", text).translate(_KANJI_NUM))
    if not m:
        return None
    if m.group(1):
        return int(m.group(1)) * 12 + (6 if m.group(2) else 0)
    if m.group(3):
        return 6
    return int(m.group(4))


_KANJI_NUM = str.maketrans("一二三四五六七八九", "123456789")
_STAY_YES = re.compile(r"住み続け|住みたい|住んでいたい|残りたい|リースバック|離れたくない|出たくない")
_STAY_NO = re.compile(r"引っ?越し?て?(も|)(いい|よい|かまわない|構わない|大丈夫)|出て(も|)(いい|よい)|手放して(も|)(いい|よい)|"
                      r"引っ?越(す|します|す予定|すつもり|そう|したい)|出て(いく|行く|いき|行き)|手放(す|します|したい|そう)|"
                      r"売って(も|)(いい|よい|かまわない)|住まなくて(も|)(いい|よい)|未練はない|こだわ(らない|りはない)")
_STAY_UNDECIDED = re.compile(r"決めていない|決めてない|迷って|まだ|考え中")
#: question → (its own words, the answer they give), tried in order before a bare yes / no
QUESTION_WORDS: dict[str, tuple[tuple[re.Pattern[str], Any], ...]] = {
    # asked which letter: a letter's word alone is the answer (「督促の手紙が何通か」)
    "notice": (*_NOTICE_WORDS, (_COURT, "court"), (_NOTICE_NONE, "none")),
    "court_letter": ((re.compile("開始"), "auction_start"), (re.compile("調査"), "site_inspection"),
                     (re.compile("入札|開札"), "bid_notice")),
    "ownership": ((_OWN_SHARED, True), (_OWN_SINGLE, False)),
    "guarantor": ((_NO_WORD, False), (_YES_WORD, True)),
    "divorce": ((_DIVORCE_NONE, "none"),),
    "lender": ((_LENDER_JHF, "jhf"), (_LENDER_BANK, "bank"), (re.compile("その他|ほか"), "other")),
    "stay": ((_STAY_NO, False), (_STAY_YES, True), (_STAY_UNDECIDED, None)),
}
#: questions whose own words are a bare yes / no (「いません」): not used when the message
#: states another question's fact (then the "no" is about that)
BARE_WORD_QUESTIONS = frozenset({"guarantor"})
_PHONE = re.compile(r"(?:\+81[- ]?|0)\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINE = re.compile(r"line|ライン", re.I)
_TIMES = (
    ("morning", re.compile(r"午前|朝")),
    ("afternoon", re.compile(r"午後|昼")),
    ("evening", re.compile(r"夕方|夜|晩|以降")),
    ("any", re.compile(r"いつでも|何時でも|いつも")),
)
_NAME_NOISE = re.compile(r"^(名前は|なまえは|私は|わたしは)|(です|と申します|といいます|でございます)[。.！!]*$")
_SKIP = re.compile(r"伝えない|言いたくない|いいたくない|なし|スキップ|匿名|^いいえ")


_GREETING = re.compile(
    r"^(?:こんにちは|こんにちわ|こんばんは|こんばんわ|おはよう(?:ございます)?|はじめまして|初めまして|よろしく|"
    r"もしもし|どうも|失礼します|hello|hi)(?:[、。!！\s]|ございます|お願いします|おねがいします|です)*$", re.I)
MAX_HELD = 5  # messages held before consent
MAX_HELD_CHARS = 2000


def states_facts(reading: Any) -> bool:
    """Does a reading (dialogs/understanding.py) state anything about the case?"""
    return bool(reading.arrears_months is not None or reading.co_owned is not None
                or reading.joint_guarantor is not None or reading.divorce is not None or reading.notices
                or reading.dates or getattr(reading, "guarantor_self", None) is not None
                or getattr(reading, "tax_seizure", False))


def _norm(text: str) -> str:
    """NFKC, trimmed, without closing punctuation: what free-text matching compares."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    return t.rstrip("。．.！!、 ")


def _iso(d: Any) -> str | None:
    return d.isoformat() if isinstance(d, dt.date) else d


def _parse_iso(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v[:10]) if v else None
    except ValueError:
        return None


def _latest(notices: Iterable[str]) -> str | None:
    ranked = [n for n in notices if n in _NOTICE_RANK]
    return max(ranked, key=_NOTICE_RANK.__getitem__) if ranked else None


_SENTENCE_END = re.compile(r"[。\n!！?？]")


class _Nothing:
    def __repr__(self) -> str:  # pragma: no cover
        return "_NOTHING"


_NOTHING: Any = _Nothing()
