"""Alerts: a conversation newly hot, or asking for a person.

Design:

* :meth:`Alerts.hook` is an ``Engine.hooks`` function, called after each
  event's transaction with ``(conversation_row, signals)``.
* ``crisis`` when the summary carries ``crisis`` (or the ``crisis`` signal);
  ``followup_due`` once per follow-up past due (:meth:`Alerts.raise_overdue`);
* ``hot_lead`` when the conversation's urgency is ``hot``; ``wants_human``
  when it waits for a person (status ``waiting``, or the signals ``handoff`` /
  ``lead``). The alerts row is inserted once per conversation and kind
  (``insert … where not exists`` inside a write transaction, so two workers
  cannot both insert it).
* The console shows unseen alerts at once (its inbox poll returns them; a
  badge and an optional sound).
* Outgoing notifications, in a background thread (never in the engine's way):
  a LINE push to each id in ``NINBAI_ALERT_LINE_USER_IDS`` (comma-separated)
  with a retry key derived from the alert id (a retried push is not doubled),
  and/or a POST of ``{"text": "…"}`` to ``NINBAI_ALERT_WEBHOOK_URL`` (Slack and
  Teams incoming webhooks both accept it), with a timeout. The text carries
  the urgency and a link only — no personal data. What went out is stored in
  ``alerts.notified``; failures are logged.
"""
from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

from bot.storage import Storage, dumps, loads, now_iso

logger = logging.getLogger(__name__)

KINDS = ("hot_lead", "wants_human", "crisis", "followup_due")
URGENCY_JA = {"hot": "高", "warm": "中", "cold": "低"}


HEADS = {
    "hot_lead": "【任売相談】緊急度の高い相談があります",
    "crisis": "【任売相談】危機の可能性がある相談です。すぐに対応してください",
    "followup_due": "【任売相談】約束した連絡の期限を過ぎています",
    "wants_human": "【任売相談】担当者との相談を希望しています",
}


def split_ids(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return [str(s).strip() for s in items if str(s).strip()]


def alert_text(kind: str, conv: dict[str, Any], link: str) -> str:
    urgency = URGENCY_JA.get(conv.get("urgency") or "", "未判定")
    return f"{HEADS.get(kind, HEADS['wants_human'])}（緊急度: {urgency}）\n{link}"


class Alerts:
    def __init__(self, storage: Storage, line: Any = None, *, line_user_ids: Any = None,
                 webhook_url: str | None = None, public_url: str | None = None,
                 timeout: float = 5.0):
        self.storage = storage
        self.line = line
        self.line_user_ids = split_ids(line_user_ids)
        self.webhook_url = (webhook_url or "").strip() or None
        if self.webhook_url and not self.webhook_url.startswith(("https://", "http://")):
            logger.error("NINBAI_ALERT_WEBHOOK_URL must be an http(s) URL; webhook alerts off")
            self.webhook_url = None
        self.public_url = (public_url or "").rstrip("/")
        self.timeout = timeout
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # -- detection --------------------------------------------------------
    @staticmethod
    def kinds_for(conv: dict[str, Any], signals: set[str]) -> list[str]:
        kinds = []
        if conv.get("status") == "closed":
            return kinds
        if "crisis" in signals or (loads(conv.get("summary"), {}) or {}).get("crisis"):
            kinds.append("crisis")
        if conv.get("urgency") == "hot":
            kinds.append("hot_lead")
        if conv.get("status") == "waiting" or signals & {"handoff", "lead"}:
            kinds.append("wants_human")
        return kinds

    def hook(self, conv: dict[str, Any], signals: set[str]) -> None:
        for kind in self.kinds_for(conv, set(signals or ())):
            alert_id = self.insert_once(conv["id"], kind)
            if alert_id:
                logger.info("alert %s for conversation %s", kind, conv["id"])
                # The hook may run inside the worker's batch transaction: notify
                # only once the alert row is committed (never if it rolls back).
                self.storage.after_commit(
                    lambda alert_id=alert_id, kind=kind: self.notify_async(alert_id, kind, conv))

    def insert_once(self, conv_id: int, kind: str) -> int | None:
        if self.storage.db.execute(
            "select 1 from alerts where conversation_id = ? and kind = ?", [conv_id, kind]
        ).fetchone():
            return None  # raised before: no write transaction needed
        with self.storage.write() as db:
            cur = db.execute(
                "insert into alerts (conversation_id, kind, created_at, notified)"
                " select ?, ?, ?, '{}' where not exists"
                " (select 1 from alerts where conversation_id = ? and kind = ?)",
                [conv_id, kind, now_iso(), conv_id, kind],
            )
            return cur.lastrowid if cur.rowcount == 1 else None

    def raise_overdue(self, now: Any = None) -> list[int]:
        """A follow-up past due raises the alert a hot lead raises (console badge,
        desktop notification, LINE / webhook), once per follow-up. Called by the
        console's polls and ``flask console followups``."""
        from bot.console.service import overdue_followups

        raised = []
        for f in overdue_followups(self.storage, now):
            with self.storage.write() as db:
                cur = db.execute("update followups set alerted_at = ? where id = ? and alerted_at is null",
                                 [now_iso(), f["id"]])
                if cur.rowcount != 1:
                    continue  # another poll raised it
                alert_id = db.execute(
                    "insert into alerts (conversation_id, kind, created_at, notified)"
                    " values (?, 'followup_due', ?, '{}')", [f["conversation_id"], now_iso()]).lastrowid
            raised.append(alert_id)
            conv = self.storage.conversation(f["conversation_id"])
            logger.info("alert followup_due for conversation %s", f["conversation_id"])
            self.notify_async(alert_id, "followup_due", conv)
        return raised

    # -- outgoing notifications ------------------------------------------------
    def link(self, conv_id: int) -> str:
        return f"{self.public_url}/console/c/{conv_id}"

    def notify_async(self, alert_id: int, kind: str, conv: dict[str, Any]) -> None:
        if not self.line_user_ids and not self.webhook_url:
            return
        t = threading.Thread(target=self.notify, args=(alert_id, kind, dict(conv)),
                             name=f"ninbai-alert-{alert_id}", daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
        t.start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the notifications in flight (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    def notify(self, alert_id: int, kind: str, conv: dict[str, Any]) -> dict[str, Any]:
        try:
            done = self.notify_staff(alert_text(kind, conv, self.link(conv["id"])), alert_id)
        except Exception:  # never let a notification thread die loudly
            logger.exception("alert %s notification failed", alert_id)
            done = {"error": True}
        try:
            self.storage.db.execute("update alerts set notified = ? where id = ?",
                                    [dumps(done), alert_id])
        finally:
            self.storage.close_thread_connection()
        return done

    def notify_staff(self, text: str, key: int | str) -> dict[str, Any]:
        """``text`` to the LINE ids and the webhook (an alert, or a notice about the service itself)."""
        done: dict[str, Any] = {}
        if self.line_user_ids:
            done["line"] = self._push_line(key, text)
        if self.webhook_url:
            done["webhook"] = self._post_webhook(text)
        return done

    def _push_line(self, alert_id: int | str, text: str) -> dict[str, bool]:
        results: dict[str, bool] = {}
        if self.line is None:
            logger.warning("NINBAI_ALERT_LINE_USER_IDS is set but the LINE channel is off")
            return results
        for to in self.line_user_ids:
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ninbai-alert:{alert_id}:{to}"))
            outcome = self.line.push(to, [{"type": "text", "text": text}], key)
            results[to[-4:]] = bool(outcome.ok)
            if not outcome.ok:
                logger.error("alert push failed (status=%s request_id=%s)", outcome.status,
                             outcome.request_id)
        return results

    def _post_webhook(self, text: str) -> int | None:
        body = json.dumps({"text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self.webhook_url, data=body, method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "ninbai-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            logger.error("alert webhook answered %s", exc.code)
            return exc.code
        except (urllib.error.URLError, OSError) as exc:
            logger.error("alert webhook failed: %s", type(exc).__name__)
            return None
