"""gunicorn settings for `make serve`: several processes sharing one SQLite file.

Each worker process builds the app (``app:create_app()``) and runs its own
event-worker threads; they share the durable inbox in SQLite and claim events
atomically, so no event is handled twice.
"""
import os

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



def post_fork(server, worker):
    import sys
    sys.setswitchinterval(float(os.environ.get("NINBAI_SWITCH_INTERVAL", "0.005")))
