"""Operations: health and readiness, metrics, backups, JSON logs, the proxy in front.

``init_app(app)`` (called by ``create_app``) wires it all in:

* ``/healthz`` (the process answers), ``/readyz`` (:mod:`bot.ops.health`, JSON,
  200 or 503), ``/metrics`` (:mod:`bot.ops.metrics`, Prometheus text; with
  ``NINBAI_METRICS_TOKEN`` set, only with ``Authorization: Bearer <token>``;
  without it, only from loopback and not through the proxy);
* the ``flask --app app data backup|restore`` commands;
* in the worker's loop: its heartbeat, the daily backup at ``BACKUP_HOUR``
  (JST) when ``BACKUP_DIR`` is set, the staff alert when not ready for
  ``READY_ALERT_AFTER`` seconds (default 180);
* ``PROXY_FIX`` (number of proxies in front, e.g. 1 for Caddy): werkzeug's
  ProxyFix, so the client's address (audit trail, login rate limit) and scheme
  come from ``X-Forwarded-For`` / ``X-Forwarded-Proto``;
* ``LITESTREAM_CONFIG``: Litestream owns the WAL checkpoints (SQLite's automatic ones are off);
* ``LOG_FORMAT=json``: one JSON object per log line (:mod:`bot.ops.logs`).
"""
from __future__ import annotations

import datetime as dt
import functools
import hmac
import ipaddress
import logging
import sqlite3
import sys
import time
from pathlib import Path

import click
from flask import Blueprint, Flask, Response, current_app, jsonify, request

from bot.cli import data_group
from bot.ops import backup as backups
from bot.ops import health
from dialogs.base import JST

logger = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)


@bp.get("/readyz")
def readyz():
    services = current_app.extensions["ninbai"]
    result = health.readiness(services.storage, current_app.config, services.line is not None)
    return jsonify(result), 200 if result["ok"] else 503


def _loopback_direct() -> bool:
    if request.headers.get("X-Forwarded-For") or request.access_route != [request.remote_addr]:
        return False  # came through a proxy: not "from this machine"
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics", endpoint="metrics")
def metrics_view():
    from bot.ops import metrics

    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"})
    elif not _loopback_direct():
        return Response("forbidden\n", 403)
    body = metrics.exposition(current_app.extensions["ninbai"].storage)
    return Response(body, 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


# -- commands ----------------------------------------------------------------
@data_group.command("backup", help="稼働中のデータベースを圧縮して保存します（古いものは BACKUP_KEEP 個を残して削除）")
@click.argument("directory", required=False)
def data_backup(directory: str | None) -> None:
    directory = directory or current_app.config.get("BACKUP_DIR")
    if not directory:
        click.echo("保存先を指定してください（引数か NINBAI_BACKUP_DIR）", err=True)
        sys.exit(2)
    started = time.perf_counter()
    path = backups.backup(current_app.config["DATABASE"], directory, int(current_app.config["BACKUP_KEEP"]))
    click.echo(f"backup {path} ({path.stat().st_size} bytes, {time.perf_counter() - started:.2f}s, integrity ok)")


@data_group.command("restore", help="バックアップから復元します（稼働中のデータベースは上書きしません）")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def data_restore(file: str) -> None:
    services = current_app.extensions["ninbai"]
    services.close()  # this command's own connection must not count as "in use"
    try:
        result = backups.restore(file, current_app.config["DATABASE"])
    except backups.RestoreRefused as exc:
        click.echo(f"復元しませんでした: {exc}", err=True)
        sys.exit(1)
    version = services.storage.migrate()
    services.storage.close()
    click.echo(f"restored {file} -> {result['database']} in {result['seconds']}s "
               f"(integrity ok, schema version {version}"
               + (f"; the previous file is kept as {result['replaced']})" if result["replaced"] else ")"))


# -- wiring --------------------------------------------------------------------
class DailyBackup:
    """In the worker: one backup a day at ``hour`` (JST), by one process only."""

    def __init__(self, storage, directory: str, keep: int, hour: int):
        self.storage, self.directory, self.keep, self.hour = storage, directory, keep, hour

    def __call__(self, now: dt.datetime | None = None) -> Path | None:
        now = now or dt.datetime.now(JST)
        if now.hour != self.hour:
            return None
        day = now.date().isoformat()
        with self.storage.write():  # compare-and-set: one process takes the day
            if health.get_meta(self.storage, "ops:backup_day") == day:
                return None
            health.put_meta(self.storage, "ops:backup_day", day)
        try:
            path = backups.backup(self.storage.path, self.directory, self.keep)
        except (OSError, sqlite3.Error, RuntimeError):
            logger.exception("daily backup failed")
            return None
        logger.info("daily backup written: %s", path.name)
        return path


def init_app(app: Flask) -> None:
    from bot.console import Every
    from bot.storage import INBOX_KEEP_HOURS

    app.config.setdefault("BACKUP_KEEP", 14)
    app.config.setdefault("BACKUP_HOUR", 3)
    app.config.setdefault("PROXY_FIX", 0)
    proxies = int(app.config["PROXY_FIX"])
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.register_blueprint(bp)
    services = app.extensions["ninbai"]
    storage, worker = services.storage, services.worker
    if app.config.get("LITESTREAM_CONFIG"):
        # Litestream copies the WAL before it checkpoints; a checkpoint by the app
        # could restart the WAL under it. Litestream runs them (README "Operations").
        storage.wal_autocheckpoint = 0
        storage.db.execute("pragma wal_autocheckpoint = 0")
    if services.line is not None:
        services.line.on_token = functools.partial(health.token_state, storage)
    worker.heartbeat = Every(health.HEARTBEAT_EVERY, functools.partial(health.beat, storage))
    if app.config.get("BACKUP_DIR"):
        worker.periodic.append(DailyBackup(storage, str(app.config["BACKUP_DIR"]),
                                           int(app.config["BACKUP_KEEP"]), int(app.config["BACKUP_HOUR"])))
    line_on = services.line is not None
    config = app.config
    # Old webhook bodies and sent outbox rows reduced (Storage.reduce_old_inbox; NINBAI_INBOX_KEEP_HOURS)
    keep_hours = float(config.get("INBOX_KEEP_HOURS", INBOX_KEEP_HOURS))
    worker.periodic.append(Every(600, lambda: storage.reduce_old_inbox(time.time(), keep_hours)))

    def send(text: str) -> None:
        services.extra["alerts"].notify_staff(text, f"ready:{int(time.time())}")

    worker.periodic.append(health.ReadinessMonitor(
        lambda: health.readiness(storage, config, line_on), storage, send,
        after=float(app.config.get("READY_ALERT_AFTER", 180))))
