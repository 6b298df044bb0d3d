"""What the bot says: questions, re-asks, read-backs, FAQ answers, explanations, handoff."""
from __future__ import annotations

from typing import Any, Iterable


from dialogs import advice
from dialogs.answer import QuickReply, Table
from dialogs.assessment import AUCTION_STAGES
from dialogs.diagnosis.vocabulary import (
    ANSWER_POSTBACKS,
    CONTACT_STEPS,
    FAQ_TOPICS,
    FIELD_OF,
    QUESTIONS,
    _parse_iso,
    format_date,
)
from dialogs.diagnosis.machine import (
    Turn,
    _CHAINED,
)


class Replies:
    """What the bot says: questions, re-asks, read-backs, FAQ answers, explanations, handoff."""

    # -- what the bot says ----------------------------------------------------
    def _buttons(self, turn: Turn, state: str | None = None) -> list[dict[str, Any]]:
        state = state or turn.state
        if state == "dates":
            variant = self._dates_variant(turn)
            return list(self.c.get(f"dialog.states.dates.variants.{variant}.buttons"))
        if state == "contact_phone" and turn.inp.channel == "web":
            return []
        if state == "welcome":
            return []
        if state == "result":  # the points not seen yet + the menu (dialogs/advice.py)
            return advice.result_buttons(self.c, turn)
        key = f"dialog.states.{state}.buttons"
        return list(self.c.get(key))

    def _dates_variant(self, turn: Turn) -> str:
        latest = turn.latest_notice()
        return latest if latest in AUCTION_STAGES else "auction_start"

    def _quick(self, turn: Turn, buttons: Iterable[dict[str, Any]]) -> list[QuickReply]:
        return advice.quick_replies(buttons, turn.today)

    def _question_text(self, turn: Turn, state: str) -> str:
        if state == "dates":
            return self.c.text(f"dialog.states.dates.variants.{self._dates_variant(turn)}.text")
        if state == "contact_phone" and turn.inp.channel == "web":
            return self.c.text("dialog.states.contact_phone.text_web")
        if state == "result":
            return self.c.text("dialog.states.result.text")
        return self.c.text(f"dialog.states.{state}.text")

    def _greet(self, turn: Turn) -> None:
        turn.answer.say(self.c.text("dialog.states.welcome.text") + "\n" + self.c.text("legal.company_note"))

    def _ask(self, turn: Turn) -> None:
        """Ask the current state's question (nothing if it is already answered)."""
        state = turn.state
        if state in _CHAINED and not turn.is_pending(state):
            return
        if state == "welcome":
            return
        if state == "privacy" and turn.data.get("consent_typed"):
            return  # passed through on a consent typed under the explanations: agreed at once
        if state == "privacy":
            turn.answer.say(self.c.text("legal.privacy_notice"))
            turn.answer.say(self.c.text("legal.disclaimer") + "\n\n" + self.c.text("dialog.states.privacy.text"))
        elif state == "contact":
            turn.answer.say(self.c.text("dialog.states.contact.text") + "\n\n" + self.c.text("legal.contact_consent"))
        elif state == "handoff":
            turn.answer.say(self.c.text("dialog.states.handoff.text"))
        else:
            turn.answer.say(self._question_text(turn, state))
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn))
        self._add_common_buttons(turn)

    def _add_common_buttons(self, turn: Turn) -> None:
        qr = turn.answer.quick_replies
        extra = []
        if (turn.offer_human or turn.data.get("misses", 0) >= 2) and turn.state not in CONTACT_STEPS \
                and turn.state != "handoff":
            extra.append(self.c.get("dialog.common.human_button"))
        if turn.offer_restart and turn.state not in ("privacy", "welcome"):
            extra.append(self.c.get("dialog.common.restart_button"))
        for b in extra:
            if all(q.data != b["data"] for q in qr):
                qr.extend(self._quick(turn, [b]))

    def _reprompt(self, turn: Turn) -> None:
        d, state = turn.data, turn.state
        if d.get("miss_state") != state:
            d["misses"] = 0
        d["misses"] = d.get("misses", 0) + 1
        d["miss_state"] = state
        if state == "welcome":
            return
        key = f"dialog.states.{state}.reprompt"
        if state == "contact_phone" and turn.inp.channel == "web":
            key = "dialog.states.contact_phone.reprompt_web"
        text = self.c.text(key)
        if d["misses"] >= 2 and state not in CONTACT_STEPS and state != "handoff":
            text += "\n\n" + self.c.text("dialog.common.offer_human")
        turn.answer.say(text)
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn))
        self._add_common_buttons(turn)

    def _confirm_changes(self, turn: Turn) -> None:
        if not turn.changes:
            return
        sep = self.c.text("dialog.common.item_sep")
        for kind in ("corrected", "noted"):
            qs = []
            for k, q in turn.changes:
                if k == kind and q not in qs:
                    qs.append(q)
            items = [i for q in qs for i in self._describe(turn, q)]
            if items:
                turn.answer.say(self.c.text(f"dialog.common.{kind}", items=sep.join(items)))
        turn.changes.clear()

    def _describe(self, turn: Turn, q: str) -> list[str]:
        """「滞納は「4ヶ月」」: how a stored answer reads back."""
        a, c = turn.answers, self.c
        unknown = c.text("dialog.common.unknown_value")

        def item(label_key: str, value: str) -> str:
            return c.text("dialog.common.item", label=c.text(f"dialog.facts.{label_key}"), value=value)

        if q == "arrears":
            n = a.get("arrears_months")
            value = unknown if n is None else (self._button_label("arrears", "arrears:0") if n == 0
                                               else c.text("dialog.common.months", n=n))
            return [item("arrears", value)]
        if q == "notice":
            latest = a.get("latest_notice")
            data = "notice:court" if turn.data.get("court_letter") else f"notice:{latest or 'unknown'}"
            return [item("notice", self._button_label("notice", data) or unknown)]
        if q == "dates":
            out = []
            for key in ("kaisatsu_date", "start_decision_date"):
                if a.get(key):
                    out.append(item(key, format_date(_parse_iso(a[key]), turn.today)))
            if a.get("bidding_start"):
                start = format_date(_parse_iso(a["bidding_start"]), turn.today)
                end = format_date(_parse_iso(a["bidding_end"]), turn.today) if a.get("bidding_end") else ""
                out.append(item("bidding", c.text("dialog.facts.bidding_range", start=start, end=end)))
            if turn.data.get("inspection_date"):
                out.append(item("inspection_date", format_date(_parse_iso(turn.data["inspection_date"]),
                                                               turn.today)))
            return out
        if q in FIELD_OF:
            value = a.get(FIELD_OF[q])
            name = next(n for n, (qq, _) in ANSWER_POSTBACKS.items() if qq == q)
            _, values = ANSWER_POSTBACKS[name]
            key = next((k for k, v in values.items() if v == value and type(v) is type(value)), "unknown")
            label = self._button_label(q, f"{name}:{key}") or unknown
            return [item(q, label)]
        return []

    def _button_label(self, state: str, data: str) -> str | None:
        for b in self.c.get(f"dialog.states.{state}.buttons"):
            if b["data"] == data:
                return b["label"]
        return None

    # -- FAQ and explanations --------------------------------------------------
    def _faq_entry(self, topic: str, text: str) -> dict[str, Any] | None:
        entries = [e for e in self.c.get("faq") if e.get("topic") == topic]
        best, hits = None, 0
        for e in entries:
            n = sum(1 for w in e.get("keywords", []) if w and w in text)
            if n > hits:
                best, hits = e, n
        if best is None:
            best = next((e for e in entries if e.get("primary")), None)
        return best

    def _show_care(self, turn: Turn) -> None:
        """Words of despair: a warm reply with the public hotlines (content) and the offer of a person."""
        c = self.c
        lines = "\n".join(c.text("dialog.care.hotline", **h) for h in c.get("dialog.care.hotlines"))
        turn.answer.say(c.text("dialog.care.crisis", hotlines=lines))
        turn.answer.say(c.text("dialog.care.person"))
        buttons = [c.get("dialog.common.human_button"), c.get("dialog.care.back")]
        turn.answer.quick_replies = self._quick(turn, buttons)

    def _show_concern(self, turn: Turn, again: bool = False) -> None:
        """Words near despair (care.is_concern): one gentle line with the hotlines and a person
        (``again``: a short one, the first hotline and a person); the dialog's own reply
        follows, and nobody is paged."""
        c = self.c
        if again:
            turn.answer.say(c.text("dialog.care.concern_again",
                                   hotline=c.text("dialog.care.hotline", **c.get("dialog.care.hotlines")[0])))
            return
        lines = "\n".join(c.text("dialog.care.hotline", **h) for h in c.get("dialog.care.hotlines"))
        turn.answer.say(c.text("dialog.care.concern", hotlines=lines))

    def _faq_label(self, topic: str) -> str:
        label = self.c.get(f"dialog.faq_topics.{topic}", None)
        if not label:
            entry = self._faq_entry(topic, "") or {}
            label = str(entry.get("question", topic))
        return label if len(label) <= 20 else label[:19] + "…"

    def _answer_faq(self, turn: Turn) -> None:
        topic, text = turn.faq or ("other", "")
        if turn.faq_candidates:
            c = self.c
            turn.answer.say(c.text("dialog.common.faq_which"))
            buttons = [{"label": self._faq_label(t), "data": f"faq:{t}"} for t in turn.faq_candidates]
            turn.answer.quick_replies = self._quick(turn, [*buttons, c.get("dialog.common.faq_none")])
            return
        entry = self._faq_entry(topic, text)
        if entry is None:
            turn.answer.say(self.c.text("dialog.common.faq_other"))
            turn.offer_human = True
            return
        turn.answer.say(self.c.text("dialog.common.faq_answer", question=entry["question"], answer=entry["answer"]))

    def _show_explanation(self, turn: Turn) -> None:
        topic, c, ans = turn.topic, self.c, turn.answer
        if topic == "ninbai":
            e = c.get("knowledge.explain.ninbai")
            ans.say(c.text("dialog.explain.item", title=e["title"], text=e["text"]))
        elif topic == "keibai":
            e = c.get("knowledge.explain.keibai")
            ans.say(c.text("dialog.explain.item", title=e["title"], text=e["text"]))
            t = c.get("knowledge.comparison")
            ans.messages.append(Table(alt_text=t["alt_text"], title=t["title"], columns=list(t["columns"]),
                                      rows=[list(r) for r in t["rows"]], note=t.get("note")))
        elif topic in ("merits", "cautions"):
            lines = [c.text("dialog.explain.list_item", title=i["title"], text=i["text"])
                     for i in c.get(f"knowledge.{topic}")]
            ans.say(c.text(f"dialog.explain.{topic}") + "\n\n" + "\n\n".join(lines))
        elif topic == "steps":
            lines = [c.text("dialog.explain.step_item", n=n, title=i["title"], text=i["text"])
                     for n, i in enumerate(c.get("knowledge.steps"), 1)]
            ans.say(c.text("dialog.explain.steps") + "\n\n" + "\n\n".join(lines))
        elif topic == "faq":
            ans.say(c.text("dialog.common.faq_menu"))
            buttons = [{"label": c.text(f"dialog.faq_topics.{t}"), "data": f"faq:{t}"} for t in FAQ_TOPICS]
            back = c.get("dialog.common.back_question" if turn.state in QUESTIONS else "dialog.common.back_menu")
            ans.quick_replies = self._quick(turn, [*buttons, back])

    # -- result and handoff ---------------------------------------------------
    def _confirm_handoff(self, turn: Turn) -> None:
        c = turn.contact
        turn.signals.add("handoff")
        if not turn.is_pending("contact_phone") and c.get("consented"):
            turn.answers["has_contact"] = True
            turn.signals.add("lead")
            turn.answer.say(self.c.text("dialog.states.handoff.text_lead"))
        else:
            turn.answer.say(self.c.text("dialog.states.handoff.text_wait"))
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn, "handoff"))


