"""The pipeline, delivering: what is sent to LINE and the one retry policy.

Real parts: the fake LINE server (validating every request), the SDK's own
client, a SQLite file, the app's worker.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import time
from pathlib import Path

from bot.channels import line_render
from bot.channels.line_api import LineClient
from tests.conftest import TOKEN
from tests.support import webhooks

ROOT = Path(__file__).resolve().parent.parent
PUSH, REPLY = "/v2/bot/message/push", "/v2/bot/message/reply"
KEY1, KEY2 = "6a1b4f52-0000-4000-8000-000000000001", "6a1b4f52-0000-4000-8000-000000000002"


def _answers() -> list:
    from bot.content import load_content
    from dialogs.base import DialogInput, Session
    from dialogs.diagnosis import DiagnosisDialog

    dialog = DiagnosisDialog(load_content(ROOT / "content"))
    today = dt.date(2026, 11, 27)
    out = []
    for script in (
        [("follow", None), ("tap", "consent:yes"), ("text", "4ヶ月滞納しています"), ("text", "競売開始決定が届きました"),
         ("text", "開札は令和8年12月11日です"), ("text", "共有名義です"), ("text", "引っ越し代は出ますか？"),
         ("text", "担当の人と話したい")],
        [("follow", None), ("text", "わからない"), ("text", "やめます")],
        [("follow", None), ("tap", "consent:yes"), ("text", "4ヶ月滞納しています"), ("tap", "notice:bid_notice"),
         ("text", "開札は令和9年2月10日です"), ("tap", "own:single"), ("tap", "guarantor:no"),
         ("tap", "divorce:none"), ("tap", "lender:bank"), ("tap", "stay:no"),  # -> the result: card, table
         ("tap", "explain:keibai"),  # a table
         ("text", "引っ越し代は出ますか？"), ("text", "人と話したい"), ("tap", "contact:wait")],
    ):
        s = Session()
        for kind, value in script:
            if kind == "follow":
                inp = DialogInput(kind="follow", today=today)
            elif kind == "tap":
                inp = DialogInput(kind="postback", today=today, data=value)
            else:
                inp = DialogInput(kind="text", today=today, text=value)
            out.append(dialog.step(s, inp).answer)
    return out


def _client(fake_line, **kw) -> LineClient:
    return LineClient(TOKEN, base_url=fake_line.url, timeout=2.0, **kw)


def test_every_answer_of_the_dialog_is_sent_as_line_accepts_it(fake_line):
    client = _client(fake_line)
    answers = _answers()
    assert {m.type for a in answers for m in a.messages} == {"text", "card", "table"}
    user = webhooks.make_user_id()
    for i, answer in enumerate(answers):
        models = line_render.render(answer)
        if i % 2:
            outcome = client.reply(fake_line.issue_reply_token(user), models)
        else:
            outcome = client.push(user, models, retry_key=f"00000000-0000-4000-8000-{i:012d}")
        assert outcome.ok, outcome
    assert fake_line.errors == []  # every body valid (the SDK's models, LINE's limits, OpenAPI)
    assert len(fake_line.deliveries) == len(answers)
    # the console's stored dicts (older outbox rows) go out the same way
    dicts = line_render.to_dicts(line_render.render(answers[-1]))
    assert client.push(user, dicts, retry_key="00000000-0000-4000-8000-999999999999").ok
    assert fake_line.messages_to(user)[-len(dicts):] == json.loads(json.dumps(dicts))
    client.close()


def test_the_sent_dicts_are_exactly_the_sdks_serialization_of_its_models():
    from linebot.v3.messaging import ApiClient, Configuration, PushMessageRequest, ReplyMessageRequest

    client = ApiClient(Configuration(access_token="x"))
    line_render._render_json.cache_clear()
    answers = _answers()
    for answer in answers:
        models = line_render.render(answer)
        sent = line_render.render_for_send(answer)
        before = json.dumps(sent, sort_keys=True)
        # (the models add only notificationDisabled: false, LINE's default)
        sdk_reply = client.sanitize_for_serialization(ReplyMessageRequest(replyToken="t" * 32, messages=models))
        assert {**client.sanitize_for_serialization({"replyToken": "t" * 32, "messages": sent}),
                "notificationDisabled": False} == sdk_reply
        sdk_push = client.sanitize_for_serialization(PushMessageRequest(to="U" + "0" * 32, messages=models))
        assert {**client.sanitize_for_serialization({"to": "U" + "0" * 32, "messages": sent}),
                "notificationDisabled": False} == sdk_push
        assert json.dumps(line_render.render_for_send(answer), sort_keys=True) == before  # cache not changed
    info = line_render._render_json.cache_info()  # each distinct answer built once
    distinct = len({json.dumps(a.to_dict(), sort_keys=True, ensure_ascii=False) for a in answers})
    assert info.misses == distinct and info.hits == 2 * len(answers) - distinct


def test_answer_to_dict_is_compact_and_renders_the_same():
    """The stored form drops null, empty and default fields (issue 14) and loses nothing
    LINE gets: read back, every answer renders to the same LINE messages."""
    answers = _answers()
    assert {m.type for a in answers for m in a.messages} == {"text", "card", "table"}
    assert any(a.quick_replies for a in answers) and any(m.buttons for a in answers for m in a.messages
                                                         if m.type == "card")
    for answer in answers:
        text = json.dumps(answer.to_dict(), ensure_ascii=False)
        assert "null" not in text and '"postback"' not in text and '"info"' not in text and "[]" not in text
        again = type(answer).from_dict(json.loads(text))
        assert again.to_dict() == answer.to_dict()
        assert line_render.to_dicts(line_render.render(again)) == line_render.to_dicts(line_render.render(answer))


def test_a_push_is_retried_by_the_client_with_the_same_retry_key(fake_line):
    client = _client(fake_line, retries=2, backoff=0.05)
    user = webhooks.make_user_id()
    fake_line.fail_next(1, 429, PUSH)
    fake_line.fail_next(1, 503, PUSH)
    outcome = client.push(user, line_render.render_text("こんにちは"), retry_key=KEY1)
    assert outcome.ok
    tries = [r for r in fake_line.requests if r["path"] == PUSH]
    keys = {{k.lower(): v for k, v in r["headers"].items()}["x-line-retry-key"] for r in tries}
    assert len(tries) == 3 and keys == {KEY1}
    assert [d["to"] for d in fake_line.deliveries] == [user]
    # past its retries the client gives the failure back, marked for a later try
    fake_line.fail_next(3, 500, PUSH)
    later = client.push(user, line_render.render_text("こんにちは"), retry_key=KEY2)
    assert (later.ok, later.status, later.retryable) == (False, 500, True)
    assert len([r for r in fake_line.requests if r["path"] == PUSH]) == 6
    client.close()


def test_a_reply_is_never_retried_by_the_client(fake_line):
    client = _client(fake_line, retries=3)
    user = webhooks.make_user_id()
    fake_line.fail_next(1, 500, REPLY)
    outcome = client.reply(fake_line.issue_reply_token(user), line_render.render_text("こんにちは"))
    assert (outcome.ok, outcome.status) == (False, 500)
    assert len([r for r in fake_line.requests if r["path"] == REPLY]) == 1  # a single-use token: one try
    client.close()


def test_a_reply_with_an_unknown_fate_is_retried_with_its_token_never_pushed(make_app, fake_line):
    app = make_app(START_WORKER=False)
    services = app.extensions["ninbai"]
    user = webhooks.make_user_id()
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    fake_line.fail_next(1, 500, REPLY)  # LINE's 5xx: did it deliver? The bot cannot know
    line.say(user, "こんにちは")
    services.worker.run_batch()
    send = services.storage.db.execute("select status, method from outbox").fetchone()
    assert send == ("pending", "reply")
    deadline = time.monotonic() + 15
    while not fake_line.deliveries and time.monotonic() < deadline:
        services.engine.delivery.retry_due()  # what the worker's loop does about once a second
        time.sleep(0.2)
    assert [(d["kind"], d["to"]) for d in fake_line.deliveries] == [("reply", user)]
    assert not [r for r in fake_line.requests if r["path"] == PUSH]


def test_a_push_refused_past_the_clients_retries_waits_in_the_outbox_and_goes_once(make_app, fake_line):
    # Every answer goes out as a push (tokens count as stale at once); one retry in the client.
    app = make_app(REPLY_TOKEN_TTL=0.0, LINE_RETRIES=1)
    services = app.extensions["ninbai"]
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    fake_line.fail_next(3, 503, PUSH)  # the first call (2 tries) fails; the next round fails once, then goes
    line.say(user, "こんにちは")
    db = services.storage.db
    fake_line.wait_for(lambda: db.execute("select status from outbox").fetchone() == ("sent",), timeout=30)
    tries = [r for r in fake_line.requests if r["path"] == PUSH]
    keys = collections.Counter({k.lower(): v for k, v in r["headers"].items()}["x-line-retry-key"]
                               for r in tries)
    assert len(tries) == 4 and len(keys) == 1  # 2 tries, then 2 more in the next round; one key for all
    gaps = [b["at"] - a["at"] for a, b in zip(tries, tries[1:], strict=False)]
    assert gaps[1] >= 1.5, gaps  # the outbox waited (2 s) before its next round
    assert len(fake_line.deliveries) == 1
    assert db.execute("select status, method, attempts from outbox").fetchone() == ("sent", "push", 2)


def test_a_batchs_sends_are_finished_in_one_transaction_and_a_crash_before_it_doubles_nothing(
        make_app, fake_line, monkeypatch):
    app = make_app(START_WORKER=False)
    services = app.extensions["ninbai"]
    storage, delivery = services.storage, services.engine.delivery
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    users = [webhooks.make_user_id() for _ in range(3)]
    for user in users:
        line.say(user, "4ヶ月滞納しています")
    statements: list[str] = []
    storage.db.conn.set_trace_callback(statements.append)
    assert services.worker.run_batch() == 3
    storage.db.conn.set_trace_callback(None)
    assert sorted(d["to"] for d in fake_line.deliveries) == sorted(users)
    db = storage.db
    assert db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (3,)
    assert db.execute("select count(*) from inbox where status = 'done'").fetchone() == (3,)
    after_sends = statements[statements.index(next(s for s in statements if "status" in s and "'sent'" in s)) - 1:]
    assert after_sends.count("BEGIN IMMEDIATE") == 1  # the three last words: one transaction

    # The process dies after LINE took the replies and before their last words were written.
    for user in users:
        line.say(user, "競売開始決定の通知が届きました")
    monkeypatch.setattr(delivery, "write_finished", lambda finished: (_ for _ in ()).throw(SystemExit))
    try:
        services.worker.run_batch()
    except SystemExit:
        pass
    monkeypatch.undo()
    assert len(fake_line.deliveries) == 6
    assert db.execute("select count(*) from outbox where status = 'sending' and method = 'reply'").fetchone() == (3,)
    requeued, to_deliver = storage.recover_events(lambda claimed_by: False)  # after the restart
    assert (requeued, sorted(to_deliver)) == (0, sorted(f"line:{u}" for u in users))
    for user_key in to_deliver:
        assert delivery.deliver(user_key)  # the same token again: LINE's 400 "already used" means sent
    assert len(fake_line.deliveries) == 6  # nothing said twice
    assert db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (6,)
    assert not [r for r in fake_line.requests if r["path"] == PUSH]
