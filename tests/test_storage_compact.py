"""Each thing stored once (issue 14): messages, answers, the inbox and the outbox, through the real app."""
from __future__ import annotations

import gzip
import json
import re
import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from bot import migrations
from bot.storage import loads
from dialogs.answer import Answer, Card, QuickReply, Table, Text, restored, stored
from tests.support import webhooks

HOUR = 3600.0


def rows(app, sql: str, params=()) -> list[dict]:
    return app.extensions["ninbai"].storage.rows(sql, params)


def test_a_users_words_are_stored_once_and_the_payload_keeps_only_what_they_do_not_say(line, app):
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    words = "競売開始決定の通知が届きました。どうしたらいいですか"
    line.say(user, words)
    line.tap(user, "consent:yes")
    ev = webhooks.location_event(user, reply_token=line.token(user))
    assert line.post([ev]).status_code == 200
    line.idle()
    stored_rows = rows(app, "select kind, text, payload from messages where direction = 'in' order by id")
    by_kind = {r["kind"]: r for r in stored_rows}
    assert by_kind["text"]["text"] == words and by_kind["text"]["payload"] is None
    assert by_kind["follow"]["payload"] is None
    assert loads(by_kind["postback"]["payload"]) == {"data": "consent:yes"}
    place = loads(by_kind["location"]["payload"])
    assert place["location"]["address"] == "東京都千代田区丸の内1丁目" and place["message_id"]
    everything = json.dumps(stored_rows, ensure_ascii=False)
    assert everything.count(words) == 1  # the raw LINE event is not in the message row
    assert "replyToken" not in everything and "webhookEventId" not in everything


def test_an_answer_is_stored_compact_without_its_words_twice_and_read_back_whole(line, app, fake_line):
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    row = rows(app, "select text, payload from messages where sender = 'bot' order by id limit 1")[0]
    payload = row["payload"]
    assert "null" not in payload and '"postback"' not in payload
    first_bubble = fake_line.messages_to(user)[0]["text"]
    assert first_bubble in row["text"] and first_bubble not in payload
    whole = Answer.from_dict(json.loads(payload), row["text"])
    assert whole.plain_text() == row["text"]
    assert whole.messages[0].text == first_bubble
    assert [q.label for q in whole.quick_replies] == [i["action"]["label"] for i in
                                                       fake_line.messages_to(user)[-1]["quickReply"]["items"]]


def test_the_web_chat_and_the_console_get_the_answers_words_back(app):
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/chat/api/events", json={"type": "start"}, headers={"X-CSRFToken": token}).status_code == 202
    app.extensions["ninbai"].worker.drain(10)
    got = client.get("/chat/api/messages").get_json()
    (answer,) = [m["answer"] for m in got["messages"] if m["sender"] == "bot"]
    texts = [m["text"] for m in answer["messages"] if m["type"] == "text"]
    assert texts and all(texts)
    row = rows(app, "select text, payload from messages where sender = 'bot'")[0]
    assert "\n".join(texts) in row["text"] and texts[0] not in row["payload"]
    from bot.console.service import summarize_answer

    parts = summarize_answer(restored(row["text"], loads(row["payload"])))
    assert parts[0] == {"type": "text", "text": texts[0]}


def test_stored_and_restored_are_inverse_for_every_kind_of_message():
    answer = Answer([Text("一行目\n二行目"), Card(alt_text="要約\nです", title="まとめ", rows=[("段階", "督促")]), Text(""),
                     Table(alt_text="比較", title="比較", columns=["", "任意売却"], rows=[["価格", "高い"]]), Text("最後")],
                    [QuickReply("はい", "consent:yes", "はい"), QuickReply("電話", kind="uri", uri="tel:0120")])
    full = answer.to_dict()
    compact = stored(answer.plain_text(), full)
    assert "一行目" not in json.dumps(compact, ensure_ascii=False) and "要約" not in json.dumps(compact, ensure_ascii=False)
    assert restored(answer.plain_text(), compact) == full
    assert Answer.from_dict(compact, answer.plain_text()).to_dict() == full
    assert stored("another text", full) is full  # not this answer's plain text: kept whole
    assert full["quick_replies"] == [{"label": "はい", "data": "consent:yes"},
                                     {"label": "電話", "kind": "uri", "uri": "tel:0120"}]


def test_the_old_full_form_with_nulls_is_still_read():
    old = {"messages": [{"text": "こんにちは", "type": "text"},
                        {"alt_text": "a", "title": "t", "subtitle": None, "rows": [["k", "v"]], "paragraphs": [],
                         "buttons": [{"label": "b", "data": "d", "text": None, "kind": "postback", "initial": None,
                                      "min": None, "max": None, "uri": None}], "tone": "urgent", "type": "card"}],
           "quick_replies": [{"label": "日付", "data": "date:x", "text": None, "kind": "date", "initial": "2026-11-27",
                              "min": None, "max": None, "uri": None}]}
    answer = Answer.from_dict(old)
    assert answer.messages[1].tone == "urgent" and answer.messages[1].buttons[0].data == "d"
    assert answer.quick_replies[0].kind == "date" and answer.quick_replies[0].initial == "2026-11-27"
    assert Answer.from_dict(answer.to_dict()) == answer


def test_old_webhook_bodies_and_sent_outbox_rows_are_reduced_after_the_keep_time(line, app, fake_line):
    storage = app.extensions["ninbai"].storage
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    said = line.say(user, "３ヶ月滞納しています")
    line.idle()
    failed_id = storage.accept_events([{"event_id": "failed-1", "channel": "line", "user_key": f"line:{user}",
                                        "kind": "text", "body": '{"text":"x"}', "status": "failed",
                                        "received_at": time.time() - 100 * HOUR}])[0]
    assert storage.reduce_old_inbox(time.time()) == 0  # all within the keep time
    assert storage.reduce_old_inbox(time.time() + 47 * HOUR) == 0
    assert rows(app, "select count(*) as n from outbox where status = 'sent'")[0]["n"] == 2

    assert storage.reduce_old_inbox(time.time() + 49 * HOUR) == 2
    inbox = rows(app, "select * from inbox order by id")
    done = [r for r in inbox if r["id"] != failed_id]
    assert [r["status"] for r in done] == ["done", "done"]
    assert all(r["body"] is None and r["reply_token"] is None and r["claimed_by"] is None for r in done)
    assert {r["event_id"] for r in done} >= {said["webhookEventId"]}
    assert [r["body"] for r in inbox if r["id"] == failed_id] == ['{"text":"x"}']  # failed: kept to look into
    assert rows(app, "select count(*) as n from outbox")[0]["n"] == 0
    assert storage.reduce_old_inbox(time.time() + 49 * HOUR) == 0

    # A redelivery of a reduced event is still recognised: nothing is answered twice.
    before = len(fake_line.messages_to(user))
    assert line.post([webhooks.redelivered(said)]).status_code == 200
    line.idle()
    assert len(fake_line.messages_to(user)) == before
    assert rows(app, "select count(*) as n from messages where direction = 'in' and kind = 'text'")[0]["n"] == 1


def test_the_worker_reduces_old_rows_by_itself(make_app, fake_line):
    app = make_app(INBOX_KEEP_HOURS=0)
    line_app = app.test_client()
    user = webhooks.make_user_id()
    raw, headers = webhooks.request([webhooks.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user))],
                                    "test-channel-secret-0123456789ab")
    assert line_app.post("/callback", data=raw, headers=headers).status_code == 200
    services = app.extensions["ninbai"]
    assert services.worker.drain(15)
    for task in services.worker.periodic:  # the worker's ten-minute tasks: due now
        if hasattr(task, "last"):
            task.last = float("-inf")
    deadline = time.monotonic() + 30
    while rows(app, "select count(*) as n from inbox where body is not null")[0]["n"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rows(app, "select count(*) as n from inbox where body is not null")[0]["n"] == 0
    assert rows(app, "select count(*) as n from outbox")[0]["n"] == 0


def test_m009_reduces_the_rows_an_earlier_schema_stored(tmp_path):
    fixture = sorted((Path(__file__).parent / "data" / "schemas").glob("*.db.gz"))[-1]
    path = tmp_path / "old.db"
    path.write_bytes(gzip.decompress(fixture.read_bytes()))
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    raw = {"type": "message", "replyToken": "r" * 32, "webhookEventId": "01ABC",
           "message": {"type": "text", "id": "1", "text": "滞納して3か月です"}}
    full = Answer([Text("ありがとうございます。"), Card(alt_text="まとめ", title="まとめ")],
                  [QuickReply("はい", "consent:yes", "はい")])
    old_answer = {"messages": [{"text": "ありがとうございます。", "type": "text"},
                               {"alt_text": "まとめ", "title": "まとめ", "subtitle": None, "rows": [], "paragraphs": [],
                                "buttons": [], "tone": "info", "type": "card"}],
                  "quick_replies": [{"label": "はい", "data": "consent:yes", "text": "はい", "kind": "postback",
                                     "initial": None, "min": None, "max": None, "uri": None}]}
    db.execute("update messages set payload = ? where id = 1",
               [json.dumps({"mode": "active", "line_type": "message", "message_id": "1", "raw": raw}, ensure_ascii=False)])
    db.execute("insert into messages (conversation_id, contact_id, direction, sender, kind, text, payload)"
               " values (1, 1, 'in', 'user', 'postback', 'はい', ?)",
               [json.dumps({"mode": "active", "data": "consent:yes", "display_text": "はい", "raw": {"x": 1}})])
    db.execute("insert into messages (conversation_id, contact_id, direction, sender, kind, text, payload)"
               " values (1, 1, 'out', 'bot', 'answer', ?, ?)", [full.plain_text(), json.dumps(old_answer)])
    fts_before = db.execute("select rowid from messages_fts where messages_fts match ?", ['"滞納して"']).fetchall()
    # an operator's message queued in the old form (LINE text messages), not sent yet
    db.execute("insert into outbox (conversation_id, channel, external_id, user_key, messages, status,"
               " attempts, retry_key) values (1, 'line', 'U1', 'line:U1', ?, 'pending', 0, 'k')",
               [json.dumps([{"type": "text", "text": "担当の山田です。"}], ensure_ascii=False)])

    migrations.migrate(db)

    payloads = [r[0] for r in db.execute("select payload from messages order by id")]
    assert payloads[0] is None and loads(payloads[2]) == {"data": "consent:yes"}
    answer_row = db.execute("select text, payload from messages where kind = 'answer'").fetchone()
    assert "null" not in answer_row[1] and "ありがとう" not in answer_row[1]
    assert Answer.from_dict(json.loads(answer_row[1]), answer_row[0]).to_dict() == full.to_dict()
    assert db.execute("select rowid from messages_fts where messages_fts match ?", ['"滞納して"']).fetchall() \
        == fts_before == [(1,)]
    indexes = {r[0] for r in db.execute("select name from sqlite_master where type = 'index'")}
    assert "inbox_with_body" in indexes and "funnel_events_cover" not in indexes
    assert "idx_funnel_events_day_channel" not in indexes
    queued = json.loads(db.execute("select messages from outbox where retry_key = 'k'").fetchone()[0])
    assert Answer.from_dict(queued["answer"]).plain_text() == "担当の山田です。"


@pytest.mark.parametrize("column", ["payload", "event_id"])
def test_changing_a_message_but_its_words_leaves_the_search_index_alone(app, column):
    storage = app.extensions["ninbai"].storage
    db = storage.db
    db.execute("insert into contacts (id, channel, external_id) values (1, 'web', 'v1')")
    db.execute("insert into conversations (id, contact_id, channel, status) values (1, 1, 'web', 'bot')")
    db.execute("insert into messages (id, conversation_id, contact_id, direction, sender, kind, text)"
               " values (1, 1, 1, 'in', 'user', 'text', '督促状が来ました')")
    data_before = db.execute("select count(*) from messages_fts_data").fetchone()[0]
    db.execute(f"update messages set {column} = 'x' where id = 1")
    assert db.execute("select count(*) from messages_fts_data").fetchone()[0] == data_before
    db.execute("update messages set text = '催告書が来ました' where id = 1")
    assert db.execute("select rowid from messages_fts where messages_fts match ?", ['"催告書"']).fetchall() == [(1,)]
    assert db.execute("select rowid from messages_fts where messages_fts match ?", ['"督促状"']).fetchall() == []
