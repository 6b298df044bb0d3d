"""Outbound calls to the LINE Messaging API, through line-bot-sdk v3 only.

* Every call has a timeout; the SDK's own urllib3 retries are off, so that
  :func:`call_with_retry` decides: 429 and 5xx and connection errors are retried
  with exponential backoff; other 4xx are final.
* The API host is configurable (``LINE_API_BASE_URL``) so tests can point the
  SDK at a local fake LINE server. The SDK hard-codes ``https://api-data.line.me``
  for blob calls (rich menu images, content); :class:`RoutedApiClient` sends
  those to ``LINE_API_DATA_BASE_URL`` instead.
* LINE's ``x-line-request-id`` is logged for every call.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import urllib3
from pydantic.v1 import PrivateAttr
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.ops import metrics

logger = logging.getLogger(__name__)

DEFAULT_API = "https://api.line.me"
DEFAULT_DATA_API = "https://api-data.line.me"
T = TypeVar("T")


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


class _PreparedMessages:
    """A request model carrying its messages as JSON-ready dicts, serialized as is.

    The SDK turns a request model into JSON by walking it with pydantic twice
    (the request's ``.dict()``, then each message's ``.to_dict()``): about a
    millisecond of CPU for a Flex card with quick replies, on every send. The
    bot sends the same questions over and over, so their messages are built
    and checked once per distinct answer
    (:func:`bot.channels.line_render.render_for_send`) and handed to the SDK
    like this. The call itself is still ``MessagingApi``'s; the fake LINE
    server checks every body against LINE's OpenAPI description.
    """

    @classmethod
    def prepared(cls, messages: list[dict[str, Any]], **fields: Any) -> Any:
        request = cls.construct(messages=[], **fields)
        request._messages_json = messages
        return request

    def to_dict(self) -> dict[str, Any]:
        out = {self.__fields__[name].alias: value for name, value in self.__dict__.items()
               if name != "messages" and value is not None}
        out["messages"] = self._messages_json
        return out


class PreparedReply(_PreparedMessages, ReplyMessageRequest):
    """A ``ReplyMessageRequest`` whose messages are prepared dicts."""

    _messages_json: list = PrivateAttr(default_factory=list)


class PreparedPush(_PreparedMessages, PushMessageRequest):
    """A ``PushMessageRequest`` whose messages are prepared dicts."""

    _messages_json: list = PrivateAttr(default_factory=list)


@dataclass
class SendOutcome:
    ok: bool
    status: int | None = None
    request_id: str | None = None
    error: str | None = None
    retryable: bool = False


def _request_id(headers: Any) -> str | None:
    if not headers:
        return None
    for key in ("x-line-request-id", "X-Line-Request-Id"):
        try:
            value = headers.get(key)
        except AttributeError:
            value = None
        if value:
            return value
    return None


def _all_dicts(messages: list[Any]) -> bool:
    return all(isinstance(m, dict) for m in messages)


def is_retryable_status(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500


class LineClient:
    """A thread-safe holder of the SDK clients for one channel."""

    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_API,
        data_base_url: str | None = None,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.25,
    ):
        self.base_url = base_url.rstrip("/")
        if data_base_url is None:
            data_base_url = DEFAULT_DATA_API if self.base_url == DEFAULT_API else self.base_url
        config = Configuration(host=self.base_url, access_token=access_token)
        config.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0,
                                       raise_on_status=False)
        self.api_client = RoutedApiClient(config, data_base_url)
        self.api = MessagingApi(self.api_client)
        self.blob = MessagingApiBlob(self.api_client)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.token_ok: bool | None = None  # LINE accepted the token at the last call (None: no call yet)
        self.on_token: Callable[[bool], None] | None = None  # called when that changes

    def close(self) -> None:
        self.api_client.close()

    # -- generic call ------------------------------------------------------
    def call(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> SendOutcome:
        """One SDK ``*_with_http_info`` call with timeout and retries."""
        attempt = 0
        while True:
            attempt += 1
            outcome = self._call_once(name, fn, *args, **kwargs)
            if not outcome.ok and outcome.retryable:
                metrics.OUTBOX_RETRIES.labels(str(outcome.status or "error")).inc()
            if outcome.ok or not outcome.retryable or attempt > self.retries:
                return outcome
            delay = self.backoff * (2 ** (attempt - 1))
            logger.warning(
                "LINE %s failed (status=%s request_id=%s), retry %d in %.2fs",
                name, outcome.status, outcome.request_id, attempt, delay,
            )
            time.sleep(delay)

    def _call_once(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> SendOutcome:
        outcome = self._attempt(name, fn, *args, **kwargs)
        metrics.line_call(name, outcome.status)
        if outcome.status is not None and (outcome.status != 401) != self.token_ok:
            self.token_ok = outcome.status != 401
            if self.on_token is not None:
                self.on_token(self.token_ok)
        return outcome

    def _attempt(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> SendOutcome:
        try:
            response = fn(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            rid = _request_id(exc.headers)
            logger.info("LINE %s -> %s request_id=%s", name, exc.status, rid)
            return SendOutcome(
                ok=False,
                status=exc.status,
                request_id=rid,
                error=str(exc.body or exc.reason or exc.status)[:500],
                retryable=is_retryable_status(exc.status),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            logger.warning("LINE %s connection error: %s", name, type(exc).__name__)
            return SendOutcome(ok=False, error=f"connection error: {type(exc).__name__}", retryable=True)
        rid = _request_id(getattr(response, "headers", None))
        # A success is in the outbox row (status, request_id); a log line per
        # answer sent is noise (and a write to stderr per event under load).
        logger.debug("LINE %s -> %s request_id=%s", name, response.status_code, rid)
        return SendOutcome(ok=True, status=response.status_code, request_id=rid)

    # -- messaging ---------------------------------------------------------
    def reply(self, reply_token: str, messages: list[Any]) -> SendOutcome:
        """Reply with message models, or with their JSON-ready dicts (as
        :func:`~bot.channels.line_render.render_for_send` and the console's
        stored operator messages give them: sent as they are)."""
        request = (PreparedReply.prepared(messages, reply_token=reply_token)
                   if _all_dicts(messages) else ReplyMessageRequest(replyToken=reply_token, messages=messages))
        # A reply token is single use: never retry a reply blindly (the caller
        # falls back to a push with a retry key).
        return self._call_once("reply", self.api.reply_message_with_http_info, request)

    def push(self, to: str, messages: list[Any], retry_key: str) -> SendOutcome:
        request = (PreparedPush.prepared(messages, to=to)
                   if _all_dicts(messages) else PushMessageRequest(to=to, messages=messages))
        outcome = self.call(
            "push", self.api.push_message_with_http_info, request, x_line_retry_key=retry_key
        )
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
