"""The operator console's server side: inbox, take over, replies, hand back, alerts, hours, audit."""
from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.console import hours
from bot.console.alerts import Alerts
from tests.support import webhooks
from tests.test_console_helpers import logged_in, make_staff, post_json

HOT = "競売開始決定が届きました。開札は令和8年12月11日です"
COLD = "まだ滞納していませんが不安です"


def start_user(line, text: str | None = None) -> str:
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    line.exchange(user, data="consent:yes")
    if text:
        line.exchange(user, text)
    return user


def conv_of(app, user: str) -> dict:
    storage = app.extensions["ninbai"].storage
    row = storage.db.execute(
        "select c.id from conversations c join contacts ct on ct.id = c.contact_id"
        " where ct.external_id = ? order by c.id desc limit 1", [user]).fetchone()
    return storage.conversation(row[0])


@pytest.fixture
def staff(app):
    return make_staff(app)


def test_inbox_ranks_hot_above_cold_and_filters(app, line, staff):
    cold = start_user(line, COLD)
    hot = start_user(line, HOT)
    hot_id, cold_id = conv_of(app, hot)["id"], conv_of(app, cold)["id"]
    client = logged_in(app, "op1")
    rows = client.get("/console/api/inbox").json["rows"]
    ids = [r["id"] for r in rows]
    assert ids.index(hot_id) < ids.index(cold_id)
    first = rows[ids.index(hot_id)]
    assert first["urgency"] == "hot" and first["urgency_label"] == "緊急"
    assert first["status_label"] == "自動応答中" and first["channel_label"] == "LINE"
    assert first["last_user_ago"] in ("たった今", "1分前") and first["excerpt"]
    assert first["lead_score"] > rows[ids.index(cold_id)]["lead_score"]
    html = client.get("/console/").get_data(as_text=True)
    assert html.index(f'data-id="{hot_id}"') < html.index(f'data-id="{cold_id}"')
    assert "style=" not in html and "onclick" not in html

    assert post_json(client, f"/console/api/c/{cold_id}/takeover").status_code == 200
    mine = [r["id"] for r in client.get("/console/api/inbox?owner=mine").json["rows"]]
    assert mine == [cold_id]
    unassigned = [r["id"] for r in client.get("/console/api/inbox?owner=unassigned").json["rows"]]
    assert hot_id in unassigned and cold_id not in unassigned
    operator_rows = client.get("/console/api/inbox?status=operator").json["rows"]
    assert [r["id"] for r in operator_rows] == [cold_id] and operator_rows[0]["status_label"] == "対応中"


def test_two_operators_take_over_at_once_one_wins(app, line, staff):
    user = start_user(line, HOT)
    conv_id = conv_of(app, user)["id"]
    clients = [logged_in(app, "op1"), logged_in(app, "op2")]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def go(i):
        barrier.wait()
        results[i] = post_json(clients[i], f"/console/api/c/{conv_id}/takeover")

    for _ in range(3):  # a few rounds: hand back between them
        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], statuses
        loser = next(r for r in results if r.status_code == 409)
        winner_index = next(i for i, r in enumerate(results) if r.status_code == 200)
        winner_name = ["operatorさん", "佐藤"][winner_index]
        assert loser.json["error"] == f"すでに{winner_name}さんが対応中です"
        conv = app.extensions["ninbai"].storage.conversation(conv_id)
        assert conv["status"] == "operator" and conv["owner_id"] == [staff["operator"], staff["operator2"]][winner_index]
        assert post_json(clients[winner_index], f"/console/api/c/{conv_id}/handback").status_code == 200
        line.idle()


def test_owned_conversation_keeps_the_bot_silent_and_reply_is_pushed_once(app, line, fake_line, staff):
    user = start_user(line, HOT)
    conv_id = conv_of(app, user)["id"]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200

    before = len(fake_line.messages_to(user))
    line.say(user, "電話で相談したいです")
    line.idle()
    assert len(fake_line.messages_to(user)) == before, "the bot must stay silent while an operator owns it"
    conv = conv_of(app, user)
    assert conv["unread"] == 1 and conv["status"] == "operator"
    messages = op.get(f"/console/api/c/{conv_id}").json["messages"]
    assert messages[-1]["sender"] == "user" and messages[-1]["parts"][0]["text"] == "電話で相談したいです"

    other = logged_in(app, "op2")
    r = post_json(other, f"/console/api/c/{conv_id}/reply", {"text": "横取り"})
    assert r.status_code == 409 and "対応中" in r.json["error"]

    r = post_json(op, f"/console/api/c/{conv_id}/reply", {"text": "担当の山田です。お電話しますね。"})
    assert r.status_code == 200, r.json
    pushes = [d for d in fake_line.deliveries if d["to"] == user and d["kind"] == "push"]
    assert len(pushes) == 1
    assert pushes[0]["messages"] == [{"type": "text", "text": "担当の山田です。お電話しますね。"}]
    assert pushes[0]["retry_key"]
    assert fake_line.errors == []
    # a retry of that push (same X-Line-Retry-Key, as the outbox sends it) is not doubled
    services = app.extensions["ninbai"]
    outcome = services.line.push(user, pushes[0]["messages"], pushes[0]["retry_key"])
    assert outcome.ok and outcome.status == 409  # LINE: already accepted
    assert len([d for d in fake_line.deliveries if d["to"] == user and d["kind"] == "push"]) == 1
    assert conv_of(app, user)["unread"] == 0

    # hand back: the dialog resumes with a short message, then answers again
    before = len(fake_line.messages_to(user))
    assert post_json(op, f"/console/api/c/{conv_id}/handback").status_code == 200
    line.idle()
    assert len(fake_line.messages_to(user)) > before
    conv = conv_of(app, user)
    assert conv["status"] == "bot" and conv["owner_id"] is None
    assert line.exchange(user, "3か月です"), "the bot answers again after the hand back"


def test_web_chat_operator_reply_is_stored_and_shown(app, staff):
    services = app.extensions["ninbai"]
    web = app.test_client()
    page = web.get("/").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert web.post("/chat/api/events", json={"type": "start"}, headers={"X-CSRFToken": token}).status_code == 202
    assert services.worker.drain(10)
    conv_id = services.storage.db.execute("select max(id) from conversations").fetchone()[0]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200
    assert post_json(op, f"/console/api/c/{conv_id}/reply", {"text": "担当です"}).status_code == 200
    data = web.get("/chat/api/messages").json
    assert data["messages"][-1]["sender"] == "operator" and data["messages"][-1]["text"] == "担当です"
    assert data["operator"] == {"name": "operatorさん"}


def test_close_then_a_new_message_starts_with_the_bot(app, line, fake_line, staff):
    user = start_user(line, COLD)
    conv_id = conv_of(app, user)["id"]
    op = logged_in(app, "op1")
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 200
    r = post_json(op, f"/console/api/c/{conv_id}/status", {"status": "closed"})
    assert r.status_code == 200 and r.json["state"]["status"] == "closed"
    assert app.extensions["ninbai"].storage.conversation(conv_id)["closed_at"]
    assert line.exchange(user, "こんにちは"), "a new conversation, answered by the bot"
    assert conv_of(app, user)["id"] != conv_id
    r = post_json(op, f"/console/api/c/{conv_id}/status", {"status": "open"})
    assert r.status_code == 409 and "新しい相談" in r.json["error"]
    assert post_json(op, f"/console/api/c/{conv_id}/takeover").status_code == 409


def test_conversation_page_card_notes_assign_and_audit(app, line, staff):
    user = start_user(line, HOT)
    line.exchange(user, "ありがとう")
    storage = app.extensions["ninbai"].storage
    conv = conv_of(app, user)
    contact_id = conv["contact_id"]
    storage.add_message(conv["id"], contact_id, "in", "user", "sticker", None, {"package_id": "1"})
    storage.add_message(conv["id"], contact_id, "in", "user", "image", None, {})
    op = logged_in(app, "op1")
    html = op.get(f"/console/c/{conv['id']}").get_data(as_text=True)
    assert "相談カード" in html and "リードスコア" in html and "連絡の同意" in html
    assert "style=" not in html and "onclick" not in html
    # the same facts the homeowner was shown: the result's three lines (dialogs/advice.py)
    content = app.extensions["ninbai"].content
    assert "相談者に伝えた内容" in html
    for key in ("stage", "by_when", "todo"):
        assert content.text(f"dialog.states.result.rows.{key}") in html
    texts = [p["text"] for m in op.get(f"/console/api/c/{conv['id']}").json["messages"] for p in m["parts"]]
    assert "［スタンプ］" in texts and "［画像］" in texts

    r = post_json(op, f"/console/api/c/{conv['id']}/notes", {"text": "夕方に折り返し希望"})
    assert r.status_code == 200 and r.json["notes"][0]["text"] == "夕方に折り返し希望"
    assert post_json(op, f"/console/api/c/{conv['id']}/notes", {"text": " "}).status_code == 400
    r = post_json(op, f"/console/api/c/{conv['id']}/assign", {"user_id": staff["operator2"]})
    assert r.status_code == 200 and r.json["state"]["owner"] == "佐藤"
    r = post_json(op, f"/console/api/c/{conv['id']}/assign", {"user_id": staff["marketing"]})
    assert r.status_code == 400

    actions = [r[0] for r in storage.db.execute(
        "select action from audit where target_type = 'conversation' order by id")]
    assert actions[:3] == ["view", "note", "assign"]
    row = storage.db.execute("select login, ip from audit where action = 'view'").fetchone()
    assert row == ("op1", "127.0.0.1")

    admin = logged_in(app, "admin1")
    page = admin.get("/console/audit?action=view").get_data(as_text=True)
    assert "閲覧" in page and "op1" in page
    assert "メモ追加" not in admin.get("/console/audit?action=view").get_data(as_text=True).split("<tbody>")[1]


def test_admin_manages_users_and_canned_replies(app, staff):
    admin = logged_in(app, "admin1")
    r = admin.post("/console/users", data={"csrf_token": admin.csrf, "login": "newop", "password": "long-enough-pw",
                                           "role": "operator", "display_name": "新人"})
    assert r.status_code == 303
    storage = app.extensions["ninbai"].storage
    new_id = storage.db.execute("select id from users where login = 'newop'").fetchone()[0]
    admin.post(f"/console/users/{new_id}", data={"csrf_token": admin.csrf, "action": "role", "role": "marketing"})
    assert storage.db.execute("select role from users where id = ?", [new_id]).fetchone()[0] == "marketing"
    admin.post(f"/console/users/{new_id}", data={"csrf_token": admin.csrf, "action": "password",
                                                 "password": "another-long-pw"})
    admin.post(f"/console/users/{new_id}", data={"csrf_token": admin.csrf, "action": "disable"})
    assert storage.db.execute("select active from users where id = ?", [new_id]).fetchone()[0] == 0
    # the last admin cannot demote themself
    admin.post(f"/console/users/{staff['admin']}", data={"csrf_token": admin.csrf, "action": "role",
                                                          "role": "operator"})
    assert storage.db.execute("select role from users where id = ?", [staff["admin"]]).fetchone()[0] == "admin"

    admin.post("/console/canned", data={"csrf_token": admin.csrf, "title": "挨拶", "text": "担当の者です。",
                                        "position": "1"})
    cid = storage.db.execute("select id from canned_replies where title = '挨拶'").fetchone()[0]
    admin.post(f"/console/canned/{cid}", data={"csrf_token": admin.csrf, "title": "挨拶",
                                               "text": "担当の山田です。", "position": "1"})
    assert storage.db.execute("select text from canned_replies where id = ?", [cid]).fetchone()[0] \
        == "担当の山田です。"
    op = logged_in(app, "op1")
    assert op.get("/console/canned").status_code == 403
    admin.post(f"/console/canned/{cid}/delete", data={"csrf_token": admin.csrf})
    assert storage.db.execute("select count(*) from canned_replies where id = ?", [cid]).fetchone()[0] == 0
    actions = {r[0] for r in storage.db.execute("select action from audit")}
    assert {"user_create", "user_update", "user_password", "user_disable", "canned_create",
            "canned_update", "canned_delete"} <= actions


# -- alerts ---------------------------------------------------------------------------------
class _Hook(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        type(self).bodies.append((self.headers["Content-Type"], json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    _Hook.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Hook.bodies
    server.shutdown()
    server.server_close()


def test_alerts_once_per_conversation_and_kind_with_line_and_webhook(make_app, fake_line, webhook_server):
    from tests.conftest import LineHelper

    server, bodies = webhook_server
    staff_line_id = webhooks.make_user_id()
    app = make_app(ALERT_LINE_USER_IDS=f"{staff_line_id}, ",
                   ALERT_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/hook",
                   PUBLIC_URL="https://bot.example.jp")
    make_staff(app)
    line = LineHelper(app, fake_line)
    user = start_user(line, HOT)
    line.exchange(user, "開札はいつですか")  # still hot: no second alert
    alerts: Alerts = app.extensions["ninbai"].extra["alerts"]
    alerts.join()
    storage = app.extensions["ninbai"].storage
    conv_id = conv_of(app, user)["id"]
    rows = list(storage.db.query("select kind, notified from alerts where conversation_id = ?", [conv_id]))
    assert [r["kind"] for r in rows] == ["hot_lead"]
    pushes = [d for d in fake_line.deliveries if d["to"] == staff_line_id]
    assert len(pushes) == 1 and pushes[0]["retry_key"]
    text = pushes[0]["messages"][0]["text"]
    assert f"https://bot.example.jp/console/c/{conv_id}" in text and "緊急度: 高" in text
    assert user not in text
    assert bodies == [("application/json; charset=utf-8", {"text": text})]
    assert json.loads(rows[0]["notified"])["webhook"] == 200
    assert fake_line.errors == []

    # asking for a person: a second kind, once
    line.exchange(user, data="cmd:human")
    line.exchange(user, data="cmd:human")
    alerts.join()
    kinds = [r[0] for r in storage.db.execute("select kind from alerts where conversation_id = ? order by id",
                                              [conv_id])]
    assert kinds == ["hot_lead", "wants_human"]
    assert len([d for d in fake_line.deliveries if d["to"] == staff_line_id]) == 2

    # the console shows them, and marks them seen when the conversation is opened
    op = logged_in(app, "op1")
    data = op.get("/console/api/inbox").json
    assert data["alerts"]["unseen"] == 2
    assert {a["kind"] for a in data["alerts"]["items"]} == {"hot_lead", "wants_human"}
    op.get(f"/console/c/{conv_id}")
    assert op.get("/console/api/inbox").json["alerts"]["unseen"] == 0


class _HangingHook(BaseHTTPRequestHandler):
    release = threading.Event()
    arrived = threading.Event()

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).arrived.set()
        type(self).release.wait(30)  # a Slack / Teams endpoint that does not answer
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_hanging_alert_webhook_does_not_hold_the_homeowners_answers(make_app, fake_line):
    """Why notifications have their own thread (README "Alerts"): the worker answers every
    homeowner; a staff webhook that hangs until its timeout must not hold those answers."""
    from tests.conftest import LineHelper

    _HangingHook.release.clear()
    _HangingHook.arrived.clear()
    server = HTTPServer(("127.0.0.1", 0), _HangingHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = make_app(ALERT_WEBHOOK_URL=f"http://127.0.0.1:{server.server_port}/hook")
        line = LineHelper(app, fake_line)
        user = start_user(line, HOT)  # a hot lead: the alert goes out to the hanging webhook
        assert _HangingHook.arrived.wait(15)
        other = start_user(line)  # answered while the notification still waits
        reply = line.exchange(other, "まだ滞納していませんが不安です")
        assert reply and not _HangingHook.release.is_set()
        storage = app.extensions["ninbai"].storage
        # the notification is still in flight (its outcome not yet recorded) while the answer went out
        assert [r[0] for r in storage.db.execute("select notified from alerts")] == ["{}"]
        assert line.exchange(user, "開札はいつですか")
    finally:
        _HangingHook.release.set()
        app.extensions["ninbai"].extra["alerts"].join()
        server.shutdown()
        server.server_close()


def test_alert_webhook_failure_is_logged_not_raised(app, caplog):
    storage = app.extensions["ninbai"].storage
    alerts = Alerts(storage, None, webhook_url="http://127.0.0.1:9/nothing", timeout=1.0)
    done = alerts.notify(1, "hot_lead", {"id": 1, "urgency": "hot"})
    assert done == {"webhook": None}
    assert "alert webhook failed" in caplog.text
    assert Alerts(storage, None, webhook_url="file:///etc/passwd").webhook_url is None


# -- business hours -----------------------------------------------------------------------------
JST = hours.JST
NINE_TO_SIX = hours.parse_hours("09:00-18:00")


@pytest.mark.parametrize(
    "now, expected",
    [
        (dt.datetime(2025, 11, 28, 20, 0, tzinfo=JST), "翌営業日 12月1日（月）9時以降"),  # Fri evening
        (dt.datetime(2025, 11, 29, 10, 0, tzinfo=JST), "翌営業日 12月1日（月）9時以降"),  # Saturday
        (dt.datetime(2025, 12, 1, 7, 30, tzinfo=JST), "本日9時以降"),  # Monday early
        (dt.datetime(2025, 12, 26, 18, 0, tzinfo=JST), "翌営業日 1月5日（月）9時以降"),  # year-end closure
        (dt.datetime(2026, 5, 2, 12, 0, tzinfo=JST), "翌営業日 5月7日（木）9時以降"),  # Golden Week
        (dt.datetime(2025, 11, 23, 12, 0, tzinfo=JST), "翌営業日 11月25日（火）9時以降"),  # 勤労感謝の日+振替休日
    ],
)
def test_out_of_hours_note(now, expected):
    note = hours.reply_note(now, NINE_TO_SIX)
    assert note and expected in note


def test_open_hours_have_no_note():
    assert hours.reply_note(dt.datetime(2025, 12, 1, 9, 0, tzinfo=JST), NINE_TO_SIX) is None
    assert hours.reply_note(dt.datetime(2025, 12, 1, 17, 59, tzinfo=JST), NINE_TO_SIX) is None
    assert hours.reply_note(dt.datetime(2025, 12, 1, 18, 0, tzinfo=JST), NINE_TO_SIX)
    assert hours.parse_hours("10:30-19:00") == (dt.time(10, 30), dt.time(19, 0))
    assert hours.parse_hours("nonsense") == NINE_TO_SIX
    note = hours.reply_note(dt.datetime(2025, 12, 1, 8, 0, tzinfo=JST), hours.parse_hours("10:30-19:00"))
    assert "本日10時30分以降" in note


def test_handoff_answer_gets_the_note_out_of_hours_only(make_app, fake_line):
    from tests.conftest import LineHelper

    saturday = dt.datetime(2025, 11, 29, 10, 0, tzinfo=JST)
    app = make_app(CONSOLE_CLOCK=lambda: saturday)
    line = LineHelper(app, fake_line)
    user = start_user(line)
    texts = line.exchange(user, data="cmd:human")
    assert any("翌営業日 12月1日（月）9時以降にご連絡します" in t for t in texts), texts
    assert not any("翌営業日" in t for t in line.exchange(user, "3か月です"))

    monday = dt.datetime(2025, 12, 1, 10, 0, tzinfo=JST)
    app2 = make_app(CONSOLE_CLOCK=lambda: monday, DATABASE=str(app.config["DATABASE"]) + "-2")
    line2 = LineHelper(app2, fake_line)
    user2 = start_user(line2)
    assert not any("営業時間外" in t for t in line2.exchange(user2, data="cmd:human"))


def test_missing_cases_and_followups_answer_404_and_a_bad_form_400(app, line, staff):
    client = logged_in(app, "op1")
    assert client.get("/console/c/999999").status_code == 404
    assert client.get("/console/api/c/999999").status_code == 404
    assert post_json(client, "/console/api/c/999999/takeover").status_code == 404
    assert post_json(client, "/console/api/followups/999999/done").status_code == 404
    conv_id = conv_of(app, start_user(line, HOT))["id"]
    r = post_json(client, f"/console/api/c/{conv_id}/notes", {"text": "  "})
    assert r.status_code == 400 and r.json["error"] == "メモが空です"
    r = post_json(client, f"/console/api/c/{conv_id}/followups", {"due_at": "2000-01-01T10:00"})
    assert r.status_code == 400 and r.json["error"] == "過去の日時は指定できません"


def test_case_card_shows_only_what_the_dialog_learned(app, line, staff):
    """The card's rows: each one the dialog has a value for, in order, with names from labels.yaml."""
    from bot.console import service
    from bot.storage import dumps

    storage = app.extensions["ninbai"].storage
    conv_id = conv_of(app, start_user(line, HOT))["id"]
    data = {"answers": {"arrears_months": 0, "notices": ["dunning"], "bidding_start": "2026-12-01"},
            "contact": {"name": "山田", "via_line": True, "preferred_time": "evening"}}
    storage.db.execute("update conversations set data = ?, summary = ? where id = ?",
                       [dumps(data), dumps({"stage": "dunning"}), conv_id])
    card = service.case_card(storage, service.get_conversation(storage, conv_id), dt.date(2026, 11, 2))
    assert card["situation"] == [("段階", "督促状・催告書"), ("滞納", "まだ滞納なし"), ("届いた書類", "督促状・催告書"),
                                 ("入札期間 開始", "2026年12月1日（火）")]
    shown = storage.contact_by_id(service.get_conversation(storage, conv_id)["contact_id"])["display_name"]
    assert card["contact"][:4] == [("お名前", "山田"), ("LINE表示名", shown), ("連絡方法", "LINEで連絡"),
                                   ("希望時間帯", "夕方以降")]
    assert card["contact"][-1] == ("連絡の同意", "未同意")


def test_describe_message_names_media_as_what_they_are():
    from bot.console.service import describe_message
    from bot.storage import dumps

    assert describe_message({"kind": "text", "text": "こんにちは"}) == "こんにちは"
    assert describe_message({"kind": "sticker", "payload": dumps({"sticker": {"id": "1"}})}) == "［スタンプ］"
    assert describe_message({"kind": "location", "payload": dumps({"address": "東京都"})}) == "［位置情報］ 東京都"
    assert describe_message({"kind": "location", "payload": None}) == "［位置情報］"
    assert describe_message({"kind": "file", "payload": dumps({"file_name": "督促状.pdf"})}) == "［ファイル］ 督促状.pdf"
    assert describe_message({"kind": "postback", "text": None, "payload": dumps({"data": "cmd:human"})}) \
        == "［ボタン］cmd:human"
    assert describe_message({"kind": "postback", "text": "担当者と話したい"}) == "担当者と話したい"
