"""The worker: one thread per process takes events from the durable inbox,
applies them and sends their answers.

Each turn it claims the events waiting in the inbox (atomically, in SQLite:
safe across processes), at most one per user, a user's in order, up to
``batch`` at once; applies them in one write transaction (bot/engine.py); then
delivers their answers (bot/delivery.py). It is woken at once by a webhook
accepted in its own process (:meth:`Worker.notify`), and looks at the inbox
every ``poll`` seconds for events another process accepted. About once a
second, between turns, it also retries what LINE refused for a passing reason
and runs the periodic tasks (heartbeat, daily backup, alerts); every
``recover_every`` seconds, and at start, it takes back the events of a process
that died.
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
from bot.ops import metrics
from bot.storage import Storage

logger = logging.getLogger(__name__)

HOST = socket.gethostname()
BOOT = uuid.uuid4().hex[:8]


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}:{BOOT}:0"


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
    def __init__(self, storage: Storage, engine: Engine, poll: float = 0.2, batch: int = 16,
                 on_claim: Any = None, on_start: Any = None):
        self.storage = storage
        self.engine = engine
        self.batch = max(1, batch)  # events applied per write transaction, at most
        self.poll = poll
        self.heartbeat: Any = None  # callable() on each turn (bot.ops.health)
        self.periodic: list[Any] = []  # callables run about once a second (daily backup, alerts)
        self.recover_every = 30.0
        self.on_claim = on_claim  # callable(row) before processing (the loading animation)
        self.on_start = on_start  # callable() in the worker thread before its first event
        self._wake = threading.Condition()
        self._woken = False  # a wake-up that came while the worker was busy is not lost
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._next_tick = 0.0
        self._next_recovery = 0.0

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self._stop.clear()
        thread = threading.Thread(target=self._loop, name="ninbai-worker", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current turn (its answers are sent)."""
        self._stop.set()
        self.notify()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def notify(self) -> None:
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def recover(self) -> None:
        """Events left behind by a worker that died: applied again, or their answers sent."""
        self._next_recovery = time.monotonic() + self.recover_every
        requeued, deliver_users = self.storage.recover_events(claim_alive)
        if requeued or deliver_users:
            logger.warning("recovered %d unfinished events and %d undelivered answers from a previous run",
                           requeued, len(deliver_users))
        for user_key in set(deliver_users):
            self._deliver(user_key)

    # -- work --------------------------------------------------------------
    def run_batch(self) -> int:
        """Claim and apply a batch of events and send their answers; returns the number claimed."""
        rows = self.storage.claim_events(worker_id(), self.batch)
        if not rows:
            return 0
        for row in rows:
            self._hook(self.on_claim, row)
        try:
            results = self.engine.process_batch(rows)
        except Exception as exc:  # the transaction itself failed: every event goes back
            for row in rows:
                self._failed(row, exc)
            return len(rows)
        finished: list = []  # the sends' last words: written together, one transaction per batch
        try:
            for row, owned, exc in results:
                if exc is not None:
                    self._failed(row, exc)
                elif not owned or self._deliver(row["user_key"], set(owned), finished):
                    metrics.answered(row)
                else:
                    # Not sent yet (LINE is failing, or an earlier answer waits): the
                    # outbox keeps it in order; the event itself is done.
                    self.storage.finish_delivering(row["id"])
        finally:
            self.engine.delivery.write_finished(finished)
        return len(rows)

    def tick(self) -> None:
        """Between turns: the heartbeat; about once a second the retries and the
        periodic tasks; now and then the recovery of dead workers' events."""
        self._hook(self.heartbeat)
        now = time.monotonic()
        if now < self._next_tick:
            return
        self._next_tick = now + 1.0
        try:
            self.engine.delivery.retry_due()
        except Exception:
            logger.exception("retrying sends failed")
        for task in self.periodic:
            self._hook(task)
        if now >= self._next_recovery:
            self._hook(self.recover)

    def _loop(self) -> None:
        self._hook(self.on_start)
        while not self._stop.is_set():
            with self._wake:
                self._woken = False
            self.tick()
            try:
                worked = self.run_batch()
            except Exception:
                logger.exception("worker loop error")
                worked = 0
            if not worked:
                with self._wake:
                    if not self._woken:
                        self._wake.wait(self.poll)
        self.storage.close_thread_connection()

    def _hook(self, fn: Any, *args: Any) -> None:
        if fn is not None:
            try:
                fn(*args)
            except Exception:
                logger.exception("worker task %s failed", getattr(fn, "__name__", type(fn).__name__))

    def _failed(self, row: dict, exc: Exception) -> None:
        """An event whose processing raised: tried again later, given up after 5 tries."""
        logger.error("event %s failed (attempt %s)", row["id"], row["attempts"], exc_info=exc)
        if row["attempts"] >= 5:
            self.storage.set_event_status(row["id"], "failed", f"{type(exc).__name__}: {exc}")
        else:
            self.storage.release_event(row["id"], f"{type(exc).__name__}: {exc}")

    def _deliver(self, user_key: str, owned: set[int] | None = None, finished: list | None = None) -> bool:
        try:
            return self.engine.delivery.deliver(user_key, owned, finished)
        except Exception:
            logger.exception("delivery failed; retried within a second")
            return False

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until no event is pending or in flight (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.storage.inbox_counts()
            if not any(counts.get(s) for s in ("pending", "processing", "delivering")):
                return True
            time.sleep(0.02)
        return False
