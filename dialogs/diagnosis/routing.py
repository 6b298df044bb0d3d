"""Which trigger(s) an input means: postbacks, then text read per state."""
from __future__ import annotations

import re
from typing import Any


from dialogs.assessment import AUCTION_STAGES
from dialogs import advice, care
from dialogs.understanding import understand
from dialogs.diagnosis.vocabulary import (
    MAX_HELD,
    MAX_HELD_CHARS,
    states_facts,
    UNKNOWN_ANSWER,
    ANSWER_POSTBACKS,
    CONTACT_STEPS,
    CONTACT_TIMES,
    DATE_FIELDS,
    EXPLAIN_TOPICS,
    FAQ_TOPICS,
    MEDIA_KINDS,
    QUESTIONS,
    RICH_MENU_TOPICS,
    _NOTHING,
    _norm,
    _parse_iso,
)
from dialogs.understanding.context import (
    ASKS as _QUESTION,
    CONSENT_NO as _NO,
    CONSENT_YES as _YES,
    GREETING as _GREETING,
    LINE_WORD as _LINE,
    READ_ONLY as _READ,
    RESTART as _RESTART,
    SKIP as _SKIP,
    WAIT as _WAIT,
    find_email,
    find_name,
    find_phone,
    find_time,
    polarity,
)
from dialogs.diagnosis.machine import (
    _CHAINED,
    Turn,
    _RESUMABLE,
)


#: a way to be reached, named under the contact consent (「電話で」「メールでお願いします」)
_WAY = re.compile(r"電話|でんわ|メール|めーる|連絡(?:して|ください|ほしい|がほしい|を)")
_WAY_NOT = re.compile(r"困|こま|いや|嫌|だめ|ダメ|無理|むり|ちょっと|できない|出られない|でられない|苦手|やめ|ない")
#: 「3ヶ月じゃなくて5ヶ月」: a correction inside one message (the part after it is meant)
_INSTEAD = re.compile(r"[^、,。．.!！?？\s]*(?:じゃ|では)なく(?:て)?[、,\s]*"
                      # 「さっきの3ヶ月は間違いで、半年です」「…は誤りでした。」
                      r"|[^、,。．.!！?？\s]*(?:間違い|まちがい|間違え|まちがえ|誤り)(?:で|でした|です)?[、,。\s]+")
#: 「もう一回質問をお願いします」「何を聞かれているかわからない」: the question again, please
_REPEAT = re.compile(r"(?:もう一|もういち)(?:回|度|ど).{0,4}(?:質問|聞|きい|言って|いって|お願い|おねがい|教え)|質問を?(?:もう|見|みせ|教え)|(?:質問|聞かれて|きかれて)(?:いる)?(?:こと)?が(?:よく)?わから"
                     r"|何を聞かれ|なにを聞かれ|なにをきかれ|聞き(?:直|なお)し|見失")
#: a yes to 「この番号を保存しますか」 in words
_SAVE = re.compile(r"保存|ほぞん|登録|お願い|おねがい")
#: 「…って何?」「…とは」「…の意味」: a question about what a word means
_WHAT_IS = re.compile(r"って(?:何|なに|なん)|とは[?？]?$|とは(?:何|なに|なん)|(?:どういう|どんな)意味|の意味|ってどういう")
#: where a message splits into the clauses read one by one at the consent step
_CLAUSE = re.compile(r"[。．.!！\n]+")
#: 「おけ同意」「同意で」「了解です」: a word of agreement in a clause that neither asks nor refuses
_AGREE_WORD = re.compile(r"同意|どうい|了解|りょうかい|承知|承諾")
#: 「夫の代わりに」「妻が書いています」「母のことで」: who writes, for whom
_WHO_WRITES = re.compile(r"代わり|かわり|代理|(?:妻|夫|主人|母|父|娘|息子|家族|本人|家内)(?:が|です|として|のこと)")
#: 「夫のローンのことです」「母のことで」: what the talk is about (no question for the FAQ)
_ABOUT = re.compile(r"のこと(?:で|です|なんです|について)")
_AGREE_NOT = re.compile(r"しない|しません|できない|できません|したくない|しかね|ません$|ない$|ないです$")


def _consents(clause: str, facts: bool) -> bool:
    """Does one clause say yes to the privacy notice? In a message that states facts
    (「4ヶ月滞納しています」) only a word of consent counts, not a bare 「…ています」."""
    if _QUESTION.search(clause) or _NO.search(clause) or _GREETING.search(clause):
        return False
    if _AGREE_WORD.search(clause):
        return not _AGREE_NOT.search(clause)
    # a yes (「はい」「わかりました」「内容を確認しました」), not a statement of who writes that
    # ends like one (「娘が代わりに書いています」 agrees to nothing)
    return bool(_YES.search(clause)) or (not facts and polarity(clause) == "yes" and not _WHO_WRITES.search(clause))


class Routing:
    """Which trigger(s) an input means: postbacks, then text read per state."""

    def _route(self, turn: Turn) -> list[str]:
        text = turn.inp.text or "" if turn.inp.kind == "text" else ""
        care_level = care.level(text) if text else None
        if care_level == "crisis":
            # words of despair come first, in every state: hotlines, a person, the staff alerted
            turn.data["crisis"] = True
            turn.signals.add("crisis")
            self._keep_facts_quietly(turn, text)
            if turn.state in ("privacy", "stopped") and any(_consents(c, True) for c in _CLAUSE.split(_norm(text))):
                turn.data["consent_said"] = True  # kept too: the person is not asked to agree again
            return ["care"]
        if care_level == "concern":
            # below the alarm but near it: one gentle line with the hotlines, no page; the
            # next times a short one (the 24-hour line and a person), never nothing
            again = bool(turn.data.get("concern"))
            turn.data["concern"] = True
            self._show_concern(turn, again=again)
        triggers = self._route_input(turn)
        unread = bool(triggers) and triggers[-1] == "miss"
        other = bool(turn.faq) and turn.faq[0] == "other" and not turn.changes  # 「相談員がお答えします」
        guessing = bool(turn.faq_candidates) and not turn.changes  # 「こちらのことですか?」
        lost = unread or other or guessing
        # an FAQ answer to a message that asked nothing of the case (「お前に何がわかる」 read as
        # the timeline question): the mood decides first
        answered = bool(turn.faq) and not turn.changes and not turn.faq_candidates
        # not a crisis (read just above); the mood (words, then a classifier) only when not understood
        kind = None
        if text and (lost or answered):
            kind = care.mood(text, sure=not lost)
        near_despair = care_level == "concern"  # no 「読み取れませんでした」 after words near despair either
        if (kind in ("anger", "offtopic") and (lost or answered)) or (near_despair and lost):
            # a calm short word, then the way back (never 「読み取れませんでした」)
            turn.faq = None
            turn.faq_candidates = []
            triggers = [t for t in triggers if t not in ("faq", "reask", "miss")]
            if not near_despair:
                turn.answer.say(self.c.text(f"dialog.care.{kind}"))
            return triggers + self._not_an_answer(turn)
        if triggers == ["media", "reask"] and turn.state in _CHAINED:
            return ["media"] + self._not_an_answer(turn)  # a sticker is not an answer either
        if unread:
            triggers = triggers[:-1] + self._not_understood(turn)
        return self._never_a_third_time(turn, triggers)

    _MOVES = frozenset({"next", "human", "restart", "resume", "update", "agree", "read", "decline", "wait", "care"})

    def _never_a_third_time(self, turn: Turn, triggers: list[str]) -> list[str]:
        """A question asked twice in a row and still not answered is not asked a third time,
        whatever the reply was (facts for other questions, a sticker, anger): わからない, and on.
        A question of the person's own (a FAQ answered) asks it again once more, never again."""
        state, d = turn.state, turn.data
        if turn.aside or state not in QUESTIONS or self._MOVES & set(triggers) or turn.faq_candidates \
                or turn.inp.kind not in ("text", *MEDIA_KINDS) or not turn.is_pending(state):
            return triggers  # a tap of the menus is the person's own way, never a trap
        asked, n = d.get("asked") or (None, 0)
        if asked != state or n < 2:
            return triggers
        if turn.faq and d.get("asked_faq") != state:
            d["asked_faq"] = state  # one question of their own does not use up the second ask
            return triggers
        d["misses"] = 0
        d.pop("miss_state", None)
        d.pop("asked_faq", None)
        turn.offer_human = True
        self._apply(turn, {state: UNKNOWN_ANSWER[state]}, current=state)
        turn.answer.say(self.c.text("dialog.common.went_on"))
        return [t for t in triggers if t not in ("reask", "miss")] + ["next"]

    def _keep_facts_quietly(self, turn: Turn, raw: str) -> None:
        """The facts in a message that gets another reply (care) are kept, not thrown away:
        stored after consent (no read-back now), held before it."""
        reading = understand(raw, turn.today)
        if not turn.has_consent():
            self._hold(turn, raw, reading)
            return
        updates = self._facts(turn, _norm(raw), raw, reading, weak=True)
        self._apply(turn, updates, current=None)
        turn.changes.clear()

    def _not_an_answer(self, turn: Turn) -> list[str]:
        """Something said that is no answer (anger, a sticker): re-ask once without
        「読み取れませんでした」, then move on like a reply not understood."""
        first = self._not_understood(turn)
        if first != ["miss"]:
            return first
        d = turn.data
        d["misses"] = (d.get("misses", 0) if d.get("miss_state") == turn.state else 0) + 1
        d["miss_state"] = turn.state
        return ["reask"]

    def _not_understood(self, turn: Turn) -> list[str]:
        """A first miss re-asks; a second one in the same state moves on (never a third ask).

        A question is recorded as わからない (the person can check and correct it later);
        a contact step is passed over (no name, no time) or becomes 「このまま待つ」.
        """
        d, state = turn.data, turn.state
        if d.get("miss_state") != state or d.get("misses", 0) < 1:
            return ["miss"]
        d["misses"] = 0
        d.pop("miss_state", None)
        turn.offer_human = True
        if state in QUESTIONS:
            self._apply(turn, {state: UNKNOWN_ANSWER[state]}, current=state)
            turn.answer.say(self.c.text("dialog.common.moved_on"))
            return ["next"]
        if state == "privacy":
            turn.answer.say(self.c.text("dialog.states.privacy.moved_on"))
            return ["read"]
        if state in ("contact_name", "contact_time"):
            turn.contact["name" if state == "contact_name" else "preferred_time"] = None
            return ["next"]
        if state in ("contact", "contact_phone"):
            turn.answer.say(self.c.text("dialog.common.moved_on_contact"))
            return ["wait"]
        return ["miss"]

    def _route_input(self, turn: Turn) -> list[str]:
        inp, state = turn.inp, turn.state
        if inp.kind in ("follow", "refollow"):
            turn.offer_restart = True
            return ["follow"] if state == "welcome" else ["refollow", "reask"]
        if inp.kind == "handback":
            if state in CONTACT_STEPS or state == "handoff":
                turn.menu_only = True
                return ["handback", "resume"]
            return ["handback", "reask"]
        if inp.kind in MEDIA_KINDS:
            return ["follow"] if state == "welcome" else ["media", "reask"]
        if inp.kind == "postback":
            return self._route_postback(turn, inp.data or "", inp.params or {})
        if inp.kind == "text":
            return self._route_text(turn, inp.text or "")
        return ["reask"]

    def _route_postback(self, turn: Turn, data: str, params: dict[str, str]) -> list[str]:
        name, _, value = data.partition(":")
        state = turn.state
        if name == "menu" and value in RICH_MENU_TOPICS:  # a rich-menu tap, in any state
            turn.topic = RICH_MENU_TOPICS[value]
            return ["follow", "explain"] if state == "welcome" else ["explain", "reask"]
        if state == "welcome" and not (name == "cmd" and value in ("human", "restart")):
            return ["follow"]
        if name == "cmd" and value == "start":  # 診断をはじめる (rich menu)
            return ["resume"] if state in _RESUMABLE else ["reask"]
        if name == "cmd":
            if value == "restart":
                return ["restart"]
            if value == "human":
                return self._route_human(turn)
            if value == "resume":
                return ["resume"] if state in _RESUMABLE else ["reask"]
            if value == "menu":
                return ["reask"]
            return ["miss"]
        if name == "point":  # a point of the result (dialogs/advice.py)
            return advice.show_point(self.c, turn, value)
        if name == "faq" and (value in FAQ_TOPICS or value == "none" or self._faq_entry(value, "")):
            turn.faq = ("other" if value == "none" else value, "")
            return ["faq", "reask"]
        if name == "explain" and value in EXPLAIN_TOPICS:
            if value == "start":
                return ["resume"] if state in _RESUMABLE else ["reask"]
            turn.topic = value
            return ["explain"] if value == "faq" else ["explain", "reask"]
        if name == "phone" and value in ("save", "nosave") and state not in CONTACT_STEPS:
            phone = turn.data.pop("offered_phone", None)
            if value == "save" and phone:
                turn.contact.update(phone=phone, consented=True)
                turn.answer.say(self.c.text("dialog.common.phone_saved"))
            return ["reask"]
        if name == "consent":
            trig = {"yes": "agree", "read": "read", "no": "decline"}.get(value)
            return [trig] if trig else ["miss"]
        if name == "contact" and state == "contact":
            if value == "yes":
                turn.contact["consented"] = True
                return ["next"]
            if value == "wait":
                return ["wait"]
        if state in CONTACT_STEPS:
            return self._contact_postback(turn, name, value)
        if name == "date":
            return self._date_postback(turn, value, params)
        if name in ANSWER_POSTBACKS:
            question, values = ANSWER_POSTBACKS[name]
            if value not in values or not turn.has_consent():
                return ["miss"]
            was_current = question == state
            self._apply(turn, {question: values[value]}, current=state)
            return self._after_apply(turn, was_current)
        return ["miss"]

    def _after_apply(self, turn: Turn, answered_current: bool) -> list[str]:
        state = turn.state
        note = ["note"] if turn.changes else []
        if state == "result":
            return note + (["update"] if turn.is_complete() else ["resume"])
        if state in QUESTIONS and (answered_current or not turn.is_pending(state)):
            turn.data["misses"] = 0
            return note + ["next"]
        if turn.changes:
            turn.data["misses"] = 0
            return note + ["reask"]
        return ["reask"]

    def _date_postback(self, turn: Turn, value: str, params: dict[str, str]) -> list[str]:
        if not turn.has_consent():
            return ["miss"]
        if value == "unknown":
            if turn.state == "dates":
                self._apply(turn, {"dates": {}}, current="dates")
                return self._after_apply(turn, True)
            return ["reask"]
        d = _parse_iso(params.get("date"))
        if value not in DATE_FIELDS or d is None:
            return ["miss"]
        self._apply(turn, {"dates": {value: d}}, current=turn.state)
        return self._after_apply(turn, turn.state == "dates")

    def _contact_postback(self, turn: Turn, name: str, value: str) -> list[str]:
        state, c = turn.state, turn.contact
        if state == "contact_name" and name == "name" and value == "skip":
            c["name"] = None
            return ["next"]
        if state == "contact_phone" and name == "phone" and value == "line":
            if turn.inp.channel == "web":
                turn.answer.say(self.c.text("dialog.states.contact_phone.web_no_line"))
                return ["reask"]
            c["via_line"] = True
            return ["next"]
        if state == "contact_time" and name == "time" and value in CONTACT_TIMES:
            c["preferred_time"] = value
            return ["next"]
        return ["miss"]

    def _route_human(self, turn: Turn) -> list[str]:
        if turn.state in CONTACT_STEPS or turn.state == "handoff":
            turn.signals.add("handoff")
            return ["reask"]
        return ["human"]

    def _route_text(self, turn: Turn, raw: str) -> list[str]:
        text = _norm(raw)
        # a button label typed (or sent by a web chip) counts as the button
        data = self._label_data(turn, text)
        if data is not None:
            return self._route_postback(turn, data, {})
        if _RESTART.search(text):
            return ["restart"]
        if turn.state in QUESTIONS and _REPEAT.search(text) and not _INSTEAD.search(text) \
                and not states_facts(understand(raw, turn.today)):
            turn.aside = True  # 「もう一回質問をお願いします」: asked again, no ask used
            return ["reask"]
        if turn.offered_phone and turn.state not in CONTACT_STEPS:
            # 「はい」「お願いします」 right under 「この番号を保存しますか」 answers that, not the question
            pol = "yes" if _SAVE.search(text) else polarity(text)
            if pol in ("yes", "no") and not find_phone(text):
                turn.data["offered_phone"] = turn.offered_phone
                turn.aside = True
                return self._route_postback(turn, "phone:save" if pol == "yes" else "phone:nosave", {})
        handler = TEXT_HANDLERS.get(turn.state or "", "_text_question")
        return getattr(self, handler)(turn, text, raw)

    # -- one handler per state (TEXT_HANDLERS) ---------------------------------
    def _text_welcome(self, turn: Turn, text: str, raw: str) -> list[str]:
        """The first words get the greeting and the privacy notice, even 「相談したい」.

        A greeting gets a greeting back; a story is acknowledged and held (not stored as
        answers) until the person agrees: then it is used and not asked again.
        """
        reading = understand(raw, turn.today)
        if _GREETING.search(text):
            turn.answer.say(self.c.text("dialog.common.greeting_back"))
        elif self._hold(turn, raw, reading):
            turn.answer.say(self.c.text("dialog.common.story_held"))
        elif reading.faq_topic and reading.faq_topic != "other" and _QUESTION.search(text):
            turn.faq = (reading.faq_topic, text)  # a first question is answered, then the greeting
            return ["faq", "follow"]
        return ["follow"]

    @staticmethod
    def _hold(turn: Turn, raw: str, reading: Any) -> bool:
        """Keep a message that states facts, to be read once the person has agreed."""
        if not states_facts(reading):
            return False
        held = turn.data.setdefault("held", [])
        if raw not in held:
            held.append(raw[:MAX_HELD_CHARS])
            del held[:-MAX_HELD]
        return True

    def _text_consent(self, turn: Turn, text: str, raw: str) -> list[str]:
        state, reading = turn.state, understand(raw, turn.today)
        if reading.wants_human:
            return self._route_human(turn)
        # read clause by clause: 「夫の代わりに連絡しました。同意します」 agrees, 「はじめまして。
        # 突然のご連絡、失礼いたします」 greets
        clauses = [c for c in _CLAUSE.split(text) if c.strip()] or [text]
        # 「説明を読むだけ」 reads; 「ご説明を読みまして、内容に同意いたします」 agrees
        if _READ.search(text) and not any(_AGREE_WORD.search(c) and not _AGREE_NOT.search(c)
                                          and not _QUESTION.search(c) for c in clauses):
            return ["read"]
        held = self._hold(turn, raw, reading)
        # a consent said in a message that got the care reply first: kept, unless they now say no
        agrees = any(_consents(c, held) for c in clauses) or (
            bool(turn.data.pop("consent_said", False)) and not _NO.search(text) and not _QUESTION.search(text))
        if not agrees and (_GREETING.search(text) or (not held and _GREETING.search(clauses[0]))):
            # 「よろしくお願いします」 is a greeting, not a consent
            turn.answer.say(self.c.text("dialog.common.greeting_back"))
            return ["reask"]
        if state == "privacy" and agrees:
            return ["agree"]
        refuses = any(_AGREE_WORD.search(c) and _AGREE_NOT.search(c) for c in clauses)  # 「同意できません」
        if (_NO.search(text) or refuses) and not _QUESTION.search(text):  # 「同意しないといけないの?」 asks
            return ["decline"] if state == "privacy" else ["reask"]
        if held:
            turn.answer.say(self.c.text("dialog.common.story_held"))
            return ["reask"]
        if not _QUESTION.search(text) and (not reading.faq_topic or _WHO_WRITES.search(text) or _ABOUT.search(text)):
            # 「妻です」「母のことで相談です」: who writes or what about, before agreeing: thanked,
            # and the consent asked again (never 「読み取れませんでした」 for it)
            turn.answer.say(self.c.text("dialog.common.introduction_back"))
            return self._not_an_answer(turn)
        return self._faq_or_miss(turn, text, reading)

    def _text_explain(self, turn: Turn, text: str, raw: str) -> list[str]:
        reading = understand(raw, turn.today)
        if reading.wants_human:
            return self._route_human(turn)
        if not turn.has_consent() and not _QUESTION.search(text) and not _NO.search(text) \
                and any(_AGREE_WORD.search(c) and not _AGREE_NOT.search(c) for c in _CLAUSE.split(text)):
            # 「同意します」 typed while reading the explanations: the consent (never 「読み取れ…」)
            self._hold(turn, raw, reading)
            turn.data["consent_typed"] = True  # the notice is not shown again on the way (machine.record_consent)
            return ["resume", "agree"]
        if not turn.has_consent() and not _QUESTION.search(text) and self._hold(turn, raw, reading):
            # facts told while reading the explanations: held, and the consent asked again
            # (they are used once the person agrees, dropped if they decline)
            turn.answer.say(self.c.text("dialog.common.story_held"))
            return ["resume"]
        return self._faq_or_miss(turn, text, reading)

    def _text_contact(self, turn: Turn, text: str, raw: str) -> list[str]:
        reading = understand(raw, turn.today)
        if reading.wants_human and not (find_phone(text) or find_email(text)):
            # 「電話してください、090-…」 is the detail asked for, not a new request for a person
            return self._route_human(turn)
        return self._contact_text(turn, text, reading)

    def _text_handoff(self, turn: Turn, text: str, raw: str) -> list[str]:
        reading = understand(raw, turn.today)
        self._offer_phone(turn, text)
        if reading.wants_human:
            return self._route_human(turn)
        if reading.faq_topic and _QUESTION.search(text):
            turn.faq = (reading.faq_topic, text)
            return ["faq", "reask"]
        return ["reask"]

    def _text_question(self, turn: Turn, text: str, raw: str) -> list[str]:
        """A question or the result: facts first (they may also be a correction)."""
        meant = _INSTEAD.sub("", raw)
        if meant != raw and meant.strip() and not _QUESTION.search(text):
            # 「3ヶ月じゃなくて5ヶ月です」: the words before 「じゃなくて」 are taken back; if the
            # rest reads as nothing, what follows the last 「じゃなくて」 alone is what they mean
            tail = raw[list(_INSTEAD.finditer(raw))[-1].end():]
            if not states_facts(understand(meant, turn.today)) and tail.strip():
                meant = tail
            raw, text = meant, _norm(meant)
        state, reading = turn.state, understand(raw, turn.today)
        question_like = bool(_QUESTION.search(text))
        term = self._term_asked(text)  # 「名義ってなんですか」: a word of the question, explained
        # a question that names the answer's word (「フラット35って何?」「リースバックとは」) is no answer
        asking = bool(term) or (question_like and bool(reading.faq_topic))
        updates = self._facts(turn, text, raw, reading, weak=not asking)
        if state == "court_letter" and updates.get("notice") in AUCTION_STAGES:
            updates["court_letter"] = updates.pop("notice")  # the answer to "which court letter?"
        if state in QUESTIONS and state not in updates and not asking:
            others = any(q in updates for q in QUESTIONS if q != state)
            value = self._interpret(turn, state, text, reading, states_other_facts=others)
            if value is not _NOTHING:
                updates[state] = value
        if state in QUESTIONS and state not in updates and not asking:
            self._went_on(turn, state, text, reading, updates)
        answered_current = state in updates
        self._apply(turn, updates, current=state)
        pre: list[str] = []
        if term:
            turn.answer.say(self.c.text("dialog.common.term", term=term, text=self.c.text(f"knowledge.glossary.{term}")))
            reading.faq_topic = None
            if not updates:
                return ["reask"]
        if reading.faq_topic == "other" and not question_like:
            reading.faq_topic = None  # a statement that was not read is not a question for a person
        if reading.faq_topic and (question_like or not updates):
            turn.faq = (reading.faq_topic, text)
            pre = ["faq"]
        if reading.wants_human:
            phone, email = find_phone(text), find_email(text)
            if phone or email:  # 「この番号に電話ください」: the number is saved, no need to ask it
                turn.contact.update({k: v for k, v in (("phone", phone), ("email", email)) if v}, consented=True)
                slot = find_time(text)
                if slot:
                    turn.contact["preferred_time"] = slot
            return (["note"] if turn.changes else []) + self._route_human(turn)
        self._offer_phone(turn, text)
        if turn.offer_phone and not updates and not pre:
            return []  # only a number: the offer to save it (its buttons) is the reply; the question waits
        if updates:
            trig = self._after_apply(turn, answered_current)
            if pre:
                note = [t for t in trig if t == "note"]
                return note + pre + [t for t in trig if t != "note"]
            return trig
        if pre:
            return pre + ["reask"]
        if state == "divorce" and polarity(text) == "yes":
            # 「はい」 to 「離婚に関係するご相談ですか」: which way, with the buttons (no 「読み取れ…」)
            turn.answer.say(self.c.text("dialog.states.divorce.which"))
            turn.answer.quick_replies = self._quick(turn, self._buttons(turn))
            return []
        if self._faq_candidates(turn, reading):  # a question or a worry, unsure: the closest topics
            return ["faq"]
        return ["miss"]

    def _term_asked(self, text: str) -> str | None:
        """The glossary word a 「…って何?」 question asks about (content knowledge.glossary), or None.

        The longest term written before 「って何」; else the shortest term containing the word
        asked (「名義」→「共有名義」)."""
        m = _WHAT_IS.search(text)
        if not m:
            return None
        before, terms = text[:m.start()], list(self.c.get("knowledge.glossary", {}) or {})
        written = [t for t in terms if t in before]
        if written:
            return max(written, key=lambda t: (before.rfind(t) + len(t), len(t)))
        for k in range(max(0, len(before) - 12), len(before) - 1):
            word = before[k:]
            having = [t for t in terms if word in t]
            if having:
                return min(having, key=len)
        return None

    def _went_on(self, turn: Turn, state: str, text: str, reading: Any, updates: dict[str, Any]) -> None:
        """Asked twice, the person answers the NEXT question (they took the question as done):
        this one is recorded as わからない (it can be corrected later) and the dialog goes on
        with them, instead of reading their answers against a question they left behind."""
        d = turn.data
        if not turn.is_pending(state):
            return  # answered meanwhile (facts kept from a message that got the care reply)
        asked, n = d.get("asked") or (None, 0)
        if (d.get("miss_state") != state or d.get("misses", 0) < 1) and not (asked == state and n >= 2):
            return
        nxt = next((q for q in QUESTIONS[QUESTIONS.index(state) + 1:] if turn.is_pending(q)), None)
        if nxt is None:
            return
        if nxt not in updates and polarity(text) != "dont_know":
            value = self._interpret(turn, nxt, text, reading)
            if value is not _NOTHING and value != UNKNOWN_ANSWER[nxt]:
                updates[nxt] = value
        if nxt in updates:
            updates[state] = UNKNOWN_ANSWER[state]
            turn.answer.say(self.c.text("dialog.common.went_on"))

    def _faq_or_miss(self, turn: Turn, text: str, reading: Any) -> list[str]:
        if reading.faq_topic:
            turn.faq = (reading.faq_topic, text)
            return ["faq", "reask"]
        if self._faq_candidates(turn, reading):
            return ["faq"]
        return ["miss"]

    def _faq_candidates(self, turn: Turn, reading: Any) -> bool:
        """The classifier is unsure: offer its closest topics (「こちらのことですか?」)."""
        topics = [t for t in (getattr(reading, "faq_candidates", None) or [])[:3] if self._faq_entry(t, "")]
        if not topics:
            return False
        turn.faq = ("?", "")
        turn.faq_candidates = topics
        return True

    def _contact_text(self, turn: Turn, text: str, reading: Any) -> list[str]:
        """Contact details in any wording: all that one message gives is kept (dialogs/understanding/context.py)."""
        state, c = turn.state, turn.contact
        phone, email, slot = find_phone(text), find_email(text), find_time(text)
        if reading.faq_topic and _QUESTION.search(text) and not (phone or email):
            turn.faq = (reading.faq_topic, text)
            return ["faq", "reask"]
        name = find_name(text) if state == "contact_name" or phone or email else None
        if phone or email:
            # a number typed right under the consent notice is consent to use it
            c["consented"] = True
            if phone:
                c["phone"] = phone
            if email:
                c["email"] = email
            if state == "contact_name" and not name:
                c.setdefault("name", None)
        if name and state in ("contact_name",) or (name and (phone or email)):
            c["name"] = name
        via_line = bool(_LINE.search(text)) and turn.inp.channel == "line" and not (phone or email) \
            and state in ("contact", "contact_phone")
        if via_line:  # 「LINEでお願いします」 under the consent notice: consent, and the way to reach them
            c.update(consented=True, via_line=True)
            return ["next"]
        if slot and (state == "contact_time" or phone or email or name):
            c["preferred_time"] = slot
        if phone or email or (state == "contact_name" and name) or (state == "contact_time" and slot):
            return ["next"] if not turn.is_pending(state) else ["reask"]
        if state == "contact":
            if _WAIT.search(text):
                return ["wait"]
            pol = polarity(text)
            if _YES.search(text) or pol == "yes" or (_WAY.search(text) and pol != "no" and not _WAY_NOT.search(text)):
                c["consented"] = True  # 「電話で」「メールがいいです」: the way to be reached is a yes
                return ["next"]
            if _WAY.search(text):  # 「電話はちょっと困ります」: not by phone, so in this talk
                return ["wait"]
            name = find_name(text) if len(text) <= 12 else None
            if name:  # 「山田」 under the consent notice: the person goes on to give their details
                c.update(consented=True, name=name)
                return ["next"]
            if _NO.search(text) or pol == "no":
                return ["resume"]
            return ["miss"]
        if state == "contact_name":
            if _SKIP.search(text):
                c["name"] = None
                return ["next"]
            return ["miss"]
        if state == "contact_phone":
            if _LINE.search(text):
                return self._contact_postback(turn, "phone", "line")
            if slot:
                c["preferred_time"] = slot
            return ["miss"]
        return ["miss"]

    def _offer_phone(self, turn: Turn, text: str) -> None:
        """A phone number typed outside the contact steps: offer to save it (two buttons)."""
        phone = find_phone(text)
        if not phone or phone == turn.contact.get("phone"):
            return
        turn.data["offered_phone"] = phone
        turn.offer_phone = turn.aside = True
        turn.answer.say(self.c.text("dialog.common.phone_offer", phone=phone) + "\n"
                        + self.c.text("legal.contact_consent"))

    def _label_data(self, turn: Turn, text: str) -> str | None:
        """The postback data of the current state's button whose label is ``text``."""
        if not text:
            return None
        for b in self._buttons(turn):
            if _norm(b.get("label", "")) == text and b.get("kind") != "date":
                return b["data"]
        return None

    # -- understanding answers -------------------------------------------------


#: state → the method that reads a text message in it (questions and the result: ``_text_question``)
TEXT_HANDLERS: dict[str, str] = {
    "welcome": "_text_welcome",
    "privacy": "_text_consent",
    "stopped": "_text_consent",
    "explain": "_text_explain",
    **{c: "_text_contact" for c in CONTACT_STEPS},
    "handoff": "_text_handoff",
}
