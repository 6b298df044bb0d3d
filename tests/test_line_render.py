"""Tests for bot/channels/line_render.py: Answer → LINE messages within LINE's limits.

Every rendering is wrapped in a ``ReplyMessageRequest`` and its ``to_dict()`` is
validated against LINE's official OpenAPI (discriminators resolved) plus the
documented limits the YAML leaves out (``tests/support/openapi.py``).
"""

from __future__ import annotations

import pytest

from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    FlexMessage,
    MessagingApi,
    ReplyMessageRequest,
    TextMessage,
)

from bot.channels import line_render as lr
from dialogs.answer import Answer, Card, QuickReply, Table, Text
from tests.support import linecheck, openapi
from tests.support.fakeline import FakeLine

REPLY = "/v2/bot/message/reply"
TOKEN = "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"


def body_of(messages) -> dict:
    return ReplyMessageRequest(replyToken=TOKEN, messages=messages).to_dict()


def assert_valid(messages) -> list[dict]:
    """Schema + documented limits; quick replies only on the last message."""
    assert 1 <= len(messages) <= 5
    body = body_of(messages)
    assert linecheck.check_request("POST", REPLY, body) == []
    assert openapi.line_limits(body["messages"]) == []
    for m in body["messages"][:-1]:
        assert "quickReply" not in m
    # the dicts also round-trip through the SDK's models (what line_api.reply does)
    ReplyMessageRequest.from_dict(body)
    assert lr.to_dicts(messages) == body["messages"]
    return body["messages"]


def texts(dicts: list[dict]) -> list[str]:
    return [m["text"] for m in dicts if m["type"] == "text"]


def qr_items(dicts: list[dict]) -> list[dict]:
    return (dicts[-1].get("quickReply") or {}).get("items", [])


def card(i: int = 1, tone: str = "info", **kw) -> Card:
    return Card(
        alt_text=f"カード{i}の要約",
        title=f"カード{i}：あなたの状況",
        subtitle="いまの段階の目安です",
        rows=[("滞納", "3〜5か月"), ("通知", "期限の利益喪失")],
        paragraphs=[
            "代位弁済の前なら、金融機関と話し合える余地があります。",
            "早めのご相談をおすすめします。",
        ],
        buttons=[
            QuickReply("くわしく", "topic:timeline"),
            QuickReply("相談員と話す", "cmd:human", text="相談員と話したい"),
            QuickReply(
                "通知の日付",
                "notice_date:pick",
                kind="date",
                initial="2024-05-01",
                min="2020-01-01",
                max="2030-12-31",
            ),
            QuickReply("メッセージ", kind="message", text="はい"),
        ],
        tone=tone,
        **kw,
    )


def table() -> Table:
    return Table(
        alt_text="任意売却と競売の比較",
        title="任意売却と競売の違い",
        columns=["項目", "任意売却", "競売"],
        rows=[
            ["売却価格", "市場価格に近い", "市場価格の5〜7割程度になりやすい"],
            ["プライバシー", "近所に知られにくい", "公告されるため知られやすい"],
            ["引越し", "時期を相談できる", ""],
        ],
        note="※ 一般的な傾向です。個別の事情により異なります。",
    )


# ---- basics ----------------------------------------------------------------------------


def test_text_only():
    msgs = lr.render(Answer([Text("こんにちは。任意売却のご相談ですね。")]))
    assert [type(m) for m in msgs] == [TextMessage]
    dicts = assert_valid(msgs)
    assert dicts == [{"type": "text", "text": "こんにちは。任意売却のご相談ですね。"}]


@pytest.mark.parametrize("tone", ["info", "warning", "urgent"])
def test_card_is_a_flex_bubble(tone):
    msgs = lr.render(Answer([card(tone=tone)]))
    assert isinstance(msgs[0], FlexMessage)
    (d,) = assert_valid(msgs)
    bubble = d["contents"]
    assert d["altText"] == "カード1の要約"
    assert bubble["type"] == "bubble"
    assert bubble["header"]["backgroundColor"] == lr.TONES[tone][0]
    assert bubble["header"]["contents"][0]["text"] == "カード1：あなたの状況"
    # rows are baseline boxes label/value, paragraphs wrap
    rows_box = bubble["body"]["contents"][1]
    assert [r["layout"] for r in rows_box["contents"]] == ["baseline", "baseline"]
    assert [c["text"] for c in rows_box["contents"][0]["contents"]] == ["滞納", "3〜5か月"]
    paragraphs = [c for c in bubble["body"]["contents"] if c.get("type") == "text" and c.get("margin")]
    assert paragraphs and all(p["wrap"] for p in paragraphs)
    actions = [b["action"] for b in bubble["footer"]["contents"]]
    assert [a["type"] for a in actions] == ["postback", "postback", "datetimepicker", "message"]
    assert actions[0] == {
        "type": "postback",
        "label": "くわしく",
        "data": "topic:timeline",
        "displayText": "くわしく",
    }
    assert actions[1]["displayText"] == "相談員と話したい"
    assert actions[2] == {
        "type": "datetimepicker",
        "label": "通知の日付",
        "data": "notice_date:pick",
        "mode": "date",
        "initial": "2024-05-01",
        "min": "2020-01-01",
        "max": "2030-12-31",
    }
    assert actions[3] == {"type": "message", "label": "メッセージ", "text": "はい"}


def test_card_more_than_four_buttons_keeps_four():
    c = card()
    c.buttons = [QuickReply(f"ボタン{i}", f"b:{i}") for i in range(6)]
    (d,) = assert_valid(lr.render(Answer([c])))
    assert len(d["contents"]["footer"]["contents"]) == 4


def test_minimal_card_without_body_parts():
    (d,) = assert_valid(lr.render(Answer([Card(alt_text="要約", title="タイトル")])))
    assert d["contents"]["body"]["contents"][0]["text"] == "要約"
    assert "footer" not in d["contents"]


def test_table_is_a_flex_bubble_with_header_row():
    (d,) = assert_valid(lr.render(Answer([table()])))
    body = d["contents"]["body"]["contents"]
    assert body[0]["text"] == "任意売却と競売の違い"
    header = body[1]
    assert header["layout"] == "horizontal"
    assert [c["text"] for c in header["contents"]] == ["項目", "任意売却", "競売"]
    rows = [c for c in body[2:] if c["type"] == "box"]
    assert len(rows) == 3
    assert all(t["wrap"] for r in rows for t in r["contents"])
    assert rows[2]["contents"][2]["text"] == lr.EMPTY_CELL  # empty cell: LINE rejects ""
    assert body[-1]["text"].startswith("※")


def test_mixed_answer_with_quick_replies_on_last_only():
    a = Answer(
        [Text("状況を整理しました。"), card(), table()],
        [QuickReply("はい", "yes:1"), QuickReply("いいえ", "yes:0"), QuickReply("最初から", "cmd:restart")],
    )
    dicts = assert_valid(lr.render(a))
    assert [m["type"] for m in dicts] == ["text", "flex", "flex"]
    assert [i["action"]["label"] for i in qr_items(dicts)] == ["はい", "いいえ", "最初から"]
    assert all(i["type"] == "action" for i in qr_items(dicts))


def test_quick_reply_kinds():
    a = Answer(
        [Text("選んでください")],
        [
            QuickReply("3〜5か月", "arrears:3-5"),
            QuickReply("わからない", "arrears:unknown", text="わかりません"),
            QuickReply("ことば", kind="message"),
            QuickReply("日付を選ぶ", "notice_date:pick", kind="date", max="2030-01-01"),
            QuickReply("サイト", kind="uri", uri="https://example.com/ninbai"),
        ],
    )
    actions = [i["action"] for i in qr_items(assert_valid(lr.render(a)))]
    assert actions == [
        {"type": "postback", "label": "3〜5か月", "data": "arrears:3-5", "displayText": "3〜5か月"},
        {"type": "postback", "label": "わからない", "data": "arrears:unknown", "displayText": "わかりません"},
        {"type": "message", "label": "ことば", "text": "ことば"},
        {
            "type": "datetimepicker",
            "label": "日付を選ぶ",
            "data": "notice_date:pick",
            "mode": "date",
            "max": "2030-01-01",
        },
        {"type": "uri", "label": "サイト", "uri": "https://example.com/ninbai"},
    ]


# ---- limits ----------------------------------------------------------------------------


def test_fourteen_quick_replies_become_thirteen_on_the_last_message():
    a = Answer([Text("一"), Text("二")], [QuickReply(f"選択肢{i}", f"opt:{i}") for i in range(14)])
    dicts = assert_valid(lr.render(a))
    assert len(dicts) == 2 and "quickReply" not in dicts[0]
    assert [i["action"]["data"] for i in qr_items(dicts)] == [f"opt:{i}" for i in range(13)]


def test_label_of_21_characters_is_truncated_with_ellipsis():
    label = "あいうえおかきくけこさしすせそたちつてとな"
    assert len(label) == 21
    a = Answer([card()], [QuickReply(label, "x:1")])
    a.messages[0].buttons = [QuickReply(label, "y:1", kind="message")]
    dicts = assert_valid(lr.render(a))
    (item,) = qr_items(dicts)
    assert item["action"]["label"] == label[:19] + "…"
    assert item["action"]["displayText"] == label  # what the user "says" is not cut
    button = dicts[0]["contents"]["footer"]["contents"][0]["action"]
    assert button["label"] == label[:19] + "…" and button["text"] == label


def test_emoji_label_counts_utf16():
    label = "😀" * 11  # 11 characters, 22 UTF-16 units
    (item,) = qr_items(assert_valid(lr.render(Answer([Text("x")], [QuickReply(label, "e:1")]))))
    assert lr.utf16_len(item["action"]["label"]) <= 20
    assert item["action"]["label"].endswith("…")


def test_long_text_with_emoji_is_split_not_cut():
    text = "任意売却のご説明です😀。" * 500  # 6000 characters, 6500 UTF-16 units
    assert len(text) == 6000 and lr.utf16_len(text) == 6500
    dicts = assert_valid(lr.render(Answer([Text(text)])))
    parts = texts(dicts)
    assert len(parts) == 2
    assert all(lr.utf16_len(p) <= 5000 for p in parts)
    assert "".join(parts) == text  # nothing lost, nothing added
    assert parts[0].endswith("。")  # cut at a sentence end


def test_pure_emoji_text_split_respects_surrogates_and_zwj():
    family = "👨\u200d👩\u200d👧"  # one visible emoji, 5 code points, 8 UTF-16 units
    text = family * 700  # 5600 UTF-16 units
    parts = texts(assert_valid(lr.render(Answer([Text(text)]))))
    assert len(parts) == 2 and "".join(parts) == text
    assert all(p.startswith("👨") and p.endswith("👧") for p in parts)


def test_seven_texts_are_merged_into_at_most_five_messages_in_order():
    items = [f"メッセージ{i}です。" for i in range(7)]
    a = Answer([Text(t) for t in items], [QuickReply("次へ", "cmd:next")])
    dicts = assert_valid(lr.render(a))
    joined = "\n\n".join(texts(dicts))
    assert joined == "\n\n".join(items)
    assert qr_items(dicts)[0]["action"]["data"] == "cmd:next"


def test_seven_cards_fold_the_tail_into_text_and_keep_quick_replies():
    a = Answer([card(i) for i in range(1, 8)], [QuickReply("相談員と話す", "cmd:human")])
    dicts = assert_valid(lr.render(a))
    assert [m["type"] for m in dicts] == ["flex"] * 4 + ["text"]
    last = dicts[-1]["text"]
    for i in (5, 6, 7):  # the folded cards are still readable
        assert f"【カード{i}：あなたの状況】" in last
        assert "・滞納：3〜5か月" in last
    assert qr_items(dicts)[0]["action"]["data"] == "cmd:human"


def test_mixed_seven_messages_merge_texts_first():
    a = Answer(
        [Text("a"), Text("b"), card(1), Text("c"), Text("d"), table(), Text("e")], [QuickReply("はい", "y:1")]
    )
    dicts = assert_valid(lr.render(a))
    assert [m["type"] for m in dicts] == ["text", "flex", "text", "flex", "text"]
    assert texts(dicts) == ["a\n\nb", "c\n\nd", "e"]


def test_beyond_what_fits_ends_with_an_explicit_note():
    long = "長い説明です。" * 700  # 4900 units each
    a = Answer([card(1), card(2), card(3), Text(long), Text(long), Text(long)], [QuickReply("はい", "y:1")])
    dicts = assert_valid(lr.render(a))
    assert len(dicts) == 5
    assert dicts[-1]["text"].endswith(lr.OMITTED_NOTE)
    assert lr.utf16_len(dicts[-1]["text"]) <= 5000
    assert qr_items(dicts)  # quick replies survive


def test_postback_data_over_300_is_dropped_not_sent():
    a = Answer([Text("x")], [QuickReply("長い", "d:" + "x" * 400), QuickReply("ok", "d:1")])
    items = qr_items(assert_valid(lr.render(a)))
    assert [i["action"]["data"] for i in items] == ["d:1"]


def test_alt_text_is_kept_short():
    c = card()
    c.alt_text = "要約" * 1000
    (d,) = assert_valid(lr.render(Answer([c])))
    assert lr.utf16_len(d["altText"]) <= lr.PREFERRED_ALT_TEXT and d["altText"].endswith("…")


def test_table_larger_than_a_bubble_is_sent_as_text():
    big = Table(
        "大きな表", "大きな表", ["a", "b", "c"], [[f"行{i}", "値" * 20, "値" * 20] for i in range(300)]
    )
    dicts = assert_valid(lr.render(Answer([big])))
    assert all(m["type"] == "text" for m in dicts)
    assert "【大きな表】" in dicts[0]["text"]


def test_no_messages_but_quick_replies_gets_a_prompt():
    dicts = assert_valid(lr.render(Answer([], [QuickReply("はい", "y:1")])))
    assert dicts[0]["text"] == lr.NO_MESSAGE_PROMPT and qr_items(dicts)


def test_empty_answer_renders_nothing():
    assert lr.render(Answer()) == []
    assert lr.render(Answer([Text("   ")])) == []


def test_render_text_for_operators():
    dicts = assert_valid(lr.render_text("担当の山田です。" * 800))  # 6400 characters
    assert len(dicts) == 2 and "quickReply" not in dicts[-1]
    assert "".join(texts(dicts)) == "担当の山田です。" * 800


def test_answer_round_trip_through_storage_renders_the_same():
    a = Answer([Text("x"), card(), table()], [QuickReply("はい", "y:1")])
    assert lr.to_dicts(lr.render(Answer.from_dict(a.to_dict()))) == lr.to_dicts(lr.render(a))


def test_the_validator_is_not_vacuous():
    bad = lr.to_dicts(lr.render(Answer([Text("x")], [QuickReply("ok", "y:1")])))
    bad[0]["quickReply"]["items"][0]["action"]["label"] = "あ" * 21
    bad.append({"type": "text"})
    errors = linecheck.check_request("POST", REPLY, {"replyToken": TOKEN, "messages": bad})
    assert any("label" in e for e in errors) and any("text" in e for e in errors)


def test_reply_through_the_fake_line_server():
    a = Answer(
        [Text("こんにちは"), card(tone="warning"), table()] + [Text(f"t{i}") for i in range(4)],
        [QuickReply(f"選択{i}", f"o:{i}") for i in range(14)],
    )
    with FakeLine() as fake:
        token = fake.issue_reply_token("U" + "0" * 32)
        with ApiClient(Configuration(host=fake.url, access_token=fake.channel_access_token)) as client:
            MessagingApi(client).reply_message(ReplyMessageRequest(replyToken=token, messages=lr.render(a)))
        assert fake.errors == []
        (delivery,) = fake.deliveries
        assert len(delivery["messages"]) <= 5
        assert len(delivery["messages"][-1]["quickReply"]["items"]) == 13


def test_postback_without_data_becomes_a_message_action():
    (item,) = qr_items(assert_valid(lr.render(Answer([Text("x")], [QuickReply("はい")]))))
    assert item["action"] == {"type": "message", "label": "はい", "text": "はい"}
