"""``DiagnosisDialog``: one ``step`` per message over the shared ``MACHINE``."""
from __future__ import annotations

import logging
from typing import Any

from transitions import MachineError

from dialogs import advice
from dialogs.answer import Answer, Text
from dialogs.assessment import ALL_STAGES, SPECIAL_CASES, Case, assess
from dialogs.base import DialogInput, DialogResult, Session
from dialogs.diagnosis.facts import Facts
from dialogs.diagnosis.replies import Replies
from dialogs.diagnosis.result import Result
from dialogs.diagnosis.routing import Routing
from dialogs.diagnosis.vocabulary import (
    DEADLINE_KEYS,
    FAQ_TOPICS,
    HISTORY_MAX,
    MAX_MESSAGES,
    MAX_QUICK_REPLIES,
    MEDIA_KINDS,
    QUESTIONS,
    _iso,
)
from dialogs.diagnosis.machine import (
    MACHINE,
    STATE_NAMES,
    Turn,
    _CHAINED,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# The dialog
# ---------------------------------------------------------------------------


class DiagnosisDialog(Routing, Facts, Replies, Result):
    """``DiagnosisDialog(content).step(session, inp) -> DialogResult`` (see module doc)."""

    name = "diagnosis"

    def __init__(self, content: Any) -> None:
        self.c = content
        # postback data -> the label of its button, for transcripts (a LINE
        # postback event does not carry the text the user saw).
        self._labels: dict[str, str] = {}
        for state in self.c.get("dialog.states", {}).values():
            for button in state.get("buttons", []) if isinstance(state, dict) else []:
                self._labels.setdefault(button["data"], button["label"])
        self._labels.update(advice.point_labels(self.c))  # the result's point buttons

    def label_for(self, data: str) -> str | None:
        """The button label a postback came from (None when unknown)."""
        return self._labels.get(data)

    # -- public --------------------------------------------------------------
    def step(self, session: Session, inp: DialogInput) -> DialogResult:
        """Handle one input: route it to trigger(s), fire them, ask what is open next."""
        self._init_data(session)
        if session.state not in STATE_NAMES:
            session.state = "welcome"
        before = session.state
        turn = Turn(self, session, inp)
        if not (inp.kind == "postback" and (inp.data or "").startswith("phone:")):
            # an offer lapses with the next message, unless that message says yes or no to it
            turn.offered_phone = session.data.pop("offered_phone", None)
        for trigger in self._route(turn):
            self._fire(turn, trigger)
        # pass over questions / contact steps that have nothing to ask
        for _ in range(2 * len(STATE_NAMES)):
            if "crisis" in turn.signals:
                break  # the care reply alone: the next question waits until the person goes on
            if session.state in _CHAINED and not turn.is_pending(session.state):
                self._fire(turn, "next")
            else:
                break
        self._count_asks(turn, before)
        if turn.offer_phone:
            turn.answer.quick_replies[:0] = self._quick(turn, self.c.get("dialog.common.phone_buttons"))
        self._remember(turn)
        return DialogResult(answer=self._fit(turn.answer), signals=turn.signals, summary=self.summary(turn))

    def summary(self, turn: Turn) -> dict[str, Any]:
        """Assessment ``to_dict()`` plus stage, urgency, lead_score, reasons, kaisatsu, step."""
        a = assess(advice.case_from(turn.data), turn.today)
        out = a.to_dict()
        out.update(
            stage=a.stage, urgency=a.urgency, lead_score=a.score, reasons=list(a.reasons),
            kaisatsu=_iso(a.time_left.kaisatsu), step=turn.state,
        )
        if turn.data.get("crisis"):
            out["crisis"] = True
            out["urgency"] = "hot"  # the highest: the staff are alerted (hot-lead alert), in or out of hours
        elif turn.data.get("concern"):
            out["concern"] = True  # the gentle line was shown (no page): the operator sees it on the case
        if turn.data.get("inspection_date"):
            out["inspection_date"] = turn.data["inspection_date"]
        return out

    @classmethod
    def content_keys(cls) -> set[str]:
        """Every dotted content key this dialog reads (for ``check_content``)."""
        keys = {"dialog.states.welcome.text", "legal.company_note", "legal.privacy_notice", "legal.disclaimer",
                "legal.contact_consent", "faq"}
        for s in ("privacy", "explain", "stopped", *QUESTIONS, "contact", "contact_name", "contact_time"):
            if s != "dates":
                keys |= {f"dialog.states.{s}.{k}" for k in ("text", "buttons", "reprompt")}
        keys.add("dialog.states.privacy.moved_on")
        keys.add("dialog.states.divorce.which")  # 「はい」 to 「離婚に関係するご相談ですか」
        for v in ("bid_notice", "auction_start", "site_inspection"):
            keys |= {f"dialog.states.dates.variants.{v}.text", f"dialog.states.dates.variants.{v}.buttons"}
        keys.add("dialog.states.dates.reprompt")
        keys.add("dialog.states")  # every button's label, for transcripts (label_for)
        keys |= advice.content_keys()
        keys |= {f"dialog.states.contact_phone.{k}" for k in ("text", "text_web", "buttons", "web_no_line",
                                                              "reprompt", "reprompt_web")}
        keys |= {f"dialog.states.handoff.{k}" for k in ("text_lead", "text_wait", "text", "buttons", "reprompt")}
        keys |= {f"dialog.common.{k}" for k in (
            "follow_again", "handback", "restart", "media", "offer_human", "moved_on", "went_on", "moved_on_contact", "greeting_back", "introduction_back", "story_held", "phone_offer", "phone_buttons", "phone_saved", "faq_which", "faq_none", "human_button", "restart_button",
            "back_question", "back_menu", "noted", "corrected", "item", "item_sep", "months", "unknown_value", "faq_answer",
            "faq_other", "faq_menu", "term")}
        keys.add("knowledge.glossary")  # a word of a question explained (「名義って何?」)
        keys |= {f"dialog.care.{k}" for k in ("crisis", "concern", "concern_again", "hotline", "hotlines", "person", "back", "anger", "offtopic")}
        keys |= {f"dialog.facts.{k}" for k in (
            "arrears", "notice", "kaisatsu_date", "bidding", "bidding_range", "start_decision_date",
            "inspection_date", "ownership", "guarantor", "divorce", "lender", "stay")}
        keys |= {f"dialog.faq_topics.{t}" for t in FAQ_TOPICS}
        keys |= {f"dialog.explain.{k}" for k in ("item", "merits", "cautions", "steps", "list_item", "step_item")}
        keys |= {"knowledge.explain.ninbai", "knowledge.explain.keibai", "knowledge.comparison",
                 "knowledge.merits", "knowledge.cautions", "knowledge.steps"}
        for st in ALL_STAGES:
            keys |= {f"knowledge.stages.{st}.{k}" for k in ("title", "summary", "next_step")}
        keys |= {f"knowledge.special_cases.{k}" for k in SPECIAL_CASES}
        keys |= {f"knowledge.deadlines.{k}" for k in DEADLINE_KEYS}
        return keys

    # -- plumbing ------------------------------------------------------------
    @staticmethod
    def _init_data(session: Session) -> None:
        d = session.data
        d.setdefault("answers", Case().to_dict())
        d.setdefault("answered", [])
        d.setdefault("consent", False)
        d.setdefault("misses", 0)
        d.setdefault("return_to", None)
        d.setdefault("contact", {})
        d.setdefault("history", [])

    def _fire(self, turn: Turn, trigger: str) -> bool:
        try:
            ok = MACHINE.events[trigger].trigger(turn)
        except MachineError:
            ok = False
        if not ok:
            logger.debug("trigger %s not accepted in %s", trigger, turn.state)
            MACHINE.events["reask"].trigger(turn)
        return ok

    @staticmethod
    def _count_asks(turn: Turn, before: str | None) -> None:
        """How many replies in a row have left the same question pending (routing reads it)."""
        state, (last, n) = turn.state, turn.data.get("asked") or (None, 0)
        if turn.aside:
            return  # the phone number offered / saved: the person's own aside, no ask used
        if state != last:
            turn.data.pop("asked_faq", None)
        if state not in QUESTIONS:
            turn.data.pop("asked", None)
            return
        again = state == last == before
        if again and turn.inp.kind not in ("text", *MEDIA_KINDS):
            return  # a tap (a menu, a FAQ button) neither counts nor resets
        turn.data["asked"] = [state, n + 1 if again else 1]

    @staticmethod
    def _remember(turn: Turn) -> None:
        hist = turn.data["history"]
        if not hist or hist[-1] != turn.state:
            hist.append(turn.state)
            del hist[:-HISTORY_MAX]
        if turn.state in QUESTIONS or turn.state == "result":
            turn.data["return_to"] = turn.state

    @staticmethod
    def _return_point(turn: Turn) -> str:
        if turn.state in QUESTIONS or turn.state == "result":
            return turn.state
        return turn.data.get("return_to") or turn.next_open()

    @staticmethod
    def _clear(turn: Turn) -> None:
        """Forget the answers (a restart); consent and contact details stay."""
        d = turn.data
        contact = d.get("contact", {})
        d["answers"] = Case().to_dict()
        d["answered"] = []
        d["misses"] = 0
        d["return_to"] = None
        for k in ("court_letter", "inspection_date", "waiting", "held", "points_seen"):
            d.pop(k, None)
        d["answers"]["has_contact"] = bool(contact) and turn.has_contact_details()

    @staticmethod
    def _fit(answer: Answer) -> Answer:
        """At most 5 messages (texts merged from the top) and 13 quick replies."""
        msgs = answer.messages
        while len(msgs) > MAX_MESSAGES:
            i = next((i for i in range(len(msgs) - 1)
                      if isinstance(msgs[i], Text) and isinstance(msgs[i + 1], Text)), None)
            if i is None:
                del msgs[MAX_MESSAGES - 1:-1]
                break
            msgs[i : i + 2] = [Text(msgs[i].text + "\n\n" + msgs[i + 1].text)]
        del answer.quick_replies[MAX_QUICK_REPLIES:]
        return answer

    # -- routing: which trigger(s) does this input mean? -----------------------
