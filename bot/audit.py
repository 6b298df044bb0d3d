"""The audit trail: who did what to which record, when, from which address.

``record(action, target_type=None, target_id=None, detail=None)`` is called by
views (console, insights) inside a request: the user and the client address
come from the request. Outside a request (CLI), pass ``user=`` explicitly or
nothing (recorded as the system).

The actions are the keys of ``ACTION_LABELS`` (their names on the audit page).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user

from bot.storage import dumps, now_iso

logger = logging.getLogger(__name__)

ACTION_LABELS = {
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "login_blocked": "ログイン制限",
    "logout": "ログアウト",
    "view": "閲覧",
    "takeover": "対応開始",
    "send": "送信",
    "handback": "ボットに戻す",
    "close": "終了",
    "reopen": "再開",
    "assign": "担当変更",
    "note": "メモ追加",
    "alerts_seen": "通知を既読",
    "user_create": "ユーザー作成",
    "user_update": "ユーザー変更",
    "user_password": "パスワード再設定",
    "user_disable": "ユーザー無効化",
    "canned_create": "定型文作成",
    "canned_update": "定型文変更",
    "canned_delete": "定型文削除",
    "export": "エクスポート",
    "followup_add": "連絡予定を追加",
    "followup_done": "連絡予定を完了",
    "contact_confirm": "連絡先を確定（チャットで入力）",
    "contact_dismiss": "連絡先の候補を却下",
    "search": "相談を検索",
}


def record(
    action: str,
    target_type: str | None = None,
    target_id: Any = None,
    detail: Any = None,
    *,
    user: Any = None,
    login: str | None = None,
    storage: Any = None,
) -> int:
    """Append one audit row; returns its id. Never raises into the caller's view."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if login is None:
        login = getattr(user, "login", None)
    storage = storage or current_app.extensions["ninbai"].storage
    row = {
        "at": now_iso(),
        "user_id": getattr(user, "id", None),
        "login": login,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "detail": None if detail is None else dumps(detail),
        "ip": request.remote_addr if has_request_context() else None,
    }
    try:
        return storage.db["audit"].insert(row).last_pk
    except Exception:  # the trail must not break the action it records
        logger.exception("audit record failed: %s", action)
        return 0


def query(
    storage: Any,
    *,
    login: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Newest first. ``date_from`` / ``date_to``: ISO timestamps (from inclusive, to exclusive)."""
    conditions = {"login = ?": login, "action = ?": action, "target_type = ?": target_type,
                  "target_id = ?": str(target_id) if target_id else None,
                  "at >= ?": date_from, "at < ?": date_to, "id < ?": before_id}
    where = [sql for sql, value in conditions.items() if value]
    params: list[Any] = [value for value in conditions.values() if value]
    sql = "select * from audit"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by id desc limit ?"
    params.append(limit)
    return list(storage.db.query(sql, params))
