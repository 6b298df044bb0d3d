"""A fake LINE Messaging API server on loopback, for tests.

``FakeLine`` runs a small Werkzeug WSGI app in a background thread on a free
port.  Point line-bot-sdk at it with
``Configuration(host=fake.url, access_token=fake.channel_access_token)``.

It behaves like LINE where it matters to the bot:

* ``Authorization: Bearer <token>`` is required (401 otherwise).
* JSON bodies are validated with :mod:`.linecheck`: line-bot-sdk's own request
  models and LINE's documented limits, plus LINE's OpenAPI files when they are
  present (:mod:`.openapi`); an invalid body gets 400 ``{"message": "The request body has N
  error(s)", "details": [...]}`` *and* lands in :attr:`FakeLine.errors`, so a
  test can simply ``assert fake.errors == []``.  Unknown paths (404) and
  other client mistakes (bad image upload, bad retry key ...) are errors too.
* Reply tokens (:meth:`FakeLine.issue_reply_token`) are single use and expire.
* ``X-Line-Retry-Key`` on push/multicast/broadcast: a key that already
  succeeded answers 409 with ``x-line-accepted-request-id`` and delivers
  nothing.
* Pushes to blocked users answer 200 but go to :attr:`FakeLine.undelivered`.
* :meth:`FakeLine.fail_next` / :meth:`FakeLine.delay_next` inject failures and
  latency.  A delayed request is still processed after the delay (like LINE
  when the client gave up waiting), so a retry must reuse the retry key.

Every response carries ``x-line-request-id``.  Non-2xx answers are recorded in
:attr:`FakeLine.attempts`, never in :attr:`FakeLine.deliveries`.

``FakeLine(validate=False)`` skips the body validation (benchmarks);
``python -m tests.support.fakeline --port N --token T [--no-validate]`` runs it
as its own process, with a small control API (see :func:`main`).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import linecheck

logger = logging.getLogger(__name__)

T = TypeVar("T")
_Result = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON payload, extra headers

DEFAULT_DISPLAY_NAME = "テスト太郎"
MAX_RICH_MENU_IMAGE_BYTES = 1024 * 1024
_IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
_STATUS_MESSAGES = {
    400: "Bad Request",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

_ROUTES = Map(
    [
        Rule("/v2/bot/message/reply", methods=["POST"], endpoint="reply"),
        Rule("/v2/bot/message/push", methods=["POST"], endpoint="push"),
        Rule("/v2/bot/message/multicast", methods=["POST"], endpoint="multicast"),
        Rule("/v2/bot/message/broadcast", methods=["POST"], endpoint="broadcast"),
        Rule("/v2/bot/profile/<user_id>", methods=["GET"], endpoint="profile"),
        Rule("/v2/bot/chat/loading/start", methods=["POST"], endpoint="loading"),
        Rule("/v2/bot/richmenu", methods=["POST"], endpoint="richmenu_create"),
        Rule("/v2/bot/richmenu/list", methods=["GET"], endpoint="richmenu_list"),
        Rule("/v2/bot/richmenu/<rid>", methods=["GET"], endpoint="richmenu_get"),
        Rule("/v2/bot/richmenu/<rid>", methods=["DELETE"], endpoint="richmenu_delete"),
        Rule("/v2/bot/richmenu/<rid>/content", methods=["POST"], endpoint="richmenu_image"),
        Rule("/v2/bot/user/all/richmenu/<rid>", methods=["POST"], endpoint="default_set"),
        Rule("/v2/bot/user/all/richmenu", methods=["GET"], endpoint="default_get"),
        Rule("/v2/bot/user/all/richmenu", methods=["DELETE"], endpoint="default_delete"),
    ]
)


@dataclass
class _ReplyToken:
    user_id: str | None
    expires_at: float
    used: bool = False


@dataclass
class _Call:
    """One API call as seen by a handler: the request, its record and parsed JSON body."""

    request: Request
    record: dict[str, Any]
    body: Any


@dataclass
class _Injection:
    remaining: int
    path_prefix: str | None
    status: int = 0
    seconds: float = 0.0
    message: str | None = None


class _Reply(Exception):
    """Raised inside a handler to answer immediately."""

    def __init__(
        self,
        status: int,
        payload: dict[str, Any],
        *,
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, payload)
        self.status, self.payload, self.error, self.headers = status, payload, error, headers or {}


class _QuietHandler(WSGIRequestHandler):
    """Request handler that logs through :data:`logger` at DEBUG."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)


class FakeLine:
    """Fake LINE Messaging API; see the module docstring.

    Recorded state (read through properties returning copies; all access is
    under one lock, so handler threads and the test thread can mix freely):

    * ``requests`` -- every HTTP request: method, path, headers, body, json, ...
    * ``deliveries`` -- successful reply/push/multicast/broadcast, one dict per
      recipient: ``kind, to, messages, retry_key, reply_token, request_id, at``
    * ``undelivered`` -- the same for pushes to blocked users
    * ``attempts`` -- every non-2xx answer: ``method, path, status, body, ...``
    * ``errors`` -- client mistakes (invalid bodies, unknown paths ...)

    Configuration: ``profiles`` (user id -> display name),
    ``profile_404_for_unknown`` and :meth:`block`.
    """

    def __init__(
        self, channel_access_token: str = "test-token", *, host: str = "127.0.0.1", validate: bool = True
    ) -> None:
        self.channel_access_token = channel_access_token
        self.host = host
        # False skips the OpenAPI validation of request bodies (benchmarks: it is slow).
        self.validate = validate
        self.url = ""
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> FakeLine:
        """Serve on a free loopback port; sets :attr:`url`."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = make_server(self.host, 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-line", daemon=True
        )
        self._thread.start()
        logger.debug("fake LINE API on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; wakes delayed requests."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeLine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all recorded traffic, tokens, retry keys, injections and state."""
        with self._lock:
            self._requests: list[dict[str, Any]] = []
            self._deliveries: list[dict[str, Any]] = []
            self._undelivered: list[dict[str, Any]] = []
            self._attempts: list[dict[str, Any]] = []
            self._errors: list[str] = []
            self._loading: list[dict[str, Any]] = []
            self._reply_tokens: dict[str, _ReplyToken] = {}
            self._retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = {}
            self._failures: list[_Injection] = []
            self._delays: list[_Injection] = []
            self._blocked: set[str] = set()
            self._rich_menus: dict[str, dict[str, Any]] = {}
            self._rich_menu_images: dict[str, tuple[str, int]] = {}
            self._default_rich_menu: str | None = None
            self.profiles: dict[str, str] = {}
            self.profile_404_for_unknown = False

    # --- test controls -------------------------------------------------------

    def issue_reply_token(self, user_id: str | None = None, ttl: float = 60.0) -> str:
        """A fresh reply token, valid once for ``ttl`` seconds, replying to ``user_id``."""
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = _ReplyToken(user_id, time.monotonic() + ttl)
        return token

    def block(self, user_id: str) -> None:
        """The user blocked the bot: pushes answer 200 but are not delivered."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock(self, user_id: str) -> None:
        """Undo :meth:`block`."""
        with self._lock:
            self._blocked.discard(user_id)

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        path_prefix: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``n`` authorised, valid requests (under ``path_prefix``) with ``status``."""
        with self._lock:
            self._failures.append(_Injection(n, path_prefix, status=status, message=message))

    def delay_next(self, n: int, seconds: float, path_prefix: str | None = None) -> None:
        """Hold the next ``n`` requests (under ``path_prefix``) for ``seconds`` before processing."""
        with self._lock:
            self._delays.append(_Injection(n, path_prefix, seconds=seconds))

    # --- queries -------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Delivered messages, one dict per (request, recipient)."""
        with self._lock:
            return list(self._deliveries)

    @property
    def undelivered(self) -> list[dict[str, Any]]:
        """Accepted pushes to blocked users."""
        with self._lock:
            return list(self._undelivered)

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Requests answered with a non-2xx status (including injected failures)."""
        with self._lock:
            return list(self._attempts)

    @property
    def errors(self) -> list[str]:
        """Client mistakes: invalid bodies, unknown paths, bad uploads ..."""
        with self._lock:
            return list(self._errors)

    @property
    def loading(self) -> list[dict[str, Any]]:
        """Accepted loading-animation requests (their JSON bodies)."""
        with self._lock:
            return list(self._loading)

    @property
    def rich_menus(self) -> dict[str, dict[str, Any]]:
        """Rich menus by id (with ``hasImage``), and ``default_rich_menu``."""
        with self._lock:
            return {
                rid: {**menu, "hasImage": rid in self._rich_menu_images}
                for rid, menu in self._rich_menus.items()
            }

    @property
    def default_rich_menu(self) -> str | None:
        """Id of the default rich menu, if set."""
        with self._lock:
            return self._default_rich_menu

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """All message objects delivered to ``user_id``, in order."""
        with self._lock:
            return [m for d in self._deliveries if d["to"] == user_id for m in d["messages"]]

    def texts_to(self, user_id: str) -> list[str]:
        """The ``text`` of every text message delivered to ``user_id``."""
        return [m["text"] for m in self.messages_to(user_id) if m.get("type") in ("text", "textV2")]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02) -> T:
        """Poll ``predicate()`` until truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"condition not met within {timeout}s; deliveries={self.deliveries!r}, "
                    f"attempts={self.attempts!r}, errors={self.errors!r}"
                )
            time.sleep(interval)

    # --- HTTP plumbing -------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _take(self, queue: list[_Injection], path: str) -> _Injection | None:
        with self._lock:
            for item in queue:
                if item.remaining > 0 and (item.path_prefix is None or path.startswith(item.path_prefix)):
                    item.remaining -= 1
                    return item
        return None

    def _handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        method, path, raw = request.method, request.path, request.get_data()
        record: dict[str, Any] = {
            "method": method,
            "path": path,
            "headers": dict(request.headers),
            "body": raw,
            "json": None,
            "request_id": request_id,
            "at": time.monotonic(),
        }
        with self._lock:
            self._requests.append(record)
        delay = self._take(self._delays, path)
        if delay is not None:
            self._stopping.wait(delay.seconds)
        try:
            status, payload, headers = self._dispatch(request, record)
        except _Reply as reply:
            status, payload, headers = reply.status, reply.payload, reply.headers
            if reply.error:
                with self._lock:
                    self._errors.append(f"{method} {path}: {reply.error}")
        if status >= 300:
            with self._lock:
                self._attempts.append({**record, "status": status, "response": payload})
        response = Response(
            json.dumps(payload, ensure_ascii=False), status=status, content_type="application/json"
        )
        response.headers["x-line-request-id"] = request_id
        response.headers.update(headers)
        return response

    def _dispatch(self, request: Request, record: dict[str, Any]) -> _Result:
        method, path = request.method, request.path
        if request.headers.get("Authorization") != f"Bearer {self.channel_access_token}":
            raise _Reply(
                401,
                {
                    "message": "Authentication failed. Confirm that the access "
                    "token in the authorization header is valid."
                },
            )
        try:
            endpoint, args = _ROUTES.bind("fake-line").match(path, method)
        except NotFound:
            raise _Reply(404, {"message": "Not found"}, error="unknown path") from None
        except MethodNotAllowed:
            raise _Reply(405, {"message": "Method not allowed"}, error="method not allowed") from None
        body = self._parse_json(request, record)
        errors = linecheck.check_request(method, path, body) if self.validate else []
        if errors:
            raise _Reply(
                400,
                {
                    "message": f"The request body has {len(errors)} error(s)",
                    "details": [_detail(e) for e in errors],
                },
                error="; ".join(errors),
            )
        failure = self._take(self._failures, path)
        if failure is not None:
            message = failure.message or _STATUS_MESSAGES.get(failure.status, "Injected failure")
            raise _Reply(failure.status, {"message": message})
        handler: Callable[..., _Result] = getattr(self, f"_on_{endpoint}")
        return handler(_Call(request, record, body), **args)

    @staticmethod
    def _parse_json(request: Request, record: dict[str, Any]) -> Any:
        op = linecheck.find_operation(request.method, request.path)
        raw = record["body"]
        if op is None or op.model is None or not raw:
            return None
        if request.mimetype != "application/json":
            raise _Reply(
                400,
                {"message": "Content-Type must be application/json"},
                error=f"Content-Type {request.content_type!r} for a JSON body",
            )
        try:
            record["json"] = json.loads(raw)
        except ValueError as exc:
            raise _Reply(
                400, {"message": "The request body is not valid JSON"}, error=f"invalid JSON: {exc}"
            ) from None
        return record["json"]

    # --- messages ------------------------------------------------------------

    def _deliver(
        self,
        kind: str,
        to: str | None,
        call: _Call,
        *,
        retry_key: str | None = None,
        reply_token: str | None = None,
    ) -> None:
        entry = {
            "kind": kind,
            "to": to,
            "messages": call.body["messages"],
            "retry_key": retry_key,
            "reply_token": reply_token,
            "request_id": call.record["request_id"],
            "at": time.monotonic(),
        }
        target = self._undelivered if to in self._blocked and kind != "reply" else self._deliveries
        target.append(entry)

    @staticmethod
    def _sent(body: dict[str, Any]) -> list[dict[str, str]]:
        return [
            {"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_urlsafe(24)}
            for _ in body["messages"]
        ]

    def _on_reply(self, call: _Call) -> _Result:
        token = call.body["replyToken"]
        with self._lock:
            info = self._reply_tokens.get(token)
            if info is None or info.used or time.monotonic() > info.expires_at:
                raise _Reply(400, {"message": "Invalid reply token"})
            info.used = True
            self._deliver("reply", info.user_id, call, reply_token=token)
        return 200, {"sentMessages": self._sent(call.body)}, {}

    def _accept_retry_key(self, request: Request) -> str | None:
        """Check ``X-Line-Retry-Key``; raise 409 if it was already accepted."""
        key = request.headers.get("X-Line-Retry-Key")
        if key is None:
            return None
        try:
            uuid.UUID(key)
        except ValueError:
            raise _Reply(
                400,
                {"message": "The value for the 'X-Line-Retry-Key' header is invalid"},
                error=f"retry key {key!r} is not a UUID",
            ) from None
        accepted = self._retry_keys.get(key)
        if accepted is not None:
            request_id, sent = accepted
            raise _Reply(
                409,
                {"message": "The retry key is already accepted", "sentMessages": sent},
                headers={"x-line-accepted-request-id": request_id},
            )
        return key

    def _send(self, kind: str, recipients: list[str | None], call: _Call) -> _Result:
        with self._lock:
            key = self._accept_retry_key(call.request)
            sent = self._sent(call.body)
            if key is not None:
                self._retry_keys[key] = (call.record["request_id"], sent)
            for to in recipients:
                self._deliver(kind, to, call, retry_key=key)
        return 200, ({"sentMessages": sent} if kind == "push" else {}), {}

    def _on_push(self, call: _Call) -> _Result:
        return self._send("push", [call.body["to"]], call)

    def _on_multicast(self, call: _Call) -> _Result:
        return self._send("multicast", list(call.body["to"]), call)

    def _on_broadcast(self, call: _Call) -> _Result:
        return self._send("broadcast", [None], call)

    # --- profile, loading ----------------------------------------------------

    def _on_profile(self, call: _Call, user_id: str) -> _Result:
        with self._lock:
            known = user_id in self.profiles
            if user_id in self._blocked or (self.profile_404_for_unknown and not known):
                raise _Reply(404, {"message": "Not found"})
            name = self.profiles.get(user_id, DEFAULT_DISPLAY_NAME)
        return 200, {"userId": user_id, "displayName": name, "language": "ja"}, {}

    def _on_loading(self, call: _Call) -> _Result:
        body = call.body
        seconds = body.get("loadingSeconds", 20)
        if seconds % 5:
            raise _Reply(
                400,
                {"message": "loadingSeconds must be a multiple of 5"},
                error=f"loadingSeconds {seconds} is not a multiple of 5",
            )
        if not str(body["chatId"]).startswith("U"):
            raise _Reply(
                400,
                {"message": "The loading animation works in one-to-one chats only"},
                error=f"chatId {body['chatId']!r} is not a user id",
            )
        with self._lock:
            self._loading.append(body)
        return 202, {}, {}

    # --- rich menu -----------------------------------------------------------

    def _menu(self, rid: str) -> dict[str, Any]:
        menu = self._rich_menus.get(rid)
        if menu is None:
            raise _Reply(404, {"message": "Not found"})
        return menu

    def _on_richmenu_create(self, call: _Call) -> _Result:
        problems = _rich_menu_problems(call.body)
        if problems:
            raise _Reply(
                400,
                {
                    "message": "The request body has errors",
                    "details": [{"message": p} for p in problems],
                },
                error="; ".join(problems),
            )
        rid = f"richmenu-{secrets.token_hex(16)}"
        with self._lock:
            self._rich_menus[rid] = {"richMenuId": rid, **call.body}
        return 200, {"richMenuId": rid}, {}

    def _on_richmenu_list(self, call: _Call) -> _Result:
        with self._lock:
            return 200, {"richmenus": list(self._rich_menus.values())}, {}

    def _on_richmenu_get(self, call: _Call, rid: str) -> _Result:
        with self._lock:
            return 200, self._menu(rid), {}

    def _on_richmenu_delete(self, call: _Call, rid: str) -> _Result:
        with self._lock:
            self._menu(rid)
            del self._rich_menus[rid]
            self._rich_menu_images.pop(rid, None)
            if self._default_rich_menu == rid:
                self._default_rich_menu = None
        return 200, {}, {}

    def _on_richmenu_image(self, call: _Call, rid: str) -> _Result:
        raw: bytes = call.record["body"]
        mimetype = call.request.mimetype
        problem = None
        if mimetype not in _IMAGE_MAGIC:
            problem = f"Content-Type {call.request.content_type!r} is not image/png or image/jpeg"
        elif not raw.startswith(_IMAGE_MAGIC[mimetype]):
            problem = f"body is not a {mimetype} image"
        elif len(raw) > MAX_RICH_MENU_IMAGE_BYTES:
            problem = f"image is {len(raw)} bytes > {MAX_RICH_MENU_IMAGE_BYTES}"
        if problem:
            raise _Reply(400, {"message": problem}, error=problem)
        with self._lock:
            self._menu(rid)
            if rid in self._rich_menu_images:
                raise _Reply(
                    400,
                    {"message": "An image has already been uploaded to the richmenu"},
                    error=f"second image upload to {rid}",
                )
            self._rich_menu_images[rid] = (mimetype, len(raw))
        return 200, {}, {}

    def _on_default_set(self, call: _Call, rid: str) -> _Result:
        with self._lock:
            self._menu(rid)
            if rid not in self._rich_menu_images:
                raise _Reply(
                    400,
                    {"message": "must upload richmenu image before applying it to user"},
                    error=f"default rich menu {rid} has no image",
                )
            self._default_rich_menu = rid
        return 200, {}, {}

    def _on_default_get(self, call: _Call) -> _Result:
        with self._lock:
            if self._default_rich_menu is None:
                raise _Reply(404, {"message": "no default richmenu"})
            return 200, {"richMenuId": self._default_rich_menu}, {}

    def _on_default_delete(self, call: _Call) -> _Result:
        with self._lock:
            self._default_rich_menu = None
        return 200, {}, {}


def _detail(error: str) -> dict[str, str]:
    """``"path: message"`` -> LINE's ``{"message", "property"}`` detail object."""
    prop, _, message = error.partition(": ")
    return {"message": message or error, "property": prop.replace("/", ".")}


def _rich_menu_problems(body: dict[str, Any]) -> list[str]:
    """What LINE rejects in a rich menu that the YAML does not require."""
    problems = [
        f"{field!r} is required"
        for field in ("size", "selected", "name", "chatBarText", "areas")
        if field not in body
    ]
    size, areas = body.get("size") or {}, body.get("areas") or []
    width, height = size.get("width", 0), size.get("height", 0)
    if size and not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        problems.append(f"size {width}x{height} is not allowed")
    if not 1 <= len(areas) <= 20:
        problems.append(f"{len(areas)} areas (1 to 20 allowed)")
    for i, area in enumerate(areas):
        b = area.get("bounds") or {}
        if "action" not in area or not b:
            problems.append(f"areas/{i}: 'bounds' and 'action' are required")
        elif b.get("x", 0) + b.get("width", 0) > width or b.get("y", 0) + b.get("height", 0) > height:
            problems.append(f"areas/{i}: bounds exceed the rich menu size")
    return problems


@contextmanager
def running(channel_access_token: str = "test-token") -> Iterator[FakeLine]:
    """Context manager: a started :class:`FakeLine`, stopped on exit."""
    fake = FakeLine(channel_access_token)
    with fake:
        yield fake


def fake_line_fixture(channel_access_token: str = "test-token", *, scope: str = "function") -> Any:
    """Build a pytest fixture yielding a running :class:`FakeLine`.

    In a conftest (or test module)::

        from tests.support.fakeline import fake_line_fixture
        fake_line = fake_line_fixture()

    With a wider ``scope`` the server is shared between tests; call
    :meth:`FakeLine.reset` between them yourself.
    """
    import pytest  # only needed when used as a fixture

    @pytest.fixture(scope=scope)
    def fake_line() -> Iterator[FakeLine]:
        with running(channel_access_token) as fake:
            yield fake

    return fake_line


# --- as its own process (benchmarks) ----------------------------------------------
#
#   python -m tests.support.fakeline --port N --token T [--no-validate]
#
# serves the fake LINE API plus a small control API for the process driving it
# (bench/line_bench.py), since it cannot call the methods above across processes:
#
#   POST /__fake/tokens?user=U…&n=13&ttl=120  -> {"tokens": [...]}  (issue_reply_token)
#   GET  /__fake/stream  -> one JSON line per delivery, as it happens:
#                           {"kind", "to", "reply_token", "at"} ("at": time.monotonic(),
#                           the system-wide clock, comparable across processes)
#   GET  /__fake/stats   -> counts of requests, deliveries by kind, attempts, errors
#   POST /__fake/clear   -> forget recorded traffic (keeps reply tokens)


class _ServedFakeLine(FakeLine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._subscribers: list[Any] = []
        super().__init__(*args, **kwargs)

    def _deliver(self, kind: str, to: str | None, call: _Call, **kwargs: Any) -> None:
        super()._deliver(kind, to, call, **kwargs)
        line = json.dumps({"kind": kind, "to": to, "reply_token": kwargs.get("reply_token"),
                           "at": time.monotonic()}) + "\n"
        for queue in list(self._subscribers):
            queue.put(line)

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if not request.path.startswith("/__fake/"):
            return super()._wsgi(environ, start_response)
        return self._control(request)(environ, start_response)

    def _control(self, request: Request) -> Response:
        import queue

        path = request.path.removeprefix("/__fake/")
        if path == "tokens":
            n = int(request.args.get("n", "1"))
            ttl = float(request.args.get("ttl", "60"))
            tokens = [self.issue_reply_token(request.args.get("user"), ttl) for _ in range(n)]
            return Response(json.dumps({"tokens": tokens}), content_type="application/json")
        if path == "stats":
            with self._lock:
                kinds: dict[str, int] = {}
                for d in self._deliveries:
                    kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
                stats = {"requests": len(self._requests), "deliveries": kinds,
                         "attempts": len(self._attempts), "loading": len(self._loading),
                         "errors": len(self._errors), "first_errors": self._errors[:10]}
            return Response(json.dumps(stats, ensure_ascii=False), content_type="application/json")
        if path == "clear":
            with self._lock:
                for recorded in (self._requests, self._deliveries, self._undelivered, self._attempts,
                                 self._errors, self._loading):
                    recorded.clear()
            return Response("{}", content_type="application/json")
        if path == "stream":
            subscription: queue.Queue[str] = queue.Queue()
            self._subscribers.append(subscription)

            def lines() -> Iterator[bytes]:
                try:
                    yield b"\n"
                    while not self._stopping.is_set():
                        try:
                            yield subscription.get(timeout=1.0).encode()
                        except queue.Empty:
                            yield b"\n"  # keep-alive; a gone client fails the write
                finally:
                    self._subscribers.remove(subscription)

            return Response(lines(), content_type="application/x-ndjson", direct_passthrough=True)
        return Response('{"message": "Not found"}', status=404, content_type="application/json")


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tests.support.fakeline", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--token", default="test-token", help="the channel access token to accept")
    ap.add_argument("--no-validate", action="store_true", help="skip the OpenAPI body validation")
    args = ap.parse_args(argv)
    fake = _ServedFakeLine(args.token, host=args.host, validate=not args.no_validate)
    server = make_server(args.host, args.port, fake._wsgi, threaded=True, request_handler=_QuietHandler)
    print(f"fake LINE API on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
