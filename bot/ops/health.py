"""Readiness: is the bot answering? One function for /readyz and the staff alert.

Checks, each ``{"ok": bool, ...}`` (figures only, never personal data):

* ``database``: a real write (one row of ``meta``) commits — a read-only file,
  a full disk or a moved database fails it;
* ``schema``: the schema version is the code's (``flask --app app db upgrade`` ran);
* ``worker``: an event worker's batch loop wrote its heartbeat lately
  (``READY_WORKER_STALE`` seconds, default 30; it beats every 5 s);
* ``queue``: the oldest unanswered event is younger than ``READY_MAX_EVENT_AGE``
  (default 120 s);
* ``outbox``: no LINE send given up in the last ``READY_OUTBOX_WINDOW`` seconds
  (default 600) and none retrying for longer than ``READY_MAX_EVENT_AGE``;
* ``line``: LINE accepted the access token at the last call (a 401 says it
  did not; recorded by the process that made the call). Only with LINE on.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from bot.migrations import current_version, pending

logger = logging.getLogger(__name__)

HEARTBEAT = "ops:worker_heartbeat"
LINE_TOKEN = "ops:line_token_ok"
PROBE = "ops:ready_probe"
HEARTBEAT_EVERY = 5.0
CHECK_NAMES_JA = {"database": "データベースの書き込み", "schema": "スキーマ", "worker": "応答ワーカー",
                  "queue": "未応答のメッセージ", "outbox": "LINEへの送信", "line": "LINEのアクセストークン"}


def get_meta(storage: Any, key: str) -> str | None:
    rows = storage.rows("select value from meta where key = ?", [key])
    return rows[0]["value"] if rows else None


def put_meta(storage: Any, key: str, value: Any) -> None:
    with storage.write() as db:
        db.execute("insert into meta (key, value) values (?, ?)"
                   " on conflict(key) do update set value = excluded.value", [key, str(value)])


def settings(config: Any) -> dict[str, float]:
    return {
        "worker_stale": float(config.get("READY_WORKER_STALE", 30)),
        "max_event_age": float(config.get("READY_MAX_EVENT_AGE", 120)),
        "outbox_window": float(config.get("READY_OUTBOX_WINDOW", 600)),
    }


def readiness(storage: Any, config: Any, line_on: bool, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    limits = settings(config)
    checks: dict[str, dict[str, Any]] = {}
    try:
        put_meta(storage, PROBE, now)
        checks["database"] = {"ok": True}
    except sqlite3.Error as exc:
        checks["database"] = {"ok": False, "error": str(exc)[:200]}
    try:
        version, missing = current_version(storage.db), pending(storage.db)
        checks["schema"] = {"ok": not missing, "version": version, "expected": version + len(missing)}
        beat = get_meta(storage, HEARTBEAT)
        age = round(now - float(beat), 1) if beat else None
        checks["worker"] = {"ok": age is not None and age < limits["worker_stale"], "heartbeat_age": age}
        oldest = storage.rows("select min(received_at) as t from inbox"
                              " where status in ('pending', 'processing', 'delivering')")[0]["t"]
        age = round(now - oldest, 1) if oldest else 0.0
        checks["queue"] = {"ok": age < limits["max_event_age"], "oldest_unanswered_age": age}
        failed = storage.rows("select count(*) as n from outbox where status = 'failed' and created_at > ?",
                              [now - limits["outbox_window"]])[0]["n"]
        stuck = storage.rows("select count(*) as n from outbox where status in ('pending', 'sending')"
                             " and attempts > 0 and created_at < ?", [now - limits["max_event_age"]])[0]["n"]
        checks["outbox"] = {"ok": not failed and not stuck, "failed_recently": failed, "retrying_long": stuck}
        if line_on:
            token = get_meta(storage, LINE_TOKEN)
            checks["line"] = {"ok": token != "0", "token_accepted": None if token is None else token == "1"}
    except sqlite3.Error as exc:
        checks.setdefault("schema", {"ok": False, "error": str(exc)[:200]})
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}


def beat(storage: Any) -> None:
    """The worker's heartbeat (run by its loop every HEARTBEAT_EVERY seconds)."""
    try:
        put_meta(storage, HEARTBEAT, time.time())
    except sqlite3.Error as exc:
        logger.error("worker heartbeat not written: %s", exc)


def token_state(storage: Any, accepted: bool) -> None:
    """Remember, in the database, whether LINE accepted the token at the last call
    (``LineClient.on_token``: called only when it changes, by whichever process made the call)."""
    try:
        put_meta(storage, LINE_TOKEN, "1" if accepted else "0")
    except sqlite3.Error as exc:
        logger.error("LINE token state not written: %s", exc)
    if not accepted:
        logger.error("LINE refused the channel access token (401): check LINE_CHANNEL_ACCESS_TOKEN")


class ReadinessMonitor:
    """In the event worker: when readiness fails for ``after`` seconds in a row,
    one alert to the staff (and one when it is back). Several processes agree
    through ``meta`` (a compare-and-set inside a write transaction)."""

    SINCE = "ops:not_ready_since"
    ALERTED = "ops:not_ready_alerted"

    def __init__(self, check: Any, storage: Any, send: Any, after: float = 180.0, every: float = 15.0):
        self.check, self.storage, self.send = check, storage, send
        self.after, self.every = after, every
        self.last = time.time()  # the first look one period after start

    def __call__(self, now: float | None = None) -> str | None:
        now = time.time() if now is None else now
        if now - self.last < self.every:
            return None
        self.last = now
        try:
            result = self.check()
        except Exception:
            logger.exception("readiness check failed")
            return None
        failing = sorted(k for k, c in result["checks"].items() if not c["ok"])
        try:
            return self._step(now, failing)
        except sqlite3.Error as exc:  # a read-only database: say it in the log at least
            logger.error("not ready (%s); the alert state cannot be written: %s", ", ".join(failing), exc)
            return None

    def _step(self, now: float, failing: list[str]) -> str | None:
        with self.storage.write():
            since, alerted = get_meta(self.storage, self.SINCE), get_meta(self.storage, self.ALERTED)
            if failing:
                if not since:
                    put_meta(self.storage, self.SINCE, now)
                    return None
                if alerted or now - float(since) < self.after:
                    return None
                put_meta(self.storage, self.ALERTED, now)
                minutes = max(1, round((now - float(since)) / 60))
                names = "、".join(CHECK_NAMES_JA.get(k, k) for k in failing)
                text = f"【任売相談ボット】{minutes}分以上、正常に動いていません（{names}）。/readyz を確認してください。"
            else:
                if not since:
                    return None
                self.storage.db.execute("delete from meta where key in (?, ?)", [self.SINCE, self.ALERTED])
                if not alerted:
                    return None
                text = "【任売相談ボット】正常な状態に戻りました。"
        logger.warning("readiness alert sent: %s", "not ready" if failing else "ready again")
        self.send(text)
        return text
