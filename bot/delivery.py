"""Delivery: the outbox's answers to LINE, each user's in order, each said once.

An answer is sent by reply while its token is fresh, else by push with the
row's ``X-Line-Retry-Key`` (LINE delivers a retried push once). The row says
how it was tried (``method``) before the call, so that after a crash mid-send
we know: a reply retried with a still-fresh token that LINE now calls invalid
(400) was used by our own earlier try — delivered; a push is retried with the
same key. A reply whose fate is unknown (a timeout, a dropped connection, a
5xx) is tried again with the same token, never pushed (that would say it
twice). A push that LINE refused for a passing reason after the client's own
retries (bot/channels/line_api.py) waits in the outbox for a later try.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from bot.ops import metrics
from bot.storage import Storage, loads
from dialogs.answer import Answer

logger = logging.getLogger(__name__)

# LINE: a reply token is valid for one minute after the webhook.
REPLY_TOKEN_LIFETIME = 60.0
# A send in flight is its sender's for this long (other senders keep off).
SEND_LEASE_SECONDS = 60.0


class Delivery:
    def __init__(self, storage: Storage, line: Any, renderer: Any, reply_token_ttl: float = 50.0):
        self.storage = storage
        self.line = line  # bot.channels.line_api.LineClient or None (no LINE channel)
        self.renderer = renderer  # Answer -> LINE message models
        self.reply_token_ttl = reply_token_ttl

    def deliver(self, user_key: str, owned: set[int] | None = None, finished: list | None = None) -> bool:
        """Send a user's queued LINE messages in order; stop at the first that cannot go.

        ``owned``: send ids queued already leased to the caller (the worker's
        own answers, see Engine._store_and_queue). ``finished``: a list that
        collects the sends' last words instead of writing each in a transaction
        of its own; the caller writes them with :meth:`write_finished` (the
        worker: once per batch). Returns True when nothing is left pending.
        """
        if self.line is None:
            return True
        owned = set(owned or ())
        for send in self.storage.pending_sends_for(user_key):
            mine = send["id"] in owned
            if not mine and send["next_attempt_at"] and send["next_attempt_at"] > time.time():
                return False  # in flight elsewhere, or waiting for its next try
            contact = self.storage.get_contact(send["channel"], send["external_id"])
            if contact and contact["blocked"]:
                self._finish(send, finished, status="dropped", last_error="blocked")
                continue
            if not self._send(send, mine, finished):
                return False
        return True

    def retry_due(self) -> None:
        """Deliver what waits for a later try (LINE failed, or a crash cut a send off)."""
        for user_key in self.storage.users_with_due_sends(time.time()):
            self.deliver(user_key)

    def _send(self, send: dict, mine: bool, finished: list | None = None) -> bool:
        messages = self.renderer(Answer.from_dict(loads(send["messages"], {})["answer"]))
        attempts = (send["attempts"] or 0) + 1
        age = time.time() - (send["received_at"] or 0)
        # A reply that was tried before (a crash cut it off) may have used the token.
        retried = send["method"] == "reply" and not mine
        # A first reply needs a token with time to spare; a reply cut off is
        # retried while LINE could still know the token (one minute).
        fresh = bool(send["reply_token"]) and age < (REPLY_TOKEN_LIFETIME if retried else self.reply_token_ttl)
        use_reply = fresh and send["method"] in (None, "reply")
        method = "reply" if use_reply else "push"
        if not mine:
            if not self.storage.claim_send(send, method, SEND_LEASE_SECONDS):
                return False  # another process has it
        elif send["method"] != method:
            # Queued to reply, but the token grew too old while it waited: the row
            # says so before the push, or after a crash the token would be tried too.
            self.storage.update_send(send["id"], method=method)
        if use_reply:
            outcome = self.line.reply(send["reply_token"], messages)
            if outcome.ok or (retried and outcome.status == 400):
                self._finish(send, finished, status="sent", method="reply", request_id=outcome.request_id,
                             attempts=attempts, sent_at=time.time())
                return True
            if (outcome.status is None or outcome.status >= 500) and age < REPLY_TOKEN_LIFETIME - 5:
                # Its fate is unknown: LINE may have delivered it. The same token is
                # tried again soon; once used, LINE answers 400 (delivered).
                self._later(send, "reply", attempts, 1.0, outcome)
                logger.info("reply's fate unknown (status=%s): trying the same token again", outcome.status)
                return False
            logger.info("reply failed (status=%s), falling back to push", outcome.status)
            self.storage.update_send(send["id"], method="push")
        elif send["method"] == "reply":
            logger.warning("a reply was cut off and its token expired: pushing (may repeat it)")
        outcome = self.line.push(send["external_id"], messages, send["retry_key"])
        if outcome.ok:
            self._finish(send, finished, status="sent", method="push", request_id=outcome.request_id,
                         attempts=attempts, sent_at=time.time())
            return True
        if outcome.retryable:
            delay = min(300.0, 2.0 ** min(attempts, 8))
            self._later(send, "push", attempts, delay, outcome)
            logger.warning("push to LINE failed (status=%s), next try in %.0fs", outcome.status, delay)
            return False
        self._finish(send, finished, status="failed", attempts=attempts, last_error=outcome.error,
                     request_id=outcome.request_id)
        logger.error("push to LINE rejected (status=%s request_id=%s)", outcome.status, outcome.request_id)
        return True

    def _later(self, send: dict, method: str, attempts: int, delay: float, outcome: Any) -> None:
        metrics.OUTBOX_RETRIES.labels(str(outcome.status or "error")).inc()
        self.storage.update_send(send["id"], status="pending", method=method, attempts=attempts,
                                 next_attempt_at=time.time() + delay, last_error=outcome.error,
                                 request_id=outcome.request_id)

    def _finish(self, send: dict, finished: list | None, **fields: Any) -> None:
        """A send's last word (sent, dropped, failed) and, in the same transaction,
        its event's: answered, so that the user's next event may go. Collected in
        ``finished`` when the caller writes them later (see :meth:`deliver`)."""
        if fields.get("status") in ("sent", "dropped"):
            fields["messages"] = None  # the answer stays in `messages`; no second copy
        if finished is not None:
            finished.append((send, fields))
        else:
            self.write_finished([(send, fields)])

    def write_finished(self, finished: list) -> None:
        """The collected last words of sends, in one transaction.

        Until it commits, a send that went out is still 'sending' (leased to this
        worker) and its event 'delivering': a crash in between is recovered like
        one during the send (a reply retried with its token: LINE's 400 "already
        used" counts as sent; a push with its retry key: 409)."""
        if not finished:
            return
        with self.storage.write():
            for send, fields in finished:
                self.storage.update_send(send["id"], **fields)
                if send["inbox_id"]:
                    self.storage.finish_delivering(send["inbox_id"])
