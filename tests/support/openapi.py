"""Validate JSON bodies against LINE's official OpenAPI descriptions.

The files live in ``../shared/line-openapi`` next to the repository (override
with the ``LINE_OPENAPI_DIR`` environment variable); see their README for
provenance. They are optional: a fresh clone has none, and the tests then check
requests with line-bot-sdk's own models only (:mod:`.linecheck`); tests of this
module itself are marked ``openapi`` and skipped without the files.

Plain JSON-Schema validators ignore the OpenAPI ``discriminator`` keyword, so a
``Message`` would only be checked against the tiny base schema (``type`` plus
``quickReply``) and a broken ``TextMessage`` or a postback action inside a quick
reply would pass.  This module rewrites the component schemas once at load
time so that a schema with a discriminator *dispatches* to the concrete schema
named in ``discriminator.mapping``:

* ``X`` (what other schemas ``$ref``) becomes ``{"discriminator": ...}`` only;
  a custom keyword validates the instance against the mapped schema.
* ``X__base`` is ``X`` without its discriminator; the concrete schemas'
  ``allOf: [$ref X]`` are re-pointed to it (no endless recursion, no duplicate
  errors).

Unknown discriminator values are errors, except for webhook ``Event.type``
(LINE adds event types; the README says to treat unknown ones as valid).

On top of the schema, :func:`line_limits` checks documented limits that the
YAML leaves out (text length in UTF-16 units, action labels, altText, Flex
sizes, ...).  :func:`validate_request` applies both to a Messaging API call.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import jsonschema
import yaml
from jsonschema import Draft4Validator, FormatChecker, ValidationError

logger = logging.getLogger(__name__)

Spec = Literal["messaging", "webhook"]

SPEC_FILES: dict[str, str] = {"messaging": "messaging-api.yml", "webhook": "webhook.yml"}

#: (spec, schema) whose discriminator accepts values missing from its mapping.
LENIENT_DISCRIMINATORS: frozenset[tuple[str, str]] = frozenset({("webhook", "Event")})

# --- documented LINE limits that the YAML does not encode -------------------
MAX_MESSAGES = 5
MAX_TEXT_UTF16 = 5000
MAX_ACTION_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_QUICK_REPLY_ITEMS = 13
MAX_ALT_TEXT = {"flex": 1500, "imagemap": 1500, "template": 400}
#: "30 KB" / "50 KB" in LINE's docs, read conservatively as 1000-byte KB.
MAX_BUBBLE_BYTES = 30_000
MAX_CAROUSEL_BYTES = 50_000
MAX_CAROUSEL_BUBBLES = 12
#: URI actions: the schemes LINE's docs allow, and the length limit.
URI_SCHEMES = re.compile(r"^(?:https?://\S+|line://\S+|tel:[0-9+\-]+)$")
MAX_URI = 1000
#: Fields LINE's docs mark "required" for an action type but the YAML does not.
REQUIRED_ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "postback": ("data",),
    "message": ("text",),
    "uri": ("uri",),
    "datetimepicker": ("data", "mode"),
    "richmenuswitch": ("data", "richMenuAliasId"),
}
#: Operations whose body carries ``messages`` subject to :func:`line_limits`.
MESSAGE_OPERATIONS = frozenset({"replyMessage", "pushMessage", "multicast", "broadcast", "narrowcast"})

_SCHEMAS = "#/components/schemas/"
_BASE_SUFFIX = "__base"
_MAX_ERROR_CHARS = 300


class Operation(NamedTuple):
    """A Messaging API operation found by :func:`find_operation`."""

    method: str
    template: str
    operation_id: str
    json_schema: dict[str, Any] | None  # request body schema if it is JSON
    body_required: bool


#: read once at import: the tests' fixtures clear LINE_* variables from the environment
_ENV_DIR = os.environ.get("LINE_OPENAPI_DIR")


def spec_dir() -> Path:
    """Directory holding LINE's OpenAPI files."""
    env = _ENV_DIR
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "line-openapi"


def available() -> bool:
    """Whether LINE's OpenAPI files are there (CI and the team's machines have them)."""
    return all((spec_dir() / name).is_file() for name in SPEC_FILES.values())


@functools.cache
def load_spec(spec: Spec) -> dict[str, Any]:
    """The parsed YAML document of ``spec`` (cached, do not mutate)."""
    path = spec_dir() / SPEC_FILES[spec]
    logger.debug("loading %s", path)
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


# --- schema preparation -----------------------------------------------------


def _apply_nullable(node: Any) -> None:
    """OpenAPI 3.0 ``nullable: true`` -> JSON-Schema ``type: [t, "null"]``."""
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        for value in node.values():
            _apply_nullable(value)
    elif isinstance(node, list):
        for value in node:
            _apply_nullable(value)


@functools.cache
def _components(spec: Spec) -> dict[str, Any]:
    """Component schemas rewritten for discriminator dispatch (see module doc)."""
    schemas = copy.deepcopy(load_spec(spec)["components"]["schemas"])
    _apply_nullable(schemas)
    for name in [n for n, s in schemas.items() if "discriminator" in s]:
        original = schemas[name]
        disc = original["discriminator"]
        base = {k: v for k, v in original.items() if k != "discriminator"}
        base_ref = _SCHEMAS + name + _BASE_SUFFIX
        schemas[name + _BASE_SUFFIX] = base
        schemas[name] = {
            "discriminator": {
                "propertyName": disc["propertyName"],
                "mapping": dict(disc.get("mapping", {})),
                "base": base_ref,
                "allowUnknown": (spec, name) in LENIENT_DISCRIMINATORS,
            }
        }
        for target in disc.get("mapping", {}).values():
            concrete = schemas[target.removeprefix(_SCHEMAS)]
            concrete["allOf"] = [
                {"$ref": base_ref} if part == {"$ref": _SCHEMAS + name} else part
                for part in concrete.get("allOf", [])
            ]
    return schemas


def _discriminator(
    validator: Any, disc: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Custom keyword: validate against the schema picked by the discriminator."""
    prop = disc["propertyName"]
    mapping: dict[str, str] = disc["mapping"]
    tag = instance.get(prop) if isinstance(instance, dict) else None
    target = mapping.get(tag) if isinstance(tag, str) else None
    if target is not None:
        yield from validator.descend(instance, {"$ref": target})
        return
    yield from validator.descend(instance, {"$ref": disc["base"]})
    if not isinstance(instance, dict) or disc["allowUnknown"]:
        return
    if tag is None:
        yield ValidationError(f"{prop!r} is required to pick the concrete schema")
    else:
        known = ", ".join(sorted(mapping))
        yield ValidationError(f"unknown {prop} {tag!r} (known: {known})")


_Validator = jsonschema.validators.extend(Draft4Validator, {"discriminator": _discriminator})

_format_checker = FormatChecker(formats=())


@_format_checker.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(urlsplit(value).scheme) and not any(c.isspace() for c in value)


@_format_checker.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


@functools.cache
def _validator(spec: Spec, schema_json: str) -> Any:
    root = dict(json.loads(schema_json))
    root["components"] = {"schemas": _components(spec)}
    return _Validator(root, format_checker=_format_checker)


def _format_error(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    message = error.message
    if len(message) > _MAX_ERROR_CHARS:
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return f"{where}: {message}"


def _validate_schema(spec: Spec, schema: dict[str, Any], instance: Any) -> list[str]:
    validator = _validator(spec, json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [_format_error(e) for e in errors]


# --- public API -----------------------------------------------------------


def validate(spec: Spec, schema_name: str, instance: Any) -> list[str]:
    """Validate ``instance`` against ``components.schemas[schema_name]`` of ``spec``.

    Returns error strings ``"<json/path>: <message>"``; empty means valid.
    Discriminators are honoured recursively.  Raises KeyError for an unknown
    schema name.
    """
    if schema_name not in load_spec(spec)["components"]["schemas"]:
        raise KeyError(f"{schema_name!r} is not a schema of {SPEC_FILES[spec]}")
    return _validate_schema(spec, {"$ref": _SCHEMAS + schema_name}, instance)


@functools.cache
def _operations() -> list[tuple[re.Pattern[str], int, str, dict[str, Any]]]:
    ops = []
    for template, item in load_spec("messaging")["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        ops.append((pattern, template.count("{"), template, item))
    return sorted(ops, key=lambda op: op[1])  # literal segments win over {params}


def find_operation(method: str, path: str) -> Operation | None:
    """The operation of messaging-api.yml serving ``method path`` (query ignored)."""
    path = path.split("?", 1)[0]
    method = method.lower()
    for pattern, _, template, item in _operations():
        if pattern.match(path) and method in item:
            op = item[method]
            body = op.get("requestBody") or {}
            json_media = body.get("content", {}).get("application/json")
            return Operation(
                method=method.upper(),
                template=template,
                operation_id=op.get("operationId", ""),
                json_schema=json_media["schema"] if json_media else None,
                body_required=bool(body.get("required")),
            )
    return None


def validate_request(method: str, path: str, body: Any) -> list[str]:
    """Validate a Messaging API request body (parsed JSON, ``None`` if absent).

    Looks the operation up by path template, validates a JSON request body
    against its schema and, for message-sending operations, adds
    :func:`line_limits`.  Non-JSON bodies (image upload) are not checked here.
    """
    op = find_operation(method, path)
    if op is None:
        return [f"{method.upper()} {path}: no such operation in {SPEC_FILES['messaging']}"]
    if op.json_schema is None:
        return []
    if body is None:
        return ["(root): request body is required"] if op.body_required else []
    errors = _validate_schema("messaging", op.json_schema, body)
    if op.operation_id in MESSAGE_OPERATIONS and isinstance(body, dict):
        messages = body.get("messages")
        if isinstance(messages, list):
            errors += line_limits(messages)
    return errors


# --- limits from LINE's documentation ---------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the way LINE counts characters."""
    return len(text.encode("utf-16-le")) // 2


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _actions(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every action object under ``node`` (``action``, ``defaultAction``, ``actions[]``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{path}/{key}"
            if key in ("action", "defaultAction") and isinstance(value, dict):
                yield sub, value
            elif key == "actions" and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        yield f"{sub}/{i}", item
            yield from _actions(value, sub)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _actions(value, f"{path}/{i}")


def _action_limits(path: str, action: dict[str, Any], errors: list[str]) -> None:
    label = action.get("label")
    if isinstance(label, str) and utf16_len(label) > MAX_ACTION_LABEL:
        errors.append(f"{path}/label: longer than {MAX_ACTION_LABEL} characters ({label!r})")
    data = action.get("data")
    if isinstance(data, str) and utf16_len(data) > MAX_POSTBACK_DATA:
        errors.append(f"{path}/data: longer than {MAX_POSTBACK_DATA} characters")
    for field in REQUIRED_ACTION_FIELDS.get(str(action.get("type")), ()):
        if field not in action:
            errors.append(f"{path}: {action.get('type')} action requires {field!r}")
    uri = action.get("uri") if action.get("type") == "uri" else None
    if isinstance(uri, str) and (not URI_SCHEMES.match(uri) or len(uri) > MAX_URI):
        errors.append(f"{path}/uri: not an http, https, line or tel URI of at most {MAX_URI} characters")


def _flex_limits(path: str, container: Any, errors: list[str]) -> None:
    if not isinstance(container, dict):
        return
    if container.get("type") == "bubble" and _json_bytes(container) > MAX_BUBBLE_BYTES:
        errors.append(f"{path}: bubble JSON is {_json_bytes(container)} bytes > {MAX_BUBBLE_BYTES}")
    if container.get("type") == "carousel":
        bubbles = container.get("contents")
        if isinstance(bubbles, list):
            if len(bubbles) > MAX_CAROUSEL_BUBBLES:
                errors.append(f"{path}/contents: {len(bubbles)} bubbles > {MAX_CAROUSEL_BUBBLES}")
            for i, bubble in enumerate(bubbles):
                _flex_limits(f"{path}/contents/{i}", bubble, errors)
        if _json_bytes(container) > MAX_CAROUSEL_BYTES:
            errors.append(f"{path}: carousel JSON is {_json_bytes(container)} bytes > {MAX_CAROUSEL_BYTES}")


def line_limits(messages: list[dict[str, Any]]) -> list[str]:
    """Documented LINE limits missing from the YAML, for a ``messages`` array.

    Text <= 5000 UTF-16 units, action label <= 20, postback data <= 300,
    altText (flex/imagemap 1500, template 400), <= 5 messages, <= 13 quick
    reply items each with a labelled action, Flex bubble/carousel sizes and
    <= 12 bubbles, and action fields the docs require (postback ``data`` ...).
    """
    errors: list[str] = []
    if len(messages) > MAX_MESSAGES:
        errors.append(f"messages: {len(messages)} messages > {MAX_MESSAGES} per request")
    for i, message in enumerate(messages):
        path = f"messages/{i}"
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        text = message.get("text")
        if kind in ("text", "textV2") and isinstance(text, str) and utf16_len(text) > MAX_TEXT_UTF16:
            errors.append(f"{path}/text: {utf16_len(text)} UTF-16 units > {MAX_TEXT_UTF16}")
        alt = message.get("altText")
        if kind in MAX_ALT_TEXT and isinstance(alt, str) and utf16_len(alt) > MAX_ALT_TEXT[kind]:
            errors.append(f"{path}/altText: longer than {MAX_ALT_TEXT[kind]} characters")
        if kind == "flex":
            _flex_limits(f"{path}/contents", message.get("contents"), errors)
        items = (message.get("quickReply") or {}).get("items")
        if isinstance(items, list):
            if len(items) > MAX_QUICK_REPLY_ITEMS:
                errors.append(f"{path}/quickReply/items: {len(items)} items > {MAX_QUICK_REPLY_ITEMS}")
            for j, item in enumerate(items):
                action = item.get("action") if isinstance(item, dict) else None
                if not isinstance(action, dict):
                    errors.append(f"{path}/quickReply/items/{j}: 'action' is required")
                elif "label" not in action:
                    errors.append(f"{path}/quickReply/items/{j}/action: 'label' is required")
        if kind != "imagemap":  # imagemap actions have their own (looser) rules
            for action_path, action in _actions(message, path):
                _action_limits(action_path, action, errors)
    return errors
