"""A one-tap satisfaction question after a handed-off conversation is closed.

When a conversation that had a handoff is closed (by an operator, from the
console), :func:`sweep` — run after each console POST and by
``flask data feedback`` — sends once (``funnel_events`` step
``feedback_request``, unique per conversation) the question with quick replies
よかった / ふつう / よくなかった (postbacks ``feedback:good|ok|bad``): stored as a
bot message (the web chat shows it) and, on LINE, queued as a push in the
outbox (the worker's retry loop delivers it). The console may also call
:func:`request_feedback` directly right after closing.

The tap is the conversation's feedback step (:func:`dialogs.conversation.feedback_step`,
run by the engine before the dialog): recorded (:func:`record_feedback`) as step
``feedback`` with the value,
on the closed conversation, and thanked (no new conversation is opened for it).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from bot.insights.funnel import add_event
from dialogs import conversation

logger = logging.getLogger(__name__)

#: The words, in content/service.yaml.
CONTENT_KEYS = set(conversation.FEEDBACK_KEYS)
SWEEP_WINDOW = dt.timedelta(days=3)  # closes older than this get no question (first deploy)


def request_feedback(engine: Any, conv_id: int) -> bool:
    """Send the question for a closed, handed-off conversation (once). True when sent now."""
    storage = engine.storage
    with storage.write() as db:
        conv = storage.conversation(conv_id)
        if conv["status"] != "closed":
            return False
        had_handoff = db.execute(
            "select 1 from funnel_events where conversation_id = ? and step = 'handoff'", [conv_id]
        ).fetchone()
        if not had_handoff or not add_event(storage, conv, "feedback_request"):
            return False
        contact = storage.contact_by_id(conv["contact_id"])
        if contact.get("blocked"):
            return False
        engine.store_and_queue(conv, contact, conversation.feedback_question(engine.content))
    return True


def sweep(engine: Any, now: dt.datetime | None = None) -> int:
    """Ask every recently closed, handed-off conversation that was not asked yet."""
    now = now or dt.datetime.now(dt.UTC)
    since = (now - SWEEP_WINDOW).isoformat(timespec="milliseconds")
    ids = [r[0] for r in engine.storage.db.execute(
        "select f.conversation_id from funnel_events f where f.step = 'closed' and f.value = ''"
        " and f.created_at >= ? and f.conversation_id is not null"
        " and exists (select 1 from funnel_events h where h.conversation_id = f.conversation_id"
        "             and h.step = 'handoff')"
        " and not exists (select 1 from funnel_events r where r.conversation_id = f.conversation_id"
        "                 and r.step = 'feedback_request')",
        [since],
    )]
    sent = 0
    for conv_id in ids:
        try:
            sent += request_feedback(engine, conv_id)
        except Exception:  # noqa: BLE001 — one bad row must not stop the others
            logger.exception("feedback request failed for conversation %s", conv_id)
    return sent


def record_feedback(storage: Any, conv: dict, value: str) -> bool:
    """The homeowner's answer to the question, once per conversation (a second tap is
    not counted). True when recorded now."""
    answered = storage.db.execute(
        "select 1 from funnel_events where conversation_id = ? and step = 'feedback'", [conv["id"]]
    ).fetchone()
    return not answered and add_event(storage, conv, "feedback", value)
