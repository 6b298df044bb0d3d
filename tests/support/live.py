"""Run a WSGI app on a real socket in a background thread (for browser tests)."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LiveServer:
    """``LiveServer(app)``: serves ``app`` on 127.0.0.1 at a free port.

    Use ``start()``/``stop()`` or ``with LiveServer(app) as server: server.url``.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.host = host
        self._port = port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LiveServer is not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LiveServer":
        if self._server is not None:
            return self
        self._server = make_server(self.host, self._port, self.app, threaded=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="live-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
