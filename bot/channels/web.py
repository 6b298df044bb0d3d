"""The web chat: a page at ``/`` and a small JSON API driven by the same engine.

A visitor is identified by a signed cookie (no account). What they send goes
through the same durable inbox as LINE events; the page polls for answers.
"""
from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer

from bot import ratelimit
from bot.storage import dumps, loads
from dialogs.answer import restored

logger = logging.getLogger(__name__)

bp = Blueprint("web", __name__)

COOKIE = "ninbai_visitor"
MAX_TEXT = 2000
RATE_WINDOW = 10.0  # seconds
TOO_FAST = "少し時間をおいてから送ってください"
RATE_MAX = 12  # events per window per visitor (bot/ratelimit.py: shared by every process)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="ninbai-visitor")


def visitor_id(create: bool = False) -> str | None:
    token = request.cookies.get(COOKIE)
    if token:
        try:
            return _serializer().loads(token)
        except BadSignature:
            logger.info("web chat: ignored a forged visitor cookie")
    return uuid.uuid4().hex if create else None


def _set_cookie(response: Any, vid: str) -> Any:
    response.set_cookie(
        COOKIE,
        _serializer().dumps(vid),
        max_age=180 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


@bp.get("/")
def page():
    vid = visitor_id(create=True)
    response = current_app.make_response(
        render_template(
            "webchat.html",
            csrf_token=generate_csrf(),
            title="住宅ローンのご相談",
            company_name=current_app.config["COMPANY_NAME"],
        )
    )
    return _set_cookie(response, vid)


def _bad(message: str, status: int = 400):
    return jsonify({"error": message}), status


@bp.post("/chat/api/events")
def post_event():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _bad("JSONで送ってください")
    kind = payload.get("type")
    body: dict[str, Any] = {"mode": "active"}
    if kind == "text":
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            return _bad("メッセージが空です")
        if len(text) > MAX_TEXT:
            return _bad(f"メッセージは{MAX_TEXT}文字までです")
        body["text"] = text
    elif kind == "postback":
        data = payload.get("data")
        if not isinstance(data, str) or not data or len(data) > 300:
            return _bad("ボタンの情報が正しくありません")
        body["data"] = data
        display = payload.get("display_text")
        if isinstance(display, str) and display:
            body["display_text"] = display[:100]
        params = payload.get("params")
        if isinstance(params, dict):
            body["params"] = {str(k)[:20]: str(v)[:40] for k, v in list(params.items())[:3]}
    elif kind == "start":
        source = {
            k: str(payload[k])[:200]
            for k in ("utm_source", "utm_campaign", "referrer")
            if payload.get(k)
        }
        body["source"] = source
    else:
        return _bad("type は text / postback / start のいずれかです")
    vid = visitor_id(create=True)
    services = current_app.extensions["ninbai"]
    allowed, retry_after = ratelimit.hit(services.storage.db, f"chat:{vid}", RATE_MAX, RATE_WINDOW)
    if not allowed:
        response = jsonify({"error": TOO_FAST})
        response.status_code = 429
        response.headers["Retry-After"] = str(retry_after)
        return response
    event_id = f"web-{uuid.uuid4()}"
    try:
        services.storage.accept_events(
            [
                {
                    "event_id": event_id,
                    "channel": "web",
                    "user_key": f"web:{vid}",
                    "kind": kind,
                    "body": dumps(body),
                    "reply_token": None,
                    "received_at": time.time(),
                }
            ]
        )
    except sqlite3.Error as exc:  # disk full, read-only: say so; the page lets them resend
        logger.error("web chat event not stored: %s: %s (answering 503)", type(exc).__name__, exc)
        return _bad("ただいま混み合っています。少し時間をおいてから送ってください", 503)
    services.notify()
    response = jsonify({"accepted": True, "event_id": event_id})
    response.status_code = 202
    return _set_cookie(response, vid)


@bp.get("/chat/api/messages")
def get_messages():
    vid = visitor_id()
    empty = {"messages": [], "quick_replies": [], "pending": False, "operator": None}
    if vid is None:
        return jsonify(empty)
    services = current_app.extensions["ninbai"]
    storage = services.storage
    contact = storage.get_contact("web", vid)
    if contact is None:
        pending = storage.db.execute(
            "select 1 from inbox where user_key = ? and status != 'done' limit 1", [f"web:{vid}"]
        ).fetchone()
        return jsonify({**empty, "pending": bool(pending)})
    after = request.args.get("after", "0")
    after_id = int(after) if after.isdigit() else 0
    rows = storage.messages_for_contact(contact["id"], after=after_id)
    messages = []
    for row in rows:
        if row["kind"] == "follow" or (row["direction"] == "in" and row["text"] is None):
            continue
        payload = loads(row["payload"], None)
        messages.append(
            {
                "id": row["id"],
                "direction": row["direction"],
                "sender": row["sender"],
                "text": row["text"],
                "answer": restored(row["text"] or "", payload) if row["kind"] == "answer" and payload else None,
                "created_at": row["created_at"],
            }
        )
    pending = storage.db.execute(
        "select 1 from inbox where user_key = ? and status in ('pending', 'processing') limit 1",
        [f"web:{vid}"],
    ).fetchone()
    conv = storage.db.execute(
        "select id, status, owner_id from conversations where contact_id = ?"
        " order by id desc limit 1",
        [contact["id"]],
    ).fetchone()
    quick_replies: list = []
    operator = None
    if conv and conv[1] == "operator":
        operator = {"name": services.operator_name(conv[2])}
    else:
        last = storage.db.execute(
            "select kind, payload from messages where contact_id = ? order by id desc limit 1",
            [contact["id"]],
        ).fetchone()
        if last and last[0] == "answer":
            quick_replies = (loads(last[1], {}) or {}).get("quick_replies", [])
    return jsonify(
        {"messages": messages, "quick_replies": quick_replies, "pending": bool(pending),
         "operator": operator}
    )


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and tests: the database answers."""
    storage = current_app.extensions["ninbai"].storage
    storage.db.execute("select 1").fetchone()
    return jsonify({"ok": True})
