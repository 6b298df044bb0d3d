"""Background workers: take events from the durable inbox and answer them.

Each worker thread claims one event at a time (atomically, in SQLite: safe
across threads and processes), runs the engine, then delivers that user's
queued sends. A user's events are handled in order; different users in
parallel. A retry thread re-sends what LINE refused for a passing reason.
On start, events left behind by a worker that died are picked up again.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from bot.engine import Engine
from bot.storage import Storage

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
BOOT = uuid.uuid4().hex[:8]


def worker_id(index: int | str) -> str:
    return f"{HOST}:{os.getpid()}:{BOOT}:{index}"


def claim_alive(claimed_by: str) -> bool:
    """Whether the worker that made a claim may still be running."""
    try:
        host, pid, boot, _ = claimed_by.split(":", 3)
        pid_n = int(pid)
    except ValueError:
        return False
    if host != HOST:
        return True  # another machine: rely on the lease
    if pid_n == os.getpid():
        return boot == BOOT
    try:
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    def __init__(self, storage: Storage, engine: Engine, threads: int = 4, poll: float = 0.5,
                 on_claim: Any = None, on_start: Any = None):
        self.storage = storage
        self.engine = engine
        self.threads_n = max(1, threads)
        self.poll = poll
        self.on_claim = on_claim  # callable(row) before processing (e.g. loading animation)
        self.on_start = on_start  # callable() in each worker thread before its first event
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        self.recover()
        for i in range(self.threads_n):
            t = threading.Thread(target=self._loop, args=(worker_id(i),), name=f"ninbai-worker-{i}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._retry_loop, name="ninbai-retry", daemon=True)
        t.start()
        self._threads.append(t)
        logger.info("worker started: %d threads", self.threads_n)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.notify()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def recover(self) -> None:
        requeued, deliver_users = self.storage.recover_events(claim_alive)
        if requeued or deliver_users:
            logger.warning(
                "recovered %d unfinished events and %d undelivered answers from a previous run",
                requeued, len(deliver_users),
            )
        for user_key in set(deliver_users):
            self._deliver(user_key)

    # -- work --------------------------------------------------------------
    def run_once(self, wid: str = "manual") -> bool:
        """Claim and handle one event; False when there was nothing to do."""
        row = self.storage.claim_next_event(wid)
        if row is None:
            return False
        self._handle(row)
        return True

    def _handle(self, row: dict) -> None:
        if self.on_claim is not None:
            try:
                self.on_claim(row)
            except Exception:
                logger.exception("on_claim hook failed")
        try:
            queued = self.engine.process(row)
        except Exception as exc:
            logger.exception("event %s failed (attempt %s)", row["id"], row["attempts"])
            if row["attempts"] >= 5:
                self.storage.set_event_status(row["id"], "failed", f"{type(exc).__name__}: {exc}")
            else:
                self.storage.release_event(row["id"], f"{type(exc).__name__}: {exc}")
            return
        if queued and not self._deliver(row["user_key"]):
            # Not sent yet (LINE is failing, or an earlier answer waits): the
            # outbox keeps it in order; the event itself is done.
            self.storage.finish_delivering(row["id"])

    def _deliver(self, user_key: str) -> bool:
        """Deliver a user's queued sends; True when all went out."""
        try:
            return self.engine.deliver(user_key)
        except Exception:
            logger.exception("delivery failed; the retry thread will try again")
            return False

    def _loop(self, wid: str) -> None:
        if self.on_start is not None:
            try:
                self.on_start()
            except Exception:
                logger.exception("worker start hook failed")
        while not self._stop.is_set():
            try:
                worked = self.run_once(wid)
            except Exception:
                logger.exception("worker loop error")
                worked = False
            if not worked:
                with self._wake:
                    self._wake.wait(self.poll)
        self.storage.close_thread_connection()

    def _retry_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                for user_key in self.storage.users_with_due_sends(time.time()):
                    self._deliver(user_key)
            except Exception:
                logger.exception("retry loop error")
        self.storage.close_thread_connection()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until no event is pending or in flight (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.storage.inbox_counts()
            if not any(counts.get(s) for s in ("pending", "processing", "delivering")):
                return True
            time.sleep(0.02)
        return False
