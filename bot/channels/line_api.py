"""Outbound calls to the LINE Messaging API, through line-bot-sdk v3 only.

* One retry policy: urllib3's ``Retry`` in the SDK's own client, for pushes
  only (429, 5xx, connection errors and timeouts; exponential backoff, LINE's
  ``Retry-After`` respected). urllib3 sends the same request again, so every
  try of a push carries the same ``X-Line-Retry-Key`` and LINE delivers it
  once (a 409 "already accepted" counts as sent). A reply token is single
  use: replies, profile look-ups and the rich-menu calls are never retried
  blindly (bot/delivery.py decides what a failed reply becomes).
* Every call has a timeout. The API host is configurable (``LINE_API_BASE_URL``)
  so tests can point the SDK at a local fake LINE server; the SDK hard-codes
  ``https://api-data.line.me`` for blob calls, :class:`RoutedApiClient` sends
  those to ``LINE_API_DATA_BASE_URL`` instead.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.ops import metrics

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.line.me"
DEFAULT_DATA_API = "https://api-data.line.me"
RETRY_STATUSES = frozenset([429, *range(500, 600)])


class RoutedApiClient(ApiClient):
    """An ApiClient that sends the SDK's hard-coded data-API host elsewhere."""

    def __init__(self, configuration: Configuration, data_host: str):
        super().__init__(configuration)
        self.data_host = data_host.rstrip("/")

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        host = kwargs.get("_host")
        if host and host.rstrip("/") == DEFAULT_DATA_API and self.data_host != DEFAULT_DATA_API:
            kwargs["_host"] = self.data_host
        return super().call_api(*args, **kwargs)


@dataclass
class SendOutcome:
    ok: bool
    status: int | None = None
    request_id: str | None = None
    error: str | None = None
    retryable: bool = False


def _request_id(headers: Any) -> str | None:
    return (headers or {}).get("x-line-request-id") if hasattr(headers, "get") else None


def _dicts(messages: list[Any]) -> list[dict[str, Any]]:
    """JSON-ready messages (models are dumped; render_for_send's dicts go as they are)."""
    return [m if isinstance(m, dict) else m.to_dict() for m in messages]


class LineClient:
    """A thread-safe holder of the SDK clients for one channel."""

    def __init__(self, access_token: str, base_url: str = DEFAULT_API, data_base_url: str | None = None,
                 timeout: float = 5.0, retries: int = 3, backoff: float = 0.25):
        self.base_url = base_url.rstrip("/")
        if data_base_url is None:
            data_base_url = DEFAULT_DATA_API if self.base_url == DEFAULT_API else self.base_url

        def client(retry: urllib3.Retry) -> RoutedApiClient:
            config = Configuration(host=self.base_url, access_token=access_token)
            config.retries = retry
            return RoutedApiClient(config, data_base_url)

        self.api_client = client(urllib3.Retry(0, read=False, raise_on_status=False))
        self.api = MessagingApi(self.api_client)  # no retries: replies, profile, rich menu, loading
        self.blob = MessagingApiBlob(self.api_client)
        self.push_client = client(urllib3.Retry(
            total=retries, backoff_factor=backoff, status_forcelist=RETRY_STATUSES,
            allowed_methods=None, raise_on_status=False))  # POST too: the retry key makes it safe
        self.push_api = MessagingApi(self.push_client)
        self.timeout = timeout
        self.token_ok: bool | None = None  # LINE accepted the token at the last call (None: no call yet)
        self.on_token: Callable[[bool], None] | None = None  # called when that changes

    def close(self) -> None:
        self.api_client.close()
        self.push_client.close()

    def _call(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> SendOutcome:
        """One SDK ``*_with_http_info`` call (with its client's retries) as an outcome."""
        try:
            response = fn(*args, _request_timeout=self.timeout, **kwargs)
            outcome = SendOutcome(ok=True, status=response.status_code,
                                  request_id=_request_id(getattr(response, "headers", None)))
        except ApiException as exc:
            outcome = SendOutcome(ok=False, status=exc.status, request_id=_request_id(exc.headers),
                                  error=str(exc.body or exc.reason or exc.status)[:500],
                                  retryable=exc.status in RETRY_STATUSES)
            logger.info("LINE %s -> %s request_id=%s", name, exc.status, outcome.request_id)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            logger.warning("LINE %s connection error: %s", name, type(exc).__name__)
            outcome = SendOutcome(ok=False, error=f"connection error: {type(exc).__name__}", retryable=True)
        metrics.line_call(name, outcome.status)
        if outcome.status is not None and (outcome.status != 401) != self.token_ok:
            self.token_ok = outcome.status != 401
            if self.on_token is not None:
                self.on_token(self.token_ok)
        return outcome

    # -- messaging ---------------------------------------------------------
    # The messages are JSON-ready dicts, built and checked once per distinct answer
    # (line_render.render_for_send); the SDK's call is made without its argument
    # validation (``raw_function``), which would read them back into models and dump
    # them again: ~1.3 ms of CPU per send (README "Performance"). The fake LINE
    # server in the tests validates every body with the SDK's models and LINE's limits.
    # LINE's answer is not read into the SDK's response model (``_preload_content=False``):
    # only its status and request id are used (the body is still read, the connection
    # goes back to the pool, a non-2xx still raises ApiException with the body).
    def reply(self, reply_token: str, messages: list[Any]) -> SendOutcome:
        call = self.api.reply_message_with_http_info.raw_function
        return self._call("reply", call, self.api, {"replyToken": reply_token, "messages": _dicts(messages)},
                          _preload_content=False)

    def push(self, to: str, messages: list[Any], retry_key: str) -> SendOutcome:
        call = self.push_api.push_message_with_http_info.raw_function
        outcome = self._call("push", call, self.push_api, {"to": to, "messages": _dicts(messages)},
                             x_line_retry_key=retry_key, _preload_content=False)
        if not outcome.ok and outcome.status == 409:
            # "The retry key is already accepted": an earlier try went through.
            return SendOutcome(ok=True, status=409, request_id=outcome.request_id)
        if not outcome.ok and not outcome.retryable:
            metrics.OUTBOX_FAILURES.labels(str(outcome.status)).inc()
        return outcome

    def profile_name(self, user_id: str) -> str | None:
        try:
            profile = self.api.get_profile(user_id, _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            logger.info("LINE profile lookup failed: %s", type(exc).__name__)
            return None
        return profile.display_name
