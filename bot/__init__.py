"""ninbai: the application factory (flaskr style).

``create_app(config=None)`` layers defaults, then ``NINBAI_*`` environment
variables (``from_prefixed_env``) and the ``LINE_*`` ones, then ``config``.
Each subsystem wires itself in; nothing app-bound runs at import.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bot.auth import display_name
from bot.engine import Engine
from bot.storage import Storage
from bot.worker import Worker
from dialogs.base import JST

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()

DEFAULTS: dict[str, Any] = {
    "DATABASE": "var/ninbai.db",
    "CONTENT_DIR": str(ROOT / "content"),
    "WORKER_BATCH": 16,  # events applied per write transaction, at most
    "WORKER_POLL": 0.2,  # seconds between looks at the inbox for events another process accepted
    "START_WORKER": "auto",  # auto: not for CLI commands other than `run`
    "REPLY_TOKEN_TTL": 50.0,  # LINE: one minute; keep a margin
    "LINE_TIMEOUT": 5.0,
    "LINE_RETRIES": 3,
    "LINE_API_BASE_URL": "https://api.line.me",
    "LINE_API_DATA_BASE_URL": None,
    "LINE_CHANNEL_SECRET": None,
    "LINE_CHANNEL_ACCESS_TOKEN": None,
    "LOADING_AFTER_SECONDS": 2.0,
    "COMPANY_NAME": "ninbai相談窓口",
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # LINE webhook bodies: 413 above 2 MB
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "LOG_LEVEL": "INFO",
}
LINE_ENV = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "LINE_API_BASE_URL",
    "LINE_API_DATA_BASE_URL",
)


@dataclass
class Services:
    """What the blueprints and commands share, in ``app.extensions["ninbai"]``."""

    storage: Storage
    content: Any
    dialog: Any
    engine: Engine
    worker: Worker
    line: Any = None  # LineClient when LINE is configured
    line_parser: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def notify(self) -> None:
        """New events are in the inbox: wake this process's worker."""
        self.worker.notify()

    def close(self) -> None:
        """Stop the worker and release connections (tests, tools)."""
        self.worker.stop()
        if self.line is not None:
            self.line.close()
        self.storage.close()

    def operator_name(self, user_id: int | None) -> str:
        return display_name(user_id, self.storage)


def _secret_key(app: Flask) -> str:
    path = Path(app.config["DATABASE"]).resolve().parent / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    logger.info("generated a secret key in %s", path)
    return key


def _should_start_worker(app: Flask) -> bool:
    setting = app.config["START_WORKER"]
    if isinstance(setting, str) and setting.lower() == "auto":
        # no command: python app.py, gunicorn, tests; of the commands, only `flask run` serves
        ctx = click.get_current_context(silent=True)
        return ctx is None or "run" in ctx.command_path.split()[1:]
    if isinstance(setting, str):
        return setting.lower() in ("1", "true", "yes", "on")
    return bool(setting)


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot").setLevel(level)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    if str(app.config.get("LOG_FORMAT", "")).lower() == "json":  # NINBAI_LOG_FORMAT (bot/ops/logs.py)
        from bot.ops.logs import use_json

        use_json()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("NINBAI")
    for key in LINE_ENV:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if config:
        app.config.update(config)
    _configure_logging(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app)

    from bot.content import load_content

    storage = Storage(app.config["DATABASE"])
    storage.migrate()
    content = load_content(app.config["CONTENT_DIR"])
    dialog = app.config.get("DIALOG")
    if dialog is None:
        from dialogs.diagnosis import DiagnosisDialog

        dialog = DiagnosisDialog(content)

    line = parser = renderer = None
    secret, token = app.config["LINE_CHANNEL_SECRET"], app.config["LINE_CHANNEL_ACCESS_TOKEN"]
    if secret and token:
        from linebot.v3 import WebhookParser

        from bot.channels.line_api import LineClient
        from bot.channels.line_render import render_for_send
        from bot.channels.richmenu import start_loading

        line = LineClient(
            token,
            base_url=app.config["LINE_API_BASE_URL"],
            data_base_url=app.config["LINE_API_DATA_BASE_URL"],
            timeout=float(app.config["LINE_TIMEOUT"]),
            retries=int(app.config["LINE_RETRIES"]),
        )
        parser = WebhookParser(secret)

        renderer = render_for_send  # Answer -> LINE messages (JSON-ready, cached)
    else:
        logger.info(
            "LINE channel off: LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are not set "
            "(the web chat works without them)"
        )

    engine = Engine(storage, dialog, renderer=renderer, line=line,
                    reply_token_ttl=float(app.config["REPLY_TOKEN_TTL"]), content=content)
    if app.config.get("TODAY"):  # a fixed "today" for demos and tests (ISO date)
        fixed = dt.date.fromisoformat(str(app.config["TODAY"]))
        engine.today = lambda: fixed
        # with a fixed day, the time of day is only what NOW says (else not known)
        now = dt.datetime.fromisoformat(str(app.config["NOW"])).replace(tzinfo=JST) if app.config.get("NOW") else None
        engine.now = lambda: now

    loading_after, token_ttl = float(app.config["LOADING_AFTER_SECONDS"]), float(app.config["REPLY_TOKEN_TTL"])

    def on_claim(row: dict) -> None:
        """The loading animation, when an answer comes late (queue backlog) while the user waits on LINE."""
        if (line is not None and row["channel"] == "line" and row["kind"] in ("text", "postback")
                and loading_after < time.time() - (row["received_at"] or 0) < token_ttl):
            start_loading(line.api, row["user_key"].split(":", 1)[1], 5, line.timeout)

    from dialogs.understanding import warm_up

    # The worker thread loads ja-timex (its parser is per thread) before its
    # first event: not on a homeowner's first message, and not while the app
    # boots (gunicorn answers webhooks at once; events wait in the inbox).
    worker = Worker(storage, engine, on_claim=on_claim, on_start=warm_up,
                    batch=int(app.config["WORKER_BATCH"]), poll=float(app.config["WORKER_POLL"]))
    services = Services(storage, content, dialog, engine, worker, line, parser)
    app.extensions["ninbai"] = services

    csrf.init_app(app)
    from bot.channels import line as line_channel
    from bot.channels import web

    app.register_blueprint(web.bp)
    if parser is not None:
        csrf.exempt(line_channel.bp)
        app.register_blueprint(line_channel.bp)

    from bot import auth, cli, console, insights, security

    auth.init_app(app)
    console.init_app(app)
    insights.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    from bot import ops  # /readyz, /metrics, `data backup|restore`, ProxyFix, Litestream (bot/ops)

    ops.init_app(app)
    from bot.nlu_cli import nlu_group

    app.cli.add_command(nlu_group)  # flask --app app nlu eval

    if _should_start_worker(app):
        worker.start()
    return app
