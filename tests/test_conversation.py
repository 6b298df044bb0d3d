"""The conversation around the dialog (dialogs/conversation.py): the status machine, every
allowed and refused transition, two operators racing for one case, and the conversation's
own steps (data deletion, the satisfaction question) through LINE webhooks and the web chat;
an operator's reply goes to the outbox as an answer.
"""
from __future__ import annotations

import json
import threading

import pytest

from bot.console import service
from bot.console.service import Conflict
from dialogs import conversation
from dialogs.answer import Answer
from dialogs.conversation import Refused, decide
from tests.support import webhooks
from tests.test_console_helpers import logged_in, make_staff, post_json

OWNER, OTHER, NOW = 1, 2, "2026-03-02T01:00:00.000+00:00"

# (trigger, status) -> for (the owner, another operator, an admin) the outcome:
# (status after, funnel steps) when allowed, "-" when nothing changes, or the refusal's reason.
# Owned statuses (operator) belong to OWNER; the others have no owner.
EXPECTED: dict[tuple[str, str], tuple] = {
    ("handoff", "bot"): (("waiting", []),) * 3,
    ("handoff", "waiting"): ("-",) * 3,
    ("handoff", "operator"): ("-",) * 3,
    ("handoff", "closed"): ("-",) * 3,
    ("take_over", "bot"): (("operator", ["assigned"]),) * 3,
    ("take_over", "waiting"): (("operator", ["assigned"]),) * 3,
    ("take_over", "operator"): ("-", "busy", "busy"),
    ("take_over", "closed"): ("closed",) * 3,
    ("hand_back", "bot"): ("not_taken",) * 3,
    ("hand_back", "waiting"): ("not_taken",) * 3,
    ("hand_back", "operator"): (("bot", []), "busy", ("bot", [])),
    ("hand_back", "closed"): ("closed",) * 3,
    ("close", "bot"): (("closed", ["closed"]),) * 3,
    ("close", "waiting"): (("closed", ["closed"]),) * 3,
    ("close", "operator"): (("closed", ["closed"]), "busy", ("closed", ["closed"])),
    ("close", "closed"): ("-",) * 3,
    ("reopen", "bot"): ("-",) * 3,
    ("reopen", "waiting"): ("-",) * 3,
    ("reopen", "operator"): ("-",) * 3,
    ("reopen", "closed"): (("bot", []),) * 3,
    ("assign", "bot"): (("bot", ["assigned"]),) * 3,
    ("assign", "waiting"): (("waiting", ["assigned"]),) * 3,
    ("assign", "operator"): (("operator", ["assigned"]), "busy", ("operator", ["assigned"])),
    ("assign", "closed"): ("closed",) * 3,
    ("withdraw", "bot"): ("-",) * 3,
    ("withdraw", "waiting"): (("bot", []),) * 3,
    ("withdraw", "operator"): ("-",) * 3,
    ("withdraw", "closed"): ("-",) * 3,
}
WHO = {"owner": (OWNER, False), "other": (OTHER, False), "admin": (OTHER, True)}


def test_the_table_covers_every_trigger_in_every_status():
    assert set(EXPECTED) == {(t, s) for t in conversation.TRIGGERS for s in conversation.STATUSES}


@pytest.mark.parametrize("trigger,status", sorted(EXPECTED))
@pytest.mark.parametrize("who", list(WHO))
def test_every_transition_allowed_or_refused(trigger, status, who):
    actor, is_admin = WHO[who]
    owner = OWNER if status == "operator" else None
    expected = EXPECTED[(trigger, status)][list(WHO).index(who)]
    if isinstance(expected, str) and expected != "-":
        with pytest.raises(Refused) as exc:
            decide(trigger, status, owner, actor=actor, is_admin=is_admin, assignee=3, now=NOW)
        assert exc.value.reason == expected
        return
    change = decide(trigger, status, owner, actor=actor, is_admin=is_admin, assignee=3, now=NOW)
    if expected == "-":
        assert not change.changed and change.funnel == [] and change.state == status
        return
    after, funnel = expected
    assert change.state == after and change.funnel == funnel
    assert change.fields.get("status", status) == after
    if after == "operator" and trigger == "take_over":
        assert change.fields["owner_id"] == actor and change.fields["unread"] == 0
    if trigger in ("hand_back", "close"):
        assert change.fields["owner_id"] is None
    if after == "closed":
        assert change.fields["closed_at"] == NOW
    if trigger == "reopen":
        assert change.fields["closed_at"] is None
    if trigger == "assign":
        assert change.fields == {"owner_id": 3}


def test_assign_details():
    # an operator's case cannot be left without anyone; a bot case can be unassigned
    with pytest.raises(Refused) as exc:
        decide("assign", "operator", OWNER, actor=OWNER, assignee=None)
    assert exc.value.reason == "no_assignee"
    assert decide("assign", "waiting", 3, actor=OTHER, assignee=None).fields == {"owner_id": None}
    same = decide("assign", "bot", 3, actor=OTHER, assignee=3)
    assert not same.changed and same.funnel == ["assigned"]


def test_unknown_trigger_or_status_is_an_error():
    with pytest.raises(ValueError):
        decide("explode", "bot")
    with pytest.raises(ValueError):
        decide("close", "archived")


def test_only_an_operator_silences_the_bot_and_allowed_lists_the_moves():
    assert [s for s in conversation.STATUSES if not conversation.bot_answers(s)] == ["operator"]
    assert conversation.allowed("bot") == ["handoff", "take_over", "close"]
    assert conversation.allowed("operator") == ["hand_back", "close"]
    assert conversation.allowed("closed") == ["reopen"]


# --------------------------------------------------------------------------- the steps before the dialog
@pytest.fixture
def content(app):
    return app.extensions["ninbai"].content


def test_deletion_step_decisions(content):
    step = conversation.deletion_step
    ask = step(content, "text", "データを削除してください", None, status="bot", pending=False)
    assert ask.action == "ask" and [q.data for q in ask.answer.quick_replies] == ["delete:yes", "delete:no"]
    assert step(content, "text", "データを削除して", None, status=None, pending=False).action == "ask"
    assert step(content, "text", "データを削除して", None, status="operator", pending=False) is None
    assert step(content, "postback", None, "delete:yes", status="bot", pending=True).action == "forget"
    assert step(content, "text", "はい", None, status="bot", pending=True).action == "forget"
    assert step(content, "text", "やめる", None, status="waiting", pending=True).action == "cancel"
    assert step(content, "postback", None, "delete:no", status="bot", pending=True).action == "cancel"
    assert step(content, "text", "3か月です", None, status="bot", pending=True).action == "drop"
    assert step(content, "postback", None, "delete:yes", status="closed", pending=False).action == "expired"
    assert step(content, "postback", None, "delete:yes", status=None, pending=False) is None
    assert step(content, "text", "こんにちは", None, status="bot", pending=False) is None
    assert step(content, "follow", None, None, status="bot", pending=True) is None


def test_feedback_step_decisions(content):
    assert conversation.feedback_tap("postback", "feedback:good") == "good"
    assert conversation.feedback_tap("postback", "consent:yes") is None
    assert conversation.feedback_tap("text", "feedback:good") is None
    thanks = conversation.feedback_step(content, "bad", asked=True)
    assert thanks.action == "feedback" and thanks.value == "bad"
    assert thanks.answer.plain_text() == content.text("service.feedback.thanks")
    assert conversation.feedback_step(content, "bogus", asked=True).value == ""
    assert conversation.feedback_step(content, "good", asked=False) is None


# --------------------------------------------------------------------------- two operators, one case
def test_two_operators_racing_for_one_case_one_wins(app):
    """Many rounds of two threads (own SQLite connections) taking the same case at once."""
    storage = app.extensions["ninbai"].storage
    staff = make_staff(app)
    ops = [staff["operator"], staff["operator2"]]

    def go(i: int, conv_id: int, barrier: threading.Barrier, outcome: list) -> None:
        barrier.wait()
        try:
            outcome[i] = service.take_over(storage, conv_id, ops[i])["owner_id"]
        except Conflict as exc:
            outcome[i] = str(exc)
        finally:
            storage.close_thread_connection()

    for round_ in range(10):
        contact = storage.ensure_contact("web", f"race{round_}")
        conv_id = storage.open_conversation(contact, "diagnosis")["id"]
        barrier = threading.Barrier(2)
        outcome: list = [None, None]
        threads = [threading.Thread(target=go, args=(i, conv_id, barrier, outcome)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        winners = [o for o in outcome if isinstance(o, int)]
        assert len(winners) == 1, outcome
        loser = next(o for o in outcome if isinstance(o, str))
        assert loser == "すでに" + ("operatorさん" if winners[0] == ops[0] else "佐藤") + "さんが対応中です"
        conv = storage.conversation(conv_id)
        assert conv["status"] == "operator" and conv["owner_id"] == winners[0] and conv["version"] == 1
        assert storage.db.execute("select count(*) from funnel_events where conversation_id = ?"
                                  " and step = 'assigned'", [conv_id]).fetchone()[0] == 1


# --------------------------------------------------------------------------- the console's transitions write what the machine says
def test_console_transitions_and_their_funnel_steps(app, line, fake_line):
    storage = app.extensions["ninbai"].storage
    make_staff(app)
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="cmd:human")
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    op, other, admin = logged_in(app, "op1"), logged_in(app, "op2"), logged_in(app, "admin1")

    def steps() -> list[str]:
        return [r[0] for r in storage.db.execute(
            "select step from funnel_events where conversation_id = ? and step in ('assigned', 'closed')"
            " order by step", [conv_id])]

    assert post_json(other, f"/console/api/c/{conv_id}/handback").status_code == 409  # nobody owns it
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200
    assert steps() == ["assigned"]
    r = post_json(other, f"/console/api/c/{conv_id}/handback")
    assert r.status_code == 409 and r.json["error"] == "すでにoperatorさんさんが対応中です"
    assert post_json(other, f"/console/api/c/{conv_id}/status", {"status": "closed"}).status_code == 409
    assert storage.conversation(conv_id)["status"] == "operator"
    # an admin may close someone else's case
    assert post_json(admin, f"/console/api/c/{conv_id}/status", {"status": "closed"}).status_code == 200
    conv = storage.conversation(conv_id)
    assert conv["status"] == "closed" and conv["owner_id"] is None and conv["closed_at"]
    assert steps() == ["assigned", "closed"]
    r = post_json(op, f"/console/api/c/{conv_id}/takeover")
    assert r.status_code == 409 and "終了" in r.json["error"]
    assert post_json(op, f"/console/api/c/{conv_id}/status", {"status": "open"}).status_code == 200
    conv = storage.conversation(conv_id)
    assert conv["status"] == "bot" and conv["closed_at"] is None
    # a status change in SQL alone records nothing any more (no triggers): only the machine does
    storage.db.execute("delete from funnel_events where conversation_id = ? and step = 'closed'", [conv_id])
    storage.db.execute("update conversations set status = 'closed' where id = ?", [conv_id])
    assert steps() == ["assigned"]


# --------------------------------------------------------------------------- deletion and feedback through LINE
def test_deletion_through_line(app, line, fake_line):
    storage = app.extensions["ninbai"].storage
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="consent:yes")
    line.exchange(user, "山田太郎です。電話は090-1234-5678です")
    content = app.extensions["ninbai"].content
    asked = line.exchange(user, "データを削除してください")
    assert asked == [content.text("service.deletion.ask")]
    last = fake_line.messages_to(user)[-1]
    assert [i["action"]["data"] for i in last["quickReply"]["items"]] == ["delete:yes", "delete:no"]
    assert line.exchange(user, data="delete:yes") == [content.text("service.deletion.done")]
    assert storage.db.execute("select count(*) from messages").fetchone()[0] == 1  # the 'done' answer only
    assert storage.db.execute("select data, state from conversations").fetchall() == [("{}", None)]
    assert list(storage.db.query("select * from messages_fts where messages_fts match '\"山田太郎\"'")) == []
    # the confirmation is over: tapping it again is answered, nothing else happens
    assert line.exchange(user, data="delete:yes") == [content.text("service.deletion.closed")]
    # and the bot answers as before
    assert line.exchange(user, "こんにちは")


def test_a_pending_deletion_gives_way_to_the_dialog_on_line(app, line, fake_line):
    storage = app.extensions["ninbai"].storage
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="consent:yes")
    line.exchange(user, "データを消してほしい")
    answer = line.exchange(user, data="arrears:3-5")  # answers the dialog's question instead
    assert answer and app.extensions["ninbai"].content.text("service.deletion.done") not in answer
    data = json.loads(storage.db.execute("select data from conversations").fetchone()[0])
    assert conversation.DELETE_PENDING not in data and data["answers"]["arrears_months"] is not None


def test_no_deletion_step_while_an_operator_answers(app, line, fake_line):
    storage = app.extensions["ninbai"].storage
    make_staff(app)
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    assert post_json(logged_in(app, "op1"), f"/console/api/c/{conv_id}/takeover").status_code == 200
    assert line.exchange(user, "データを削除してください") == []  # the operator handles it
    assert storage.conversation(conv_id)["unread"] == 1


def test_feedback_through_line(app, line, fake_line):
    storage = app.extensions["ninbai"].storage
    make_staff(app)
    content = app.extensions["ninbai"].content
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="cmd:human")
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200
    # closing it is a console POST: the question is pushed after it
    assert post_json(op, f"/console/api/c/{conv_id}/status", {"status": "closed"}).status_code == 200
    fake_line.wait_for(lambda: "いかがでしたか" in str(fake_line.messages_to(user)[-1]))
    assert line.exchange(user, data="feedback:good") == [content.text("service.feedback.thanks")]
    rows = storage.db.execute("select step, value from funnel_events where conversation_id = ?"
                              " and step like 'feedback%' order by id", [conv_id]).fetchall()
    assert rows == [("feedback_request", ""), ("feedback", "good")]
    # a second tap is thanked, not counted twice; no new conversation is opened
    assert line.exchange(user, data="feedback:bad") == [content.text("service.feedback.thanks")]
    assert storage.db.execute("select count(*) from funnel_events where step = 'feedback'").fetchone()[0] == 1
    assert storage.db.execute("select count(*) from conversations").fetchone()[0] == 1


def test_a_feedback_tap_without_a_question_goes_to_the_dialog(app, line, fake_line):
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    answer = line.exchange(user, data="feedback:good")
    assert answer and app.extensions["ninbai"].content.text("service.feedback.thanks") not in answer
    assert app.extensions["ninbai"].storage.db.execute(
        "select count(*) from funnel_events where step = 'feedback'").fetchone()[0] == 0


# --------------------------------------------------------------------------- through the web chat
def web_send(client, kind, **payload):
    assert client.post("/chat/api/events", json={"type": kind, **payload}).status_code == 202


def test_deletion_and_feedback_through_the_web_chat(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    services = app.extensions["ninbai"]
    storage, content = services.storage, services.content
    make_staff(app)
    visitor = app.test_client()
    web_send(visitor, "start")
    assert services.worker.drain(15)
    web_send(visitor, "postback", data="cmd:human", display_text="担当者と話したい")
    assert services.worker.drain(15)
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/status", {"status": "closed"}).status_code == 200
    got = visitor.get("/chat/api/messages").get_json()
    assert got["messages"][-1]["text"] == content.text("service.feedback.question")
    web_send(visitor, "postback", data="feedback:ok", display_text="ふつう")
    assert services.worker.drain(15)
    assert visitor.get("/chat/api/messages").get_json()["messages"][-1]["text"] == content.text(
        "service.feedback.thanks")
    # a deletion request after the close opens a new conversation for its confirmation
    web_send(visitor, "text", text="個人情報を削除してほしいです")
    assert services.worker.drain(15)
    assert storage.db.execute("select count(*) from conversations").fetchone()[0] == 2
    web_send(visitor, "text", text="削除します")
    assert services.worker.drain(15)
    got = visitor.get("/chat/api/messages").get_json()
    assert [m["text"] for m in got["messages"]] == [content.text("service.deletion.done")]
    assert storage.db.execute("select count(*) from messages").fetchone()[0] == 1
    # the anonymous funnel counts stay
    assert storage.db.execute("select count(*) from funnel_events where step = 'feedback'").fetchone()[0] == 1


# --------------------------------------------------------------------------- the operator's reply is an answer
def test_operator_reply_goes_to_the_outbox_as_an_answer(app, line, fake_line):
    services = app.extensions["ninbai"]
    storage = services.storage
    make_staff(app)
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200
    # the client's own tries fail: the message stays in the outbox for the retry loop
    fake_line.fail_next(int(app.config["LINE_RETRIES"]) + 1, 500, path_prefix="/v2/bot/message/push")
    text = "担当の山田です。\n明日お電話します。"
    r = post_json(op, f"/console/api/c/{conv_id}/reply", {"text": text})
    assert r.status_code == 200
    row = storage.db.execute("select messages, status from outbox where conversation_id = ?"
                             " order by id desc limit 1", [conv_id]).fetchone()
    assert row[1] == "pending"
    assert json.loads(row[0]) == {"answer": Answer().say(text).to_dict()}
    # the retry renders it: one LINE text message
    fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == user and d["kind"] == "push"],
                       timeout=30)
    push = next(d for d in fake_line.deliveries if d["to"] == user and d["kind"] == "push")
    assert push["messages"] == [{"type": "text", "text": text}]
    assert fake_line.errors == []
    # the transcript shows it as the operator's, with their name
    msg = storage.db.execute("select sender, kind, text, operator_id from messages where id = ?",
                             [r.json["message_id"]]).fetchone()
    assert msg[:3] == ("operator", "text", text) and msg[3] is not None
    parts = op.get(f"/console/api/c/{conv_id}").json["messages"][-1]
    assert parts["sender"] == "operator"


def test_a_deletion_while_waiting_for_a_person_goes_back_to_the_bot(app, line, fake_line):
    """The machine's ``withdraw``: nobody is left waiting to call a homeowner whose data is gone."""
    storage = app.extensions["ninbai"].storage
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="consent:yes")
    line.exchange(user, data="cmd:human")
    line.exchange(user, data="contact:wait")
    line.exchange(user, "人と話したいです")
    assert storage.db.execute("select status from conversations").fetchone()[0] == "waiting"
    line.exchange(user, "データを削除して")
    line.exchange(user, data="delete:yes")
    assert storage.db.execute("select status, unread from conversations").fetchone() == ("bot", 0)
