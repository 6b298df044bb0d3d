"""The channel-neutral engine: one inbound event in, one answer stored and queued.

``Engine.process_batch(event_rows)`` applies events inside one SQLite write transaction:
contact → conversation → (the dialog, unless an operator owns the
conversation) → messages → outbox → the inbox row marked. A crash anywhere in
it rolls everything back and the event is processed again later, so nothing
is lost and nothing is doubled. Sending happens after the commit
(:meth:`Engine.deliver`), from the outbox.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from typing import Any

from bot.storage import Storage, dumps, loads, now_iso
from dialogs.answer import Answer
from dialogs.base import JST, Dialog, DialogInput, Session

logger = logging.getLogger(__name__)

# LINE: a reply token is valid for one minute after the webhook.
REPLY_TOKEN_LIFETIME = 60.0
# A send in flight is its sender's for this long (the retry thread keeps off).
SEND_LEASE_SECONDS = 60.0
# Message kinds that carry something the user said or did.
USER_KINDS = {"text", "postback", "sticker", "image", "video", "audio", "file", "location"}


def today_jst() -> dt.date:
    return dt.datetime.now(JST).date()


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
        self.content = content  # bot.content.Content, for the words of interceptors
        # Sends this thread queued in its last committed transaction: it delivers
        # them itself right away, without claiming them again (see deliver()).
        self._local = threading.local()
        self.renderer = renderer  # Answer -> list of LINE message models
        self.line = line  # bot.channels.line_api.LineClient or None
        self.reply_token_ttl = reply_token_ttl
        self.today = today
        self.now: Any = lambda: dt.datetime.now(JST)  # the JST time handed to the dialog
        # After-commit hooks: callables(conversation_row, signals) — alerts, funnels.
        self.hooks: list[Any] = []
        # In-transaction answer filters: callables(conversation_row, result) that
        # may add to result.answer (e.g. the out-of-hours note on a handoff).
        self.answer_filters: list[Any] = []
        # Pre-dialog interceptors: callables(engine, row, inbound, contact) run in the
        # transaction before the conversation is opened; one may take the event
        # (data deletion request, a feedback button) by returning
        # (conversation_row, Answer) — it stores what it needs, the engine stores
        # and queues the answer. None lets the dialog run. See bot/insights/privacy.py.
        self.interceptors: list[Any] = []

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
        for intercept in self.interceptors:
            taken = intercept(self, row, inbound, contact)
            if taken is not None:
                conv, answer = taken
                queued = bool(answer.messages) and self._store_and_queue(conv, contact, row, answer, own=True)
                self.storage.set_event_status(row["id"], "delivering" if queued else "done")
                return None, set()
        conv = self.storage.open_conversation(contact, self.dialog.name)
        self._store_inbound(conv, contact, row, inbound)

        if inbound.get("mode") == "standby" or kind == "unknown":
            # Stored for the record; another channel module is active, or
            # we cannot read this event: never answer.
            self.storage.set_event_status(row["id"], "done")
            return None, set()

        user_spoke = kind in USER_KINDS
        if conv["status"] == "operator":
            # An operator owns the conversation: the bot stays quiet.
            if user_spoke:
                self.storage.update_conversation(
                    conv["id"], unread=(conv["unread"] or 0) + 1, last_user_at=now_iso()
                )
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
        queued = bool(result.answer.messages) and self._store_and_queue(
            conv, contact, row, result.answer, own=True)
        self.storage.set_event_status(row["id"], "delivering" if queued else "done")
        return conv, set(result.signals)

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
        if conv is None or conv["status"] == "operator" or (kind == "start" and conv["state"] is not None):
            return None
        refollow = kind == "follow" and (bool(contact["blocked"]) or bool(inbound.get("is_unblocked")))
        session = Session(conv["state"], loads(conv["data"], {}))
        result = self.dialog.step(session, self._dialog_input(row, inbound, contact, refollow))
        return conv["id"], conv["version"], session, result

    def _store_inbound(self, conv: dict, contact: dict, row: dict, inbound: dict) -> None:
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
        if "handoff" in result.signals and conv["status"] == "bot":
            fields["status"] = "waiting"
        if user_spoke:
            fields["last_user_at"] = now_iso()
            if conv["status"] in ("waiting",) or fields.get("status") == "waiting":
                fields["unread"] = (conv["unread"] or 0) + 1
        self.storage.update_conversation(conv["id"], **fields)

    def _store_and_queue(self, conv: dict, contact: dict, row: dict, answer: Answer,
                         own: bool = False) -> bool:
        """Store the bot's answer; on LINE, queue it in the outbox.

        ``own``: the calling worker thread sends it right after the commit, so
        the row is queued already leased to it ('sending', with the method its
        reply token allows); anything else is queued 'pending' for any sender.
        """
        answer_dict = answer.to_dict()
        self.storage.add_message(
            conv["id"], contact["id"], "out", "bot", "answer", answer.plain_text(), answer_dict
        )
        if conv["channel"] != "line":
            return False  # the web chat reads the stored message
        if self.renderer is None:
            return False
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
            queued = False
            if result.answer.messages:
                row = {"id": None, "user_key": f"{conv['channel']}:{contact['external_id']}",
                       "reply_token": None, "received_at": None}
                queued = self._store_and_queue(conv, contact, row, result.answer)
        self._run_hooks(conv_id, signals)
        if queued:
            self.deliver(f"line:{contact['external_id']}")
        return queued

    def queue_operator_message(
        self, conv: dict, text: str, operator_id: int | None, messages: list[dict] | None
    ) -> int:
        """Store an operator's message and queue it as a LINE push (with a retry key)."""
        contact = self.storage.contact_by_id(conv["contact_id"])
        with self.storage.write():
            msg_id = self.storage.add_message(
                conv["id"], contact["id"], "out", "operator", "text", text, None,
                operator_id=operator_id,
            )
            if conv["channel"] == "line" and messages is not None:
                self.storage.enqueue_send(
                    conversation_id=conv["id"],
                    channel="line",
                    external_id=contact["external_id"],
                    user_key=f"line:{contact['external_id']}",
                    messages=dumps(messages),
                    reply_token=None,
                    received_at=None,
                    retry_key=str(uuid.uuid4()),
                )
        return msg_id

    # -- delivery ----------------------------------------------------------
    def deliver(self, user_key: str, owned: set[int] | None = None) -> bool:
        """Send a user's queued LINE messages in order; stop at the first failure.

        A fresh reply token is used once; a used, expired or failed one falls
        back to a push carrying the row's X-Line-Retry-Key, so a retried push
        is delivered once. Returns True when nothing is left pending.
        ``owned``: send ids queued already leased to the caller (by default,
        the ones this thread's last :meth:`process` queued).
        """
        if self.line is None:
            return True
        if owned is None:
            owned = getattr(self._local, "owned", set())
        for send in self.storage.pending_sends_for(user_key):
            mine = send["id"] in owned
            owned.discard(send["id"])
            if not mine and send["next_attempt_at"] and send["next_attempt_at"] > time.time():
                return False  # in flight elsewhere, or waiting for its next try
            contact = self.storage.get_contact(send["channel"], send["external_id"])
            if contact and contact["blocked"]:
                self._finish(send, status="dropped", last_error="blocked")
                continue
            if not self._deliver_one(send, mine):
                return False
        return True

    def _deliver_one(self, send: dict, mine: bool = False) -> bool:
        """Send one queued answer: reply while the token is fresh, else push.

        ``method`` records what was tried, so that after a crash mid-send we
        know: a reply retried with a still-fresh token that LINE now calls
        invalid was used by our own earlier try (delivered); a push is retried
        with the same ``X-Line-Retry-Key`` and LINE drops the duplicate.
        """
        stored = loads(send["messages"], [])
        messages = (self.renderer(Answer.from_dict(stored["answer"])) if isinstance(stored, dict)
                    else stored)
        attempts = (send["attempts"] or 0) + 1
        age = time.time() - (send["received_at"] or 0)
        # A reply that was tried before (a crash cut it off) may have used the token.
        retried = send["method"] == "reply" and not mine
        # A first reply needs a token with time to spare; a reply cut off by a
        # crash is retried while LINE could still know the token (one minute).
        fresh = bool(send["reply_token"]) and age < (
            REPLY_TOKEN_LIFETIME if retried else self.reply_token_ttl
        )
        use_reply = fresh and send["method"] in (None, "reply")
        method = "reply" if use_reply else "push"
        if not mine:
            if not self.storage.claim_send(send, method):
                return False  # another sender has it
        elif send["method"] != method:
            # Queued to reply, but the token grew too old while it waited: the row says
            # so before the push, or after a crash the token would be tried as well.
            self.storage.update_send(send["id"], method=method)
        if use_reply:
            outcome = self.line.reply(send["reply_token"], messages)
            if outcome.ok or (retried and outcome.status == 400):
                self._finish(send, status="sent", method="reply", request_id=outcome.request_id,
                             attempts=attempts, sent_at=time.time())
                return True
            if (outcome.status is None or outcome.status >= 500) and age < REPLY_TOKEN_LIFETIME - 5:
                # Its fate is unknown (a timeout, a dropped connection, LINE's 5xx): LINE may
                # have delivered it. The same token is tried again soon; once used, it answers 400.
                self.storage.update_send(send["id"], status="pending", method="reply", attempts=attempts,
                                         next_attempt_at=time.time() + 1.0, last_error=outcome.error,
                                         request_id=outcome.request_id)
                logger.info("reply's fate unknown (status=%s): trying the same token again", outcome.status)
                return False
            logger.info("reply failed (status=%s), falling back to push", outcome.status)
            self.storage.update_send(send["id"], method="push")
        elif send["method"] == "reply":
            logger.warning("a reply was cut off and its token expired: pushing (may repeat it)")
        outcome = self.line.push(send["external_id"], messages, send["retry_key"])
        if outcome.ok:
            self._finish(send, status="sent", method="push", request_id=outcome.request_id,
                         attempts=attempts, sent_at=time.time())
            return True
        if outcome.retryable:
            delay = min(300.0, 2.0 ** min(attempts, 8))
            self.storage.update_send(
                send["id"], status="pending", method="push", attempts=attempts,
                next_attempt_at=time.time() + delay, last_error=outcome.error,
                request_id=outcome.request_id,
            )
            logger.warning("push to LINE failed (status=%s), next try in %.0fs", outcome.status, delay)
            return False
        self._finish(send, status="failed", attempts=attempts, last_error=outcome.error,
                     request_id=outcome.request_id)
        logger.error("push to LINE rejected (status=%s request_id=%s)", outcome.status, outcome.request_id)
        return True

    def defer_finishes(self, sink: Any) -> None:
        """In this thread, hand a send's last word to ``sink(send_id, inbox_id, fields)``
        instead of writing it at once (the worker's batch thread writes them
        together, with its next claim; see bot/worker.py). None: write at once."""
        self._local.finish_sink = sink

    def _finish(self, send: dict, **fields: Any) -> None:
        """A send's last word (sent, dropped, failed) and, in the same transaction,
        its event's: answered, so that the user's next event may go."""
        if fields.get("status") in ("sent", "dropped"):
            fields["messages"] = None  # the answer stays in `messages`; no second copy
        sink = getattr(self._local, "finish_sink", None)
        if sink is not None:
            sink(send["id"], send["inbox_id"], fields)
            return
        with self.storage.write():
            self.storage.update_send(send["id"], **fields)
            if send["inbox_id"]:
                self.storage.finish_delivering(send["inbox_id"])
