"""Builders of LINE webhook bodies, valid for line-bot-sdk (and ``webhook.yml`` when present).

Every builder returns one event dict with all required fields (``webhookEventId``
as a ULID-like string, ``deliveryContext``, ``mode``, ``timestamp`` in ms, a user
``source`` ...) and checks it twice before returning: with :mod:`.linecheck` (the
SDK's ``CallbackRequest`` model, and the OpenAPI schema when its file is present)
and with line-bot-sdk's ``Event.from_dict`` -- the SDK
silently turns an event it cannot parse into ``UnknownEvent``.  A builder that
would produce an invalid event raises ``AssertionError``.

Typical use::

    token = fake.issue_reply_token(user_id=uid)
    raw, headers = request([text_event(uid, "こんにちは", reply_token=token)], SECRET)
    client.post("/callback", data=raw, headers=headers)
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

from linebot.v3.webhooks import Event as SdkEvent

from . import linecheck

logger = logging.getLogger(__name__)

#: Default ``destination`` (the bot's user id).
DESTINATION = "U" + "0123456789abcdef" * 2

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def make_user_id() -> str:
    """A random LINE user id: ``"U"`` + 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


def make_event_id(timestamp_ms: int | None = None) -> str:
    """A ULID-like 26-character id (48-bit time + 80 random bits, Crockford base32)."""
    ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    value = (ms << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _known_event_types() -> frozenset[str]:
    return linecheck.known_event_types()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _message_id() -> str:
    return str(10**17 + secrets.randbelow(9 * 10**17))


def _event(
    type_: str,
    user_id: str,
    *,
    reply_token: str | bool | None,
    timestamp: int | None,
    **fields: Any,
) -> dict[str, Any]:
    """Common event envelope; ``reply_token=False`` means the event has none."""
    ts = _now_ms() if timestamp is None else timestamp
    event: dict[str, Any] = {
        "type": type_,
        "source": {"type": "user", "userId": user_id},
        "timestamp": ts,
        "mode": "active",
        "webhookEventId": make_event_id(ts),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token is not False:
        event["replyToken"] = reply_token or secrets.token_hex(16)
    event.update(fields)
    return _checked(event)


def _checked(event: dict[str, Any]) -> dict[str, Any]:
    """Assert that ``event`` is schema-valid and that the SDK parses it."""
    errors = validate_body(body([event], check=False))
    if errors:
        raise AssertionError(f"invalid {event.get('type')} event: {errors}")
    if event.get("type") in _known_event_types():
        try:
            SdkEvent.from_dict(event)
        except ValueError as exc:  # pydantic ValidationError is a ValueError
            raise AssertionError(f"line-bot-sdk cannot parse {event.get('type')} event: {exc}") from exc
    return event


def _message(type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": _message_id(), **fields}


def _quote_token() -> str:
    return secrets.token_urlsafe(32)


# --- message events ------------------------------------------------------------


def text_event(
    user_id: str, text: str, *, reply_token: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    """A user sent ``text``."""
    message = _message("text", text=text, quoteToken=_quote_token())
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def sticker_event(
    user_id: str,
    package_id: str = "446",
    sticker_id: str = "1988",
    *,
    resource_type: str = "STATIC",
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user sent a sticker."""
    message = _message(
        "sticker",
        packageId=package_id,
        stickerId=sticker_id,
        stickerResourceType=resource_type,
        quoteToken=_quote_token(),
    )
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def image_event(
    user_id: str, *, reply_token: str | None = None, timestamp: int | None = None
) -> dict[str, Any]:
    """A user sent an image (content held by LINE)."""
    message = _message("image", contentProvider={"type": "line"}, quoteToken=_quote_token())
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def video_event(
    user_id: str,
    duration_ms: int = 5000,
    *,
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user sent a video."""
    message = _message(
        "video", duration=duration_ms, contentProvider={"type": "line"}, quoteToken=_quote_token()
    )
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def audio_event(
    user_id: str,
    duration_ms: int = 3000,
    *,
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user sent a voice message."""
    message = _message("audio", duration=duration_ms, contentProvider={"type": "line"})
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def file_event(
    user_id: str,
    file_name: str = "催告書.pdf",
    file_size: int = 12345,
    *,
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user sent a file."""
    message = _message("file", fileName=file_name, fileSize=file_size)
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


def location_event(
    user_id: str,
    latitude: float = 35.681236,
    longitude: float = 139.767125,
    *,
    title: str | None = "東京駅",
    address: str | None = "東京都千代田区丸の内1丁目",
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user sent a location."""
    extra = {k: v for k, v in (("title", title), ("address", address)) if v is not None}
    message = _message("location", latitude=latitude, longitude=longitude, **extra)
    return _event("message", user_id, reply_token=reply_token, timestamp=timestamp, message=message)


# --- other events ----------------------------------------------------------------


def postback_event(
    user_id: str,
    data: str,
    params: dict[str, str] | None = None,
    *,
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user tapped a postback action carrying ``data`` (``params`` for pickers)."""
    postback: dict[str, Any] = {"data": data}
    if params is not None:
        postback["params"] = params
    return _event("postback", user_id, reply_token=reply_token, timestamp=timestamp, postback=postback)


def follow_event(
    user_id: str,
    is_unblocked: bool = False,
    *,
    reply_token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """A user added the bot as a friend (``is_unblocked``: unblocked it)."""
    return _event(
        "follow",
        user_id,
        reply_token=reply_token,
        timestamp=timestamp,
        follow={"isUnblocked": is_unblocked},
    )


def unfollow_event(user_id: str, *, timestamp: int | None = None) -> dict[str, Any]:
    """A user blocked the bot (no reply token)."""
    return _event("unfollow", user_id, reply_token=False, timestamp=timestamp)


def unknown_event(
    type: str = "somethingNew",
    user_id: str | None = None,
    *,
    timestamp: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An event type this spec does not know (LINE adds some); valid, SDK -> UnknownEvent."""
    return _event(type, user_id or make_user_id(), reply_token=False, timestamp=timestamp, **fields)


# --- variants --------------------------------------------------------------------


def standby(event: dict[str, Any]) -> dict[str, Any]:
    """The same event in standby mode (another channel is active): no reply token.

    Raises AssertionError for event types whose schema requires ``replyToken``
    (follow, join, ...).
    """
    variant = copy.deepcopy(event)
    variant["mode"] = "standby"
    variant.pop("replyToken", None)
    return _checked(variant)


def redelivered(event: dict[str, Any]) -> dict[str, Any]:
    """The same event redelivered by LINE: same id and token, ``isRedelivery: true``."""
    variant = copy.deepcopy(event)
    variant["deliveryContext"] = {"isRedelivery": True}
    return _checked(variant)


# --- bodies, bytes, signatures -----------------------------------------------------


def body(
    events: Iterable[dict[str, Any]], destination: str = DESTINATION, *, check: bool = True
) -> dict[str, Any]:
    """A ``CallbackRequest`` holding ``events`` (may be empty, like LINE's URL check)."""
    result = {"destination": destination, "events": list(events)}
    if check:
        errors = validate_body(result)
        if errors:
            raise AssertionError(f"invalid webhook body: {errors}")
    return result


def dumps(webhook_body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON bytes, as LINE sends them."""
    return json.dumps(webhook_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(raw: bytes, secret: str) -> str:
    """``x-line-signature`` for ``raw``: Base64(HMAC-SHA256(secret, raw))."""
    digest = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request(
    events: Iterable[dict[str, Any]], secret: str, destination: str = DESTINATION
) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers (content type, signature) for POSTing ``events`` to /callback."""
    raw = dumps(body(events, destination))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "x-line-signature": sign(raw, secret),
    }
    return raw, headers


def validate_body(webhook_body: Any) -> list[str]:
    """Errors of ``webhook_body`` against ``CallbackRequest`` (empty = valid)."""
    return linecheck.check_webhook_body(webhook_body)
