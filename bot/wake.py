"""A nudge between processes: "events are waiting in the inbox".

Under ``make serve`` the web processes only accept webhooks; a separate event
process answers them (see gunicorn.conf.py). After committing new events a web
process sends one datagram to the event process's socket, which wakes its
batch thread at once instead of at its next poll. A lost nudge costs at most
one poll interval: the inbox in SQLite stays the truth.

On Linux the socket lives in the abstract namespace (no file to clean up, no
path-length limit), named after the database file; elsewhere nudges are off
and the event process polls.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


def address(db_path: str, index: int = 0) -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha1(os.path.abspath(db_path).encode()).hexdigest()[:20]
    return f"\0ninbai-wake-{digest}-{index}"


class Nudger:
    """The sending side (web processes): one datagram, never blocking, never failing."""

    def __init__(self, db_path: str, processes: int = 1):
        self.addresses = [a for a in (address(db_path, i) for i in range(max(processes, 0))) if a]
        self._sock: socket.socket | None = None
        if self.addresses:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)

    def nudge(self) -> None:
        if self._sock is None:
            return
        for addr in self.addresses:
            try:
                self._sock.sendto(b"!", addr)
            except OSError:  # no listener (yet), or its queue is full: it wakes anyway
                pass

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Listener:
    """The receiving side (the event process): calls ``on_nudge`` for every datagram."""

    def __init__(self, db_path: str, on_nudge: Callable[[], None], index: int = 0):
        self.on_nudge = on_nudge
        self.addr = address(db_path, index)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        if self.addr is None:
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self.addr)
        except OSError as exc:
            logger.warning("wake socket unavailable (%s): polling the inbox instead", exc)
            sock.close()
            return False
        self._sock = sock
        self._thread = threading.Thread(target=self._loop, name="ninbai-wake", daemon=True)
        self._thread.start()
        return True

    def _loop(self) -> None:
        sock = self._sock
        while sock is not None and self._sock is sock:
            try:
                data = sock.recv(64)
            except OSError:
                return  # closed
            if not data:
                return  # shut down
            self.on_nudge()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(2)
