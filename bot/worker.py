"""Background workers: take events from the durable inbox and answer them.

Per process, one batch thread claims the events waiting in the inbox
(atomically, in SQLite: safe across threads and processes), at most one per
user and a batch at a time, and applies them in one write transaction (a
group commit: under load, what queued up while the last batch was handled
goes in together; when quiet, a batch is one event and nothing waits). Sender
threads then deliver the answers to LINE in parallel (an HTTP call each). A
user's events are handled in order; different users in parallel. A retry
thread re-sends what LINE refused for a passing reason. On start, events left
behind by a worker that died are picked up again.

Why one batch thread and not several threads each taking one event: every
event then needed its own write transactions, and the threads queued for
SQLite's single write lock (a third of their time in the benchmark) while
holding the GIL away from each other; see README "Performance".
"""
from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from typing import Any

from bot.engine import Engine
from bot.ops import metrics
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
                 on_claim: Any = None, on_start: Any = None, batch: int = 16):
        self.storage = storage
        self.engine = engine
        self.threads_n = max(1, threads)  # sender threads
        self.batch = max(1, batch)  # events applied per write transaction, at most
        self.poll = poll
        self.checkpoint_every = 1.0  # seconds (0: no checkpoints, Litestream runs them)
        self.heartbeat: Any = None  # callable() on each turn of the batch loop (bot.ops.health)
        self.periodic: list[Any] = []  # callables run about once a second (daily backup, alerts)
        self._sends: queue.Queue = queue.Queue()
        # Sends' last words from the sender threads, written by the batch thread
        # with its next claim (one transaction instead of one per send).
        self._finished: list[tuple[int | None, int | None, dict]] = []
        self._finished_lock = threading.Lock()
        self.on_claim = on_claim  # callable(row) before processing (e.g. loading animation)
        self.on_start = on_start  # callable() in each worker thread before its first event
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self._stop.clear()
        threads = [threading.Thread(target=self._batch_loop, args=(worker_id("batch"),),
                                    name="ninbai-batch", daemon=True)]
        threads += [threading.Thread(target=self._send_loop, name="ninbai-sender", daemon=True)
                    for _ in range(self.threads_n)]
        threads.append(threading.Thread(target=self._retry_loop, name="ninbai-retry", daemon=True))
        threads.append(threading.Thread(target=self._checkpoint_loop, name="ninbai-checkpoint", daemon=True))
        for t in threads:
            t.start()
        self._threads.extend(threads)
        logger.info("worker started: a batch thread and %d sender threads", self.threads_n)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking events, send what was queued, write the last finishes."""
        self._stop.set()
        self.notify()
        for t in self._threads:
            if t.name != "ninbai-sender":
                t.join(timeout)  # the batch thread first: it queues no more sends
        for _ in range(self.threads_n):
            self._sends.put(None)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()
        with self._finished_lock:
            finishes, self._finished = self._finished, []
        if finishes:
            with self.storage.write():
                self.storage.finish_sends(finishes)

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
    def _on_claim(self, row: dict) -> None:
        if self.on_claim is not None:
            try:
                self.on_claim(row)
            except Exception:
                logger.exception("on_claim hook failed")

    def _failed(self, row: dict, exc: Exception) -> None:
        """An event whose processing raised: tried again later, given up after 5 tries."""
        logger.error("event %s failed (attempt %s)", row["id"], row["attempts"], exc_info=exc)
        if row["attempts"] >= 5:
            self.storage.set_event_status(row["id"], "failed", f"{type(exc).__name__}: {exc}")
        else:
            self.storage.release_event(row["id"], f"{type(exc).__name__}: {exc}")

    def _finish_later(self, send_id: int | None, inbox_id: int | None, fields: dict) -> None:
        with self._finished_lock:
            self._finished.append((send_id, inbox_id, fields))
        self.notify()

    def run_batch(self, wid: str = "manual") -> int:
        """Write the finished sends, claim and apply a batch of events, queue
        their sends; returns the number of events claimed."""
        with self._finished_lock:
            finishes, self._finished = self._finished, []
        try:
            rows = self.storage.claim_events(wid, self.batch, finishes)
        except BaseException:
            with self._finished_lock:  # not written: kept for the next turn
                self._finished[:0] = finishes
            raise
        if not rows:
            return 0
        if self.on_claim is not None:
            # The loading animation, when late: sent by a sender thread (the
            # hook's ``wanted(row)``, if it has one, says which rows need it).
            wanted = getattr(self.on_claim, "wanted", None)
            for row in rows:
                if wanted is None or wanted(row):
                    self._sends.put(("claimed", row, None))
        try:
            results = self.engine.process_batch(rows)
        except Exception as exc:  # the transaction itself failed: every event goes back
            for row in rows:
                self._failed(row, exc)
            return len(rows)
        for row, owned, exc in results:
            if exc is not None:
                self._failed(row, exc)
            elif owned:
                self._sends.put(("send", row, set(owned)))
            else:
                metrics.answered(row)
        return len(rows)

    def _send_one(self, row: dict, owned: set[int]) -> None:
        if self._deliver(row["user_key"], owned):
            metrics.answered(row)
        else:
            # Not sent yet (LINE is failing, or an earlier answer waits): the
            # outbox keeps it in order; the event itself is done.
            self._finish_later(None, row["id"], {})

    def _deliver(self, user_key: str, owned: set[int] | None = None) -> bool:
        """Deliver a user's queued sends; True when all went out."""
        try:
            return self.engine.deliver(user_key, owned=owned)
        except Exception:
            logger.exception("delivery failed; the retry thread will try again")
            return False

    def _batch_loop(self, wid: str) -> None:
        if self.on_start is not None:
            try:
                self.on_start()
            except Exception:
                logger.exception("worker start hook failed")
        while not self._stop.is_set():
            if self.heartbeat is not None:
                self.heartbeat()
            try:
                worked = self.run_batch(wid)
            except Exception:
                logger.exception("worker loop error")
                worked = 0
            if not worked:
                with self._wake:
                    self._wake.wait(self.poll)
        self.storage.close_thread_connection()

    def _send_loop(self) -> None:
        self.engine.defer_finishes(self._finish_later)
        while True:
            item = self._sends.get()
            if item is None:
                break
            what, row, owned = item
            try:
                if what == "claimed":
                    self._on_claim(row)
                else:
                    self._send_one(row, owned)
            except Exception:
                logger.exception("sender error")
        self.storage.close_thread_connection()

    def _checkpoint_loop(self) -> None:
        """Once a second, the WAL copied back into the database (see Storage.checkpoint),
        then the periodic tasks."""
        while not self._stop.wait(self.checkpoint_every or 1.0):
            try:
                if self.checkpoint_every:
                    self.storage.checkpoint()
            except Exception:
                logger.exception("checkpoint failed")
            for task in self.periodic:
                try:
                    task()
                except Exception:
                    logger.exception("periodic task failed")
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
