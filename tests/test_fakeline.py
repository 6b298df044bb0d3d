"""Tests of the test support: OpenAPI validation, the fake LINE API, webhook builders."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from jsonschema import Draft4Validator
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.webhooks import (
    AudioMessageContent,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
    VideoMessageContent,
)

from tests.support import linecheck, openapi, webhooks
from tests.support.fakeline import FakeLine, fake_line_fixture

SECRET = "test-channel-secret"
TOKEN = "test-token"
USER = "U" + "a" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64

fake_line = fake_line_fixture(TOKEN)


# --- helpers -----------------------------------------------------------------------


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": body, **extra}


def postback_item(label: str = "はい", data: str = "answer:yes") -> dict[str, Any]:
    return {"type": "action", "action": {"type": "postback", "label": label, "data": data}}


def reply(*messages: dict[str, Any]) -> list[str]:
    return linecheck.check_request(
        "POST", "/v2/bot/message/reply", {"replyToken": "x", "messages": list(messages)}
    )


def bubble(body_text: str = "本文") -> dict[str, Any]:
    return {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": body_text, "wrap": True},
                {
                    "type": "button",
                    "action": {"type": "postback", "label": "詳しく", "data": "cmd:more"},
                },
            ],
        },
    }


@pytest.fixture
def api(fake_line: FakeLine) -> MessagingApi:
    config = Configuration(host=fake_line.url, access_token=TOKEN)
    with ApiClient(config) as client:
        yield MessagingApi(client)


def raw_call(
    fake: FakeLine,
    method: str,
    path: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        fake.url + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


# --- openapi: discriminator-aware schema validation ------------------------------------


def test_valid_messages_pass() -> None:
    quick = {
        "items": [
            postback_item(),
            {"type": "action", "action": {"type": "message", "label": "いいえ", "text": "いいえ"}},
        ]
    }
    flex = {"type": "flex", "altText": "カード", "contents": bubble()}
    carousel = {
        "type": "flex",
        "altText": "一覧",
        "contents": {"type": "carousel", "contents": [bubble(), bubble()]},
    }
    assert reply(text("こんにちは", quickReply=quick), flex, carousel) == []


@pytest.mark.openapi
def test_plain_validator_misses_what_discriminator_catches() -> None:
    bad = text(
        "hi",
        quickReply={"items": [{"type": "action", "action": {"type": "postback", "label": "x", "data": 123}}]},
    )
    spec = openapi.load_spec("messaging")
    plain = Draft4Validator({"$ref": "#/components/schemas/Message", **spec})
    assert list(plain.iter_errors(bad)) == []  # Message base schema knows nothing of data
    errors = openapi.validate("messaging", "Message", bad)
    assert errors == ["quickReply/items/0/action/data: 123 is not of type 'string'"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            text(
                "hi",
                quickReply={"items": [{"type": "action", "action": {"type": "postback", "label": "x"}}]},
            ),
            "quickReply/items/0/action: postback action requires 'data'",
        ),
        (
            text("hi", quickReply={"items": [postback_item(label="あ" * 21)]}),
            "quickReply/items/0/action/label: longer than 20",
        ),
        (
            text("hi", quickReply={"items": [postback_item()] * 14}),
            "quickReply/items: 14 items > 13",
        ),
        (
            text("hi", quickReply={"items": [postback_item(data="d" * 301)]}),
            "quickReply/items/0/action/data",
        ),
        (
            text(
                "hi",
                quickReply={"items": [{"type": "action", "action": {"type": "message", "text": "t"}}]},
            ),
            "quickReply/items/0/action: 'label' is required",
        ),
        (text("x" * 5001), "text: 5001 UTF-16 units > 5000"),
        (text("x" * 4999 + "😀"), "text: 5001 UTF-16 units > 5000"),
        ({"type": "txt", "text": "typo"}, "unknown type 'txt'"),
        ({"type": "text"}, "'text' is a required property"),
        (
            {"type": "flex", "altText": "a" * 1501, "contents": bubble()},
            "altText: longer than 1500",
        ),
        ({"type": "flex", "altText": "a", "contents": bubble("x" * 31_000)}, "bubble JSON is"),
        (
            {
                "type": "flex",
                "altText": "a",
                "contents": {"type": "carousel", "contents": [bubble()] * 13},
            },
            "13 bubbles > 12",
        ),
        (
            {
                "type": "flex",
                "altText": "a",
                "contents": {
                    "type": "bubble",
                    "body": {"type": "box", "layout": "vertical", "contents": [{"type": "bogus"}]},
                },
            },
            "contents/body/contents/0: unknown type 'bogus'",
        ),
        (
            {
                "type": "flex",
                "altText": "a",
                "contents": {
                    "type": "bubble",
                    "body": {
                        "type": "box",
                        "layout": "vertical",
                        "contents": [
                            {
                                "type": "button",
                                "action": {"type": "uri", "label": "x", "uri": "no uri"},
                            }
                        ],
                    },
                },
            },
            "uri",
        ),
    ],
)
def test_invalid_messages_are_caught(message: dict[str, Any], expected: str) -> None:
    errors = reply(message)
    assert errors
    if openapi.available() or not SPEC_ONLY.search(expected):
        assert any(expected in e for e in errors), errors


# Wordings of the OpenAPI validator: without LINE's files the SDK's models say it otherwise.
SPEC_ONLY = re.compile(r"unknown type|is a required property")


def test_sdk_models_catch_what_pydantic_alone_ignores() -> None:
    """Without the OpenAPI files the SDK's models still refuse a misspelt or unknown key,
    an unknown message type and a missing required field."""
    assert linecheck.validate_request("POST", "/v2/bot/message/reply", {"replyToken": "x", "messages": [
        {"type": "text", "text": "hi", "quickRepyl": {"items": []}}]}) == ["messages/0/quickRepyl: unknown property"]
    assert linecheck.validate_request("POST", "/v2/bot/message/reply", {"replyToken": "x", "messages": [
        {"type": "hologram"}]})
    assert linecheck.validate_request("POST", "/v2/bot/message/push", {"messages": [text("hi")]})
    assert linecheck.validate_request("POST", "/v2/bot/message/reply", None) == ["(root): request body is required"]
    assert linecheck.validate_request("POST", "/v2/bot/nothing/here", {})
    assert linecheck.validate_request("POST", "/v2/bot/richmenu/richmenu-1/content", None) == []
    assert linecheck.find_operation("GET", "/v2/bot/richmenu/list").operation_id == "getRichMenuList"
    assert linecheck.find_operation("GET", "/v2/bot/richmenu/rm-1").operation_id == "getRichMenu"
    assert linecheck.check_request("POST", "/v2/bot/message/reply", {"replyToken": "x", "messages": [
        text("x" * 5001)]})  # the documented limits apply with or without the files


def test_limits_at_the_boundary_pass() -> None:
    assert reply(text("x" * 5000)) == []
    assert reply(text("x" * 4998 + "😀")) == []
    assert reply(text("hi", quickReply={"items": [postback_item(label="あ" * 20)] * 13})) == []
    assert reply(*[text("m")] * 5) == []


def test_six_messages_rejected() -> None:
    errors = reply(*[text("m")] * 6)
    assert any("6 messages > 5" in e for e in errors), errors


@pytest.mark.openapi
def test_validate_request_operations() -> None:
    assert linecheck.check_request("GET", "/v2/bot/profile/" + USER, None) == []
    assert linecheck.check_request("POST", "/v2/bot/richmenu/richmenu-1/content", None) == []
    assert linecheck.check_request("POST", "/v2/bot/user/all/richmenu/richmenu-1", None) == []
    assert (
        linecheck.check_request("POST", "/v2/bot/chat/loading/start", {"chatId": USER, "loadingSeconds": 10})
        == []
    )
    assert linecheck.check_request(
        "POST", "/v2/bot/chat/loading/start", {"chatId": USER, "loadingSeconds": 3}
    )
    assert linecheck.check_request("POST", "/v2/bot/message/reply", None)
    assert linecheck.check_request("POST", "/v2/bot/nothing/here", {})
    assert openapi.find_operation("GET", "/v2/bot/richmenu/list").operation_id == "getRichMenuList"
    assert openapi.find_operation("GET", "/v2/bot/richmenu/rm-1").operation_id == "getRichMenu"


@pytest.mark.openapi
def test_webhook_discriminators() -> None:
    event = webhooks.text_event(USER, "hi")
    assert openapi.validate("webhook", "Event", event) == []
    no_quote = {
        **event,
        "message": {k: v for k, v in event["message"].items() if k != "quoteToken"},
    }
    assert openapi.validate("webhook", "Event", no_quote) == ["message: 'quoteToken' is a required property"]
    odd_content = {**event, "message": {"type": "hologram", "id": "1"}}
    assert any("unknown type 'hologram'" in e for e in openapi.validate("webhook", "Event", odd_content))
    # Unknown *event* types are valid (LINE adds some), but the envelope is still checked.
    assert openapi.validate("webhook", "Event", webhooks.unknown_event("pollCreated")) == []
    assert openapi.validate("webhook", "Event", {"type": "somethingNew"})


# --- webhook builders ------------------------------------------------------------------


def parse(*events: dict[str, Any]) -> list[Any]:
    raw = webhooks.dumps(webhooks.body(events))
    return WebhookParser(SECRET).parse(raw.decode("utf-8"), webhooks.sign(raw, SECRET))


@pytest.mark.parametrize(
    ("event", "event_class", "content_class"),
    [
        (webhooks.text_event(USER, "競売の通知が来ました"), MessageEvent, TextMessageContent),
        (webhooks.sticker_event(USER), MessageEvent, StickerMessageContent),
        (webhooks.image_event(USER), MessageEvent, ImageMessageContent),
        (webhooks.video_event(USER), MessageEvent, VideoMessageContent),
        (webhooks.audio_event(USER), MessageEvent, AudioMessageContent),
        (webhooks.file_event(USER), MessageEvent, FileMessageContent),
        (webhooks.location_event(USER), MessageEvent, LocationMessageContent),
        (webhooks.postback_event(USER, "arrears:3-5"), PostbackEvent, None),
        (webhooks.follow_event(USER), FollowEvent, None),
        (webhooks.unfollow_event(USER), UnfollowEvent, None),
    ],
)
def test_builders_parse_into_sdk_classes(
    event: dict[str, Any], event_class: type, content_class: type | None
) -> None:
    assert webhooks.validate_body(webhooks.body([event])) == []
    (parsed,) = parse(event)
    assert type(parsed) is event_class
    assert isinstance(parsed.source, UserSource) and parsed.source.user_id == USER
    assert parsed.webhook_event_id == event["webhookEventId"]
    if content_class is not None:
        assert type(parsed.message) is content_class


def test_builder_details() -> None:
    event = webhooks.text_event(USER, "こんにちは", reply_token="tok")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event["webhookEventId"])
    assert event["replyToken"] == "tok" and event["mode"] == "active"
    assert re.fullmatch(r"U[0-9a-f]{32}", webhooks.make_user_id())
    assert "こんにちは".encode() in webhooks.dumps(webhooks.body([event]))

    (post,) = parse(webhooks.postback_event(USER, "date:x", params={"date": "2024-05-01"}))
    assert post.postback.data == "date:x" and post.postback.params == {"date": "2024-05-01"}
    (follow,) = parse(webhooks.follow_event(USER, is_unblocked=True))
    assert follow.follow.is_unblocked is True

    stand = webhooks.standby(event)
    assert "replyToken" not in stand
    (parsed,) = parse(stand)
    assert parsed.mode.value == "standby" and parsed.reply_token is None

    again = webhooks.redelivered(event)
    (parsed,) = parse(again)
    assert parsed.delivery_context.is_redelivery is True
    assert again["webhookEventId"] == event["webhookEventId"]
    assert again["replyToken"] == event["replyToken"]


def test_unknown_event_is_valid_and_sdk_keeps_it_as_unknown() -> None:
    (parsed,) = parse(webhooks.unknown_event("somethingNew"))
    assert type(parsed).__name__ == "UnknownEvent"


def test_invalid_events_are_refused() -> None:
    with pytest.raises(AssertionError, match="replyToken"):
        webhooks.standby(webhooks.follow_event(USER))  # follow requires a reply token
    body = webhooks.body([webhooks.text_event(USER, "x")])
    body["events"][0]["source"] = {"type": "group"}
    errors = webhooks.validate_body(body)
    assert any("groupId" in e for e in errors), errors
    if openapi.available():
        assert "events/0/source: 'groupId' is a required property" in errors
    assert webhooks.validate_body(webhooks.body([])) == []  # LINE's connectivity check


def test_signature_round_trip() -> None:
    raw, headers = webhooks.request([webhooks.text_event(USER, "署名")], SECRET)
    parser = WebhookParser(SECRET)
    assert len(parser.parse(raw.decode("utf-8"), headers["x-line-signature"])) == 1
    with pytest.raises(InvalidSignatureError):
        parser.parse(raw.decode("utf-8"), webhooks.sign(raw, "other-secret"))
    with pytest.raises(InvalidSignatureError):
        parser.parse(raw.decode("utf-8").replace("署名", "改ざん"), headers["x-line-signature"])


# --- fake LINE API driven by the real SDK --------------------------------------------------


def test_reply_with_sdk(fake_line: FakeLine, api: MessagingApi) -> None:
    token = fake_line.issue_reply_token(user_id=USER)
    quick = QuickReply(items=[QuickReplyItem(action=PostbackAction(label="はい", data="answer:yes"))])
    response = api.reply_message_with_http_info(
        ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="こんにちは", quick_reply=quick)])
    )
    assert response.status_code == 200
    assert uuid.UUID(response.headers["x-line-request-id"])
    assert len(response.data.sent_messages) == 1
    assert fake_line.texts_to(USER) == ["こんにちは"]
    (delivery,) = fake_line.deliveries
    assert delivery["kind"] == "reply" and delivery["reply_token"] == token
    assert delivery["messages"][0]["quickReply"]["items"][0]["action"]["data"] == "answer:yes"
    assert fake_line.errors == []


def test_reply_token_single_use_and_expiry(fake_line: FakeLine, api: MessagingApi) -> None:
    token = fake_line.issue_reply_token(user_id=USER)
    request = ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="1")])
    api.reply_message(request)
    with pytest.raises(ApiException) as used:
        api.reply_message(request)
    assert used.value.status == 400 and "Invalid reply token" in used.value.body

    expired = fake_line.issue_reply_token(user_id=USER, ttl=0.05)
    time.sleep(0.1)
    with pytest.raises(ApiException) as late:
        api.reply_message(ReplyMessageRequest(reply_token=expired, messages=[TextMessage(text="2")]))
    assert late.value.status == 400
    with pytest.raises(ApiException):
        api.reply_message(ReplyMessageRequest(reply_token="never-issued", messages=[TextMessage(text="3")]))
    assert fake_line.texts_to(USER) == ["1"]
    assert [a["status"] for a in fake_line.attempts] == [400, 400, 400]
    assert fake_line.errors == []  # token problems are LINE behaviour, not client bugs


def test_sdk_request_with_bad_body_is_rejected(fake_line: FakeLine, api: MessagingApi) -> None:
    token = fake_line.issue_reply_token(user_id=USER)
    with pytest.raises(ApiException) as bad:
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="x" * 5001)]))
    assert bad.value.status == 400
    payload = json.loads(bad.value.body)
    assert payload["message"] == "The request body has 1 error(s)"
    assert payload["details"][0]["property"] == "messages.0.text"
    assert len(fake_line.errors) == 1 and "5001 UTF-16 units" in fake_line.errors[0]
    assert fake_line.deliveries == []
    # the token was not consumed by the rejected request
    api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="ok")]))
    assert fake_line.texts_to(USER) == ["ok"]


def test_push_retry_key_conflict(fake_line: FakeLine, api: MessagingApi) -> None:
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="お知らせ")])
    first = api.push_message_with_http_info(request, x_line_retry_key=key)
    assert first.status_code == 200
    with pytest.raises(ApiException) as again:
        api.push_message(request, x_line_retry_key=key)
    assert again.value.status == 409
    assert json.loads(again.value.body)["message"] == "The retry key is already accepted"
    assert again.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert fake_line.texts_to(USER) == ["お知らせ"]
    assert fake_line.deliveries[0]["retry_key"] == key
    api.push_message(request, x_line_retry_key=str(uuid.uuid4()))  # a new key is a new push
    assert fake_line.texts_to(USER) == ["お知らせ", "お知らせ"]


def test_push_to_blocked_user_is_accepted_but_undelivered(fake_line: FakeLine, api: MessagingApi) -> None:
    fake_line.block(USER)
    api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="届かない")]))
    assert fake_line.deliveries == [] and fake_line.texts_to(USER) == []
    assert fake_line.undelivered[0]["messages"][0]["text"] == "届かない"


def test_multicast(fake_line: FakeLine, api: MessagingApi) -> None:
    other = webhooks.make_user_id()
    api.multicast(MulticastRequest(to=[USER, other], messages=[TextMessage(text="皆さんへ")]))
    assert fake_line.texts_to(USER) == fake_line.texts_to(other) == ["皆さんへ"]


def test_fail_next(fake_line: FakeLine, api: MessagingApi) -> None:
    fake_line.fail_next(1, status=429, path_prefix="/v2/bot/message/push")
    assert api.get_profile(USER).display_name == "テスト太郎"  # not affected by the prefix
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="再送")])
    key = str(uuid.uuid4())
    with pytest.raises(ApiException) as limited:
        api.push_message(request, x_line_retry_key=key)
    assert limited.value.status == 429
    assert json.loads(limited.value.body) == {"message": "Too Many Requests"}
    fake_line.fail_next(2, status=500)
    for _ in range(2):
        with pytest.raises(ApiException) as failed:
            api.push_message(request, x_line_retry_key=key)
        assert failed.value.status == 500
    api.push_message(request, x_line_retry_key=key)  # the key was never accepted
    assert fake_line.texts_to(USER) == ["再送"]
    assert [a["status"] for a in fake_line.attempts] == [429, 500, 500]
    assert fake_line.errors == []


def test_delay_then_retry_with_same_key(fake_line: FakeLine, api: MessagingApi) -> None:
    fake_line.delay_next(1, 0.5)
    request = PushMessageRequest(to=USER, messages=[TextMessage(text="遅延")])
    key = str(uuid.uuid4())
    with pytest.raises(Exception, match=r"(?i)timed? ?out"):
        api.push_message(request, x_line_retry_key=key, _request_timeout=0.1)
    fake_line.wait_for(lambda: fake_line.texts_to(USER), timeout=5)  # LINE got it anyway
    with pytest.raises(ApiException) as again:
        api.push_message(request, x_line_retry_key=key)
    assert again.value.status == 409
    assert fake_line.texts_to(USER) == ["遅延"]


def test_auth_and_unknown_path(fake_line: FakeLine) -> None:
    status, headers, payload = raw_call(
        fake_line, "GET", "/v2/bot/profile/" + USER, headers={"Authorization": "Bearer wrong"}
    )
    assert status == 401 and payload["message"].startswith("Authentication failed")
    assert "x-line-request-id" in {k.lower() for k in headers}
    status, _, _ = raw_call(fake_line, "GET", "/v2/bot/nothing")
    assert status == 404
    assert fake_line.errors == ["GET /v2/bot/nothing: unknown path"]
    fake_line.reset()
    assert fake_line.errors == [] and fake_line.requests == []


def test_profile_and_loading(fake_line: FakeLine, api: MessagingApi) -> None:
    fake_line.profiles[USER] = "山田花子"
    profile = api.get_profile(USER)
    assert (profile.user_id, profile.display_name, profile.language) == (USER, "山田花子", "ja")
    fake_line.profile_404_for_unknown = True
    with pytest.raises(ApiException) as missing:
        api.get_profile(webhooks.make_user_id())
    assert missing.value.status == 404

    response = api.show_loading_animation_with_http_info(
        ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=20)
    )
    assert response.status_code == 202
    assert fake_line.loading == [{"chatId": USER, "loadingSeconds": 20}]
    with pytest.raises(ApiException):
        api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=7))
    assert fake_line.errors == ["POST /v2/bot/chat/loading/start: loadingSeconds 7 is not a multiple of 5"]


def test_rich_menu_flow(fake_line: FakeLine, api: MessagingApi) -> None:
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843),
        selected=True,
        name="main",
        chat_bar_text="メニュー",
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                action=PostbackAction(label="相談", data="cmd:human"),
            )
        ],
    )
    rid = api.create_rich_menu(menu).rich_menu_id
    assert rid.startswith("richmenu-")
    with pytest.raises(ApiException):  # no image yet
        api.set_default_rich_menu(rid)
    # MessagingApiBlob hard-codes https://api-data.line.me, so upload with plain HTTP.
    path = f"/v2/bot/richmenu/{rid}/content"
    assert raw_call(fake_line, "POST", path, PNG, {"Content-Type": "image/png"})[0] == 200
    api.set_default_rich_menu(rid)
    assert fake_line.default_rich_menu == rid
    assert [m.rich_menu_id for m in api.get_rich_menu_list().richmenus] == [rid]
    api.delete_rich_menu(rid)
    assert api.get_rich_menu_list().richmenus == [] and fake_line.default_rich_menu is None
    assert fake_line.errors == [
        "POST /v2/bot/user/all/richmenu/" + rid + f": default rich menu {rid} has no image"
    ]


def test_rich_menu_image_checks(fake_line: FakeLine, api: MessagingApi) -> None:
    status, _, body = raw_call(
        fake_line,
        "POST",
        "/v2/bot/richmenu",
        json.dumps({"name": "x"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 400 and body["details"]
    rid = api.create_rich_menu(
        RichMenuRequest(
            size=RichMenuSize(width=2500, height=1686),
            selected=False,
            name="m",
            chat_bar_text="m",
            areas=[
                RichMenuArea(
                    bounds=RichMenuBounds(x=0, y=0, width=2500, height=1686),
                    action=PostbackAction(label="a", data="cmd:a"),
                )
            ],
        )
    ).rich_menu_id
    path = f"/v2/bot/richmenu/{rid}/content"
    assert raw_call(fake_line, "POST", path, PNG, {"Content-Type": "image/gif"})[0] == 400
    assert (
        raw_call(
            fake_line,
            "POST",
            path,
            b"\x89PNG\r\n\x1a\n" + b"\0" * (1 << 20),
            {"Content-Type": "image/png"},
        )[0]
        == 400
    )
    assert raw_call(fake_line, "POST", path, PNG, {"Content-Type": "image/png"})[0] == 200
    assert fake_line.rich_menus[rid]["hasImage"] is True
    assert len(fake_line.errors) == 3


def test_wait_for_times_out(fake_line: FakeLine) -> None:
    with pytest.raises(AssertionError, match="not met"):
        fake_line.wait_for(lambda: fake_line.texts_to(USER), timeout=0.05)
