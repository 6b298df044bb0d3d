"""Insights (/insights): roles, funnel recording and counting, search, redaction, exports,
retention, the data-deletion request and the satisfaction question.
"""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from bot.auth import create_user
from bot.console import service
from bot.insights import feedback, funnel, privacy
from bot.insights.funnel import record_conversation
from bot.storage import dumps, now_iso

PASSWORD = "correct-horse-battery"
ROUTES = ["/insights/", "/insights/?q=競売", "/insights/?q=競", "/insights/funnel", "/insights/c/1",
          "/insights/export/conversations.csv", "/insights/export/messages.jsonl", "/insights/export/leads.csv",
          "/insights/export/conversations.jsonl", "/insights/export/messages.csv", "/insights/export/leads.jsonl"]


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def app(make_app):
    return make_app(WTF_CSRF_ENABLED=False)


@pytest.fixture
def storage(app):
    return app.extensions["ninbai"].storage


def login(app, role: str):
    storage = app.extensions["ninbai"].storage
    name = f"{role}-user"
    if not storage.db.execute("select 1 from users where login = ?", [name]).fetchone():
        create_user(name, PASSWORD, role, storage=storage)
    client = app.test_client()
    r = client.post("/console/login", data={"login": name, "password": PASSWORD})
    assert r.status_code == 302, r.data[:300]
    return client


def add_conversation(storage, *, channel="web", source=None, created="2026-03-02T01:00:00.000+00:00",
                     data=None, summary=None, status="bot", step=None, display_name=None, texts=(),
                     owner_id=None, external_id=None, updated=None) -> dict:
    """A conversation as the engine would leave it, with its funnel recorded."""
    db = storage.db
    ext = external_id or f"u{db.execute('select count(*) from contacts').fetchone()[0] + 1}"
    contact_id = db["contacts"].insert({
        "channel": channel, "external_id": ext, "display_name": display_name,
        "source": dumps(source) if source else None, "created_at": created, "updated_at": updated or created,
    }).last_pk
    conv_id = db["conversations"].insert({
        "contact_id": contact_id, "channel": channel, "dialog": "diagnosis", "state": step,
        "data": dumps(data or {}), "summary": dumps(summary or {}), "status": status, "step": step,
        "urgency": (summary or {}).get("urgency"), "lead_score": (summary or {}).get("lead_score", 0),
        "owner_id": owner_id, "unread": 0, "version": 1, "created_at": created, "updated_at": updated or created,
    }).last_pk
    for i, text in enumerate(texts):
        direction = "in" if i % 2 == 0 else "out"
        db["messages"].insert({
            "conversation_id": conv_id, "contact_id": contact_id, "direction": direction,
            "sender": "user" if direction == "in" else "bot", "kind": "text" if direction == "in" else "answer",
            "text": text, "created_at": created,
        })
    conv = storage.conversation(conv_id)
    record_conversation(storage, conv, set())
    return conv


def answers(**kw):
    base = {"arrears_months": None, "notices": [], "latest_notice": None, "co_owned": None, "divorce": None,
            "wants_human": False}
    base.update(kw)
    return base


# --------------------------------------------------------------------------- roles
def test_routes_by_role(app, storage):
    add_conversation(storage, texts=["競売の通知が来ました", "はい"])
    anonymous = app.test_client()
    operator, marketing, admin = login(app, "operator"), login(app, "marketing"), login(app, "admin")
    for url in ROUTES:
        r = anonymous.get(url)
        assert r.status_code == 302 and "/console/login" in r.headers["Location"], url
        assert operator.get(url).status_code == 403, url
        for client in (marketing, admin):
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
            r.close()
    # every insights route is guarded for exactly marketing and admin
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("insights."):
            assert getattr(app.view_functions[rule.endpoint], "allowed_roles", None) == ("marketing", "admin")


def test_pages_are_japanese_and_csp_clean(app, storage):
    add_conversation(storage, texts=["督促状が届きました"])
    client = login(app, "marketing")
    for url in ("/insights/", "/insights/funnel", "/insights/c/1", "/insights/?q=督促状"):
        html = client.get(url).get_data(as_text=True)
        assert 'lang="ja"' in html
        assert "<script" not in html and 'style="' not in html and "<style" not in html, url
    assert "ファネル" in client.get("/insights/funnel").get_data(as_text=True)


# --------------------------------------------------------------------------- funnel
def dataset(storage):
    """12 conversations with known steps and answers (see the expected counts below)."""
    day1 = "2026-03-02T01:00:00.000+00:00"  # Monday 10:00 JST
    day2 = "2026-03-10T14:30:00.000+00:00"  # Tuesday 23:30 JST (week of 03-09)
    late = "2026-03-31T16:00:00.000+00:00"  # 2026-04-01 01:00 JST: outside March
    q_all = ["arrears", "notice", "ownership", "guarantor", "divorce", "lender", "stay"]
    # 2 that never consented (LINE)
    for _ in range(2):
        add_conversation(storage, channel="line", created=day1, data={"history": ["welcome", "privacy"]},
                         step="privacy")
    # 3 consented, left at notice (web, google/spring)
    for _ in range(3):
        add_conversation(storage, source={"utm_source": "google", "utm_campaign": "spring"}, created=day1,
                         data={"consent": True, "answered": ["arrears"], "history": ["privacy", "arrears", "notice"],
                               "answers": answers(arrears_months=4)}, step="notice")
    # 4 reached the result (web, no utm); 2 of them left contact details and asked for a person
    for i in range(4):
        data = {"consent": True, "answered": q_all, "history": ["privacy", *q_all, "result"],
                "answers": answers(arrears_months=6 if i < 3 else 0, latest_notice="auction_start" if i < 3 else "none",
                                   co_owned=bool(i % 2), divorce="in_progress" if i == 0 else "none")}
        if i < 2:
            data["contact"] = {"name": "山田太郎", "phone": "090-1234-5678", "consented": True}
            data["history"].append("handoff")
        add_conversation(storage, created=day2, data=data, step="handoff" if i < 2 else "result",
                         status="waiting" if i < 2 else "bot")
    # 1 LINE conversation taken over by an operator, then closed, with a feedback answer
    conv = add_conversation(storage, channel="line", created=day2,
                            data={"consent": True, "answered": ["arrears"], "history": ["arrears"],
                                  "answers": answers(arrears_months=1, wants_human=True)}, step="arrears")
    service.take_over(storage, conv["id"], 1)  # the status machine records "assigned" and "closed"
    service.close(storage, conv["id"], 1)
    storage.db.execute("update conversations set updated_at = ?, closed_at = ? where id = ?",
                       [day2, day2, conv["id"]])  # all that in March
    funnel.add_event(storage, storage.conversation(conv["id"]), "feedback_request")
    funnel.add_event(storage, storage.conversation(conv["id"]), "feedback", "good")
    # 2 outside the period
    for _ in range(2):
        add_conversation(storage, created=late, data={"consent": True})


def test_funnel_exact_counts(storage):
    dataset(storage)
    fu = funnel.compute(storage, "2026-03-01", "2026-03-31")
    got = {s.step: s.count for s in fu.steps}
    assert got["first_message"] == 10
    assert got["consent"] == 8
    assert got["arrears"] == 8
    assert got["notice"] == 7
    assert got["ownership"] == 4 and got["stay"] == 4
    assert got["court_letter"] == 0 and got["dates"] == 0
    assert got["result"] == 4
    assert got["contact"] == 2
    assert got["handoff"] == 3  # 2 waiting + the one that asked for a person
    assert got["assigned"] == 1 and got["closed"] == 1
    rows = {s.step: s for s in fu.steps}
    assert rows["consent"].drop == 2 and rows["consent"].drop_pct == pytest.approx(20.0)
    assert rows["notice"].drop == 1
    assert rows["ownership"].drop == 3  # conditional questions are skipped in the chain
    assert rows["court_letter"].drop is None
    arrears = {v: n for v, _, n in fu.answers["answer:arrears"]}
    assert arrears == {"0": 1, "1-2": 1, "3-5": 3, "6+": 3, "unknown": 0}
    notice = {v: n for v, _, n in fu.answers["answer:notice"] if n}
    assert notice == {"auction_start": 3, "none": 1}
    assert {v: n for v, _, n in fu.answers["answer:co_owned"] if n} == {"shared": 2, "single": 2}
    assert {v: n for v, _, n in fu.answers["answer:divorce"] if n} == {"in_progress": 1, "none": 3}
    assert fu.feedback_requested == 1
    assert {v: n for v, _, n in fu.feedback} == {"good": 1, "ok": 0, "bad": 0}
    weeks = {w["week"]: w for w in fu.weeks}
    assert weeks["2026-03-02"]["first_message"] == 5 and weeks["2026-03-09"]["first_message"] == 5
    sources = {(r["channel"], r["source"], r["campaign"]): r for r in fu.sources}
    assert sources[("web", "google", "spring")]["first_message"] == 3
    assert sources[("web", "(direct)", "")]["contact"] == 2
    assert sources[("line", "line", "")]["first_message"] == 3
    line_only = funnel.compute(storage, "2026-03-01", "2026-03-31", "line")
    assert {s.step: s.count for s in line_only.steps}["first_message"] == 3
    # the anonymous counts survive the purge
    totals = privacy.purge(storage, days=30, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert totals["conversations"] == 12
    again = funnel.compute(storage, "2026-03-01", "2026-03-31")
    assert [s.count for s in again.steps] == [s.count for s in fu.steps]


def test_funnel_page_shows_numbers_and_svg(app, storage):
    dataset(storage)
    html = login(app, "marketing").get("/insights/funnel?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "<svg" in html and 'id="funnel-table"' in html
    assert 'data-step="first_message"' in html and "20.0%" in html
    assert "google" in html and "spring" in html and "よかった" in html


def test_answer_change_replaces_value(storage):
    conv = add_conversation(storage, data={"consent": True, "answered": ["arrears"],
                                           "answers": answers(arrears_months=2)})
    conv = dict(conv, data=dumps({"consent": True, "answered": ["arrears"], "answers": answers(arrears_months=7)}))
    record_conversation(storage, conv, set())
    values = [r[0] for r in storage.db.execute(
        "select value from funnel_events where conversation_id = ? and step = 'answer:arrears'", [conv["id"]])]
    assert values == ["6+"]


# --------------------------------------------------------------------------- the engine hook, end to end
def web_send(client, kind, **payload):
    r = client.post("/chat/api/events", json={"type": kind, **payload})
    assert r.status_code == 202, r.data


def wait_idle(app):
    assert app.extensions["ninbai"].worker.drain(15)


def wait_until(check, timeout: float = 10.0):
    """Engine hooks run just after the event is marked done: poll for what they write."""
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_hook_records_steps_from_the_real_dialog(app, storage):
    visitor = app.test_client()
    web_send(visitor, "start", utm_source="news", utm_campaign="autumn")
    wait_idle(app)
    web_send(visitor, "postback", data="consent:yes", display_text="同意する")
    wait_idle(app)
    web_send(visitor, "postback", data="arrears:3-5", display_text="3〜5ヶ月")
    wait_idle(app)
    wait_until(lambda: storage.db.execute(
        "select 1 from funnel_events where step = 'answer:arrears'").fetchone())
    rows = {(r["step"], r["value"]): r for r in storage.db.query("select * from funnel_events")}
    assert ("first_message", "") in rows and ("consent", "") in rows and ("arrears", "") in rows
    assert ("answer:arrears", "3-5") in rows
    assert rows[("consent", "")]["source"] == "news" and rows[("consent", "")]["campaign"] == "autumn"
    today = dt.datetime.now(funnel.JST).date().isoformat()
    assert rows[("consent", "")]["day"] == today


# --------------------------------------------------------------------------- transcripts and search
def test_search_two_chars_three_chars_and_highlight(app, storage):
    add_conversation(storage, texts=["競売開始決定の通知が来ました", "ok"])
    add_conversation(storage, texts=["離婚して共有名義です", "ok"])
    add_conversation(storage, texts=["<b>競売</b> & 督促", "ok"])
    client = login(app, "admin")
    html = client.get("/insights/?q=競売開始&from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "<mark>競売開始</mark>決定" in html and "全文検索" in html
    html = client.get("/insights/?q=離婚&from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "<mark>離婚</mark>して" in html and "部分一致" in html
    html = client.get("/insights/?q=競&from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert html.count("<mark>競</mark>") == 2
    # escaped first, then marked: no HTML from users
    assert "&lt;b&gt;<mark>競</mark>売&lt;/b&gt; &amp; 督促" in html
    html = client.get("/insights/?q=督促&from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "<mark>督促</mark>" in html and "離婚" not in html.split("検索結果")[1]
    # bot messages are not searched
    assert "一致する発言はありません" in client.get("/insights/?q=ok&from=2026-03-01&to=2026-03-31").get_data(as_text=True)


def test_marketing_sees_redacted_admin_sees_originals(app, storage):
    data = {"consent": True, "contact": {"name": "山田太郎", "phone": "090-1234-5678", "email": "t@example.com"}}
    add_conversation(storage, display_name="ヤマダ", data=data,
                     texts=["山田太郎と申します。電話は090-1234-5678です", "山田太郎様、ありがとうございます",
                            "山田太郎", "ok"])
    marketing, admin = login(app, "marketing"), login(app, "admin")
    for url in ("/insights/c/1", "/insights/?from=2026-03-01&to=2026-03-31", "/insights/?q=申します&from=2026-03-01&to=2026-03-31"):
        html = marketing.get(url).get_data(as_text=True)
        assert "山田" not in html and "090-1234-5678" not in html and "t@example.com" not in html and "ヤマダ" not in html, url
        assert "【氏名】" in html
        assert "山田太郎" in admin.get(url).get_data(as_text=True)
    # searching for the personal data itself shows nothing to marketing
    assert "一致する発言はありません" in marketing.get(
        "/insights/?q=090-1234&from=2026-03-01&to=2026-03-31").get_data(as_text=True)


def test_filters_and_keyset_pagination(app, storage):
    for i in range(60):
        add_conversation(storage, channel="line" if i % 2 else "web",
                         summary={"stage": "dunning" if i % 3 == 0 else "auction_start", "urgency": "hot"},
                         data={"consent": True, "contact": {"phone": "0312345678"} if i % 5 == 0 else {}},
                         texts=[f"相談{i}"])
    client = login(app, "marketing")
    page1 = client.get("/insights/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "before=11" in page1  # 60 conversations, 50 a page: next page starts below id 11
    page2 = client.get("/insights/?from=2026-03-01&to=2026-03-31&before=11").get_data(as_text=True)
    assert page2.count('href="/insights/c/') == 10
    leads = client.get("/insights/?from=2026-03-01&to=2026-03-31&lead=yes").get_data(as_text=True)
    assert leads.count('href="/insights/c/') == 12
    web_dunning = client.get("/insights/?from=2026-03-01&to=2026-03-31&channel=web&stage=dunning").get_data(as_text=True)
    assert web_dunning.count('href="/insights/c/') == 10
    assert "条件に合う会話はありません" in client.get("/insights/?from=2025-01-01&to=2025-01-31").get_data(as_text=True)


def test_left_at_step(app, storage):
    old = "2026-03-02T01:00:00.000+00:00"
    add_conversation(storage, step="notice", data={"consent": True}, texts=["a"])
    add_conversation(storage, step="notice", data={"consent": True}, texts=["b"],
                     created=now_iso(), updated=now_iso())
    client = login(app, "marketing")
    today = dt.date.today().isoformat()
    html = client.get(f"/insights/?from=2026-03-01&to={today}&left_at=notice&idle_hours=24").get_data(as_text=True)
    assert html.count('href="/insights/c/') == 1 and old[:10].replace("-", "") not in html


# --------------------------------------------------------------------------- exports
def test_export_csv_bom_redacted_streamed_and_audited(app, storage):
    data = {"consent": True, "contact": {"name": "佐藤花子", "phone": "080-1111-2222"}}
    add_conversation(storage, display_name="はなこ", data=data, texts=["佐藤花子と申します 080-1111-2222", "ok"])
    marketing = login(app, "marketing")
    r = marketing.get("/insights/export/leads.csv?from=2026-03-01&to=2026-03-31")
    assert r.status_code == 200 and r.is_streamed
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    body = r.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "佐藤" not in text and "080-1111-2222" not in text and "【氏名】" in text and "【電話番号】" in text
    r = marketing.get("/insights/export/messages.jsonl?from=2026-03-01&to=2026-03-31")
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert lines[0]["text"] == "【氏名】と申します 【電話番号】"
    admin = login(app, "admin")
    text = admin.get("/insights/export/leads.csv?from=2026-03-01&to=2026-03-31").get_data().decode("utf-8-sig")
    assert "佐藤花子" in text and "080-1111-2222" in text
    audit = list(storage.db.query("select * from audit where action = 'export' order by id"))
    assert [a["target_id"] for a in audit] == ["leads.csv", "messages.jsonl", "leads.csv"]
    assert audit[0]["login"] == "marketing-user" and json.loads(audit[0]["detail"])["redacted"] is True


def test_export_uses_filters_and_batches(app, storage, monkeypatch):
    from bot.insights import exports

    monkeypatch.setattr(exports, "BATCH", 7)
    for i in range(30):
        add_conversation(storage, channel="web" if i < 20 else "line", texts=[f"滞納{i}", "ok"])
    client = login(app, "admin")
    r = client.get("/insights/export/conversations.csv?from=2026-03-01&to=2026-03-31&channel=web")
    chunks = list(r.response)
    assert len(chunks) >= 3  # streamed in pieces, not one string
    text = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 21
    r = client.get("/insights/export/messages.csv?from=2026-03-01&to=2026-03-31&q=滞納1")
    rows = r.get_data().decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 1 + 11  # 滞納1, 滞納10..19


# --------------------------------------------------------------------------- retention
def test_purge_command(app, storage):
    old = "2024-01-01T00:00:00.000+00:00"
    conv = add_conversation(storage, created=old, texts=["古い相談", "ok"], data={"consent": True})
    storage.db["notes"].insert({"conversation_id": conv["id"], "user_id": 1, "text": "メモ", "created_at": old})
    storage.db["alerts"].insert({"conversation_id": conv["id"], "kind": "hot_lead", "created_at": old})
    storage.db["outbox"].insert({"conversation_id": conv["id"], "channel": "line", "external_id": "x",
                                 "status": "sent", "messages": "[]"})
    fresh = add_conversation(storage, created=now_iso(), texts=["新しい相談"])
    result = app.test_cli_runner().invoke(args=["data", "purge", "--days", "365"])
    assert result.exit_code == 0, result.output
    assert "conversations=1" in result.output
    assert storage.db.execute("select count(*) from conversations").fetchone()[0] == 1
    assert storage.db.execute("select count(*) from messages where conversation_id = ?", [conv["id"]]).fetchone()[0] == 0
    for table in ("notes", "alerts", "outbox"):
        assert storage.db.execute(f"select count(*) from {table}").fetchone()[0] == 0
    assert storage.db.execute("select count(*) from funnel_events where conversation_id is null").fetchone()[0] == 2
    assert storage.conversation(fresh["id"])
    assert list(storage.db.query("select * from messages_fts where messages_fts match '\"古い相談\"'")) == []


def test_purge_default_days_from_config(make_app, tmp_path):
    app = make_app(RETENTION_DAYS=10000)
    storage = app.extensions["ninbai"].storage
    add_conversation(storage, created="2024-01-01T00:00:00.000+00:00")
    out = app.test_cli_runner().invoke(args=["data", "purge"]).output
    assert "older than 10000 days" in out and "conversations=0" in out


# --------------------------------------------------------------------------- deletion request
def bot_messages(visitor):
    return visitor.get("/chat/api/messages").get_json()


def test_homeowner_deletes_their_data(app, storage):
    visitor = app.test_client()
    web_send(visitor, "start", utm_source="ads")
    wait_idle(app)
    web_send(visitor, "postback", data="consent:yes", display_text="同意する")
    wait_idle(app)
    web_send(visitor, "text", text="山田太郎です。090-1234-5678")
    wait_idle(app)
    web_send(visitor, "text", text="データを削除してください")
    wait_idle(app)
    got = bot_messages(visitor)
    assert "削除します" in got["messages"][-1]["text"]
    assert [q["data"] for q in got["quick_replies"]] == ["delete:yes", "delete:no"]
    funnel_before = storage.db.execute("select count(*) from funnel_events").fetchone()[0]
    web_send(visitor, "postback", data="delete:yes", display_text="削除する")
    wait_idle(app)
    got = bot_messages(visitor)
    assert [m["text"] for m in got["messages"]] == [app.extensions["ninbai"].content.text("service.deletion.done")]
    contact = storage.db.execute("select display_name, source from contacts").fetchone()
    assert contact == (None, None)
    conv = storage.db.execute("select data, summary, state from conversations").fetchone()
    assert conv == ("{}", "{}", None)
    assert storage.db.execute("select count(*) from messages").fetchone()[0] == 1  # the 'done' message
    assert list(storage.db.query("select * from messages_fts where messages_fts match '\"山田太郎\"'")) == []
    assert storage.db.execute("select count(*) from funnel_events").fetchone()[0] == funnel_before
    assert storage.db.execute("select count(*) from audit where action = 'data_delete'").fetchone()[0] == 1
    # they can start again
    web_send(visitor, "text", text="こんにちは")
    wait_idle(app)
    assert len(bot_messages(visitor)["messages"]) >= 3


def test_homeowner_cancels_deletion(app, storage):
    visitor = app.test_client()
    web_send(visitor, "start")
    wait_idle(app)
    web_send(visitor, "text", text="データを削除して")
    wait_idle(app)
    web_send(visitor, "text", text="やめる")
    wait_idle(app)
    got = bot_messages(visitor)
    assert got["messages"][-1]["text"] == app.extensions["ninbai"].content.text("service.deletion.cancelled")
    assert storage.db.execute("select count(*) from messages where direction = 'in'").fetchone()[0] == 2
    assert "delete_confirm" not in json.loads(storage.db.execute("select data from conversations").fetchone()[0])


# --------------------------------------------------------------------------- satisfaction question
def test_feedback_after_a_handoff_is_closed(app, storage):
    visitor = app.test_client()
    web_send(visitor, "start")
    wait_idle(app)
    web_send(visitor, "postback", data="cmd:human", display_text="担当者と話したい")
    wait_idle(app)
    conv_id = storage.db.execute("select id from conversations").fetchone()[0]
    wait_until(lambda: storage.db.execute("select 1 from funnel_events where step = 'handoff'").fetchone())
    admin = login(app, "admin")
    # closing from the console records the step "closed"; a console POST runs the sweep
    assert admin.post(f"/console/api/c/{conv_id}/status", json={"status": "closed"}).status_code == 200
    got = bot_messages(visitor)
    assert got["messages"][-1]["text"] == app.extensions["ninbai"].content.text("service.feedback.question")
    assert [q["data"] for q in got["quick_replies"]] == ["feedback:good", "feedback:ok", "feedback:bad"]
    assert feedback.sweep(app.extensions["ninbai"].engine) == 0  # asked once only
    web_send(visitor, "postback", data="feedback:ok", display_text="ふつう")
    wait_idle(app)
    assert bot_messages(visitor)["messages"][-1]["text"] == app.extensions["ninbai"].content.text("service.feedback.thanks")
    assert storage.db.execute("select count(*) from conversations").fetchone()[0] == 1  # no new conversation
    rows = list(storage.db.query("select step, value from funnel_events where step like 'feedback%' order by id"))
    assert rows == [{"step": "feedback_request", "value": ""}, {"step": "feedback", "value": "ok"}]
    fu = funnel.compute(storage, "2000-01-01", "2100-01-01")
    assert {v: n for v, _, n in fu.feedback}["ok"] == 1


def test_feedback_on_line_is_pushed(app, storage, fake_line, line):
    line.follow("Uabc")
    line.idle()
    line.tap("Uabc", "cmd:human")
    line.idle()
    wait_until(lambda: storage.db.execute("select 1 from funnel_events where step = 'handoff'").fetchone())
    conv_id = storage.db.execute("select id from conversations").fetchone()[0]
    service.close(storage, conv_id, 0)
    assert feedback.sweep(app.extensions["ninbai"].engine) == 1
    deadline = time.time() + 10
    while time.time() < deadline and not any(
            "いかがでしたか" in str(m) for m in fake_line.messages_to("Uabc")):
        time.sleep(0.1)
    last = fake_line.messages_to("Uabc")[-1]
    assert "いかがでしたか" in last["text"]
    assert [i["action"]["data"] for i in last["quickReply"]["items"]] == ["feedback:good", "feedback:ok", "feedback:bad"]
