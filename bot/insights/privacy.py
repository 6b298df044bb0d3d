"""Retention (``flask data purge``) and a homeowner's own deletion request.

* :func:`purge` deletes conversations inactive for longer than the retention
  (with their messages, notes, alerts and outbox rows; old inbox rows too) in
  small transactions. ``funnel_events`` stay, with ``conversation_id`` set to
  NULL: the anonymous counts of the funnel do not change.
* :func:`forget_contact` erases a contact's personal data and messages: the
  conversation's deletion step (:func:`dialogs.conversation.deletion_step`:
  「データを削除して」 → 削除する / やめる) runs it when the homeowner confirms.
"""
from __future__ import annotations

import datetime as dt
import logging
import time

from bot import audit
from bot.storage import Storage, now_iso
from dialogs import conversation

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 365
BATCH = 500

#: The words, in content/service.yaml.
CONTENT_KEYS = set(conversation.DELETION_KEYS)


def forget_contact(storage: Storage, contact: dict, current_event: int | None = None) -> dict[str, int]:
    """Delete a contact's personal data and messages (funnel counts stay).

    Clears the contact's display name and source, empties every conversation's
    data and summary (state back to the start, assessment columns reset; one
    waiting for a person goes back to the bot: the status machine's
    ``withdraw``), deletes their messages, staff notes, alerts, sent outbox rows and processed
    inbox rows. Runs inside the caller's transaction when there is one.
    """
    counts: dict[str, int] = {}
    user_key = f"{contact['channel']}:{contact['external_id']}"
    with storage.write() as db:
        convs = db.execute("select id, status, owner_id from conversations where contact_id = ?",
                           [contact["id"]]).fetchall()
        conv_ids = [c[0] for c in convs]
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
            f" urgency = null, lead_score = 0, kaisatsu = null, unread = 0, updated_at = ?"
            f" where id in ({marks})",
            [now_iso(), *conv_ids],
        )
        for conv_id, status, owner_id in convs:
            change = conversation.decide("withdraw", status, owner_id)
            if change.changed:
                db.execute("update conversations set status = ? where id = ? and status = ?",
                           [change.fields["status"], conv_id, status])
        db.execute("update contacts set display_name = null, source = null, updated_at = ? where id = ?",
                   [now_iso(), contact["id"]])
    audit.record("data_delete", "contact", contact["id"], {"by": "homeowner", **counts}, storage=storage)
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
