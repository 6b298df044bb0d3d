"""The staff pages' forms (bot/forms.py, Flask-WTF) through the real app: what is wrong is
said in Japanese next to the field, nothing is saved, what was typed stays."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from bot import auth, forms
from tests.test_console_helpers import csrf_token, logged_in, make_staff

_INVALID = re.compile(r'<label class="[^"]*cs-field--invalid">(.*?)</label>', re.S)


def field_errors(page: str) -> dict[str, str]:
    """{field name: its error text} for every field shown as invalid."""
    out = {}
    for block in _INVALID.findall(page):
        name = re.search(r'name="([^"]+)"', block).group(1)
        assert 'aria-invalid="true"' in block
        out[name] = htmllib.unescape(re.search(r'class="cs-field__error"[^>]*>(.*?)</span>', block, re.S).group(1))
    return out


@pytest.fixture
def staff(app):
    return make_staff(app)


@pytest.fixture
def admin(app, staff):
    return logged_in(app, "admin1")


def test_an_empty_login_form_is_answered_next_to_each_field_and_not_counted(app, staff):
    client = app.test_client()
    r = client.post("/console/login", data={"csrf_token": csrf_token(client), "login": "  ", "password": ""})
    assert r.status_code == 401
    assert field_errors(r.get_data(as_text=True)) == {"login": "ログインIDを入力してください",
                                                      "password": "パスワードを入力してください"}
    r = client.post("/console/login", data={"csrf_token": csrf_token(client), "login": "OP1", "password": ""})
    page = r.get_data(as_text=True)
    assert field_errors(page) == {"password": "パスワードを入力してください"}
    assert 'value="op1"' in page  # what was typed stays (normalised)
    storage = app.extensions["ninbai"].storage
    assert storage.db["rate_limits"].count == 0  # not a guess: the lockout does not count it


def test_creating_a_user_with_bad_fields(app, admin):
    storage = app.extensions["ninbai"].storage
    before = storage.db["users"].count
    r = admin.post("/console/users", data={"csrf_token": admin.csrf, "login": "a b", "password": "short",
                                           "role": "root", "display_name": "新人"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert field_errors(page) == {"login": "ログインIDは半角英数字と . _ - @ の2〜64文字にしてください",
                                  "password": f"パスワードは{auth.MIN_PASSWORD}文字以上にしてください",
                                  "role": forms.BAD_ROLE}
    assert 'value="新人"' in page and 'value="short"' not in page  # a password is never sent back
    # a login already taken: said next to the login
    r = admin.post("/console/users", data={"csrf_token": admin.csrf, "login": "OP1", "password": "long-enough-pw",
                                           "role": "operator"})
    assert r.status_code == 400
    assert field_errors(r.get_data(as_text=True)) == {"login": "ログインID「op1」はすでに使われています"}
    assert storage.db["users"].count == before
    # and a good one goes through as before: 303 to the list, with the same message
    r = admin.post("/console/users", data={"csrf_token": admin.csrf, "login": "NewOp", "password": "long-enough-pw",
                                           "role": "marketing"}, follow_redirects=True)
    assert "ユーザーを作成しました" in r.get_data(as_text=True)
    assert storage.db.execute("select role, display_name from users where login = 'newop'").fetchone() \
        == ("marketing", "newop")


def test_changing_a_user_with_bad_fields_marks_that_row(app, admin, staff):
    op = staff["operator"]
    r = admin.post(f"/console/users/{op}", data={"csrf_token": admin.csrf, "action": "name", "display_name": "  "})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert field_errors(page) == {"display_name": "表示名は1〜40文字にしてください"}
    assert re.search(rf'aria-describedby="display_name-{op}-error" aria-invalid="true"[^>]*id="display_name-{op}"',
                     page), "the error is tied to that user's row"
    r = admin.post(f"/console/users/{op}", data={"csrf_token": admin.csrf, "action": "password",
                                                 "password": "x" * 9})
    assert field_errors(r.get_data(as_text=True)) == {"password": "パスワードは10文字以上にしてください"}
    r = admin.post(f"/console/users/{op}", data={"csrf_token": admin.csrf, "action": "role", "role": "owner"})
    assert field_errors(r.get_data(as_text=True)) == {"role": forms.BAD_ROLE}
    storage = app.extensions["ninbai"].storage
    assert storage.db.execute("select role, display_name from users where id = ?", [op]).fetchone() \
        == ("operator", "operatorさん")
    r = admin.post(f"/console/users/{op}", data={"csrf_token": admin.csrf, "action": "explode"},
                   follow_redirects=True)
    assert "操作が正しくありません" in r.get_data(as_text=True)
    r = admin.post(f"/console/users/{op}", data={"csrf_token": admin.csrf, "action": "name",
                                                 "display_name": "山田"}, follow_redirects=True)
    assert "op1 の表示名を変更しました" in r.get_data(as_text=True)


def test_canned_replies_with_bad_fields(app, admin):
    storage = app.extensions["ninbai"].storage
    before = storage.db["canned_replies"].count
    r = admin.post("/console/canned", data={"csrf_token": admin.csrf, "title": " ", "position": "一番",
                                            "text": "あ" * 2001})
    assert r.status_code == 400
    assert field_errors(r.get_data(as_text=True)) == {"title": "見出しは1〜40文字にしてください",
                                                      "position": forms.BAD_POSITION,
                                                      "text": "本文は1〜2000文字にしてください"}
    assert storage.db["canned_replies"].count == before
    admin.post("/console/canned", data={"csrf_token": admin.csrf, "title": "テスト挨拶", "text": "担当の者です。"})
    (cid, position), = storage.db.execute("select id, position from canned_replies where title = 'テスト挨拶'").fetchall()
    assert position == 0  # no order given: 0, as before
    r = admin.post(f"/console/canned/{cid}", data={"csrf_token": admin.csrf, "title": "テスト挨拶", "text": "",
                                                   "position": "2"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and field_errors(page) == {"text": "本文は1〜2000文字にしてください"}
    assert re.search(rf'id="position-{cid}"[^>]*value="2"', page)  # the edited item keeps what was typed
    assert storage.db.execute("select text from canned_replies where id = ?", [cid]).fetchone()[0] == "担当の者です。"


def test_the_audit_filters_say_which_date_is_wrong_and_leave_it_out(app, admin):
    r = admin.get("/console/audit?from=2026-13-01&action=view")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert field_errors(page) == {"from": forms.BAD_DATE}
    assert 'value="2026-13-01"' in page
    r = admin.get("/console/audit?from=2026-12-02&to=2026-12-01")
    assert field_errors(r.get_data(as_text=True)) == {"to": "終了日は開始日と同じ日か、それより後にしてください"}
    rows = admin.get("/console/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True)
    assert "記録はありません" in rows and not field_errors(rows)


def test_the_inbox_filter_falls_back_to_its_default(app, admin):
    assert admin.get("/console/api/inbox?status=bogus&owner=nobody").status_code == 200
    page = admin.get("/console/?status=bogus").get_data(as_text=True)
    assert page.count('value="open" selected') == 1


def test_the_insights_filters_say_what_is_wrong_and_keep_the_rest(app, staff):
    marketing = logged_in(app, "mk1")
    r = marketing.get("/insights/?from=yesterday&idle_hours=0&channel=line")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert field_errors(page) == {"from": forms.BAD_DATE, "idle_hours": "無操作の時間は1〜8760の整数にしてください"}
    assert '<option selected value="line">' in page  # the valid filter stays applied
    funnel = marketing.get("/insights/funnel?to=2026-02-30").get_data(as_text=True)
    assert field_errors(funnel) == {"to": forms.BAD_DATE}
    # a valid period shows in its fields; an empty one shows the period in force
    assert 'value="2026-01-05"' in marketing.get("/insights/?from=2026-01-05").get_data(as_text=True)
    assert re.search(r'name="from" type="date" value="\d{4}-\d\d-\d\d"', funnel)


def test_the_conversation_page_forms_answer_what_is_wrong(app, line, staff):
    from tests.test_console import conv_of, start_user
    from tests.test_console_helpers import post_json

    conv_id = conv_of(app, start_user(line, "3ヶ月滞納しています"))["id"]
    op = logged_in(app, "op1")
    base = f"/console/api/c/{conv_id}"
    answers = {
        "empty note": post_json(op, f"{base}/notes", {"text": "   "}),
        "long note": post_json(op, f"{base}/notes", {"text": "あ" * 2001}),
        "no date": post_json(op, f"{base}/followups", {"due_at": "", "note": "折り返し"}),
        "long memo": post_json(op, f"{base}/followups", {"due_at": "2099-01-01T10:00", "note": "あ" * 201}),
        "bad person": post_json(op, f"{base}/assign", {"user_id": "someone"}),
    }
    assert {k: (r.status_code, r.get_json()["error"]) for k, r in answers.items()} == {
        "empty note": (400, "メモが空です"),
        "long note": (400, "メモは2000文字までです"),
        "no date": (400, "日時を正しく入力してください"),
        "long memo": (400, "メモは200文字までです"),
        "bad person": (400, "担当者が正しくありません"),
    }
    storage = app.extensions["ninbai"].storage
    assert storage.db.execute("select count(*) from notes").fetchone()[0] == 0
    # the same forms, filled in: saved as before
    assert post_json(op, f"{base}/notes", {"text": " 夕方に電話希望 "}).get_json()["notes"][0]["text"] == "夕方に電話希望"
    assert post_json(op, f"{base}/assign", {"user_id": "me"}).status_code == 200
    assert storage.conversation(conv_id)["owner_id"] == staff["operator"]


def test_the_reply_and_status_forms_answer_what_is_wrong(app, line, staff):
    from bot.forms import MAX_REPLY
    from tests.test_console import conv_of, start_user
    from tests.test_console_helpers import post_json

    conv_id = conv_of(app, start_user(line, "2ヶ月滞納しています"))["id"]
    op = logged_in(app, "op1")
    base = f"/console/api/c/{conv_id}"
    assert post_json(op, f"{base}/takeover", {}).status_code == 200
    answers = {
        "empty reply": post_json(op, f"{base}/reply", {"text": "  "}),
        "long reply": post_json(op, f"{base}/reply", {"text": "あ" * (MAX_REPLY + 1)}),
        "not text": post_json(op, f"{base}/reply", {"text": ["担当です"]}),
        "bad status": post_json(op, f"{base}/status", {"status": "done"}),
    }
    assert {k: (r.status_code, r.get_json()["error"]) for k, r in answers.items()} == {
        "empty reply": (400, "メッセージが空です"),
        "long reply": (400, f"メッセージは{MAX_REPLY}文字までです"),
        "not text": (400, "メッセージが空です"),
        "bad status": (400, "status は closed か open です"),
    }
    storage = app.extensions["ninbai"].storage
    assert storage.db.execute("select count(*) from messages where sender = 'operator'").fetchone()[0] == 0
    assert storage.conversation(conv_id)["status"] == "operator"
    # filled in: sent (trimmed) and closed as before
    assert post_json(op, f"{base}/reply", {"text": " 担当の者です。 "}).status_code == 200
    assert storage.db.execute("select text from messages where sender = 'operator'").fetchone()[0] == "担当の者です。"
    assert post_json(op, f"{base}/status", {"status": "closed"}).status_code == 200
    assert storage.conversation(conv_id)["status"] == "closed"


def test_the_search_box_says_a_query_is_too_long(app, staff):
    op = logged_in(app, "op1")
    page = op.get("/console/search?q=" + "あ" * 101).get_data(as_text=True)
    assert '<p class="cs-error" role="alert" id="cs-search-error">検索語は100文字までです</p>' in page
    assert 'aria-invalid="true" aria-describedby="cs-search-error"' in page
    assert op.get("/console/api/search?q=" + "あ" * 101).get_json() == {"error": "検索語は100文字までです"}
    assert op.get("/console/api/search?q=" + "あ" * 100).status_code == 200
    storage = app.extensions["ninbai"].storage
    assert storage.db.execute("select count(*) from audit where action = 'search'").fetchone()[0] == 1
