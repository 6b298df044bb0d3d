"""The diagnosis dialog, driven without Flask: states, buttons, global commands, limits."""
from __future__ import annotations

import copy
import datetime as dt
import json
import statistics
import time
from collections import deque
from typing import Any

import pytest

from bot.content import Content, check_content, load_content, utf16_len
from dialogs.answer import Card, Table, Text
from dialogs.base import DialogInput, DialogResult, Session
from dialogs.diagnosis import (
    ANSWER_POSTBACKS,
    CONTACT_STEPS,
    MACHINE,
    STATE_NAMES,
    DiagnosisDialog,
    format_date,
)

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content("content")


@pytest.fixture(scope="module")
def dialog(content: Content) -> DiagnosisDialog:
    return DiagnosisDialog(content)


class Bot:
    """One user talking to the dialog; keeps the session JSON-round-tripped like the engine."""

    def __init__(self, dialog: DiagnosisDialog, channel: str = "line", today: dt.date = TODAY) -> None:
        self.dialog, self.channel, self.today = dialog, channel, today
        self.session = Session()
        self.last: DialogResult | None = None
        self.results: list[DialogResult] = []

    @property
    def state(self) -> str | None:
        return self.session.state

    @property
    def data(self) -> dict[str, Any]:
        return self.session.data

    def send(self, kind: str, **kw: Any) -> DialogResult:
        # the engine stores state as text + JSON: make sure nothing else survives
        self.session = Session(self.session.state, json.loads(json.dumps(self.session.data)))
        r = self.dialog.step(self.session, DialogInput(kind=kind, today=self.today, channel=self.channel, **kw))
        check_limits(r)
        self.last = r
        self.results.append(r)
        return r

    def follow(self) -> DialogResult:
        return self.send("follow")

    def tap(self, data: str, date: str | None = None) -> DialogResult:
        return self.send("postback", data=data, params={"date": date} if date else None)

    def say(self, text: str) -> DialogResult:
        return self.send("text", text=text)

    def text(self) -> str:
        assert self.last is not None
        return self.last.answer.plain_text()

    def quick(self) -> list[str]:
        assert self.last is not None
        return [q.data for q in self.last.answer.quick_replies]

    def clone(self) -> "Bot":
        other = Bot(self.dialog, self.channel, self.today)
        other.session = copy.deepcopy(self.session)
        other.last = self.last
        return other


def check_limits(r: DialogResult) -> None:
    a = r.answer
    assert 1 <= len(a.messages) <= 5, [m for m in a.messages]
    assert len(a.quick_replies) <= 13
    for q in a.quick_replies:
        assert 0 < utf16_len(q.label) <= 20, q.label
        assert q.data and len(q.data) <= 300
    for m in a.messages:
        if isinstance(m, Card):
            assert len(m.buttons) <= 4
            assert utf16_len(m.alt_text) <= 1500
        if isinstance(m, Text):
            assert m.text.strip() and utf16_len(m.text) <= 5000
    assert "step" in r.summary and "stage" in r.summary and "lead_score" in r.summary


def consented(dialog: DiagnosisDialog, channel: str = "line") -> Bot:
    bot = Bot(dialog, channel)
    bot.follow()
    bot.tap("consent:yes")
    assert bot.state == "arrears"
    return bot


# ---------------------------------------------------------------------------
# Walking the whole dialog
# ---------------------------------------------------------------------------

#: Inputs tried in every state while exploring (besides the buttons on screen).
PROBES: list[tuple[str, dict[str, Any]]] = [
    ("postback", {"data": "consent:yes"}),
    ("postback", {"data": "notice:bid_notice"}),
    ("postback", {"data": "notice:court"}),
    ("postback", {"data": "cmd:human"}),
    ("postback", {"data": "contact:yes"}),
    ("postback", {"data": "consent:no"}),
    ("postback", {"data": "consent:read"}),
]


def inputs_on_screen(bot: Bot) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for q in bot.last.answer.quick_replies:
        if q.kind == "date":
            out.append(("postback", {"data": q.data, "params": {"date": "2026-12-11"}}))
        else:
            out.append(("postback", {"data": q.data}))
    return out


def explore(dialog: DiagnosisDialog) -> dict[str, Bot]:
    """Breadth-first over button taps: the first bot to reach each state."""
    start = Bot(dialog)
    start.follow()
    fresh = Bot(dialog)
    fresh.session.state = "welcome"
    seen: dict[str, Bot] = {"welcome": fresh, start.state: start}
    queue = deque([start])
    while queue:
        bot = queue.popleft()
        for kind, kw in inputs_on_screen(bot) + PROBES:
            nxt = bot.clone()
            nxt.send(kind, **kw)
            if nxt.state not in seen:
                seen[nxt.state] = nxt
                queue.append(nxt)
    return seen


@pytest.fixture(scope="module")
def reached(dialog: DiagnosisDialog) -> dict[str, Bot]:
    return explore(dialog)


def test_machine_is_built_once_without_models() -> None:
    assert MACHINE.models == []
    assert MACHINE.initial is None
    assert not MACHINE.auto_transitions
    assert set(MACHINE.states) == set(STATE_NAMES)


def test_every_state_is_reachable(reached: dict[str, Bot]) -> None:
    assert set(reached) == set(STATE_NAMES)
    assert MACHINE.models == []  # stepping never adds a model


# A policy that walks towards the result using the buttons on screen.
TOWARDS_RESULT = ["consent:yes", "explain:start", "cmd:resume", "cmd:restart", "name:skip", "phone:line",
                  "time:any"]


def walk_to_result(bot: Bot, limit: int = 30) -> list[str]:
    path = [bot.state]
    for _ in range(limit):
        if bot.state == "result":
            return path
        if bot.state == "welcome":
            bot.follow()
        else:
            shown = bot.quick()
            pick = next((d for d in TOWARDS_RESULT if d in shown), None)
            if pick is None:
                pick = next(d for d in shown if d.split(":")[0] in ANSWER_POSTBACKS or d == "date:unknown")
            bot.tap(pick)
        path.append(bot.state)
    raise AssertionError(f"no way to the result: {path}")


@pytest.mark.parametrize("state", STATE_NAMES)
def test_from_every_state_a_path_to_the_result(reached: dict[str, Bot], state: str) -> None:
    bot = reached[state].clone()
    path = walk_to_result(bot)
    assert bot.state == "result"
    assert isinstance(bot.last.answer.messages[1], Card) or bot.last.answer.quick_replies, path


@pytest.mark.parametrize("state", STATE_NAMES)
def test_from_every_state_a_path_to_a_person(reached: dict[str, Bot], state: str) -> None:
    bot = reached[state].clone()
    if bot.state == "welcome":
        bot.follow()
    r = bot.tap("cmd:human")
    assert "handoff" in r.signals
    for _ in range(6):
        if bot.state == "handoff":
            break
        shown = bot.quick()
        bot.tap(next(d for d in ("contact:wait", "name:skip", "phone:line", "time:any") if d in shown))
    assert bot.state == "handoff"
    assert bot.data["answers"]["wants_human"] is True


@pytest.mark.parametrize("state", [s for s in STATE_NAMES if s not in ("welcome",)])
def test_typing_for_a_person_works_everywhere(reached: dict[str, Bot], state: str) -> None:
    bot = reached[state].clone()
    r = bot.say("人と話したいです")
    assert "handoff" in r.signals
    assert bot.state in ("contact", "handoff", *CONTACT_STEPS)


def _buttons(content: Content) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for state, spec in content.get("dialog.states").items():
        for b in spec.get("buttons", []):
            out.append((state, None, b))
        for variant, v in spec.get("variants", {}).items():
            for b in v.get("buttons", []):
                out.append((state, variant, b))
    return out


def _bot_in(dialog: DiagnosisDialog, reached: dict[str, Bot], state: str, variant: str | None) -> Bot:
    if variant:  # the dates question for a given letter
        bot = consented(dialog)
        bot.tap("arrears:6+")
        bot.tap(f"notice:{variant}")
        assert bot.state == "dates"
        return bot
    return reached[state].clone()


def test_every_button_in_dialog_yaml_is_accepted_where_it_is_shown(
    dialog: DiagnosisDialog, content: Content, reached: dict[str, Bot]
) -> None:
    buttons = _buttons(content)
    assert len(buttons) > 40
    for state, variant, b in buttons:
        bot = _bot_in(dialog, reached, state, variant)
        assert b["data"] in bot.quick() or state == "contact_phone", (state, b)
        before = bot.data.get("misses", 0)
        kw = {"date": "2026-12-11"} if b.get("kind") == "date" else {}
        r = bot.tap(b["data"], **kw)
        assert bot.data.get("misses", 0) == 0 or bot.data["misses"] <= before, (state, b)
        reprompt = content.get(f"dialog.states.{state}.reprompt", "")
        assert reprompt not in r.answer.plain_text(), (state, b)
        assert r.answer.quick_replies or bot.state == "result", (state, b)


def test_every_button_label_typed_counts_as_the_button(
    dialog: DiagnosisDialog, content: Content, reached: dict[str, Bot]
) -> None:
    for state, variant, b in _buttons(content):
        if b.get("kind") == "date":
            continue
        bot = _bot_in(dialog, reached, state, variant)
        tapped = bot.clone()
        tapped.tap(b["data"])
        bot.say(b["label"])
        assert bot.state == tapped.state, (state, b)
        assert bot.data["answers"] == tapped.data["answers"], (state, b)


def test_common_and_faq_buttons_are_accepted(dialog: DiagnosisDialog, content: Content) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    bot.tap("explain:faq")
    shown = bot.quick()
    assert len(shown) == 11 and "cmd:menu" in shown
    for data in shown:
        b = bot.clone()
        b.tap(data)
        assert b.state == "notice" and "notice:dunning" in b.quick(), data
    for key in ("human_button", "restart_button", "back_question", "back_menu"):
        b = bot.clone()
        b.tap(content.get(f"dialog.common.{key}")["data"])
        assert b.data["misses"] == 0


# ---------------------------------------------------------------------------
# Content
# ---------------------------------------------------------------------------


def test_content_has_every_key_the_dialog_uses(content: Content) -> None:
    assert check_content(content, DiagnosisDialog.content_keys()) == []


def _leaves(node: Any, path: str) -> list[str]:
    if isinstance(node, dict) and not ("label" in node and "data" in node):
        return [p for k, v in node.items() for p in _leaves(v, f"{path}.{k}")]
    return [path]


def test_no_orphan_keys_in_dialog_yaml(content: Content) -> None:
    keys = DiagnosisDialog.content_keys()
    orphans = [p for p in _leaves(content.get("dialog"), "dialog")
               if not any(p == k or p.startswith(k + ".") for k in keys)]
    assert orphans == []


class RecordingContent(Content):
    used: set[str]

    def _lookup(self, dotted: str) -> Any:
        self.used.add(dotted)
        return super()._lookup(dotted)


def test_keys_read_while_talking_are_declared(content: Content) -> None:
    rec = RecordingContent(data=content.data, path=content.path)
    rec.used = set()
    dialog = DiagnosisDialog(rec)
    explore(dialog)
    for text in ("4ヶ月滞納で競売開始決定が来た。共有名義です", "引っ越し代は出ますか？", "やっぱり2ヶ月です",
                 "ほげ", "ほげ", "最初から"):
        bot = consented(dialog)
        bot.say(text)
    bot.send("sticker")
    bot.tap("explain:merits")
    bot.tap("explain:steps")
    bot.tap("explain:ninbai")
    declared = DiagnosisDialog.content_keys()
    undeclared = {k for k in rec.used if not any(k == d or k.startswith(d + ".") for d in declared)}
    assert undeclared == set()


# ---------------------------------------------------------------------------
# Global commands
# ---------------------------------------------------------------------------


def test_restart_clears_answers_and_goes_back_to_arrears(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    bot.tap("notice:dunning")
    r = bot.tap("cmd:restart")
    assert "restart" in r.signals
    assert bot.state == "arrears"
    assert bot.data["answers"]["arrears_months"] is None and bot.data["answered"] == []
    assert bot.data["consent"] is True
    assert "arrears:3-5" in bot.quick()
    bot.tap("arrears:1-2")
    r = bot.say("最初から")
    assert "restart" in r.signals and bot.state == "arrears"


def test_restart_without_consent_goes_to_privacy(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.tap("consent:read")
    bot.tap("cmd:restart")
    assert bot.state == "privacy"
    assert "consent:yes" in bot.quick()


def test_correction_updates_the_answer_and_stays(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:1-2")
    bot.tap("notice:dunning")
    assert bot.state == "ownership"
    r = bot.say("やっぱり4ヶ月です")
    assert bot.data["answers"]["arrears_months"] == 4
    assert bot.state == "ownership"
    assert "4ヶ月" in r.answer.plain_text() and "直しました" in r.answer.plain_text()
    assert "own:shared" in bot.quick()


def test_correction_after_the_result_shows_the_result_again(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    for d in ("arrears:1-2", "notice:dunning", "own:single", "guarantor:no", "divorce:none", "lender:bank",
              "stay:no"):
        bot.tap(d)
    assert bot.state == "result" and bot.last.summary["stage"] == "dunning"
    bot.say("やっぱり競売開始決定が届いていました")
    # a court auction now: the dates question comes first, then the result again
    assert bot.state == "dates"
    bot.tap("date:unknown")
    assert bot.state == "result" and bot.last.summary["stage"] == "auction_start"
    assert any(isinstance(m, Card) for m in bot.last.answer.messages)


def test_old_button_of_an_earlier_question_corrects_it(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:1-2")
    bot.tap("notice:none")
    r = bot.tap("arrears:6+")
    assert bot.state == "ownership" and bot.data["answers"]["arrears_months"] == 6
    assert "直しました" in r.answer.plain_text()


def test_free_text_fills_later_questions_and_skips_them(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    r = bot.say("4ヶ月滞納で競売開始決定が来た。共有名義です")
    a = bot.data["answers"]
    assert a["arrears_months"] == 4 and a["latest_notice"] == "auction_start" and a["co_owned"] is True
    assert bot.state == "dates"
    bot.tap("date:unknown")
    assert bot.state == "guarantor"  # ownership was answered already
    assert "共有名義" in r.answer.plain_text()


def test_faq_answers_then_asks_again(dialog: DiagnosisDialog, content: Content) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    bot.tap("notice:dunning")
    bot.tap("own:single")
    asked = bot.quick()
    r = bot.say("引っ越し代は出ますか？")
    primary = next(e for e in content.get("faq") if e["topic"] == "moving_costs" and e["primary"])
    assert primary["answer"] in r.answer.plain_text()
    assert bot.state == "guarantor" and bot.quick() == asked
    assert content.text("dialog.states.guarantor.text") in r.answer.plain_text()
    r = bot.tap("faq:residual_debt")
    primary = next(e for e in content.get("faq") if e["topic"] == "residual_debt" and e["primary"])
    assert primary["answer"] in r.answer.plain_text() and bot.quick() == asked


def test_dont_know_is_always_an_answer(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    seen = []
    while bot.state != "result":
        seen.append(bot.state)
        bot.say("わからない")
        assert bot.data["misses"] == 0, bot.state
    assert seen == ["arrears", "notice", "ownership", "guarantor", "divorce", "lender", "stay"]
    assert bot.last.summary["stage"] == "unknown"


def test_two_misses_record_unknown_move_on_and_offer_a_person(dialog: DiagnosisDialog, content: Content) -> None:
    # Changed in issue 10: the second miss no longer asks a third time.
    bot = consented(dialog)
    r1 = bot.say("ほげほげ")
    assert content.text("dialog.states.arrears.reprompt") in r1.answer.plain_text()
    assert "cmd:human" not in bot.quick() and "arrears:3-5" in bot.quick()
    r2 = bot.say("ふがふが")
    assert content.text("dialog.common.moved_on") in r2.answer.plain_text()
    assert bot.state == "notice" and "arrears" in bot.data["answered"]
    assert bot.data["answers"]["arrears_months"] is None
    assert "cmd:human" in bot.quick() and "notice:dunning" in bot.quick()
    bot.tap("notice:dunning")
    assert bot.data["misses"] == 0 and bot.state == "ownership"


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
def test_media_gets_a_kind_reply_and_the_question_again(dialog: DiagnosisDialog, content: Content, kind: str) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    r = bot.send(kind)
    assert content.text("dialog.common.media") in r.answer.plain_text()
    assert content.text("dialog.states.notice.text") in r.answer.plain_text()
    assert bot.state == "notice" and "notice:dunning" in bot.quick()


def test_datetime_picker(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:bid_notice")
    picker = next(q for q in bot.last.answer.quick_replies if q.kind == "date")
    assert picker.data == "date:kaisatsu" and picker.initial == "2026-11-27" and picker.min and picker.max
    bot.tap("date:kaisatsu", date="2026-12-11")
    assert bot.data["answers"]["kaisatsu_date"] == "2026-12-11"
    assert bot.state == "ownership"
    assert bot.last.summary["kaisatsu"] == "2026-12-11"


def test_court_envelope_asks_which_letter(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.say("裁判所から封筒が届きました")
    assert bot.state == "court_letter"
    assert "court:bid_notice" in bot.quick()
    bot.tap("court:site_inspection")
    assert bot.state == "dates" and bot.data["answers"]["latest_notice"] == "site_inspection"
    assert "date:inspection" in bot.quick()


def test_dates_typed_with_bidding_period(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:bid_notice")
    bot.say("入札期間は12月1日から12月8日、開札は12月11日です")
    a = bot.data["answers"]
    assert (a["bidding_start"], a["bidding_end"], a["kaisatsu_date"]) == ("2026-12-01", "2026-12-08", "2026-12-11")


# ---------------------------------------------------------------------------
# Contact and handoff
# ---------------------------------------------------------------------------


def test_contact_on_line_via_line(dialog: DiagnosisDialog, content: Content) -> None:
    bot = consented(dialog)
    r = bot.tap("cmd:human")
    assert bot.state == "contact" and "handoff" in r.signals
    assert content.text("legal.contact_consent") in r.answer.plain_text()
    bot.tap("contact:yes")
    bot.say("山田です")
    assert bot.data["contact"]["name"] == "山田"
    assert "phone:line" in bot.quick()
    bot.tap("phone:line")
    r = bot.tap("time:evening")
    assert bot.state == "handoff" and {"handoff", "lead"} <= r.signals
    assert bot.data["contact"] == {"consented": True, "name": "山田", "via_line": True,
                                   "preferred_time": "evening"}
    assert bot.data["answers"]["has_contact"] is True
    # asking again now goes straight to the person
    r = bot.tap("cmd:resume")
    assert bot.state == "arrears"
    r = bot.tap("cmd:human")
    assert bot.state == "handoff" and "handoff" in r.signals


def test_contact_on_the_web_asks_phone_or_email(dialog: DiagnosisDialog, content: Content) -> None:
    bot = consented(dialog, channel="web")
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.tap("name:skip")
    assert bot.state == "contact_phone"
    assert "phone:line" not in bot.quick()
    assert content.text("dialog.states.contact_phone.text_web") in bot.text()
    r = bot.tap("phone:line")
    assert bot.state == "contact_phone"
    assert content.text("dialog.states.contact_phone.web_no_line") in r.answer.plain_text()
    bot.say("LINEでお願いします")
    assert bot.state == "contact_phone"
    bot.say("０９０－１２３４－５６７８")
    assert bot.data["contact"]["phone"] == "09012345678"
    r = bot.say("午後がいいです")
    assert bot.state == "handoff" and {"handoff", "lead"} <= r.signals
    assert bot.data["contact"]["preferred_time"] == "afternoon"


def test_contact_on_the_web_by_email(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog, channel="web")
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.tap("name:skip")
    bot.say("taro@example.jp")
    assert bot.data["contact"]["email"] == "taro@example.jp" and bot.state == "contact_time"


def test_wait_for_a_person_without_details(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    r = bot.say("電話したいです")
    assert "handoff" in r.signals and bot.state == "contact"
    r = bot.tap("contact:wait")
    assert bot.state == "handoff" and "handoff" in r.signals and "lead" not in r.signals
    r = bot.send("handback")
    assert bot.state == "notice" and "notice:dunning" in bot.quick()


def test_handback_after_the_result_shows_the_menu(dialog: DiagnosisDialog, content: Content) -> None:
    bot = consented(dialog)
    for d in ("arrears:0", "own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:no"):
        bot.tap(d)
    assert bot.state == "result"
    bot.tap("cmd:human")
    bot.tap("contact:wait")
    r = bot.send("handback")
    assert bot.state == "result"
    assert content.text("dialog.common.handback") in r.answer.plain_text()
    assert not any(isinstance(m, Card) for m in r.answer.messages)
    assert "cmd:human" in bot.quick()


def test_follow_refollow_and_welcome(dialog: DiagnosisDialog, content: Content) -> None:
    bot = Bot(dialog)
    r = bot.follow()
    assert bot.state == "privacy"
    assert content.text("legal.privacy_notice") in r.answer.plain_text()
    assert content.text("legal.disclaimer") in r.answer.plain_text()
    assert bot.quick() == ["consent:yes", "consent:read", "consent:no"]
    bot.tap("consent:yes")
    bot.tap("arrears:3-5")
    r = bot.send("refollow")
    assert bot.state == "notice"
    assert content.text("dialog.common.follow_again") in r.answer.plain_text()
    assert "cmd:restart" in bot.quick() and "notice:dunning" in bot.quick()


def test_first_message_without_follow_greets(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog, channel="web")
    bot.say("こんにちは")
    assert bot.state == "privacy" and "consent:yes" in bot.quick()


def test_decline_and_come_back(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.tap("consent:no")
    assert bot.state == "stopped" and set(bot.quick()) == {"consent:read", "cmd:restart"}
    assert bot.data["consent"] is False
    bot.tap("cmd:restart")
    assert bot.state == "privacy"


def test_read_only_explanations(dialog: DiagnosisDialog, content: Content) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.tap("consent:read")
    assert bot.state == "explain" and len(bot.quick()) == 7
    r = bot.tap("explain:keibai")
    assert any(m.type == "table" for m in r.answer.messages)
    r = bot.tap("explain:steps")
    assert all(s["title"] in r.answer.plain_text() for s in content.get("knowledge.steps"))
    assert bot.state == "explain"
    assert bot.data["answers"]["arrears_months"] is None
    bot.tap("explain:start")
    assert bot.state == "privacy"  # no diagnosis without consent


def test_summary_for_the_console(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:bid_notice")
    r = bot.tap("date:kaisatsu", date="2026-12-11")
    s = r.summary
    assert s["stage"] == "bid_notice" and s["urgency"] == "hot" and s["kaisatsu"] == "2026-12-11"
    assert s["step"] == "ownership" and isinstance(s["lead_score"], int) and s["reasons"]
    assert s["time_left"]["legal_last_day"] == "2026-12-10"


def test_history_is_bounded(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    for _ in range(40):
        bot.tap("explain:ninbai")
        bot.tap("cmd:restart")
        bot.tap("consent:read")
    assert len(bot.data["history"]) <= 30


def test_format_date() -> None:
    assert format_date(dt.date(2026, 12, 10), TODAY) == "12月10日（木）"
    assert format_date(dt.date(2027, 1, 5), TODAY) == "2027年1月5日（火）"


def test_step_time(dialog: DiagnosisDialog) -> None:
    """Median step time over a button walk (reported; generous bound here)."""
    taps = ["consent:yes", "arrears:3-5", "notice:dunning", "own:single", "guarantor:no", "divorce:none",
            "lender:bank", "stay:no", "cmd:restart"]
    times = []
    for _ in range(30):
        session = Session()
        dialog.step(session, DialogInput(kind="follow", today=TODAY))
        for t in taps:
            inp = DialogInput(kind="postback", today=TODAY, data=t)
            t0 = time.thread_time()  # this thread's CPU, not the machine's load
            dialog.step(session, inp)
            times.append(time.thread_time() - t0)
    median_us = statistics.median(times) * 1e6
    print(f"median step (postback walk): {median_us:.0f} µs")
    assert median_us < 5000


# ---------------------------------------------------------------------------
# The rich menu (bot/channels/richmenu.py) works from any state
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["cmd:start", "menu:ninbai", "menu:compare", "cmd:human"])
def test_rich_menu_postbacks_are_understood_in_every_state(reached: dict[str, Bot], data: str) -> None:
    from bot.channels.richmenu import rich_menu_request

    assert data in {a.action.data for a in rich_menu_request().areas}
    for state, bot in reached.items():
        b = bot.clone()
        b.tap(data)
        assert "うまく読み取れませんでした" not in b.text(), (state, data)
        if data == "menu:compare":
            assert any(isinstance(m, Table) for m in b.last.answer.messages), state


@pytest.mark.parametrize(
    "text, expected",
    [
        ("競売開始決定が届きました。開札は令和8年12月11日です", {"kaisatsu_date": "2026-12-11"}),
        ("競売開始決定が10月1日に届きました", {"start_decision_date": "2026-10-01"}),  # past, not next year
        ("開始決定は9月10日。現況調査は12月5日に来ます", {"start_decision_date": "2026-09-10"}),
        ("開札日は1月20日、入札期間は1月6日から1月13日です",
         {"kaisatsu_date": "2027-01-20", "bidding_start": "2027-01-06", "bidding_end": "2027-01-13"}),
    ],
)
def test_dates_go_to_the_letter_they_belong_to(dialog: DiagnosisDialog, text: str, expected: dict) -> None:
    bot = consented(dialog)
    bot.say(text)
    answers = bot.data["answers"]
    assert {k: answers.get(k) for k in expected} == expected


# -- issue 10: never the same question a third time -------------------------------

GIBBERISH = ("ほげほげ", "ふがふが", "あいうえおかきくけこ", "zzz", "ぴよぴよ")


def _runs(states: list[str | None]) -> dict[str, int]:
    """The longest run of turns that ended in each state (= times its question was asked in a row)."""
    longest: dict[str, int] = {}
    run, prev = 0, None
    for s in states:
        run = run + 1 if s == prev else 1
        prev = s
        longest[s] = max(longest.get(s, 0), run)
    return longest


def _babble(bot: Bot, until: str | None = None, turns: int = 40) -> list[str | None]:
    states = [bot.state]
    for i in range(turns):
        if bot.state == until:
            break
        bot.say(GIBBERISH[i % len(GIBBERISH)])
        states.append(bot.state)
    return states


def test_every_question_with_unreadable_answers_is_asked_at_most_twice(dialog: DiagnosisDialog) -> None:
    seen: dict[str, int] = {}
    # arrears → notice → ownership → … → stay → result, every answer unreadable
    bot = consented(dialog)
    states = _babble(bot, until="result")
    assert bot.state == "result", states
    seen.update(_runs(states))
    assert all(bot.data["answers"][k] is None for k in ("arrears_months", "co_owned", "joint_guarantor"))
    # the court letter and the dates (only asked while an auction runs)
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:court")
    assert bot.state == "court_letter"
    states = _babble(bot, until="ownership")
    assert "dates" in states and bot.state == "ownership", states
    seen.update({k: max(v, seen.get(k, 0)) for k, v in _runs(states).items()})
    # the contact steps: nothing readable → no name, then waiting in the talk
    bot.tap("cmd:human")
    assert bot.state == "contact"
    states = _babble(bot, until="handoff")
    assert bot.state == "handoff", states
    seen.update({k: max(v, seen.get(k, 0)) for k, v in _runs(states).items()})
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    states = _babble(bot, until="handoff")
    assert bot.state == "handoff", states
    seen.update({k: max(v, seen.get(k, 0)) for k, v in _runs(states).items()})
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.say("090-1234-5678")
    bot.say("山田です")
    assert bot.state == "contact_time", bot.state
    states = _babble(bot, until="handoff")
    seen.update({k: max(v, seen.get(k, 0)) for k, v in _runs(states).items()})
    # the privacy notice: two unreadable replies → the explanations (no data kept)
    bot = Bot(dialog)
    bot.follow()
    states = _babble(bot, until="explain")
    assert bot.state == "explain" and not bot.data["consent"], states
    seen.update({k: max(v, seen.get(k, 0)) for k, v in _runs(states).items()})
    asked = set(seen)
    assert {"arrears", "notice", "court_letter", "dates", "ownership", "guarantor", "divorce", "lender", "stay",
            "contact", "contact_name", "contact_phone", "contact_time", "privacy"} <= asked, asked
    assert all(n <= 2 for s, n in seen.items() if s not in ("result", "handoff", "explain")), seen


# -- issue 10: a reply read as the answer to the question just asked ----------------

_TAPS_TO = {"arrears": [], "notice": ["arrears:1-2"], "ownership": ["arrears:1-2", "notice:dunning"]}
_TAPS_TO["guarantor"] = [*_TAPS_TO["ownership"], "own:single"]
_TAPS_TO["divorce"] = [*_TAPS_TO["guarantor"], "guarantor:no"]
_TAPS_TO["lender"] = [*_TAPS_TO["divorce"], "divorce:none"]
_TAPS_TO["stay"] = [*_TAPS_TO["lender"], "lender:bank"]

IN_CONTEXT = [
    ("arrears", "してないです", "arrears_months", 0),
    ("arrears", "まだ遅れてはいないです", "arrears_months", 0),
    ("notice", "まだです", "latest_notice", "none"),
    ("notice", "とどいてないです", "latest_notice", "none"),
    ("ownership", "夫です", "co_owned", False),
    ("ownership", "たんどくです", "co_owned", False),
    ("ownership", "ふうふです", "co_owned", True),
    ("guarantor", "いませんね", "joint_guarantor", False),
    ("guarantor", "居ないです", "joint_guarantor", False),
    ("guarantor", "はい、います", "joint_guarantor", True),
    ("guarantor", "（前にも言いましたが）いません", "joint_guarantor", False),
    ("guarantor", "わかんないです", "joint_guarantor", None),
    ("divorce", "してないです", "divorce", "none"),
    ("divorce", "ないですね", "divorce", "none"),
    ("lender", "ぎんこうです", "lender", "bank"),
    ("lender", "ふらっと35", "lender", "jhf"),
    ("stay", "どっちでもいい", "wants_to_stay", None),
    ("stay", "決めてません", "wants_to_stay", None),
]


@pytest.mark.parametrize("state,text,field,value", IN_CONTEXT)
def test_reply_is_read_as_the_answer_to_the_question(dialog: DiagnosisDialog, state, text, field, value) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO[state]:
        bot.tap(data)
    assert bot.state == state
    bot.say(text)
    assert state in bot.data["answered"], (text, bot.text())
    assert bot.data["answers"][field] == value
    assert bot.state != state  # moved on, not asked again


def test_unsure_faq_offers_the_closest_topics_and_none_of_them(dialog: DiagnosisDialog, content: Content,
                                                                monkeypatch) -> None:
    """Reading.faq_candidates (filled by the FAQ classifier when it is unsure) → 「こちらのことですか?」."""
    import dialogs.diagnosis.routing as routing

    real = routing.understand

    def unsure(text, today):
        r = real(text, today)
        r.faq_topic, r.faq_candidates = None, ["moving_costs", "stay_after_sale", "timeline"]
        return r

    monkeypatch.setattr(routing, "understand", unsure)
    bot = consented(dialog)
    bot.say("この先どうなっちゃうんですか？")
    assert content.text("dialog.common.faq_which") in bot.text()
    assert bot.quick() == ["faq:moving_costs", "faq:stay_after_sale", "faq:timeline", "faq:none"]
    assert bot.state == "arrears"
    monkeypatch.setattr(routing, "understand", real)
    bot.tap("faq:none")
    assert content.text("dialog.common.faq_other") in bot.text() and "cmd:human" in bot.quick()
    assert content.text("dialog.states.arrears.text") in bot.text()


def test_guarantor_self_and_tax_seizure_are_kept_in_the_answers(dialog: DiagnosisDialog, monkeypatch) -> None:
    import dialogs.diagnosis.routing as routing

    real = routing.understand

    def read(text, today):
        r = real(text, today)
        r.guarantor_self, r.tax_seizure = True, True
        return r

    monkeypatch.setattr(routing, "understand", read)
    bot = consented(dialog)
    bot.say("夫のローンの保証人をしています。市役所から差押の通知も来ました")
    assert bot.data["answers"]["user_is_guarantor"] is True
    assert bot.data["answers"]["tax_seizure"] is True


# -- issue 10: crisis care, anger and off-topic -------------------------------------

HOTLINES = ("0120-279-338", "0120-061-338", "0570-064-556")


def _at(dialog: DiagnosisDialog, state: str) -> Bot:
    bot = Bot(dialog)
    if state == "welcome":
        return bot
    bot.follow()
    if state == "privacy":
        return bot
    bot.tap("consent:yes")
    for data in {"arrears": [], "guarantor": _TAPS_TO["guarantor"], "result": [
            "arrears:0", "own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:no"],
            "contact": ["cmd:human"], "contact_phone": ["cmd:human", "contact:yes", "name:skip"]}[state]:
        bot.tap(data)
    assert bot.state == state
    return bot


@pytest.mark.parametrize("state", ["welcome", "privacy", "arrears", "guarantor", "result", "contact", "contact_phone"])
@pytest.mark.parametrize("text", ["もう死にたい", "家族に迷惑をかけるくらいなら、いなくなったほうがいい"])
def test_words_of_despair_get_care_hotlines_and_a_person_in_every_state(dialog, content, state, text) -> None:
    bot = _at(dialog, state)
    r = bot.say(text)
    said = r.answer.plain_text()
    assert all(n in said for n in HOTLINES), said
    assert "読み取れ" not in said
    assert "cmd:human" in bot.quick()
    assert "crisis" in r.signals
    assert r.summary["crisis"] is True and r.summary["urgency"] == "hot"
    # the crisis stays on the case (urgency hot) after the next message
    r2 = bot.tap("cmd:human")
    assert r2.summary["crisis"] is True and r2.summary["urgency"] == "hot"
    assert "handoff" in r2.signals or bot.state in CONTACT_STEPS or bot.state == "handoff"


@pytest.mark.parametrize("text,key", [("役に立たないボットだな", "anger"), ("ふざけるな", "anger"),
                                      ("今日の天気は?", "offtopic"), ("あなたはAIですか", "offtopic")])
def test_anger_and_off_topic_get_a_calm_word_and_the_way_back(dialog, content, text, key) -> None:
    bot = consented(dialog)
    r = bot.say(text)
    said = r.answer.plain_text()
    assert content.text(f"dialog.care.{key}") in said
    assert "読み取れ" not in said
    assert content.text("dialog.states.arrears.text") in said and "arrears:3-5" in bot.quick()
    assert "crisis" not in r.signals
    # and it counts as a reply not understood: the question is not asked a third time
    bot.say(text)
    assert bot.state == "notice"


# -- issue 10: the first message is never thrown away -----------------------------

STORY = "はじめまして。住宅ローンを4ヶ月滞納していて、督促状が届きました。家は夫婦の共有名義です。"


def test_a_greeting_before_consent_gets_a_greeting_back(dialog: DiagnosisDialog, content: Content) -> None:
    bot = Bot(dialog)
    r = bot.say("こんにちは")
    assert content.text("dialog.common.greeting_back") in r.answer.plain_text()
    assert content.text("legal.privacy_notice") in r.answer.plain_text()
    assert bot.state == "privacy" and "読み取れ" not in r.answer.plain_text()
    r = bot.say("よろしくお願いします")
    assert content.text("dialog.common.greeting_back") in r.answer.plain_text() and bot.state == "privacy"


@pytest.mark.parametrize("first", ["say", "follow_then_say"])
def test_a_story_before_consent_is_held_then_used_and_not_asked_again(dialog, content, first) -> None:
    bot = Bot(dialog)
    if first == "follow_then_say":
        bot.follow()
    r = bot.say(STORY)
    said = r.answer.plain_text()
    assert content.text("dialog.common.story_held") in said and "読み取れ" not in said
    assert bot.state == "privacy" and not bot.data["consent"]
    assert bot.data["answers"]["arrears_months"] is None  # nothing stored as an answer before consent
    r = bot.tap("consent:yes")
    said = r.answer.plain_text()
    assert "4ヶ月" in said  # 「…と伺いました」
    a = bot.data["answers"]
    assert a["arrears_months"] == 4 and a["latest_notice"] == "dunning" and a["co_owned"] is True
    assert bot.state == "guarantor"  # arrears, the letter and the ownership are not asked again
    assert "held" not in bot.data
    asked = []
    for data in ("guarantor:no", "divorce:none", "lender:bank", "stay:no"):
        asked.append(bot.state)
        bot.tap(data)
    assert bot.state == "result" and asked == ["guarantor", "divorce", "lender", "stay"]


@pytest.mark.parametrize("answer,state", [("consent:no", "stopped"), ("consent:read", "explain")])
def test_a_story_is_dropped_on_decline_or_reading_only(dialog, answer, state) -> None:
    bot = Bot(dialog)
    bot.say(STORY)
    assert bot.data["held"]
    bot.tap(answer)
    assert bot.state == state and "held" not in bot.data
    assert bot.data["answers"]["arrears_months"] is None


def test_consent_and_story_in_one_message(dialog) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say("同意します。3ヶ月滞納していて、期限の利益の喪失の通知が来ました")
    assert bot.data["consent"] and bot.data["answers"]["arrears_months"] == 3
    assert bot.state not in ("arrears", "notice")


# -- issue 10: contact details in any wording ---------------------------------------

def test_consent_phone_and_time_in_one_sentence(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("cmd:human")
    assert bot.state == "contact"
    bot.say("連絡は電話で。070-1111-2222、昼休みなら出られます")
    c = bot.data["contact"]
    assert c["consented"] and c["phone"] == "07011112222" and c["preferred_time"] == "afternoon"
    assert bot.state == "contact_name"
    r = bot.say("名前は佐藤です。よろしくお願いします")
    assert c is not bot.data["contact"] and bot.data["contact"]["name"] == "佐藤"
    assert bot.state == "handoff" and "lead" in r.signals


@pytest.mark.parametrize("text,name", [("山田と申します", "山田"), ("たなかです", "たなか"), ("鈴木花子", "鈴木花子")])
def test_a_name_inside_a_sentence_is_extracted(dialog, text, name) -> None:
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.say(text)
    assert bot.data["contact"]["name"] == name and bot.state == "contact_phone"


def test_a_sentence_is_never_stored_as_the_name(dialog) -> None:
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.say("夫の名義で借りていて、私は連帯保証人になっています")
    assert "name" not in bot.data["contact"] and bot.state == "contact_name"


def test_email_spelled_out_on_the_web(dialog) -> None:
    bot = consented(dialog, channel="web")
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.tap("name:skip")
    bot.say("メールでお願いします。Yamada アットマーク Example.jp です")
    assert bot.data["contact"]["email"] == "yamada@example.jp"
    assert bot.state == "contact_time"


def test_a_wish_to_be_called_with_a_number_is_saved_not_asked_again(dialog, content) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    r = bot.say("電話で相談したいです。090-1234-5678に夜かけてください")
    c = bot.data["contact"]
    assert c["phone"] == "09012345678" and c["consented"] and c["preferred_time"] == "evening"
    assert "handoff" in r.signals and bot.state == "contact_name"
    r = bot.say("山田です")
    assert bot.state == "handoff" and "lead" in r.signals
    # at a contact step too: the number is the detail asked for, not a new request for a person
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.tap("name:skip")
    r = bot.say("電話してほしいです 080-2222-3333")
    assert bot.data["contact"]["phone"] == "08022223333" and bot.state == "contact_time"


def test_a_number_typed_in_a_question_is_offered_to_be_saved(dialog, content) -> None:
    bot = consented(dialog)
    r = bot.say("4ヶ月滞納です。携帯は090-8765-4321です")
    assert content.text("dialog.common.phone_offer", phone="09087654321") in r.answer.plain_text()
    assert bot.quick()[:2] == ["phone:save", "phone:nosave"]
    assert bot.data["answers"]["arrears_months"] == 4 and bot.state == "notice"
    assert "phone" not in bot.data["contact"]
    r = bot.tap("phone:save")
    assert bot.data["contact"]["phone"] == "09087654321" and bot.data["contact"]["consented"]
    assert content.text("dialog.common.phone_saved") in r.answer.plain_text() and bot.state == "notice"
    # later, asking for a person: the number is not asked again
    bot.tap("cmd:human")
    assert bot.state == "contact_name"


def test_stickers_do_not_make_a_question_asked_a_third_time(dialog, content) -> None:
    bot = consented(dialog)
    r = bot.send("sticker")
    assert content.text("dialog.common.media") in r.answer.plain_text() and bot.state == "arrears"
    assert "読み取れませんでした" not in r.answer.plain_text()
    r = bot.send("sticker")
    assert content.text("dialog.common.moved_on") in r.answer.plain_text() and bot.state == "notice"


@pytest.mark.parametrize("state,text,field,value", [
    ("arrears", "ちょうど1年", "arrears_months", 12),
    ("arrears", "1年半くらい", "arrears_months", 18),
    ("arrears", "三か月ほどです", "arrears_months", 3),
    ("notice", "督促の手紙が何通か", "latest_notice", "dunning"),
    ("notice", "一括で払えという手紙", "latest_notice", "acceleration"),
    ("notice", "保証会社から代位弁済のお知らせ", "latest_notice", "subrogation"),
])
def test_words_of_the_question_asked_are_its_answer(dialog, state, text, field, value) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO[state]:
        bot.tap(data)
    bot.say(text)
    assert bot.data["answers"][field] == value and bot.state != state


def test_a_statement_not_read_is_not_answered_as_a_question_for_a_person(dialog, content) -> None:
    bot = consented(dialog)
    bot.tap("arrears:1-2")
    r = bot.say("うちの場合はちょっと複雑でして")
    assert content.text("dialog.common.faq_other") not in r.answer.plain_text()


def test_line_as_the_way_to_be_reached_at_the_consent_step(dialog) -> None:
    bot = consented(dialog)
    bot.tap("cmd:human")
    bot.say("LINEでお願いします")
    assert bot.data["contact"] == {"consented": True, "via_line": True}
    bot.say("田中です")
    assert bot.state == "contact_time"  # the phone is not asked


def test_facts_in_a_message_of_despair_are_kept(dialog, content) -> None:
    bot = consented(dialog)
    r = bot.say("5ヶ月滞納して競売開始決定が届きました。もう死にたい")
    assert "0120-279-338" in r.answer.plain_text()
    assert content.text("dialog.states.dates.variants.auction_start.text") not in r.answer.plain_text()
    bot.tap("cmd:menu")  # 「質問に戻る」: the next open question
    assert bot.state == "dates"
    assert bot.data["answers"]["arrears_months"] == 5
    assert bot.data["answers"]["latest_notice"] == "auction_start"
    bot = Bot(dialog)
    bot.follow()
    bot.say("4ヶ月滞納しています。消えたい")
    assert bot.data["held"] and bot.data["answers"]["arrears_months"] is None
    bot.tap("consent:yes")
    assert bot.data["answers"]["arrears_months"] == 4


def test_a_first_question_is_answered_before_the_greeting(dialog, content) -> None:
    bot = Bot(dialog)
    r = bot.say("引っ越し代は出ますか？")
    said = r.answer.plain_text()
    assert "Q. " in said and content.text("legal.privacy_notice") in said
    assert said.index("Q. ") < said.index(content.text("legal.privacy_notice"))
    assert bot.state == "privacy" and "consent:yes" in bot.quick()


def test_dates_in_several_sentences_share_the_year_written_first(dialog: DiagnosisDialog) -> None:
    """「令和7年10月1日に開始決定が届きました。現況調査は11月5日でした。」: the 現況調査 was in
    2025 too, though its sentence names no year (alone, 11月5日 would be this month's)."""
    bot = consented(dialog)
    bot.say("1年以上")
    bot.say("令和7年10月1日に競売開始決定が届きました。現況調査は11月5日でした。")
    d = bot.session.data
    assert d["answers"]["start_decision_date"] == "2025-10-01"
    assert d["inspection_date"] == "2025-11-05"


def test_a_no_about_another_question_is_not_the_answer_to_this_one(dialog: DiagnosisDialog) -> None:
    """Asked about a guarantor, 「離婚はしてないです」 answers the divorce question; the
    guarantor question is still open (its "no" was about the divorce)."""
    bot = consented(dialog)
    for text in ("半年", "督促状", "単独です"):
        bot.say(text)
    assert bot.state == "guarantor"
    bot.say("離婚はしてないです")
    a = bot.session.data["answers"]
    assert a["divorce"] == "none" and a["joint_guarantor"] is None
    assert bot.state == "guarantor"
    bot.say("いません")
    assert bot.session.data["answers"]["joint_guarantor"] is False


def test_a_court_envelope_in_a_story_before_consent_is_kept(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog)
    bot.say("こんばんは。半年くらい払えていません。先週、裁判所から分厚い封筒が来ました")
    bot.tap("consent:yes")
    assert bot.state == "court_letter"  # which court letter? (not the general letter question)
    assert bot.session.data["answers"]["arrears_months"] == 6


# -- issue 10 (typed personas): the consent step read clause by clause ---------------


@pytest.mark.parametrize(
    "text,state,greeted",
    [
        ("夫の代わりに連絡しました。同意します", "arrears", False),  # the consent in the second clause
        ("おけ同意", "arrears", False),
        ("了解です", "arrears", False),
        ("はい、同意いたします。どうぞよろしくお願い申し上げます。", "arrears", False),
        ("はじめまして。突然のご連絡、失礼いたします。", "privacy", True),  # a greeting, not a consent
        ("よろしくお願いします", "privacy", True),
        ("同意できません", "stopped", False),  # a refusal that names 同意 is no consent
        ("同意しないといけないんですか？", "privacy", False),  # a question is neither
    ],
)
def test_consent_is_read_clause_by_clause(dialog, content, text, state, greeted) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say(text)
    assert bot.state == state, (text, bot.text())
    assert (content.text("dialog.common.greeting_back") in bot.text()) is greeted
    assert "読み取れ" not in bot.text()


def test_facts_before_consent_never_count_as_a_consent(dialog, content) -> None:
    """「4ヶ月滞納しています」 ends like a yes (「…ています」) but agrees to nothing: held."""
    bot = Bot(dialog)
    bot.follow()
    bot.say("こんにちは。4ヶ月滞納しています")
    assert bot.state == "privacy" and not bot.data["consent"]
    assert content.text("dialog.common.story_held") in bot.text()
    bot.say("同意で")
    assert bot.state == "notice" and bot.data["answers"]["arrears_months"] == 4


def test_facts_told_while_reading_the_explanations_are_held_and_consent_asked(dialog, content) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.tap("consent:read")
    bot.say("実は4ヶ月滞納していて督促状が来ています")
    assert bot.state == "privacy" and "consent:yes" in bot.quick()
    assert content.text("dialog.common.story_held") in bot.text() and "読み取れ" not in bot.text()
    bot.say("同意します")
    assert bot.state == "ownership"  # not asked again
    assert bot.data["answers"]["arrears_months"] == 4 and bot.data["answers"]["latest_notice"] == "dunning"
    # declining instead drops them
    bot = Bot(dialog)
    bot.follow()
    bot.tap("consent:read")
    bot.say("実は4ヶ月滞納していて督促状が来ています")
    bot.tap("consent:no")
    assert "held" not in bot.data and bot.data["answers"]["arrears_months"] is None


@pytest.mark.parametrize("reply,field,value", [
    ("単独です", "co_owned", False),  # a fact of the next question
    ("私だけの名義です", "co_owned", False),
])
def test_after_a_reask_an_answer_to_the_next_question_moves_on_with_the_person(dialog, content, reply, field,
                                                                                value) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    bot.say("えーと")  # not read: the letter question is asked again
    assert bot.state == "notice"
    bot.say(reply)  # they took the letter question as done and answer the next one
    assert bot.state == "guarantor", bot.text()
    assert bot.data["answers"][field] == value and bot.data["answers"]["latest_notice"] == "unknown"
    assert content.text("dialog.common.went_on") in bot.text() and "読み取れ" not in bot.text()


def test_a_bare_answer_to_the_next_question_after_a_reask_is_read_there(dialog, content) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO["lender"]:  # arrears … divorce
        bot.tap(data)
    assert bot.state == "lender"
    bot.say("ほげほげ")
    bot.say("引っ越してもいいです")  # the lender asked again; the person answers the last question
    assert bot.state == "result", bot.text()
    assert bot.data["answers"]["lender"] == "unknown" and bot.data["answers"]["wants_to_stay"] is False
    assert content.text("dialog.common.went_on") in bot.text()
    # without a re-ask the same bare reply is not taken for the next question (no skipping ahead)
    bot = consented(dialog)
    for data in _TAPS_TO["lender"]:
        bot.tap(data)
    bot.say("引っ越してもいいです")
    assert bot.state == "lender" and bot.data["answers"]["wants_to_stay"] is None


def test_replies_with_other_facts_never_make_a_question_asked_a_third_time(dialog, content) -> None:
    """Each reply tells something else (noted, then the question again): after two asks the
    question is recorded as わからない and the dialog goes on; nothing told is lost."""
    bot = consented(dialog)
    for data in _TAPS_TO["guarantor"]:
        bot.tap(data)
    assert bot.state == "guarantor"
    bot.say("銀行で借りています")
    assert bot.state == "guarantor" and bot.data["answers"]["lender"] == "bank"  # asked a second time
    bot.say("できれば住み続けたいです")
    assert bot.state == "divorce", bot.text()  # not a third time
    assert content.text("dialog.states.guarantor.text") not in bot.text()
    assert content.text("dialog.common.went_on") in bot.text()
    assert bot.data["answers"]["joint_guarantor"] is None and bot.data["answers"]["wants_to_stay"] is True
    # a question of the person's own, once, does not use up the second ask
    bot = consented(dialog)
    for data in _TAPS_TO["guarantor"]:
        bot.tap(data)
    bot.say("引っ越し代は出ますか？")
    assert bot.state == "guarantor"
    bot.say("いません")
    assert bot.state == "divorce" and bot.data["answers"]["joint_guarantor"] is False


@pytest.mark.parametrize("state,text,term", [
    ("ownership", "名義ってどういう意味ですか", "共有名義"),  # the word asked is part of a term
    ("guarantor", "連帯保証人ってなんですか？", "連帯保証人"),
    ("stay", "リースバックとは", "リースバック"),
])
def test_a_question_about_a_word_is_explained_and_not_taken_for_the_answer(dialog, content, state, text,
                                                                          term) -> None:
    bot = consented(dialog)
    taps = {"ownership": _TAPS_TO["ownership"], "guarantor": _TAPS_TO["guarantor"], "stay": _TAPS_TO["stay"]}
    for data in taps[state]:
        bot.tap(data)
    assert bot.state == state
    answered = list(bot.data["answered"])
    bot.say(text)
    assert bot.state == state and bot.data["answered"] == answered  # asked again, nothing recorded
    assert content.text(f"knowledge.glossary.{term}") in bot.text()


def test_a_question_naming_the_answer_is_no_answer(dialog) -> None:
    """「フラット35って何?」 asked at the lender question is a question, not 「フラット35です」."""
    bot = consented(dialog)
    for data in _TAPS_TO["lender"]:
        bot.tap(data)
    bot.say("フラット35って何？")
    assert bot.state == "lender" and bot.data["answers"]["lender"] is None
    bot.say("フラット35です")
    assert bot.state == "stay" and bot.data["answers"]["lender"] == "jhf"


@pytest.mark.parametrize("reply,saved", [("はい", True), ("保存してください", True), ("いいえ", False)])
def test_a_typed_yes_or_no_to_the_phone_offer_answers_the_offer(dialog, content, reply, saved) -> None:
    bot = consented(dialog)
    bot.tap("arrears:1-2")
    bot.say("携帯は09022223333です")
    assert bot.state == "notice" and "phone:save" in bot.quick()
    assert content.text("dialog.states.notice.text") not in bot.text()  # the offer alone; the question waits
    bot.say(reply)
    assert bot.state == "notice" and bot.data["answers"]["latest_notice"] is None  # not an answer to the letter
    assert (bot.data["contact"].get("phone") == "09022223333") is saved
    assert content.text("dialog.states.notice.text") in bot.text()
    bot.say("督促状")  # and the question still has its two asks
    assert bot.state == "ownership" and bot.data["answers"]["latest_notice"] == "dunning"


@pytest.mark.parametrize("text,state,name", [
    ("電話で", "contact_name", None),  # the way to be reached is a yes to the contact consent
    ("メールがいいです", "contact_name", None),
    ("山田です", "contact_phone", "山田"),  # a name: they go on to give their details
    ("電話はちょっと困ります", "handoff", None),  # no phone: they wait in this talk
])
def test_the_contact_consent_read_from_what_people_type(dialog, text, state, name) -> None:
    bot = consented(dialog)
    bot.say("人と話したい")
    assert bot.state == "contact"
    bot.say(text)
    assert bot.state == state, bot.text()
    assert bot.data["contact"].get("name") == name


def test_a_request_to_repeat_the_question_asks_it_again_without_a_miss(dialog, content) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    for _ in range(2):  # as often as they like: their own request uses no ask
        bot.say("すみません、もう一回質問をお願いします")
        assert bot.state == "notice" and "読み取れ" not in bot.text()
        assert content.text("dialog.states.notice.text") in bot.text()
    bot.say("督促状です")
    assert bot.state == "ownership" and bot.data["answers"]["latest_notice"] == "dunning"


def test_a_correction_inside_one_message_keeps_what_follows_jya_nakute(dialog, content) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO["ownership"]:
        bot.tap(data)
    bot.say("あ、さっきの間違いでした。1ヶ月じゃなくて5ヶ月です")
    assert bot.data["answers"]["arrears_months"] == 5 and bot.state == "ownership"
    assert "読み取れ" not in bot.text() and "5ヶ月" in bot.text()


@pytest.mark.parametrize("text", ["答えたくないです", "言いたくないです", "ノーコメントで"])
def test_rather_not_say_is_recorded_as_unknown_not_as_no(dialog, text) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO["divorce"]:
        bot.tap(data)
    bot.say(text)  # 「…たくないです」 ends like a no, but it is no answer
    assert bot.state == "lender" and bot.data["answers"]["divorce"] is None


def test_a_correction_inside_a_message_keeps_its_other_facts(dialog) -> None:
    bot = consented(dialog)
    bot.say("3ヶ月滞納で、督促状じゃなくて催告書です")
    a = bot.data["answers"]
    assert a["arrears_months"] == 3 and a["latest_notice"] == "dunning" and bot.state == "ownership"
    bot.say("単独ではなく共有名義です")
    assert bot.data["answers"]["co_owned"] is True
    # 「もう一度…」 with a fact in it is the fact, not a request to repeat the question
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    bot.say("もう一度督促状が来ました")
    assert bot.state == "ownership" and bot.data["answers"]["latest_notice"] == "dunning"


def test_yes_to_the_divorce_question_asks_which_way(dialog, content) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO["divorce"]:
        bot.tap(data)
    bot.say("はい")
    assert bot.state == "divorce" and "読み取れ" not in bot.text()
    assert content.text("dialog.states.divorce.which") in bot.text() and "divorce:done" in bot.quick()
    bot.say("もう離婚しています")
    assert bot.state == "lender" and bot.data["answers"]["divorce"] == "done"


def test_after_questions_of_their_own_other_facts_still_never_make_a_third_ask(dialog, content) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO["guarantor"]:
        bot.tap(data)
    bot.say("引っ越し代は出ますか？")
    bot.say("任意売却をしたら近所に知られますか？")
    assert bot.state == "guarantor"
    bot.say("銀行で借りています")  # a fact for another question: noted, the question not asked again
    assert bot.state == "divorce" and bot.data["answers"]["lender"] == "bank"
    assert bot.data["answers"]["joint_guarantor"] is None


# Answers typed in hiragana where kanji are usual (issue 10 item 1), found by the typed personas
# (young_blunt, tests/data/personas_heldout2.yaml): each reads as the same answer in kanji.
@pytest.mark.parametrize("state, typed, written", [
    ("ownership", "おれだけ", "俺だけ"),
    ("ownership", "ぼくひとりです", "僕ひとりです"),
    ("guarantor", "いねー", "いない"),
    ("divorce", "かんけいない", "関係ない"),
    ("divorce", "りこんしてない", "離婚してない"),
    ("lender", "ぎんこう", "銀行"),
    ("lender", "ちほうぎんこうです", "地方銀行です"),
])
def test_an_answer_in_hiragana_reads_as_in_kanji(dialog, reached, state, typed, written) -> None:
    in_kanji = reached[state].clone()
    in_kanji.say(written)
    assert in_kanji.state != state, (state, written)  # the kanji answer is read and the dialog moves on
    bot = reached[state].clone()
    bot.say(typed)
    assert (bot.state, bot.data["answers"]) == (in_kanji.state, in_kanji.data["answers"])


# -- typed personas set 5 (tests/data/personas_heldout5.yaml): the dialog's part --------------

def test_consent_in_a_paragraph_that_mentions_the_explanation_is_a_consent(dialog: DiagnosisDialog) -> None:
    """「ご説明を読みまして、内容に同意いたします」 agrees; 「説明を読むだけ」 alone still only reads."""
    bot = Bot(dialog)
    bot.follow()
    bot.say("こんにちは。息子に勧められて登録いたしました。ご説明を読みまして、内容に同意いたします。")
    assert bot.state == "arrears" and bot.data["consent"] is True
    other = Bot(dialog)
    other.follow()
    other.say("説明を読むだけにします")
    assert other.state == "explain" and not other.data["consent"]


def test_a_consent_said_in_a_message_that_got_the_care_reply_is_not_asked_again(dialog: DiagnosisDialog) -> None:
    """The care reply comes alone; the consent in the same message is kept, with its facts, and
    the next message goes on (never the consent asked again and again); a no then still declines."""
    bot = Bot(dialog)
    bot.follow()
    r = bot.say("もう死にたいです。説明は読みました。同意します。ローンはもう4ヶ月払えていません")
    assert "crisis" in r.signals and bot.state == "privacy"
    bot.say("期限の利益喪失の通知が来ました")
    assert bot.data["consent"] is True
    a = bot.data["answers"]
    assert a["arrears_months"] == 4 and a["latest_notice"] == "acceleration"
    assert bot.state == "ownership"
    no = Bot(dialog)
    no.follow()
    no.say("もう死にたいです。同意します")
    no.say("いいえ、やめておきます")
    assert no.state == "stopped" and not no.data["consent"]


@pytest.mark.parametrize("text, field, value", [
    # 「同月27日」: the month of the date before it (a 開札 never read as the bid start)
    ("入札期間 令和９年１月１３日（水）から同月２０日（水）まで、開札期日 同月２７日（水）", "kaisatsu_date", "2027-01-27"),
    # 「先週の水曜日」 of Friday 2026-11-27
    ("入札の通知が来ていて、先週の水曜日に開札があったと聞きました", "kaisatsu_date", "2026-11-18"),
    # a 「?」 before 「って」 is a word not sure of, not a question
    ("さいこくしょ？ってのがきた", "latest_notice", "dunning"),
    # 代位弁済 told by what it says, the company by its name: not an 一括請求 only
    ("ＳＭＢＣ信用保証から、銀行に代わって全額を払ったので今後は一括でこちらに払ってという手紙", "latest_notice", "subrogation"),
    ("先週、裁判所の人が家に来て、部屋の写真を撮っていきました", "latest_notice", "site_inspection"),
])
def test_letters_and_dates_told_in_their_own_words(dialog: DiagnosisDialog, text: str, field: str, value: str) -> None:
    bot = consented(dialog)
    bot.say("1年です")
    bot.say(text)
    assert bot.data["answers"][field] == value
    assert "読み取れ" not in bot.text()


@pytest.mark.parametrize("taps, text, field, value", [
    (["arrears:3-5", "notice:dunning"], "家は主人ひとりの名義でございます", "co_owned", False),
    (["arrears:3-5", "notice:dunning", "own:single", "guarantor:no"],
     "離婚でございますか。主人とは五十年近く連れ添っておりますので、そのようなことはございません。", "divorce", "none"),
    (["arrears:3-5", "notice:dunning", "own:shared", "guarantor:no"],
     "元夫といっても、まだ調停中で離婚は成立していません", "divorce", "in_progress"),
    (["arrears:3-5", "notice:dunning", "own:single", "guarantor:no", "divorce:none"], "ちぎんです", "lender", "bank"),
    (["arrears:3-5", "notice:dunning", "own:single", "guarantor:no", "divorce:none", "lender:bank"],
     "できますことなら、この家で最期まで暮らしとうございます。", "wants_to_stay", True),
    (["arrears:3-5", "notice:dunning", "own:single", "guarantor:no", "divorce:none", "lender:bank"],
     "すみたい🏠", "wants_to_stay", True),
    (["arrears:3-5", "notice:dunning", "own:single", "guarantor:no", "divorce:none", "lender:bank"],
     "売ってしまいたいです", "wants_to_stay", False),
])
def test_answers_in_long_polite_or_phone_wording(dialog: DiagnosisDialog, taps, text, field, value) -> None:
    bot = consented(dialog)
    for data in taps:
        bot.tap(data)
    bot.say(text)
    assert bot.data["answers"][field] == value
    assert "読み取れ" not in bot.text()


def test_a_consent_said_with_the_care_reply_is_dropped_when_the_person_only_reads(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say("もう死にたいです。同意します")
    bot.tap("consent:read")
    bot.tap("explain:start")
    assert bot.state == "privacy"
    bot.say("4ヶ月遅れています")
    assert bot.state == "privacy" and not bot.data["consent"]


# A stage is never understated (issue 10; found by the fresh typed personas, set 5): told that the
# auction is over, without a date, the result is the stage after 開札, not the 期間入札.
@pytest.mark.parametrize("told", ["もう落札されたと聞きました", "開札は終わってしまいました", "競売で売れてしまったそうです"])
def test_an_auction_told_over_without_a_date_is_after_kaisatsu(dialog, told) -> None:
    from dialogs.assessment import Case, stage_basis

    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:bid_notice")
    bot.say(told)
    answers = bot.data["answers"]
    assert answers["auction_over"] is True
    assert stage_basis(Case.from_dict(answers), dt.date(2026, 12, 3))[0] == "after_kaisatsu"


@pytest.mark.parametrize("text", ["まだ落札されていません", "落札されるまでに何ができますか"])
def test_an_auction_not_over_is_not_read_as_over(text) -> None:
    from dialogs.understanding import understand

    assert understand(text, dt.date(2026, 12, 3)).auction_over is False


# -- found by the fresh typed personas, set 6 (tests/data/personas_heldout6.yaml); the messages
# below are worded apart from the personas' own, to hold the mechanism, not one sentence.

@pytest.mark.parametrize("said", ["妻です", "父の家のことです", "娘が代わりに書いています", "夫のローンのことです"])
def test_who_writes_before_consent_is_thanked_and_the_consent_asked_again(dialog: DiagnosisDialog, said) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say(said)
    assert bot.state == "privacy" and "読み取れ" not in bot.text() and "ご家族のこと" in bot.text()
    assert not bot.data["consent"]  # who writes is no consent
    bot.say(said)  # said again: never a third consent ask in a row (the explanations open)
    assert bot.state == "explain" and not bot.data["consent"]
    bot.say("同意します")  # typed under the explanations: the consent, never 「読み取れ…」
    assert bot.state == "arrears" and bot.data["consent"] is True and "読み取れ" not in bot.text()


def test_a_fact_kept_with_the_care_reply_is_not_overwritten_when_the_person_goes_on(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:3-5")
    r = bot.say("督促状が来ました。家族のためにも、自分なんて消えてしまえばいいと思います")
    assert "crisis" in r.signals and bot.data["answers"]["latest_notice"] == "dunning"
    bot.say("すみません、続けます。名義は妻のみです")
    a = bot.data["answers"]
    assert a["latest_notice"] == "dunning" and a["co_owned"] is False and bot.state == "guarantor"


@pytest.mark.parametrize("text", ["さっきの2ヶ月は間違いで、4ヶ月です", "最初に書いた2ヶ月はまちがいでした。4ヶ月です"])
def test_a_correction_said_as_a_mistake_keeps_what_follows(dialog: DiagnosisDialog, text) -> None:
    bot = consented(dialog)
    bot.say("2ヶ月です")
    bot.tap("notice:dunning")
    bot.tap("own:single")
    assert bot.state == "guarantor"
    bot.say(text)
    assert bot.data["answers"]["arrears_months"] == 4 and bot.state == "guarantor"
    assert "読み取れ" not in bot.text()


def test_dates_next_month_and_two_letters_in_one_sentence(dialog: DiagnosisDialog) -> None:
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.tap("notice:bid_notice")
    bot.say("入札は12月21日から同月27日まで、開札は翌月6日になっています")
    assert bot.data["answers"]["kaisatsu_date"] == "2027-01-06"
    bot = consented(dialog)
    bot.tap("arrears:6+")
    bot.say("開始決定のあとで、現況調査の通知が来ました")
    bot.say("開始決定は10月7日付で、調査は来週の月曜日です")
    assert bot.data["answers"]["start_decision_date"] == "2026-10-07"
    assert bot.data["inspection_date"] == "2026-11-30"


@pytest.mark.parametrize("state, typed, field, value", [
    ("arrears", "2 monthsです", "arrears_months", 2),
    ("arrears", "もう1 yearくらい", "arrears_months", 12),
    ("ownership", "my nameだけ", "co_owned", False),
    ("lender", "flat 35です", "lender", "jhf"),
    ("lender", "bankです", "lender", "bank"),
    ("stay", "stayしたいです", "wants_to_stay", True),
    ("stay", "move outしてもいいです", "wants_to_stay", False),
    ("ownership", "single ownerです", "co_owned", False),
    ("ownership", "wifeとjointです", "co_owned", True),
    ("guarantor", "no guarantor", "joint_guarantor", False),
    ("divorce", "not divorced", "divorce", "none"),
    ("stay", "I want to stay", "wants_to_stay", True),
])
def test_english_words_mixed_in_are_read(dialog: DiagnosisDialog, state, typed, field, value) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO[state]:
        bot.tap(data)
    bot.say(typed)
    assert bot.data["answers"][field] == value
    assert "読み取れ" not in bot.text()


@pytest.mark.parametrize("state, typed, field, value", [
    ("ownership", "妻のみです", "co_owned", False),
    ("ownership", "名義は父のままです", "co_owned", False),
    ("ownership", "夫と私です", "co_owned", True),
    ("stay", "もっと狭い部屋に移りたいです", "wants_to_stay", False),
    ("stay", "出ます", "wants_to_stay", False),
    ("stay", "この家は手放したくないです", "wants_to_stay", True),
    ("notice", "保証会社から求償権についての通知が届きました", "latest_notice", "subrogation"),
    ("divorce", "妻は三年前に他界しました", "divorce", "none"),
    ("arrears", "３", "arrears_months", 3),
    # one word all in katakana: read as hiragana (the known katakana words still read)
    ("notice", "トクソク", "latest_notice", "dunning"),
    ("ownership", "タンドク", "co_owned", False),
    ("ownership", "ペアローン", "co_owned", True),
    ("guarantor", "イナイ", "joint_guarantor", False),
    ("lender", "ギンコウ", "lender", "bank"),
    ("lender", "フラット", "lender", "jhf"),
    ("stay", "スミタイ", "wants_to_stay", True),
    ("stay", "リースバック", "wants_to_stay", True),
])
def test_answers_found_by_set_6_read_at_their_question(dialog: DiagnosisDialog, state, typed, field, value) -> None:
    bot = consented(dialog)
    for data in _TAPS_TO[state]:
        bot.tap(data)
    bot.say(typed)
    assert bot.data["answers"][field] == value
    assert "読み取れ" not in bot.text()


def test_a_story_in_the_consent_message_gives_no_arrears_and_the_lender(dialog: DiagnosisDialog) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say("同意します。会社を経営していますが、ローンは毎月払えていて、遅れたことはまだ一度もありません。"
            "借入先は近所の信用組合です。名義は私だけです")
    a = bot.data["answers"]
    assert a["arrears_months"] == 0 and a["lender"] == "bank" and a["co_owned"] is False
    assert bot.state == "guarantor"


@pytest.mark.parametrize("typed, email", [("bank.move@example.com", "bank.move@example.com"),
                                          ("メールは stay-letter@example.jp でお願いします", "stay-letter@example.jp")])
def test_english_words_are_never_put_into_japanese_inside_an_address(dialog, typed, email) -> None:
    bot = consented(dialog, channel="web")
    bot.tap("cmd:human")
    bot.tap("contact:yes")
    bot.tap("name:skip")
    bot.say(typed)
    assert bot.data["contact"]["email"] == email and bot.state == "contact_time"


@pytest.mark.parametrize("said", ["内容を確認しました", "わかりました"])
def test_a_plain_yes_in_other_words_still_consents(dialog: DiagnosisDialog, said) -> None:
    bot = Bot(dialog)
    bot.follow()
    bot.say(said)
    assert bot.data["consent"] is True and bot.state == "arrears"


# --------------------------------------------------------------------------- anger read as a question
@pytest.mark.parametrize("text", ["お前に何がわかる", "ふざけんな、いつまで待たせるんだ", "バカにしてるの？"])
def test_an_insult_that_looks_like_a_question_gets_the_calm_reply_not_an_faq_answer(
        dialog: DiagnosisDialog, content: Content, text: str) -> None:
    bot = consented(dialog)
    bot.say(text)
    assert content.text("dialog.care.anger").splitlines()[0] in bot.text()
    assert "Q." not in bot.text() and "読み取れ" not in bot.text()
    assert bot.state == "arrears" and bot.data["answers"].get("arrears_months") is None


@pytest.mark.parametrize("text,topic_word", [("リースバックって詐欺じゃないの？", "リースバック"),
                                            ("いつまでなら間に合うんやろ", "開札")])
def test_a_real_question_with_strong_words_still_gets_its_answer(dialog: DiagnosisDialog, content: Content,
                                                                  text: str, topic_word: str) -> None:
    bot = consented(dialog)
    bot.say(text)
    assert content.text("dialog.care.anger").splitlines()[0] not in bot.text()
    assert topic_word in bot.text()


@pytest.mark.parametrize("text", ["話になんない", "話にならない"])
def test_anger_ending_in_a_negation_is_no_answer_to_a_yes_no_question(dialog: DiagnosisDialog, content: Content,
                                                                       text: str) -> None:
    """「話になんない」 ends like 「ないです」 (no arrears): it is anger, not the answer."""
    bot = consented(dialog)
    bot.say(text)
    assert bot.state == "arrears" and bot.data["answers"].get("arrears_months") is None
    assert content.text("dialog.care.anger").splitlines()[0] in bot.text()
    bot.say("ないです")  # the real answer still reads
    assert bot.data["answers"].get("arrears_months") == 0
