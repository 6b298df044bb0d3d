"""The LINE webhook: verify, translate, commit to the inbox, answer 200.

No dialog logic here. ``POST /callback`` checks ``x-line-signature`` on the raw
body (line-bot-sdk v3 ``WebhookParser``, constant-time compare), turns each
event into a small inbound record and commits them all to SQLite before
answering, so an accepted event is never lost. Redeliveries carry the same
``webhookEventId`` and are stored once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from typing import Any

from flask import Blueprint, current_app, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
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
    VideoMessageContent,
)

from bot.storage import dumps

logger = logging.getLogger(__name__)

bp = Blueprint("line", __name__)

MESSAGE_KINDS = {
    TextMessageContent: "text",
    StickerMessageContent: "sticker",
    ImageMessageContent: "image",
    VideoMessageContent: "video",
    AudioMessageContent: "audio",
    FileMessageContent: "file",
    LocationMessageContent: "location",
}


def inbound_from_event(event: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """Translate one parsed event into an inbox row (channel-neutral body)."""
    source = getattr(event, "source", None)
    user_id = getattr(source, "user_id", None)
    mode = raw.get("mode") or "active"
    body: dict[str, Any] = {"mode": mode, "line_type": raw.get("type")}
    kind = "unknown"
    if isinstance(event, MessageEvent):
        content = event.message
        kind = MESSAGE_KINDS.get(type(content), "unknown")
        body["message_id"] = getattr(content, "id", None)
        if kind == "text":
            body["text"] = content.text
        elif kind == "sticker":
            body["sticker"] = {
                "package_id": content.package_id,
                "sticker_id": content.sticker_id,
                "keywords": list(content.keywords or [])[:5],
            }
        elif kind == "location":
            body["location"] = {"title": content.title, "address": content.address}
        elif kind == "file":
            body["file_name"] = content.file_name
    elif isinstance(event, PostbackEvent):
        kind = "postback"
        body["data"] = event.postback.data
        params = raw.get("postback", {}).get("params")
        if params:
            body["params"] = {k: str(v) for k, v in params.items()}
    elif isinstance(event, FollowEvent):
        kind = "follow"
        follow = getattr(event, "follow", None)
        body["is_unblocked"] = bool(getattr(follow, "is_unblocked", False))
    elif isinstance(event, UnfollowEvent):
        kind = "unfollow"
    if user_id:
        user_key = f"line:{user_id}"
    else:  # groups, rooms: stored, never answered (one-to-one bot)
        kind = "unknown"
        src = raw.get("source") or {}
        user_key = f"line:{src.get('type', 'none')}-{src.get('groupId') or src.get('roomId') or 'none'}"
    event_id = raw.get("webhookEventId") or (
        "sha256-" + hashlib.sha256(dumps(raw).encode()).hexdigest()[:40]
    )
    body["raw"] = raw
    return {
        "event_id": event_id,
        "channel": "line",
        "user_key": user_key,
        "kind": kind,
        "body": dumps(body),
        "reply_token": getattr(event, "reply_token", None) if mode == "active" else None,
        "received_at": time.time(),
    }


@bp.post("/callback")
def callback():
    services = current_app.extensions["ninbai"]
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return {"message": "missing x-line-signature"}, 400
    raw = request.get_data(cache=False)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"message": "body is not UTF-8"}, 400
    parser: WebhookParser = services.line_parser
    try:
        events = parser.parse(text, signature)
    except InvalidSignatureError:
        logger.warning("webhook rejected: bad signature")
        return {"message": "invalid signature"}, 400
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("webhook rejected: malformed body")
        return {"message": "malformed body"}, 400
    raw_events = json.loads(text).get("events", [])
    if not isinstance(raw_events, list) or len(raw_events) != len(events):
        return {"message": "malformed body"}, 400
    rows = [inbound_from_event(ev, raw_ev) for ev, raw_ev in zip(events, raw_events, strict=True)]
    redelivered = sum(1 for r in raw_events if (r.get("deliveryContext") or {}).get("isRedelivery"))
    try:
        new_ids = services.storage.accept_events(rows) if rows else []
    except sqlite3.Error as exc:  # disk full, read-only, locked too long: LINE redelivers a 5xx
        logger.error("webhook not stored: %s: %s (%d events; answering 503)",
                     type(exc).__name__, exc, len(rows))
        return {"message": "temporarily unavailable; please redeliver"}, 503
    # One line per webhook at INFO only when LINE redelivered something (DEBUG otherwise).
    logger.log(
        logging.INFO if redelivered or len(new_ids) < len(rows) else logging.DEBUG,
        "webhook: %d events, %d new, %d marked redelivery", len(rows), len(new_ids), redelivered,
    )
    if new_ids:
        services.notify()
    return {"status": "ok"}, 200
