"""Tests for bot/channels/richmenu.py: the rich menu image, request and setup calls.

The SDK hard-codes ``https://api-data.line.me`` for blob calls (the image upload);
:class:`DataHostApiClient` below rewrites that host to the fake LINE server, the
same way ``bot/channels/line_api.py: RoutedApiClient`` does in production.
"""

from __future__ import annotations

import io

import pytest

from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
)
from linebot.v3.messaging.exceptions import ApiException
from PIL import Image

from bot.channels import richmenu as rm
from tests.support import linecheck, openapi
from tests.support.fakeline import FakeLine

LINE_DATA_HOST = "https://api-data.line.me"
USER = "U" + "1234567890abcdef" * 2


class DataHostApiClient(ApiClient):
    """ApiClient sending the SDK's hard-coded data-API host to ``data_host``.

    Every generated blob method calls ``api_client.call_api(..., _host=
    "https://api-data.line.me", ...)`` with ``_host`` as a keyword; non-blob
    methods pass ``_host=None`` (→ ``configuration.host``).
    """

    def __init__(self, configuration: Configuration, data_host: str):
        super().__init__(configuration)
        self.data_host = data_host.rstrip("/")

    def call_api(self, *args, **kwargs):
        if (kwargs.get("_host") or "").rstrip("/") == LINE_DATA_HOST:
            kwargs["_host"] = self.data_host
        return super().call_api(*args, **kwargs)


@pytest.fixture(scope="module")
def png() -> bytes:
    return rm.render_image()


@pytest.fixture(scope="module")
def _server():
    with FakeLine() as f:
        yield f


@pytest.fixture
def fake(_server):
    _server.reset()
    return _server


@pytest.fixture
def apis(fake):
    client = DataHostApiClient(Configuration(host=fake.url, access_token=fake.channel_access_token), fake.url)
    with client:
        yield MessagingApi(client), MessagingApiBlob(client)


# ---- image -------------------------------------------------------------------------


def test_image_is_a_png_of_the_right_size_under_1mb(png):
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < 1024 * 1024
    img = Image.open(io.BytesIO(png))
    img.verify()
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert img.size == (2500, 1686)


def _count(img, pred) -> int:
    colours = img.getcolors(maxcolors=img.width * img.height)
    return sum(n for n, c in colours if pred(c))


def test_every_area_has_a_drawn_label_and_icon(png):
    img = Image.open(io.BytesIO(png)).convert("RGB")
    for item, b in zip(rm.ITEMS, rm.area_bounds(), strict=True):
        tile = img.crop((b.x, b.y, b.x + b.width, b.y + b.height))
        bg = rm._rgb(item.background)
        # label band (lower part of the tile): dark text pixels
        label = tile.crop((0, int(b.height * 0.6), b.width, int(b.height * 0.88)))
        assert _count(label, lambda c: sum(c) < 3 * 100) > 5000, f"no label drawn in {item.label!r}"
        # icon band: accent-coloured pixels
        icon = tile.crop((0, int(b.height * 0.1), b.width, int(b.height * 0.6)))
        accent = rm._rgb(item.accent)
        assert _count(icon, lambda c, a=accent: c == a) > 5000, f"no icon in {item.label!r}"
        assert _count(tile, lambda c, g=bg: c != g) > 0.05 * b.width * b.height


def test_render_image_writes_the_file(tmp_path):
    path = tmp_path / "menu.png"
    data = rm.render_image(path)
    assert path.read_bytes() == data


def test_font_is_japanese():
    assert "JP" in " ".join(rm.load_font(40).getname()) or "Hiragino" in " ".join(rm.load_font(40).getname())


def test_missing_font_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(rm, "FONT_PATHS", ("/nonexistent/font.ttc",))
    monkeypatch.delenv(rm.FONT_ENV, raising=False)
    with pytest.raises(rm.FontNotFoundError, match="fonts-noto-cjk"):
        rm.render_image()


# ---- request -----------------------------------------------------------------------


def test_rich_menu_request_is_schema_valid_and_tiles_the_image():
    req = rm.rich_menu_request()
    body = req.to_dict()
    assert linecheck.check_request("POST", "/v2/bot/richmenu", body) == []
    assert body["size"] == {"width": 2500, "height": 1686}
    assert body["selected"] is True
    assert 1 <= len(body["chatBarText"]) <= 14
    assert [(a["action"]["label"], a["action"]["data"]) for a in body["areas"]] == [
        ("診断をはじめる", "cmd:start"),
        ("任意売却とは", "menu:ninbai"),
        ("競売との違い", "menu:compare"),
        ("相談員と話す", "cmd:human"),
    ]
    assert all(a["action"]["type"] == "postback" and a["action"]["displayText"] for a in body["areas"])
    assert body["areas"][0]["action"]["displayText"] == "診断をはじめる"
    # the four areas cover the whole image exactly once
    assert sum(a["bounds"]["width"] * a["bounds"]["height"] for a in body["areas"]) == 2500 * 1686
    for a in body["areas"]:
        b = a["bounds"]
        assert b["x"] + b["width"] <= 2500 and b["y"] + b["height"] <= 1686
    assert openapi.line_limits([{"type": "x", "actions": [a["action"] for a in body["areas"]]}]) == []


# ---- setup against the fake LINE server --------------------------------------------


def test_setup_creates_uploads_and_sets_default(fake, apis, png):
    api, blob = apis
    rid = rm.setup_rich_menu(api, blob, png)
    assert fake.errors == []
    assert fake.default_rich_menu == rid
    assert fake.rich_menus[rid]["hasImage"] is True
    calls = [(r["method"], r["path"]) for r in fake.requests]
    assert calls == [
        ("GET", "/v2/bot/richmenu/list"),
        ("POST", "/v2/bot/richmenu"),
        ("POST", f"/v2/bot/richmenu/{rid}/content"),
        ("POST", f"/v2/bot/user/all/richmenu/{rid}"),
    ]
    create, upload = fake.requests[1], fake.requests[2]
    assert linecheck.check_request("POST", "/v2/bot/richmenu", create["json"]) == []
    assert upload["headers"]["Content-Type"] == "image/png"
    assert upload["body"] == png
    assert upload["headers"]["Authorization"] == f"Bearer {fake.channel_access_token}"


def test_setup_again_replaces_the_older_menu_with_the_same_name(fake, apis, png):
    api, blob = apis
    other = api.create_rich_menu(rm.rich_menu_request(name="another-menu")).rich_menu_id
    first = rm.setup_rich_menu(api, blob, png)
    second = rm.setup_rich_menu(api, blob, png)
    assert first != second
    assert fake.default_rich_menu == second
    assert set(fake.rich_menus) == {other, second}  # only same-name menus are deleted
    assert ("DELETE", f"/v2/bot/richmenu/{first}") in [(r["method"], r["path"]) for r in fake.requests]
    assert fake.errors == []


def test_failed_upload_deletes_the_half_made_menu(fake, apis, png):
    api, blob = apis
    fake.fail_next(1, 500, path_prefix="/v2/bot/richmenu/richmenu-")  # the upload
    with pytest.raises(ApiException):
        rm.setup_rich_menu(api, blob, png)
    assert fake.rich_menus == {} and fake.default_rich_menu is None


def test_setup_rejects_a_non_png(apis):
    api, blob = apis
    with pytest.raises(ValueError):
        rm.setup_rich_menu(api, blob, b"GIF89a...")


# ---- loading animation -------------------------------------------------------------


@pytest.mark.parametrize("asked, sent", [(5, 5), (7, 10), (1, 5), (60, 60), (90, 60)])
def test_start_loading(fake, apis, asked, sent):
    api, _ = apis
    assert rm.start_loading(api, USER, asked) is True
    assert fake.loading == [{"chatId": USER, "loadingSeconds": sent}]
    assert fake.errors == []


def test_start_loading_skips_groups_and_survives_errors(fake, apis):
    api, _ = apis
    assert rm.start_loading(api, "C" + "0" * 32) is False
    assert fake.requests == []
    fake.fail_next(1, 500)
    assert rm.start_loading(api, USER) is False
