"""Run the real app in a child process (``python app.py``, or gunicorn), to kill it for real."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    #: the command line; :class:`GunicornProcess` runs gunicorn instead
    argv: tuple[str, ...] = (sys.executable, "app.py")

    def __init__(self, env: dict[str, str], port: int | None = None, log_path: Path | None = None):
        self.port = port or free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            list(self.argv), cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log,
            start_new_session=True,  # its own process group: kill() takes the workers too
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._close_log()
                tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}\n{tail}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise TimeoutError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no cleanup, like a crash or an OOM kill."""
        if self.proc:
            try:  # the whole process group: a gunicorn master and its workers at once
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def post(self, path: str, data: bytes, headers: dict[str, str]) -> int:
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code


class GunicornProcess(ServerProcess):
    """``gunicorn -c gunicorn.conf.py 'app:create_app()'`` (``make serve``): several worker
    processes on one SQLite file. ``NINBAI_WEB_WORKERS`` / ``NINBAI_WEB_THREADS`` size it."""

    argv = (str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "app:create_app()")

    def pids(self) -> list[int]:
        """The master's pid and its workers' (from /proc)."""
        if self.proc is None:
            return []
        found = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:  # ppid
                    found.append(int(entry.name))
        return found
