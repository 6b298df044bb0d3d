"""The LINE channel end to end: signed webhooks in, the fake LINE server out."""
from __future__ import annotations

import json
import threading
import time

from dialogs.answer import Answer
from tests.conftest import SECRET
from tests.support import webhooks


def test_good_signature_is_answered_once_by_reply(line, fake_line):
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    deliveries = fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == user])
    assert len(deliveries) == 1
    assert deliveries[0]["kind"] == "reply"
    assert fake_line.errors == []
    assert "ご相談" in " ".join(fake_line.texts_to(user)) or fake_line.messages_to(user)


def test_bad_or_missing_signature_is_rejected_and_nothing_stored(line, app):
    user = webhooks.make_user_id()
    raw, headers = webhooks.request([webhooks.text_event(user, "こんにちは", reply_token="x" * 32)], SECRET)
    bad = dict(headers, **{"x-line-signature": webhooks.sign(raw, "another-secret")})
    assert line.client.post("/callback", data=raw, headers=bad).status_code == 400
    missing = {k: v for k, v in headers.items() if k.lower() != "x-line-signature"}
    assert line.client.post("/callback", data=raw, headers=missing).status_code == 400
    tampered = raw.replace("こんにちは".encode(), "さようなら".encode())
    assert line.client.post("/callback", data=tampered, headers=headers).status_code == 400
    assert app.extensions["ninbai"].storage.inbox_counts() == {}


def test_verify_body_gets_200(line):
    raw = json.dumps({"destination": "U" + "0" * 32, "events": []}).encode()
    headers = {"Content-Type": "application/json", "x-line-signature": webhooks.sign(raw, SECRET)}
    assert line.client.post("/callback", data=raw, headers=headers).status_code == 200


def test_malformed_json_and_oversized_body(line, app):
    raw = b'{"destination": "U0", "events": [ '
    headers = {"Content-Type": "application/json", "x-line-signature": webhooks.sign(raw, SECRET)}
    assert line.client.post("/callback", data=raw, headers=headers).status_code == 400
    not_a_list = json.dumps({"destination": "U0", "events": {"a": 1}}).encode()
    headers = {"Content-Type": "application/json", "x-line-signature": webhooks.sign(not_a_list, SECRET)}
    assert line.client.post("/callback", data=not_a_list, headers=headers).status_code == 400
    big = b'{"destination":"U0","events":[],"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json", "x-line-signature": webhooks.sign(big, SECRET)}
    assert line.client.post("/callback", data=big, headers=headers).status_code == 413
    assert app.extensions["ninbai"].storage.inbox_counts() == {}


def test_redelivered_event_is_answered_once(line, fake_line, app):
    user = webhooks.make_user_id()
    ev = webhooks.text_event(user, "こんにちは", reply_token=line.token(user))
    assert line.post([ev]).status_code == 200
    assert line.post([webhooks.redelivered(ev)]).status_code == 200
    line.idle()
    assert len([d for d in fake_line.deliveries if d["to"] == user]) == 1
    storage = app.extensions["ninbai"].storage
    assert storage.db["inbox"].count == 1
    user_msgs = list(storage.db.query("select * from messages where direction = 'in'"))
    assert len(user_msgs) == 1


def test_fifty_users_five_messages_each_answered_once_in_order(line, fake_line, app):
    users = [webhooks.make_user_id() for _ in range(50)]
    tokens: dict[str, list[str]] = {u: [] for u in users}
    errors: list[Exception] = []

    def talk(user: str) -> None:
        try:
            client = app.test_client()
            for i in range(5):
                token = fake_line.issue_reply_token(user)
                tokens[user].append(token)
                raw, headers = webhooks.request(
                    [webhooks.text_event(user, f"{i + 1}ヶ月滞納しています", reply_token=token)], SECRET
                )
                assert client.post("/callback", data=raw, headers=headers).status_code == 200
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    line.idle(60)
    fake_line.wait_for(lambda: len(fake_line.deliveries) >= 250, timeout=30)
    assert fake_line.errors == []
    for user in users:
        mine = [d for d in fake_line.deliveries if d["to"] == user]
        assert len(mine) == 5, user
        # Answered in the order the user wrote: reply tokens used in order.
        assert [d["reply_token"] for d in mine] == tokens[user]
    storage = app.extensions["ninbai"].storage
    assert storage.inbox_counts() == {"done": 250}


def test_line_500_then_200_delivers_one_message(line, fake_line):
    """A 5xx leaves a reply's fate unknown: the same token is tried again (a used one
    would answer 400), not a push that could say it twice."""
    user = webhooks.make_user_id()
    fake_line.fail_next(1, status=500, path_prefix="/v2/bot/message/reply")
    line.say(user, "こんにちは")
    line.idle()
    delivered = fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == user])
    assert len(delivered) == 1
    assert delivered[0]["kind"] == "reply"
    replies = [a for a in fake_line.attempts if a.get("path", "").endswith("/reply")]
    assert [a["status"] for a in replies] == [500]
    assert fake_line.errors == []


def test_a_reply_that_timed_out_but_landed_is_not_said_twice(line, fake_line, app):
    """LINE took the reply but answered after the bot gave up waiting: the bot tries the
    same token again, LINE says it is used (400), and the answer counts as sent."""
    user = webhooks.make_user_id()
    fake_line.delay_next(1, 3.0, path_prefix="/v2/bot/message/reply")  # the bot waits 2 s
    line.say(user, "こんにちは")
    fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == user])
    storage = app.extensions["ninbai"].storage
    for _ in range(200):
        sends = storage.rows("select status, method from outbox where user_key like ?", [f"%{user}"])
        if sends and sends[0]["status"] == "sent":
            break
        time.sleep(0.1)
    assert sends == [{"status": "sent", "method": "reply"}]
    time.sleep(1.5)  # a push, if one were to come, would be here by now
    assert len([d for d in fake_line.deliveries if d["to"] == user]) == 1


def test_429_is_retried_with_the_same_retry_key(line, fake_line):
    user = webhooks.make_user_id()
    fake_line.fail_next(1, status=429, path_prefix="/v2/bot/message/reply")
    fake_line.fail_next(2, status=429, path_prefix="/v2/bot/message/push")
    line.say(user, "こんにちは")
    line.idle()
    delivered = fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == user])
    pushes = [a for a in fake_line.attempts if a.get("path", "").endswith("/push")]
    assert len(delivered) == 1
    keys = {a["headers"].get("X-Line-Retry-Key") for a in pushes} | {delivered[0]["retry_key"]}
    assert len(keys) == 1


def test_sticker_and_media_get_a_kind_reply_and_are_stored(line, fake_line, app):
    user = webhooks.make_user_id()
    for ev in (
        webhooks.sticker_event(user, reply_token=line.token(user)),
        webhooks.image_event(user, reply_token=line.token(user)),
        webhooks.location_event(user, reply_token=line.token(user)),
    ):
        assert line.post([ev]).status_code == 200
    line.idle()
    texts = fake_line.wait_for(lambda: len(fake_line.messages_to(user)) >= 3 and fake_line.texts_to(user))
    assert any("スタンプ" in t for t in texts)
    assert any("画像" in t or "写真" in t for t in texts)
    kinds = [r["kind"] for r in app.extensions["ninbai"].storage.db.query(
        "select kind from messages where direction = 'in' order by id")]
    assert kinds == ["sticker", "image", "location"]


def test_unknown_event_and_standby_are_stored_never_answered(line, fake_line, app):
    user = webhooks.make_user_id()
    unknown = webhooks.unknown_event("somethingNew", user_id=user)
    standby = webhooks.standby(webhooks.text_event(user, "別のボットが応対中", reply_token=None))
    assert line.post([unknown, standby]).status_code == 200
    line.idle()
    assert fake_line.deliveries == []
    storage = app.extensions["ninbai"].storage
    assert storage.inbox_counts() == {"done": 2}
    assert [r["text"] for r in storage.db.query("select text from messages where kind = 'text'")] == [
        "別のボットが応対中"
    ]


def test_unfollow_then_no_push(line, fake_line, app):
    user = webhooks.make_user_id()
    line.say(user, "こんにちは")
    line.idle()
    assert line.post([webhooks.unfollow_event(user)]).status_code == 200
    line.idle()
    services = app.extensions["ninbai"]
    contact = services.storage.get_contact("line", user)
    assert contact["blocked"] == 1
    conv = services.storage.db["conversations"].get(1)
    before = len(fake_line.requests)
    services.engine.queue_operator_message(conv, Answer().say("ご連絡です"), None)
    services.engine.deliver(f"line:{user}")
    assert len(fake_line.requests) == before  # nothing sent to a blocked user
    row = services.storage.db.execute("select status, last_error from outbox order by id desc").fetchone()
    assert row == ("dropped", "blocked")


def test_refollow_after_block_is_welcomed_back(line, fake_line, app):
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    first = fake_line.texts_to(user)
    line.post([webhooks.unfollow_event(user)])
    line.idle()
    line.follow(user, is_unblocked=True)
    line.idle()
    again = fake_line.texts_to(user)[len(first):]
    assert again and any("おかえり" in t or "また" in t for t in again)
    assert app.extensions["ninbai"].storage.get_contact("line", user)["blocked"] == 0


def test_loading_animation_when_an_answer_waited(make_app, fake_line):
    from tests.conftest import LineHelper

    app = make_app(LOADING_AFTER_SECONDS=-1)  # every event counts as "late"
    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    line.say(user, "こんにちは")
    line.idle()
    assert fake_line.loading == [{"chatId": user, "loadingSeconds": 5}]
    assert fake_line.errors == []


def test_follow_stores_the_line_display_name(line, fake_line, app):
    user = webhooks.make_user_id()
    fake_line.profiles[user] = "山田花子"
    line.follow(user)
    line.idle()
    assert app.extensions["ninbai"].storage.get_contact("line", user)["display_name"] == "山田花子"
