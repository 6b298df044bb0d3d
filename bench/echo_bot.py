"""Baseline for bench/line_bench.py: LINE's echo bot, as in line-bot-sdk v3's examples.

A minimal Flask app: ``WebhookHandler`` verifies and parses the webhook, and
each text message is echoed with ``MessagingApi.reply_message`` *inside the
webhook request*. Follows, postbacks and the rest get no answer. Serve it with
the same settings as the real app::

    LINE_CHANNEL_SECRET=… LINE_CHANNEL_ACCESS_TOKEN=… LINE_API_BASE_URL=http://127.0.0.1:N \\
        .venv/bin/gunicorn -c gunicorn.conf.py 'bench.echo_bot:create_app()'

One difference from the example: the ``ApiClient`` (its urllib3 connection
pool) is shared by the process instead of being opened per request, which makes
the baseline faster (a harder target), not slower.
"""
from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3 import WebhookHandler
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import MessageEvent, TextMessageContent


def create_app() -> Flask:
    app = Flask(__name__)
    configuration = Configuration(
        host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me"),
        access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
    )
    handler = WebhookHandler(os.environ["LINE_CHANNEL_SECRET"])
    api_client = ApiClient(configuration)

    @app.route("/callback", methods=["POST"])
    def callback():
        signature = request.headers["X-Line-Signature"]
        body = request.get_data(as_text=True)
        try:
            handler.handle(body, signature)
        except InvalidSignatureError:
            abort(400)
        return "OK"

    @handler.add(MessageEvent, message=TextMessageContent)
    def handle_message(event):
        line_bot_api = MessagingApi(api_client)
        line_bot_api.reply_message_with_http_info(
            ReplyMessageRequest(
                reply_token=event.reply_token,
                messages=[TextMessage(text=event.message.text)],
            )
        )

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app
