"""The channel-neutral engine: one inbound event in, one answer stored and queued.

``Engine.process_batch(event_rows)`` applies events inside one SQLite write transaction:
contact → conversation → (the dialog, unless an operator owns the
conversation) → messages → outbox → the inbox row marked. A crash anywhere in
it rolls everything back and the event is processed again later, so nothing
is lost and nothing is doubled. Sending happens after the commit, from the
outbox (bot/delivery.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from typing import Any

from bot.delivery import SEND_LEASE_SECONDS, Delivery
from bot.insights.feedback import record_feedback
from bot.insights.privacy import forget_contact
from bot.storage import Storage, dumps, loads, now_iso
from dialogs import care, conversation
from dialogs.answer import Answer
from dialogs.base import JST, Dialog, DialogInput, Session

logger = logging.getLogger(__name__)

# Message kinds that carry something the user said or did.
USER_KINDS = {"text", "postback", "sticker", "image", "video", "audio", "file", "location"}


def today_jst() -> dt.date:
    return dt.datetime.now(JST).date()


def _latest_conversation(storage: Storage, contact_id: int) -> dict[str, Any] | None:
    """The contact's open conversation, else their latest closed one."""
    rows = storage.rows(
        "select * from conversations where contact_id = ? order by (status = 'closed'), id desc limit 1",
        [contact_id],
    )
    return rows[0] if rows else None


def _asked_feedback(storage: Storage, contact_id: int) -> dict[str, Any] | None:
    """The contact's latest conversation asked the satisfaction question."""
    rows = storage.rows(
        "select c.* from conversations c join funnel_events f on f.conversation_id = c.id"
        " and f.step = 'feedback_request' where c.contact_id = ? order by c.id desc limit 1",
        [contact_id],
    )
    return rows[0] if rows else None


class Engine:
    def __init__(
        self,
        storage: Storage,
        dialog: Dialog,
        renderer: Any = None,
        line: Any = None,
        reply_token_ttl: float = 50.0,
        today: Any = today_jst,
        content: Any = None,
    ):
        self.storage = storage
        self.dialog = dialog
        self.content = content  # bot.content.Content: the words of the conversation's own steps
        # Sends this thread queued in its last committed transaction: it delivers
        # them itself right away, without claiming them again (see deliver()).
        self._local = threading.local()
        self.renderer = renderer  # Answer -> LINE messages (bot/channels/line_render.py)
        self.line = line  # bot.channels.line_api.LineClient or None
        self.reply_token_ttl = reply_token_ttl
        self.delivery = Delivery(storage, line, renderer, reply_token_ttl)
        self.today = today
        self.now: Any = lambda: dt.datetime.now(JST)  # the JST time handed to the dialog
        # After-commit hooks: callables(conversation_row, signals) — alerts, funnels.
        self.hooks: list[Any] = []
        # In-transaction answer filters: callables(conversation_row, result) that
        # may add to result.answer (e.g. the out-of-hours note on a handoff).
        self.answer_filters: list[Any] = []

    # -- processing --------------------------------------------------------
    def process_batch(self, rows: list[dict[str, Any]]) -> list[tuple[dict, list[int], Exception | None]]:
        """Apply several claimed events (of different users) in one write transaction.

        The group commit of the worker's batch loop: under load, the events
        that queued up while the previous batch was handled share one
        transaction instead of taking the write lock one by one. Each event is
        a savepoint of its own: one that fails is rolled back alone and
        returned with its exception (the caller gives it back to the inbox).
        The dialog steps run before the lock (see :meth:`_preview`), and the
        hooks (funnel, alerts) run at the end of the same transaction, each in
        a savepoint. Returns ``(row, send ids to deliver, error)`` per event.
        """
        prepared = []
        for row in rows:
            inbound, external_id = self._inbound(row)
            try:
                preview = self._preview(row, inbound, row["channel"], external_id)
            except Exception:  # the step runs again in the transaction, and fails there
                preview = None
            prepared.append((row, inbound, external_id, preview))
        results: list[tuple[dict, list[int], Exception | None]] = []
        hook_runs: list[tuple[int, set[str]]] = []
        with self.storage.write():
            for row, inbound, external_id, preview in prepared:
                self._local.queued = []
                try:
                    with self.storage.savepoint("event"):
                        conv, signals = self._apply(row, inbound, row["channel"], external_id, preview)
                except Exception as exc:
                    results.append((row, [], exc))
                    continue
                results.append((row, list(self._local.queued), None))
                if conv is not None:
                    hook_runs.append((conv["id"], signals))
            for conv_id, signals in hook_runs:
                self._run_hooks(conv_id, signals, savepoints=True)
        self._local.queued = []
        return results

    def _inbound(self, row: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The event as stored and its user's id; a LINE follow gets the user's
        display name, for the operators (an API call: outside the transaction)."""
        inbound = loads(row["body"], {})
        external_id = row["user_key"].split(":", 1)[1]
        if row["kind"] == "follow" and row["channel"] == "line" and self.line is not None:
            inbound["display_name"] = self.line.profile_name(external_id)
        return inbound, external_id

    def _run_hooks(self, conv_id: int, signals: set[str], savepoints: bool = False) -> None:
        """After the event's writes: alerts, funnel steps. A hook never breaks processing.

        ``savepoints``: inside a batch transaction, each hook's writes are a
        savepoint, undone alone when the hook fails.
        """
        if not self.hooks:
            return
        conv = self.storage.conversation(conv_id)  # as written, read once for all hooks
        for hook in self.hooks:
            try:
                if savepoints:
                    with self.storage.savepoint("hook"):
                        hook(conv, signals)
                else:
                    hook(conv, signals)
            except Exception:
                logger.exception("conversation hook failed")

    def _apply(self, row: dict, inbound: dict, channel: str, external_id: str,
               preview: tuple | None) -> tuple[dict | None, set[str]]:
        """The writes of one event (inside the transaction).

        Returns the conversation whose hooks should run (None: no hooks) and
        the dialog's signals.
        """
        kind = row["kind"]
        contact = self.storage.ensure_contact(channel, external_id)
        if kind == "unfollow":
            self.storage.update_contact(contact["id"], blocked=1, followed=0)
            dropped = self.storage.drop_pending_sends(row["user_key"], "unfollowed")
            if dropped:
                logger.info("dropped %d pending sends after unfollow", dropped)
            self.storage.set_event_status(row["id"], "done")
            return None, set()
        refollow = False
        if kind == "follow":
            refollow = bool(contact["blocked"]) or bool(inbound.get("is_unblocked"))
            fields: dict[str, Any] = {"followed": 1, "blocked": 0}
            if inbound.get("display_name"):
                fields["display_name"] = inbound["display_name"]
            self.storage.update_contact(contact["id"], **fields)
        if kind == "start" and inbound.get("source") and not contact["source"]:
            self.storage.update_contact(contact["id"], source=dumps(inbound["source"]))
        if kind in ("text", "postback") and self.content is not None and self._before_dialog(row, inbound, contact):
            return None, set()
        conv = self.storage.open_conversation(contact, self.dialog.name)
        self.store_inbound(conv, contact, row, inbound)

        if inbound.get("mode") == "standby" or kind == "unknown":
            # Stored for the record; another channel module is active, or
            # we cannot read this event: never answer.
            self.storage.set_event_status(row["id"], "done")
            return None, set()

        user_spoke = kind in USER_KINDS
        if not conversation.bot_answers(conv["status"]):
            # An operator owns the conversation: the bot stays quiet.
            if user_spoke:
                self.storage.update_conversation(
                    conv["id"], unread=(conv["unread"] or 0) + 1, last_user_at=now_iso()
                )
                conv = self.storage.conversation(conv["id"])
            if kind == "text" and care.level(inbound.get("text") or "") == "crisis":
                # ... except for words of despair: the hotlines at once (the operator may be
                # away from the screen) and the staff alerted at the highest urgency
                return self._care_while_owned(conv, contact, row, inbound, refollow)
            self.storage.set_event_status(row["id"], "done")
            return conv, set()

        if kind == "start" and conv["state"] is not None:
            # The web chat page was opened again: nothing to say.
            self.storage.set_event_status(row["id"], "done")
            return None, set()

        if preview is not None and preview[:2] == (conv["id"], conv["version"]):
            session, result = preview[2], preview[3]
        else:  # the conversation changed since the preview (or there was none)
            session = Session(conv["state"], loads(conv["data"], {}))
            result = self.dialog.step(session, self._dialog_input(row, inbound, contact, refollow))
        for answer_filter in self.answer_filters:
            answer_filter(conv, result)
        self._save_conversation(conv, session, result, user_spoke)
        queued = bool(result.answer.messages) and self.store_and_queue(
            conv, contact, result.answer, row, own=True)
        self.storage.set_event_status(row["id"], "delivering" if queued else "done")
        return conv, set(result.signals)

    def _care_while_owned(self, conv: dict, contact: dict, row: dict, inbound: dict,
                          refollow: bool) -> tuple[dict, set[str]]:
        """Words of despair while an operator owns the conversation: the dialog's care reply
        (hotlines, a person; the dialog's state unchanged), without its buttons (the bot does not
        answer them while the operator does), the summary marked ``crisis`` and urgency ``hot``,
        and the ``crisis`` signal, which raises the crisis alert."""
        session = Session(conv["state"], loads(conv["data"], {}))
        result = self.dialog.step(session, self._dialog_input(row, inbound, contact, refollow))
        result.answer.quick_replies = []
        self._save_conversation(conv, session, result, False)
        queued = bool(result.answer.messages) and self.store_and_queue(
            conv, contact, result.answer, row, own=True)
        self.storage.set_event_status(row["id"], "delivering" if queued else "done")
        return conv, set(result.signals)

    def _before_dialog(self, row: dict, inbound: dict, contact: dict) -> bool:
        """The conversation's own steps before the dialog (:mod:`dialogs.conversation`):
        a tap on the satisfaction question, a data-deletion request and its
        confirmation. True when one took the event (its answer is stored and queued)."""
        kind, data = row["kind"], inbound.get("data")
        step = None
        value = conversation.feedback_tap(kind, data)
        if value is not None:
            conv = _asked_feedback(self.storage, contact["id"])
            step = conversation.feedback_step(self.content, value, asked=conv is not None)
        if step is None:
            conv = _latest_conversation(self.storage, contact["id"])
            step = conversation.deletion_step(
                self.content, kind, inbound.get("text"), data, status=conv["status"] if conv else None,
                pending=conv is not None and conversation.DELETE_PENDING in loads(conv["data"], {}))
        if step is None:
            return False
        if step.action in ("cancel", "drop"):  # the confirmation is over
            self._deletion_pending(conv, None)
            if step.action == "drop":
                return False  # something else: the dialog answers it
        if step.action == "forget":
            forget_contact(self.storage, contact, current_event=row["id"])
        else:
            if step.action == "ask":
                conv = self.storage.open_conversation(contact, self.dialog.name)
                self._deletion_pending(conv, now_iso())
            self.store_inbound(conv, contact, row, inbound)
        if step.action == "feedback" and step.value:
            record_feedback(self.storage, conv, step.value)
        conv = self.storage.conversation(conv["id"])
        queued = self.store_and_queue(conv, contact, step.answer, row, own=True)
        self.storage.set_event_status(row["id"], "delivering" if queued else "done")
        return True

    def _deletion_pending(self, conv: dict, since: str | None) -> None:
        """Mark (or clear) a deletion waiting for its confirmation in the session data,
        with a new version: a dialog step foreseen on the old data is not used."""
        session = loads(conv["data"], {})
        if since is None:
            session.pop(conversation.DELETE_PENDING, None)
        else:
            session[conversation.DELETE_PENDING] = since
        self.storage.update_conversation(conv["id"], data=dumps(session), version=(conv["version"] or 0) + 1)

    def _dialog_input(self, row: dict, inbound: dict, contact: dict, refollow: bool) -> DialogInput:
        kind = row["kind"]
        return DialogInput(
            kind="refollow" if refollow else ("follow" if kind in ("follow", "start") else kind),
            today=self.today(),
            now=self.now(),
            channel=row["channel"],
            text=inbound.get("text"),
            data=inbound.get("data"),
            params=inbound.get("params"),
            display_name=contact.get("display_name"),
        )

    def _preview(self, row: dict, inbound: dict, channel: str, external_id: str) -> tuple | None:
        """Run the dialog step before taking the write lock.

        The step is pure, and a user's events are handled one at a time, so the
        transaction can use this result when the conversation row is still the
        same (same id and version); the lock is then held only for the writes,
        not for the dialog. None when the step will not run or cannot be
        foreseen (first event of a contact, an operator owns it, ...).
        """
        kind = row["kind"]
        if inbound.get("mode") == "standby" or kind not in USER_KINDS | {"follow", "start"}:
            return None
        contact = self.storage.get_contact(channel, external_id)
        if contact is None:
            return None
        conv = self.storage.current_conversation(contact["id"])
        if conv is None or not conversation.bot_answers(conv["status"]) or (kind == "start" and conv["state"] is not None):
            return None
        refollow = kind == "follow" and (bool(contact["blocked"]) or bool(inbound.get("is_unblocked")))
        session = Session(conv["state"], loads(conv["data"], {}))
        result = self.dialog.step(session, self._dialog_input(row, inbound, contact, refollow))
        return conv["id"], conv["version"], session, result

    def store_inbound(self, conv: dict, contact: dict, row: dict, inbound: dict) -> None:
        """Store what the user said or did (an inbox row) as a message of ``conv``."""
        kind = row["kind"]
        if kind in ("start",):
            return
        text = inbound.get("text")
        if kind == "postback":
            label_for = getattr(self.dialog, "label_for", None)
            text = inbound.get("display_text") or (label_for(inbound.get("data") or "") if label_for else None)
            if text is None and inbound.get("params"):
                text = " ".join(str(v) for v in inbound["params"].values())
        elif kind == "follow":
            text = None
        # What the text does not say (the inbox row keeps the whole event for a while)
        payload = {k: inbound[k] for k in ("data", "params", "sticker", "location", "file_name", "is_unblocked")
                   if inbound.get(k)}
        if kind in USER_KINDS - {"text", "postback"} and inbound.get("message_id"):
            payload["message_id"] = inbound["message_id"]  # LINE's content API fetches the media by it
        if inbound.get("mode") == "standby" or kind == "unknown":
            payload.update(mode=inbound.get("mode"), line_type=inbound.get("line_type"), raw=inbound.get("raw"))
        self.storage.add_message(
            conv["id"], contact["id"], "in", "user", kind, text, payload or None, event_id=row["event_id"]
        )

    def _save_conversation(self, conv: dict, session: Session, result: Any, user_spoke: bool) -> None:
        summary = loads(conv["summary"], {})
        summary.update(result.summary or {})
        fields: dict[str, Any] = {
            "state": session.state,
            "data": dumps(session.data),
            "summary": dumps(summary),
            "version": (conv["version"] or 0) + 1,
        }
        for key in ("urgency", "kaisatsu", "step"):
            if summary.get(key) is not None:
                fields[key] = summary[key]
        if summary.get("lead_score") is not None:
            fields["lead_score"] = int(summary["lead_score"])
        if "handoff" in result.signals:  # the homeowner asked for a person: bot → waiting
            fields.update(conversation.decide("handoff", conv["status"], conv["owner_id"]).fields)
        if user_spoke:
            fields["last_user_at"] = now_iso()
            if conv["status"] in ("waiting",) or fields.get("status") == "waiting":
                fields["unread"] = (conv["unread"] or 0) + 1
        self.storage.update_conversation(conv["id"], **fields)

    def store_and_queue(self, conv: dict, contact: dict, answer: Answer, row: dict | None = None,
                        own: bool = False) -> bool:
        """Store the bot's answer; on LINE, queue it in the outbox. True when queued.

        ``row``: the inbox event answered (its reply token); None: a push (a
        hand-back, the satisfaction question).
        ``own``: the calling worker thread sends it right after the commit, so
        the row is queued already leased to it ('sending', with the method its
        reply token allows); anything else is queued 'pending' for any sender.
        """
        answer_dict = answer.to_dict()
        self.storage.add_message(
            conv["id"], contact["id"], "out", "bot", "answer", answer.plain_text(), answer_dict
        )
        return self._queue(conv, contact, answer_dict, row, own)

    def _queue(self, conv: dict, contact: dict, answer_dict: dict, row: dict | None, own: bool = False) -> bool:
        """Queue an answer (as a dict) for LINE in the outbox; the web chat reads the stored message."""
        if conv["channel"] != "line" or self.renderer is None:
            return False
        if row is None:
            row = {"id": None, "user_key": f"line:{contact['external_id']}", "reply_token": None,
                   "received_at": None}
        # The outbox keeps the channel-neutral answer; it is rendered into LINE
        # messages when sent (the renderer is deterministic), so a message is
        # turned into SDK models once, not built, dumped and parsed again.
        messages = {"answer": answer_dict}
        lease: dict[str, Any] = {}
        if own:
            fresh = bool(row["reply_token"]) and (
                time.time() - (row["received_at"] or 0) < self.reply_token_ttl)
            lease = {"status": "sending", "method": "reply" if fresh else "push",
                     "next_attempt_at": time.time() + SEND_LEASE_SECONDS}
        send_id = self.storage.enqueue_send(
            **lease,
            inbox_id=row["id"],
            conversation_id=conv["id"],
            channel="line",
            external_id=contact["external_id"],
            user_key=row["user_key"],
            messages=dumps(messages),
            reply_token=row["reply_token"],
            received_at=row["received_at"],
            retry_key=str(uuid.uuid4()),
        )
        if own:
            self._local.queued.append(send_id)
        return True

    def system_input(self, conv_id: int, kind: str) -> bool:
        """Run the dialog on a synthetic input (e.g. "handback") and send its answer.

        There is no reply token: on LINE the answer goes out as a push.
        Returns True when something was queued for LINE.
        """
        signals: set[str] = set()
        with self.storage.write():
            conv = self.storage.conversation(conv_id)
            contact = self.storage.contact_by_id(conv["contact_id"])
            session = Session(conv["state"], loads(conv["data"], {}))
            inp = DialogInput(kind=kind, today=self.today(), now=self.now(), channel=conv["channel"],
                              display_name=contact.get("display_name"))
            result = self.dialog.step(session, inp)
            signals = set(result.signals)
            self._save_conversation(conv, session, result, user_spoke=False)
            queued = bool(result.answer.messages) and self.store_and_queue(conv, contact, result.answer)
        self._run_hooks(conv_id, signals)
        if queued:
            self.deliver(f"line:{contact['external_id']}")
        return queued

    def queue_operator_message(self, conv: dict, answer: Answer, operator_id: int | None) -> int:
        """Store an operator's message (their text, shown with their name) and, on
        LINE, queue it as a push: an answer in the outbox like the bot's, rendered
        when sent. Returns the message id."""
        contact = self.storage.contact_by_id(conv["contact_id"])
        with self.storage.write():
            msg_id = self.storage.add_message(
                conv["id"], contact["id"], "out", "operator", "text", answer.plain_text(), None,
                operator_id=operator_id,
            )
            self._queue(conv, contact, answer.to_dict(), None)
        return msg_id

    def deliver(self, user_key: str, owned: set[int] | None = None) -> bool:
        """Send a user's queued LINE answers now (bot/delivery.py)."""
        return self.delivery.deliver(user_key, owned)
