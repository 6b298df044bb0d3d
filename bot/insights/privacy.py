"""Retention (``flask data purge``) and a homeowner's own deletion request.

* :func:`purge` deletes conversations inactive for longer than the retention
  (with their messages, notes, alerts and outbox rows; old inbox rows too) in
  small transactions. ``funnel_events`` stay, with ``conversation_id`` set to
  NULL: the anonymous counts of the funnel do not change.
* :func:`delete_request_interceptor` is an engine interceptor (runs before the
  dialog): 「データを削除して」 → a confirmation with 削除する / やめる; on 削除する
  the contact's personal data and every message is deleted
  (:func:`forget_contact`) and the user is told it is done.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
import unicodedata
from typing import Any

from bot.storage import Storage, dumps, loads, now_iso
from dialogs.answer import Answer, QuickReply

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 365
BATCH = 500

DELETE_WORDS = re.compile(
    r"(データ|個人情報|情報|記録|履歴|連絡先|会話).{0,8}(削除|消して|消去|消してほしい|けして)|^削除して"
)
YES_WORDS = re.compile(r"^(削除する|削除します|はい|お願いします|消して)")
NO_WORDS = re.compile(r"^(やめる|やめます|いいえ|キャンセル|取り消し)")

#: The words, in content/service.yaml.
CONTENT_KEYS = {f"service.deletion.{k}" for k in ("ask", "done", "cancelled", "closed", "buttons")}
PENDING_KEY = "delete_confirm"


def _norm(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _latest_conversation(storage: Storage, contact_id: int) -> dict[str, Any] | None:
    rows = storage.rows(
        "select * from conversations where contact_id = ? order by (status = 'closed'), id desc limit 1",
        [contact_id],
    )
    return rows[0] if rows else None


def delete_request_interceptor(engine: Any, row: dict, inbound: dict, contact: dict) -> Any:
    """Engine interceptor: the data-deletion request and its confirmation."""
    kind = row["kind"]
    if kind not in ("text", "postback"):
        return None
    storage: Storage = engine.storage
    text = _norm(inbound.get("text"))
    data = inbound.get("data") or ""
    conv = _latest_conversation(storage, contact["id"])
    if conv is not None and conv["status"] == "operator":
        return None  # a person is answering: they handle it
    session = loads(conv["data"], {}) if conv else {}
    pending = bool(session.get(PENDING_KEY)) if conv else False

    if data in ("delete:yes", "delete:no") and not pending:
        if conv is None:
            return None
        engine._store_inbound(conv, contact, row, inbound)
        return conv, Answer().say(engine.content.text("service.deletion.closed"))
    if pending and not (kind == "text" and DELETE_WORDS.search(text)):
        yes = data == "delete:yes" or (kind == "text" and bool(YES_WORDS.search(text)))
        no = data == "delete:no" or (kind == "text" and bool(NO_WORDS.search(text)))
        if yes:
            forget_contact(storage, contact, current_event=row["id"])
            return storage.conversation(conv["id"]), Answer().say(engine.content.text("service.deletion.done"))
        session.pop(PENDING_KEY, None)
        storage.update_conversation(conv["id"], data=dumps(session))
        if no:
            engine._store_inbound(conv, contact, row, inbound)
            return storage.conversation(conv["id"]), Answer().say(
                engine.content.text("service.deletion.cancelled"))
        return None  # something else: the dialog answers it
    if kind == "text" and DELETE_WORDS.search(text):
        conv = storage.open_conversation(contact, engine.dialog.name)
        engine._store_inbound(conv, contact, row, inbound)
        session = loads(conv["data"], {})
        session[PENDING_KEY] = now_iso()
        storage.update_conversation(conv["id"], data=dumps(session))
        answer = Answer(quick_replies=[
            QuickReply(label=b["label"], data=b["data"], text=b["label"])
            for b in engine.content.get("service.deletion.buttons")
        ]).say(engine.content.text("service.deletion.ask"))
        return storage.conversation(conv["id"]), answer
    return None


def forget_contact(storage: Storage, contact: dict, current_event: int | None = None) -> dict[str, int]:
    """Delete a contact's personal data and messages (funnel counts stay).

    Clears the contact's display name and source, empties every conversation's
    data and summary (state back to the start, assessment columns reset),
    deletes their messages, staff notes, alerts, sent outbox rows and processed
    inbox rows. Runs inside the caller's transaction when there is one.
    """
    counts: dict[str, int] = {}
    user_key = f"{contact['channel']}:{contact['external_id']}"
    with storage.write() as db:
        conv_ids = [r[0] for r in db.execute("select id from conversations where contact_id = ?",
                                             [contact["id"]])]
        marks = ",".join("?" * len(conv_ids)) or "null"
        counts["messages"] = db.execute("delete from messages where contact_id = ?", [contact["id"]]).rowcount
        counts["notes"] = db.execute(f"delete from notes where conversation_id in ({marks})", conv_ids).rowcount
        counts["alerts"] = db.execute(f"delete from alerts where conversation_id in ({marks})", conv_ids).rowcount
        counts["outbox"] = db.execute(
            "delete from outbox where user_key = ? and status not in ('pending', 'sending')", [user_key]
        ).rowcount
        counts["inbox"] = db.execute(
            "delete from inbox where user_key = ? and status in ('done', 'failed') and id != ?",
            [user_key, current_event or -1],
        ).rowcount
        if current_event is not None:
            db.execute("update inbox set body = '{}' where id = ?", [current_event])
        db.execute(
            f"update conversations set data = '{{}}', summary = '{{}}', state = null, step = null,"
            f" urgency = null, lead_score = 0, kaisatsu = null, unread = 0,"
            f" status = case when status = 'waiting' then 'bot' else status end, updated_at = ?"
            f" where id in ({marks})",
            [now_iso(), *conv_ids],
        )
        db.execute("update contacts set display_name = null, source = null, updated_at = ? where id = ?",
                   [now_iso(), contact["id"]])
    try:
        from bot.audit import record

        record("data_delete", "contact", contact["id"], {"by": "homeowner", **counts}, storage=storage)
    except Exception:  # noqa: BLE001 — the trail must not undo the deletion
        logger.exception("audit of a deletion failed")
    logger.info("deleted the personal data of contact %s: %s", contact["id"], counts)
    return counts


def purge(storage: Storage, days: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete what has been inactive for more than ``days`` days; returns counts."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = (now - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
    totals = {"conversations": 0, "messages": 0, "notes": 0, "alerts": 0, "outbox": 0, "contacts": 0,
              "inbox": 0, "funnel_events_anonymized": 0}
    while True:
        with storage.write() as db:
            ids = [r[0] for r in db.execute(
                "select id from conversations where coalesce(updated_at, created_at) < ?"
                " and coalesce(last_user_at, '') < ? limit ?",
                [cutoff, cutoff, BATCH],
            )]
            if not ids:
                break
            marks = ",".join("?" * len(ids))
            totals["funnel_events_anonymized"] += db.execute(
                f"update funnel_events set conversation_id = null where conversation_id in ({marks})", ids
            ).rowcount
            totals["messages"] += db.execute(f"delete from messages where conversation_id in ({marks})", ids).rowcount
            totals["notes"] += db.execute(f"delete from notes where conversation_id in ({marks})", ids).rowcount
            totals["alerts"] += db.execute(f"delete from alerts where conversation_id in ({marks})", ids).rowcount
            totals["outbox"] += db.execute(f"delete from outbox where conversation_id in ({marks})", ids).rowcount
            totals["conversations"] += db.execute(f"delete from conversations where id in ({marks})", ids).rowcount
    with storage.write() as db:
        totals["contacts"] = db.execute(
            "delete from contacts where coalesce(updated_at, created_at, '') < ?"
            " and not exists (select 1 from conversations c where c.contact_id = contacts.id)"
            " and not exists (select 1 from messages m where m.contact_id = contacts.id)",
            [cutoff],
        ).rowcount
        totals["inbox"] = db.execute(
            "delete from inbox where received_at < ? and status in ('done', 'failed')",
            [time.time() - days * 86400],
        ).rowcount
    return totals
