"""What the fake LINE server and the webhook builder check: line-bot-sdk's own models.

:func:`check_request` and :func:`check_webhook_body` are what the tests use. They need
nothing beside the repository, so a fresh clone runs every test that talks to the fake
LINE server: the SDK's generated models, plus LINE's documented limits
(:func:`.openapi.line_limits`). When LINE's OpenAPI files are present as well
(``LINE_OPENAPI_DIR`` or ``../shared/line-openapi``, as on CI), the same bodies are
also validated against them (:mod:`.openapi`).

A body is checked by parsing it with the SDK's model for the operation (pydantic:
types, required fields, enums, the ``type`` discriminators of messages and actions)
and then comparing it with the model's own ``to_dict()``: a key that the model
dropped is a key LINE does not know (a typo such as ``txt`` for ``text``), which
pydantic alone would ignore.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from linebot.v3 import messaging

from . import openapi
from linebot.v3.webhooks import CallbackRequest
from linebot.v3.webhooks.models.event import Event


class SdkOperation(NamedTuple):
    operation_id: str
    model: type | None  # the SDK's request model; None when the body is not JSON
    body_required: bool


#: (method, path template) of the Messaging API calls the product makes → operation.
#: Path parameters are written ``{}``. Ids are the OpenAPI files' operationIds.
OPERATIONS: dict[tuple[str, str], SdkOperation] = {
    ("POST", "/v2/bot/message/reply"): SdkOperation("replyMessage", messaging.ReplyMessageRequest, True),
    ("POST", "/v2/bot/message/push"): SdkOperation("pushMessage", messaging.PushMessageRequest, True),
    ("POST", "/v2/bot/message/multicast"): SdkOperation("multicast", messaging.MulticastRequest, True),
    ("POST", "/v2/bot/message/broadcast"): SdkOperation("broadcast", messaging.BroadcastRequest, True),
    ("GET", "/v2/bot/profile/{}"): SdkOperation("getProfile", None, False),
    ("POST", "/v2/bot/chat/loading/start"): SdkOperation(
        "showLoadingAnimation", messaging.ShowLoadingAnimationRequest, True),
    ("POST", "/v2/bot/richmenu"): SdkOperation("createRichMenu", messaging.RichMenuRequest, True),
    ("GET", "/v2/bot/richmenu/list"): SdkOperation("getRichMenuList", None, False),
    ("GET", "/v2/bot/richmenu/{}"): SdkOperation("getRichMenu", None, False),
    ("DELETE", "/v2/bot/richmenu/{}"): SdkOperation("deleteRichMenu", None, False),
    ("POST", "/v2/bot/richmenu/{}/content"): SdkOperation("setRichMenuImage", None, False),
    ("POST", "/v2/bot/user/all/richmenu/{}"): SdkOperation("setDefaultRichMenu", None, False),
    ("GET", "/v2/bot/user/all/richmenu"): SdkOperation("getDefaultRichMenuId", None, False),
    ("DELETE", "/v2/bot/user/all/richmenu"): SdkOperation("cancelDefaultRichMenu", None, False),
}


def find_operation(method: str, path: str) -> SdkOperation | None:
    """The operation serving ``method path`` (query ignored); literal segments win."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    best: tuple[int, SdkOperation] | None = None
    for (m, template), op in OPERATIONS.items():
        tparts = template.strip("/").split("/")
        if m != method.upper() or len(tparts) != len(parts):
            continue
        if all(t == "{}" or t == p for t, p in zip(tparts, parts, strict=True)):
            params = tparts.count("{}")
            if best is None or params < best[0]:
                best = (params, op)
    return best[1] if best else None


def unknown_keys(sent: Any, parsed: Any, path: str = "") -> list[str]:
    """Keys of ``sent`` that the model's ``to_dict()`` (``parsed``) does not carry."""
    errors: list[str] = []
    if isinstance(sent, dict) and isinstance(parsed, dict):
        for key, value in sent.items():
            where = f"{path}/{key}" if path else key
            if key not in parsed:
                errors.append(f"{where}: unknown property")
            else:
                errors += unknown_keys(value, parsed[key], where)
    elif isinstance(sent, list) and isinstance(parsed, list):
        for i, (a, b) in enumerate(zip(sent, parsed, strict=False)):
            errors += unknown_keys(a, b, f"{path}/{i}")
    return errors


def check_model(model: type, body: Any) -> list[str]:
    """Errors of ``body`` against an SDK model (empty = valid)."""
    if not isinstance(body, dict):
        return ["(root): a JSON object is required"]
    try:
        parsed = model.from_dict(body)
    except (ValueError, TypeError, AttributeError) as exc:  # pydantic's errors are ValueErrors
        return [f"(root): {' '.join(str(exc).split())[:300]}"]
    if parsed is None:
        return ["(root): the SDK could not read the body"]
    return unknown_keys(body, parsed.to_dict())


def validate_request(method: str, path: str, body: Any) -> list[str]:
    """Errors of a Messaging API request body (parsed JSON, ``None`` if absent)."""
    op = find_operation(method, path)
    if op is None:
        return [f"{method.upper()} {path}: not a Messaging API call the product makes"]
    if op.model is None:
        return []
    if body is None:
        return ["(root): request body is required"] if op.body_required else []
    return check_model(op.model, body)


def known_event_types() -> frozenset[str]:
    """Webhook event types line-bot-sdk knows (others are valid but unknown to it)."""
    return frozenset(Event._Event__discriminator_value_class_map)


def validate_webhook_body(body: Any) -> list[str]:
    """Errors of a webhook ``CallbackRequest`` body. Events of a type the SDK does not
    know are checked for the common fields only (LINE adds event types)."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        return check_model(CallbackRequest, body)
    known = known_event_types()
    errors = check_model(CallbackRequest, {**body, "events": [e for e in body["events"]
                                                               if isinstance(e, dict) and e.get("type") in known]})
    for i, event in enumerate(body["events"]):
        if not isinstance(event, dict):
            errors.append(f"events/{i}: an object is required")
        elif event.get("type") not in known:
            for key in ("type", "timestamp", "mode", "webhookEventId", "deliveryContext"):
                if key not in event:
                    errors.append(f"events/{i}: '{key}' is a required property")
    return errors


MESSAGE_OPERATIONS = frozenset({"replyMessage", "pushMessage", "multicast", "broadcast"})


def check_request(method: str, path: str, body: Any) -> list[str]:
    """Every error of a Messaging API request: SDK model, documented limits, and the
    OpenAPI files when present."""
    errors = validate_request(method, path, body)
    op = find_operation(method, path)
    if op and op.operation_id in MESSAGE_OPERATIONS and isinstance(body, dict) \
            and isinstance(body.get("messages"), list):
        errors += openapi.line_limits(body["messages"])
    if openapi.available():
        errors += [e for e in openapi.validate_request(method, path, body) if e not in errors]
    return errors


def check_webhook_body(body: Any) -> list[str]:
    """Every error of a webhook body: SDK models, and the OpenAPI file when present."""
    errors = validate_webhook_body(body)
    if openapi.available():
        errors += openapi.validate("webhook", "CallbackRequest", body)
    return errors
