"""Reading the facts in a message and storing them as answers."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dialogs import care
from dialogs.assessment import AUCTION_STAGES, NOTICES
from dialogs.understanding import understand
from dialogs.diagnosis.vocabulary import (
    _norm,
    UNKNOWN_ANSWER,
    DATE_FIELDS,
    FIELD_OF,
    QUESTIONS,
    _NOTHING,
    _NOTICE_RANK,
    _SENTENCE_END,
    _iso,
    _latest,
)
from dialogs.understanding.context import (
    ARREARS_NONE as _ARREARS_NONE,
    BARE_WORD_QUESTIONS,
    COURT as _COURT,
    DONT_KNOW_WORDS as _DONT_KNOW,
    LENDER_BANK_NAMED as _LENDER_BANK_NAMED,
    LENDER_JHF as _LENDER_JHF,
    POLARITY_ANSWERS,
    QUESTION_WORDS,
    STAY_YES as _STAY_YES,
    core,
    duration_months as _duration_months,
    polarity,
)
from dialogs.diagnosis.machine import (
    Turn,
)


#: where 「裁判所から…」 is read as a letter from the court: up to the letter question, and
#: a story held before consent (read when the person agrees)
_COURT_CUE_STATES = ("welcome", "privacy", "stopped", "arrears", "notice")


#: 「答えたくない」「言いたくないです」「ノーコメント」: the person would rather not say
_RATHER_NOT = re.compile(r"(?:答え|こたえ|言い|いい|書き|かき|話し|はなし)たくな|ノーコメント|のーこめんと|パスします|ぱすします|スキップ")


class Facts:
    """Reading the facts in a message and storing them as answers."""

    # -- understanding answers -------------------------------------------------
    def _use_held(self, turn: Turn) -> None:
        """On consent: read the messages held before it, store their facts, say what was noted."""
        for raw in turn.data.pop("held", None) or []:
            updates = self._facts(turn, _norm(raw), raw, understand(raw, turn.today), weak=True)
            self._apply(turn, updates, current=None)
        self._confirm_changes(turn)

    def _facts(self, turn: Turn, text: str, raw: str, reading: Any, weak: bool) -> dict[str, Any]:
        """Facts the text states, for any question (not only the one asked)."""
        up: dict[str, Any] = {}
        # the person's own role and a tax seizure: kept in the answers, never asked
        if getattr(reading, "guarantor_self", None) is not None:
            turn.answers["user_is_guarantor"] = reading.guarantor_self
        if getattr(reading, "tax_seizure", False):
            turn.answers["tax_seizure"] = True
        if getattr(reading, "auction_over", False):
            turn.answers["auction_over"] = True
        if reading.arrears_months is not None:
            up["arrears"] = reading.arrears_months
        notices = set(reading.notices or ())
        if notices:
            up["notice"] = _latest(notices)
            up["_notices"] = notices
        elif _COURT.search(text) and turn.state in _COURT_CUE_STATES and "notice" not in turn.data["answered"]:
            up["notice"] = "court"
        if weak:
            if reading.co_owned is not None:
                up["ownership"] = reading.co_owned
            if reading.joint_guarantor is not None:
                up["guarantor"] = reading.joint_guarantor
            if reading.divorce is not None:
                up["divorce"] = reading.divorce
            if _LENDER_JHF.search(text):
                up["lender"] = "jhf"
            elif _LENDER_BANK_NAMED.search(text) and turn.state != "lender":
                up["lender"] = "bank"  # 「〇〇信用金庫」「△△銀行で借りました」
            if _STAY_YES.search(text) and turn.state != "stay":
                up["stay"] = True
        if reading.dates:
            latest = up.get("notice") if up.get("notice") not in (None, "court", "none", "unknown") \
                else turn.latest_notice()
            dates = self._assign_dates(turn, latest, list(reading.dates), text)
            if dates:
                up["dates"] = dates
        return up

    def _assign_dates(self, turn: Turn, latest: str | None, dates: list[dt.date], text: str) -> dict[str, dt.date]:
        ds = sorted(set(dates))
        kai, nyu = "開札" in text, "入札" in text.replace("期間入札の通知", "")
        start, insp = "開始決定" in text or "決定" in text, "調査" in text
        if kai + nyu + start + insp > 1:
            # Several letters named (「開始決定が届いた。開札は…」): read sentence by sentence.
            parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
            if len(parts) == 1:  # one sentence: its clauses (「開始決定は10月14日で、調査は来週の火曜日」)
                parts = [p for p in re.split(r"(?<=[、,])", text) if p.strip()]
            if len(parts) > 1:
                out: dict[str, dt.date] = {}
                seen: set[dt.date] = set()
                for i, part in enumerate(parts):
                    # read with the sentences before it: a year written there applies here too
                    upto = set(understand("".join(parts[:i + 1]), turn.today).dates)
                    part_dates, seen = sorted(upto - seen), seen | upto
                    if part_dates:
                        out.update(self._assign_dates(turn, latest, list(part_dates), part))
                if out:
                    return out
        if len(ds) >= 3:
            return {"bidding_start": ds[0], "bidding_end": ds[1], "kaisatsu": ds[-1]}
        if len(ds) == 2:
            if kai:
                return {"bidding_start": ds[0], "kaisatsu": ds[1]} if nyu else {"kaisatsu": ds[1]}
            if nyu:
                return {"bidding_start": ds[0], "bidding_end": ds[1]}
        d = ds[-1]
        if start:
            # A decision already made: 「10月1日」 read as next year's is last year's.
            first = ds[0]
            if first > turn.today:
                try:
                    earlier = first.replace(year=first.year - 1)
                except ValueError:  # 29 February
                    earlier = first - dt.timedelta(days=365)
                first = earlier if earlier <= turn.today else first
            return {"start_decision": first}
        if insp:
            return {"inspection": d}
        if kai:
            return {"kaisatsu": d}
        if nyu:
            return {"bidding_start": d}
        if turn.state != "dates":
            return {}  # a bare date somewhere else: not sure what it is
        if latest == "bid_notice":
            return {"kaisatsu": d}
        if latest == "site_inspection" and d > turn.today:
            return {"inspection": d}
        if latest in AUCTION_STAGES and d <= turn.today:
            return {"start_decision": d}
        if latest in AUCTION_STAGES:
            return {"inspection": d}
        return {}

    def _interpret(self, turn: Turn, state: str, text: str, reading: Any, states_other_facts: bool = False) -> Any:
        """The answer to ``state``'s own question in ``text`` (context words), or _NOTHING.

        The question's own words first (「単独」「フラット」), then what a bare reply means
        there (dialogs/understanding/context.py: 「いません」 to the guarantor question is "no"), unless the
        text ``states_other_facts``: then a bare yes / no belongs to those.
        """
        pol = polarity(text)
        if pol == "dont_know" or _DONT_KNOW.search(text) or _RATHER_NOT.search(text):
            return UNKNOWN_ANSWER[state]  # 「答えたくないです」 is no 「ないです」: わからない, as the re-ask offers
        if states_other_facts:
            pol = None  # 「離婚はしてないです」 asked about a guarantor: the "no" is about the divorce
        text = core(text) or text
        if state == "arrears" and _ARREARS_NONE.search(text):
            return 0
        if state == "arrears":
            months = _duration_months(text)
            if months is None and re.fullmatch(r"(?:約|だいたい)?\d{1,2}", text):
                months = int(re.sub(r"\D", "", text))  # 「３」 to 「何ヶ月遅れていますか」: months
            if months is not None:
                return months
        if not (states_other_facts and state in BARE_WORD_QUESTIONS):
            for words, answer in QUESTION_WORDS.get(state, ()):
                if words.search(text):
                    return answer
        answer = POLARITY_ANSWERS.get(state, {}).get(pol or "", _NOTHING)
        if answer is not _NOTHING and care.mood(text) == "anger":
            return _NOTHING  # 「話になんない」 ends like 「ないです」 but answers nothing: anger, the calm reply
        return answer

    def _apply(self, turn: Turn, updates: dict[str, Any], current: str | None) -> None:
        """Store answers; remember what changed ("corrected") or came unasked ("noted")."""
        a, d = turn.answers, turn.data
        answered: list[str] = d["answered"]
        notices = updates.pop("_notices", None)

        def mark(q: str, changed: bool) -> None:
            was = q in answered
            if not was:
                answered.append(q)
                if q != current and q in QUESTIONS:
                    turn.changes.append(("noted", q))
            elif changed and q != current:
                turn.changes.append(("corrected", q))

        for q, value in updates.items():
            if q in FIELD_OF:
                f = FIELD_OF[q]
                changed = a.get(f) != value
                a[f] = value
                mark(q, changed)
            elif q == "notice":
                before = (a.get("latest_notice"), bool(d.get("court_letter")))
                if value == "court":
                    if a.get("latest_notice") in AUCTION_STAGES:
                        continue  # already more precise
                    d["court_letter"] = True
                    a["latest_notice"] = "auction_start"
                    a["notices"] = ["auction_start"]
                else:
                    d.pop("court_letter", None)
                    if current != "notice" and _NOTICE_RANK.get(a.get("latest_notice"), -1) > _NOTICE_RANK.get(value, -1):
                        continue  # never back to an earlier letter
                    a["court_letter_unknown"] = False
                    a["latest_notice"] = value
                    a["notices"] = sorted(notices or ({value} if value in NOTICES else set()),
                                          key=_NOTICE_RANK.get)
                changed = before != (a.get("latest_notice"), bool(d.get("court_letter")))
                if changed and "notice" in answered and "dates" not in updates and "dates" in answered:
                    answered.remove("dates")  # another letter: its date is asked again
                mark("notice", changed)
            elif q == "court_letter":
                d.pop("court_letter", None)
                latest = "auction_start" if value == "unknown" else value
                a["court_letter_unknown"] = value == "unknown"  # stays "a court letter"
                changed = a.get("latest_notice") != latest
                a["latest_notice"] = latest
                a["notices"] = [latest]
                if "court_letter" not in answered:
                    answered.append("court_letter")
                if changed and current != "court_letter" and "notice" in answered:
                    turn.changes.append(("corrected", "notice"))
            elif q == "dates":
                changed = False
                for key, day in value.items():
                    field = DATE_FIELDS[key]
                    store = d if key == "inspection" else a
                    iso = _iso(day)
                    changed |= store.get(field) != iso
                    store[field] = iso
                mark("dates", changed and bool(value))
        a["notices"] = sorted(set(a.get("notices") or []), key=_NOTICE_RANK.get)

