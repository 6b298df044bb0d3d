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
"""
import logging
import os
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

log = logging.getLogger("gunicorn.error")


class EventProcesses:
    """The event processes of this master: started, restarted when they die, stopped."""

    def __init__(self, count: int):
        self.count = count
        self.procs: dict[int, subprocess.Popen] = {}
        self.stopping = threading.Event()

    def spawn(self, index: int) -> None:
        argv = [sys.executable, "-m", "flask", "--app", "app", "worker", "--index", str(index)]
        self.procs[index] = subprocess.Popen(argv)
        log.info("event process %d started (pid %d)", index, self.procs[index].pid)

    def start(self) -> None:
        for index in range(self.count):
            self.spawn(index)
        threading.Thread(target=self._watch, name="ninbai-event-processes", daemon=True).start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            for index, proc in list(self.procs.items()):
                # gunicorn's SIGCHLD handler may reap it first: poll() then says 0.
                if proc.poll() is not None and not self.stopping.is_set():
                    log.error("event process %d (pid %d) exited (%s): starting it again",
                              index, proc.pid, proc.returncode)
                    self.spawn(index)

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + graceful_timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
            except ChildProcessError:
                pass


_events = EventProcesses(EVENT_PROCESSES)


def when_ready(server):
    if EVENT_PROCESSES > 0:
        _events.start()


def on_exit(server):
    _events.stop()
