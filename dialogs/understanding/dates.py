"""Dates in a message (ja-timex on short windows around date cues); only year-less and relative
results are resolved here, with the shared year and the court-date rules."""
from __future__ import annotations

import datetime as dt
import logging
import re
import threading

from dialogs.understanding.normalize import MAX_DATE_CHARS

logger = logging.getLogger(__name__)



# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

DATE_CUE = re.compile(
    r"(?:令和|平成|昭和|r|h|R|H)\s*[0-9〇一二三四五六七八九十元]"
    r"|[0-9〇一二三四五六七八九十]{1,4}\s*[年月/\-]\s*[0-9〇一二三四五六七八九十]"
    r"|明日|明後日|昨日|一昨日|来週|今週|再来週|先週|先々週|来月|今月|再来月|先月|先々月|[0-9〇一二三四五六七八九十]\s*(?:日|週間)\s*(?:後|前)"
    # a day alone after a court word: 「…から10日まで、開札が17日」 (the month of the date before)
    r"|(?:開札|入札|調査)[^0-9。!?\n]{0,6}[0-9]{1,2}\s*日"
)
#: A day counted from today (「明日」「あさって」「来週の月曜」「3日後」) is a date of the case only
#: next to what happens on it: a court step, a letter, a deadline. 「明日また連絡します」 is not.
RELATIVE_DAY_NEEDS = re.compile(
    r"執行官|調査|開札|入札|裁判所|競売|差押|差し押さえ|通知|手紙|書類|届|期限|期日|締め?切|〆切|退去|立ち?退|引渡|明け?渡"
    r"|鑑定|評価人|督促|催告|代位弁済|家を?見に|写真"
)
YEARLESS_LOOKBACK_DAYS = 29  # a year-less date up to this many days ago stays in the past
#: After a year-less date, in its clause: it is in the past (「…に終わりました」「…に届いた」).
#: Not the copula 「でした」: 「開札は12月14日でした」 corrects what the letter says, it does
#: not say the day passed (a court date that did pass is found by COURT_DATE_BEFORE).
PAST_AFTER = re.compile(
    r"^(?:付け?|付で|付の|付き)"  # 「10月15日付けでした」: the date of a letter received
    r"|^(?:に|は|で|が|の)?(?:もう|すでに|既に)?"
    r"(?:終わ|過ぎ|済ん|済み|あった|ありまし|届いた|届きまし|来た|来まし|きた|きまし|出た|出まし|受け取っ|行われ)"
)
#: Before a year-less date: a court date (開札, 入札), never more than half a year ahead.
COURT_DATE_BEFORE = re.compile(r"開札|入札|売却決定")
COURT_DATE_MAX_AHEAD_DAYS = 183
#: 「R9.1.20から1.27まで」: the end of a range in the short form ja-timex does not read alone.
SHORT_RANGE_END = re.compile(r"(から|〜|~)(\d{1,2})[./](\d{1,2})(?![\d./])")
RANGE_JOIN = re.compile(r"^(?:〜|~|から|-|ー|–|—|より|か|と|や|・|、|または|もしくは)(?:の)?$")
#: Relative days in kana, onto the kanji ja-timex reads (「開札はおとといでした」).
#: 「同月」「同年」: the month or year of the date before (court letters: 「同月27日」);
#: 「翌月」「翌年」: the one after it (「12月22日から同月28日まで、開札は翌月5日」).
SAME_AS_BEFORE = re.compile(r"(同|翌)(月|年)(?=[0-9])")
KANA_DAYS = (("おととい", "一昨日"), ("おとつい", "一昨日"), ("きのう", "昨日"), ("あさって", "明後日"), ("あした", "明日"))


# ---------------------------------------------------------------------------
# Dates (ja-timex)
# ---------------------------------------------------------------------------

_local = threading.local()


def _parser():
    """One TimexParser per thread: it keeps per-call state and is not thread-safe."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        from ja_timex import TimexParser
        from ja_timex.extract_filter import DecimalFilter, NumexpFilter, PartialNumFilter, PartialPhraseFilter
        from ja_timex.number_normalizer import NumberNormalizer
        from ja_timex.tagger import AbstimeTagger, DurationTagger, ReltimeTagger, SetTagger

        parser = TimexParser(
            number_normalizer=NumberNormalizer(),
            abstime_tagger=AbstimeTagger(),
            duration_tagger=DurationTagger(),
            reltime_tagger=ReltimeTagger(),
            set_tagger=SetTagger(patterns=[]),  # 「毎月」 etc. are never calendar dates
            pattern_filters=[NumexpFilter(), PartialNumFilter(), DecimalFilter(), PartialPhraseFilter()],
        )
        _local.parser = parser
    return parser


def _date_windows(plain: str) -> str:
    """Only the bits around date cues, joined; keeps ja-timex fast and safe on long input."""
    text = _flat(plain)
    text = re.sub(r"\d{9,}", "#", text)  # long digit runs make ja-timex's regexes blow up
    text = SHORT_RANGE_END.sub(r"\1\2月\3日", text)
    spans: list[list[int]] = []
    for m in DATE_CUE.finditer(text):
        s, e = max(0, m.start() - 14), min(len(text), m.end() + 14)
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
        if sum(b - a for a, b in spans) >= MAX_DATE_CHARS:
            break
    return "。".join(text[a:b] for a, b in spans)[:MAX_DATE_CHARS]


def _flat(plain: str) -> str:
    text = re.sub(r"[ \t]+", "", plain)
    for kana, kanji in KANA_DAYS:
        text = text.replace(kana, kanji)
    return SAME_AS_BEFORE.sub(lambda m: _same_as_before(text, m), text)


def _same_as_before(text: str, m: re.Match[str]) -> str:
    """「同月27日」「同年2月3日」 (as court letters write them): the month or year of the date
    written before it, spelled out; left as it was when none is."""
    after, unit = m.group(1) == "翌", m.group(2)
    if after:
        return _next_of(text[: m.start()], unit) or m.group()
    found = re.findall(r"((?:令和|平成)?[0-9元]{1,4}年)" if unit == "年" else r"([0-9]{1,2}月)(?=[0-9]{1,2}日)",
                       text[: m.start()])
    return found[-1] if found else m.group()


_YEAR_MONTH = re.compile(r"(?:(令和|平成)?([0-9元]{1,4})年)?([0-9]{1,2})月(?=[0-9]{1,2}日)")


def _next_of(before: str, unit: str) -> str | None:
    """「翌月」「翌年」: the month (with its year, when one was written: 12月 → next year's 1月)
    or the year after the last date written in ``before``; None when there is none."""
    found = list(_YEAR_MONTH.finditer(before))
    years = re.findall(r"(令和|平成)?([0-9元]{1,4})年", before)
    era, year = (years[-1] if years else ("", ""))

    def year_plus(k: int) -> str:
        return f"{era}{(1 if year == '元' else int(year)) + k}年" if year else ""

    if unit == "年":
        return year_plus(1) or None
    if not found:
        return None
    month = int(found[-1].group(3))
    return f"{year_plus(1)}1月" if month == 12 else f"{year_plus(0)}{month + 1}月"


def _court_sentences(plain: str) -> list[str]:
    """The sentences of the message that speak of a court date (開札, 入札): a year-less date
    in them is a court date even when the word is further back than the window around it."""
    return [s for s in re.split(r"[。!?！？\n]", _flat(plain)) if COURT_DATE_BEFORE.search(s)]


def read_dates(plain: str, today: dt.date) -> list[dt.date]:
    """Every calendar date mentioned, in order of mention, without repeats."""
    window = _date_windows(plain)
    if not window:
        return []
    try:
        timexes = sorted(_parser().parse(window), key=lambda t: t.span[0])
    except Exception:
        logger.exception("understanding: ja-timex failed")
        return []
    dates: list[dt.date] = []
    prev = None  # (timex, resolved date or None)
    anchor = None  # the last date written with its year: the year-less ones after it share it
    court = _court_sentences(plain)
    for t in timexes:
        in_court = any(t.text and t.text in s for s in court)
        resolved = _resolve(t, prev, window, today, anchor, in_court)
        if resolved is not None and _counted_from_today(t) and not (_has_relative_cue(t, window) or _bare(t, window)):
            resolved = None
        if resolved is not None and resolved not in dates:
            dates.append(resolved)
        if resolved is not None and t.type == "DATE" and (t.value or "")[:4].isdigit():
            anchor = resolved
        prev = (t, resolved)
    return dates


def _counted_from_today(t) -> bool:
    """「明日」「3日後」 (a duration from today) or 「来週の月曜」 (a weekday of a relative week)."""
    return t.type == "DURATION" or bool(_WEEK_VALUE.match(t.value or ""))


def _has_relative_cue(t, window: str) -> bool:
    """The window sentence of ``t`` speaks of a court step, a letter or a deadline."""
    start = window.rfind("。", 0, t.span[0]) + 1
    end = window.find("。", t.span[1])
    return bool(RELATIVE_DAY_NEEDS.search(window[start: end if end != -1 else len(window)]))


#: What a bare answer may hold besides its date: 「2週間後です」「明日ごろかな」.
BARE_FILLER = re.compile(r"(?:再来|来|今)週の?|です|でした|ごろ|頃|くらい|ぐらい|かな|の?予定|らしい|みたい|だそう|だと|思います|[\W_]")


def _bare(t, window: str) -> bool:
    """The message is the date alone, the answer to a question about it (「2週間後」「明日です」)."""
    return not BARE_FILLER.sub("", window.replace(t.text or "", "", 1))


_DATE_VALUE = re.compile(r"^(\d{4}|XXXX)-(\d{2}|XX)-(\d{2}|XX)$")
_WEEK_VALUE = re.compile(r"^XXXX-WXX-([1-7])$")
_SPAN_VALUE = re.compile(r"^P(\d+(?:\.\d+)?)([DWMY])$")


def _resolve(t, prev, window: str, today: dt.date, anchor: dt.date | None = None, court: bool = False) -> dt.date | None:
    if t.type == "DATE":
        m = _DATE_VALUE.match(t.value or "")
        if m:
            return _resolve_date(m, t, prev, window, today, anchor, court)
        w = _WEEK_VALUE.match(t.value or "")
        if w and prev is not None and _adjacent(prev[0], t, window):
            offset = {"来週": 7, "今週": 0, "再来週": 14, "先週": -7, "先々週": -14}.get(prev[0].text)
            if offset is not None:
                monday = today - dt.timedelta(days=today.weekday())
                return monday + dt.timedelta(days=offset + int(w.group(1)) - 1)
        return None
    if t.type == "DURATION" and t.mod in ("AFTER", "BEFORE"):
        m = _SPAN_VALUE.match(t.value or "")
        if not m or m.group(2) not in "DW":
            return None
        text = t.text or ""
        # 「来週」「先週」 alone are not a day; 「2週間後」「3日前」「明日」「昨日」 are
        if not (text.endswith(("後", "前")) or text in ("明日", "明後日", "昨日", "一昨日")):
            return None
        days = float(m.group(1)) * (7 if m.group(2) == "W" else 1)
        if days != int(days) or days > 3660:
            return None
        delta = dt.timedelta(days=int(days))
        return today + delta if t.mod == "AFTER" else today - delta
    return None


def _adjacent(a, b, window: str, joins: re.Pattern[str] | None = None) -> bool:
    between = window[a.span[1]: b.span[0]]
    if joins is not None:
        return bool(joins.match(between))
    return between in ("", "の")


def _resolve_date(
    m: re.Match[str], t, prev, window: str, today: dt.date, anchor: dt.date | None = None, court: bool = False
) -> dt.date | None:
    year, month, day = m.groups()
    if day == "XX":
        return None  # 「3月」 alone is not a calendar date
    d = int(day)
    if month != "XX":
        mo = int(month)
        if year != "XXXX":
            y = int(year)
            return _safe_date(y + 2000 if y < 100 else y, mo, d)
        if anchor is not None:  # 「令和9年2月3日から2月10日まで、開札は2月17日」
            return _shared_year(anchor, mo, d)
        after = window[t.span[1]: t.span[1] + 16]
        before = window[max(0, t.span[0] - 12): t.span[0]]
        court = court or bool(COURT_DATE_BEFORE.search(before))
        return _yearless(mo, d, today, past=bool(PAST_AFTER.match(after)), court=court)
    # day only: 「来月15日」「今月20日」, or the end of a range 「12月1日〜8日」
    if prev is None:
        return None
    p, p_date = prev
    if p.type == "DURATION" and _adjacent(p, t, window):
        offset = {"今月": 0, "来月": 1, "再来月": 2, "先月": -1, "先々月": -2}.get(p.text)
        if offset is None:
            return None
        total = today.year * 12 + today.month - 1 + offset
        return _safe_date(total // 12, total % 12 + 1, d)
    if p_date is not None and (_adjacent(p, t, window, RANGE_JOIN) or _same_sentence(p, t, window)):
        # the end of a range 「12月1日〜8日」, or a day later in the same message's context:
        # 「入札は1月7日から14日、開札は21日」: the month (and year) of the date before it
        total = p_date.year * 12 + p_date.month - 1 + (1 if d < p_date.day else 0)
        return _safe_date(total // 12, total % 12 + 1, d)
    return None


def _same_sentence(a, b, window: str) -> bool:
    """No sentence end and at most a short clause between two dates."""
    between = window[a.span[1]: b.span[0]]
    return len(between) <= 12 and not re.search(r"[。!?！？\n]", between)


def _shared_year(anchor: dt.date, month: int, day: int) -> dt.date | None:
    """A year-less date after one written with its year: the same year, or the next across New Year."""
    candidate = _safe_date(anchor.year, month, day)
    if candidate is not None and candidate < anchor - dt.timedelta(days=31):
        candidate = _safe_date(anchor.year + 1, month, day)
    return candidate


def _yearless(month: int, day: int, today: dt.date, past: bool = False, court: bool = False) -> dt.date | None:
    """The next occurrence, unless the day was less than 30 days ago (a letter just received).

    Said in the past tense (「開札は10月20日に終わりました」): the last occurrence. A court date
    (開札, 入札) is never half a year ahead without a year: it is the one that passed."""
    if past:
        for year in (today.year, today.year - 1):
            candidate = _safe_date(year, month, day)
            if candidate is not None and candidate <= today:
                return candidate
        return None
    floor = today - dt.timedelta(days=YEARLESS_LOOKBACK_DAYS)
    for year in (today.year - 1, today.year, today.year + 1, today.year + 2):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate >= floor:
            if court and candidate > today + dt.timedelta(days=COURT_DATE_MAX_AHEAD_DAYS):
                earlier = _safe_date(year - 1, month, day)
                if earlier is not None and earlier <= today:
                    return earlier
            return candidate
    return None


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if not (1900 <= year <= 2200):
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
